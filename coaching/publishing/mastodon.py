"""The Mastodon publisher: the unmodified Mastodon.py library, with every outcome mapped
onto base.py.

No Django here: the caller passes the instance URL, token and timeout in, and it works the
same against a real instance and the Mastodon double.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from html.parser import HTMLParser
from typing import Any

import requests
import urllib3
from mastodon import Mastodon
from mastodon.errors import (
    MastodonAPIError,
    MastodonError,
    MastodonIllegalArgumentError,
    MastodonNetworkError,
    MastodonNotFoundError,
    MastodonRatelimitError,
    MastodonServerError,
    MastodonUnauthorizedError,
)

from coaching.publishing.base import (
    AuthFailed,
    InboundPost,
    InboxPage,
    Media,
    NotSent,
    OutcomeUnknown,
    PublishedPost,
    PublishError,
    RateLimited,
    Rejected,
    RemotePost,
    TargetGone,
)

USER_AGENT = "Sandpit/0.1"
_PAGE_MAX = 40  # Mastodon's ceiling for account statuses
_NOTIFICATIONS_MAX = 80  # and for notifications

# Failures where the request surely never left this machine: the URL was unusable, the
# name did not resolve, or no TCP connection was made (refused, unreachable, timed out).
# NameResolutionError is a NewConnectionError.
_NOT_SENT: tuple[type[BaseException], ...] = (
    urllib3.exceptions.NewConnectionError,
    urllib3.exceptions.ConnectTimeoutError,
    urllib3.exceptions.LocationParseError,
    requests.exceptions.ConnectTimeout,
    requests.exceptions.InvalidURL,
    requests.exceptions.MissingSchema,
    requests.exceptions.InvalidSchema,
)

# Mastodon answers 422 with this to a token that has no user behind it (an app-only
# token): no post can ever be made with it, so the account needs reconnecting.
_APP_ONLY_TOKEN = "This method requires an authenticated user"  # noqa: S105 - words
_RECORD_NOT_FOUND = "Record not found"


class MastodonPublisher:
    """Publishes as one Mastodon account, authenticated by a user access token."""

    def __init__(
        self,
        *,
        api_base_url: str,
        access_token: str,
        timeout: float = 15.0,
        session: requests.Session | None = None,
        client_id: str = "",
        client_secret: str = "",
    ) -> None:
        """``session`` carries the caller's rule for where a connection may go
        (sandbox.outbound) when a person typed the address. ``client_id`` and
        ``client_secret`` (the application's client key and secret) are needed only to
        revoke the token: Mastodon refuses to revoke a token for anyone but its app."""
        self.api_base_url = api_base_url.rstrip("/")
        self.timeout = timeout
        self._account_id: str | None = None
        self._last_response: requests.Response | None = None
        session = session or requests.Session()
        # No keep-alive: reusing a pooled connection that the server has silently closed
        # fails mid-send, turning a surely-not-sent into an unknown (as in x.py).
        session.headers["Connection"] = "close"
        # Mastodon.py's exceptions keep the status code and Mastodon's words but not the
        # body or headers; the PublishAttempt record wants them, so keep the last response.
        session.hooks["response"].append(self._remember)
        self._api = Mastodon(
            # Not here: given a token that names a file, Mastodon.py's constructor reads the
            # file and sends its first line as the token. Set after construction, the token
            # is only ever a value.
            access_token=None,
            api_base_url=self.api_base_url,
            request_timeout=timeout,
            # Raise on 429 instead of sleeping until the reset inside a worker: the service
            # stores reset_at on the account and tries again then.
            ratelimit_method="throw",
            # The library's default, spelled out: no request at construction. "created" or
            # "changed" would fetch /api/v1/instance and /api/v2/instance first.
            version_check_mode="none",
            session=session,
            user_agent=USER_AGENT,
        )
        self._api.access_token = access_token
        # Also after construction, for the same reason as the token.
        self._api.client_id = client_id or None
        self._api.client_secret = client_secret or None

    def publish(
        self,
        *,
        text: str,
        idempotency_key: str,
        reply_to: str | None = None,
        quote_of: str | None = None,
        media: Sequence[Media] = (),
    ) -> PublishedPost:
        # Uploads come first and cannot make a status, so their unclear failures are
        # NotSent (see base.py). The description is the image's alt text.
        media_ids: list[str] = []
        for item in media:
            with self._mapped(NotSent):
                attachment = self._api.media_post(
                    item.data,
                    mime_type=item.content_type,
                    description=item.alt or None,
                    file_name=item.filename,
                )
            media_ids.append(str(attachment["id"]))
        # Mastodon remembers the Idempotency-Key per account for an hour and answers a
        # repeat with the status the first request made, so a retried publication within
        # that hour cannot post twice. The service still never re-sends after an unknown
        # outcome; this is the second line of defence.
        try:
            with self._mapped(OutcomeUnknown):
                # quoted_status_id: Mastodon 4.5's quotes (Mastodon.py 2.3 passes it on).
                status = self._api.status_post(
                    text,
                    in_reply_to_id=reply_to,
                    quoted_status_id=quote_of,
                    media_ids=media_ids or None,
                    idempotency_key=idempotency_key,
                )
        except Rejected as error:
            # Mastodon answers 404 in words of its own when the post replied to or quoted
            # does not exist or is hidden ("The post you are trying to reply to does not
            # appear to exist."); its plain "Record not found" is about something else (a
            # repeated Idempotency-Key whose status was deleted since).
            if (
                (reply_to or quote_of)
                and error.status_code == 404
                and str(error) != _RECORD_NOT_FOUND
            ):
                raise TargetGone(str(error), status_code=404, body=error.body) from error
            raise
        try:
            remote_id = str(status["id"])
            remote_url = str(status.get("url") or status["uri"])
        except (KeyError, TypeError) as exc:
            # Mastodon said yes but we cannot tell which status it made: only reconciling can.
            raise OutcomeUnknown(
                f"Mastodon accepted the post but its answer could not be read: {exc}",
                **self._response_details(),
            ) from exc
        status_code = self._last_response.status_code if self._last_response is not None else 200
        return PublishedPost(remote_id=remote_id, remote_url=remote_url, status_code=status_code)

    def recent_posts(self, *, limit: int = 100) -> list[RemotePost]:
        account_id = self._own_account_id()
        posts: list[RemotePost] = []
        max_id: str | None = None
        while len(posts) < limit:
            with self._mapped(PublishError):
                page = self._api.account_statuses(
                    account_id,
                    max_id=max_id,
                    limit=min(limit - len(posts), _PAGE_MAX),
                    exclude_reblogs=True,
                )
            if not page:
                break
            # Reconcile compares text, and Mastodon serves only the HTML it rendered from
            # the text (the source comes back only on delete), so turn it back into text.
            posts.extend(
                RemotePost(
                    remote_id=str(s["id"]),
                    text=plain_text(s.get("content") or ""),
                    remote_url=str(s.get("url") or s["uri"]),
                )
                for s in page
            )
            max_id = str(page[-1]["id"])
        return posts[:limit]

    def delete(self, *, remote_id: str) -> None:
        with self._mapped(OutcomeUnknown):
            try:
                self._api.status_delete(remote_id)
            except MastodonNotFoundError:
                # Already gone (or never ours): either way it is not on Mastodon afterwards,
                # which is all the caller asked for.
                return

    def revoke(self) -> str:
        """Revoke the access token at POST /oauth/revoke (Mastodon.py finds the endpoint in
        the server's /.well-known/oauth-authorization-server when it has one)."""
        if not (self._api.client_id and self._api.client_secret):
            # Mastodon's apps are confidential: it revokes a token only for the app that
            # holds it, so without the app's key and secret there is nothing to ask.
            raise PublishError(
                "Sandpit does not have this account's client key and secret, which Mastodon "
                "needs to revoke the token."
            )
        try:
            with self._mapped(PublishError):
                try:
                    # http only where the instance itself was allowed to be http (never
                    # in production: accounts.py refuses such an address).
                    self._api.revoke_access_token(allow_http=self.api_base_url.startswith("http:"))
                except MastodonIllegalArgumentError as exc:
                    raise PublishError(f"Mastodon.py refused to revoke: {exc}") from exc
        except PublishError as error:
            # OAuth errors name a code ("unauthorized_client") and explain it in
            # error_description, which Mastodon.py does not keep: say the explanation.
            words = _oauth_words(error.body)
            if not words or isinstance(error, RateLimited):
                raise
            raise type(error)(words, status_code=error.status_code, body=error.body) from error
        return "Mastodon revoked the access token."

    def inbox_since(self, *, since_id: str = "", limit: int = 1000) -> InboxPage:
        """Mentions of the account (GET /api/v1/notifications?types[]=mention), newest
        first, following Mastodon.py's pagination (max_id, from the Link header) back to
        ``since_id``. The since-id is a notification's id; an answer to one of the
        account's posts mentions it, so it is here too. A notification whose status has
        been deleted since has ``status: null``: skipped, and counted in ``skipped``."""
        items: list[InboundPost] = []
        skipped = 0
        newest_id = ""
        with self._mapped(PublishError):
            page = self._api.notifications(
                types=["mention"], since_id=since_id or None, limit=_NOTIFICATIONS_MAX
            )
        while page:
            newest_id = newest_id or str(page[0]["id"])
            for notification in page:
                if since_id and not _newer(str(notification["id"]), since_id):
                    page = None  # back at the since-id: the rest is known
                    break
                status = notification.get("status")
                if not status:
                    skipped += 1
                    continue
                items.append(_inbound(status))
            # With no since-id (the first read) only the newest page, as in x.py.
            if page is None or not since_id or len(items) + skipped >= limit:
                break
            with self._mapped(PublishError):
                page = self._api.fetch_next(page)
        return InboxPage(items=tuple(items), newest_id=newest_id or since_id, skipped=skipped)

    def identity(self) -> tuple[str, str, str]:
        """(account id, username, display name) of the token's account, checking the token."""
        with self._mapped(PublishError):
            account = self._api.account_verify_credentials()
        self._account_id = str(account["id"])
        return self._account_id, str(account["username"]), str(account.get("display_name") or "")

    def _own_account_id(self) -> str:
        if self._account_id is None:
            with self._mapped(PublishError):
                self._account_id = str(self._api.account_verify_credentials()["id"])
        return self._account_id

    def _remember(self, response: requests.Response, *args: Any, **kwargs: Any) -> None:
        self._last_response = response

    def _response_details(self) -> dict[str, Any]:
        response = self._last_response
        if response is None:
            return {"status_code": None, "body": ""}
        return {"status_code": response.status_code, "body": response.text}

    @contextmanager
    def _mapped(self, unclear: type[PublishError]) -> Iterator[None]:
        """Turn Mastodon.py's exceptions into base.py's.

        ``unclear`` is raised when Mastodon may have acted without saying so: OutcomeUnknown
        for requests that change something (create, delete), PublishError for reads.
        """
        self._last_response = None  # so a network failure never reports an older response
        try:
            yield
        except MastodonNetworkError as exc:
            if _surely_not_sent(exc):
                raise NotSent(f"Could not reach Mastodon: {exc}") from exc
            consequence = "no post was made" if unclear is NotSent else "it may have been accepted"
            raise unclear(f"No answer from Mastodon ({exc}); {consequence}.") from exc
        except MastodonRatelimitError as exc:
            details = self._response_details()
            if details["status_code"] != 429:
                # The library failed on a reply's rate-limit headers, not on a 429: the
                # request was answered, possibly with success.
                raise unclear(f"Mastodon's answer could not be read: {exc}", **details) from exc
            raise RateLimited(_words(exc, details), reset_at=self._reset_at(), **details) from exc
        except MastodonUnauthorizedError as exc:
            details = self._response_details()
            raise AuthFailed(_words(exc, details), **details) from exc
        except MastodonServerError as exc:
            # 5xx: Mastodon may have stored the status before failing to say so.
            details = self._response_details()
            raise unclear(_words(exc, details), **details) from exc
        except MastodonAPIError as exc:
            details = self._response_details()
            status = _status_of(exc)
            words = _words(exc, details)
            if status is None or not 400 <= status < 500:
                # A 2xx whose body could not be read, or a status no one expects.
                raise unclear(words, **details) from exc
            # Mastodon's 403s are about the login, not the post: a scope the token lacks,
            # an unconfirmed, unapproved, disabled or suspended account.
            if status == 403 or words == _APP_ONLY_TOKEN:
                raise AuthFailed(words, **details) from exc
            raise Rejected(words, **details) from exc
        except MastodonError as exc:
            raise unclear(f"Mastodon.py failed: {exc}", **self._response_details()) from exc

    def _reset_at(self) -> dt.datetime | None:
        # The library parsed X-RateLimit-Reset (ISO 8601 on Mastodon, epoch seconds on some
        # other servers) and moved it onto our clock using the Date header.
        reset = self._api.ratelimit_reset
        return dt.datetime.fromtimestamp(reset, tz=dt.UTC) if reset is not None else None


def _inbound(status: dict[str, Any]) -> InboundPost:
    account = status.get("account") or {}
    posted_at = status.get("created_at")
    if isinstance(posted_at, str):
        posted_at = dt.datetime.fromisoformat(posted_at)
    if not isinstance(posted_at, dt.datetime):
        raise PublishError(f"Mastodon's status {status.get('id')} has no time")
    in_reply_to = str(status.get("in_reply_to_id") or "")
    return InboundPost(
        remote_id=str(status["id"]),
        remote_url=str(status.get("url") or status.get("uri") or ""),
        kind="reply" if in_reply_to else "mention",
        author_handle=str(account.get("acct") or account.get("username") or ""),
        author_name=str(account.get("display_name") or ""),
        text=plain_text(str(status.get("content") or "")),
        posted_at=posted_at,
        in_reply_to_id=in_reply_to,
        # Mastodon's API names no conversation; the post it answers is the nearest.
        conversation_id=in_reply_to,
    )


def _newer(notification_id: str, since_id: str) -> bool:
    """Whether a notification id comes after the since-id (Mastodon's ids are numbers
    in strings; a longer one is larger)."""
    return (len(notification_id), notification_id) > (len(since_id), since_id)


def _oauth_words(body: str) -> str:
    try:
        payload = json.loads(body)
    except ValueError:
        return ""
    return str(payload.get("error_description") or "") if isinstance(payload, dict) else ""


def plain_text(content: str) -> str:
    """The text a status was typed as, from the HTML Mastodon rendered it into.

    Mastodon escapes the text, wraps paragraphs (split on blank lines) in <p>, turns single
    line breaks into <br />, and wraps links and mentions in <a> and <span> tags that keep
    every character of the original (the hidden parts of long URLs included).
    """
    parser = _PlainText()
    parser.feed(content)
    parser.close()
    return "".join(parser.parts)


class _PlainText(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._paragraphs = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "br":
            self.parts.append("\n")
        elif tag == "p":
            if self._paragraphs:
                self.parts.append("\n\n")
            self._paragraphs += 1

    def handle_data(self, data: str) -> None:
        self.parts.append(data)


def _surely_not_sent(exc: BaseException) -> bool:
    """Whether the failure happened before any byte of the request left.

    Mastodon.py re-raises every requests exception as MastodonNetworkError without
    ``from``, so the original survives only as ``__context__`` (and urllib3's reasons
    behind it). The difference matters: a refused or unresolvable connection means
    Mastodon never saw the request (safe to retry), while a read timeout or a reset means
    it may have acted on it (never re-send, reconcile).
    """
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        if isinstance(current, _NOT_SENT):
            return True
        seen.add(id(current))
        current = current.__cause__ or current.__context__
    return False


def _status_of(exc: MastodonError) -> int | None:
    # Mastodon.py raises API errors as (message, status code, reason, Mastodon's words).
    return exc.args[1] if len(exc.args) > 1 and isinstance(exc.args[1], int) else None


def _words(exc: MastodonError, details: dict[str, Any]) -> str:
    """Mastodon's own explanation (its ``error`` field), for the trainee and coach."""
    if len(exc.args) > 3 and exc.args[3]:
        return str(exc.args[3])
    # The rate-limit exception carries no words of Mastodon's: read them from the body.
    body = str(details.get("body") or "")
    try:
        payload = json.loads(body)
    except ValueError:
        payload = None
    if isinstance(payload, dict) and payload.get("error"):
        return str(payload["error"])
    return body.strip()[:500] or str(exc)
