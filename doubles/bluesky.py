"""A stand-in for a Bluesky PDS: a real HTTP server speaking the XRPC methods Sandpit uses,
closely enough that the unmodified atproto SDK (``atproto.Client``) runs against it.

It follows the lexicons and the reference PDS (sessions with app passwords and real
HS256 JWTs, records under ``at://<did>/app.bsky.feed.post/<rkey>``, XRPC error bodies
``{"error": ..., "message": ...}``, ``ratelimit-*`` headers with an epoch reset), answers
the two AppView reads the PDS proxies for the account (getProfile, getAuthorFeed), and can
be told to misbehave (see ``FAULTS``). Standard library only, like the other doubles.

XRPC methods (every response carries ``ratelimit-*`` headers):
    POST com.atproto.server.createSession    log in with handle (or DID) and app password
    POST com.atproto.server.refreshSession   rotate the session with the refresh JWT
    GET  com.atproto.server.getSession       the access JWT's account
    POST com.atproto.server.deleteSession    end the session named by the refresh JWT
    POST com.atproto.repo.uploadBlob         raw bytes; the record refers to it by CID
    POST com.atproto.repo.createRecord       app.bsky.feed.post only (images, quote, both)
    GET  com.atproto.sync.getBlob            a blob's bytes (what the image views link to)
    POST com.atproto.repo.deleteRecord       remove a record (no error when it is gone)
    GET  com.atproto.repo.getRecord          one record, with its cid
    GET  app.bsky.actor.getProfile           what ``Client.login`` fetches after logging in
    GET  app.bsky.feed.getAuthorFeed         the account's posts, newest first
    GET  app.bsky.notification.listNotifications  the account's mentions, replies and
                                             quotes by others, newest first (limit up to
                                             100, cursor, reasons); a deleted post's
                                             notification goes with it, as on the AppView
Human pages: ``/`` (accounts), ``/profile/<handle>``, ``/profile/<handle>/post/<rkey>``.
Control: ``POST|GET|DELETE /_double/faults``, ``GET /_double/state`` (with call counts),
``POST /_double/reset``, ``POST /_double/accounts``, ``POST /_double/mentions`` (someone
else posts to an account: ``{"to", "author", "display_name", "text", "reply_to",
"quote_of"}``, at:// URIs; the author is made if new; answers the post's URI),
``POST /_double/delete`` (``{"uri"}``: its author deletes a post).
Faults for the notifications read: ``inject("429", on="read")``, also "401", "5xx-before".

Known gaps, each a guess or a simplification: CIDs are CID-shaped (sha-256 of the record's
JSON, not of its DAG-CBOR), so never verify them; a rotated refresh token dies at once (the
PDS allows a short grace period); access JWTs cannot be revoked before they expire; the
words for a non-TID post key are a guess. The words for invalid records, missing
credentials, unreadable tokens and blobs that are missing, too big or not images are the
reference PDS's (@atproto/pds 0.4, checked by tests/coaching/publishing/
test_bluesky_reference_pds.py and by hand). Unreferenced blobs are kept until reset (the
PDS deletes them after a while).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import html
import json
import re
import secrets
import time
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass
from typing import Any
from urllib.parse import quote

from doubles.mastodon import grapheme_count, iso_time
from doubles.media import image_size, images_html, sniff_image
from doubles.server import (
    HttpDouble,
    HttpRequest,
    Reply,
    html_reply,
    json_reply,
    text_html,
)

# Faults that answer instead of the PDS: the record is NOT stored.
PRE_FAULTS = ("429", "401", "400", "5xx-before")
# Faults that strike after the record is stored, so the client cannot know it was accepted.
POST_FAULTS = ("5xx-after", "hang-after", "reset")
FAULTS = PRE_FAULTS + POST_FAULTS
# What uploadBlob can meet (``inject(..., on="upload")``); no post exists either way.
UPLOAD_FAULTS = ("429", "401", "5xx-before", *POST_FAULTS)
# What listNotifications can meet (``inject(..., on="read")``).
READ_FAULTS = ("429", "401", "5xx-before")
NOTIFICATIONS_DEFAULT, NOTIFICATIONS_MAX = 50, 100
QUOTE_EMBED = "app.bsky.embed.record"

POST_COLLECTION = "app.bsky.feed.post"
IMAGES_EMBED = "app.bsky.embed.images"
RECORD_EMBED = "app.bsky.embed.record"  # a quote: a strong ref to the quoted post
RECORD_WITH_MEDIA_EMBED = "app.bsky.embed.recordWithMedia"  # a quote with images
MAX_IMAGES = 4  # app.bsky.embed.images#main images maxLength
MAX_IMAGE_BYTES = 1_000_000  # and each image blob's maxSize
MAX_GRAPHEMES = 300  # app.bsky.feed.post#text maxGraphemes
MAX_BYTES = 3000  # and its maxLength, counted in UTF-8 bytes
ACCESS_SECONDS = 2 * 3600
REFRESH_SECONDS = 90 * 24 * 3600
FEED_DEFAULT, FEED_MAX = 50, 100
APP_PASSWORD_SCOPE = "com.atproto.appPass"  # noqa: S105 - a JWT scope, not a secret
REFRESH_SCOPE = "com.atproto.refresh"

# (limit, window in seconds), from Bluesky's documented PDS limits: every request, logins
# per account identifier, and repo writes in points (a create costs 3, a delete 1).
RATE_LIMITS = {"global": (3000, 300), "session": (30, 300), "write": (5000, 3600)}
WRITE_POINTS = {"com.atproto.repo.createRecord": 3, "com.atproto.repo.deleteRecord": 1}

INVALID_CREDENTIALS = "Invalid identifier or password"


def too_long(graphemes: int) -> str:
    """What the reference PDS (@atproto/pds 0.4) says of a post over 300 graphemes."""
    return (
        f"Invalid {POST_COLLECTION} record: grapheme too big "
        f"(maximum {MAX_GRAPHEMES}, got {graphemes}) at $.record.text"
    )


TOO_LONG = too_long(MAX_GRAPHEMES + 1)  # and what the "400" fault says


def image_too_big(size: int, index: int = 0) -> str:
    """What the reference PDS says of a post whose image ``index`` is over 1,000,000 bytes."""
    return (
        f"Invalid {POST_COLLECTION} record: blob too big (maximum {MAX_IMAGE_BYTES}, "
        f"got {size}) at $.record.embed.images[{index}].image"
    )


# The reference PDS answers a createRecord whose rkey is taken with a bare 500 (its repo
# code throws on the duplicate key and nothing turns that into an XRPC error; see
# bluesky-social/atproto issues 3718 and 4725, and PR 4728, still open, which would add one).
RKEY_TAKEN = ("InternalServerError", "Internal Server Error")
# Names and default words of XRPC's 5xx response types.
SERVER_ERRORS = {
    500: ("InternalServerError", "Internal Server Error"),
    502: ("UpstreamFailure", "Upstream Failure"),
    503: ("NotEnoughResources", "Not Enough Resources"),
    504: ("UpstreamTimeout", "Upstream Timeout"),
}

_S32 = "234567abcdefghijklmnopqrstuvwxyz"  # base32-sortable, the TID alphabet
_TID = re.compile(r"[234567abcdefghij][234567abcdefghijklmnopqrstuvwxyz]{12}")
_RECORD_KEY = re.compile(r"[A-Za-z0-9._:~-]{1,512}")
_HANDLE = re.compile(r"([A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z][A-Za-z0-9-]*")
_DATETIME = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)")

# XRPC method -> (HTTP method, needs an access JWT).
_METHODS = {
    "com.atproto.server.createSession": ("POST", False),
    "com.atproto.server.refreshSession": ("POST", False),  # it checks the refresh JWT itself
    "com.atproto.server.getSession": ("GET", True),
    "com.atproto.server.deleteSession": ("POST", False),  # it checks the refresh JWT itself
    "com.atproto.repo.createRecord": ("POST", True),
    "com.atproto.repo.uploadBlob": ("POST", True),
    "com.atproto.sync.getBlob": ("GET", False),
    "com.atproto.repo.deleteRecord": ("POST", True),
    "com.atproto.repo.getRecord": ("GET", False),
    "app.bsky.actor.getProfile": ("GET", False),
    "app.bsky.feed.getAuthorFeed": ("GET", False),
    "app.bsky.notification.listNotifications": ("GET", True),
}


def tid(micros: int, clock_id: int = 0) -> str:
    """A TID: 64 bits (top bit 0, 53 bits of microseconds, 10 of clock id), base32-sortable."""
    value = ((micros & (2**53 - 1)) << 10) | (clock_id & 0x3FF)
    return "".join(_S32[(value >> shift) & 31] for shift in range(60, -1, -5))


def cid_for(value: object) -> str:
    """A CIDv1 (dag-cbor, sha2-256) shaped string, in base32 as the PDS writes them."""
    digest = hashlib.sha256(json.dumps(value, sort_keys=True).encode()).digest()
    encoded = base64.b32encode(b"\x01\x71\x12\x20" + digest).decode().lower().rstrip("=")
    return f"b{encoded}"


def blob_cid(data: bytes) -> str:
    """A blob's CIDv1 (raw, sha2-256), which is exactly how the PDS names blobs."""
    digest = hashlib.sha256(data).digest()
    encoded = base64.b32encode(b"\x01\x55\x12\x20" + digest).decode().lower().rstrip("=")
    return f"b{encoded}"


@dataclass(frozen=True)
class BlueskyBlob:
    cid: str
    did: str
    mime_type: str
    size: int
    width: int | None
    height: int | None


@dataclass(frozen=True)
class BlueskyAccount:
    did: str
    handle: str
    display_name: str
    created_at: str
    app_passwords: tuple[str, ...]


@dataclass(frozen=True)
class BlueskyPost:
    uri: str
    cid: str
    did: str
    rkey: str
    record: dict[str, Any]
    indexed_at: str
    seq: int  # creation order, which the author feed follows

    @property
    def text(self) -> str:
        return str(self.record.get("text", ""))

    @property
    def images(self) -> list[dict[str, Any]]:
        """The entries of the record's images embed (alt, image, ...), on their own or
        beside a quote (recordWithMedia)."""
        return _embedded_images(self.record)

    @property
    def reply_parent(self) -> str | None:
        reply = self.record.get("reply")
        return str(reply["parent"]["uri"]) if isinstance(reply, dict) else None

    @property
    def quoted(self) -> str | None:
        """The at:// URI of the post this one quotes (app.bsky.embed.record)."""
        embed = self.record.get("embed")
        if not isinstance(embed, dict):
            return None
        if embed.get("$type") == RECORD_WITH_MEDIA_EMBED:
            embed = embed.get("record")
        if not isinstance(embed, dict) or embed.get("$type", RECORD_EMBED) != RECORD_EMBED:
            return None
        ref = embed.get("record")
        return str(ref["uri"]) if isinstance(ref, dict) and "uri" in ref else None


def _embedded_images(record: Mapping[str, Any]) -> list[dict[str, Any]]:
    embed = record.get("embed")
    if isinstance(embed, dict) and embed.get("$type") == RECORD_WITH_MEDIA_EMBED:
        embed = embed.get("media")
    if not isinstance(embed, dict) or embed.get("$type") != IMAGES_EMBED:
        return []
    return [i for i in embed.get("images", []) if isinstance(i, dict)]


def _xrpc_error(status: int, error: str, message: str) -> Reply:
    return json_reply(status, {"error": error, "message": message})


def _invalid(message: str) -> Reply:
    return _xrpc_error(400, "InvalidRequest", message)


def _auth_required(message: str = "Authentication Required") -> Reply:
    return _xrpc_error(401, "AuthenticationRequired", message)


class BlueskyDouble(HttpDouble):
    """The Bluesky PDS double. Start it, point ``BlueskyPublisher`` at ``base_url``, look."""

    server_name = "BlueskyDouble/1"
    fault_names = FAULTS
    upload_fault_names = UPLOAD_FAULTS
    read_fault_names = READ_FAULTS
    site_name = "Bluesky double"

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        hang_seconds: float = 30.0,
        rate_limit_reset_seconds: int = 60,
        access_seconds: int = ACCESS_SECONDS,
        verbose: bool = False,
    ) -> None:
        super().__init__(
            host,
            port,
            hang_seconds=hang_seconds,
            rate_limit_reset_seconds=rate_limit_reset_seconds,
            verbose=verbose,
        )
        # How long an access JWT lives; the SDK refreshes when fewer than 15 minutes remain.
        self.access_seconds = access_seconds
        # The status "5xx-before" and "5xx-after" answer with (500, 502, 503 or 504).
        self.server_error_status = 500
        self._secret = secrets.token_bytes(32)
        self._accounts: dict[str, BlueskyAccount] = {}
        self._refresh_tokens: dict[str, str] = {}  # jti -> did
        self._posts: dict[str, BlueskyPost] = {}  # at-uri -> post
        self._blobs: dict[str, BlueskyBlob] = {}  # cid -> blob (a CID names its bytes)
        self._blob_bytes: dict[str, bytes] = {}
        self._seq = 0
        self._last_tid_micros = 0

    # Python API for tests --------------------------------------------------------------

    def add_account(
        self, handle: str, *, app_password: str, display_name: str | None = None
    ) -> str:
        """Create an account (or add an app password to it); return its DID."""
        if not _HANDLE.fullmatch(handle):
            raise ValueError(f"{handle!r} is not a valid handle")
        with self._lock:
            account = self._account_for(handle)
            if account is None:
                digest = hashlib.sha256(handle.lower().encode()).digest()
                did = "did:plc:" + base64.b32encode(digest).decode().lower()[:24]
                account = BlueskyAccount(
                    did, handle.lower(), display_name or handle, iso_time(time.time()), ()
                )
            self._accounts[account.did] = BlueskyAccount(
                account.did,
                account.handle,
                display_name or account.display_name,
                account.created_at,
                (*account.app_passwords, app_password),
            )
            return account.did

    def add_mention(
        self,
        to: str,
        *,
        author: str,
        text: str,
        display_name: str | None = None,
        reply_to: str | None = None,
        quote_of: str | None = None,
    ) -> str:
        """Someone else (``author``, made if new) posts to the account ``to``: a mention
        (``@to`` is put in front unless the text names them, with its mention facet), a
        reply to the post ``reply_to`` or a quote of ``quote_of`` (at:// URIs). Returns
        the post's at:// URI."""
        with self._lock:
            target = self._account_for(to)
            if target is None:
                raise KeyError(to)
            for uri in (reply_to, quote_of):
                if uri is not None and uri not in self._posts:
                    raise KeyError(uri)
        with self._lock:
            known = self._account_for(author)
        did = (
            known.did
            if known
            else self.add_account(
                author, app_password=_new_app_password(), display_name=display_name
            )
        )
        with self._lock:
            mention = f"@{target.handle}"
            if mention not in text.lower():
                text = f"{mention} {text}"
            start = len(text[: text.lower().index(mention)].encode())
            record: dict[str, Any] = {
                "$type": POST_COLLECTION,
                "text": text,
                "createdAt": iso_time(time.time()),
                "facets": [
                    {
                        "index": {"byteStart": start, "byteEnd": start + len(mention.encode())},
                        "features": [
                            {"$type": "app.bsky.richtext.facet#mention", "did": target.did}
                        ],
                    }
                ],
            }
            if reply_to:
                parent = self._posts[reply_to]
                parent_reply = parent.record.get("reply")
                root = (
                    parent_reply["root"]
                    if isinstance(parent_reply, dict)
                    else {"uri": parent.uri, "cid": parent.cid}
                )
                record["reply"] = {"root": root, "parent": {"uri": parent.uri, "cid": parent.cid}}
            if quote_of:
                quoted = self._posts[quote_of]
                record["embed"] = {
                    "$type": QUOTE_EMBED,
                    "record": {"uri": quoted.uri, "cid": quoted.cid},
                }
            rkey = self._next_tid()
            self._seq += 1
            post = BlueskyPost(
                f"at://{did}/{POST_COLLECTION}/{rkey}",
                cid_for(record),
                did,
                rkey,
                record,
                iso_time(time.time()),
                self._seq,
            )
            self._posts[post.uri] = post
            return post.uri

    def delete_post(self, uri: str) -> None:
        """Its author deletes a post (deleteRecord): its notifications go with it."""
        with self._lock:
            self._posts.pop(uri, None)

    def revoke_sessions(self, handle: str) -> None:
        """Make every refresh JWT of the account stop working, as revoking an app password
        does (its access JWTs still work until they expire)."""
        with self._lock:
            account = self._account_for(handle)
            if account is None:
                raise KeyError(handle)
            for jti in [j for j, did in self._refresh_tokens.items() if did == account.did]:
                del self._refresh_tokens[jti]

    def accounts(self) -> list[BlueskyAccount]:
        with self._lock:
            return list(self._accounts.values())

    def posts_for(self, handle: str) -> list[BlueskyPost]:
        """The account's stored posts, newest first."""
        with self._lock:
            account = self._account_for(handle)
            if account is None:
                raise KeyError(handle)
            return self._posts_of(account.did)

    def profile_url(self, handle: str) -> str:
        return f"{self.base_url}/profile/{quote(handle)}"

    def blob(self, cid: str) -> BlueskyBlob:
        with self._lock:
            return self._blobs[cid]

    def blob_bytes(self, cid: str) -> bytes:
        with self._lock:
            return self._blob_bytes[cid]

    def blobs(self) -> list[BlueskyBlob]:
        """Every uploaded blob, referenced or not."""
        with self._lock:
            return list(self._blobs.values())

    def reset(self) -> None:
        """Forget posts, sessions, rate-limit counts, call counts and faults; keep accounts."""
        with self._lock:
            self._posts.clear()
            self._blobs.clear()
            self._blob_bytes.clear()
            self._refresh_tokens.clear()
            self._windows.clear()
            self._calls.clear()
            self.clear_faults()

    def state(self) -> dict[str, Any]:
        """Accounts, posts (creation order), XRPC call counts and faults."""
        with self._lock:
            return {
                "accounts": [
                    {"did": a.did, "handle": a.handle, "display_name": a.display_name}
                    for a in self._accounts.values()
                ],
                "posts": [
                    asdict(p) | {"text": p.text}
                    for p in sorted(self._posts.values(), key=lambda p: p.seq)
                ],
                "blobs": [asdict(b) for b in self._blobs.values()],
                "calls": self.calls(),
                "faults": self.faults(),
            }

    def faults(self) -> dict[str, Any]:
        return super().faults() | {"server_error_status": self.server_error_status}

    def configure_faults(self, payload: Mapping[str, Any]) -> None:
        if "server_error_status" in payload:
            status = int(payload["server_error_status"])
            if status not in SERVER_ERRORS:
                raise ValueError(f"server_error_status must be one of {sorted(SERVER_ERRORS)}")
            self.server_error_status = status
        super().configure_faults(payload)

    # Requests ---------------------------------------------------------------------------

    def handle(self, request: HttpRequest) -> Reply:
        if request.path.startswith("/xrpc/"):
            return self._xrpc(request)
        if request.path.startswith("/_double/"):
            return self.control(request, self._control)
        if request.method == "GET":
            return self._page(request.path)
        return _xrpc_error(405, "InvalidRequest", "Method Not Allowed")

    def _xrpc(self, request: HttpRequest) -> Reply:
        nsid = request.path.removeprefix("/xrpc/")
        self.count_call(nsid)
        # Taken before anything else, so each create (or upload) request consumes exactly
        # one fault.
        fault = None
        if nsid == "com.atproto.repo.createRecord":
            fault = self.next_fault()
        elif nsid == "com.atproto.repo.uploadBlob":
            fault = self.next_upload_fault()
        elif nsid == "app.bsky.notification.listNotifications":
            fault = self.next_read_fault()
        if fault == "429":
            limit, period = RATE_LIMITS["write" if nsid in WRITE_POINTS else "global"]
            reset_at = int(time.time()) + self.rate_limit_reset_seconds
            reply = _xrpc_error(429, "RateLimitExceeded", "Rate Limit Exceeded")
            reply.headers = _rate_headers(limit, 0, reset_at, period)
            return reply
        did, auth_failure = self._authenticate(request)
        allowed, headers = self._spend(nsid, request, did)
        expected_method, needs_auth = _METHODS.get(nsid, ("", False))
        if fault is not None and fault in self._fault_replies:
            reply = self._fault_replies[fault]()
        elif not expected_method:
            reply = _xrpc_error(501, "MethodNotImplemented", "Method Not Implemented")
        elif request.method != expected_method:
            reply = _invalid(f"Incorrect HTTP method ({request.method}) expected {expected_method}")
        elif needs_auth and auth_failure is not None:
            reply = auth_failure
        elif not allowed:
            reply = _xrpc_error(429, "RateLimitExceeded", "Rate Limit Exceeded")
        else:
            reply = self._method(nsid, request, did, fault)
        reply.headers = headers | reply.headers
        return reply

    @property
    def _fault_replies(self) -> dict[str, Callable[[], Reply]]:
        return {
            "401": _auth_required,
            "400": lambda: _invalid(TOO_LONG),
            "5xx-before": self._server_error,
        }

    def _server_error(self) -> Reply:
        return _xrpc_error(self.server_error_status, *SERVER_ERRORS[self.server_error_status])

    def _method(self, nsid: str, request: HttpRequest, did: str | None, fault: str | None) -> Reply:
        if nsid == "com.atproto.repo.uploadBlob":
            assert did is not None
            return self._upload_blob(request, did, fault)
        if nsid == "com.atproto.sync.getBlob":
            return self._get_blob(request)
        # Procedures without input (refreshSession) come with no body at all.
        body = request.json_object() if request.body else {}
        if body is None:
            return _invalid("Request body must be a JSON object")
        with self._lock:
            if nsid == "com.atproto.server.createSession":
                return self._create_session(body)
            if nsid == "com.atproto.server.refreshSession":
                return self._refresh_session(request)
            if nsid == "com.atproto.server.deleteSession":
                return self._delete_session(request)
            if nsid == "com.atproto.server.getSession":
                assert did is not None
                return json_reply(200, self._session_json(self._accounts[did]))
            if nsid == "com.atproto.repo.createRecord":
                assert did is not None
                return self._create_record(body, did, fault)
            if nsid == "com.atproto.repo.deleteRecord":
                assert did is not None
                return self._delete_record(body, did)
            if nsid == "com.atproto.repo.getRecord":
                return self._get_record(request)
            if nsid == "app.bsky.actor.getProfile":
                return self._get_profile(request)
            if nsid == "app.bsky.notification.listNotifications":
                assert did is not None
                return self._list_notifications(request, did)
            return self._get_author_feed(request)

    # Sessions ---------------------------------------------------------------------------

    def _create_session(self, body: Mapping[str, Any]) -> Reply:
        for name in ("identifier", "password"):
            if not isinstance(body.get(name), str):
                return _invalid(f'Input must have the property "{name}"')
        account = self._account_for(body["identifier"])
        if account is None or body["password"] not in account.app_passwords:
            return _auth_required(INVALID_CREDENTIALS)
        return json_reply(200, self._session_json(account) | self._new_tokens(account.did))

    def _refresh_session(self, request: HttpRequest) -> Reply:
        payload, failure = self._verify(request.bearer_token(), "refresh+jwt")
        if failure is not None:
            return failure
        assert payload is not None
        # Rotation: this refresh JWT is spent; the answer carries its successor.
        if self._refresh_tokens.pop(str(payload.get("jti")), None) is None:
            return _xrpc_error(400, "ExpiredToken", "Token has been revoked")
        account = self._accounts.get(str(payload.get("sub")))
        if account is None:
            return _invalid("Could not find account")
        return json_reply(200, self._session_json(account) | self._new_tokens(account.did))

    def _delete_session(self, request: HttpRequest) -> Reply:
        # As the reference PDS: the refresh JWT authorises it, and its session (the jti)
        # is forgotten, so it can never be refreshed again. Access JWTs already issued
        # keep working until they expire (see the module's known gaps). An output-less
        # procedure: 200 with no body.
        payload, failure = self._verify(request.bearer_token(), "refresh+jwt")
        if failure is not None:
            return failure
        assert payload is not None
        self._refresh_tokens.pop(str(payload.get("jti")), None)
        return Reply(200, b"", "text/plain; charset=utf-8")

    def session_ended(self, refresh_jwt: str) -> bool:
        """Whether the session this refresh JWT names can no longer be refreshed."""
        payload = json.loads(_unb64(refresh_jwt.split(".")[1]))
        with self._lock:
            return str(payload.get("jti")) not in self._refresh_tokens

    def _new_tokens(self, did: str) -> dict[str, str]:
        now = int(time.time())
        audience = f"did:web:{self.host}"
        access = {
            "scope": APP_PASSWORD_SCOPE,
            "sub": did,
            "iat": now,
            "exp": now + self.access_seconds,
            "aud": audience,
        }
        jti = secrets.token_urlsafe(24)
        self._refresh_tokens[jti] = did
        refresh = {
            "scope": REFRESH_SCOPE,
            "sub": did,
            "aud": audience,
            "jti": jti,
            "iat": now,
            "exp": now + REFRESH_SECONDS,
        }
        return {
            "accessJwt": self._sign("at+jwt", access),
            "refreshJwt": self._sign("refresh+jwt", refresh),
        }

    def _sign(self, typ: str, payload: Mapping[str, Any]) -> str:
        header = _b64(json.dumps({"typ": typ, "alg": "HS256"}).encode())
        body = _b64(json.dumps(payload).encode())
        signature = hmac.new(self._secret, f"{header}.{body}".encode(), hashlib.sha256).digest()
        return f"{header}.{body}.{_b64(signature)}"

    def _verify(self, token: str | None, typ: str) -> tuple[dict[str, Any] | None, Reply | None]:
        """The JWT's payload, or the XRPC error the PDS gives for it."""
        if not token:
            return None, _xrpc_error(401, "AuthMissing", "Authentication Required")
        try:
            header_part, body_part, signature_part = token.split(".")
            expected = hmac.new(
                self._secret, f"{header_part}.{body_part}".encode(), hashlib.sha256
            ).digest()
            if not hmac.compare_digest(_unb64(signature_part), expected):
                raise ValueError("bad signature")
            header = json.loads(_unb64(header_part))
            payload = json.loads(_unb64(body_part))
        except (ValueError, TypeError):
            return None, _xrpc_error(400, "InvalidToken", "Token could not be verified")
        if not isinstance(header, dict) or not isinstance(payload, dict):
            return None, _xrpc_error(400, "InvalidToken", "Token could not be verified")
        if header.get("typ") != typ:
            return None, _xrpc_error(400, "InvalidToken", "Invalid token type")
        if int(payload.get("exp", 0)) <= time.time():
            return None, _xrpc_error(400, "ExpiredToken", "Token has expired")
        return payload, None

    def _authenticate(self, request: HttpRequest) -> tuple[str | None, Reply | None]:
        payload, failure = self._verify(request.bearer_token(), "at+jwt")
        if failure is not None:
            return None, failure
        assert payload is not None
        with self._lock:
            did = str(payload.get("sub"))
            if did not in self._accounts:
                return None, _xrpc_error(400, "InvalidToken", "Token could not be verified")
            return did, None

    def _spend(
        self, nsid: str, request: HttpRequest, did: str | None
    ) -> tuple[bool, dict[str, str]]:
        """Count the request against its limits; the headers show its own limit (logins,
        writes) where it has one, else the global one."""
        identity = did or "anonymous"
        limit, period = RATE_LIMITS["global"]
        allowed, remaining, reset_at = self.spend((identity, "global"), limit, period)
        family, key, cost = "", identity, 1
        if nsid == "com.atproto.server.createSession":
            body = request.json_object() or {}
            family, key = "session", str(body.get("identifier", "")).lower()
        elif nsid in WRITE_POINTS and did is not None:
            family, cost = "write", WRITE_POINTS[nsid]
        if family:
            limit, period = RATE_LIMITS[family]
            allowed_here, remaining, reset_at = self.spend((key, family), limit, period, cost)
            allowed = allowed and allowed_here
        return allowed, _rate_headers(limit, remaining, reset_at, period)

    # Records ----------------------------------------------------------------------------

    def _create_record(self, body: Mapping[str, Any], did: str, fault: str | None) -> Reply:
        for name in ("repo", "collection", "record"):
            if name not in body:
                return _invalid(f'Input must have the property "{name}"')
        repo = self._account_for(str(body["repo"]))
        if repo is None:
            return _invalid(f"Could not find repo: {body['repo']}")
        if repo.did != did:
            return _auth_required()
        collection = body["collection"]
        if collection != POST_COLLECTION:
            return _invalid(f"The double stores {POST_COLLECTION} records only, not {collection}")
        record = body["record"]
        if not isinstance(record, dict):
            return _invalid("Input/record must be an object")
        record = {"$type": POST_COLLECTION} | record
        problem = _post_problem(record)
        if problem:
            return _invalid(problem)
        blob_problem = self._blob_problem(record)
        if blob_problem is not None:
            return blob_problem
        rkey = body.get("rkey")
        if rkey is not None and not (isinstance(rkey, str) and _RECORD_KEY.fullmatch(rkey)):
            return _invalid(f'Invalid record key (got "{rkey}") at $.rkey')
        if rkey is not None and not _TID.fullmatch(rkey):
            # The lexicon says post keys are TIDs; non-TID posts never reach the AppView.
            return _invalid(f"Invalid {POST_COLLECTION} record key: must be a TID")
        rkey = rkey or self._next_tid()
        uri = f"at://{did}/{POST_COLLECTION}/{rkey}"
        if uri in self._posts:
            return _xrpc_error(500, *RKEY_TAKEN)
        self._seq += 1
        post = BlueskyPost(
            uri, cid_for(record), did, rkey, record, iso_time(time.time()), self._seq
        )
        self._posts[uri] = post
        if fault == "5xx-after":
            return self._server_error()
        commit = {"cid": cid_for({"commit": post.uri, "seq": post.seq}), "rev": self._next_tid()}
        reply = json_reply(
            200, {"uri": uri, "cid": post.cid, "commit": commit, "validationStatus": "valid"}
        )
        reply.then = fault  # "hang-after", "reset" or None
        return reply

    def _upload_blob(self, request: HttpRequest, did: str, fault: str | None) -> Reply:
        data = request.body
        if not data:
            return _invalid("Request encoding (Content-Type) required but not provided")
        # The PDS sniffs the type from the bytes and trusts the header only when it cannot.
        declared = request.header("Content-Type").split(";")[0].strip()
        mime_type = (
            sniff_image(data)
            or (declared if declared != "*/*" else "")
            or ("application/octet-stream")
        )
        size = image_size(data)
        cid = blob_cid(data)
        with self._lock:
            self._blobs[cid] = BlueskyBlob(
                cid, did, mime_type, len(data), *(size if size else (None, None))
            )
            self._blob_bytes[cid] = data
        if fault == "5xx-after":
            return self._server_error()
        blob = {"$type": "blob", "ref": {"$link": cid}, "mimeType": mime_type, "size": len(data)}
        reply = json_reply(200, {"blob": blob})
        reply.then = fault  # "hang-after", "reset" or None
        return reply

    def _get_blob(self, request: HttpRequest) -> Reply:
        cid = request.param("cid") or ""
        with self._lock:
            blob = self._blobs.get(cid)
            if blob is None or blob.did != request.param("did"):
                return _xrpc_error(400, "BlobNotFound", "Blob not found")
            return Reply(200, self._blob_bytes[cid], blob.mime_type)

    def _blob_problem(self, record: Mapping[str, Any]) -> Reply | None:
        """The PDS checks each referenced blob against the lexicon's constraints, using
        what it stored at upload, not what the record claims."""
        for index, image in enumerate(_embedded_images(record)):
            cid = image["image"]["ref"]["$link"]
            blob = self._blobs.get(cid)
            if blob is None:
                return _xrpc_error(400, "BlobNotFound", f"Could not find blob: {cid}")
            # The reference PDS's own words (@atproto/pds 0.4), error name included.
            where = f"$.record.embed.images[{index}].image"
            if blob.size > MAX_IMAGE_BYTES:
                return _invalid(image_too_big(blob.size, index))
            if not blob.mime_type.startswith("image/"):
                return _invalid(
                    f'Invalid {POST_COLLECTION} record: Expected "image/*" '
                    f'(got "{blob.mime_type}") at {where}.mimeType'
                )
        return None

    def _delete_record(self, body: Mapping[str, Any], did: str) -> Reply:
        for name in ("repo", "collection", "rkey"):
            if name not in body:
                return _invalid(f'Input must have the property "{name}"')
        repo = self._account_for(str(body["repo"]))
        if repo is None:
            return _invalid(f"Could not find repo: {body['repo']}")
        if repo.did != did:
            return _auth_required()
        uri = f"at://{did}/{body['collection']}/{body['rkey']}"
        # deleteRecord makes sure the record is gone: nothing to delete is not an error.
        if self._posts.pop(uri, None) is None:
            return json_reply(200, {})
        commit = {"cid": cid_for({"delete": uri}), "rev": self._next_tid()}
        return json_reply(200, {"commit": commit})

    def _get_record(self, request: HttpRequest) -> Reply:
        for name in ("repo", "collection", "rkey"):
            if not request.param(name):
                return _invalid(f'Params must have the property "{name}"')
        repo_param = str(request.param("repo"))
        repo = self._account_for(repo_param)
        if repo is None:
            return _invalid(f"Could not find repo: {repo_param}")
        uri = f"at://{repo.did}/{request.param('collection')}/{request.param('rkey')}"
        post = self._posts.get(uri)
        if post is None or (request.param("cid") and request.param("cid") != post.cid):
            return _xrpc_error(400, "RecordNotFound", f"Could not locate record: {uri}")
        return json_reply(200, {"uri": post.uri, "cid": post.cid, "value": post.record})

    # AppView reads --------------------------------------------------------------------

    def _get_profile(self, request: HttpRequest) -> Reply:
        account = self._account_for(request.param("actor") or "")
        if account is None:
            return _invalid("Profile not found")
        return json_reply(
            200,
            self._profile_json(account)
            | {
                "description": "",
                "followersCount": 0,
                "followsCount": 0,
                "postsCount": len(self._posts_of(account.did)),
                "indexedAt": account.created_at,
            },
        )

    def _get_author_feed(self, request: HttpRequest) -> Reply:
        actor = request.param("actor")
        if not actor:
            return _invalid('Params must have the property "actor"')
        raw = request.param("limit") or str(FEED_DEFAULT)
        if not raw.isdigit() or not 1 <= int(raw) <= FEED_MAX:
            return _invalid(f"limit must be an integer from 1 to {FEED_MAX}")
        account = self._account_for(actor)
        if account is None:
            return _invalid("Profile not found")
        posts = self._posts_of(account.did)
        if request.param("filter") == "posts_no_replies":
            posts = [p for p in posts if p.reply_parent is None]
        # The cursor is opaque to clients; here it is the creation number to continue below.
        cursor = request.param("cursor")
        if cursor:
            posts = [p for p in posts if cursor.isdigit() and p.seq < int(cursor)]
        page, more = posts[: int(raw)], posts[int(raw) :]
        feed = [self._feed_item(p) for p in page]
        body: dict[str, Any] = {"feed": feed}
        if more:
            body["cursor"] = str(page[-1].seq)
        return json_reply(200, body)

    def _list_notifications(self, request: HttpRequest, did: str) -> Reply:
        """The AppView's notifications of mentions, replies and quotes (likes, follows and
        reposts are not kept here), newest first; the cursor is opaque (a creation number)."""
        raw = request.param("limit") or str(NOTIFICATIONS_DEFAULT)
        if not raw.isdigit() or not 1 <= int(raw) <= NOTIFICATIONS_MAX:
            return _invalid(f"limit must be an integer from 1 to {NOTIFICATIONS_MAX}")
        reasons = set(request.query.get("reasons", []))
        found = [
            (post, reason, subject)
            for post in sorted(self._posts.values(), key=lambda p: p.seq, reverse=True)
            if post.did != did
            for reason, subject in [self._reason(post, did)]
            if reason and (not reasons or reason in reasons)
        ]
        cursor = request.param("cursor")
        if cursor:
            found = [f for f in found if cursor.isdigit() and f[0].seq < int(cursor)]
        page, more = found[: int(raw)], found[int(raw) :]
        notifications = []
        for post, reason, subject in page:
            item = {
                "uri": post.uri,
                "cid": post.cid,
                "author": self._profile_json(self._accounts[post.did]),
                "reason": reason,
                "record": post.record,
                "isRead": False,
                "indexedAt": post.indexed_at,
                "labels": [],
            }
            if subject:
                item["reasonSubject"] = subject
            notifications.append(item)
        body: dict[str, Any] = {"notifications": notifications, "priority": False}
        if more:
            body["cursor"] = str(page[-1][0].seq)
        return json_reply(200, body)

    def _reason(self, post: BlueskyPost, did: str) -> tuple[str, str]:
        """Why ``did`` hears of the post, and the post of theirs it concerns: a reply to
        one of their posts, a quote of one, or a mention (a facet naming their DID)."""
        parent = self._posts.get(post.reply_parent or "")
        if parent is not None and parent.did == did:
            return "reply", parent.uri
        embed = post.record.get("embed")
        if isinstance(embed, dict) and embed.get("$type") == QUOTE_EMBED:
            quoted = str((embed.get("record") or {}).get("uri", ""))
            if quoted.startswith(f"at://{did}/"):
                return "quote", quoted
        for facet in post.record.get("facets") or []:
            for feature in facet.get("features") or []:
                if feature.get("did") == did:
                    return "mention", ""
        return "", ""

    def _feed_item(self, post: BlueskyPost) -> dict[str, Any]:
        item: dict[str, Any] = {"post": self._post_view(post)}
        reply = post.record.get("reply")
        if isinstance(reply, dict):
            item["reply"] = {
                "root": self._post_view_or_not_found(str(reply["root"]["uri"])),
                "parent": self._post_view_or_not_found(str(reply["parent"]["uri"])),
            }
        return item

    def _post_view_or_not_found(self, uri: str) -> dict[str, Any]:
        post = self._posts.get(uri)
        if post is None:
            return {"$type": "app.bsky.feed.defs#notFoundPost", "uri": uri, "notFound": True}
        return {"$type": "app.bsky.feed.defs#postView"} | self._post_view(post)

    def _post_view(self, post: BlueskyPost) -> dict[str, Any]:
        replies = sum(p.reply_parent == post.uri for p in self._posts.values())
        return {
            "uri": post.uri,
            "cid": post.cid,
            "author": self._profile_json(self._accounts[post.did]),
            "record": post.record,
            **self._embed_view(post),
            "replyCount": replies,
            "repostCount": 0,
            "likeCount": 0,
            "quoteCount": 0,
            "indexedAt": post.indexed_at,
            "labels": [],
        }

    def _embed_view(self, post: BlueskyPost) -> dict[str, Any]:
        """The hydrated embed the AppView puts on a post view: links instead of blobs."""
        if not post.images:
            return {}
        views = []
        for image in post.images:
            cid = image["image"]["ref"]["$link"]
            url = f"{self.base_url}/xrpc/com.atproto.sync.getBlob?did={post.did}&cid={cid}"
            view: dict[str, Any] = {"thumb": url, "fullsize": url, "alt": image.get("alt", "")}
            if isinstance(image.get("aspectRatio"), dict):
                view["aspectRatio"] = image["aspectRatio"]
            views.append(view)
        return {"embed": {"$type": f"{IMAGES_EMBED}#view", "images": views}}

    def _profile_json(self, account: BlueskyAccount) -> dict[str, Any]:
        return {
            "did": account.did,
            "handle": account.handle,
            "displayName": account.display_name,
            "labels": [],
            "createdAt": account.created_at,
        }

    def _session_json(self, account: BlueskyAccount) -> dict[str, Any]:
        return {
            "did": account.did,
            "handle": account.handle,
            # The SDK reads the PDS address from here and sends everything after login there.
            "didDoc": {
                "@context": ["https://www.w3.org/ns/did/v1"],
                "id": account.did,
                "alsoKnownAs": [f"at://{account.handle}"],
                "verificationMethod": [],
                "service": [
                    {
                        "id": "#atproto_pds",
                        "type": "AtprotoPersonalDataServer",
                        "serviceEndpoint": self.base_url,
                    }
                ],
            },
            "emailConfirmed": True,
            "emailAuthFactor": False,
            "active": True,
        }

    # Control and pages ------------------------------------------------------------------

    def _control(self, method: str, path: str, payload: dict[str, Any]) -> Reply | None:
        if method == "POST" and path == "/_double/mentions":
            uri = self.add_mention(
                str(payload["to"]),
                author=str(payload["author"]),
                text=str(payload["text"]),
                display_name=payload.get("display_name"),
                reply_to=payload.get("reply_to"),
                quote_of=payload.get("quote_of"),
            )
            return json_reply(201, {"uri": uri})
        if method == "POST" and path == "/_double/delete":
            self.delete_post(str(payload["uri"]))
            return json_reply(200, {"deleted": True})
        if method == "GET" and path == "/_double/state":
            return json_reply(200, self.state())
        if method == "POST" and path == "/_double/reset":
            self.reset()
            return json_reply(200, self.state())
        if method == "POST" and path == "/_double/accounts":
            app_password = payload.get("app_password") or _new_app_password()
            did = self.add_account(
                payload["handle"],
                app_password=app_password,
                display_name=payload.get("display_name"),
            )
            return json_reply(
                201, {"did": did, "handle": payload["handle"], "app_password": app_password}
            )
        return None

    def _page(self, path: str) -> Reply:
        parts = [p for p in path.split("/") if p]
        with self._lock:
            if not parts:
                return html_reply(self.site_name, "Accounts", self._accounts_html())
            account = (
                self._account_for(parts[1])
                if len(parts) in {2, 4} and parts[0] == "profile"
                else None
            )
            if account is not None and len(parts) == 2:
                title = f"{account.display_name} (@{account.handle})"
                return html_reply(self.site_name, title, self._profile_html(account))
            if account is not None and parts[2] == "post":
                post = self._posts.get(f"at://{account.did}/{POST_COLLECTION}/{parts[3]}")
                if post is not None:
                    title = f"Post {post.rkey} by @{account.handle}"
                    return html_reply(self.site_name, title, self._post_page_html(account, post))
        main = "<h1>Not found</h1>\n<p>Nothing is at this address.</p>"
        return html_reply(self.site_name, "Not found", main, 404)

    def _accounts_html(self) -> str:
        if not self._accounts:
            return "<h1>Accounts</h1>\n<p>No accounts yet.</p>"
        items = "\n".join(
            f'<li><a href="/profile/{quote(a.handle)}">'
            f"{html.escape(f'{a.display_name} (@{a.handle})')}</a></li>"
            for a in self._accounts.values()
        )
        return f"<h1>Accounts</h1>\n<ul>\n{items}\n</ul>"

    def _profile_html(self, account: BlueskyAccount) -> str:
        name = f"{html.escape(account.display_name)} (@{html.escape(account.handle)})"
        heading = f"<h1>{name}</h1>\n<h2>Posts</h2>"
        posts = self._posts_of(account.did)
        if not posts:
            return f"{heading}\n<p>No posts yet.</p>"
        items = "\n".join(
            f"<li><article>\n{_answering_html(p)}<p>{text_html(p.text)}</p>\n"
            f"{self._images_html(p)}"
            f'<p><a href="/profile/{quote(account.handle)}/post/{quote(p.rkey)}">'
            f"Post {html.escape(p.rkey)}</a>, "
            f'<time datetime="{p.indexed_at}">{p.indexed_at}</time></p>\n</article></li>'
            for p in posts
        )
        return f"{heading}\n<ol>\n{items}\n</ol>"

    def _post_page_html(self, account: BlueskyAccount, post: BlueskyPost) -> str:
        reply = _answering_html(post)
        handle = html.escape(account.handle)
        return (
            f"<h1>Post {html.escape(post.rkey)} by {html.escape(account.display_name)} "
            f"(@{handle})</h1>\n<article>\n{reply}<p>{text_html(post.text)}</p>\n"
            f"{self._images_html(post)}"
            f'<p><time datetime="{post.indexed_at}">{post.indexed_at}</time></p>\n</article>\n'
            f'<p><a href="/profile/{quote(account.handle)}">All posts by @{handle}</a></p>'
        )

    def _images_html(self, post: BlueskyPost) -> str:
        views = self._embed_view(post).get("embed", {}).get("images", [])
        return images_html(
            [(v["fullsize"], v["alt"], *_ratio(v.get("aspectRatio"))) for v in views]
        )

    # State helpers (call with the lock held) ----------------------------------------------

    def _account_for(self, actor: str) -> BlueskyAccount | None:
        """By DID, or by handle (handles are case-insensitive)."""
        if actor.startswith("did:"):
            return self._accounts.get(actor)
        return next((a for a in self._accounts.values() if a.handle == actor.lower()), None)

    def _posts_of(self, did: str) -> list[BlueskyPost]:
        return sorted(
            (p for p in self._posts.values() if p.did == did), key=lambda p: p.seq, reverse=True
        )

    def _next_tid(self) -> str:
        # Strictly increasing even within one microsecond, as a PDS's TID clock is.
        self._last_tid_micros = max(int(time.time() * 1_000_000), self._last_tid_micros + 1)
        return tid(self._last_tid_micros)


def _post_problem(record: Mapping[str, Any]) -> str:
    """What the lexicon validator says about an app.bsky.feed.post record, or ""."""
    prefix = f"Invalid {POST_COLLECTION} record: "
    if record.get("$type") != POST_COLLECTION:
        return f"Invalid $type: expected {POST_COLLECTION}, got {record.get('$type')}"
    # The words below are the reference PDS's (@atproto/pds 0.4's lexicon validator).
    text = record.get("text")
    if text is None:
        return f'{prefix}Missing required key "text" at $.record'
    if not isinstance(text, str):
        return f"{prefix}Expected string value type (got {text}) at $.record.text"
    if (graphemes := grapheme_count(text)) > MAX_GRAPHEMES:
        return too_long(graphemes)
    if (size := len(text.encode())) > MAX_BYTES:
        return f"{prefix}string too big (maximum {MAX_BYTES}, got {size}) at $.record.text"
    created_at = record.get("createdAt")
    if not isinstance(created_at, str):
        return f'{prefix}Missing required key "createdAt" at $.record'
    if not _DATETIME.fullmatch(created_at):
        return f'{prefix}Invalid datetime (got "{created_at}") at $.record.createdAt'
    embed_problem = _embed_problem(record.get("embed"), prefix)
    if embed_problem:
        return embed_problem
    reply = record.get("reply")
    if reply is not None:
        for end in ("root", "parent"):
            ref = reply.get(end) if isinstance(reply, dict) else None
            for name in ("uri", "cid"):
                if not isinstance(ref, dict) or not isinstance(ref.get(name), str):
                    return f'{prefix}Missing required key "{name}" at $.record.reply.{end}'
    return ""


def _answering_html(post: BlueskyPost) -> str:
    """What a post answers, on the human pages: its parent, the post it quotes."""
    said = f"<p>Replying to {html.escape(post.reply_parent)}.</p>\n" if post.reply_parent else ""
    if post.quoted:
        said += f"<p>Quoting {html.escape(post.quoted)}.</p>\n"
    return said


def _embed_problem(embed: object, prefix: str) -> str:
    """The lexicon's checks of the embeds the double takes: images, a quoted record
    (app.bsky.embed.record), or both (app.bsky.embed.recordWithMedia)."""
    if embed is None:
        return ""
    kind = embed.get("$type") if isinstance(embed, dict) else None
    if not isinstance(embed, dict) or kind not in (
        IMAGES_EMBED,
        RECORD_EMBED,
        RECORD_WITH_MEDIA_EMBED,
    ):
        return (
            f"{prefix}The double takes {IMAGES_EMBED}, {RECORD_EMBED} and "
            f"{RECORD_WITH_MEDIA_EMBED} embeds only, not {kind}"
        )
    if kind == RECORD_EMBED:
        return _strong_ref_problem(embed.get("record"), prefix, "$.record.embed.record")
    if kind == RECORD_WITH_MEDIA_EMBED:
        quoted = embed.get("record")
        if not isinstance(quoted, dict):
            return f'{prefix}Missing required key "record" at $.record.embed'
        where = "$.record.embed.record.record"
        problem = _strong_ref_problem(quoted.get("record"), prefix, where)
        media = embed.get("media")
        if problem or not isinstance(media, dict) or media.get("$type") != IMAGES_EMBED:
            return problem or f"{prefix}The double takes {IMAGES_EMBED} media only"
        return _images_problem(media, prefix)
    return _images_problem(embed, prefix)


def _strong_ref_problem(ref: object, prefix: str, where: str) -> str:
    # com.atproto.repo.strongRef: a uri and a cid, both required.
    for name in ("uri", "cid"):
        if not isinstance(ref, dict) or not isinstance(ref.get(name), str):
            return f'{prefix}Missing required key "{name}" at {where}'
    return ""


def _images_problem(embed: dict[str, Any], prefix: str) -> str:
    images = embed.get("images")
    if not isinstance(images, list):
        return f'{prefix}Missing required key "images" at $.record.embed'
    if len(images) > MAX_IMAGES:
        got = len(images)
        return f"{prefix}array too big (maximum {MAX_IMAGES}, got {got}) at $.record.embed.images"
    for index, image in enumerate(images):
        where = f"$.record.embed.images[{index}]"
        if not isinstance(image, dict) or not isinstance(image.get("alt"), str):
            return f'{prefix}Missing required key "alt" at {where}'
        blob = image.get("image")
        ref = blob.get("ref") if isinstance(blob, dict) else None
        if (
            not isinstance(blob, dict)
            or blob.get("$type") != "blob"
            or not isinstance(ref, dict)
            or not isinstance(ref.get("$link"), str)
        ):
            return f"{prefix}Expected blob value type at {where}.image"
    return ""


def _ratio(aspect: object) -> tuple[int | None, int | None]:
    if isinstance(aspect, dict):
        return aspect.get("width"), aspect.get("height")
    return None, None


def _rate_headers(limit: int, remaining: int, reset_at: int, window: int) -> dict[str, str]:
    return {
        "ratelimit-limit": str(limit),
        "ratelimit-remaining": str(remaining),
        "ratelimit-reset": str(reset_at),
        "ratelimit-policy": f"{limit};w={window}",
    }


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _new_app_password() -> str:
    # The shape Bluesky gives app passwords: four groups of four.
    alphabet = "abcdefghijklmnopqrstuvwxyz234567"
    return "-".join("".join(secrets.choice(alphabet) for _ in range(4)) for _ in range(4))
