"""Retention, for an organisation's admins: how long what never reached the real account
is kept, and the dry run of the next nightly run (the same selector the run uses). With
htmx, the page answers with the dry run alone ("Count again")."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods

from coaching.forms.people import RetentionForm
from coaching.models import AuditEvent
from coaching.selectors.retention import KINDS
from coaching.services import retention as services
from coaching.views.people import admin_organisation
from sandbox import access
from sandbox.errors import DomainError, InvalidInput
from sandbox.http import AuthenticatedRequest, refused
from sandbox.models import Organisation


@require_http_methods(["GET", "HEAD", "POST"])
@login_required
def retention(request: AuthenticatedRequest) -> HttpResponse:
    organisation = admin_organisation(request)
    back = f"{reverse('retention')}?organisation={organisation.pk}"
    form = RetentionForm(
        request.POST if request.method == "POST" else None,
        instance=Organisation.objects.get(pk=organisation.pk),
    )
    if request.method == "POST" and form.is_valid():
        try:
            changed = services.retention_set(
                by=request.user,
                organisation_id=organisation.pk,
                periods={name: form.cleaned_data[name] for name in Organisation.RETENTION_FIELDS},
            )
        except InvalidInput as error:
            form.add_domain_error(error)  # type: ignore[misc]
        except DomainError as error:
            return refused(request, error, back_to=back)
        else:
            messages.success(request, "Retention saved." if changed else "No changes to save.")
            return redirect(back)
    counts = services.retention_preview(by=request.user, organisation_id=organisation.pk)
    context = {
        "organisation": organisation,
        "organisations": Organisation.objects.filter(
            pk__in=access.admin_organisations(request.user)
        ),
        "form": form,
        "due": [(words, counts[kind]) for kind, words in KINDS.items()],
        "runs": AuditEvent.objects.filter(
            organisation=organisation, action=AuditEvent.Action.RETENTION_APPLIED
        ).order_by("-created_at")[:5],
    }
    if request.htmx:
        return render(request, "coaching/retention.html#dry-run", context)
    status = 422 if request.method == "POST" else 200
    return render(request, "coaching/retention.html", context, status=status)
