"""Lockdown drills: the coach's list, start form, debrief and end (coaches and admins of the
organisation); the trainee's own run: start, the pretend lockdown, the checklist."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from coaching import selectors
from coaching.forms import DrillForm
from coaching.models import DrillRun, DrillStep
from coaching.selectors import drills as drill_selectors
from coaching.services import drills as services
from sandbox import access
from sandbox import selectors as sandbox_selectors
from sandbox.errors import DomainError, InvalidInput
from sandbox.http import AuthenticatedRequest, refused


@require_http_methods(["GET", "HEAD", "POST"])
@login_required
def drills(request: AuthenticatedRequest) -> HttpResponse:
    """The organisation's drills, newest first, and the form that starts one."""
    access.reviewer_organisations(request.user)
    organisation_id = sandbox_selectors.reviewer_organisation_ids(request.user)[0]
    form = DrillForm(
        request.POST if request.method == "POST" else None,
        organisation_id=organisation_id,
        initial={"incident": services.DEFAULT_INCIDENT},
    )
    if request.method == "POST" and form.is_valid():
        try:
            drill = services.drill_start(
                by=request.user,
                account=form.cleaned_data["account"],
                cohort=form.cleaned_data["cohort"],
                incident=form.cleaned_data["incident"],
            )
        except InvalidInput as error:
            form.add_domain_error(error)
        except DomainError as error:
            return refused(request, error, back_to=reverse("drills"))
        else:
            messages.success(
                request,
                f"Started the drill for {drill.cohort.name}. Each trainee has a notice; "
                "their times appear here as they go.",
            )
            return redirect("drill_debrief", drill.pk)
    context = {
        "form": form,
        "drills": drill_selectors.drills_for_reviewer(request.user).filter(
            organisation_id=organisation_id
        )[:20],
        "cohorts": selectors.cohorts_of(organisation_id),
    }
    return render(request, "coaching/drills.html", context, status=422 if form.errors else 200)


@require_safe
@login_required
def drill_debrief(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    access.reviewer_organisations(request.user)
    drill = get_object_or_404(drill_selectors.drills_for_reviewer(request.user), pk=pk)
    context = {"drill": drill, "debrief": drill_selectors.drill_debrief(drill)}
    return render(request, "coaching/drill_debrief.html", context)


@require_POST
@login_required
def drill_end(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    access.reviewer_organisations(request.user)
    drill = get_object_or_404(drill_selectors.drills_for_reviewer(request.user), pk=pk)
    back = reverse("drill_debrief", args=[drill.pk])
    try:
        services.drill_end(by=request.user, drill=drill)
    except DomainError as error:
        return refused(request, error, back_to=back)
    messages.success(request, "The drill has ended. The times below are final.")
    return redirect(back)


def _own_run(request: AuthenticatedRequest, drill_id: int) -> DrillRun:
    # 404 for anyone but the trainee whose run it is: a coach reads the debrief instead,
    # and nobody else learns that the drill exists.
    run = drill_selectors.drill_run_of(request.user, drill_id)
    if run is None:
        raise Http404("No such drill.")
    return run


@require_safe
@login_required
def drill_run(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    """The trainee's drill: Start, the incident and the pretend lockdown, the checklist."""
    run = _own_run(request, pk)
    steps = list(run.steps.all())
    for step in steps:
        step.run = run  # (its times are read from the run's start)
        step.after_words = services.stopwatch_words(step.after)  # type: ignore[attr-defined]
    context = {
        "run": run,
        "drill": run.drill,
        "account": run.drill.account,
        "steps": steps,
        "done": sum(1 for step in steps if step.done_at),
        "rogue_posts": services.ROGUE_POSTS,
    }
    return render(request, "coaching/drill_run.html", context)


@require_POST
@login_required
def drill_run_start(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    run = _own_run(request, pk)
    try:
        services.drill_run_begin(by=request.user, run=run)
    except DomainError as error:
        return refused(request, error, back_to=reverse("drill_run", args=[pk]))
    return redirect("drill_run", pk)


@require_POST
@login_required
def drill_lock_down(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    """The pretend lockdown: only its time is recorded."""
    run = _own_run(request, pk)
    try:
        services.drill_lock_down(by=request.user, run=run)
    except DomainError as error:
        return refused(request, error, back_to=reverse("drill_run", args=[pk]))
    return redirect("drill_run", pk)


@require_POST
@login_required
def drill_step(request: AuthenticatedRequest, pk: int, step: str) -> HttpResponse:
    run = _own_run(request, pk)
    checklist_step = get_object_or_404(DrillStep, run=run, step=step)
    checklist_step.run = run
    back = reverse("drill_run", args=[pk])
    try:
        services.drill_step_done(by=request.user, step=checklist_step)
    except DomainError as error:
        return refused(request, error, back_to=back)
    messages.success(request, f"Ticked: {checklist_step.get_step_display()}.")
    return redirect(f"{back}#step-{checklist_step.step}")
