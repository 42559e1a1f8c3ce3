"""What every platform publisher promises, and the errors it may raise.

The publication service decides what to do from the *class* of error, so each
publisher's job is to map its platform's real responses onto these classes:

- ``NotSent``: the request surely never reached the platform (connection refused,
  DNS failure). Safe to retry.
- ``RateLimited``: the platform refused for now; ``reset_at`` says when to try again.
- ``AuthFailed``: the token is expired, revoked or wrong; the account needs reconnecting.
- ``Rejected``: the platform read the post and said no (e.g. X's duplicate content).
  ``str(error)`` is the platform's own words, shown to the trainee and coach.
  ``TargetGone`` is the Rejected of a reply or quote whose target post was deleted (or
  can no longer be seen): the service marks the inbox item it answered as gone.
- ``OutcomeUnknown``: the request may have been accepted (timeout after sending, reset
  connection, 5xx on create). Never re-send: reconcile instead.

Images go up before the post that shows them, each in its own request (X's media upload
and alt text, Mastodon's media, Bluesky's uploadBlob). Whatever happens to those requests,
no post exists yet: an uploaded image is only a file on the platform, which no one sees
until a post refers to it, and which the platform throws away unused (X after a day,
Mastodon's unattached media after a day, Bluesky's unreferenced blobs within hours). So
a failure before the create-post request is never ``OutcomeUnknown``: an upload that
timed out, was reset or got a 5xx is ``NotSent`` (safe to retry; the retry uploads the
image again and the first copy is left to expire), and 429, 401 and a refused image
(``Rejected``) mean what they mean for the post itself. Only the create-post request that
carries the media ids can leave the outcome unknown.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol, runtime_checkable


@dataclass(frozen=True)
class Media:
    """One image to attach to a post, as the platform should receive it.

    ``alt`` is the text a screen reader reads out. ``width`` and ``height`` are optional
    (Bluesky uses them to lay the image out before it loads).
    """

    data: bytes
    content_type: str
    alt: str = ""
    filename: str = "image"
    width: int | None = None
    height: int | None = None

    def __repr__(self) -> str:  # the bytes would drown any log line
        return f"Media({self.filename!r}, {self.content_type}, {len(self.data)} bytes)"


@dataclass(frozen=True)
class PublishedPost:
    remote_id: str
    remote_url: str
    status_code: int


@dataclass(frozen=True)
class RemotePost:
    remote_id: str
    text: str
    remote_url: str


@dataclass(frozen=True)
class InboundPost:
    """A post by someone else that mentions or answers the account, as its inbox reads it.

    ``kind`` is "mention", "reply" or "quote" (coaching.models.InboxItem.Kind's values).
    ``in_reply_to_id`` and ``conversation_id`` are the platform's ids, empty when the
    platform does not say (a plain mention, or a conversation whose start is gone)."""

    remote_id: str
    remote_url: str
    kind: str
    author_handle: str
    author_name: str
    text: str
    posted_at: dt.datetime
    in_reply_to_id: str = ""
    conversation_id: str = ""


@dataclass(frozen=True)
class InboxPage:
    """What one inbox read found since the since-id: the new posts (newest first),
    ``newest_id`` to pass as the since-id next time (the one given, when nothing came),
    and ``skipped``: items the platform listed that could not be read (a deleted post
    behind a notification), counted so the caller can say so."""

    items: tuple[InboundPost, ...]
    newest_id: str
    skipped: int = 0


class PublishError(Exception):
    """Base class. ``status_code`` and ``body`` are kept for the PublishAttempt record."""

    def __init__(self, message: str, *, status_code: int | None = None, body: str = "") -> None:
        super().__init__(message)
        self.status_code = status_code
        self.body = body


class NotSent(PublishError):
    pass


class RateLimited(PublishError):
    def __init__(
        self,
        message: str,
        *,
        reset_at: dt.datetime | None,
        status_code: int | None = 429,
        body: str = "",
    ) -> None:
        super().__init__(message, status_code=status_code, body=body)
        self.reset_at = reset_at


class AuthFailed(PublishError):
    pass


class Rejected(PublishError):
    pass


class TargetGone(Rejected):
    """The post a reply answers or a quote quotes is deleted or not visible to the account."""


class OutcomeUnknown(PublishError):
    pass


class Publisher(Protocol):
    def publish(
        self,
        *,
        text: str,
        idempotency_key: str,
        reply_to: str | None = None,
        quote_of: str | None = None,
        media: Sequence[Media] = (),
    ) -> PublishedPost:
        """Create one post with ``media`` attached (uploaded first, in order), as a reply
        to the post ``reply_to`` and/or quoting the post ``quote_of`` (platform ids: X's
        tweet id, Mastodon's status id, Bluesky's at:// URI). Raise a ``PublishError``
        subclass on any failure; ``TargetGone`` when either post is deleted or hidden."""
        ...

    def recent_posts(self, *, limit: int = 100) -> list[RemotePost]:
        """The account's most recent posts, newest first (used to reconcile)."""
        ...

    def delete(self, *, remote_id: str) -> None:
        """Remove a published post from the platform."""
        ...

    def revoke(self) -> str:
        """End the stored credentials at the platform (a lockdown: the account may be in
        someone else's hands). Returns what was ended, in words for the lockdown page;
        raises a ``PublishError`` when the platform refused or could not be asked, with
        its reason. Nothing is deleted here: forgetting the tokens is the caller's."""
        ...

    def inbox_since(self, *, since_id: str = "", limit: int = 1000) -> InboxPage:
        """Everything that mentions, answers or quotes the account since ``since_id`` (all
        pages, at most about ``limit`` items; the first read, with no since-id, takes only
        the newest page). Raises ``RateLimited``, ``AuthFailed`` or ``PublishError``;
        nothing is half-returned, so the caller's since-id stays put on a failure."""
        ...


@runtime_checkable
class KeyedPublisher(Protocol):
    """A publisher whose post is named by its idempotency key (Bluesky's record key), so
    reconcile looks the post up directly instead of searching ``recent_posts`` by text."""

    def find_published(self, *, idempotency_key: str) -> PublishedPost | None:
        """The post published under this key, or None if the account surely has none."""
        ...
