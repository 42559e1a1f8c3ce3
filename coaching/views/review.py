"""The review page: the post, its findings and history, the claim, and the decision on one
revision."""

from collections.abc import Callable

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied
from django.http import (
    Http404,
    HttpResponse,
)
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST, require_safe

from coaching import draft_display, selectors, services
from coaching.forms import (
    ReviewForm,
    anchored_notes_from,
    rubric_items,
    suggestion_from,
)
from coaching.models import RUBRIC, Review
from coaching.services import AnchoredNote
from sandbox import access
from sandbox import selectors as sandbox_selectors
from sandbox.errors import DomainError, InvalidInput, NotAllowed
from sandbox.forms import (
    posted_text,
)
from sandbox.http import AuthenticatedRequest, id_from, refused
from sandbox.models import (
    Draft,
    DraftRevision,
)

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
    access.require_reviewer(request.user, draft.account.organisation_id)
    return draft


def _review_context(
    request: AuthenticatedRequest,
    draft: Draft,
    form: ReviewForm | None = None,
    *,
    anchored: list[AnchoredNote] | None = None,
    suggestion: list[str] | None = None,
) -> dict[str, object]:
    """The review page. ``form``, ``anchored`` and ``suggestion`` carry what the coach
    typed when the page is shown again, so a refusal never loses their words."""
    draft = draft_display.draft_for_display(draft.pk)
    revision = draft.current_revision
    assert revision is not None
    form = form or ReviewForm(initial={"revision": draft.current_revision_id})
    context = sandbox_selectors.check_context(draft.account.organisation_id)
    # Every typed note on particular words, then one empty box for the next.
    slots = [*(anchored or []), AnchoredNote(body="")]
    return {
        "draft": draft,
        "claim": selectors.claim_of(draft, request.user),
        "post_findings": zip(
            revision.posts,
            sandbox_selectors.findings_for_posts(revision.posts, context, images=revision.images),
            sandbox_selectors.image_descriptions(revision.posts, revision.images),
            strict=True,
        ),
        "blocked": selectors.blocking_codes(revision),
        "reviewed": sandbox_selectors.last_reviewed_revision(draft),
        "overrides": revision.check_overrides.select_related("coach"),
        "revisions": draft_display.revisions_with_feedback(draft),
        "form": form,
        "rubric": rubric_items(form),
        "tag_choices": Review.Tag.choices,
        "chosen_tags": form["tags"].value() or [],
        "anchor_slots": list(enumerate(slots)),
        # Folded away until used, so the decision fits beside the post; open once typed in.
        "anchors_open": bool(anchored),
        "suggestion_boxes": list(enumerate(suggestion or revision.posts)),
        "decidable": draft.status in selectors.WAITING,
    }


@require_safe
@login_required
def review(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    draft = _get_draft_for_coach(request, pk)
    if request.htmx and request.htmx.target == "claim":
        return _claim_banner(request, draft)
    if request.htmx:
        return render(
            request,
            "coaching/review.html#publication",
            {"draft": draft_display.draft_for_display(draft.pk)},
        )
    # The queue's a/r shortcuts open the review with a decision chosen (?decision=).
    chosen = request.GET.get("decision")
    initial: dict[str, object] = {"revision": draft.current_revision_id}
    if chosen in Review.Decision.values:
        initial["decision"] = chosen
    return render(
        request,
        "coaching/review.html",
        _review_context(request, draft, ReviewForm(initial=initial)),
    )


def _claim_banner(request: AuthenticatedRequest, draft: Draft, problem: str = "") -> HttpResponse:
    context = {
        "draft": draft,
        "claim": selectors.claim_of(draft, request.user),
        "claim_problem": problem,
        "decidable": draft.status in selectors.WAITING,
    }
    return render(request, "coaching/review.html#claim", context)


@require_POST
@login_required
def check_override(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    draft = _get_draft_for_coach(request, pk)
    try:
        reason = posted_text(request.POST, "reason", what="The reason")
        services.check_override(draft=draft, by=request.user, reason=reason)
    except DomainError as error:
        return refused(request, error, back_to=reverse("review", args=[pk]))
    messages.success(request, "Let through. The trainee can now send it for review.")
    return redirect("review", pk=pk)


@require_POST
@login_required
def review_claim(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    """Start reviewing, or take over a review whose coach has gone quiet."""
    draft = _get_draft_for_coach(request, pk)
    previous = draft.claimed_by if draft.status == Draft.Status.IN_REVIEW else None
    try:
        services.review_claim(draft=draft, by=request.user)
    except DomainError as error:
        return refused(request, error, back_to=reverse("review", args=[pk]))
    if previous is not None and previous != request.user:
        messages.success(
            request,
            f"You have taken over this review from {sandbox_selectors.display_name(previous)}.",
        )
    return redirect("review", pk=pk)


@require_POST
@login_required
def review_claim_renew(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    """The open review page's sign of life (htmx, every minute and as the coach types).
    Answers with the claim banner only when it changed: another coach took over."""
    draft = _get_draft_for_coach(request, pk)
    problem = ""
    try:
        services.review_claim_renew(draft=draft, by=request.user)
    except NotAllowed as error:
        raise PermissionDenied(error.message) from error
    except DomainError as error:
        problem = error.message
    if not request.htmx:
        if problem:
            messages.error(request, problem)
        return redirect("review", pk=pk)
    if not problem:
        # Still the coach's: nothing to redraw. Keeping the element (htmx swaps nothing on
        # 204) keeps its "at most every 30 s while typing" throttle; a fresh one would not.
        return HttpResponse(status=204)
    return _claim_banner(request, draft, problem)


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


SANDBOX_APPROVED = (
    "Approved. It is posted in the trainee's practice timeline only, as the response to the "
    "simulated post; nothing goes to the real account."
)


@require_POST
@login_required
def review_decide(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    draft = _get_draft_for_coach(request, pk)
    anchored = anchored_notes_from(request.POST)
    posts = draft.current_revision.posts if draft.current_revision else []
    if "add_anchor" in request.POST:
        # Another box for a note on particular words, without JavaScript: show the form
        # again with everything typed so far, judging nothing and saving nothing.
        typed = {**request.POST.dict(), "tags": request.POST.getlist("tags")}
        context = _review_context(
            request,
            draft,
            ReviewForm(initial=typed),
            anchored=[*anchored, AnchoredNote(body="")],
            suggestion=suggestion_from(request.POST, posts),
        )
        return render(request, "coaching/review.html", context)
    form = ReviewForm(request.POST)
    suggestion = suggestion_from(request.POST, posts)
    if form.is_valid():
        data = form.cleaned_data
        decision = data["decision"]
        revision = DraftRevision.objects.filter(draft=draft, pk=data["revision"]).first()
        if revision is None:
            raise Http404("That revision is not part of this draft.")
        suggestion = suggestion_from(request.POST, revision.posts)
        kwargs: dict[str, object] = {
            "draft": draft,
            "by": request.user,
            "note": data["note"],
            "revision": revision,
            "scores": form.scores(),
            "tags": data["tags"],
            "anchored_notes": anchored,
            "suggestion": suggestion,
        }
        if decision == Review.Decision.APPROVE:
            kwargs["publish_at"] = data["publish_at"]
            kwargs["override_reason"] = data["override_reason"]
        try:
            _DECISIONS[decision](**kwargs)
        except InvalidInput as error:
            form.add_domain_error(error)
        except NotAllowed as error:
            raise PermissionDenied(error.message) from error
        except DomainError as error:
            # Wrong state (another coach decided first or holds the claim, or the text
            # changed): keep everything the coach typed on the page with the reason.
            form.add_error(None, error.message)
        else:
            sandboxed = decision == Review.Decision.APPROVE and draft.is_sandbox_only
            messages.success(request, SANDBOX_APPROVED if sandboxed else _CONFIRMATIONS[decision])
            if not request.htmx:
                return redirect("review", pk=pk)
            # htmx swaps the page's <main> in place and tells the queue to refresh.
            response = render(request, "coaching/review.html", _review_context(request, draft))
            response["HX-Trigger"] = QUEUE_CHANGED
            return response
    else:
        # The form's own fields failed (no decision chosen, a time that is not a time):
        # the feedback's problems are told now too, not on the next try.
        for problem in services.review_feedback_problems(
            draft=draft,
            decision=request.POST.get("decision", ""),
            note=request.POST.get("note", ""),
            scores={name: request.POST.get(name, "") for name in RUBRIC},
            tags=request.POST.getlist("tags"),
            anchored_notes=anchored,
            suggestion=suggestion,
        ):
            if problem.field not in form.errors:
                form.add_domain_error(problem)
    draft.refresh_from_db()
    # Keep what the coach typed, but bind a second try to the text now on the screen.
    data = request.POST.copy()
    data["revision"] = str(draft.current_revision_id)
    form.data = data
    context = _review_context(request, draft, form, anchored=anchored, suggestion=suggestion)
    return render(request, "coaching/review.html", context, status=422)


@require_POST
@login_required
def spot_check_hold(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    draft = _get_draft_for_coach(request, pk)
    try:
        services.spot_check_hold(draft=draft, by=request.user)
    except DomainError as error:
        return refused(request, error, back_to=reverse("review", args=[pk]))
    name = sandbox_selectors.display_name(draft.author)
    messages.success(
        request, f"Held. The post is in the queue for review, and {name} is back in full review."
    )
    return redirect("review", pk=pk)


@require_POST
@login_required
def review_mode_full(request: AuthenticatedRequest, user_id: int) -> HttpResponse:
    """A coach switches one of their trainees back to full review."""
    organisation_id = id_from(request.POST.get("organisation"))
    if organisation_id not in sandbox_selectors.reviewer_organisation_ids(request.user):
        raise Http404("No such organisation.")
    trainee = get_object_or_404(User, pk=user_id, memberships__organisation_id=organisation_id)
    back = reverse("trainee_timeline", args=[user_id])
    try:
        services.review_mode_set_full(
            trainee=trainee,
            organisation_id=organisation_id,
            by=request.user,
            reason=posted_text(request.POST, "reason", what="The reason"),
        )
    except DomainError as error:
        return refused(request, error, back_to=back)
    messages.success(request, "Switched to full review. A coach will read every post again.")
    return redirect(back)
