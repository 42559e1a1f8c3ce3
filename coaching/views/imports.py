"""Importing people from a CSV file: the upload (checked at once, then queued for the
worker) and the import's page, whose progress fragment htmx polls until it is done."""

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_safe

from coaching.forms.people import ImportForm
from coaching.selectors import people as people_selectors
from coaching.services import people as people_services
from coaching.views.people import admin_organisation
from sandbox import access
from sandbox.errors import DomainError, InvalidInput
from sandbox.http import AuthenticatedRequest, refused


@require_http_methods(["GET", "HEAD", "POST"])
@login_required
def people_import(request: AuthenticatedRequest) -> HttpResponse:
    organisation = admin_organisation(request)
    form = ImportForm(request.POST, request.FILES) if request.method == "POST" else ImportForm()
    status = 200
    if request.method == "POST":
        if form.is_valid():
            upload = form.cleaned_data["file"]
            # Read at most one byte over the limit: enough to say the file is too big.
            content = upload.read(people_services.max_import_bytes() + 1)
            try:
                started = people_services.people_import_start(
                    by=request.user,
                    organisation_id=organisation.pk,
                    file_name=upload.name or "",
                    content=content,
                )
            except InvalidInput as error:
                form.add_domain_error(error)
            except DomainError as error:
                return refused(request, error, back_to=reverse("people_import"))
            else:
                return redirect("people_import_report", pk=started.pk)
        status = 422
    context = {
        "form": form,
        "organisation": organisation,
        "imports": people_selectors.people_imports_of(organisation.pk),
    }
    return render(request, "coaching/people/import.html", context, status=status)


@require_safe
@login_required
def people_import_report(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    """The page, or (for htmx's polling) just its progress and report."""
    access.admin_organisations(request.user)
    people_import = people_selectors.people_import_for(request.user, pk)
    if people_import is None:
        raise Http404("No such import.")
    template = "coaching/people/import_report.html"
    if request.htmx:
        template += "#import-progress"
    return render(request, template, {"people_import": people_import})
