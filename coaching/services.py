"""Every state change of a draft after authoring, and of its publication.

This module holds the draft lifecycle (TRANSITIONS) and is the only writer of
``Draft.status`` and ``Publication.status``. Each change is a conditional UPDATE
("move from these states to that one"): when two people act at once, exactly one
update matches and the other gets a clear message instead of a double effect.
"""

from __future__ import annotations

import datetime as dt
import logging
import random
import time

from django.conf import settings
from django.contrib.auth.models import User
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from coaching.models import NOTE_MAX_LENGTH, FeedbackNote, Publication, PublishAttempt, Review
from coaching.publishing import publisher_for
from coaching.publishing.base import (
    AuthFailed,
    NotSent,
    OutcomeUnknown,
    PublishError,
    RateLimited,
    Rejected,
)
from sandbox.errors import InvalidInput, InvalidState, NotAllowed
from sandbox.models import Draft, DraftRevision, WorkplaceAccount
from sandbox.selectors import REVIEWER_ROLES, role_in

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
    "withdraw": "withdrawn",
}


def _move(draft: Draft, action: str, *, revision_id: int | None = None, **fields: object) -> None:
    """Apply one lifecycle action with a conditional update, or explain why not."""
    allowed_from, target = TRANSITIONS[action]
    rows = Draft.objects.filter(pk=draft.pk, status__in=allowed_from)
    if revision_id is not None:
        rows = rows.filter(current_revision_id=revision_id)
    now = timezone.now()
    if rows.update(status=target, updated_at=now, **fields) != 1:
        draft.refresh_from_db()
        if revision_id is not None and draft.current_revision_id != revision_id:
            raise InvalidState(
                "The trainee changed this draft while you were looking at it. "
                "Read the new text before deciding."
            )
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
    _move(draft, "submit", submitted_at=timezone.now(), claimed_by=None, claimed_at=None)
    return draft


def draft_withdraw(*, draft: Draft, by: User) -> Draft:
    """The trainee abandons the draft. A queued publication is cancelled with it."""
    _require_author(draft, by)
    with transaction.atomic():
        if draft.status == S.APPROVED:
            _cancel_queued_publication(draft, reason="The trainee withdrew the post.")
        _move(draft, "withdraw", claimed_by=None, claimed_at=None)
    return draft


def draft_revised(*, draft: Draft, revision: DraftRevision) -> None:
    """Called by sandbox.services.draft_edit, inside its transaction, with the draft locked."""
    if draft.status == S.CHANGES_REQUESTED:
        _move(draft, "revise", current_revision=revision)
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
    else:
        Draft.objects.filter(pk=draft.pk).update(
            current_revision=revision, updated_at=timezone.now()
        )


def _cancel_queued_publication(draft: Draft, *, reason: str) -> None:
    # Races with the worker's claim (queued -> sending): whichever update lands first
    # wins, so either the post is cancelled or it is already on its way and we refuse.
    Publication.objects.filter(draft=draft, status=P.QUEUED).update(
        status=P.CANCELLED, error=reason, updated_at=timezone.now()
    )
    if Publication.objects.filter(draft=draft, status__in=Publication.ACTIVE_STATUSES).exists():
        raise InvalidState(
            "This post is already being published (or is live), so it can no longer be "
            "changed. Start a new draft instead."
        )


# Review -----------------------------------------------------------------------------------


def review_claim(*, draft: Draft, by: User) -> Draft:
    _require_reviewer(draft, by)
    _move(draft, "claim", claimed_by=by, claimed_at=timezone.now())
    return draft


def _clean_note(note: str, *, required: bool) -> str:
    note = (note or "").strip()
    if required and not note:
        raise InvalidInput(
            "Write a note so the trainee knows what to change and why.", field="note"
        )
    if len(note) > NOTE_MAX_LENGTH:
        raise InvalidInput(
            f"Notes can be up to {NOTE_MAX_LENGTH} characters; this one is {len(note)}.",
            field="note",
        )
    return note


def _decide(
    *,
    draft: Draft,
    by: User,
    action: str,
    decision: str,
    note: str,
    revision: DraftRevision | None,
) -> Review:
    """Record a decision on one exact revision. Runs inside the caller's transaction."""
    _require_reviewer(draft, by)
    revision = revision or draft.current_revision
    assert revision is not None
    _move(draft, action, revision_id=revision.pk, claimed_by=None, claimed_at=None)
    review = Review.objects.create(
        draft=draft,
        revision=revision,
        reviewer=by,
        decision=decision,
        content_hash=revision.content_hash,
    )
    if note:
        FeedbackNote.objects.create(review=review, author=by, body=note)
    return review


def review_approve(
    *,
    draft: Draft,
    by: User,
    note: str = "",
    publish_at: dt.datetime | None = None,
    revision: DraftRevision | None = None,
) -> Review:
    """Approve one exact revision and put it in the outbox, in one transaction."""
    note = _clean_note(note, required=False)
    now = timezone.now()
    if publish_at is not None and publish_at <= now:
        raise InvalidInput(
            "Choose a time in the future, or leave the time empty to publish now.",
            field="publish_at",
        )
    with transaction.atomic():
        review = _decide(
            draft=draft,
            by=by,
            action="approve",
            decision=Review.Decision.APPROVE,
            note=note,
            revision=revision,
        )
        publication = Publication.objects.create(
            draft=draft,
            revision=review.revision,
            approval=review,
            account=draft.account,
            text=review.revision.text,
            content_hash=review.content_hash,
            publish_at=publish_at,
        )
        if publish_at is None:
            _enqueue(publication)
        # A scheduled post is started by the sweep when it falls due: no long countdowns,
        # which Redis would redeliver after its visibility timeout.
    return review


def review_request_changes(
    *, draft: Draft, by: User, note: str, revision: DraftRevision | None = None
) -> Review:
    note = _clean_note(note, required=True)
    with transaction.atomic():
        return _decide(
            draft=draft,
            by=by,
            action="request_changes",
            decision=Review.Decision.REQUEST_CHANGES,
            note=note,
            revision=revision,
        )


def review_reject(
    *, draft: Draft, by: User, note: str, revision: DraftRevision | None = None
) -> Review:
    note = _clean_note(note, required=True)
    with transaction.atomic():
        return _decide(
            draft=draft,
            by=by,
            action="reject",
            decision=Review.Decision.REJECT,
            note=note,
            revision=revision,
        )


# Publication --------------------------------------------------------------------------------

MAX_NOT_SENT_TRIES = 8
STUCK_SENDING_AFTER = dt.timedelta(minutes=2)


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
    fields.setdefault("updated_at", timezone.now())
    updated = Publication.objects.filter(pk=publication.pk, status=expected).update(**fields)
    for name, value in fields.items():
        setattr(publication, name, value)
    return updated == 1


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

    if draft.status != S.APPROVED or draft.current_revision_id != publication.revision_id:
        _set_publication(
            publication,
            expected=P.SENDING,
            status=P.CANCELLED,
            error="The draft changed after approval, so nothing was published.",
        )
        return
    if account.status != WorkplaceAccount.Status.ACTIVE or not account.access_token:
        _wait_for_account(publication, account)
        return

    attempt = PublishAttempt.objects.create(
        publication=publication, request=f"POST {account.get_platform_display()} create post"
    )
    started = time.monotonic()
    # The network call happens outside any transaction: the claim above and the attempt
    # row are committed, so a crash here leaves a visible "pending" attempt behind.
    try:
        post = publisher_for(account).publish(
            text=publication.text, idempotency_key=f"sandpit-publication-{publication.pk}"
        )
    except PublishError as error:
        _finish_attempt(attempt, started, error=error)
        _handle_failure(publication, error)
    except Exception as error:
        # A bug or an unexpected library error mid-request: the post may have gone out.
        logger.exception("Unexpected error publishing %s", publication.pk)
        unknown = OutcomeUnknown(f"Unexpected error while publishing: {error}")
        _finish_attempt(attempt, started, error=unknown)
        _handle_failure(publication, unknown)
    else:
        _finish_attempt(attempt, started, status_code=post.status_code)
        _set_publication(
            publication,
            expected=P.SENDING,
            status=P.PUBLISHED,
            remote_id=post.remote_id,
            remote_url=post.remote_url,
            published_at=timezone.now(),
            error="",
        )


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
    return random.uniform(0, min(300.0, 5.0 * 2**tries))  # noqa: S311


def _handle_failure(publication: Publication, error: PublishError) -> None:
    now = timezone.now()
    if isinstance(error, NotSent):
        tries = publication.attempts.filter(outcome=PublishAttempt.Outcome.NOT_SENT).count()
        if tries >= MAX_NOT_SENT_TRIES:
            _set_publication(
                publication,
                expected=P.SENDING,
                status=P.FAILED,
                error=f"Could not reach the platform after {tries} tries: {error}",
            )
            return
        delay = _backoff_seconds(tries)
        _set_publication(
            publication,
            expected=P.SENDING,
            status=P.QUEUED,
            not_before=now + dt.timedelta(seconds=delay),
            error=f"Could not reach the platform ({error}). Trying again shortly.",
        )
        _enqueue(publication, countdown=delay)
    elif isinstance(error, RateLimited):
        reset_at = error.reset_at or now + dt.timedelta(minutes=15)
        WorkplaceAccount.objects.filter(pk=publication.account_id).update(
            rate_limited_until=reset_at
        )
        _set_publication(
            publication,
            expected=P.SENDING,
            status=P.QUEUED,
            not_before=reset_at,
            error="The platform's rate limit was reached. Waiting until "
            f"{timezone.localtime(reset_at):%H:%M} to try again.",
        )
        wait = (reset_at - now).total_seconds()
        if wait < settings.CELERY_BROKER_VISIBILITY_TIMEOUT / 2:
            _enqueue(publication, countdown=max(wait, 0))
    elif isinstance(error, AuthFailed):
        WorkplaceAccount.objects.filter(pk=publication.account_id).update(
            status=WorkplaceAccount.Status.NEEDS_RECONNECT,
            status_detail=f"The platform refused the saved token: {error}",
        )
        publication.account.refresh_from_db()
        _wait_for_account(publication, publication.account, expected=P.SENDING)
    elif isinstance(error, Rejected):
        _set_publication(
            publication, expected=P.SENDING, status=P.FAILED, error=f"The platform said: {error}"
        )
    else:
        _set_publication(
            publication,
            expected=P.SENDING,
            status=P.UNCONFIRMED,
            error="We sent the post but did not hear back, so we cannot tell whether it is "
            f"live. It will not be sent again automatically. Detail: {error}",
        )


def _wait_for_account(
    publication: Publication, account: WorkplaceAccount, *, expected: str = P.SENDING
) -> None:
    reason = account.status_detail or f"@{account.handle} has no connected credentials."
    _set_publication(
        publication,
        expected=expected,
        status=P.QUEUED,
        error=f"Waiting: {reason} An admin needs to reconnect the account.",
    )
    if account.status == WorkplaceAccount.Status.ACTIVE:
        WorkplaceAccount.objects.filter(pk=account.pk).update(
            status=WorkplaceAccount.Status.NEEDS_RECONNECT, status_detail=reason
        )


def publication_sweep(*, now: dt.datetime | None = None) -> dict[str, int]:
    """Run by beat. Re-sends task messages that were lost, starts scheduled posts when
    due, and settles posts whose worker died while sending."""
    now = now or timezone.now()
    requeue_before = now - dt.timedelta(seconds=settings.PUBLICATION_REQUEUE_AFTER_SECONDS)
    due = (
        Publication.objects.filter(status=P.QUEUED, account__status=WorkplaceAccount.Status.ACTIVE)
        .filter(_due(now))
        .filter(Q(enqueued_at__isnull=True) | Q(enqueued_at__lte=requeue_before))
        .order_by("created_at")
    )
    enqueued = 0
    for publication in due[:500]:
        _enqueue(publication)
        enqueued += 1
    return {"enqueued": enqueued, **_settle_stuck(now)}


def _settle_stuck(now: dt.datetime) -> dict[str, int]:
    requeued = unconfirmed = 0
    stuck = Publication.objects.filter(status=P.SENDING, updated_at__lte=now - STUCK_SENDING_AFTER)
    for publication in stuck:
        pending = publication.attempts.filter(outcome=PublishAttempt.Outcome.PENDING)
        if not pending.exists():
            # The worker died after claiming and before any request left: safe to retry.
            if _set_publication(publication, expected=P.SENDING, status=P.QUEUED):
                requeued += 1
            continue
        pending.update(
            outcome=PublishAttempt.Outcome.UNKNOWN,
            finished_at=now,
            error_body="The worker stopped before the platform answered.",
        )
        if _set_publication(
            publication,
            expected=P.SENDING,
            status=P.UNCONFIRMED,
            error="The worker stopped while publishing, so we cannot tell whether the post "
            "is live. It will not be sent again automatically.",
        ):
            unconfirmed += 1
    return {"requeued": requeued, "unconfirmed": unconfirmed}
