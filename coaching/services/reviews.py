"""A coach's review: feedback (notes, anchored notes, rubric, tags, a suggested rewrite) and
the decision on exactly one revision.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import partial

from django.contrib.auth.models import User
from django.db import transaction
from django.template.defaultfilters import pluralize
from django.utils import timezone

from coaching import notifications
from coaching.models import (
    NOTE_MAX_LENGTH,
    RUBRIC,
    AuditEvent,
    CheckOverride,
    FeedbackNote,
    Review,
)
from coaching.selectors import blocking_codes, check_titles, is_clean
from coaching.services.lifecycle import _audit, _move, clean_reason
from coaching.services.outbox import _outbox
from coaching.services.review_modes import _return_to_full_review, _review_mode_after_decision
from sandbox import access
from sandbox import services as sandbox_services
from sandbox.errors import DomainError, InputProblems, InvalidInput, InvalidState
from sandbox.http import id_from
from sandbox.models import Draft, DraftRevision
from sandbox.selectors import check_contexts, display_name, reviewer_organisation_ids


@dataclass(frozen=True)
class AnchoredNote:
    """A note about some words of one post: found by their code-point offsets (from a
    selection on the page) or, without JavaScript, by quoting the words."""

    body: str
    quote: str = ""
    post_index: int | None = None
    start: int | None = None
    end: int | None = None


@dataclass
class _Feedback:
    """A review's content, checked against the revision it is about."""

    revision: DraftRevision
    note: str
    scores: dict[str, int | None]
    tags: list[str]
    anchored: list[dict[str, object]] = field(default_factory=list)
    suggestion: list[str] = field(default_factory=list)


def _clean_note(note: str, *, required: bool, label: str = "Notes") -> str:
    note = (note or "").strip()
    if required and not note:
        raise InvalidInput(
            "Write a note so the trainee knows what to change and why.", field="note"
        )
    if len(note) > NOTE_MAX_LENGTH:
        raise InvalidInput(
            f"{label} can be up to {NOTE_MAX_LENGTH} characters; this one is {len(note)}.",
            field="note",
        )
    return note


def _clean_scores(scores: Mapping[str, object] | None) -> dict[str, int | None]:
    """Every decision made on the review page scores all three (the page always sends
    the rubric, and the portfolio and earned autonomy read it). None is a decision from
    outside that page (scripts, seed data, other services' tests): it is stored as not
    scored, as spot-check passes and reviews from before the rubric already are, so
    readers handle it anyway; refusing it would break every caller for no safety gain."""
    if scores is None:
        return dict.fromkeys(RUBRIC)
    cleaned: dict[str, int | None] = {}
    missing: list[str] = []
    problems = InputProblems()
    for name, (title, levels) in RUBRIC.items():
        raw = str(scores.get(name) or "").strip()
        if not raw:
            missing.append(name)
            continue
        value = id_from(raw)  # not int(): '²' passes isdigit(), then int() refuses it
        if value not in levels:
            problems.found.append(
                InvalidInput(
                    f"Score {title.lower()} from 1 to 4: “{raw[:20]}” is not one of those.",
                    field=name,
                )
            )
        cleaned[name] = value
    if missing:
        titles = [RUBRIC[name][0].lower() for name in missing]
        listed = titles[0] if len(titles) == 1 else ", ".join(titles[:-1]) + " and " + titles[-1]
        problems.found.append(
            InvalidInput(
                f"Score the post for {listed} (1 to 4) before you decide.", field=missing[0]
            )
        )
    problems.raise_any()
    return cleaned


def _clean_tags(tags: Iterable[str]) -> list[str]:
    chosen = {str(tag) for tag in tags}
    unknown = sorted(chosen - set(Review.Tag.values))
    if unknown:
        raise InvalidInput(
            f"“{unknown[0][:40]}” is not a tag. Choose from: "
            f"{', '.join(str(label).lower() for label in Review.Tag.labels)}.",
            field="tags",
        )
    return [tag for tag in Review.Tag.values if tag in chosen]


def _as_shown(text: str) -> tuple[str, list[int]]:
    """The text as a browser shows it (a CRLF line break reads as LF), with the index in
    ``text`` of each character shown, and of the end."""
    shown: list[str] = []
    where: list[int] = []
    for index, char in enumerate(text):
        if char == "\r" and text[index + 1 : index + 2] == "\n":
            continue
        shown.append(char)
        where.append(index)
    where.append(len(text))
    return "".join(shown), where


def _locate(note: AnchoredNote, posts: list[str], which: str) -> tuple[int, int, int]:
    """(post index, start, end) in the stored text of the words a note is about. Offsets
    and quotes come from the page, so they count the text as the browser shows it."""
    quote = note.quote.strip().replace("\r\n", "\n")
    if note.post_index is not None and not 0 <= note.post_index < len(posts):
        raise InvalidInput(f"{which}: this post has no post {note.post_index + 1}.")
    if note.post_index is not None and note.start is not None and note.end is not None:
        shown, where = _as_shown(posts[note.post_index])
        if 0 <= note.start < note.end <= len(shown) and (
            not quote or shown[note.start : note.end].strip() == quote
        ):
            return note.post_index, where[note.start], where[note.end - 1] + 1
        if not quote:
            raise InvalidInput(
                f"{which}: the words you selected are not in the text you are reviewing. "
                "Select them again, or type them into “Quote the words this note is about”."
            )
    if not quote:
        raise InvalidInput(
            f"{which}: say which words it is about, or put it in the main feedback box."
        )
    searched = [note.post_index] if note.post_index is not None else range(len(posts))
    for index in searched:
        shown, where = _as_shown(posts[index])
        at = shown.find(quote)
        if at >= 0:
            return index, where[at], where[at + len(quote) - 1] + 1
    raise InvalidInput(
        f"{which}: “{quote[:60]}” is not in the post. Copy the words exactly as they appear."
    )


def _clean_anchored(notes: Sequence[AnchoredNote], posts: list[str]) -> list[dict[str, object]]:
    problems = InputProblems()
    cleaned = [
        problems.check(
            partial(_clean_one_anchored, note, posts, f"Note {number} on particular words")
        )
        for number, note in enumerate(notes, start=1)
        if note.body.strip() or note.quote.strip() or note.start is not None  # not unused
    ]
    problems.raise_any()
    return [note for note in cleaned if note is not None]


def _clean_one_anchored(note: AnchoredNote, posts: list[str], which: str) -> dict[str, object]:
    if not note.body.strip():
        raise InvalidInput(f"{which}: write what you want to say about those words.")
    body = _clean_note(note.body, required=True, label=which)
    index, start, end = _locate(note, posts, which)
    return {
        "body": body,
        "post_index": index,
        "anchor_start": start,
        "anchor_end": end,
        "quote": posts[index][start:end],
    }


def _same_posts(a: Sequence[str], b: Sequence[str]) -> bool:
    # Browsers send a textarea's line breaks as CRLF; a rewrite is about words, not those.
    return [text.replace("\r\n", "\n") for text in a] == [text.replace("\r\n", "\n") for text in b]


def _clean_suggestion(suggestion: Sequence[str], posts: list[str], decision: str) -> list[str]:
    """The coach's rewrite, one entry per post; a box left empty drops that post. Kept only
    if it differs from the text reviewed, and held to the same rules as the trainee's."""
    rewrite = [text for text in suggestion if text.strip()]
    if not rewrite or _same_posts(rewrite, posts):
        return []
    if decision == Review.Decision.REJECT:
        raise InvalidInput(
            "A rejected post cannot be revised, so the trainee could not use a rewrite. "
            "Put the suggested text back as it was, or request changes instead.",
            field="suggestion",
        )
    if len(rewrite) > sandbox_services.MAX_THREAD_POSTS:
        raise InvalidInput("Your suggested rewrite has too many posts.", field="suggestion")
    for position, text in enumerate(rewrite, start=1):
        try:
            sandbox_services.validate_post_text(
                text, position=position if len(rewrite) > 1 else None
            )
        except InvalidInput as error:
            raise InvalidInput(
                f"Your suggested rewrite: {error.message}", field="suggestion"
            ) from error
    return rewrite


def _clean_feedback(
    *,
    draft: Draft,
    revision: DraftRevision | None,
    decision: str,
    note: str,
    note_required: bool,
    scores: Mapping[str, object] | None,
    tags: Iterable[str],
    anchored_notes: Sequence[AnchoredNote],
    suggestion: Sequence[str],
) -> _Feedback:
    """Check everything the coach wrote before anything changes, so a refusal leaves the
    draft as it was and the coach's words on the page."""
    revision = revision or draft.current_revision
    assert revision is not None
    posts = revision.posts
    # Every part is checked, and every problem reported together (``problems``), so the
    # coach fixes the note and the scores in one go rather than one per try.
    problems = InputProblems()
    cleaned_note = problems.check(lambda: _clean_note(note, required=False))
    anchored = problems.check(lambda: _clean_anchored(anchored_notes, posts))
    # A note on words that could not be read has its own message; no need for this one.
    if note_required and not (note or "").strip() and anchored == []:
        problems.check(lambda: _clean_note(note, required=True))  # "write a note"
    scores_cleaned = problems.check(lambda: _clean_scores(scores))
    tags_cleaned = problems.check(lambda: _clean_tags(tags))
    rewrite = problems.check(lambda: _clean_suggestion(suggestion, posts, decision))
    problems.raise_any()
    return _Feedback(
        revision=revision,
        note=cleaned_note or "",
        scores=scores_cleaned or {},
        tags=tags_cleaned or [],
        anchored=anchored or [],
        suggestion=rewrite or [],
    )


def review_feedback_problems(
    *,
    draft: Draft,
    decision: str,
    note: str,
    scores: Mapping[str, object],
    tags: Iterable[str],
    anchored_notes: Sequence[AnchoredNote],
    suggestion: Sequence[str],
) -> list[InvalidInput]:
    """What the feedback would be refused for, deciding nothing: for a review form whose
    own fields failed first, so the coach hears of every problem in one go."""
    try:
        _clean_feedback(
            draft=draft,
            revision=None,
            decision=decision,
            note=note,
            note_required=decision in (Review.Decision.REQUEST_CHANGES, Review.Decision.REJECT),
            scores=scores,
            tags=tags,
            anchored_notes=anchored_notes,
            suggestion=suggestion,
        )
    except InvalidInput as error:
        return list(error)
    return []


_DECISION_AUDIT: dict[str, str] = {
    Review.Decision.APPROVE: AuditEvent.Action.REVIEW_APPROVED,
    Review.Decision.REQUEST_CHANGES: AuditEvent.Action.REVIEW_CHANGES_REQUESTED,
    Review.Decision.REJECT: AuditEvent.Action.REVIEW_REJECTED,
}


def _decide(
    *,
    draft: Draft,
    by: User,
    action: str,
    decision: str,
    feedback: _Feedback,
    detail: str = "",
) -> Review:
    """Record a decision on one exact revision. Runs inside the caller's transaction."""
    access.require_reviewer_of(draft, by)
    revision = feedback.revision
    _move(
        draft,
        action,
        revision_id=revision.pk,
        claim_for=by,
        claimed_by=None,
        claimed_at=None,
    )
    review = Review.objects.create(
        draft=draft,
        revision=revision,
        reviewer=by,
        decision=decision,
        content_hash=revision.content_hash,
        tags=feedback.tags,
        suggestion=feedback.suggestion,
        **feedback.scores,
    )
    if feedback.note:
        FeedbackNote.objects.create(review=review, author=by, body=feedback.note)
    FeedbackNote.objects.bulk_create(
        FeedbackNote(review=review, author=by, **anchored) for anchored in feedback.anchored
    )
    scored = ", ".join(
        f"{RUBRIC[name][0].lower()} {value}"
        for name, value in feedback.scores.items()
        if value is not None
    )
    _audit(
        _DECISION_AUDIT[decision],
        organisation_id=draft.account.organisation_id,
        actor=by,
        account=draft.account,
        revision=revision,
        trainee=draft.author,
        detail=f"Revision {revision.number}."
        + (f" Scores: {scored}." if scored else "")
        + (f" Tags: {', '.join(feedback.tags)}." if feedback.tags else "")
        + (f" {detail}" if detail else ""),
    )
    notifications.review_decided(review=review)
    # Last: the autonomy rule reads this review's scores.
    _review_mode_after_decision(review, by=by)
    return review


# A scheduled post waits at most this long (a typo of a year would otherwise park it).
MAX_SCHEDULE_AHEAD = dt.timedelta(days=90)


def review_approve(
    *,
    draft: Draft,
    by: User,
    note: str = "",
    publish_at: dt.datetime | None = None,
    revision: DraftRevision | None = None,
    override_reason: str = "",
    scores: Mapping[str, object] | None = None,
    tags: Iterable[str] = (),
    anchored_notes: Sequence[AnchoredNote] = (),
    suggestion: Sequence[str] = (),
    approved_with: int = 0,
) -> Review:
    """Approve one exact revision and put it in the outbox, in one transaction. A revision
    with blocking risk findings needs the coach's reason for overriding them.
    ``approved_with``: how many other posts the coach approved together with this one from
    the queue (review_approve_clean), which the audit event says."""
    problems = InputProblems()
    feedback = problems.check(
        lambda: _clean_feedback(
            draft=draft,
            revision=revision,
            decision=Review.Decision.APPROVE,
            note=note,
            note_required=False,
            scores=scores,
            tags=tags,
            anchored_notes=anchored_notes,
            suggestion=suggestion,
        )
    )
    blocked = blocking_codes(revision or draft.current_revision)  # type: ignore[arg-type]
    if blocked:
        override_reason = (
            problems.check(
                lambda: clean_reason(
                    override_reason,
                    missing=f"The risk checks blocked this post: {check_titles(blocked)}. To "
                    "approve it anyway, say why it is safe in 'Reason for overriding'.",
                    field="override_reason",
                )
            )
            or ""
        )
    problems.check(lambda: _clean_publish_at(publish_at, draft=draft))
    problems.raise_any()
    assert feedback is not None
    with transaction.atomic():
        if blocked:
            # Recorded before the decision, so the decision's effect on the trainee's
            # review mode (earned autonomy) sees the override.
            access.require_reviewer_of(draft, by)
            _record_override(
                revision or draft.current_revision,  # type: ignore[arg-type]
                by=by,
                codes=blocked,
                reason=override_reason,
            )
        review = _decide(
            draft=draft,
            by=by,
            action="approve",
            decision=Review.Decision.APPROVE,
            feedback=feedback,
            detail=(
                f"Approved from the queue together with {approved_with} other "
                f"post{pluralize(approved_with)}, with the same scores."
                if approved_with
                else ""
            ),
        )
        if draft.is_sandbox_only:
            _post_in_sandbox(draft, review.revision)
        else:
            _outbox(review, publish_at=publish_at)
    return review


# At most a page of the queue at once (coaching.selectors.QUEUE_PAGE_SIZE).
MAX_APPROVED_TOGETHER = 50


@dataclass(frozen=True)
class ApprovalTogether:
    """What happened to one of the posts a coach ticked on the queue to approve together."""

    draft_id: int
    text: str  # its words and trainee as the queue showed them ("" for one not found)
    trainee: str
    approved: bool
    message: str  # what happened, or why it was refused


NOT_IN_QUEUE = "It is not among the posts you review."
NOT_CLEAN = (
    "The risk checks found something in it, so it needs a review of its own: open it from "
    "the queue."
)


def review_approve_clean(
    *, by: User, chosen: Sequence[tuple[int, int]], scores: Mapping[str, object]
) -> list[ApprovalTogether]:
    """Approve several clean posts from the queue, each (draft id, revision id) being the
    revision the coach saw. Each is its own decision through review_approve, in its own
    transaction, audited on its own, so one refused leaves the others approved.

    The coach scores once for all of them: every approval is scored (the portfolio and
    earned autonomy read the scores), and a post with nothing for the checks to find is
    the kind a coach can judge from the queue. Posts with any finding are refused here,
    whatever the page offered: anything the checks point out asks for the review page."""
    cleaned = _clean_scores(scores)
    pairs = list(dict.fromkeys(chosen))  # a pair sent twice is one decision
    if not pairs:
        raise InvalidInput("Tick the posts you want to approve.", field="approve")
    if len(pairs) > MAX_APPROVED_TOGETHER:
        raise InvalidInput(
            f"Approve at most {MAX_APPROVED_TOGETHER} posts at a time; you ticked {len(pairs)}.",
            field="approve",
        )
    organisation_ids = reviewer_organisation_ids(by)
    drafts = {
        draft.pk: draft
        for draft in Draft.objects.filter(
            pk__in=[draft_id for draft_id, _ in pairs],
            account__organisation_id__in=organisation_ids,
        ).select_related("current_revision", "account", "author", "claimed_by")
    }
    revisions = {
        revision.pk: revision
        for revision in DraftRevision.objects.filter(
            pk__in=[revision_id for _, revision_id in pairs], draft_id__in=drafts
        )
    }
    contexts = check_contexts({draft.account.organisation_id for draft in drafts.values()})
    outcomes = []
    for draft_id, revision_id in pairs:
        draft = drafts.get(draft_id)
        if draft is None:
            outcomes.append(ApprovalTogether(draft_id, "", "", False, NOT_IN_QUEUE))
            continue
        revision = revisions.get(revision_id)
        shown = revision or draft.current_revision
        outcome = functools.partial(
            ApprovalTogether, draft_id, shown.text if shown else "", display_name(draft.author)
        )
        try:
            if revision is None or revision.draft_id != draft.pk:
                raise InvalidInput("That revision is not part of this post.")
            if not is_clean(
                revision.posts,
                contexts[draft.account.organisation_id],
                images=revision.images,
            ):
                raise InvalidState(NOT_CLEAN)
            review_approve(
                draft=draft,
                by=by,
                revision=revision,
                scores=cleaned,
                approved_with=len(pairs) - 1,
            )
        except DomainError as refusal:
            outcomes.append(outcome(False, refusal.message))
        else:
            outcomes.append(
                outcome(
                    True,
                    "Approved: it is in the trainee's practice timeline only."
                    if draft.is_sandbox_only
                    else "Approved: it is queued for publication.",
                )
            )
    return outcomes


def _clean_publish_at(publish_at: dt.datetime | None, *, draft: Draft) -> None:
    if publish_at is None:
        return
    if draft.is_sandbox_only:
        raise InvalidInput(
            "This is a practice response: approving posts it in the trainee's practice "
            "timeline straight away, so it cannot be scheduled. Clear the time and approve.",
            field="publish_at",
        )
    now = timezone.now()
    if publish_at <= now:
        raise InvalidInput(
            "Choose a time in the future, or leave the time empty to publish now.",
            field="publish_at",
        )
    if publish_at > now + MAX_SCHEDULE_AHEAD:
        raise InvalidInput(
            "Choose a time within the next 90 days: a post scheduled further ahead is "
            "likely to be out of date by then.",
            field="publish_at",
        )


def _post_in_sandbox(draft: Draft, revision: DraftRevision) -> None:
    """An approved response to a simulated post goes into the trainee's practice timeline
    as their reply or quote, never to the real account (the post it answers is not there).
    No Publication: nothing for the publisher, the sweep or a retry to pick up."""
    from sandbox import services as sandbox_services

    sandbox_services.practice_post(
        author=draft.author,
        account=draft.account,
        text=revision.text,
        thread=revision.thread,
        in_reply_to=draft.in_reply_to,
        quote_of=draft.quote_of,
        draft=draft,
    )


def check_override(*, draft: Draft, by: User, reason: str) -> CheckOverride:
    """A coach lets the current revision through its blocking findings (the trainee asked,
    say, because the "NHS number" is a published helpline). The trainee can then submit."""
    access.require_reviewer_of(draft, by)
    reason = clean_reason(reason, missing="Say why this is safe to post; it goes in the audit log.")
    revision = draft.current_revision
    assert revision is not None
    blocked = blocking_codes(revision)
    if not blocked:
        raise InvalidState("Nothing in this revision is blocked.")
    with transaction.atomic():
        return _record_override(revision, by=by, codes=blocked, reason=reason)


def _record_override(
    revision: DraftRevision, *, by: User, codes: list[str], reason: str
) -> CheckOverride:
    override = CheckOverride.objects.create(revision=revision, coach=by, codes=codes, reason=reason)
    _audit(
        AuditEvent.Action.CHECK_OVERRIDDEN,
        organisation_id=revision.draft.account.organisation_id,
        actor=by,
        account=revision.draft.account,
        revision=revision,
        detail=f"{check_titles(codes)}: {reason}",
    )
    _return_to_full_review(
        trainee_id=revision.draft.author_id,
        organisation_id=revision.draft.account.organisation_id,
        by=by,
        reason=f"{display_name(by)} let one of your posts through the risk checks: "
        f"{check_titles(codes)}.",
        revision=revision,
    )
    return override


def _decide_with_note(
    *,
    draft: Draft,
    by: User,
    action: str,
    decision: str,
    note: str,
    revision: DraftRevision | None,
    scores: Mapping[str, object] | None,
    tags: Iterable[str],
    anchored_notes: Sequence[AnchoredNote],
    suggestion: Sequence[str],
) -> Review:
    """Request changes or reject: the trainee must be told why, in a note."""
    feedback = _clean_feedback(
        draft=draft,
        revision=revision,
        decision=decision,
        note=note,
        note_required=True,
        scores=scores,
        tags=tags,
        anchored_notes=anchored_notes,
        suggestion=suggestion,
    )
    with transaction.atomic():
        return _decide(draft=draft, by=by, action=action, decision=decision, feedback=feedback)


def review_request_changes(
    *,
    draft: Draft,
    by: User,
    note: str,
    revision: DraftRevision | None = None,
    scores: Mapping[str, object] | None = None,
    tags: Iterable[str] = (),
    anchored_notes: Sequence[AnchoredNote] = (),
    suggestion: Sequence[str] = (),
) -> Review:
    return _decide_with_note(
        draft=draft,
        by=by,
        action="request_changes",
        decision=Review.Decision.REQUEST_CHANGES,
        note=note,
        revision=revision,
        scores=scores,
        tags=tags,
        anchored_notes=anchored_notes,
        suggestion=suggestion,
    )


def review_reject(
    *,
    draft: Draft,
    by: User,
    note: str,
    revision: DraftRevision | None = None,
    scores: Mapping[str, object] | None = None,
    tags: Iterable[str] = (),
    anchored_notes: Sequence[AnchoredNote] = (),
    suggestion: Sequence[str] = (),
) -> Review:
    return _decide_with_note(
        draft=draft,
        by=by,
        action="reject",
        decision=Review.Decision.REJECT,
        note=note,
        revision=revision,
        scores=scores,
        tags=tags,
        anchored_notes=anchored_notes,
        suggestion=suggestion,
    )


def review_suggestion_accept(*, review: Review, by: User) -> Draft:
    """The trainee takes the coach's suggested rewrite as their next revision, in one
    click. It lives here, not in sandbox.services, because it reads and marks a Review
    (coaching's record) and coaching depends on sandbox, never the reverse; the revision
    itself is made by sandbox.services.draft_edit, the one way a post's text changes."""
    draft = review.draft
    access.require_author(draft, by)
    if not review.suggestion:
        raise InvalidState("This review has no suggested rewrite to use.")
    with transaction.atomic():
        # The draft's lock orders this against edits and a second click.
        locked = Draft.objects.select_for_update().get(pk=draft.pk)
        if Review.objects.filter(pk=review.pk, suggestion_accepted_at__isnull=False).exists():
            raise InvalidState("You have already used this suggestion.")
        if locked.current_revision_id != review.revision_id:
            raise InvalidState(
                "You have changed the post since your coach suggested this rewrite, so using "
                "it now would undo your newer changes. Copy the parts you want into the box "
                "instead."
            )
        if locked.status not in Draft.EDITABLE_STATUSES:
            raise InvalidState(
                f"This post is {locked.get_status_display().lower()} and can no longer be "
                "changed, so the rewrite cannot be used. Start a new draft with it instead."
            )
        # The rewrite changes words, not pictures: each post keeps its images and alt text.
        images = review.revision.images_by_post
        dropped = [n for n, post in enumerate(images[len(review.suggestion) :], start=1) if post]
        if dropped:
            raise InvalidState(
                f"The rewrite leaves out post {len(review.suggestion) + dropped[0]}, which has "
                "images, so using it would lose them. Copy the words you want into the box "
                "instead."
            )
        Review.objects.filter(pk=review.pk, suggestion_accepted_at__isnull=True).update(
            suggestion_accepted_at=timezone.now()
        )
        return sandbox_services.draft_edit(
            draft=locked,
            by=by,
            text=review.suggestion[0],
            thread=review.suggestion[1:],
            images=images[: len(review.suggestion)],
        )
