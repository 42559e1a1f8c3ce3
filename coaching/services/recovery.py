"""After sending: reconcile an unconfirmed post against the account, retry a failed one,
retract a live one.
"""

from __future__ import annotations

import datetime as dt
import html
import re

from django.conf import settings
from django.contrib.auth.models import User
from django.db import transaction
from django.utils import timezone

from coaching.models import (
    AuditEvent,
    Publication,
)
from coaching.publishing.base import (
    KeyedPublisher,
    PublishedPost,
    PublishError,
    RemotePost,
)
from coaching.services.lifecycle import P, S, _audit, _seconds, clean_reason
from coaching.services.outbox import _enqueue, _set_publication
from coaching.services.sending import (
    _progress,
    _publisher_with_fresh_credentials,
    idempotency_key,
)
from sandbox import access
from sandbox.errors import InvalidState
from sandbox.selectors import display_name

# How far back reconcile looks: a short look while a post may still be appearing, a long
# one before it may conclude that a post never arrived.
RECONCILE_QUICK_DEPTH = 100
RECONCILE_SEARCH_DEPTH = 1000


def _same_text(ours: str, theirs: str) -> bool:
    # Platforms rewrite links (X's t.co) and escape HTML, so compare text with the links
    # taken out and white space folded.
    def fold(text: str) -> str:
        text = html.unescape(text)
        text = re.sub(r"https?://\S+", "", text)
        return " ".join(text.split())

    return fold(ours) == fold(theirs)


def _find_on_account(
    publication: Publication, index: int, *, concluding: bool
) -> tuple[PublishedPost | RemotePost | None, bool, int]:
    """(the post of part ``index`` if it is on the account, whether not finding it proves
    it is not there, how many posts were looked through)."""
    publisher = _publisher_with_fresh_credentials(publication.account)
    if isinstance(publisher, KeyedPublisher):
        # The post can only be under its own key: one look-up settles it either way.
        key = idempotency_key(publication, index)
        return publisher.find_published(idempotency_key=key), True, 1
    # A fresh post is near the top, so a short look finds it. To conclude it never
    # arrived we must look far enough back, however busy the account has been since.
    depth = RECONCILE_SEARCH_DEPTH if concluding else RECONCILE_QUICK_DEPTH
    recent = publisher.recent_posts(limit=depth)
    text = publication.parts[index]["text"]
    match = next((post for post in recent if _same_text(text, post.text)), None)
    return match, len(recent) < depth, depth


def publication_reconcile(*, publication: Publication, by: User | None = None) -> str:
    """Settle an unconfirmed publication by looking for its post on the account: by its
    idempotency key where that names the post (Bluesky), else by text among recent posts.

    Found: it is live (a thread carries on with its next post). Not found once the grace
    period has passed: it failed. Otherwise it stays unconfirmed and we look again later.
    Returns the new status.
    """
    if by is not None:
        access.require_reviewer_of(publication.draft, by)
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
    try:
        match, seen_all, depth = _find_on_account(publication, index, concluding=concluding)
    except PublishError as error:
        _set_publication(
            publication,
            expected=P.UNCONFIRMED,
            not_before=now + _seconds(settings.RECONCILE_EVERY_SECONDS),
        )
        raise InvalidState(f"Could not look at the account just now: {error}") from error
    parts = [dict(part) for part in publication.parts]
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
    elif concluding and seen_all:
        # We looked everywhere the post could be: it surely is not there.
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
    access.require_reviewer_of(publication.draft, by)
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
    ).update(
        # Not told yet: whatever it comes to this time, people hear of it again.
        status=P.QUEUED,
        not_before=None,
        error="",
        told_at=None,
        updated_at=timezone.now(),
    )
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
    access.require_reviewer_of(publication.draft, by)
    reason = clean_reason(
        reason, missing="Say why you are taking the post down; it goes in the audit log."
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
