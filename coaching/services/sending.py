"""Sending one publication: the claim by conditional update, each post of a thread, and every
failure class mapped to what happens next.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import functools
import json
import logging
import random
import time
from collections.abc import Iterator
from typing import Any, TypeVar

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Model, Q
from django.utils import timezone

from coaching.models import (
    Publication,
    PublishAttempt,
    PublishingStop,
)
from coaching.publishing import publisher_for, x_oauth
from coaching.publishing.base import (
    AuthFailed,
    Media,
    NotSent,
    OutcomeUnknown,
    Publisher,
    PublishError,
    RateLimited,
    Rejected,
    TargetGone,
)
from coaching.services.accounts import _timeout, account_needs_reconnect
from coaching.services.answers import answer_target_gone, answer_went_live
from coaching.services.lifecycle import P, S, _seconds
from coaching.services.outbox import (
    _due,
    _lease,
    _send_after_commit,
    _set_publication,
    _tell_soon,
    after_commit,
    standing_stop,
)
from sandbox import page_cache
from sandbox.models import Draft, PostImage, WorkplaceAccount
from sandbox.selectors import display_name

logger = logging.getLogger(__name__)
ModelT = TypeVar("ModelT", bound=Model)


#
# queued --claim--> sending --> published | failed | unconfirmed | queued (wait or retry)
# unconfirmed --reconcile--> published | failed | queued (rest of a thread)
# failed | unconfirmed --retry (a coach)--> queued;  published --retract--> retracted

MAX_NOT_SENT_TRIES = 8


TOKEN_REFRESH_MARGIN = dt.timedelta(minutes=5)


def publication_send(*, publication_id: int) -> None:
    """Send one publication if it is queued and due. Safe to call any number of times:
    only the caller whose conditional update claims the row goes on to the network.

    The row is read (with its account, draft and whether a stop stands) before it is
    claimed; the claim and the attempt row are then one commit, and the result and the
    finished attempt another, so a single post costs three statements and two commits."""
    now = timezone.now()
    read = _read_for_sending(publication_id, now)
    if read is None:
        return  # settled, claimed by another worker, or not due yet
    publication, stopped = read
    # Its writes change only its organisation's pages (sandbox.page_cache).
    with page_cache.writes_for(publication.account.organisation_id):
        _send_read(publication, stopped, now)


def _send_read(publication: Publication, stopped: bool, now: dt.datetime) -> None:
    account = publication.account
    draft = publication.draft

    if draft.is_sandbox_only:
        # Approval never makes a publication for these; if one exists anyway, it stops here.
        _set_publication(
            publication,
            expected=P.QUEUED,
            status=P.CANCELLED,
            lease_until=None,
            error="This is a response to a post in a practice timeline; it never goes to "
            "the real account.",
        )
        return
    if draft.status != S.APPROVED or draft.current_revision_id != publication.revision_id:
        _set_publication(
            publication,
            expected=P.QUEUED,
            status=P.CANCELLED,
            lease_until=None,
            error="The draft changed after approval, so nothing was published.",
        )
        return
    if stopped and (stop := standing_stop(account)) is not None:
        _park(publication, _stop_reason(stop))
        return
    if account.rate_limited_until and account.rate_limited_until > now:
        _park_for_rate_limit(publication, account.rate_limited_until, now)
        return
    if account.status != WorkplaceAccount.Status.ACTIVE or not account.has_credentials:
        _wait_for_account(publication, account, expected=P.QUEUED)
        return
    try:
        publisher = _publisher_with_fresh_credentials(account)
    except PublishError as error:
        if _claim(publication, now):
            _handle_failure(publication, error)
        return
    _send_parts(publication, publisher, now)


# The read of publication_send, in SQL written once: building and compiling the same ORM
# query (two joins and an EXISTS) took several times as long as PostgreSQL took to run it,
# a large share of each publish. The conditions are outbox._due's and standing_stop's.
_READ_FOR_SENDING = """
    SELECT {publication}, {account}, {draft},
        EXISTS (
            SELECT 1 FROM coaching_publishingstop s
            WHERE s.ended_at IS NULL
              AND ((s.account_id IS NULL AND s.organisation_id = a.organisation_id)
                   OR s.account_id = a.id)
        )
    FROM coaching_publication p
    JOIN sandbox_workplaceaccount a ON a.id = p.account_id
    JOIN sandbox_draft d ON d.id = p.draft_id
    WHERE p.id = %(id)s AND p.status = 'queued'
      AND (p.publish_at IS NULL OR p.publish_at <= %(now)s)
      AND (p.not_before IS NULL OR p.not_before <= %(now)s)
"""


@functools.cache
def _read_for_sending_sql() -> str:
    def columns(model: type[Model], alias: str) -> str:
        return ", ".join(f'{alias}."{field.column}"' for field in model._meta.concrete_fields)

    return _READ_FOR_SENDING.format(
        publication=columns(Publication, "p"),
        account=columns(WorkplaceAccount, "a"),
        draft=columns(Draft, "d"),
    )


def _read_for_sending(publication_id: int, now: dt.datetime) -> tuple[Publication, bool] | None:
    """The queued, due publication with its account and draft, and whether a stop may
    stand over it; None if it is settled, claimed or not due."""
    with connection.cursor() as cursor:
        cursor.execute(_read_for_sending_sql(), {"id": publication_id, "now": now})
        row = cursor.fetchone()
    if row is None:
        return None
    values = iter(row)
    publication = _instance(Publication, values)
    publication.account = _instance(WorkplaceAccount, values)
    publication.draft = _instance(Draft, values)
    return publication, bool(next(values))


def _instance(model: type[ModelT], values: Iterator[Any]) -> ModelT:
    """A model read from the next of ``values``, its columns converted as the ORM would
    (an encrypted token decrypted, JSON decoded)."""
    fields = model._meta.concrete_fields
    converted = []
    for field in fields:
        value = next(values)
        # Field.get_db_converters is Django's, missing from its type stubs.
        for converter in field.get_db_converters(connection):  # type: ignore[attr-defined]
            value = converter(value, field, connection)
        converted.append(value)
    return model.from_db(connection.alias, [field.attname for field in fields], converted)


def _claim(publication: Publication, now: dt.datetime) -> bool:
    """queued -> sending, only if it is still queued and due: of two workers holding a
    message for the same row, exactly one UPDATE matches. Its message is spent."""
    claimed = (
        Publication.objects.filter(pk=publication.pk, status=P.QUEUED)
        .filter(_due(now))
        .update(status=P.SENDING, updated_at=now, lease_until=None)
    )
    if claimed:
        publication.status, publication.updated_at, publication.lease_until = P.SENDING, now, None
    return claimed == 1


def _send_parts(publication: Publication, publisher: Publisher, now: dt.datetime) -> None:
    """Publish each post not yet live, in order, as a reply chain. Each success is saved
    before the next post goes, so a failure part-way resumes from the post that failed."""
    parts = [dict(part) for part in publication.parts]
    start = publication.next_part
    first = len(parts) if start is None else start  # None: every post is already live
    if first == len(parts):
        # Every post is live; only the final update was missed. Claim, then say so.
        if _claim(publication, now):
            _set_publication(
                publication, expected=P.SENDING, status=P.PUBLISHED, error="", not_before=None
            )
        return
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
                expected=P.SENDING if index > first else P.QUEUED,
                status=P.FAILED,
                lease_until=None,
                error=f"Post {index + 1}: {missing} Nothing more was sent."
                + _progress(publication),
            )
            return
        images = f" with {len(media)} image{'s' if len(media) != 1 else ''}" if media else ""
        request = (
            f"{publication.account.get_platform_display()}: create post "
            f"{index + 1} of {len(parts)}{images}"
        )
        # The claim (first post) and the attempt row are committed together before the
        # request leaves, so a crash mid-request leaves a visible "pending" attempt that
        # the sweep turns into "unconfirmed".
        if index == first:
            claimed = _claim_with_attempt(publication, part=index, request=request, now=now)
            if claimed is None:
                return  # another worker took it a moment ago
            attempt = claimed
        else:
            attempt = PublishAttempt.objects.create(
                publication=publication, part=index, request=request
            )
        started = time.monotonic()
        try:
            post = publisher.publish(
                text=parts[index]["text"],
                idempotency_key=idempotency_key(publication, index),
                # The first post answers the inbox item (if any); each later post of a
                # thread replies to the one before it.
                reply_to=(
                    parts[index - 1]["remote_id"] if index else publication.reply_to_remote_id
                )
                or None,
                quote_of=(publication.quote_of_remote_id or None) if index == 0 else None,
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
        # The attempt's success and the live part (and, for the last post, the outcome)
        # are saved together: a crash can never leave a finished attempt beside a row
        # that does not know its post is live.
        last = index == len(parts) - 1
        if not _finish_published(publication, attempt, started, post.status_code, parts, last):
            return  # the sweep settled it meanwhile; it is not ours to carry on


# The two writes of a post's happy path, each one statement (so one round trip and one
# commit, with no BEGIN or COMMIT of their own): PostgreSQL runs a data-modifying WITH to
# completion in the same transaction as the statement around it. The ORM cannot say
# UPDATE ... RETURNING, hence SQL here; the conditions are those of _claim and
# _set_publication.
_CLAIM_WITH_ATTEMPT = """
    WITH claimed AS (
        UPDATE coaching_publication
        SET status = 'sending', updated_at = %(now)s, lease_until = NULL
        WHERE id = %(id)s AND status = 'queued'
          AND (publish_at IS NULL OR publish_at <= %(now)s)
          AND (not_before IS NULL OR not_before <= %(now)s)
        RETURNING id
    )
    INSERT INTO coaching_publishattempt
        (publication_id, part, request, outcome, error_body, started_at)
    SELECT id, %(part)s, %(request)s, 'pending', '', %(now)s FROM claimed
    RETURNING id
"""
_FINISH_PUBLISHED = """
    WITH finished AS (
        UPDATE coaching_publishattempt
        SET outcome = 'published', status_code = %(status_code)s,
            finished_at = %(now)s, duration_ms = %(duration_ms)s
        WHERE id = %(attempt)s
    )
    UPDATE coaching_publication
    SET parts = %(parts)s::jsonb, remote_id = %(remote_id)s, remote_url = %(remote_url)s,
        updated_at = %(now)s,
        status = CASE WHEN %(last)s THEN 'published' ELSE status END,
        published_at = CASE WHEN %(last)s THEN %(now)s ELSE published_at END,
        not_before = CASE WHEN %(last)s THEN NULL ELSE not_before END,
        error = CASE WHEN %(last)s THEN '' ELSE error END
    WHERE id = %(id)s AND status = 'sending'
"""


def _claim_with_attempt(
    publication: Publication, *, part: int, request: str, now: dt.datetime
) -> PublishAttempt | None:
    """queued -> sending and the attempt row, in one statement; None if another worker
    claimed the row first (or it is no longer due)."""
    with connection.cursor() as cursor:
        cursor.execute(
            _CLAIM_WITH_ATTEMPT,
            {"id": publication.pk, "now": now, "part": part, "request": request},
        )
        row = cursor.fetchone()
    if row is None:
        return None
    publication.status, publication.updated_at, publication.lease_until = P.SENDING, now, None
    attempt = PublishAttempt(
        pk=row[0], publication=publication, part=part, request=request, started_at=now
    )
    attempt._state.adding = False
    attempt._state.db = connection.alias
    return attempt


def _finish_published(
    publication: Publication,
    attempt: PublishAttempt,
    started: float,
    status_code: int | None,
    parts: list[dict[str, object]],
    last: bool,
) -> bool:
    """The attempt finished as published and the row told its post is live (and, for the
    last post, that the publication is), in one statement. False if the row is no longer
    ours (the sweep settled it meanwhile)."""
    now = timezone.now()
    # An answer's item is marked done in the same transaction as the post goes live, so a
    # worker dying between the two cannot leave a live answer with its item still open.
    # Other posts stay one statement, no transaction around it.
    answer_done = last and publication.is_answer
    with (
        transaction.atomic() if answer_done else contextlib.nullcontext(),
        connection.cursor() as cursor,
    ):
        cursor.execute(
            _FINISH_PUBLISHED,
            {
                "attempt": attempt.pk,
                "status_code": status_code,
                "duration_ms": round((time.monotonic() - started) * 1000),
                "id": publication.pk,
                "parts": json.dumps(parts),
                "remote_id": str(parts[0]["remote_id"]),
                "remote_url": str(parts[0]["remote_url"]),
                "last": last,
                "now": now,
            },
        )
        still_ours = cursor.rowcount == 1
        if still_ours and answer_done:
            answer_went_live(publication)
    if still_ours:
        publication.parts = parts
        publication.remote_id = str(parts[0]["remote_id"])
        publication.remote_url = str(parts[0]["remote_url"])
        publication.updated_at = now
        if last:
            publication.status, publication.published_at = P.PUBLISHED, now
            publication.not_before, publication.error = None, ""
            _tell_soon()
    return still_ours


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
    publication: Publication,
    reason: str,
    *,
    not_before: dt.datetime | None = None,
    retry_in: float | None = None,
) -> None:
    """Hand a claimed publication back to the queue. With ``retry_in`` its next message
    goes now, with that countdown, and the lease covers it; without, no message is on its
    way and the sweep (or the account's resume) sends one when it can go."""
    lease: dict[str, dt.datetime | None] = {"lease_until": None}
    if retry_in is not None:
        lease = {**_lease(retry_in)}
    if (
        _set_publication(
            publication,
            expected=P.SENDING,
            status=P.QUEUED,
            error=reason,
            not_before=not_before,
            **lease,
        )
        and retry_in is not None
    ):
        _send_after_commit(publication.pk, countdown=retry_in)


def _park(
    publication: Publication,
    reason: str,
    *,
    not_before: dt.datetime | None = None,
    lease_until: dt.datetime | None = None,
) -> None:
    """A queued publication that cannot go now waits without a message (its one was just
    spent); nothing was claimed, so it stays queued."""
    _set_publication(
        publication,
        expected=P.QUEUED,
        error=reason,
        not_before=not_before,
        lease_until=lease_until,
    )


def _rate_limit_reason(reset_at: dt.datetime) -> str:
    return (
        "The platform's rate limit was reached. Waiting until "
        f"{timezone.localtime(reset_at):%H:%M:%S} to try again."
    )


def _resumes_at_reset(reset_at: dt.datetime, now: dt.datetime) -> bool:
    # Never a countdown beyond Redis's visibility timeout (it would be redelivered early);
    # the sweep picks up anything further away once the account can take posts again.
    return (reset_at - now).total_seconds() < settings.CELERY_BROKER_VISIBILITY_TIMEOUT / 2


def _park_for_rate_limit(publication: Publication, reset_at: dt.datetime, now: dt.datetime) -> None:
    """Wait for the account's reset. The account's resume task (one per reset) sends the
    waiting posts then; the lease says so, and lets the sweep step in if it never ran."""
    grace = dt.timedelta(seconds=settings.PUBLICATION_REQUEUE_AFTER_SECONDS)
    _park(
        publication,
        _rate_limit_reason(reset_at),
        not_before=reset_at,
        lease_until=reset_at + grace if _resumes_at_reset(reset_at, now) else None,
    )


def _stop_reason(stop: PublishingStop) -> str:
    who = display_name(stop.started_by)
    scope = f"@{stop.account.handle}" if stop.account else "every account of the organisation"
    return f"Waiting: {who} paused publishing to {scope}: {stop.reason}"


def idempotency_key(publication: Publication, index: int) -> str:
    """The key a post of a publication is sent under, the same on every attempt."""
    return f"sandpit-publication-{publication.pk}-{index}"


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
    TargetGone: PublishAttempt.Outcome.REJECTED,
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
            retry_in=delay,
        )
    elif isinstance(error, RateLimited):
        reset_at = error.reset_at or now + dt.timedelta(minutes=15)
        _rate_limited(publication.account_id, reset_at, now)
        grace = dt.timedelta(seconds=settings.PUBLICATION_REQUEUE_AFTER_SECONDS)
        resumes = _resumes_at_reset(reset_at, now)
        _set_publication(
            publication,
            expected=P.SENDING,
            status=P.QUEUED,
            error=_rate_limit_reason(reset_at),
            not_before=reset_at,
            lease_until=reset_at + grace if resumes else None,
        )
    elif isinstance(error, AuthFailed):
        account_needs_reconnect(
            account=publication.account, reason=f"The platform refused the saved token: {error}"
        )
        _wait_for_account(publication, publication.account)
    elif isinstance(error, Rejected):
        if isinstance(error, TargetGone) and publication.is_answer and not publication.live_parts:
            # The post being answered was deleted: its inbox item can no longer be answered.
            answer_target_gone(publication)
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


def _rate_limited(account_id: int, reset_at: dt.datetime, now: dt.datetime) -> None:
    """Hold the account until the platform's reset, and resume its waiting posts then.
    Once per reset: only the worker whose update moves the reset later schedules the
    resume, so a burst of 429s never floods the broker."""
    from coaching import tasks

    moved = (
        WorkplaceAccount.objects.filter(pk=account_id)
        .filter(Q(rate_limited_until__isnull=True) | Q(rate_limited_until__lt=reset_at))
        .update(rate_limited_until=reset_at)
    )
    if moved and _resumes_at_reset(reset_at, now):
        # A moment after the reset, so the platform's window has surely turned over.
        countdown = max((reset_at - now).total_seconds(), 0) + RESUME_MARGIN_SECONDS
        after_commit(tasks.resume_publishing, account_id, countdown=countdown)


RESUME_MARGIN_SECONDS = 0.5
# Posts one resume sends before it hands on to a fresh message, so one task never holds
# a worker process for long.
RESUME_BATCH = 50


def account_resume(*, account_id: int) -> int:
    """Send an account's waiting posts, oldest first, in this task: one message for the
    whole backlog, not one per post. Sent at a rate limit's reset, and by the sweep for
    posts that have no message on its way (due, or their message was lost). Stops at a new
    rate limit (whose own resume carries on). Returns how many it sent."""
    now = timezone.now()
    limited_until = (
        WorkplaceAccount.objects.filter(pk=account_id)
        .values_list("rate_limited_until", flat=True)
        .first()
    )
    if limited_until is not None and limited_until > now:
        return 0  # a later 429 moved the reset; the resume it scheduled will come
    waiting = list(
        Publication.objects.filter(account_id=account_id, status=P.QUEUED)
        .filter(_due(now))
        .order_by("created_at")
        .values_list("pk", flat=True)[: RESUME_BATCH + 1]
    )
    batch = waiting[:RESUME_BATCH]
    # This task is what carries them now: their lease says so for as long as it works
    # through them, so the sweep never sends another message for a post still to come.
    grace = settings.PUBLICATION_REQUEUE_AFTER_SECONDS
    renew = max(grace / 2, 1)
    renewed = -renew
    sent = 0
    for index, pk in enumerate(batch):
        if time.monotonic() - renewed >= renew:
            Publication.objects.filter(pk__in=batch[index:], status=P.QUEUED).update(
                lease_until=timezone.now() + dt.timedelta(seconds=grace)
            )
            renewed = time.monotonic()
        publication_send(publication_id=pk)
        sent += 1
        if WorkplaceAccount.objects.filter(
            pk=account_id, rate_limited_until__gt=timezone.now()
        ).exists():
            return sent
    if len(waiting) > RESUME_BATCH:
        from coaching import tasks

        tasks.resume_publishing.delay(account_id)
    return sent


def _wait_for_account(
    publication: Publication, account: WorkplaceAccount, *, expected: str = P.SENDING
) -> None:
    if account.status == WorkplaceAccount.Status.ACTIVE:
        account_needs_reconnect(
            account=account, reason=f"@{account.handle} has no connected credentials."
        )
    reason = (
        f"Waiting: @{account.handle} needs reconnecting ({account.status_detail}) "
        "An admin can reconnect it on the Accounts page."
    )
    if expected == P.QUEUED:
        _park(publication, reason)
    else:
        _release(publication, reason)
