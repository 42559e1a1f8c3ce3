"""Fetching the real account's inbox: what mentions, answers or quotes it on the platform
since last time, stored once each, with the risk checks' patient-detail findings.

The beat runs ``inbox_fetch`` for each account ``fetchable_accounts`` names (coaching.tasks
.fetch_inboxes). One fetch reads every page since the cursor's since-id through the
account's publisher, then, in one transaction, stores the new items and moves the cursor,
so a failure anywhere leaves the cursor where it was and the next fetch reads the same
posts again (never stored twice: the cursor's row lock and the unique constraint).
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass

from django.db import transaction
from django.db.models import Exists, OuterRef, QuerySet
from django.utils import timezone

from coaching.models import AuditEvent, InboxCursor, InboxItem, Lockdown
from coaching.publishing.base import AuthFailed, InboundPost, PublishError, RateLimited
from coaching.selectors.retention import PATIENT_DETAIL_CHECKS
from coaching.services.accounts import account_needs_reconnect
from coaching.services.inbox import items_arrived
from coaching.services.lifecycle import _audit
from coaching.services.sending import _publisher_with_fresh_credentials, _save_session
from sandbox.checks import CheckContext, run_checks
from sandbox.models import WorkplaceAccount
from sandbox.selectors import check_context

logger = logging.getLogger(__name__)

# When a 429 names no reset: X's and Mastodon's windows are 15 and 5 minutes.
RATE_LIMIT_FALLBACK = dt.timedelta(minutes=15)
# The most one fetch stores; the rest waits for the next (the cursor moves to the newest
# read, so nothing older than this many is ever read: an inbox that far behind has
# bigger problems than its oldest mentions).
FETCH_LIMIT = 1000


@dataclass(frozen=True)
class FetchResult:
    """What one fetch did: ``outcome`` is "fetched", "skipped" (``reason`` says why),
    "rate_limited" or "failed"; the counts are of this fetch."""

    outcome: str
    stored: int = 0
    duplicates: int = 0
    unreadable: int = 0
    seconds: float = 0.0
    reason: str = ""


def fetchable_accounts() -> QuerySet[WorkplaceAccount]:
    """Accounts whose inbox may be read now: connected, with credentials, not locked down
    (their tokens may be in someone else's hands), and not waiting out a rate limit."""
    now = timezone.now()
    locked = Lockdown.objects.filter(account=OuterRef("pk"), closed_at__isnull=True)
    waiting = InboxCursor.objects.filter(account=OuterRef("pk"), not_before__gt=now)
    return (
        WorkplaceAccount.objects.filter(status=WorkplaceAccount.Status.ACTIVE)
        .exclude(Exists(locked))
        .exclude(Exists(waiting))
        .order_by("pk")
    )


def inbox_fetch(*, account: WorkplaceAccount) -> FetchResult:
    """Read everything new in the account's inbox and store it once. Never raises for the
    platform's failures: a rate limit waits in ``cursor.not_before``, other failures are
    kept in ``cursor.error`` (and audited once), and the cursor stays put."""
    started = time.monotonic()
    refusal = _refusal(account)
    if refusal:
        return FetchResult("skipped", reason=refusal)
    cursor, _ = InboxCursor.objects.get_or_create(account=account)
    if cursor.not_before and cursor.not_before > timezone.now():
        return FetchResult("skipped", reason="waiting for the platform's rate limit to reset")
    publisher = None
    try:
        publisher = _publisher_with_fresh_credentials(account)
        page = publisher.inbox_since(since_id=cursor.since_id, limit=FETCH_LIMIT)
    except RateLimited as error:
        reset_at = error.reset_at or timezone.now() + RATE_LIMIT_FALLBACK
        InboxCursor.objects.filter(pk=cursor.pk).update(
            not_before=reset_at, error=f"Rate limited until {reset_at:%H:%M:%S} UTC: {error}"
        )
        return FetchResult("rate_limited", reason=str(error), seconds=_since(started))
    except PublishError as error:
        _failed(account, cursor, error)
        return FetchResult("failed", reason=str(error), seconds=_since(started))
    finally:
        if publisher is not None:
            _save_session(account, publisher)
    stored, duplicates = _store(account, cursor.pk, page.items, page.newest_id, cursor.since_id)
    seconds = _since(started)
    logger.info(
        "Inbox of @%s: %d new, %d already stored, %d unreadable, %.3f s",
        account.handle,
        len(stored),
        duplicates,
        page.skipped,
        seconds,
    )
    return FetchResult("fetched", len(stored), duplicates, page.skipped, seconds)


def _refusal(account: WorkplaceAccount) -> str:
    if not account.has_credentials:
        return "the account has no credentials"
    if account.status != WorkplaceAccount.Status.ACTIVE:
        return "the account needs reconnecting"
    if Lockdown.objects.filter(account=account, closed_at__isnull=True).exists():
        return "the account is locked down"
    return ""


def _store(
    account: WorkplaceAccount,
    cursor_id: int,
    posts: Sequence[InboundPost],
    newest_id: str,
    read_from: str,
) -> tuple[list[InboxItem], int]:
    """Store the posts not stored yet and move the cursor, in one transaction."""
    context = check_context(account.organisation_id)
    with transaction.atomic():
        # The cursor's row lock makes two fetches of one account store in turn, so the
        # look-up below is the truth (the unique constraint stands behind it).
        cursor = InboxCursor.objects.select_for_update().get(pk=cursor_id)
        ids = {post.remote_id for post in posts}
        known = set(
            InboxItem.objects.filter(account=account, remote_id__in=ids).values_list(
                "remote_id", flat=True
            )
        )
        new: dict[str, InboxItem] = {}
        for post in posts:
            if post.remote_id in known or post.remote_id in new:
                continue
            new[post.remote_id] = _item(account, post, context)
        created = InboxItem.objects.bulk_create(new.values())
        duplicates = len(posts) - len(created)
        # Moved on only from where this fetch read: a slower fetch that overlapped a newer
        # one must not put the cursor back (its posts would be read again).
        if cursor.since_id == read_from:
            cursor.since_id = newest_id or cursor.since_id
        cursor.fetched_at = timezone.now()
        cursor.not_before = None
        cursor.error = ""
        cursor.fetched_total += len(created)
        cursor.duplicates_total += duplicates
        cursor.save()
        if created:
            transaction.on_commit(lambda: items_arrived(account=account, items=created))
    return created, duplicates


def _item(account: WorkplaceAccount, post: InboundPost, context: CheckContext) -> InboxItem:
    # Flagged so that no one quotes a patient's details back into public.
    findings = run_checks(post.text, context=context)
    risks = [
        {"code": f.code, "message": f.message} for f in findings if f.code in PATIENT_DETAIL_CHECKS
    ]
    return InboxItem(
        account=account,
        remote_id=post.remote_id[:300],
        remote_url=_safe_url(post.remote_url),
        kind=post.kind,
        author_handle=post.author_handle[:200],
        author_name=post.author_name[:200],
        text=post.text,
        in_reply_to_remote_id=post.in_reply_to_id[:300],
        conversation_id=post.conversation_id[:300],
        posted_at=post.posted_at,
        risks=risks,
    )


def _safe_url(url: str) -> str:
    """A post's link as another server gave it (Mastodon's for a post from elsewhere):
    kept only when it is an http(s) address that fits, never shown as a link otherwise."""
    if len(url) <= 500 and url.lower().startswith(("https://", "http://")):
        return url
    return ""


def _failed(account: WorkplaceAccount, cursor: InboxCursor, error: PublishError) -> None:
    words = f"{type(error).__name__}: {error}"
    with transaction.atomic():
        changed = InboxCursor.objects.filter(pk=cursor.pk).exclude(error=words).update(error=words)
        # Audited when the failure is new or different, not on every beat it persists.
        if changed:
            _audit(
                AuditEvent.Action.INBOX_FETCH_FAILED,
                organisation_id=account.organisation_id,
                account=account,
                detail=words[:2000],
            )
        if isinstance(error, AuthFailed):
            # The same token publishes: the account needs reconnecting either way.
            account_needs_reconnect(
                account=account, reason=f"The platform refused the saved token: {error}"
            )


def _since(started: float) -> float:
    return time.monotonic() - started
