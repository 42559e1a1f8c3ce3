"""The X (Twitter) publisher: X API v2 over httpx, with every response mapped onto base.py.

A pure HTTP client: no Django here, so the caller passes settings (base URL, timeouts)
in, and it works the same against https://api.x.com and the X API double.
"""

from __future__ import annotations

import datetime as dt
import functools
import ssl
from collections.abc import Sequence
from typing import Any
from urllib.parse import quote

import httpx

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

DEFAULT_TIMEOUT = httpx.Timeout(15.0, connect=5.0)
# Loading the CA bundle takes tens of milliseconds; build the TLS context once per process
# rather than once per publish (it tripled publish latency in bench/publish_latency.py).
_TLS = ssl.create_default_context()
USER_AGENT = "Sandpit/0.1"
_PAGE_MAX = 100  # X's max_results ceiling for user posts
_PAGE_MIN = 5  # and its floor
# What the inbox asks of each mention: the reply and quote it is, and its author's names.
_MENTION_FIELDS = {
    "tweet.fields": "created_at,conversation_id,author_id,referenced_tweets,in_reply_to_user_id",
    "expansions": "author_id",
    "user.fields": "username,name",
}

# Failures where the request surely never left this machine, so no byte of it was written:
# the URL scheme is unusable, the name did not resolve, the TCP (or TLS) handshake failed
# or timed out, or no connection in the pool became free.
_NOT_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout, httpx.UnsupportedProtocol)


@functools.lru_cache(maxsize=32)
def _client(access_token: str, timeout: tuple[float | None, ...]) -> httpx.Client:
    """One client per token and timeout in each process: building one costs about a
    millisecond, a real share of a publish. No keep-alive: every request opens a fresh
    connection, because reusing a pooled one that X has silently closed fails mid-send,
    turning a surely-not-sent into an unknown. So a cached client holds no connection."""
    connect, read, write, pool = timeout
    return httpx.Client(
        verify=_TLS,
        timeout=httpx.Timeout(connect=connect, read=read, write=write, pool=pool),
        headers={"Authorization": f"Bearer {access_token}", "User-Agent": USER_AGENT},
        limits=httpx.Limits(max_keepalive_connections=0),
    )


class XPublisher:
    """Publishes as one X account, authenticated by an OAuth 2.0 user access token."""

    def __init__(
        self,
        *,
        base_url: str,
        access_token: str,
        username: str,
        user_id: str | None = None,
        public_base_url: str = "https://x.com",
        timeout: httpx.Timeout | None = None,
        refresh_token: str = "",
        client_id: str = "",
        client_secret: str = "",
    ) -> None:
        """``refresh_token`` and the app's ``client_id`` and ``client_secret`` are needed
        only to revoke (X's token revocation authenticates the app, not the user)."""
        self.base_url = base_url.rstrip("/")
        self._access_token = access_token
        self._refresh_token = refresh_token
        self._client_id = client_id
        self._client_secret = client_secret
        self.public_base_url = public_base_url.rstrip("/")
        self.username = username
        self.user_id = user_id
        self.timeout = timeout or DEFAULT_TIMEOUT
        self._client = _client(
            access_token,
            (self.timeout.connect, self.timeout.read, self.timeout.write, self.timeout.pool),
        )

    def close(self) -> None:
        # The client is shared by every publisher of this token in the process (it holds no
        # connection between requests), so there is nothing of this one's to close.
        pass

    def __enter__(self) -> XPublisher:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def publish(
        self,
        *,
        text: str,
        idempotency_key: str,
        reply_to: str | None = None,
        quote_of: str | None = None,
        media: Sequence[Media] = (),
    ) -> PublishedPost:
        # X has no idempotency key, so idempotency_key goes nowhere: never sending twice
        # is the caller's job (no re-send after OutcomeUnknown; reconcile via recent_posts).
        body: dict[str, Any] = {"text": text}
        if reply_to:
            body["reply"] = {"in_reply_to_tweet_id": reply_to}
        if quote_of:
            body["quote_tweet_id"] = quote_of
        if media:
            body["media"] = {"media_ids": [self._upload(item) for item in media]}
        try:
            response = self._request("POST", "/2/tweets", unclear=OutcomeUnknown, json=body)
        except Rejected as error:
            if (reply_to or quote_of) and _target_gone(error):
                raise TargetGone(
                    str(error), status_code=error.status_code, body=error.body
                ) from error
            raise
        try:
            remote_id = str(response.json()["data"]["id"])
        except (ValueError, KeyError, TypeError) as exc:
            # X said yes but we cannot tell which post it made: only reconciling can.
            raise OutcomeUnknown(
                f"X accepted the post but its answer could not be read: {exc}",
                status_code=response.status_code,
                body=response.text,
            ) from exc
        return PublishedPost(
            remote_id=remote_id,
            remote_url=self.post_url(remote_id),
            status_code=response.status_code,
        )

    def recent_posts(self, *, limit: int = 100) -> list[RemotePost]:
        user_id = self.user_id or self._resolve_user_id()
        posts: list[RemotePost] = []
        params: dict[str, str | int] = {}
        while len(posts) < limit:
            params["max_results"] = min(max(limit - len(posts), _PAGE_MIN), _PAGE_MAX)
            response = self._request("GET", f"/2/users/{quote(user_id)}/tweets", params=params)
            payload = _json_object(response)
            if "data" not in payload and payload.get("errors"):
                raise PublishError(
                    _platform_words(response), status_code=response.status_code, body=response.text
                )
            posts.extend(
                RemotePost(remote_id=p["id"], text=p["text"], remote_url=self.post_url(p["id"]))
                for p in payload.get("data", [])
            )
            next_token = payload.get("meta", {}).get("next_token")
            if not next_token:
                break
            params["pagination_token"] = next_token
        return posts[:limit]

    def delete(self, *, remote_id: str) -> None:
        # X answers {"deleted": false} when there was nothing to delete; either way the
        # post is not on X afterwards, which is all the caller asked for.
        self._request("DELETE", f"/2/tweets/{quote(remote_id)}", unclear=OutcomeUnknown)

    def revoke(self) -> str:
        """Revoke the refresh token, then the access token, at POST /2/oauth2/revoke.

        The refresh token first: while it works, whoever holds it can mint new access
        tokens. A confidential client authenticates with Basic auth, a public one names
        itself in the form, as for the token grant (x_oauth.py)."""
        ended = []
        for token, hint in (
            (self._refresh_token, "refresh_token"),
            (self._access_token, "access_token"),
        ):
            if not token:
                continue
            response = self._revoke_request(token, hint)
            revoked = _json_object(response).get("revoked")
            if revoked is not True:
                raise PublishError(
                    f"X did not say it revoked the {hint.replace('_', ' ')}.",
                    status_code=response.status_code,
                    body=response.text,
                )
            ended.append(hint.replace("_", " "))
        if not ended:
            return "There were no tokens to revoke."
        return f"X revoked the {' and the '.join(ended)}."

    def _revoke_request(self, token: str, hint: str) -> httpx.Response:
        auth = (self._client_id, self._client_secret) if self._client_secret else None
        try:
            response = httpx.post(
                f"{self.base_url}/2/oauth2/revoke",
                data={"token": token, "token_type_hint": hint, "client_id": self._client_id},
                auth=auth,
                headers={"User-Agent": USER_AGENT},
                timeout=self.timeout,
                verify=_TLS,
            )
        except _NOT_SENT as exc:
            raise NotSent(f"Could not reach X: {exc or type(exc).__name__}") from exc
        except httpx.TransportError as exc:
            raise PublishError(f"No answer from X ({type(exc).__name__}: {exc}).") from exc
        return _check(response, PublishError)

    def post_url(self, remote_id: str) -> str:
        return f"{self.public_base_url}/{quote(self.username)}/status/{quote(remote_id)}"

    def inbox_since(self, *, since_id: str = "", limit: int = 1000) -> InboxPage:
        """The mentions timeline (GET /2/users/:id/mentions), newest first, every page
        back to ``since_id``. X's replies to the account's posts start with its @name, so
        they are mentions too. A mention deleted by its author simply stops appearing;
        the post it answers may be gone, so nothing here needs it to exist."""
        user_id = self.user_id or self._resolve_user_id()
        params: dict[str, str | int] = {"max_results": _PAGE_MAX, **_MENTION_FIELDS}
        if since_id:
            params["since_id"] = since_id
        items: list[InboundPost] = []
        newest_id = ""
        while True:
            response = self._request("GET", f"/2/users/{quote(user_id)}/mentions", params=params)
            payload = _json_object(response)
            if "data" not in payload and payload.get("errors"):
                raise PublishError(
                    _platform_words(response), status_code=response.status_code, body=response.text
                )
            meta = payload.get("meta") or {}
            # The first page's newest_id is the newest of all pages: X pages from the top.
            newest_id = newest_id or str(meta.get("newest_id") or "")
            users = {
                str(u.get("id")): u
                for u in (payload.get("includes") or {}).get("users", [])
                if isinstance(u, dict)
            }
            items.extend(self._inbound(post, users) for post in payload.get("data") or [])
            next_token = meta.get("next_token")
            # With no since-id (the first read) only the newest page: the account's whole
            # history of mentions is not the inbox's business.
            if not next_token or not since_id or len(items) >= limit:
                break
            params["pagination_token"] = next_token
        return InboxPage(items=tuple(items), newest_id=newest_id or since_id)

    def _inbound(self, post: dict[str, Any], users: dict[str, dict[str, Any]]) -> InboundPost:
        try:
            remote_id = str(post["id"])
            posted_at = dt.datetime.fromisoformat(str(post["created_at"]))
        except (KeyError, TypeError, ValueError) as exc:
            raise PublishError(f"X's mention could not be read: {exc}") from exc
        author = users.get(str(post.get("author_id")), {})
        handle = str(author.get("username") or post.get("author_id") or "")
        kind, in_reply_to = "mention", ""
        for ref in post.get("referenced_tweets") or []:
            if ref.get("type") == "replied_to":
                kind, in_reply_to = "reply", str(ref.get("id") or "")
            elif ref.get("type") == "quoted" and kind == "mention":
                kind = "quote"
        return InboundPost(
            remote_id=remote_id,
            remote_url=f"{self.public_base_url}/{quote(handle)}/status/{quote(remote_id)}"
            if author
            else "",
            kind=kind,
            author_handle=handle,
            author_name=str(author.get("name") or ""),
            text=str(post.get("text") or ""),
            posted_at=posted_at,
            in_reply_to_id=in_reply_to,
            conversation_id=str(post.get("conversation_id") or ""),
        )

    def _upload(self, media: Media) -> str:
        """Upload one image and set its alt text; return its media id.

        No post exists until /2/tweets is called, so every unclear failure here (a
        timeout, a reset, a 5xx, an answer we cannot read) is NotSent: see base.py.
        """
        response = self._request(
            "POST",
            "/2/media/upload",
            unclear=NotSent,
            refused_token=True,
            data={"media_category": "tweet_image", "media_type": media.content_type},
            files={"media": (media.filename, media.data, media.content_type)},
        )
        try:
            media_id = str(response.json()["data"]["id"])
        except (ValueError, KeyError, TypeError) as exc:
            raise NotSent(
                f"X's answer to the image upload could not be read: {exc}",
                status_code=response.status_code,
                body=response.text,
            ) from exc
        if media.alt:
            metadata = {"alt_text": {"text": media.alt}}
            self._request(
                "POST",
                "/2/media/metadata",
                unclear=NotSent,
                refused_token=True,
                json={"id": media_id, "metadata": metadata},
            )
        return media_id

    def _resolve_user_id(self) -> str:
        response = self._request("GET", "/2/users/me")
        try:
            self.user_id = str(_json_object(response)["data"]["id"])
        except (KeyError, TypeError) as exc:
            raise PublishError(
                f"X's users/me answer has no user id: {exc}",
                status_code=response.status_code,
                body=response.text,
            ) from exc
        return self.user_id

    def _request(
        self,
        method: str,
        path: str,
        *,
        unclear: type[PublishError] = PublishError,
        refused_token: bool = False,
        **kwargs: Any,
    ) -> httpx.Response:
        """Send one request and return a 2xx response, or raise the matching PublishError.

        ``unclear`` is what a failure without a clear answer raises: OutcomeUnknown for
        requests that may have taken effect (create, delete), NotSent for those that
        cannot have made a post (media uploads), PublishError for reads.
        ``refused_token``: a 403 means the token lacks a permission (media.write for the
        media endpoints), which reconnecting the account fixes, so it is AuthFailed.
        """
        try:
            response = self._client.request(method, f"{self.base_url}{path}", **kwargs)
        except _NOT_SENT as exc:
            raise NotSent(f"Could not reach X: {exc or type(exc).__name__}") from exc
        except httpx.TransportError as exc:
            # Connected, and the request was (at least partly) written: ReadTimeout,
            # WriteTimeout, a reset or a dropped connection all leave open whether X acted
            # on it. ConnectTimeout is different (handled above): no connection, no request.
            consequence = "no post was made" if unclear is NotSent else "it may have been accepted"
            raise unclear(
                f"No answer from X ({type(exc).__name__}: {exc}); {consequence}."
            ) from exc
        return _check(response, unclear, refused_token=refused_token)


def _check(
    response: httpx.Response, unclear: type[PublishError], *, refused_token: bool = False
) -> httpx.Response:
    status = response.status_code
    if 200 <= status < 300:
        return response
    words = _platform_words(response)
    kwargs: dict[str, Any] = {"status_code": status, "body": response.text}
    if status == 429:
        raise RateLimited(words, reset_at=_reset_at(response), **kwargs)
    if status == 401:
        raise AuthFailed(words, **kwargs)
    if status == 403 and refused_token:
        raise AuthFailed(
            f"X refused to take the image ({words}). The connection may lack the permission "
            "to upload media: reconnect the account.",
            **kwargs,
        )
    if 400 <= status < 500:
        raise Rejected(words, **kwargs)
    # 5xx (and anything unexpected): X may have done it before failing to say so.
    raise unclear(words, **kwargs)


def _target_gone(error: Rejected) -> bool:
    # X's 403 to a reply (or quote) of a post that was deleted or is hidden from the
    # account: "You attempted to reply to a Tweet that is deleted or not visible to you."
    return error.status_code == 403 and "deleted or not visible" in str(error)


def _platform_words(response: httpx.Response) -> str:
    """X's own explanation, for the trainee and coach to read."""
    try:
        payload = response.json()
    except ValueError:
        payload = None
    if isinstance(payload, dict):
        errors = payload.get("errors")
        # X's invalid-request problem has a generic detail ("One or more parameters ...")
        # and the real reason in errors[0].message, so the specific message wins.
        if isinstance(errors, list) and errors and isinstance(errors[0], dict):
            first = errors[0]
            if first.get("message") or first.get("detail"):
                return str(first.get("message") or first.get("detail"))
        for key in ("detail", "title", "error_description"):
            if payload.get(key):
                return str(payload[key])
    return response.text.strip()[:500] or f"HTTP {response.status_code} {response.reason_phrase}"


def _reset_at(response: httpx.Response) -> dt.datetime | None:
    try:
        return dt.datetime.fromtimestamp(int(response.headers["x-rate-limit-reset"]), tz=dt.UTC)
    except (KeyError, ValueError, OverflowError, OSError):
        return None


def _json_object(response: httpx.Response) -> dict[str, Any]:
    try:
        payload = response.json()
    except ValueError as exc:
        raise PublishError(
            f"X's answer is not JSON: {exc}", status_code=response.status_code, body=response.text
        ) from exc
    if not isinstance(payload, dict):
        raise PublishError(
            "X's answer is not a JSON object", status_code=response.status_code, body=response.text
        )
    return payload
