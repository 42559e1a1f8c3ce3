"""Data protection for one person, from their page: a subject access export (started
here, built by the worker, its page polled by htmx until the zip is ready, then downloaded
until it expires) and erasure (a confirmation page listing what stays and why it may be
refused)."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import FileResponse, Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from coaching.forms.people import ErasureForm
from coaching.models import SubjectAccessExport
from coaching.selectors import erasure as erasure_selectors
from coaching.selectors import subject_access as export_selectors
from coaching.services import erasure as erasure_services
from coaching.services import subject_access as export_services
from coaching.views.people import person_or_404
from sandbox import access
from sandbox.errors import DomainError, InvalidInput
from sandbox.http import AuthenticatedRequest, refused
from sandbox.selectors import display_name


@require_POST
@login_required
def subject_access_start(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    membership = person_or_404(request, pk)
    try:
        export = export_services.export_start(by=request.user, membership=membership)
    except DomainError as error:
        return refused(request, error, back_to=reverse("person", args=[pk]))
    return redirect("subject_access_export", pk=export.pk)


def _export_or_404(request: AuthenticatedRequest, pk: int) -> SubjectAccessExport:
    access.admin_organisations(request.user)
    export = export_selectors.export_for(request.user, pk)
    if export is None:
        raise Http404("No such export.")
    return export


@require_safe
@login_required
def subject_access_export(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    """The page, or (for htmx's polling) just its progress."""
    export = _export_or_404(request, pk)
    template = "coaching/people/subject_access.html"
    if request.htmx:
        template += "#export-progress"
    return render(request, template, {"export": export})


@require_safe
@login_required
def subject_access_download(request: AuthenticatedRequest, pk: int) -> HttpResponse | FileResponse:
    export = _export_or_404(request, pk)
    try:
        file = export_services.export_download(by=request.user, export=export)
    except DomainError as error:
        if export.status == export.Status.EXPIRED:
            return render(
                request,
                "coaching/people/subject_access.html",
                {"export": export, "gone": error.message},
                status=410,
            )
        return refused(request, error, back_to=reverse("subject_access_export", args=[pk]))
    name = f"subject-access-{export.person_id}-{export.finished_at:%Y%m%d}.zip"
    return FileResponse(file, as_attachment=True, filename=name, content_type="application/zip")


@require_http_methods(["GET", "HEAD", "POST"])
@login_required
def person_erase(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    membership = person_or_404(request, pk)
    person = membership.user
    if erasure_selectors.is_erased(person):
        messages.info(request, "This person has already been erased.")
        return redirect("person", pk=pk)
    form = ErasureForm(request.POST if request.method == "POST" else None)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                reference = erasure_services.person_erase(
                    by=request.user,
                    membership=membership,
                    confirmation=form.cleaned_data["confirmation"],
                )
            except InvalidInput as error:
                form.add_domain_error(error)
            except DomainError as error:
                return refused(request, error, back_to=reverse("person_erase", args=[pk]))
            else:
                messages.success(
                    request,
                    f"Erased. The audit log now calls them {reference}; keep that reference "
                    "with the request, to answer any question about it later.",
                )
                return redirect("person", pk=pk)
        status = 422
    context = {
        "membership": membership,
        "name": display_name(person),
        "confirmation_words": erasure_selectors.confirmation_words(person),
        "refusals": erasure_selectors.refusals(by=request.user, person=person),
        "live_posts": erasure_selectors.live_posts(person),
        "kept_drafts": erasure_selectors.drafts_that_went_live(person).count(),
        "form": form,
    }
    return render(request, "coaching/people/erase.html", context, status=status)
