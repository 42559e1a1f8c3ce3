"""The Bluesky publisher: the unmodified atproto SDK, logged in with an app password, with
every outcome mapped onto base.py.

No Django here: the caller passes the PDS address, credentials and the saved session in,
reads ``publisher.session`` back out to store it, and it works the same against
https://bsky.social, Bluesky's reference PDS (tests/pds) and the Bluesky double. Everything
but ``recent_posts`` uses the PDS's own com.atproto methods, so a PDS with no AppView is
enough to connect, publish, reconcile and delete.

A post's ``remote_id`` is its at:// URI (``at://<did>/app.bsky.feed.post/<rkey>``): it
names the record exactly, which replying and deleting need, and it is what reconcile sees.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import json
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, TypeVar
from urllib.parse import quote

import httpx
from atproto_client import Client, Session, models
from atproto_client.exceptions import (
    LoginRequiredError,
    RateLimitExceededError,
    RequestErrorBase,
)
from atproto_client.models.common import XrpcError
from atproto_client.request import Request
from atproto_client.utils import facet_detection
from atproto_core.exceptions import AtProtocolError, InvalidAtUriError
from atproto_core.uri import AtUri

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

T = TypeVar("T")

POST_COLLECTION = "app.bsky.feed.post"
_FEED_MAX = 100  # getAuthorFeed's limit ceiling
_NOTIFICATIONS_MAX = 100  # and listNotifications'
_INBOX_REASONS = ["mention", "reply", "quote"]
_CONNECT_TIMEOUT = 5.0

# Failures where the request surely never left this machine (as in x.py). The SDK raises
# them as NetworkError or InvokeTimeoutError "from" httpx's exception, or passes them on.
_NOT_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout, httpx.UnsupportedProtocol)
# The PDS refused the session itself, before doing anything: logging in again may cure it.
_STALE_SESSION = frozenset({"ExpiredToken", "InvalidToken"})
# XRPC errors about the account or its credentials, whatever the status code.
_AUTH_ERRORS = _STALE_SESSION | {"AuthenticationRequired", "AccountTakedown"}

# Record keys derived from idempotency keys are TIDs dated within 2023 (see record_key_for).
_RKEY_FIRST_MICROS = 1_672_531_200 * 1_000_000  # 2023-01-01T00:00:00Z
_RKEY_SPAN_MICROS = 365 * 24 * 3600 * 1_000_000
_S32 = "234567abcdefghijklmnopqrstuvwxyz"  # base32-sortable, the TID alphabet


class BlueskyPublisher:
    """Publishes as one Bluesky account, logged in with an app password."""

    def __init__(
        self,
        *,
        service_url: str,
        handle: str,
        app_password: str,
        session: str | None = None,
        public_base_url: str = "https://bsky.app",
        timeout: float = 15.0,
        transport: Callable[..., httpx.BaseTransport] | None = None,
    ) -> None:
        """``transport`` makes the httpx transport, given ``limits=``: the caller's rule for
        where a connection may go (sandbox.outbound) when a person typed the address."""
        self.service_url = service_url.rstrip("/")
        self._transport = transport
        self.handle = handle.removeprefix("@").lower()
        self.public_base_url = public_base_url.rstrip("/")
        self.timeout = timeout
        self._app_password = app_password
        self._saved_session = session
        self._client: Client | None = None
        # Whether the client's session came from the app password during this publisher's
        # life: if the PDS refuses a fresh session, logging in again will not help.
        self._fresh_login = False

    @property
    def session(self) -> str | None:
        """The SDK's session string, to store (encrypted) and pass in next time.

        Logging in on every publish would soon hit createSession's limit (30 per 5 minutes
        per account), so the caller keeps this. It changes whenever the SDK refreshes the
        session (the PDS rotates refresh tokens) or the publisher logs in again: read it
        after every use, whether the call succeeded or not.
        """
        if self._client is not None:
            return str(self._client.export_session_string())
        return self._saved_session

    def publish(
        self,
        *,
        text: str,
        idempotency_key: str,
        reply_to: str | None = None,
        quote_of: str | None = None,
        media: Sequence[Media] = (),
    ) -> PublishedPost:
        rkey = record_key_for(idempotency_key)
        # Until createRecord is sent, nothing can have been posted: failures up to then
        # (logging in, the look-ups) are NotSent unless they say something more specific.
        # Look before creating: an earlier attempt of this publication whose answer was
        # lost left its record under this very key, so hand back that one, not a second.
        # Two attempts racing past the look-up cannot both post either: the PDS refuses
        # a key in use (with a bare 500, so the loser gets OutcomeUnknown, and reconciles).
        existing = self._as_account(functools.partial(self._find_post, rkey=rkey), NotSent)
        if existing is not None:
            return existing
        reply = (
            self._as_account(functools.partial(self._reply_ref, parent_uri=reply_to), NotSent)
            if reply_to
            else None
        )
        quoted = (
            self._as_account(functools.partial(self._strong_ref, uri=quote_of), NotSent)
            if quote_of
            else None
        )
        # Blobs go up after the look-up (an earlier attempt's post needs none) and are
        # nothing until a record refers to them, so their failures are NotSent too.
        images = [
            models.AppBskyEmbedImages.Image(
                alt=item.alt,
                image=self._as_account(functools.partial(self._upload_blob, media=item), NotSent),
                aspect_ratio=models.AppBskyEmbedDefs.AspectRatio(
                    width=item.width, height=item.height
                )
                if item.width and item.height
                else None,
            )
            for item in media
        ]
        record = models.AppBskyFeedPost.Record(
            text=text,
            created_at=_now(),
            reply=reply,
            embed=_embed(images, quoted),
            # Links and hashtags are plain text on Bluesky unless marked up as facets.
            # Mentions are left plain: marking them needs a handle look-up per mention.
            facets=facet_detection.detect_facets(text) or None,
        )
        created = self._as_account(
            functools.partial(self._create_post, rkey=rkey, record=record), OutcomeUnknown
        )
        remote_id = str(created.uri)
        return PublishedPost(
            remote_id=remote_id, remote_url=self.post_url(remote_id), status_code=200
        )

    def identity(self) -> tuple[str, str]:
        """(DID, handle) of the account, as the PDS itself says: logs in and proves the app
        password works. getSession, not an app.bsky read: those go to an AppView, which
        a PDS may not have (the reference PDS in the tests has none)."""
        session = self._as_account(_get_session, PublishError)
        return str(session.did), str(session.handle)

    def find_published(self, *, idempotency_key: str) -> PublishedPost | None:
        """The post published under this idempotency key, or None if the repository has
        none: the record key is fixed by the key (record_key_for), so one getRecord on
        the PDS answers, with no AppView and however many posts came after."""
        lookup = functools.partial(self._find_post, rkey=record_key_for(idempotency_key))
        return self._as_account(lookup, PublishError)

    def recent_posts(self, *, limit: int = 100) -> list[RemotePost]:
        # An AppView read (app.bsky.feed.getAuthorFeed), in the order Bluesky shows posts:
        # bsky.social proxies it to Bluesky's AppView; a PDS without one refuses it. The
        # PDS's own listRecords would not do: it orders by record key, and Sandpit's keys
        # are dated by hash (record_key_for), not by when the post went out.
        posts: list[RemotePost] = []
        cursor: str | None = None
        while len(posts) < limit:
            page_size = min(limit - len(posts), _FEED_MAX)
            read = functools.partial(self._feed_page, cursor=cursor, limit=page_size)
            page = self._as_account(read, PublishError)
            did = self._did()
            # The author feed also carries the account's reposts of others' posts; reconcile
            # wants only what the account itself posted.
            posts.extend(
                RemotePost(
                    remote_id=str(item.post.uri),
                    text=str(getattr(item.post.record, "text", "")),
                    remote_url=self.post_url(str(item.post.uri)),
                )
                for item in page.feed
                if item.reason is None and item.post.author.did == did
            )
            cursor = page.cursor
            if not cursor or not page.feed:
                break
        return posts[:limit]

    def inbox_since(self, *, since_id: str = "", limit: int = 1000) -> InboxPage:
        """Mentions, replies and quotes of the account (app.bsky.notification
        .listNotifications, an AppView read the PDS proxies), newest first, paged by cursor
        down to the stop mark. Bluesky has no since-id, so ``since_id`` is a stop mark made
        here: the indexedAt and URI of the newest notification seen (``stop_mark``).
        A notification whose record is not a readable post is skipped and counted."""
        mark = _StopMark.parse(since_id)
        items: list[InboundPost] = []
        skipped = 0
        newest = ""
        cursor: str | None = None
        while True:
            read = functools.partial(self._notifications_page, cursor=cursor)
            page = self._as_account(read, PublishError)
            reached = False
            for notification in page.notifications:
                indexed_at, uri = str(notification.indexed_at), str(notification.uri)
                if mark is not None and mark.reached(indexed_at, uri):
                    reached = True
                    break
                newest = newest or stop_mark(indexed_at, uri)
                post = self._inbound(notification)
                if post is None:
                    skipped += 1
                else:
                    items.append(post)
            cursor = page.cursor
            # With no mark (the first read) only the newest page, as in x.py.
            if reached or not cursor or not page.notifications or mark is None:
                break
            if len(items) + skipped >= limit:
                break
        return InboxPage(items=tuple(items), newest_id=newest or since_id, skipped=skipped)

    def _notifications_page(self, client: Client, *, cursor: str | None) -> Any:
        params = models.AppBskyNotificationListNotifications.Params(
            cursor=cursor, limit=_NOTIFICATIONS_MAX, reasons=_INBOX_REASONS
        )
        return client.app.bsky.notification.list_notifications(params)

    def _inbound(self, notification: Any) -> InboundPost | None:
        record = notification.record
        text = getattr(record, "text", None)
        if not isinstance(text, str):
            return None  # not a post we can read (gone, or another kind of record)
        uri = str(notification.uri)
        reply = getattr(record, "reply", None)
        in_reply_to = str(reply.parent.uri) if reply is not None else ""
        handle = str(notification.author.handle)
        reason = str(notification.reason)
        return InboundPost(
            remote_id=uri,
            remote_url=(
                f"{self.public_base_url}/profile/{quote(handle)}/post/"
                f"{quote(uri.rsplit('/', 1)[-1])}"
            ),
            kind=reason if reason in _INBOX_REASONS else "mention",
            author_handle=handle,
            author_name=str(notification.author.display_name or ""),
            text=text,
            posted_at=_moment(getattr(record, "created_at", None))
            or _moment(notification.indexed_at)
            or dt.datetime.now(dt.UTC),
            in_reply_to_id=in_reply_to,
            conversation_id=str(reply.root.uri) if reply is not None else uri,
        )

    def delete(self, *, remote_id: str) -> None:
        uri = _at_uri(remote_id)
        # deleteRecord succeeds when the record is already gone, which is all we ask.
        self._as_account(functools.partial(self._delete_record, uri=uri), OutcomeUnknown)

    def revoke(self) -> str:
        """End the saved session at the PDS: com.atproto.server.deleteSession, authorised
        by the session's refresh JWT, so no one can refresh it again.

        What it cannot end: an access JWT already issued lives until it expires (the PDS
        does not revoke them), and the app password itself, which only the account's own
        password may revoke (Settings > App passwords), by hand."""
        saved = _decoded(self.session)
        if saved is None:
            return "There was no session to end."
        header = {"Authorization": f"Bearer {saved.refresh_jwt}"}

        def delete_session(client: Client) -> Any:
            # ignore_session_check: the SDK would otherwise refresh the session first,
            # making a new one just to end it.
            return client.com.atproto.server.delete_session(
                headers=header, ignore_session_check=True
            )

        with _mapped(PublishError):
            delete_session(self._new_client())
        return "Bluesky ended Sandpit's session (its refresh token)."

    def post_url(self, remote_id: str) -> str:
        rkey = remote_id.rsplit("/", 1)[-1]
        return f"{self.public_base_url}/profile/{quote(self.handle)}/post/{quote(rkey)}"

    # SDK calls, each run through _as_account ------------------------------------------------

    def _find_post(self, client: Client, *, rkey: str) -> PublishedPost | None:
        params = models.ComAtprotoRepoGetRecord.Params(
            repo=self._did(), collection=POST_COLLECTION, rkey=rkey
        )
        try:
            found = client.com.atproto.repo.get_record(params)
        except RequestErrorBase as exc:
            if _error_name(exc) == "RecordNotFound":
                return None
            raise
        return PublishedPost(
            remote_id=str(found.uri), remote_url=self.post_url(str(found.uri)), status_code=200
        )

    def _reply_ref(self, client: Client, *, parent_uri: str) -> Any:
        # A Bluesky reply names its parent and its thread's root, each by URI and CID.
        parent = self._target(client, parent_uri)
        parent_ref = models.create_strong_ref(parent)
        parent_reply = getattr(parent.value, "reply", None)
        root = parent_reply.root if parent_reply is not None else parent_ref
        return models.AppBskyFeedPost.ReplyRef(parent=parent_ref, root=root)

    def _strong_ref(self, client: Client, *, uri: str) -> Any:
        # A quote names the quoted post by URI and CID (the version it quotes).
        return models.create_strong_ref(self._target(client, uri))

    def _target(self, client: Client, at_uri: str) -> Any:
        """The record a reply or quote points at, from its repository. A record that is
        not there (deleted by its author) is TargetGone: nothing was posted."""
        uri = _at_uri(at_uri)
        try:
            return client.com.atproto.repo.get_record(
                models.ComAtprotoRepoGetRecord.Params(
                    repo=uri.hostname, collection=uri.collection, rkey=uri.rkey
                )
            )
        except RequestErrorBase as exc:
            if _error_name(exc) == "RecordNotFound":
                raise TargetGone(
                    f"The post being answered is no longer on Bluesky: {_words(exc)}",
                    **_details(exc),
                ) from exc
            raise

    def _upload_blob(self, client: Client, *, media: Media) -> Any:
        # The declared type, not the SDK's "*/*": the PDS sniffs the bytes anyway, but
        # says the right thing back when it cannot.
        uploaded = client.com.atproto.repo.upload_blob(
            media.data, headers={"Content-Type": media.content_type}
        )
        return uploaded.blob

    def _create_post(self, client: Client, *, rkey: str, record: Any) -> Any:
        data = models.ComAtprotoRepoCreateRecord.Data(
            repo=self._did(), collection=POST_COLLECTION, rkey=rkey, record=record
        )
        return client.com.atproto.repo.create_record(data)

    def _feed_page(self, client: Client, *, cursor: str | None, limit: int) -> Any:
        params = models.AppBskyFeedGetAuthorFeed.Params(
            actor=self._did(), cursor=cursor, limit=limit
        )
        return client.app.bsky.feed.get_author_feed(params)

    def _delete_record(self, client: Client, *, uri: AtUri) -> None:
        data = models.ComAtprotoRepoDeleteRecord.Data(
            repo=uri.hostname, collection=uri.collection, rkey=uri.rkey
        )
        client.com.atproto.repo.delete_record(data)

    # Sessions ---------------------------------------------------------------------------

    def _as_account(self, action: Callable[[Client], T], unclear: type[PublishError]) -> T:
        """Run one SDK call as the account, mapping its failures onto base.py.

        ``unclear`` is what a failure without a clear answer becomes: OutcomeUnknown for
        calls that change something, NotSent for look-ups before a create, PublishError
        for other reads. Logging in never posts anything, so its failures are NotSent.
        """
        with _mapped(NotSent):
            client = self._logged_in()
        with _mapped(unclear):
            try:
                return action(client)
            except (RequestErrorBase, LoginRequiredError) as exc:
                if self._fresh_login or not _stale_session(exc):
                    raise
        # The saved session was refused (its refresh token expired or was revoked, or the
        # PDS no longer takes its access token) before the PDS did anything, so it is
        # safe to log in with the app password and try once more.
        with _mapped(NotSent):
            client = self._log_in_with_password()
        with _mapped(unclear):
            return action(client)

    def _logged_in(self) -> Client:
        if self._client is not None:
            return self._client
        saved = _decoded(self._saved_session)
        if saved is None or saved.handle.lower() != self.handle:
            return self._log_in_with_password()
        client = self._new_client()
        # No request: the SDK refreshes the session on first use if its access token has
        # less than 15 minutes left (it reads the JWT's exp).
        client.login(session_string=self._saved_session, fetch_bsky_profile=False)
        self._client = client
        return client

    def _log_in_with_password(self) -> Client:
        client = self._new_client()
        # fetch_bsky_profile=False: login would also GET app.bsky.actor.getProfile, and
        # all we need from the account is its DID, which the session carries.
        client.login(self.handle, self._app_password, fetch_bsky_profile=False)
        self._client = client
        self._fresh_login = True
        return client

    def _new_client(self) -> Client:
        timeout = httpx.Timeout(self.timeout, connect=min(self.timeout, _CONNECT_TIMEOUT))
        # No keep-alive, as in x.py: a pooled connection the server has silently closed
        # fails mid-send, turning a surely-not-sent into an unknown.
        limits = httpx.Limits(max_keepalive_connections=0)
        request = Request(
            timeout=timeout,
            limits=limits,
            transport=self._transport(limits=limits) if self._transport else None,
            # Proxies from the environment would bypass the transport's rule.
            trust_env=self._transport is None,
        )
        return Client(base_url=self.service_url, request=request)

    def _did(self) -> str:
        session = _decoded(self.session)
        if session is None:
            raise LoginRequiredError
        return str(session.did)


def stop_mark(indexed_at: str, uri: str) -> str:
    """The inbox's since-id on Bluesky: when the newest notification seen was indexed, and
    its URI (at:// URIs have no spaces)."""
    return f"{indexed_at} {uri}"


@dataclass(frozen=True)
class _StopMark:
    indexed_at: dt.datetime
    uri: str

    @classmethod
    def parse(cls, since_id: str) -> _StopMark | None:
        indexed_at, _, uri = since_id.partition(" ")
        moment = _moment(indexed_at)
        return cls(moment, uri) if moment is not None and uri else None

    def reached(self, indexed_at: str, uri: str) -> bool:
        """Whether a notification is the mark or older. One indexed at the very same
        moment as the mark is read again (the fetch counts it as a duplicate)."""
        moment = _moment(indexed_at)
        return uri == self.uri or (moment is not None and moment < self.indexed_at)


def _moment(value: object) -> dt.datetime | None:
    try:
        moment = dt.datetime.fromisoformat(str(value))
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


def _get_session(client: Client) -> Any:
    return client.com.atproto.server.get_session()


def record_key_for(idempotency_key: str) -> str:
    """The record key a publication gets: a TID derived from its idempotency key.

    Bluesky has no idempotency header, but createRecord takes a client-chosen key and the
    PDS will not store a second record under a key already in use. So a retry of the same
    publication either finds its record (publish looks first) or is refused.

    A TID because the post lexicon says post keys are TIDs (posts under other keys have
    been reported missing from bsky.app). Its timestamp part comes from the hash, kept
    within 2023 so it is never in the future; Bluesky dates and orders posts by their
    ``createdAt`` and by when it indexed them, not by the key.
    """
    number = int.from_bytes(hashlib.sha256(idempotency_key.encode()).digest()[:8], "big")
    micros = _RKEY_FIRST_MICROS + (number >> 10) % _RKEY_SPAN_MICROS
    value = (micros << 10) | (number & 0x3FF)  # 10 bits of "clock id" from the hash too
    return "".join(_S32[(value >> shift) & 31] for shift in range(60, -1, -5))


@contextmanager
def _mapped(unclear: type[PublishError]) -> Iterator[None]:
    try:
        yield
    except PublishError:
        raise
    except RateLimitExceededError as exc:
        raise RateLimited(_words(exc), reset_at=exc.reset_at, **_details(exc)) from exc
    except RequestErrorBase as exc:
        if exc.response is None:
            raise _transport_failure(exc.__cause__ or exc, unclear) from exc
        # Look at the status before the class: the SDK raises a 502 (and 409, 413) as
        # NetworkError, the same class as a refused connection.
        status = exc.response.status_code
        if status in {401, 403} or _error_name(exc) in _AUTH_ERRORS:
            raise AuthFailed(_words(exc), **_details(exc)) from exc
        if 400 <= status < 500:
            raise Rejected(_words(exc), **_details(exc)) from exc
        # 5xx: the PDS may have stored the record before failing to say so.
        raise unclear(_words(exc), **_details(exc)) from exc
    except httpx.TransportError as exc:
        # The SDK wraps only httpx's timeouts and network errors; the rest (a server that
        # hung up without answering, an unusable URL) come through as they are.
        raise _transport_failure(exc, unclear) from exc
    except LoginRequiredError as exc:
        raise AuthFailed(f"Not logged in to Bluesky: {exc}") from exc
    except AtProtocolError as exc:
        # A 2xx whose body the SDK could not read, or another SDK failure after sending.
        raise unclear(f"Bluesky's answer could not be read: {exc}") from exc


def _embed(images: list[Any], quoted: Any) -> Any:
    """A post's embed: its images, the post it quotes (app.bsky.embed.record), or both
    (app.bsky.embed.recordWithMedia)."""
    pictures = models.AppBskyEmbedImages.Main(images=images) if images else None
    if quoted is None:
        return pictures
    record = models.AppBskyEmbedRecord.Main(record=quoted)
    if pictures is None:
        return record
    return models.AppBskyEmbedRecordWithMedia.Main(record=record, media=pictures)


def _transport_failure(exc: BaseException, unclear: type[PublishError]) -> PublishError:
    if isinstance(exc, _NOT_SENT):
        return NotSent(f"Could not reach Bluesky: {exc or type(exc).__name__}")
    # Connected, and the request was (at least partly) written: a read timeout, a reset or
    # a dropped connection all leave open whether the PDS acted on it.
    consequence = "no post was made" if unclear is NotSent else "it may have been accepted"
    return unclear(f"No answer from Bluesky ({type(exc).__name__}: {exc}); {consequence}.")


def _stale_session(exc: Exception) -> bool:
    return isinstance(exc, LoginRequiredError) or _error_name(exc) in _STALE_SESSION


def _error_name(exc: BaseException) -> str:
    response = getattr(exc, "response", None)
    content = getattr(response, "content", None)
    return str(content.error) if isinstance(content, XrpcError) else ""


def _words(exc: RequestErrorBase) -> str:
    """The PDS's own explanation (its ``message``, else its ``error``), for trainee and coach."""
    content = exc.response.content if exc.response is not None else None
    if isinstance(content, XrpcError):
        return str(content.message or content.error)
    return str(exc)


def _details(exc: RequestErrorBase) -> dict[str, Any]:
    if exc.response is None:
        return {"status_code": None, "body": ""}
    return {"status_code": exc.response.status_code, "body": _as_text(exc.response.content)}


def _as_text(content: object) -> str:
    """Whatever the server answered, as text to keep with the attempt. A server that is not
    a PDS can answer any JSON: the SDK hands it back as an XrpcError, bytes, or its own
    DotDict, which json cannot encode, so nothing here may assume a shape."""
    if isinstance(content, XrpcError):
        content = {"error": content.error, "message": content.message}
    elif isinstance(content, bytes):
        return content.decode(errors="replace")
    to_dict = getattr(content, "to_dict", None)
    if callable(to_dict):
        content = to_dict()
    return json.dumps(content, default=str)


def _at_uri(value: str) -> AtUri:
    try:
        uri = AtUri.from_str(value)
    except InvalidAtUriError as exc:
        raise Rejected(f"Not the at:// URI of a Bluesky post: {value!r}") from exc
    if uri.collection != POST_COLLECTION or not uri.rkey:
        raise Rejected(f"Not the at:// URI of a Bluesky post: {value!r}")
    return uri


def _now() -> str:
    # The form Bluesky's own app writes: UTC, milliseconds, "Z".
    return dt.datetime.now(dt.UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _decoded(session: str | None) -> Session | None:
    """The session in a session string, or None when it is of no use."""
    if not session:
        return None
    try:
        decoded = Session.decode(session)
        # The SDK reads the access token's expiry before every call and fails without it.
        if decoded.access_jwt_payload.exp is None:
            return None
    except (ValueError, AtProtocolError):
        return None
    return decoded
