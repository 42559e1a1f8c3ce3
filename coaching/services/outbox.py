"""The outbox: a Publication row written in the same transaction as the approval, its task
enqueued after commit, and the beat sweep that re-sends lost messages, starts due posts and
settles posts whose worker died.

queued --claim--> sending --> published | failed | unconfirmed | queued (wait or retry)
unconfirmed --reconcile--> published | failed | queued (rest of a thread)
failed | unconfirmed --retry (a coach)--> queued;  published --retract--> retracted
"""

from __future__ import annotations

import datetime as dt
from functools import partial

from django.conf import settings
from django.db import transaction
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone

from coaching import notifications, selectors
from coaching.models import (
    Publication,
    PublishAttempt,
    PublishingStop,
    Review,
)
from coaching.services.lifecycle import P, _seconds
from sandbox.models import WorkplaceAccount


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
    for publication in selectors.stuck(now):
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
