"""Purge on request: a coach or admin of the draft's organisation removes its revisions
that held a patient's details. The page lists them and asks why (the confirmation); the
post does it."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods

from coaching.forms import PurgeForm
from coaching.selectors import check_titles
from coaching.selectors.retention import purgeable_revisions
from coaching.services.purge import revisions_purge
from coaching.views.review import _get_draft_for_coach
from sandbox.errors import DomainError, InvalidInput, NotAllowed
from sandbox.http import AuthenticatedRequest, refused


@require_http_methods(["GET", "HEAD", "POST"])
@login_required
def draft_purge(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    draft = _get_draft_for_coach(request, pk)
    form = PurgeForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            numbers = revisions_purge(
                draft=draft, by=request.user, reason=form.cleaned_data["reason"]
            )
        except InvalidInput as error:
            form.add_domain_error(error)
        except NotAllowed as error:
            return refused(request, error, back_to=reverse("draft_purge", args=[draft.pk]))
        except DomainError as error:
            # A post on the account, or purged meanwhile: said on the page, reason kept.
            form.add_error(None, error.message)
        else:
            messages.success(
                request,
                f"Purged {len(numbers)} revision(s). Who purged them, when and why is on "
                "the draft's history; the audit log records the purge without the words.",
            )
            return redirect("review", draft.pk)
    context = {
        "draft": draft,
        "form": form,
        "revisions": [
            (revision, check_titles(codes)) for revision, codes in purgeable_revisions(draft)
        ],
        "purged": draft.revisions.filter(purge__isnull=False)
        .select_related("purge__purged_by")
        .order_by("number"),
    }
    status = 422 if request.method == "POST" else 200
    return render(request, "coaching/purge.html", context, status=status)
