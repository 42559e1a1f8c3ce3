"""Locking down a compromised account (coaches and admins of its organisation): the
confirmation, and the recovery checklist."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from coaching import selectors, services
from coaching.forms import LockdownForm
from coaching.models import LockdownStep
from coaching.services.lockdown import elapsed_words
from sandbox import access
from sandbox.errors import DomainError, InvalidInput
from sandbox.http import AuthenticatedRequest, refused


@require_http_methods(["GET", "POST"])
@login_required
def account_lockdown(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    """What a lockdown does, and the form that confirms it."""
    access.reviewer_organisations(request.user)
    account = get_object_or_404(selectors.accounts_for_reviewer(request.user), pk=pk)
    open_lockdown = account.lockdowns.filter(closed_at__isnull=True).first()
    if open_lockdown is not None:
        messages.info(request, f"@{account.handle} is already locked down.")
        return redirect("lockdown", open_lockdown.pk)
    form = LockdownForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            lockdown = services.account_lockdown(
                by=request.user, account=account, reason=form.cleaned_data["reason"]
            )
        except InvalidInput as error:
            form.add_domain_error(error)
        except DomainError as error:
            return refused(request, error, back_to=reverse("account_lockdown", args=[pk]))
        else:
            messages.success(
                request, f"@{account.handle} is locked down. Work through the checklist below."
            )
            return redirect("lockdown", lockdown.pk)
    status = 422 if form.is_bound else 200
    return render(
        request, "coaching/lockdown_confirm.html", {"account": account, "form": form}, status=status
    )


@require_GET
@login_required
def lockdown(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    access.reviewer_organisations(request.user)
    found = get_object_or_404(selectors.lockdowns_for_reviewer(request.user), pk=pk)
    steps = list(found.steps.select_related("done_by"))
    for step in steps:
        step.after_words = elapsed_words(step.after) if step.after is not None else ""  # type: ignore[attr-defined]
    standing_stop = found.account.publishing_stops.filter(ended_at__isnull=True).first()
    context = {
        "lockdown": found,
        "account": found.account,
        "steps": steps,
        "done": sum(1 for step in steps if step.done_at),
        "standing_stop": standing_stop,
    }
    return render(request, "coaching/lockdown.html", context)


@require_POST
@login_required
def lockdown_step(request: AuthenticatedRequest, pk: int, step: str) -> HttpResponse:
    access.reviewer_organisations(request.user)
    found = get_object_or_404(selectors.lockdowns_for_reviewer(request.user), pk=pk)
    checklist_step = get_object_or_404(LockdownStep, lockdown=found, step=step)
    checklist_step.lockdown = found
    back = reverse("lockdown", args=[found.pk])
    try:
        services.lockdown_step_done(by=request.user, step=checklist_step)
    except DomainError as error:
        return refused(request, error, back_to=back)
    messages.success(request, f"Ticked: {checklist_step.get_step_display()}.")
    return redirect(f"{back}#step-{checklist_step.step}")
