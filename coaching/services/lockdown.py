"""Locking down an account that may be in someone else's hands, and its recovery checklist.

One action (``account_lockdown``), in the order that limits harm soonest:

1. the emergency stop (coaching/services/stops.py), committed before anything else, so no
   approved post goes out under a stranger's eye;
2. the account's recent posts that Sandpit never published (the rogue posts), read while
   the token still works;
3. the stored tokens revoked at the platform, through its publisher (``revoke()``);
4. the tokens forgotten whatever the platform said (a failed revoke is recorded with its
   reason, and the checklist says to revoke by hand), the account marked needs-reconnect;
5. every coach and admin of the organisation told, in the app and by email, after commit.

Each step of the checklist is ticked once (by whom, when, how long after the lockdown)
and audited; the lockdown closes when the last one is ticked.
"""

from __future__ import annotations

import datetime as dt
import logging

from django.contrib.auth.models import User
from django.db import IntegrityError, transaction
from django.utils import timezone

from coaching import notifications
from coaching.models import AuditEvent, Lockdown, LockdownStep, Publication, PublishingStop
from coaching.publishing import publisher_for
from coaching.publishing.base import Publisher, PublishError
from coaching.services.lifecycle import _audit, clean_reason
from coaching.services.sending import _publisher_with_fresh_credentials
from sandbox import access
from sandbox.errors import InvalidState
from sandbox.models import WorkplaceAccount

logger = logging.getLogger(__name__)

ROGUE_POSTS_LOOKED_AT = 50  # the account's most recent posts, compared with Sandpit's own


def _log_unexpected(error: Exception) -> None:
    # A platform's refusal is a PublishError and is recorded on the lockdown; anything else
    # (a client library's own error, an address refused mid-redirect) is a fault to look at,
    # but must not keep a hacked account's tokens alive.
    if not isinstance(error, PublishError):
        logger.exception("Lockdown: unexpected error talking to the platform.", exc_info=error)


def account_lockdown(*, by: User, account: WorkplaceAccount, reason: str) -> Lockdown:
    access.require_reviewer(by, account.organisation_id)
    reason = clean_reason(
        reason, missing="Say why you are locking the account down; everyone will be told."
    )
    lockdown = _start(by=by, account=account, reason=reason)
    # Network calls, each outside any transaction: the stop is already committed.
    try:
        publisher = _publisher_with_fresh_credentials(account)
    except PublishError as error:
        # Refreshing X's token failed; revoking needs no working token, only its value.
        publisher = publisher_for(account)
        lockdown.rogue_posts_error = str(error)[:500] or type(error).__name__
    else:
        try:
            lockdown.rogue_posts = _rogue_posts(account, publisher)
        except Exception as error:  # whatever failed, the tokens go below
            _log_unexpected(error)
            lockdown.rogue_posts_error = str(error)[:500] or type(error).__name__
    try:
        lockdown.revoke_outcome = publisher.revoke()
        lockdown.revoked = True
    except Exception as error:  # whatever failed, the tokens go below
        _log_unexpected(error)
        lockdown.revoke_outcome = str(error)[:1000] or type(error).__name__
    with transaction.atomic():
        _forget_tokens(account, reason=f"Locked down: {reason}")
        Lockdown.objects.filter(pk=lockdown.pk).update(
            revoked=lockdown.revoked,
            revoke_outcome=lockdown.revoke_outcome,
            rogue_posts=lockdown.rogue_posts,
            rogue_posts_error=lockdown.rogue_posts_error,
        )
        _audit(
            AuditEvent.Action.LOCKDOWN_REVOKED
            if lockdown.revoked
            else AuditEvent.Action.LOCKDOWN_REVOKE_FAILED,
            organisation_id=account.organisation_id,
            actor=by,
            account=account,
            detail=lockdown.revoke_outcome,
        )
        notifications.account_locked_down(lockdown=lockdown)
    return lockdown


def _start(*, by: User, account: WorkplaceAccount, reason: str) -> Lockdown:
    """The lockdown row, its checklist and the stop, in one transaction."""
    try:
        with transaction.atomic():
            lockdown = Lockdown.objects.create(
                organisation_id=account.organisation_id,
                account=account,
                reason=reason,
                started_by=by,
            )
            LockdownStep.objects.bulk_create(
                LockdownStep(lockdown=lockdown, step=step, position=position)
                for position, step in enumerate(LockdownStep.Step.values)
            )
            # A stop already standing for the account (someone pressed it first) is
            # the stop: the lockdown needs publishing stopped, not a second row.
            if not PublishingStop.objects.filter(account=account, ended_at__isnull=True).exists():
                PublishingStop.objects.create(
                    organisation_id=account.organisation_id,
                    account=account,
                    reason=f"Locked down: {reason}",
                    started_by=by,
                )
                _audit(
                    AuditEvent.Action.PUBLISHING_STOPPED,
                    organisation_id=account.organisation_id,
                    actor=by,
                    account=account,
                    detail=f"Locked down: {reason}",
                )
            _audit(
                AuditEvent.Action.LOCKDOWN_STARTED,
                organisation_id=account.organisation_id,
                actor=by,
                account=account,
                detail=reason,
            )
    except IntegrityError as exc:
        raise InvalidState(f"@{account.handle} is already locked down.") from exc
    return lockdown


def _rogue_posts(account: WorkplaceAccount, publisher: Publisher) -> list[dict[str, str]]:
    """The account's recent posts that no publication of Sandpit's made."""
    ours: set[str] = set()
    for remote_id, parts in Publication.objects.filter(account=account).values_list(
        "remote_id", "parts"
    ):
        ours.add(remote_id)
        ours.update(str(part.get("remote_id") or "") for part in parts or [])
    recent = publisher.recent_posts(limit=ROGUE_POSTS_LOOKED_AT)
    return [
        {"remote_id": post.remote_id, "text": post.text, "url": post.remote_url}
        for post in recent
        if post.remote_id not in ours
    ]


def _forget_tokens(account: WorkplaceAccount, *, reason: str) -> None:
    # One UPDATE: the encrypted fields cleared and the account paused together.
    WorkplaceAccount.objects.filter(pk=account.pk).update(
        access_token="",
        refresh_token="",
        token_expires_at=None,
        app_password="",
        platform_session="",
        client_id="",
        client_secret="",
        status=WorkplaceAccount.Status.NEEDS_RECONNECT,
        status_detail=reason[:500],
    )
    account.refresh_from_db()


def lockdown_step_done(*, by: User, step: LockdownStep) -> LockdownStep:
    lockdown = step.lockdown
    access.require_reviewer(by, lockdown.organisation_id)
    now = timezone.now()
    with transaction.atomic():
        ticked = LockdownStep.objects.filter(pk=step.pk, done_at__isnull=True).update(
            done_by=by, done_at=now
        )
        if not ticked:
            raise InvalidState("That step is already ticked.")
        step.done_by, step.done_at = by, now
        _audit(
            AuditEvent.Action.LOCKDOWN_STEP_DONE,
            organisation_id=lockdown.organisation_id,
            actor=by,
            account=lockdown.account,
            detail=f"{step.get_step_display()}, {elapsed_words(now - lockdown.started_at)} "
            "after the lockdown",
        )
        if not lockdown.steps.filter(done_at__isnull=True).exists():
            Lockdown.objects.filter(pk=lockdown.pk, closed_at__isnull=True).update(closed_at=now)
            lockdown.closed_at = now
            notifications.lockdown_notices_resolved(lockdown=lockdown)
            _audit(
                AuditEvent.Action.LOCKDOWN_CLOSED,
                organisation_id=lockdown.organisation_id,
                actor=by,
                account=lockdown.account,
                detail=f"Every recovery step done, {elapsed_words(now - lockdown.started_at)} "
                "after the lockdown",
            )
    return step


def elapsed_words(elapsed: dt.timedelta) -> str:
    minutes = int(elapsed.total_seconds() // 60)
    if minutes < 1:
        return "under a minute"
    hours, minutes = divmod(minutes, 60)
    words = [f"{hours} hour{'s' if hours != 1 else ''}"] if hours else []
    if minutes:
        words.append(f"{minutes} minute{'s' if minutes != 1 else ''}")
    return " ".join(words)
