"""Publishing controls for coaches and admins: emergency stops, and what happened to each post
(reconcile, retry, retract)."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import (
    Http404,
    HttpResponse,
)
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST, require_safe

from coaching import selectors, services
from coaching.forms import (
    ReasonForm,
)
from coaching.models import Publication, PublishingStop
from coaching.views.review import _get_draft_for_coach
from sandbox import access
from sandbox import selectors as sandbox_selectors
from sandbox.errors import DomainError
from sandbox.forms import (
    posted_text,
)
from sandbox.http import AuthenticatedRequest, refused


@require_safe
@login_required
def publishing(request: AuthenticatedRequest) -> HttpResponse:
    """Every account's state, the standing stops, and recent publications (polled)."""
    access.reviewer_organisations(request.user)
    context = {
        "accounts": selectors.with_open_lockdown(selectors.accounts_for_reviewer(request.user)),
        "organisation_ids": sandbox_selectors.reviewer_organisation_ids(request.user),
        "publications": selectors.publications_for(request.user),
        "stuck": selectors.stuck_publications(request.user),
    }
    template = (
        "coaching/publishing.html#publications" if request.htmx else "coaching/publishing.html"
    )
    return render(request, template, context)


@require_POST
@login_required
def publishing_stop(request: AuthenticatedRequest) -> HttpResponse:
    access.reviewer_organisations(request.user)
    form = ReasonForm(request.POST)
    back = reverse("publishing")
    if not form.is_valid():
        messages.error(request, " ".join(str(e) for errors in form.errors.values() for e in errors))
        return redirect(back)
    account = None
    organisation_id = form.cleaned_data["organisation"]
    if form.cleaned_data["account"]:
        account = get_object_or_404(
            selectors.accounts_for_reviewer(request.user), pk=form.cleaned_data["account"]
        )
        organisation_id = account.organisation_id
    if organisation_id not in sandbox_selectors.reviewer_organisation_ids(request.user):
        raise Http404("No such organisation.")
    try:
        services.publishing_stop(
            by=request.user,
            organisation_id=organisation_id,
            account=account,
            reason=form.cleaned_data["reason"],
        )
    except DomainError as error:
        return refused(request, error, back_to=back)
    messages.success(request, "Publishing is stopped. Queued posts will wait until you resume.")
    return redirect(back)


@require_POST
@login_required
def publishing_resume(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    access.reviewer_organisations(request.user)
    stop = get_object_or_404(
        PublishingStop,
        pk=pk,
        organisation_id__in=sandbox_selectors.reviewer_organisation_ids(request.user),
    )
    try:
        services.publishing_resume(by=request.user, stop=stop)
    except DomainError as error:
        return refused(request, error, back_to=reverse("publishing"))
    messages.success(request, "Publishing resumed. Waiting posts are going out now.")
    return redirect("publishing")


def _get_publication_for_coach(request: AuthenticatedRequest, pk: int) -> Publication:
    publication = get_object_or_404(
        Publication.objects.select_related("draft", "account"),
        pk=pk,
        account__organisation__memberships__user=request.user,
    )
    _get_draft_for_coach(request, publication.draft_id)  # 403 unless a coach there
    return publication


@require_POST
@login_required
def publication_reconcile(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    publication = _get_publication_for_coach(request, pk)
    back = reverse("review", args=[publication.draft_id])
    try:
        status = services.publication_reconcile(publication=publication, by=request.user)
    except DomainError as error:
        return refused(request, error, back_to=back)
    messages.success(request, _RECONCILED[status])
    return redirect(back)


_RECONCILED: dict[str, str] = {
    Publication.Status.PUBLISHED: "Checked the account: the post is live.",
    Publication.Status.QUEUED: "Checked the account: that post is live; "
    "the rest of the thread follows.",
    Publication.Status.FAILED: "Checked the account: the post is not there, so it did not go out.",
    Publication.Status.UNCONFIRMED: "Not on the account yet. It can take a minute to appear; "
    "Sandpit keeps checking.",
}


@require_POST
@login_required
def publication_retry(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    publication = _get_publication_for_coach(request, pk)
    back = reverse("review", args=[publication.draft_id])
    try:
        services.publication_retry(publication=publication, by=request.user)
    except DomainError as error:
        return refused(request, error, back_to=back)
    messages.success(request, "Sending again.")
    return redirect(back)


@require_POST
@login_required
def publication_retract(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    publication = _get_publication_for_coach(request, pk)
    back = reverse("review", args=[publication.draft_id])
    try:
        services.publication_retract(
            publication=publication,
            by=request.user,
            reason=posted_text(request.POST, "reason", what="The reason"),
        )
    except DomainError as error:
        return refused(request, error, back_to=back)
    messages.success(request, "The post has been taken down from the account.")
    return redirect(back)
