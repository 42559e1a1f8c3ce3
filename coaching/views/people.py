"""The people of an organisation, for its admins: the list (search and filters) and one
person's page (role, named coach, cohort, deactivation). Invitations and imports have
their own modules."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from coaching.forms.people import CohortForm, PeopleFilterForm, PersonForm
from coaching.selectors import erasure as erasure_selectors
from coaching.selectors import people as people_selectors
from coaching.selectors import subject_access as export_selectors
from coaching.services import people as people_services
from coaching.services import subject_access as subject_access_services
from sandbox import access
from sandbox.errors import DomainError, InvalidInput
from sandbox.http import AuthenticatedRequest, id_from, refused
from sandbox.models import Membership, Organisation
from sandbox.selectors import display_name

PEOPLE_PER_PAGE = 50


def admin_organisation(request: AuthenticatedRequest) -> Organisation:
    """The organisation an admin is managing: ``?organisation=`` picks one of theirs (any
    other answers 404), else their first."""
    organisation_ids = access.admin_organisations(request.user)
    raw = request.POST.get("organisation") or request.GET.get("organisation")
    organisation_id = id_from(raw) if raw else organisation_ids[0]
    if organisation_id not in organisation_ids:
        raise Http404("No such organisation.")
    return Organisation.objects.get(pk=organisation_id)


def person_or_404(request: AuthenticatedRequest, pk: int) -> Membership:
    """One of the admin's people: 403 for anyone who is no admin, 404 for another
    organisation's person (saying nothing of them)."""
    access.admin_organisations(request.user)
    membership = people_selectors.person_for(request.user, pk)
    if membership is None:
        raise Http404("No such person.")
    return membership


@require_safe
@login_required
def people(request: AuthenticatedRequest) -> HttpResponse:
    organisation = admin_organisation(request)
    form = PeopleFilterForm(request.GET, organisation_id=organisation.pk)
    page = Paginator(
        people_selectors.people_of(organisation.pk, form.filters), PEOPLE_PER_PAGE
    ).get_page(request.GET.get("page"))
    context = {
        "organisation": organisation,
        "organisations": Organisation.objects.filter(
            pk__in=access.admin_organisations(request.user)
        ),
        "form": form,
        "page": page,
        "cohort_form": CohortForm(),
    }
    template = (
        "coaching/people/list.html#people-rows" if request.htmx else "coaching/people/list.html"
    )
    return render(request, template, context)


@require_http_methods(["GET", "HEAD", "POST"])
@login_required
def person(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    membership = person_or_404(request, pk)
    form = PersonForm(
        request.POST if request.method == "POST" else None,
        organisation_id=membership.organisation_id,
        person_id=membership.user_id,
        initial={
            "role": membership.role,
            "coach": membership.coach_id,
            "cohort": membership.cohort_id,
        },
    )
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                changes = people_services.person_change(
                    by=request.user,
                    membership=membership,
                    role=form.cleaned_data["role"],
                    coach_id=form.cleaned_data["coach"],
                    cohort_id=form.cleaned_data["cohort"],
                )
            except InvalidInput as error:
                form.add_domain_error(error)
            except DomainError as error:
                return refused(request, error, back_to=reverse("person", args=[pk]))
            else:
                messages.success(
                    request, "Saved. " + " ".join(changes) if changes else "No changes to save."
                )
                return redirect("person", pk=pk)
        status = 422
    context = {
        "membership": membership,
        "form": form,
        "invitation": people_selectors.latest_invitation(membership),
        "exports": export_selectors.exports_of(membership.user, request.user),
        "erased": erasure_selectors.is_erased(membership.user),
        "export_days": subject_access_services.export_days(),
    }
    return render(request, "coaching/people/person.html", context, status=status)


@require_POST
@login_required
def person_deactivate(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    membership = person_or_404(request, pk)
    back = reverse("person", args=[pk])
    try:
        people_services.person_deactivate(by=request.user, membership=membership)
    except DomainError as error:
        return refused(request, error, back_to=back)
    messages.success(
        request,
        f"{display_name(membership.user)} is deactivated: they can no longer use Sandpit here.",
    )
    return redirect(back)


@require_POST
@login_required
def person_reactivate(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    membership = person_or_404(request, pk)
    back = reverse("person", args=[pk])
    try:
        people_services.person_reactivate(by=request.user, membership=membership)
    except DomainError as error:
        return refused(request, error, back_to=back)
    messages.success(request, "Reactivated: they can use Sandpit here again.")
    return redirect(back)


@require_POST
@login_required
def cohort_create(request: AuthenticatedRequest) -> HttpResponse:
    organisation = admin_organisation(request)
    back = f"{reverse('people')}?organisation={organisation.pk}"
    form = CohortForm(request.POST)
    if not form.is_valid():
        messages.error(request, " ".join(str(e) for errors in form.errors.values() for e in errors))
        return redirect(back)
    try:
        cohort = people_services.cohort_create(
            by=request.user, organisation_id=organisation.pk, name=form.cleaned_data["name"]
        )
    except DomainError as error:
        return refused(request, error, back_to=back)
    messages.success(request, f"Cohort '{cohort.name}' created. Choose it on a person's page.")
    return redirect(back)
