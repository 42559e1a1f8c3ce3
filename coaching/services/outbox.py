"""The outbox: a Publication row written in the same transaction as the approval, its task
enqueued after commit, and the beat sweep that re-sends lost messages, starts due posts and
settles posts whose worker died.

queued --claim--> sending --> published | failed | unconfirmed | queued (wait or retry)
unconfirmed --reconcile--> published | failed | queued (rest of a thread)
failed | unconfirmed --retry (a coach)--> queued;  published --retract--> retracted
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
import time
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Exists, F, OuterRef, Q, QuerySet, Subquery
from django.utils import timezone
from kombu import Queue

from coaching import selectors
from coaching.models import (
    Publication,
    PublishAttempt,
    PublishingStop,
    Review,
)
from coaching.services.answers import answer_went_live, publication_target
from coaching.services.lifecycle import P, _seconds
from sandbox.models import WorkplaceAccount

logger = logging.getLogger(__name__)


def _outbox(review: Review, *, publish_at: dt.datetime | None) -> Publication:
    """The approved revision's publication row, written in the approval's transaction,
    with its dispatch lease when it goes now (one INSERT, no second write)."""
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
        # An answer's target, as it stands at the approved moment.
        **publication_target(review.draft, review.revision),
        **(_lease() if publish_at is None else {}),
    )
    if publish_at is None:
        _send_after_commit(publication.pk)
    # A scheduled post is started by the sweep when it falls due: no long countdowns,
    # which Redis would redeliver after its visibility timeout.
    return publication


def _lease(countdown: float = 0) -> dict[str, dt.datetime]:
    """The fields that say a message is on its way: sent now, to be taken by a worker
    within the countdown plus the requeue grace (or else the sweep looks into it)."""
    now = timezone.now()
    grace = settings.PUBLICATION_REQUEUE_AFTER_SECONDS
    return {"enqueued_at": now, "lease_until": now + dt.timedelta(seconds=countdown + grace)}


def _send_after_commit(publication_id: int, *, countdown: float = 0) -> None:
    from coaching import tasks

    # If the broker is down the row still stands (it is committed) with its lease; the
    # beat sweep sends the message again once the lease has run out.
    after_commit(tasks.publish, publication_id, countdown=countdown)


def after_commit(task: Any, *args: object, countdown: float = 0) -> None:
    """Send a task message once the transaction commits, never for a change that rolled
    back. robust: a broker that is down is logged and never undoes the change. (A plain
    function, not a partial: Django names the callback when it logs its failure.)"""

    def send() -> None:
        task.apply_async(args, countdown=countdown)

    transaction.on_commit(send, robust=True)


def _enqueue(publication: Publication, *, countdown: float = 0) -> None:
    """Send the publication's task message after commit, and take out its lease."""
    fields = _lease(countdown)
    Publication.objects.filter(pk=publication.pk).update(**fields)
    for name, value in fields.items():
        setattr(publication, name, value)
    _send_after_commit(publication.pk, countdown=countdown)


def _due(now: dt.datetime) -> Q:
    return (Q(publish_at__isnull=True) | Q(publish_at__lte=now)) & (
        Q(not_before__isnull=True) | Q(not_before__lte=now)
    )


def _set_publication(publication: Publication, *, expected: str, **fields: object) -> bool:
    """Move a publication on, only if it is still in ``expected`` (the claim pattern)."""
    fields.setdefault("updated_at", timezone.now())
    # An answer going live marks its item done in the same transaction (see sending's
    # _finish_published); other moves stay one statement.
    answer_done = fields.get("status") == P.PUBLISHED and publication.is_answer
    with transaction.atomic() if answer_done else contextlib.nullcontext():
        updated = Publication.objects.filter(pk=publication.pk, status=expected).update(**fields)
        if updated and answer_done:
            answer_went_live(publication)
    if updated:
        for name, value in fields.items():
            setattr(publication, name, value)
        if fields.get("status") in (P.PUBLISHED, P.FAILED):
            _tell_soon()
    return updated == 1


# A publication that settles sends the message that tells people about it a moment later,
# unless this process sent one less than TELL_WINDOW ago: that one runs after this commit
# (TELL_DELAY > TELL_WINDOW) and tells about this post too. A burst of posts is told
# with a message a second, not one each; if a message is lost, the sweep sends another.
TELL_DELAY = 1.0
TELL_WINDOW = 0.5
_tell_sent_at = -TELL_WINDOW


def _tell_soon() -> None:
    """The author (and, for a failure, the coaches) hear by a task of its own after
    commit: never inside the publish task, never for a change that rolled back."""
    from coaching import tasks

    def send() -> None:
        global _tell_sent_at
        if time.monotonic() - _tell_sent_at < TELL_WINDOW:
            return
        tasks.tell_settled.apply_async((), countdown=TELL_DELAY)
        _tell_sent_at = time.monotonic()

    transaction.on_commit(send, robust=True)


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


def publication_sweep(*, now: dt.datetime | None = None) -> dict[str, int]:
    """Run by beat. Finds the due posts that have no message on its way (a scheduled post
    falling due, one that waited for a stop, a reconnect or a rate limit) and those whose
    message is really lost, and hands each account's to ONE resume message, which sends
    them oldest first: a Redis restart that lost a thousand messages costs a message per
    account, not a thousand. Also settles posts whose worker died while sending, and
    schedules reconcile checks."""
    from coaching import tasks

    now = now or timezone.now()
    due = Publication.objects.filter(status=P.QUEUED).filter(_due(now)).filter(_publishable(now))
    without = list(
        due.filter(lease_until__isnull=True)
        .order_by("created_at")
        .values_list("pk", "account_id")[:500]
    )
    lost = _lost(due, now)
    resumes, taken = _hand_to_resumes(without + lost, now)
    to_check = Publication.objects.filter(
        status=P.UNCONFIRMED, account__status=WorkplaceAccount.Status.ACTIVE
    ).filter(Q(not_before__isnull=True) | Q(not_before__lte=now))
    reconciling = 0
    for pk in to_check.values_list("pk", flat=True)[:100]:
        # Push the next look out first, and only if no overlapping sweep did: one check
        # per look, however many sweeps run at once.
        if (
            Publication.objects.filter(pk=pk, status=P.UNCONFIRMED)
            .filter(Q(not_before__isnull=True) | Q(not_before__lte=now))
            .update(not_before=now + _seconds(settings.RECONCILE_EVERY_SECONDS))
        ):
            after_commit(tasks.reconcile, pk)
            reconciling += 1
    untold = Publication.objects.filter(
        told_at__isnull=True,
        status__in=[P.PUBLISHED, P.FAILED],
        updated_at__lt=now - dt.timedelta(seconds=settings.PUBLICATION_REQUEUE_AFTER_SECONDS),
    )
    if untold.exists():
        # The message that would have told people was lost (Redis restarted without it).
        after_commit(tasks.tell_settled)
    return {
        "enqueued": len({pk for pk, _ in without} & taken),
        "resent": len({pk for pk, _ in lost} & taken),
        "resumes": resumes,
        "reconciling": reconciling,
        **_settle_stuck(now),
    }


def _hand_to_resumes(posts: list[tuple[int, int]], now: dt.datetime) -> tuple[int, set[int]]:
    """Give each account's posts (publication id, account id) to one resume message.
    The lease is taken by a conditional update (no message on its way, or its lease ran
    out), so of two sweeps running at once only one sends for a post. The posts' own
    message time is cleared: none of theirs is in the queue now (see ``_lost``).
    Returns the messages sent and the posts they carry."""
    from coaching import tasks

    by_account: dict[int, list[int]] = {}
    for pk, account_id in posts:
        by_account.setdefault(account_id, []).append(pk)
    grace = dt.timedelta(seconds=settings.PUBLICATION_REQUEUE_AFTER_SECONDS)
    messages, taken = 0, set()
    for account_id, pks in by_account.items():
        free = Publication.objects.filter(pk__in=pks, status=P.QUEUED).filter(
            Q(lease_until__isnull=True) | Q(lease_until__lt=now)
        )
        mine = list(free.values_list("pk", flat=True))
        if mine and free.filter(pk__in=mine).update(enqueued_at=None, lease_until=now + grace):
            after_commit(tasks.resume_publishing, account_id)
            messages += 1
            taken.update(mine)
    return messages, taken


def _lost(due: QuerySet[Publication], now: dt.datetime) -> list[tuple[int, int]]:
    """Due posts whose message is gone: its lease ran out and it is not among the messages
    still waiting in the broker. Redis hands messages out oldest first, so the ``waiting``
    messages in the queue are the newest ones sent; an older message whose post is still
    queued was lost (Redis restarted without it, a killed worker held it, or it never
    left). A long backlog is only waiting its turn, so it is never sent twice."""
    waiting = _messages_waiting()
    if waiting is None:
        return []  # the broker cannot be read, so it could not take a message either
    expired = due.filter(lease_until__lt=now).order_by("created_at")
    if waiting:
        # Only messages that can be in the queue count: one sent before its post was due
        # (a retry's countdown) is held by a worker until then, and a post waiting for a
        # rate limit's reset or carried by a resume has no message of its own.
        in_queue = Publication.objects.filter(
            Q(not_before__isnull=True) | Q(not_before__lte=F("enqueued_at")),
            status=P.QUEUED,
            enqueued_at__isnull=False,
            lease_until__isnull=False,
        )
        newest = in_queue.order_by("-enqueued_at").values("pk")[:waiting]
        expired = expired.exclude(pk__in=Subquery(newest))
    return list(expired.values_list("pk", "account_id")[:500])


def _messages_waiting() -> int | None:
    """How many task messages wait in the publish queue, or None if the broker is down."""
    from sandbox.celery import app

    try:
        with app.connection_for_write() as connection:
            queue = Queue(settings.CELERY_TASK_DEFAULT_QUEUE)(connection.default_channel)
            # Not passive: Redis keeps no empty queue, and a passive declare of one fails.
            declared = queue.queue_declare()
    except Exception:  # any broker error: nothing can be sent now anyway
        logger.warning("Could not read the broker's queue length", exc_info=True)
        return None
    # kombu's stubs type the reply loosely; it is queue_declare_ok_t(queue, count, consumers).
    return int(declared.message_count)  # type: ignore[union-attr]


# A try with one of these outcomes surely left nothing on the account.
_SURELY_NOT_LIVE = (
    PublishAttempt.Outcome.NOT_SENT,
    PublishAttempt.Outcome.RATE_LIMITED,
    PublishAttempt.Outcome.AUTH_FAILED,
    PublishAttempt.Outcome.REJECTED,
)


def _settle_stuck(now: dt.datetime) -> dict[str, int]:
    requeued = unconfirmed = 0
    for publication in selectors.stuck(now):
        part = publication.next_part
        if part is None:  # every post is live; only the final update was missed
            _set_publication(publication, expected=P.SENDING, status=P.PUBLISHED, error="")
            continue
        latest = publication.attempts.filter(part=part).order_by("-started_at", "-pk").first()
        if latest is None or latest.outcome in _SURELY_NOT_LIVE:
            # The worker died after claiming and before any request left: safe to retry.
            if _set_publication(publication, expected=P.SENDING, status=P.QUEUED, lease_until=None):
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
