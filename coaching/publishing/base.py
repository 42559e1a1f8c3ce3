"""What every platform publisher promises, and the errors it may raise.

The publication service decides what to do from the *class* of error, so each
publisher's job is to map its platform's real responses onto these classes:

- ``NotSent``: the request surely never reached the platform (connection refused,
  DNS failure). Safe to retry.
- ``RateLimited``: the platform refused for now; ``reset_at`` says when to try again.
- ``AuthFailed``: the token is expired, revoked or wrong; the account needs reconnecting.
- ``Rejected``: the platform read the post and said no (e.g. X's duplicate content).
  ``str(error)`` is the platform's own words, shown to the trainee and coach.
- ``OutcomeUnknown``: the request may have been accepted (timeout after sending, reset
  connection, 5xx on create). Never re-send: reconcile instead.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Protocol


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


class OutcomeUnknown(PublishError):
    pass


class Publisher(Protocol):
    def publish(
        self, *, text: str, idempotency_key: str, reply_to: str | None = None
    ) -> PublishedPost:
        """Create one post. Raise a ``PublishError`` subclass on any failure."""
        ...

    def recent_posts(self, *, limit: int = 100) -> list[RemotePost]:
        """The account's most recent posts, newest first (used to reconcile)."""
        ...

    def delete(self, *, remote_id: str) -> None:
        """Remove a published post from the platform."""
        ...
