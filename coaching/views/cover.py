"""Cover: a coach's availability, and the trainees no coach is named for."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.models import User
from django.http import (
    Http404,
    HttpResponse,
)
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from coaching import selectors
from coaching.forms import (
    AssignForm,
    AvailabilityForm,
)
from sandbox import access
from sandbox import selectors as sandbox_selectors
from sandbox import services as sandbox_services
from sandbox.errors import DomainError, InvalidInput
from sandbox.http import AuthenticatedRequest, id_from, refused
from sandbox.models import (
    Cohort,
    Membership,
    Organisation,
)


@require_http_methods(["GET", "HEAD", "POST"])
@login_required
def availability(request: AuthenticatedRequest) -> HttpResponse:
    """When the coach is away and who covers, for one of their organisations at a time."""
    organisation_ids = access.reviewer_organisations(request.user)
    raw = request.POST.get("organisation") or request.GET.get("organisation")
    organisation_id = id_from(raw) if raw else organisation_ids[0]
    if organisation_id not in organisation_ids:
        raise Http404("No such organisation.")
    coaches = selectors.coach_memberships([organisation_id])
    membership = next(m for m in coaches if m.user_id == request.user.pk)
    others = [m.user for m in coaches if m.user_id != request.user.pk]
    form = AvailabilityForm(
        request.POST or None,
        coaches=others,
        initial={
            "away_from": membership.away_from,
            "away_until": membership.away_until,
            "cover_coach": membership.cover_coach_id,
        },
    )
    status = 200
    if request.method == "POST":
        if "back" in request.POST:
            form = AvailabilityForm({}, coaches=others)
        if form.is_valid():
            try:
                sandbox_services.coach_availability_set(
                    by=request.user,
                    organisation_id=organisation_id,
                    away_from=form.cleaned_data["away_from"],
                    away_until=form.cleaned_data["away_until"],
                    cover_coach_id=form.cleaned_data["cover_coach"],
                )
            except InvalidInput as error:
                form.add_domain_error(error)
            except DomainError as error:
                return refused(request, error, back_to=reverse("availability"))
            else:
                messages.success(request, _availability_message(form.cleaned_data))
                return redirect(f"{reverse('availability')}?organisation={organisation_id}")
        status = 422
    context = {
        "form": form,
        "membership": membership,
        "organisations": Organisation.objects.filter(pk__in=organisation_ids),
        "organisation_id": organisation_id,
    }
    return render(request, "coaching/availability.html", context, status=status)


def _availability_message(data: dict[str, object]) -> str:
    if data["away_from"] is None:
        return "Saved: you are not marked as away. Your trainees' posts come to you."
    who = "your cover coach" if data["cover_coach"] else "the coach pool"
    return f"Saved. While you are away, your trainees' posts go to {who}."


@require_safe
@login_required
def unassigned_trainees(request: AuthenticatedRequest) -> HttpResponse:
    admin_of = access.admin_organisations(request.user)
    coaches: dict[int, list[User]] = {}
    for membership in selectors.coach_memberships(admin_of):
        coaches.setdefault(membership.organisation_id, []).append(membership.user)
    cohorts: dict[int, list[Cohort]] = {}
    for cohort in Cohort.objects.filter(organisation_id__in=admin_of):
        cohorts.setdefault(cohort.organisation_id, []).append(cohort)
    rows = [
        (
            trainee,
            coaches.get(trainee.organisation_id, []),
            cohorts.get(trainee.organisation_id, []),
        )
        for trainee in selectors.unassigned_trainees(admin_of)
    ]
    return render(request, "coaching/unassigned.html", {"rows": rows})


@require_POST
@login_required
def trainee_assign(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    admin_of = access.admin_organisations(request.user)
    membership = get_object_or_404(
        Membership.objects.select_related("user", "organisation"),
        pk=pk,
        organisation_id__in=admin_of,
    )
    back = reverse("unassigned_trainees")
    form = AssignForm(request.POST)
    if not form.is_valid():
        messages.error(request, " ".join(str(e) for errors in form.errors.values() for e in errors))
        return redirect(back)
    try:
        sandbox_services.trainee_assign(
            by=request.user,
            membership=membership,
            coach_id=form.cleaned_data["coach"],
            cohort_id=form.cleaned_data["cohort"],
        )
    except DomainError as error:
        return refused(request, error, back_to=back)
    trainee = sandbox_selectors.display_name(membership.user)
    coach = sandbox_selectors.display_name(membership.coach)  # type: ignore[arg-type]
    messages.success(request, f"{trainee}'s posts now go to {coach}.")
    return redirect(back)
