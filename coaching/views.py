"""The coach's pages: the queue and the review. Thin, like the trainee's."""

from collections.abc import Callable

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from coaching import selectors, services
from coaching.forms import ReviewForm
from coaching.models import Review
from sandbox import selectors as sandbox_selectors
from sandbox.errors import DomainError, InvalidInput, NotAllowed
from sandbox.http import AuthenticatedRequest, refused
from sandbox.models import Draft, DraftRevision

QUEUE_CHANGED = "queueChanged"


def _get_draft_for_coach(request: AuthenticatedRequest, pk: int) -> Draft:
    """404 unless the draft is in one of the user's organisations; 403 unless they may
    review there."""
    draft = (
        Draft.objects.filter(pk=pk, account__organisation__memberships__user=request.user)
        .select_related("current_revision", "account", "author", "claimed_by")
        .first()
    )
    if draft is None:
        raise Http404("No such draft.")
    role = sandbox_selectors.role_in(request.user, draft.account.organisation_id)
    if role not in sandbox_selectors.REVIEWER_ROLES:
        raise PermissionDenied("Only coaches can review drafts.")
    return draft


@require_GET
@login_required
def queue(request: AuthenticatedRequest) -> HttpResponse:
    if not sandbox_selectors.reviewer_organisation_ids(request.user):
        raise PermissionDenied("The approval queue is for coaches.")
    context = {"drafts": selectors.queue_for(request.user)}
    template = "coaching/queue.html#queue-rows" if request.htmx else "coaching/queue.html"
    return render(request, template, context)


def _review_context(draft: Draft, form: ReviewForm | None = None) -> dict[str, object]:
    draft = sandbox_selectors.draft_for_display(draft.pk)
    return {
        "draft": draft,
        "revisions": sandbox_selectors.revisions_with_feedback(draft),
        "form": form or ReviewForm(initial={"revision": draft.current_revision_id}),
        "decidable": draft.status in selectors.WAITING,
    }


@require_GET
@login_required
def review(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    draft = _get_draft_for_coach(request, pk)
    if request.htmx:
        return render(
            request,
            "coaching/review.html#publication",
            {"draft": sandbox_selectors.draft_for_display(draft.pk)},
        )
    return render(request, "coaching/review.html", _review_context(draft))


@require_POST
@login_required
def review_claim(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    draft = _get_draft_for_coach(request, pk)
    try:
        services.review_claim(draft=draft, by=request.user)
    except DomainError as error:
        return refused(request, error, back_to=reverse("review", args=[pk]))
    return redirect("review", pk=pk)


_DECISIONS: dict[str, Callable[..., Review]] = {
    Review.Decision.APPROVE: services.review_approve,
    Review.Decision.REQUEST_CHANGES: services.review_request_changes,
    Review.Decision.REJECT: services.review_reject,
}

_CONFIRMATIONS = {
    Review.Decision.APPROVE: "Approved. The post is queued for publication.",
    Review.Decision.REQUEST_CHANGES: "Sent back to the trainee with your feedback.",
    Review.Decision.REJECT: "Rejected. The trainee can see your note.",
}


@require_POST
@login_required
def review_decide(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    draft = _get_draft_for_coach(request, pk)
    form = ReviewForm(request.POST)
    if form.is_valid():
        data = form.cleaned_data
        decision = data["decision"]
        revision = DraftRevision.objects.filter(draft=draft, pk=data["revision"]).first()
        kwargs: dict[str, object] = {"draft": draft, "by": request.user, "note": data["note"]}
        if revision is not None:
            kwargs["revision"] = revision
        if decision == Review.Decision.APPROVE:
            kwargs["publish_at"] = data["publish_at"]
        try:
            _DECISIONS[decision](**kwargs)
        except InvalidInput as error:
            form.add_domain_error(error)
        except NotAllowed as error:
            raise PermissionDenied(error.message) from error
        except DomainError as error:
            # Wrong state (another coach decided first, or the text changed): keep the
            # coach's typed note on the page with the reason, never lose it.
            form.add_error(None, error.message)
        else:
            messages.success(request, _CONFIRMATIONS[decision])
            if not request.htmx:
                return redirect("review", pk=pk)
            # htmx swaps the page's <main> in place and tells the queue to refresh.
            response = render(request, "coaching/review.html", _review_context(draft))
            response["HX-Trigger"] = QUEUE_CHANGED
            return response
    draft.refresh_from_db()
    return render(request, "coaching/review.html", _review_context(draft, form), status=422)
