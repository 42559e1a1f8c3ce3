"""Every state change of a draft after authoring, and of its publication.

This module holds the draft lifecycle (TRANSITIONS) and is the only writer of
``Draft.status`` and ``Publication.status``. Each change is a conditional UPDATE
("move from these states to that one"): when two people act at once, exactly one
update matches and the other gets a clear message instead of a double effect.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import html
import logging
import random
import re
import secrets
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import partial

import httpx
from django.conf import settings
from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.core.validators import URLValidator
from django.db import IntegrityError, transaction
from django.db.models import Exists, F, OuterRef, Q
from django.utils import timezone

from coaching import autonomy, notifications
from coaching.models import (
    NOTE_MAX_LENGTH,
    RUBRIC,
    AuditEvent,
    CheckOverride,
    FeedbackNote,
    Publication,
    PublishAttempt,
    PublishingStop,
    Review,
)
from coaching.publishing import BLUESKY_DEFAULT_SERVICE, publisher_for, x_oauth
from coaching.publishing.base import (
    AuthFailed,
    Media,
    NotSent,
    OutcomeUnknown,
    Publisher,
    PublishError,
    RateLimited,
    Rejected,
)
from coaching.selectors import blocking_codes, check_titles, claim_is_live
from sandbox import outbound
from sandbox import services as sandbox_services
from sandbox.errors import InvalidInput, InvalidState, NotAllowed
from sandbox.http import id_from
from sandbox.models import Draft, DraftRevision, Membership, PostImage, WorkplaceAccount
from sandbox.selectors import REVIEWER_ROLES, display_name, role_in

logger = logging.getLogger(__name__)

S = Draft.Status
P = Publication.Status

# The draft lifecycle: action -> (states it may start from, state it ends in).
TRANSITIONS: dict[str, tuple[frozenset[str], str]] = {
    "submit": (frozenset({S.DRAFT}), S.SUBMITTED),
    "claim": (frozenset({S.SUBMITTED}), S.IN_REVIEW),
    "approve": (frozenset({S.SUBMITTED, S.IN_REVIEW}), S.APPROVED),
    "request_changes": (frozenset({S.SUBMITTED, S.IN_REVIEW}), S.CHANGES_REQUESTED),
    "reject": (frozenset({S.SUBMITTED, S.IN_REVIEW}), S.REJECTED),
    # An edit after changes were requested puts the draft back on the trainee's desk.
    "revise": (frozenset({S.CHANGES_REQUESTED}), S.DRAFT),
    # An edit after approval voids it: the new text goes back to the queue.
    "void_approval": (frozenset({S.APPROVED}), S.SUBMITTED),
    # A coach steps in during a spot-check pass's delay: the post goes to the queue.
    "hold": (frozenset({S.APPROVED}), S.SUBMITTED),
    "withdraw": (
        frozenset({S.DRAFT, S.SUBMITTED, S.IN_REVIEW, S.CHANGES_REQUESTED, S.APPROVED}),
        S.WITHDRAWN,
    ),
}

_ACTION_WORDS = {
    "submit": "submitted",
    "claim": "picked up for review",
    "approve": "approved",
    "request_changes": "sent back for changes",
    "reject": "rejected",
    "revise": "revised",
    "void_approval": "re-queued",
    "hold": "held for review",
    "withdraw": "withdrawn",
}


def _move(
    draft: Draft,
    action: str,
    *,
    revision_id: int | None = None,
    claim_for: User | None = None,
    **fields: object,
) -> None:
    """Apply one lifecycle action with a conditional update, or explain why not. With
    ``claim_for``, only if no other coach holds a live claim on the draft."""
    allowed_from, target = TRANSITIONS[action]
    rows = Draft.objects.filter(pk=draft.pk, status__in=allowed_from)
    if revision_id is not None:
        rows = rows.filter(current_revision_id=revision_id)
    now = timezone.now()
    if claim_for is not None:
        # In the same UPDATE, so a takeover cannot land between a check and the write.
        rows = rows.filter(_claim_free_for(claim_for, now))
    if rows.update(status=target, updated_at=now, **fields) != 1:
        draft.refresh_from_db()
        if revision_id is not None and draft.current_revision_id != revision_id:
            raise InvalidState(
                "The trainee changed this draft while you were looking at it. "
                "Read the new text before deciding."
            )
        if claim_for is not None and draft.status in allowed_from:
            raise _claim_refusal(draft, outcome="Your decision was not recorded")
        raise InvalidState(
            f"This draft cannot be {_ACTION_WORDS[action]}: it is "
            f"{draft.get_status_display().lower()}."
        )
    draft.status = target
    draft.updated_at = now
    for name, value in fields.items():
        setattr(draft, name, value)


def _require_author(draft: Draft, by: User) -> None:
    if draft.author_id != by.pk:
        raise NotAllowed("Only the author of a draft can do that.")


def _require_reviewer(draft: Draft, by: User) -> None:
    if role_in(by, draft.account.organisation_id) not in REVIEWER_ROLES:
        raise NotAllowed("Only a coach of this organisation can review its drafts.")
    if draft.author_id == by.pk:
        raise NotAllowed("You cannot review your own draft: ask another coach.")


# Authoring-side moves -------------------------------------------------------------------


def draft_submit(*, draft: Draft, by: User) -> Draft:
    _require_author(draft, by)
    # Check the revision in the database, not the caller's copy, and submit only if it is
    # still the current one: an edit in another tab cannot slip past the checks.
    draft.refresh_from_db(fields=["current_revision"])
    revision = draft.current_revision
    assert revision is not None
    blocked = blocking_codes(revision)
    if blocked:
        # Any block finding ends spot-check mode, even on a send that is refused.
        _return_to_full_review(
            trainee_id=draft.author_id,
            organisation_id=draft.account.organisation_id,
            by=None,
            reason=f"A post you tried to send had a {check_titles(blocked)}.",
            revision=revision,
        )
        raise InvalidState(
            f"This post cannot go for review yet: it has a {check_titles(blocked)}. "
            "Fix it (the highlights show where), or ask your coach to let it through "
            "with a reason."
        )
    with transaction.atomic():
        _move(
            draft,
            "submit",
            revision_id=revision.pk,
            submitted_at=timezone.now(),
            claimed_by=None,
            claimed_at=None,
        )
        # Set once: the trainee's record measures time to approval from the first try.
        if Draft.objects.filter(pk=draft.pk, first_submitted_at__isnull=True).update(
            first_submitted_at=draft.submitted_at
        ):
            draft.first_submitted_at = draft.submitted_at
        # Sandbox-only replies never publish, so there is nothing to pass: a coach reads them.
        if not draft.is_sandbox_only:
            _spot_check(draft, revision)
        notifications.submission_received(draft=draft)
    return draft


def draft_withdraw(*, draft: Draft, by: User) -> Draft:
    """The trainee abandons the draft. A queued publication is cancelled with it."""
    _require_author(draft, by)
    with transaction.atomic():
        # Decide from the status now, not the page's: a coach may have approved since.
        current = Draft.objects.select_for_update().get(pk=draft.pk)
        if current.status == S.APPROVED and current.is_sandbox_only:
            raise InvalidState(
                "This response is already posted in your practice timeline, so it cannot be "
                "withdrawn. Your coach can still see it in the debrief."
            )
        if current.status == S.APPROVED:
            _cancel_queued_publication(draft, reason="The trainee withdrew the post.")
        _move(draft, "withdraw", claimed_by=None, claimed_at=None)
    return draft


def draft_revised(*, draft: Draft, revision: DraftRevision) -> None:
    """Called by sandbox.services.draft_edit, inside its transaction, with the draft locked."""
    if draft.status == S.CHANGES_REQUESTED:
        _move(draft, "revise", current_revision=revision)
    elif draft.status == S.APPROVED and draft.is_sandbox_only:
        raise InvalidState(
            "This response is already posted in your practice timeline, so it cannot be "
            "changed. Write a new response to the post instead."
        )
    elif draft.status == S.APPROVED:
        _cancel_queued_publication(draft, reason="The draft was edited after approval.")
        _move(
            draft,
            "void_approval",
            current_revision=revision,
            submitted_at=timezone.now(),
            claimed_by=None,
            claimed_at=None,
        )
        # Back in the queue with new text: the coaches hear of it as of a new submission.
        notifications.submission_received(draft=draft)
    else:
        Draft.objects.filter(pk=draft.pk).update(
            current_revision=revision, updated_at=timezone.now()
        )


def _cancel_queued_publication(draft: Draft, *, reason: str) -> None:
    # Races with the worker's claim (queued -> sending): whichever update lands first
    # wins, so either the post is cancelled or it is already on its way and we refuse.
    # Only a publication with nothing live yet: parts go out in order, so an empty
    # remote_id means no post of the thread is on the account.
    Publication.objects.filter(draft=draft, status=P.QUEUED, remote_id="").update(
        status=P.CANCELLED, error=reason, updated_at=timezone.now()
    )
    if Publication.objects.filter(draft=draft, status__in=Publication.ACTIVE_STATUSES).exists():
        raise InvalidState(
            "This post is already being published (or part of it is live), so it can no "
            "longer be changed. Ask your coach to retract it, or start a new draft."
        )


# Review -----------------------------------------------------------------------------------
#
# A claim says who is reviewing a draft. It lives CLAIM_STALE_AFTER from its last sign
# of life (``claimed_at``, renewed by the open review page); after that another coach may
# take it over. While a claim is live, only its holder can decide.


def _clock(moment: dt.datetime | None) -> str:
    return timezone.localtime(moment).strftime("%H:%M") if moment else "earlier"


def _claim_free_for(by: User, now: dt.datetime) -> Q:
    """Rows where no other coach holds a live claim: unclaimed, ``by``'s, or stale (the
    rule of selectors.claim_is_live, as a condition for a conditional UPDATE)."""
    return (
        Q(claimed_by__isnull=True)
        | Q(claimed_by=by)
        | Q(claimed_at__lt=now - settings.CLAIM_STALE_AFTER)
    )


def _claim_refusal(draft: Draft, *, outcome: str) -> InvalidState:
    holder = draft.claimed_by
    taken = (
        AuditEvent.objects.filter(
            draft=draft, action=AuditEvent.Action.CLAIM_TAKEN_OVER, actor=holder
        )
        .order_by("-created_at")
        .first()
    )
    # Only a claimed draft is refused, so there is a holder to name.
    name = display_name(holder) if holder else "Another coach"
    if taken is not None:
        who = f"{name} took over this review at {_clock(taken.created_at)}"
    else:
        who = f"{name} is reviewing this post (last active at {_clock(draft.claimed_at)})"
    minutes = int(settings.CLAIM_STALE_AFTER.total_seconds() // 60)
    return InvalidState(
        f"{who}. {outcome}. You can take the review over if they are inactive for "
        f"{minutes} minutes."
    )


def review_claim(*, draft: Draft, by: User) -> Draft:
    """Start reviewing a waiting draft, or take over a review whose claim went stale."""
    _require_reviewer(draft, by)
    now = timezone.now()
    draft.refresh_from_db(fields=["status", "claimed_by", "claimed_at"])
    if draft.status == S.SUBMITTED:
        try:
            _move(draft, "claim", claimed_by=by, claimed_at=now)
            return draft
        except InvalidState:
            pass  # another coach claimed it a moment ago (draft is re-read): say who, below
    if draft.status != S.IN_REVIEW:
        raise InvalidState(
            f"This draft cannot be picked up for review: it is "
            f"{draft.get_status_display().lower()}."
        )
    holder_id, held_since = draft.claimed_by_id, draft.claimed_at
    if holder_id not in (None, by.pk) and claim_is_live(draft, now):
        raise _claim_refusal(draft, outcome="Only they can decide on it for now")
    previous = draft.claimed_by
    with transaction.atomic():
        # Compare and set on the claim as read: of two coaches taking over at once, and
        # of a takeover racing the holder's decision, exactly one UPDATE matches.
        taken = Draft.objects.filter(
            pk=draft.pk, status=S.IN_REVIEW, claimed_by_id=holder_id, claimed_at=held_since
        ).update(claimed_by=by, claimed_at=now)
        if taken != 1:
            draft.refresh_from_db()
            if draft.status != S.IN_REVIEW:
                raise InvalidState(
                    f"This draft was {draft.get_status_display().lower()} a moment ago."
                )
            raise _claim_refusal(draft, outcome="Only they can decide on it for now")
        if previous is not None and previous.pk != by.pk:
            _audit(
                AuditEvent.Action.CLAIM_TAKEN_OVER,
                organisation_id=draft.account.organisation_id,
                actor=by,
                account=draft.account,
                revision=draft.current_revision,
                detail=f"From {display_name(previous)}, inactive since {_clock(held_since)}.",
            )
    draft.claimed_by, draft.claimed_at = by, now
    return draft


def review_claim_renew(*, draft: Draft, by: User) -> Draft:
    """The open review page's sign of life: keeps its coach's claim from going stale.
    Never takes a claim back; a coach whose review was taken over is told so."""
    _require_reviewer(draft, by)
    now = timezone.now()
    renewed = Draft.objects.filter(pk=draft.pk, status=S.IN_REVIEW, claimed_by=by).update(
        claimed_at=now
    )
    draft.refresh_from_db()
    if renewed:
        return draft
    if draft.status != S.IN_REVIEW or draft.claimed_by_id is None:
        raise InvalidState(
            f"Nobody is reviewing this post now: it is {draft.get_status_display().lower()}."
        )
    raise _claim_refusal(draft, outcome="Your decision will not be recorded while they are")


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
    for name, (title, levels) in RUBRIC.items():
        raw = str(scores.get(name) or "").strip()
        if not raw:
            missing.append(name)
            continue
        value = id_from(raw)  # not int(): '²' passes isdigit(), then int() refuses it
        if value not in levels:
            raise InvalidInput(
                f"Score {title.lower()} from 1 to 4: “{raw[:20]}” is not one of those.",
                field=name,
            )
        cleaned[name] = value
    if missing:
        titles = [RUBRIC[name][0].lower() for name in missing]
        listed = titles[0] if len(titles) == 1 else ", ".join(titles[:-1]) + " and " + titles[-1]
        raise InvalidInput(
            f"Score the post for {listed} (1 to 4) before you decide.", field=missing[0]
        )
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
    cleaned: list[dict[str, object]] = []
    for number, note in enumerate(notes, start=1):
        if not note.body.strip() and not note.quote.strip() and note.start is None:
            continue  # an unused box
        which = f"Note {number} on particular words"
        if not note.body.strip():
            raise InvalidInput(f"{which}: write what you want to say about those words.")
        body = _clean_note(note.body, required=True, label=which)
        index, start, end = _locate(note, posts, which)
        cleaned.append(
            {
                "body": body,
                "post_index": index,
                "anchor_start": start,
                "anchor_end": end,
                "quote": posts[index][start:end],
            }
        )
    return cleaned


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
    note = _clean_note(note, required=False)
    anchored = _clean_anchored(anchored_notes, posts)
    if note_required and not note and not anchored:
        _clean_note(note, required=True)  # raises the "write a note" message
    return _Feedback(
        revision=revision,
        note=note,
        scores=_clean_scores(scores),
        tags=_clean_tags(tags),
        anchored=anchored,
        suggestion=_clean_suggestion(suggestion, posts, decision),
    )


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
) -> Review:
    """Record a decision on one exact revision. Runs inside the caller's transaction."""
    _require_reviewer(draft, by)
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
        + (f" Tags: {', '.join(feedback.tags)}." if feedback.tags else ""),
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
) -> Review:
    """Approve one exact revision and put it in the outbox, in one transaction. A revision
    with blocking risk findings needs the coach's reason for overriding them."""
    feedback = _clean_feedback(
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
    override_reason = override_reason.strip()
    blocked = blocking_codes(feedback.revision)
    if blocked and not override_reason:
        raise InvalidInput(
            f"This post has a {check_titles(blocked)}, which blocks it. To approve it anyway, "
            "say why it is safe in 'Reason for overriding'.",
            field="override_reason",
        )
    if publish_at is not None and draft.is_sandbox_only:
        raise InvalidInput(
            "This is a practice response: approving posts it in the trainee's practice "
            "timeline straight away, so it cannot be scheduled. Clear the time and approve.",
            field="publish_at",
        )
    now = timezone.now()
    if publish_at is not None and publish_at <= now:
        raise InvalidInput(
            "Choose a time in the future, or leave the time empty to publish now.",
            field="publish_at",
        )
    if publish_at is not None and publish_at > now + MAX_SCHEDULE_AHEAD:
        raise InvalidInput(
            "Choose a time within the next 90 days: a post scheduled further ahead is "
            "likely to be out of date by then.",
            field="publish_at",
        )
    with transaction.atomic():
        if blocked:
            # Recorded before the decision, so the decision's effect on the trainee's
            # review mode (earned autonomy) sees the override.
            _require_reviewer(draft, by)
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
        )
        if draft.is_sandbox_only:
            _post_in_sandbox(draft, review.revision)
        else:
            _outbox(review, publish_at=publish_at)
    return review


def _outbox(review: Review, *, publish_at: dt.datetime | None) -> Publication:
    """The approved revision's publication row, written in the approval's transaction."""
    publication = Publication.objects.create(
        draft=review.draft,
        revision=review.revision,
        approval=review,
        account=review.draft.account,
        text=review.revision.text,
        parts=[
            {"text": text, "remote_id": "", "remote_url": "", "images": images}
            for text, images in zip(
                review.revision.posts, review.revision.images_by_post, strict=True
            )
        ],
        content_hash=review.content_hash,
        publish_at=publish_at,
    )
    if publish_at is None:
        _enqueue(publication)
    # A scheduled post is started by the sweep when it falls due: no long countdowns,
    # which Redis would redeliver after its visibility timeout.
    return publication


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
    _require_reviewer(draft, by)
    reason = (reason or "").strip()
    if not reason:
        raise InvalidInput(
            "Say why this is safe to post; it goes in the audit log.", field="reason"
        )
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
    if len(reason) > 500:
        raise InvalidInput("Keep the reason under 500 characters.", field="override_reason")
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
        reason=f"{display_name(by)} let a {check_titles(codes)} through on one of your posts.",
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
    _require_author(draft, by)
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


# Earned autonomy (the rule: coaching.autonomy) ----------------------------------------------

Mode = Membership.ReviewMode


def _membership(trainee_id: int, organisation_id: int) -> Membership | None:
    return (
        Membership.objects.select_related("organisation", "user")
        .filter(user_id=trainee_id, organisation_id=organisation_id)
        .first()
    )


def _change_review_mode(
    membership: Membership,
    *,
    to: str,
    by: User | None,
    reason: str,
    revision: DraftRevision | None = None,
) -> bool:
    """Move the trainee to ``to`` if they are not already there, and audit it. False when
    someone else moved them first (the conditional update matched nothing)."""
    with transaction.atomic():
        changed = (
            Membership.objects.filter(pk=membership.pk)
            .exclude(review_mode=to)
            .update(review_mode=to, spot_check_count=0)
        )
        if not changed:
            return False
        membership.review_mode = to
        membership.spot_check_count = 0
        heading = "Moved to spot-check" if to == Mode.SPOT_CHECK else "Back to full review"
        _audit(
            AuditEvent.Action.MODE_CHANGED,
            organisation_id=membership.organisation_id,
            actor=by,
            trainee=membership.user,
            revision=revision,
            detail=f"{heading}: {reason}",
        )
        notifications.review_mode_changed(trainee=membership.user, heading=heading, reason=reason)
    return True


def _return_to_full_review(
    *,
    trainee_id: int,
    organisation_id: int,
    by: User | None,
    reason: str,
    revision: DraftRevision | None = None,
) -> None:
    """Spot-check -> full review. Posts passed by spot-check and still waiting are held
    too, so a coach reads them: whatever ended the trust may be in them as well."""
    membership = _membership(trainee_id, organisation_id)
    if membership is None or membership.review_mode != Mode.SPOT_CHECK:
        return
    if not _change_review_mode(membership, to=Mode.FULL, by=by, reason=reason, revision=revision):
        return
    waiting = Publication.objects.filter(
        draft__author_id=trainee_id,
        account__organisation_id=organisation_id,
        status=P.QUEUED,
        approval__reviewer__isnull=True,
    ).select_related("draft")
    for publication in waiting:
        # Losing the race to the worker leaves that one post going out, as it would have;
        # a draft edited meanwhile has had its pass voided already.
        with contextlib.suppress(InvalidState):
            _hold(publication, reason="Held for review: the trainee is back in full review.")


def _hold(publication: Publication, *, reason: str) -> bool:
    """Cancel a spot-check pass's publication and put its draft back in the queue, unless
    the worker has claimed it (queued -> sending) first."""
    with transaction.atomic():
        cancelled = Publication.objects.filter(
            pk=publication.pk, status=P.QUEUED, remote_id=""
        ).update(status=P.CANCELLED, error=reason, updated_at=timezone.now())
        if not cancelled:
            return False
        _move(
            publication.draft,
            "hold",
            revision_id=publication.revision_id,
            submitted_at=timezone.now(),
            claimed_by=None,
            claimed_at=None,
        )
        # It is in the queue now: the coaches who were told it would publish hear of it.
        notifications.submission_received(draft=publication.draft)
    return True


def _review_mode_after_decision(review: Review, *, by: User) -> None:
    """A coach has decided on a trainee's post: a request for changes or a rejection ends
    spot-check mode; an approval may complete the streak that earns it."""
    draft = review.draft
    membership = _membership(draft.author_id, draft.account.organisation_id)
    if membership is None:
        return
    if membership.review_mode == Mode.SPOT_CHECK:
        if review.decision != Review.Decision.APPROVE:
            rejected = review.decision == Review.Decision.REJECT
            did = "rejected" if rejected else "asked for changes to"
            _return_to_full_review(
                trainee_id=draft.author_id,
                organisation_id=membership.organisation_id,
                by=by,
                reason=f"{display_name(by)} {did} one of your posts.",
                revision=review.revision,
            )
        return
    organisation = membership.organisation
    if review.decision != Review.Decision.APPROVE or not autonomy.rule_is_on(organisation):
        return
    earned = autonomy.current_streak(membership)
    if autonomy.has_earned_spot_check(organisation, earned):
        _change_review_mode(
            membership,
            to=Mode.SPOT_CHECK,
            by=None,
            reason=(
                f"{earned} first-pass approvals in a row, each scored "
                f"{organisation.autonomy_min_score} or more for safe, person-centred and "
                "effective, with no blocking findings."
            ),
            revision=review.revision,
        )


def _spot_check(draft: Draft, revision: DraftRevision) -> None:
    """A submission in spot-check mode: 1 in N goes to the queue as usual; the others are
    passed now and publish after the delay unless a coach holds them."""
    membership = _membership(draft.author_id, draft.account.organisation_id)
    if membership is None or membership.review_mode != Mode.SPOT_CHECK:
        return
    organisation = membership.organisation
    if not autonomy.rule_is_on(organisation):
        _change_review_mode(
            membership,
            to=Mode.FULL,
            by=None,
            reason="your organisation turned earned autonomy off, so a coach reads every post.",
            revision=revision,
        )
        return
    # A conditional increment: two posts sent at once get different numbers, and none is
    # counted if a coach returned the trainee to full review a moment ago.
    counted = Membership.objects.filter(pk=membership.pk, review_mode=Mode.SPOT_CHECK).update(
        spot_check_count=F("spot_check_count") + 1
    )
    if not counted:
        return
    # Our update holds the row's lock until commit, so this reads our own number.
    count = Membership.objects.values_list("spot_check_count", flat=True).get(pk=membership.pk)
    if autonomy.is_sampled(count, every=organisation.spot_check_every):
        return
    publish_at = timezone.now() + dt.timedelta(minutes=organisation.spot_check_delay_minutes)
    _move(draft, "approve", revision_id=revision.pk)
    review = Review.objects.create(
        draft=draft,
        revision=revision,
        reviewer=None,
        decision=Review.Decision.APPROVE,
        content_hash=revision.content_hash,
    )
    publication = _outbox(review, publish_at=publish_at)
    _audit(
        AuditEvent.Action.SPOT_CHECK_PASSED,
        organisation_id=organisation.pk,
        publication=publication,
        trainee=draft.author,
        detail=(
            f"Post {count} in spot-check mode; publishes at "
            f"{timezone.localtime(publish_at):%H:%M} unless a coach steps in."
        ),
    )


def spot_check_hold(*, draft: Draft, by: User) -> Draft:
    """A coach steps in during a spot-check pass's delay: the post goes to the queue
    instead of publishing, and the trainee returns to full review."""
    _require_reviewer(draft, by)
    publication = (
        Publication.objects.filter(draft=draft, approval__reviewer__isnull=True)
        .select_related("draft")
        .order_by("-created_at")
        .first()
    )
    if publication is None or publication.status not in Publication.ACTIVE_STATUSES:
        raise InvalidState(
            "Only a post passed by spot-check and still waiting to publish can be held."
        )
    with transaction.atomic():
        # The worker may claim it between our read and this update: the update decides.
        if publication.status != P.QUEUED or not _hold(
            publication, reason=f"Held for review by {display_name(by)}."
        ):
            raise InvalidState(
                "Too late to hold this post: it started publishing before you pressed the "
                "button. If it must come down, retract it once it is live."
            )
        draft.refresh_from_db()
        _return_to_full_review(
            trainee_id=draft.author_id,
            organisation_id=draft.account.organisation_id,
            by=by,
            reason=f"{display_name(by)} held one of your posts for review before it published.",
            revision=draft.current_revision,
        )
    return draft


def review_mode_set_full(*, trainee: User, organisation_id: int, by: User, reason: str) -> None:
    """A coach returns a trainee to full review by hand."""
    if by.pk == trainee.pk:
        raise NotAllowed("You cannot change how your own posts are reviewed. Ask your coach.")
    if role_in(by, organisation_id) not in REVIEWER_ROLES:
        raise NotAllowed("Only a coach of this organisation can change how posts are reviewed.")
    reason = (reason or "").strip()
    if not reason:
        raise InvalidInput(
            "Say why, so the trainee knows; it goes in the audit log.", field="reason"
        )
    if len(reason) > 500:
        raise InvalidInput("Keep the reason under 500 characters.", field="reason")
    membership = _membership(trainee.pk, organisation_id)
    if membership is None or membership.review_mode != Mode.SPOT_CHECK:
        raise InvalidState(f"{display_name(trainee)} is already in full review.")
    _return_to_full_review(
        trainee_id=trainee.pk,
        organisation_id=organisation_id,
        by=by,
        reason=f"{display_name(by)} switched you back: {reason}",
    )


# Publication --------------------------------------------------------------------------------
#
# queued --claim--> sending --> published | failed | unconfirmed | queued (wait or retry)
# unconfirmed --reconcile--> published | failed | queued (rest of a thread)
# failed | unconfirmed --retry (a coach)--> queued;  published --retract--> retracted

MAX_NOT_SENT_TRIES = 8
# How far back reconcile looks: a short look while a post may still be appearing, a long
# one before it may conclude that a post never arrived.
RECONCILE_QUICK_DEPTH = 100
RECONCILE_SEARCH_DEPTH = 1000
TOKEN_REFRESH_MARGIN = dt.timedelta(minutes=5)


def _seconds(value: int) -> dt.timedelta:
    return dt.timedelta(seconds=value)


def _enqueue(publication: Publication, *, countdown: float | None = None) -> None:
    from coaching import tasks

    Publication.objects.filter(pk=publication.pk).update(enqueued_at=timezone.now())
    # robust=True: if the broker is down the approval still stands (it is committed);
    # the beat sweep re-sends the message once Redis is back.
    transaction.on_commit(
        lambda: tasks.publish.apply_async((publication.pk,), countdown=countdown or 0),
        robust=True,
    )


def _due(now: dt.datetime) -> Q:
    return (Q(publish_at__isnull=True) | Q(publish_at__lte=now)) & (
        Q(not_before__isnull=True) | Q(not_before__lte=now)
    )


def _set_publication(publication: Publication, *, expected: str, **fields: object) -> bool:
    """Move a publication on, only if it is still in ``expected`` (the claim pattern)."""
    fields.setdefault("updated_at", timezone.now())
    updated = Publication.objects.filter(pk=publication.pk, status=expected).update(**fields)
    if updated:
        for name, value in fields.items():
            setattr(publication, name, value)
        if fields.get("status") in (P.PUBLISHED, P.FAILED):
            notifications.publication_settled(publication=publication)
    return updated == 1


def _audit(
    action: str,
    *,
    organisation_id: int,
    actor: User | None = None,
    account: WorkplaceAccount | None = None,
    publication: Publication | None = None,
    revision: DraftRevision | None = None,
    trainee: User | None = None,
    detail: str = "",
) -> None:
    revision_id = revision.pk if revision else publication.revision_id if publication else None
    draft_id = revision.draft_id if revision else publication.draft_id if publication else None
    AuditEvent.objects.create(
        organisation_id=organisation_id,
        actor=actor,
        action=action,
        account=account or (publication.account if publication else None),
        draft_id=draft_id,
        revision_id=revision_id,
        publication=publication,
        trainee=trainee,
        detail=detail,
    )


def standing_stop(account: WorkplaceAccount) -> PublishingStop | None:
    return (
        PublishingStop.objects.filter(
            organisation_id=account.organisation_id, ended_at__isnull=True
        )
        .filter(Q(account__isnull=True) | Q(account=account))
        .select_related("started_by", "account")
        .first()
    )


def _publishable(now: dt.datetime) -> Q:
    """Accounts we may send to now: connected, not rate limited, not stopped."""
    stopped = PublishingStop.objects.filter(
        Q(account__isnull=True, organisation_id=OuterRef("account__organisation_id"))
        | Q(account_id=OuterRef("account_id")),
        ended_at__isnull=True,
    )
    return Q(
        Q(account__status=WorkplaceAccount.Status.ACTIVE),
        Q(account__rate_limited_until__isnull=True) | Q(account__rate_limited_until__lte=now),
        ~Exists(stopped),
    )


def publication_send(*, publication_id: int) -> None:
    """Send one publication if it is queued and due. Safe to call any number of times:
    only the caller whose conditional update claims the row goes on to the network."""
    now = timezone.now()
    claimed = (
        Publication.objects.filter(pk=publication_id, status=P.QUEUED)
        .filter(_due(now))
        .update(status=P.SENDING, updated_at=now)
    )
    if claimed != 1:
        return
    publication = Publication.objects.select_related("account", "draft").get(pk=publication_id)
    account = publication.account
    draft = publication.draft

    if draft.is_sandbox_only:
        # Approval never makes a publication for these; if one exists anyway, it stops here.
        _set_publication(
            publication,
            expected=P.SENDING,
            status=P.CANCELLED,
            error="This is a response to a post in a practice timeline; it never goes to "
            "the real account.",
        )
        return
    if draft.status != S.APPROVED or draft.current_revision_id != publication.revision_id:
        _set_publication(
            publication,
            expected=P.SENDING,
            status=P.CANCELLED,
            error="The draft changed after approval, so nothing was published.",
        )
        return
    stop = standing_stop(account)
    if stop is not None:
        _release(publication, _stop_reason(stop))
        return
    if account.rate_limited_until and account.rate_limited_until > now:
        _release(
            publication,
            "The platform's rate limit was reached. Waiting until "
            f"{timezone.localtime(account.rate_limited_until):%H:%M} to try again.",
            not_before=account.rate_limited_until,
        )
        return
    if account.status != WorkplaceAccount.Status.ACTIVE or not account.has_credentials:
        _wait_for_account(publication, account)
        return
    try:
        publisher = _publisher_with_fresh_credentials(account)
    except PublishError as error:
        _handle_failure(publication, error)
        return
    _send_parts(publication, publisher)


def _send_parts(publication: Publication, publisher: Publisher) -> None:
    """Publish each post not yet live, in order, as a reply chain. Each success is saved
    before the next post goes, so a failure part-way resumes from the post that failed."""
    parts = [dict(part) for part in publication.parts]
    start = publication.next_part
    first = len(parts) if start is None else start  # None: every post is already live
    for index in range(first, len(parts)):
        if index > first and (stop := standing_stop(publication.account)) is not None:
            _release(publication, _stop_reason(stop) + _progress(publication))
            return
        try:
            media = _part_media(publication, parts[index])
        except _ImageMissing as missing:
            # Nothing was sent. Publishing without the image would put out a post the
            # coach did not approve, so stop and say so.
            _set_publication(
                publication,
                expected=P.SENDING,
                status=P.FAILED,
                error=f"Post {index + 1}: {missing} Nothing more was sent."
                + _progress(publication),
            )
            return
        images = f" with {len(media)} image{'s' if len(media) != 1 else ''}" if media else ""
        attempt = PublishAttempt.objects.create(
            publication=publication,
            part=index,
            request=f"{publication.account.get_platform_display()}: create post {index + 1} "
            f"of {len(parts)}{images}",
        )
        started = time.monotonic()
        # Outside any transaction: the claim and the attempt row are committed, so a crash
        # here leaves a visible "pending" attempt that the sweep turns into "unconfirmed".
        try:
            post = publisher.publish(
                text=parts[index]["text"],
                idempotency_key=f"sandpit-publication-{publication.pk}-{index}",
                reply_to=parts[index - 1]["remote_id"] if index else None,
                media=media,
            )
        except PublishError as error:
            _record_failure(publication, attempt, started, error)
            return
        except Exception as error:
            # A bug or an unexpected library error mid-request: the post may have gone out.
            logger.exception("Unexpected error publishing %s", publication.pk)
            unknown = OutcomeUnknown(f"Unexpected error while publishing: {error}")
            _record_failure(publication, attempt, started, unknown)
            return
        finally:
            _save_session(publication.account, publisher)
        parts[index].update(remote_id=post.remote_id, remote_url=post.remote_url)
        # The attempt's success and the live part are saved together: a crash can never
        # leave a finished attempt beside a row that does not know its post is live.
        with transaction.atomic():
            _finish_attempt(attempt, started, status_code=post.status_code)
            still_ours = _set_publication(
                publication,
                expected=P.SENDING,
                parts=parts,
                remote_id=parts[0]["remote_id"],
                remote_url=parts[0]["remote_url"],
            )
        if not still_ours:
            return  # the sweep settled it meanwhile; it is not ours to carry on
    _set_publication(
        publication,
        expected=P.SENDING,
        status=P.PUBLISHED,
        published_at=timezone.now(),
        not_before=None,
        error="",
    )


class _ImageMissing(Exception):
    pass


def _part_media(publication: Publication, part: dict[str, object]) -> list[Media]:
    """The images of one post of the publication, read from storage, in order. Only the
    publication's own draft's images can be found: an id from anywhere else is missing."""
    entries = part.get("images") or []
    assert isinstance(entries, list)
    if not entries:
        return []
    ids = [int(entry["id"]) for entry in entries]
    found = PostImage.objects.filter(draft_id=publication.draft_id, pk__in=ids).in_bulk()
    media = []
    for number, entry in enumerate(entries, start=1):
        image = found.get(int(entry["id"]))
        if image is None:
            raise _ImageMissing(f"image {number} is no longer attached to the draft.")
        try:
            with image.file.open("rb") as file:
                data = file.read()
        except OSError as exc:
            logger.exception("Could not read image %s of publication %s", image.pk, publication.pk)
            raise _ImageMissing(f"image {number} could not be read from storage.") from exc
        media.append(
            Media(
                data=data,
                content_type=image.content_type,
                alt=str(entry.get("alt") or ""),
                filename=image.file.name.rsplit("/", 1)[-1],
                width=image.width,
                height=image.height,
            )
        )
    return media


def _record_failure(
    publication: Publication, attempt: PublishAttempt, started: float, error: PublishError
) -> None:
    with transaction.atomic():
        _finish_attempt(attempt, started, error=error)
        _handle_failure(publication, error)


def _release(
    publication: Publication, reason: str, *, not_before: dt.datetime | None = None
) -> None:
    """Hand a claimed publication back to the queue without touching the network."""
    _set_publication(
        publication, expected=P.SENDING, status=P.QUEUED, error=reason, not_before=not_before
    )


def _stop_reason(stop: PublishingStop) -> str:
    who = display_name(stop.started_by)
    scope = f"@{stop.account.handle}" if stop.account else "every account of the organisation"
    return f"Waiting: {who} paused publishing to {scope}: {stop.reason}"


def _publisher_with_fresh_credentials(account: WorkplaceAccount) -> Publisher:
    """X access tokens last two hours: refresh a little before expiry. The refresh token
    rotates, so the new pair is saved only if nobody else refreshed first."""
    expires = account.token_expires_at
    if (
        account.platform == WorkplaceAccount.Platform.X
        and account.refresh_token
        and expires is not None
        and expires - timezone.now() < TOKEN_REFRESH_MARGIN
    ):
        try:
            tokens = x_oauth.refresh(
                base_url=account.api_base_url or settings.X_API_BASE_URL,
                client_id=settings.X_CLIENT_ID,
                client_secret=settings.X_CLIENT_SECRET,
                refresh_token=account.refresh_token,
                timeout=_timeout(),
            )
        except AuthFailed:
            # Two workers may refresh at once with the same single-use token: if the other
            # one already saved a new pair, use it rather than asking for a reconnect.
            fresh = WorkplaceAccount.objects.get(pk=account.pk)
            if fresh.token_expires_at != account.token_expires_at:
                return publisher_for(fresh)
            raise
        except PublishError as error:
            # Only the token endpoint was involved: no post went anywhere.
            raise NotSent(f"Could not refresh the X token: {error}") from error
        saved = WorkplaceAccount.objects.filter(
            pk=account.pk, token_expires_at=account.token_expires_at
        ).update(
            # update() encrypts through the field, as save() does.
            access_token=tokens.access_token,
            refresh_token=tokens.refresh_token,
            token_expires_at=tokens.expires_at,
        )
        account.refresh_from_db()
        if not saved:
            logger.info("Another worker refreshed @%s first; using its token", account.handle)
    return publisher_for(account)


def _save_session(account: WorkplaceAccount, publisher: Publisher) -> None:
    # Bluesky hands back a session we reuse, so we do not log in for every post.
    session = getattr(publisher, "session", None)
    if session and session != account.platform_session:
        WorkplaceAccount.objects.filter(pk=account.pk).update(platform_session=session)
        account.platform_session = session


_OUTCOMES: dict[type[PublishError], str] = {
    NotSent: PublishAttempt.Outcome.NOT_SENT,
    RateLimited: PublishAttempt.Outcome.RATE_LIMITED,
    AuthFailed: PublishAttempt.Outcome.AUTH_FAILED,
    Rejected: PublishAttempt.Outcome.REJECTED,
    OutcomeUnknown: PublishAttempt.Outcome.UNKNOWN,
}


def _finish_attempt(
    attempt: PublishAttempt,
    started: float,
    *,
    error: PublishError | None = None,
    status_code: int | None = None,
) -> None:
    attempt.finished_at = timezone.now()
    attempt.duration_ms = round((time.monotonic() - started) * 1000)
    if error is None:
        attempt.outcome = PublishAttempt.Outcome.PUBLISHED
        attempt.status_code = status_code
    else:
        attempt.outcome = _OUTCOMES.get(type(error), PublishAttempt.Outcome.UNKNOWN)
        attempt.status_code = error.status_code
        attempt.error_body = error.body or str(error)
    attempt.save()


def _backoff_seconds(tries: int) -> float:
    # Exponential with full jitter, so many posts failing together do not retry in step.
    return random.uniform(1.0, min(300.0, 5.0 * 2**tries))  # noqa: S311


def _progress(publication: Publication) -> str:
    live, total = publication.live_parts, len(publication.parts)
    if total > 1 and live:
        return f" Posts 1 to {live} of the thread are live; it will carry on from post {live + 1}."
    return ""


def _handle_failure(publication: Publication, error: PublishError) -> None:
    now = timezone.now()
    if isinstance(error, NotSent):
        tries = publication.attempts.filter(outcome=PublishAttempt.Outcome.NOT_SENT).count()
        if tries >= MAX_NOT_SENT_TRIES:
            _set_publication(
                publication,
                expected=P.SENDING,
                status=P.FAILED,
                error=f"Could not reach the platform after {tries} tries: {error}"
                + _progress(publication),
            )
            return
        delay = _backoff_seconds(tries)
        _release(
            publication,
            f"Could not reach the platform ({error}). Trying again shortly.",
            not_before=now + dt.timedelta(seconds=delay),
        )
        _enqueue(publication, countdown=delay)
    elif isinstance(error, RateLimited):
        reset_at = error.reset_at or now + dt.timedelta(minutes=15)
        WorkplaceAccount.objects.filter(pk=publication.account_id).update(
            rate_limited_until=reset_at
        )
        _release(
            publication,
            "The platform's rate limit was reached. Waiting until "
            f"{timezone.localtime(reset_at):%H:%M} to try again.",
            not_before=reset_at,
        )
        # Never a countdown beyond Redis's visibility timeout (it would be redelivered
        # early); the sweep picks up anything further away.
        wait = (reset_at - now).total_seconds()
        if wait < settings.CELERY_BROKER_VISIBILITY_TIMEOUT / 2:
            _enqueue(publication, countdown=max(wait, 0) + 1)
    elif isinstance(error, AuthFailed):
        account_needs_reconnect(
            account=publication.account, reason=f"The platform refused the saved token: {error}"
        )
        _wait_for_account(publication, publication.account)
    elif isinstance(error, Rejected):
        _set_publication(
            publication,
            expected=P.SENDING,
            status=P.FAILED,
            error=f"The platform said: {error}" + _progress(publication),
        )
    else:
        _set_publication(
            publication,
            expected=P.SENDING,
            status=P.UNCONFIRMED,
            not_before=now + _seconds(settings.RECONCILE_EVERY_SECONDS),
            error="We sent the post but did not hear back, so we cannot tell whether it is "
            "live. It will not be sent again automatically; Sandpit is checking the account. "
            f"Detail: {error}",
        )


def _wait_for_account(publication: Publication, account: WorkplaceAccount) -> None:
    if account.status == WorkplaceAccount.Status.ACTIVE:
        account_needs_reconnect(
            account=account, reason=f"@{account.handle} has no connected credentials."
        )
    _release(
        publication,
        f"Waiting: @{account.handle} needs reconnecting ({account.status_detail}) "
        "An admin can reconnect it on the Accounts page.",
    )


def account_needs_reconnect(*, account: WorkplaceAccount, reason: str) -> None:
    """Pause the account's queue and tell its admins, once."""
    changed = WorkplaceAccount.objects.filter(
        pk=account.pk, status=WorkplaceAccount.Status.ACTIVE
    ).update(status=WorkplaceAccount.Status.NEEDS_RECONNECT, status_detail=reason)
    account.status, account.status_detail = WorkplaceAccount.Status.NEEDS_RECONNECT, reason
    if not changed:
        return
    _audit(
        AuditEvent.Action.ACCOUNT_NEEDS_RECONNECT,
        organisation_id=account.organisation_id,
        account=account,
        detail=reason,
    )
    admins = list(
        Membership.objects.filter(
            organisation_id=account.organisation_id, role=Membership.Role.ADMIN
        )
        .exclude(user__email="")
        .values_list("user__email", flat=True)
    )
    if admins:
        # After commit: the caller may be inside a transaction, and mail is network I/O.
        mail = partial(
            send_mail,
            subject=f"Sandpit: reconnect @{account.handle}",
            message=(
                f"Sandpit has stopped publishing to @{account.handle} on "
                f"{account.get_platform_display()}.\n\n{reason}\n\n"
                "Posts for this account are waiting, not lost. Reconnect the account on "
                "Sandpit's Accounts page and they will go out."
            ),
            from_email=None,
            recipient_list=admins,
            fail_silently=True,
        )
        transaction.on_commit(mail, robust=True)


def _same_text(ours: str, theirs: str) -> bool:
    # Platforms rewrite links (X's t.co) and escape HTML, so compare text with the links
    # taken out and white space folded.
    def fold(text: str) -> str:
        text = html.unescape(text)
        text = re.sub(r"https?://\S+", "", text)
        return " ".join(text.split())

    return fold(ours) == fold(theirs)


def publication_reconcile(*, publication: Publication, by: User | None = None) -> str:
    """Settle an unconfirmed publication by looking at the account's recent posts.

    Found: it is live (a thread carries on with its next post). Not found once the grace
    period has passed: it failed. Otherwise it stays unconfirmed and we look again later.
    Returns the new status.
    """
    if by is not None:
        _require_reviewer(publication.draft, by)
    publication.refresh_from_db()
    if publication.status != P.UNCONFIRMED:
        raise InvalidState(
            f"Only a post that is not confirmed can be checked; this one is "
            f"{publication.get_status_display().lower()}."
        )
    index = publication.next_part
    if index is None:
        _set_publication(publication, expected=P.UNCONFIRMED, status=P.PUBLISHED, error="")
        publication.refresh_from_db()
        return publication.status
    now = timezone.now()
    last_try = publication.attempts.filter(part=index).order_by("-started_at").first()
    concluding = last_try is None or now - last_try.started_at >= _seconds(
        settings.RECONCILE_GRACE_SECONDS
    )
    # A fresh post is near the top, so a short look finds it. To conclude it never
    # arrived we must look far enough back, however busy the account has been since.
    depth = RECONCILE_SEARCH_DEPTH if concluding else RECONCILE_QUICK_DEPTH
    try:
        recent = _publisher_with_fresh_credentials(publication.account).recent_posts(limit=depth)
    except PublishError as error:
        _set_publication(
            publication,
            expected=P.UNCONFIRMED,
            not_before=now + _seconds(settings.RECONCILE_EVERY_SECONDS),
        )
        raise InvalidState(f"Could not look at the account just now: {error}") from error
    parts = [dict(part) for part in publication.parts]
    match = next((post for post in recent if _same_text(parts[index]["text"], post.text)), None)
    if match is not None:
        parts[index].update(remote_id=match.remote_id, remote_url=match.remote_url)
        more = index + 1 < len(parts)
        changed = _set_publication(
            publication,
            expected=P.UNCONFIRMED,
            status=P.QUEUED if more else P.PUBLISHED,
            parts=parts,
            remote_id=parts[0]["remote_id"],
            remote_url=parts[0]["remote_url"],
            published_at=None if more else now,
            not_before=None,
            error="" if not more else "Checked: the post is live; the rest of the thread follows.",
        )
        if changed and more:
            _enqueue(publication)
        detail = "Found on the account: it is live."
    elif concluding and len(recent) < depth:
        # We saw everything the account has posted: it surely is not there.
        changed = _set_publication(
            publication,
            expected=P.UNCONFIRMED,
            status=P.FAILED,
            not_before=None,
            error="Checked the account: the post is not there, so it did not go out. "
            "A coach can publish it again." + _progress(publication),
        )
        detail = "Not on the account: marked as failed."
    elif concluding:
        # The account has posted more than we can look through: not finding it proves
        # nothing, and calling it failed could lead a coach to post it twice.
        changed = _set_publication(
            publication,
            expected=P.UNCONFIRMED,
            not_before=now + dt.timedelta(hours=1),
            error=f"It is not among the account's latest {depth} posts, which does not prove "
            "it failed. Look at the account: if the post is not there, choose 'Publish anyway'.",
        )
        detail = f"Not among the latest {depth} posts: left for a coach to decide."
    else:
        _set_publication(
            publication,
            expected=P.UNCONFIRMED,
            not_before=now + _seconds(settings.RECONCILE_EVERY_SECONDS),
        )
        return publication.status
    if changed:
        _audit(
            AuditEvent.Action.PUBLICATION_RECONCILED,
            organisation_id=publication.account.organisation_id,
            actor=by,
            publication=publication,
            detail=detail,
        )
    publication.refresh_from_db()
    return publication.status


def publication_retry(*, publication: Publication, by: User) -> Publication:
    """A coach sends a failed or unconfirmed publication again. For an unconfirmed one
    that risks a duplicate, which the coach accepts (it is audited). A thread resumes
    from the first post that is not live."""
    _require_reviewer(publication.draft, by)
    publication.refresh_from_db()
    if publication.draft.status != S.APPROVED or (
        publication.draft.current_revision_id != publication.revision_id
    ):
        raise InvalidState("The draft has changed since it was approved: approve it again.")
    action = (
        AuditEvent.Action.PUBLICATION_FORCED
        if publication.status == P.UNCONFIRMED
        else AuditEvent.Action.PUBLICATION_RESUMED
    )
    previous = publication.status
    moved = Publication.objects.filter(
        pk=publication.pk, status__in=[P.FAILED, P.UNCONFIRMED]
    ).update(status=P.QUEUED, not_before=None, error="", updated_at=timezone.now())
    if not moved:
        raise InvalidState(
            "Only a failed or unconfirmed post can be sent again; this one is "
            f"{publication.get_status_display().lower()}."
        )
    publication.status = P.QUEUED
    with transaction.atomic():
        _audit(
            action,
            organisation_id=publication.account.organisation_id,
            actor=by,
            publication=publication,
            detail=f"Sent again from {previous}.",
        )
        _enqueue(publication)
    return publication


def publication_retract(*, publication: Publication, by: User, reason: str) -> Publication:
    """Delete a live post (every live post of a thread) from the real account."""
    _require_reviewer(publication.draft, by)
    reason = (reason or "").strip()
    if not reason:
        raise InvalidInput(
            "Say why you are taking the post down; it goes in the audit log.", field="reason"
        )
    publication.refresh_from_db()
    previous = publication.status
    # Not from "unconfirmed": a post we are unsure of must be checked first, or we would
    # call it taken down while it may still be live.
    if previous not in (P.PUBLISHED, P.FAILED) or not publication.live_parts:
        raise InvalidState(
            "Only a post that is live can be retracted. If it is not confirmed yet, "
            "check the account first."
        )
    parts = [dict(part) for part in publication.parts]
    try:
        publisher = _publisher_with_fresh_credentials(publication.account)
        # Last post first, so a half-done retraction never leaves replies to a deleted
        # post. Each deletion is saved as it happens, so trying again skips those.
        for part in reversed(parts):
            if not part.get("remote_id") or part.get("retracted"):
                continue
            publisher.delete(remote_id=part["remote_id"])
            part["retracted"] = True
            Publication.objects.filter(pk=publication.pk, status=previous).update(parts=parts)
    except PublishError as error:
        gone = sum(1 for part in parts if part.get("retracted"))
        raise InvalidState(
            f"Could not take the post down: {error}. "
            + (f"{gone} post(s) of the thread were taken down; " if gone else "")
            + "try again to finish."
        ) from error
    retracted = Publication.objects.filter(pk=publication.pk, status=previous).update(
        status=P.RETRACTED,
        error=f"Retracted by {display_name(by)}: {reason}",
        updated_at=timezone.now(),
    )
    if not retracted:
        raise InvalidState("Someone changed this post while you were retracting it; look again.")
    publication.refresh_from_db()
    _audit(
        AuditEvent.Action.PUBLICATION_RETRACTED,
        organisation_id=publication.account.organisation_id,
        actor=by,
        publication=publication,
        detail=reason,
    )
    return publication


# Emergency stop ------------------------------------------------------------------------------


def publishing_stop(
    *, by: User, organisation_id: int, account: WorkplaceAccount | None = None, reason: str
) -> PublishingStop:
    if role_in(by, organisation_id) not in REVIEWER_ROLES:
        raise NotAllowed("Only coaches and admins can stop publishing.")
    if account is not None and account.organisation_id != organisation_id:
        raise NotAllowed("That account belongs to another organisation.")
    reason = (reason or "").strip()
    if not reason:
        raise InvalidInput(
            "Say why you are stopping publishing; everyone will see it.", field="reason"
        )
    if len(reason) > 500:
        raise InvalidInput("Keep the reason under 500 characters.", field="reason")
    try:
        with transaction.atomic():
            stop = PublishingStop.objects.create(
                organisation_id=organisation_id, account=account, reason=reason, started_by=by
            )
            _audit(
                AuditEvent.Action.PUBLISHING_STOPPED,
                organisation_id=organisation_id,
                actor=by,
                account=account,
                detail=reason,
            )
    except IntegrityError as exc:
        raise InvalidState("Publishing is already stopped there.") from exc
    return stop


def publishing_resume(*, by: User, stop: PublishingStop) -> None:
    if role_in(by, stop.organisation_id) not in REVIEWER_ROLES:
        raise NotAllowed("Only coaches and admins can resume publishing.")
    with transaction.atomic():
        ended = PublishingStop.objects.filter(pk=stop.pk, ended_at__isnull=True).update(
            ended_at=timezone.now(), ended_by=by
        )
        if not ended:
            raise InvalidState("Publishing has already been resumed.")
        _audit(
            AuditEvent.Action.PUBLISHING_RESUMED,
            organisation_id=stop.organisation_id,
            actor=by,
            account=stop.account,
            detail=f"Stopped because: {stop.reason}",
        )
    # Waiting posts go out now rather than at the next sweep.
    publication_sweep(force=True)


# The sweep (beat) -----------------------------------------------------------------------------


def publication_sweep(*, now: dt.datetime | None = None, force: bool = False) -> dict[str, int]:
    """Run by beat. Re-sends task messages that were lost, starts scheduled posts when due,
    settles posts whose worker died while sending, and schedules reconcile checks."""
    from coaching import tasks

    now = now or timezone.now()
    requeue_before = now - dt.timedelta(seconds=settings.PUBLICATION_REQUEUE_AFTER_SECONDS)
    due = Publication.objects.filter(status=P.QUEUED).filter(_due(now)).filter(_publishable(now))
    if not force:
        due = due.filter(Q(enqueued_at__isnull=True) | Q(enqueued_at__lte=requeue_before))
    enqueued = 0
    for publication in due.order_by("created_at")[:500]:
        _enqueue(publication)
        enqueued += 1
    to_check = Publication.objects.filter(
        status=P.UNCONFIRMED, account__status=WorkplaceAccount.Status.ACTIVE
    ).filter(Q(not_before__isnull=True) | Q(not_before__lte=now))
    reconciling = 0
    for pk in to_check.values_list("pk", flat=True)[:100]:
        # Push the next look out first, so overlapping sweeps do not pile up checks.
        Publication.objects.filter(pk=pk).update(
            not_before=now + _seconds(settings.RECONCILE_EVERY_SECONDS)
        )
        transaction.on_commit(partial(tasks.reconcile.delay, pk), robust=True)
        reconciling += 1
    return {"enqueued": enqueued, "reconciling": reconciling, **_settle_stuck(now)}


# A try with one of these outcomes surely left nothing on the account.
_SURELY_NOT_LIVE = (
    PublishAttempt.Outcome.NOT_SENT,
    PublishAttempt.Outcome.RATE_LIMITED,
    PublishAttempt.Outcome.AUTH_FAILED,
    PublishAttempt.Outcome.REJECTED,
)


def _settle_stuck(now: dt.datetime) -> dict[str, int]:
    requeued = unconfirmed = 0
    stuck = Publication.objects.filter(
        status=P.SENDING, updated_at__lte=now - _seconds(settings.STUCK_SENDING_SECONDS)
    )
    for publication in stuck:
        part = publication.next_part
        if part is None:  # every post is live; only the final update was missed
            _set_publication(publication, expected=P.SENDING, status=P.PUBLISHED, error="")
            continue
        latest = publication.attempts.filter(part=part).order_by("-started_at", "-pk").first()
        if latest is None or latest.outcome in _SURELY_NOT_LIVE:
            # The worker died after claiming and before any request left: safe to retry.
            if _set_publication(publication, expected=P.SENDING, status=P.QUEUED):
                requeued += 1
            continue
        pending = publication.attempts.filter(outcome=PublishAttempt.Outcome.PENDING)
        pending.update(
            outcome=PublishAttempt.Outcome.UNKNOWN,
            finished_at=now,
            error_body="The worker stopped before the platform answered.",
        )
        if _set_publication(
            publication,
            expected=P.SENDING,
            status=P.UNCONFIRMED,
            not_before=now,
            error="The worker stopped while publishing, so we cannot tell whether the post "
            "is live. It will not be sent again automatically; Sandpit is checking the account.",
        ):
            unconfirmed += 1
    return {"requeued": requeued, "unconfirmed": unconfirmed}


def _timeout() -> httpx.Timeout:
    return httpx.Timeout(settings.PUBLISH_READ_TIMEOUT, connect=settings.PUBLISH_CONNECT_TIMEOUT)


# Connecting accounts (admins) ------------------------------------------------------------------


def _require_admin(by: User, organisation_id: int) -> None:
    if role_in(by, organisation_id) != Membership.Role.ADMIN:
        raise NotAllowed("Only an admin of the organisation can connect its accounts.")


def x_connect_start(*, by: User, organisation_id: int, redirect_uri: str) -> tuple[str, str, str]:
    """Begin X's OAuth 2.0 PKCE flow. Returns (authorize URL, state, verifier); the caller
    keeps state and verifier in the session until X sends the browser back."""
    _require_admin(by, organisation_id)
    if not settings.X_CLIENT_ID:
        raise InvalidState("X_CLIENT_ID is not set, so Sandpit cannot ask X for access.")
    state, verifier = secrets.token_urlsafe(32), x_oauth.new_pkce_verifier()
    url = x_oauth.authorization_url(
        authorize_url=settings.X_AUTHORIZE_URL,
        client_id=settings.X_CLIENT_ID,
        redirect_uri=redirect_uri,
        state=state,
        verifier=verifier,
    )
    return url, state, verifier


def x_connect_finish(
    *, by: User, organisation_id: int, code: str, verifier: str, redirect_uri: str
) -> WorkplaceAccount:
    """Swap X's code for tokens, find out which account granted them, and save it."""
    _require_admin(by, organisation_id)
    base_url = settings.X_API_BASE_URL
    try:
        tokens = x_oauth.exchange_code(
            base_url=base_url,
            client_id=settings.X_CLIENT_ID,
            client_secret=settings.X_CLIENT_SECRET,
            code=code,
            verifier=verifier,
            redirect_uri=redirect_uri,
            timeout=_timeout(),
        )
        identity = x_oauth.who_am_i(
            base_url=base_url, access_token=tokens.access_token, timeout=_timeout()
        )
    except PublishError as error:
        raise InvalidState(
            f"X did not complete the connection: {error} Please try again."
        ) from error
    return _save_connection(
        by=by,
        organisation_id=organisation_id,
        platform=WorkplaceAccount.Platform.X,
        handle=identity.username,
        display_name=identity.name or identity.username,
        remote_user_id=identity.user_id,
        access_token=tokens.access_token,
        refresh_token=tokens.refresh_token,
        token_expires_at=tokens.expires_at,
    )


def _save_connection(
    *, by: User, organisation_id: int, platform: str, handle: str, **fields: object
) -> WorkplaceAccount:
    """Create or update the account with fresh credentials, and re-open its queue."""
    with transaction.atomic():
        account = (
            WorkplaceAccount.objects.select_for_update()
            .filter(platform=platform, handle__iexact=handle)
            .first()
        )
        if account is not None and account.organisation_id != organisation_id:
            raise NotAllowed(f"@{handle} is already connected to another organisation.")
        if account is None:
            account = WorkplaceAccount(organisation_id=organisation_id, platform=platform)
        account.handle = handle
        for name, value in fields.items():
            setattr(account, name, value)
        account.status = WorkplaceAccount.Status.ACTIVE
        account.status_detail = ""
        account.connected_by = by
        account.connected_at = timezone.now()
        account.save()
        _audit(
            AuditEvent.Action.ACCOUNT_CONNECTED,
            organisation_id=organisation_id,
            actor=by,
            account=account,
            detail=f"@{handle} on {account.get_platform_display()}",
        )
    # Posts that waited for this account can go now.
    publication_sweep(force=True)
    return account


# What each platform's credentials look like. A value of another shape is refused before
# any connection: it is a typo, the account's real password, or an attempt to make a
# client library read a file (Mastodon.py treats a token that names a file as that file).
_MASTODON_TOKEN = re.compile(r"[A-Za-z0-9_\-.~+=]{20,512}")
_BLUESKY_APP_PASSWORD = re.compile(r"[a-z0-9]{4}(?:-[a-z0-9]{4}){3}", re.IGNORECASE)
_BLUESKY_HANDLE = re.compile(r"(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z][a-z0-9-]*", re.I)


def _platform_url(url: str) -> str:
    """A server address an admin typed, if Sandpit may connect to it (sandbox.outbound)."""
    url = (url or "").strip().rstrip("/")
    try:
        URLValidator(schemes=["https"] if settings.PRODUCTION else ["https", "http"])(url)
        return outbound.check_url(url)
    except (ValidationError, ValueError) as exc:
        raise InvalidInput(
            "Enter the server's full address, like https://mastodon.social."
            + ("" if not settings.PRODUCTION else " It must start with https://."),
            field="server",
        ) from exc
    except outbound.ForbiddenAddress as exc:
        raise InvalidInput(
            f"Sandpit connects only to servers on the public internet: {exc}", field="server"
        ) from exc


def _credential(value: str, shape: re.Pattern[str], message: str) -> str:
    value = (value or "").strip()
    if not shape.fullmatch(value):
        raise InvalidInput(message, field="secret")
    return value


def mastodon_connect(
    *, by: User, organisation_id: int, server: str, access_token: str
) -> WorkplaceAccount:
    """Connect a Mastodon account with an access token made in the instance's
    Preferences > Development (scopes read and write:statuses)."""
    from coaching.publishing.mastodon import MastodonPublisher

    _require_admin(by, organisation_id)
    server = _platform_url(server)
    access_token = _credential(
        access_token,
        _MASTODON_TOKEN,
        "Paste the access token exactly as Mastodon shows it: 20 or more letters, digits, "
        "dashes and underscores, with no spaces.",
    )
    try:
        remote_id, username, name = MastodonPublisher(
            api_base_url=server,
            access_token=access_token,
            timeout=settings.PUBLISH_READ_TIMEOUT,
            session=outbound.checked_session(),
        ).identity()
    except PublishError as error:
        raise InvalidState(f"Mastodon did not accept that: {error}") from error
    return _save_connection(
        by=by,
        organisation_id=organisation_id,
        platform=WorkplaceAccount.Platform.MASTODON,
        handle=username,
        display_name=name or username,
        remote_user_id=remote_id,
        api_base_url=server,
        access_token=access_token,
    )


def bluesky_connect(
    *, by: User, organisation_id: int, server: str, handle: str, app_password: str
) -> WorkplaceAccount:
    """Connect a Bluesky account with an app password (Settings > App passwords), never
    the account's real password."""
    from coaching.publishing.bluesky import BlueskyPublisher

    _require_admin(by, organisation_id)
    server = _platform_url(server or BLUESKY_DEFAULT_SERVICE)
    handle = (handle or "").strip().removeprefix("@")
    if not _BLUESKY_HANDLE.fullmatch(handle) or len(handle) > 253:
        raise InvalidInput(
            "Enter the account's handle, like nhsdemoboard.bsky.social.", field="handle"
        )
    app_password = _credential(
        app_password,
        _BLUESKY_APP_PASSWORD,
        "Enter an app password, four groups of four letters or digits like "
        "abcd-efgh-ijkl-mnop, made in Bluesky's settings. Never the account's own password.",
    )
    publisher = BlueskyPublisher(
        service_url=server,
        handle=handle,
        app_password=app_password,
        public_base_url=settings.BLUESKY_PUBLIC_BASE_URL,
        timeout=settings.PUBLISH_READ_TIMEOUT,
        transport=outbound.CheckedTransport,
    )
    try:
        publisher.recent_posts(limit=1)  # logs in: proves the app password works
    except PublishError as error:
        raise InvalidState(f"Bluesky did not accept that: {error}") from error
    return _save_connection(
        by=by,
        organisation_id=organisation_id,
        platform=WorkplaceAccount.Platform.BLUESKY,
        handle=handle,
        display_name=handle,
        api_base_url=server,
        app_password=app_password,
        platform_session=publisher.session or "",
    )
