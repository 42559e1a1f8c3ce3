"""A stand-in for a Mastodon server: a real HTTP server speaking the part of the Mastodon
REST API that Sandpit uses, closely enough that the unmodified Mastodon.py library runs
against it.

It follows Mastodon's documented contract (paths, form or JSON parameters, entity shapes,
``{"error": ...}`` bodies, ``X-RateLimit-*`` headers with an ISO 8601 reset, the
``Idempotency-Key`` header) and can be told to misbehave (see ``FAULTS``). Pure standard
library, like the X double, so tests can run it in-process (``MastodonDouble().start()``).

Endpoints (every API response carries ``X-RateLimit-*`` headers):
    GET    /api/v1/instance, /api/v2/instance     what Mastodon.py reads to learn the version
    GET    /api/v1/apps/verify_credentials        the token's application
    GET    /api/v1/accounts/verify_credentials    the token's account (with ``source``)
    GET    /api/v1/accounts/<id>                  an account
    GET    /api/v1/accounts/<id>/statuses         its statuses, newest first (limit, max_id, ...)
    POST   /api/v2/media, /api/v1/media           upload an image (multipart: file, description)
    GET    /api/v1/media/<id>                     one of your uploads
    POST   /api/v1/statuses                       create (form or JSON; Idempotency-Key; media_ids;
                                                  in_reply_to_id; quoted_status_id, as 4.5)
    GET    /api/v1/statuses/<id>                  one status
    DELETE /api/v1/statuses/<id>                  delete one of your statuses
    GET    /api/v1/notifications                  your notifications, newest first (types[],
                                                  exclude_types[], max_id, since_id, min_id,
                                                  limit up to 80; Link next/prev); a
                                                  mention's ``status`` is null once deleted
    GET    /.well-known/oauth-authorization-server  where the OAuth endpoints are (4.3)
    POST   /oauth/revoke                          revoke a token (form: client_id,
                                                  client_secret, token)
Human pages: ``/`` (accounts), ``/@<username>`` (profile), ``/@<username>/<id>`` (one post).
Control: ``POST|GET|DELETE /_double/faults``, ``GET /_double/state``, ``POST /_double/reset``,
``POST /_double/accounts``, ``POST /_double/mentions`` (someone else mentions an account:
``{"to", "author", "display_name", "text", "in_reply_to"}``; the author is made if new;
answers the status's and the notification's ids), ``DELETE /_double/statuses/<id>`` (its
author deletes a status: its notification stays, with ``status: null``).
Faults for the notifications read: ``inject("429", on="read")``, also "401", "5xx-before".

The HTTP plumbing (server, faults, rate-limit windows) is ``http_double.HttpDouble``.

Media follows Mastodon's API docs (v2 media answers 200 when an image is processed at once,
as small images are; ``description`` is the alt text, up to 1,500 characters; up to 4
per status). From memory and unverified: the words for a file that is not an image, too
big, or a media id that is unknown or already attached (Mastodon 4.x refuses those with
422 rather than dropping them, as older versions did).
"""

from __future__ import annotations

import html
import re
import secrets
import time
import unicodedata
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, replace
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote, urlencode

from doubles.media import image_size, images_html, multipart_form, sniff_image
from doubles.server import (
    HttpDouble,
    HttpRequest,
    Reply,
    html_reply,
    json_reply,
    text_html,
)

# Faults that answer instead of Mastodon: the status is NOT stored.
PRE_FAULTS = ("429", "401", "422", "5xx-before")
# Faults that strike after the status is stored, so the client cannot know it was accepted.
POST_FAULTS = ("5xx-after", "hang-after", "reset")
FAULTS = PRE_FAULTS + POST_FAULTS
# What a media upload can meet (``inject(..., on="upload")``); a post-fault stores the
# upload but loses the answer, and no status exists either way.
UPLOAD_FAULTS = ("429", "401", "5xx-before", *POST_FAULTS)
# What a read of notifications can meet (``inject(..., on="read")``).
READ_FAULTS = ("429", "401", "5xx-before")
NOTIFICATIONS_DEFAULT, NOTIFICATIONS_MAX = 40, 80

VERSION = "4.3.0"
API_VERSION = 2  # what Mastodon 4.3 reports in /api/v2/instance "api_versions"
MAX_CHARACTERS = 500
CHARACTERS_PER_URL = 23
IDEMPOTENCY_SECONDS = 3600  # Mastodon keeps idempotency keys in Redis for one hour
PAGE_DEFAULT, PAGE_MAX = 20, 40  # account statuses: Mastodon's default and ceiling
VISIBILITIES = ("public", "unlisted", "private", "direct")

INVALID_TOKEN = "The access token is invalid"  # noqa: S105 - an error message
BLANK_TEXT = "Validation failed: Text can't be blank"
TOO_LONG = f"Validation failed: Text character limit of {MAX_CHARACTERS} exceeded"
TOO_MANY_REQUESTS = "Too many requests"
RECORD_NOT_FOUND = "Record not found"
REPLY_NOT_FOUND = "The post you are trying to reply to does not appear to exist."
QUOTE_NOT_FOUND = "The post you are trying to quote does not appear to exist."
# Mastodon.py: "a status cannot have both a poll / media and a quote". The words are the
# double's guess.
QUOTE_WITH_MEDIA = "Validation failed: a post that quotes another cannot have attachments"
TEMPORARY_FAILURE = "There was a temporary problem serving your request, please try again"
MAX_MEDIA = 4
MAX_DESCRIPTION = 1500
IMAGE_SIZE_LIMIT = 16 * 1024 * 1024
IMAGE_TYPES = ("image/jpeg", "image/png", "image/gif", "image/webp")
TOO_MANY_MEDIA = "Cannot attach more than 4 files"
MEDIA_TYPE_INVALID = "Validation failed: File content type is invalid, File is invalid"
MEDIA_TOO_BIG = "Validation failed: File file size must be less than 16 MB"
DESCRIPTION_TOO_LONG = (
    f"Validation failed: Description is too long (maximum is {MAX_DESCRIPTION} characters)"
)

# (limit, period in seconds) per account, from Mastodon's documented limits: all API calls,
# posting statuses, and deleting them.
RATE_LIMITS = {
    "api": (300, 300),
    "statuses": (300, 3 * 3600),
    "delete": (30, 1800),
    "media": (30, 1800),
}

_USERNAME = r"[A-Za-z0-9_]{1,30}"
_URL = re.compile(r"https?://\S+", re.IGNORECASE)
_REMOTE_MENTION = re.compile(r"(@[A-Za-z0-9_]+)@[A-Za-z0-9.-]+\.[A-Za-z]{2,}")


def grapheme_count(text: str) -> int:
    """User-perceived characters, close enough for a double (not full UAX #29).

    Combining marks, variation selectors, emoji modifiers and tags extend the character
    before them; a zero-width joiner glues the next one on; flags are pairs.
    """
    count = 0
    joined = False
    half_flag = False
    for char in unicodedata.normalize("NFC", text):
        point = ord(char)
        if joined:
            joined = False
            continue
        if point == 0x200D:
            joined = True
            continue
        if (
            unicodedata.category(char) in {"Mn", "Mc", "Me"}
            or 0xFE00 <= point <= 0xFE0F
            or 0x1F3FB <= point <= 0x1F3FF
            or 0xE0020 <= point <= 0xE007F
        ):
            continue
        if 0x1F1E6 <= point <= 0x1F1FF:
            half_flag = not half_flag
            if not half_flag:
                continue
        count += 1
    return count


def status_length(text: str) -> int:
    """Mastodon's count: graphemes, any URL as 23, a remote mention as its local part."""
    countable = _URL.sub("x" * CHARACTERS_PER_URL, text)
    return grapheme_count(_REMOTE_MENTION.sub(r"\1", countable))


def status_content(text: str) -> str:
    """The HTML Mastodon serves for a plain-text status: escaped, paragraphs, line breaks.

    Mastodon also turns URLs, mentions and hashtags into links; the double does not, so a
    client that strips tags gets the same text back either way.
    """
    if not text.strip():
        return ""
    paragraphs = re.split(r"\n{2,}", text.replace("\r\n", "\n").strip("\n"))
    return "".join(f"<p>{_escape(p).replace(chr(10), '<br />')}</p>" for p in paragraphs)


def iso_time(epoch: float, timespec: str = "milliseconds") -> str:
    return datetime.fromtimestamp(epoch, UTC).isoformat(timespec=timespec).replace("+00:00", "Z")


def _escape(text: str) -> str:
    # Rails' html_escape, which Mastodon's formatter uses: ' becomes &#39;.
    return html.escape(text).replace("&#x27;", "&#39;")


@dataclass(frozen=True)
class MastodonAccount:
    id: str
    username: str
    display_name: str
    created_at: str


@dataclass(frozen=True)
class MastodonStatus:
    id: str
    account_id: str
    text: str
    created_at: str
    in_reply_to_id: str | None = None
    in_reply_to_account_id: str | None = None
    visibility: str = "public"
    language: str | None = None
    spoiler_text: str = ""
    media_ids: tuple[str, ...] = ()
    quoted_status_id: str | None = None


@dataclass(frozen=True)
class MastodonMedia:
    id: str
    account_id: str
    content_type: str
    size: int
    width: int | None
    height: int | None
    description: str = ""
    status_id: str | None = None  # set when a status takes it; then it cannot be reused


@dataclass(frozen=True)
class MastodonNotification:
    id: str
    type: str
    account_id: str  # whose notification it is
    from_account_id: str  # who did it
    status_id: str | None
    created_at: str


def _error(status: int, message: str) -> Reply:
    return json_reply(status, {"error": message})


def _unauthorized() -> Reply:
    reply = _error(401, INVALID_TOKEN)
    reply.headers["WWW-Authenticate"] = (
        f'Bearer realm="Doorkeeper", error="invalid_token", error_description="{INVALID_TOKEN}"'
    )
    return reply


_FAULT_REPLIES: dict[str, Callable[[], Reply]] = {
    "401": _unauthorized,
    "422": lambda: _error(422, TOO_LONG),
    "5xx-before": lambda: _error(503, TEMPORARY_FAILURE),
}


class MastodonDouble(HttpDouble):
    """The Mastodon double. Start it, point ``MastodonPublisher`` at ``base_url``, look."""

    server_name = "MastodonDouble/1"
    fault_names = FAULTS
    upload_fault_names = UPLOAD_FAULTS
    read_fault_names = READ_FAULTS
    site_name = "Mastodon double"

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        hang_seconds: float = 30.0,
        rate_limit_reset_seconds: int = 60,
        verbose: bool = False,
    ) -> None:
        super().__init__(
            host,
            port,
            hang_seconds=hang_seconds,
            rate_limit_reset_seconds=rate_limit_reset_seconds,
            verbose=verbose,
        )
        self._accounts: dict[str, MastodonAccount] = {}
        self._tokens: dict[str, str] = {}  # access token -> account id
        # access token -> (client_id, client_secret) of the application it was made in
        self._token_apps: dict[str, tuple[str, str]] = {}
        self._statuses: dict[str, MastodonStatus] = {}
        self._source: dict[str, str] = {}  # status id -> text as typed
        self._idempotency: dict[tuple[str, str], tuple[str, float]] = {}
        self._media: dict[str, MastodonMedia] = {}
        self._media_bytes: dict[str, bytes] = {}
        self._notifications: dict[str, MastodonNotification] = {}
        self._last_id = 0

    # Python API for tests --------------------------------------------------------------

    def add_account(
        self,
        username: str,
        *,
        token: str | None = None,
        display_name: str | None = None,
        client: tuple[str, str] | None = None,
    ) -> str:
        """Create an account with a never-expiring access token; return the account id.
        ``client`` is the (client key, client secret) of the application the token was
        made in (Preferences > Development); only that application may revoke it."""
        if not re.fullmatch(_USERNAME, username):
            raise ValueError(f"{username!r} is not a valid Mastodon username")
        with self._lock:
            account = self._account_by_username(username)
            if account is None:
                account = MastodonAccount(
                    self._new_id(), username, display_name or username, iso_time(time.time())
                )
                self._accounts[account.id] = account
            token = token or secrets.token_urlsafe(32)
            self._tokens[token] = account.id
            self._token_apps[token] = client or (
                secrets.token_urlsafe(32),
                secrets.token_urlsafe(32),
            )
            return account.id

    def token_works(self, token: str) -> bool:
        """Whether the access token still authenticates (it is gone once revoked)."""
        with self._lock:
            return token in self._tokens

    def accounts(self) -> list[MastodonAccount]:
        with self._lock:
            return list(self._accounts.values())

    def statuses_for(self, username: str) -> list[MastodonStatus]:
        """The account's stored statuses, newest first."""
        with self._lock:
            account = self._account_by_username(username)
            if account is None:
                raise KeyError(username)
            return self._statuses_of(account.id)

    def profile_url(self, username: str) -> str:
        return f"{self.base_url}/@{quote(username)}"

    def media_of(self, status: MastodonStatus) -> list[MastodonMedia]:
        """The status's attachments, in order, with their descriptions (alt text)."""
        with self._lock:
            return [self._media[m] for m in status.media_ids if m in self._media]

    def media_bytes(self, media_id: str) -> bytes:
        with self._lock:
            return self._media_bytes[media_id]

    def uploads(self) -> list[MastodonMedia]:
        """Every upload, attached or not, in upload order."""
        with self._lock:
            return sorted(self._media.values(), key=lambda m: int(m.id))

    def add_mention(
        self,
        to: str,
        *,
        author: str,
        text: str,
        display_name: str | None = None,
        in_reply_to: str | None = None,
    ) -> tuple[str, str]:
        """Someone else (``author``, made if new) mentions the account ``to``, or answers
        its status ``in_reply_to``: a status, and ``to``'s mention notification. The text
        gets ``@to`` in front unless it names them. Returns (status id, notification id)."""
        with self._lock:
            target = self._account_by_username(to)
            if target is None:
                raise KeyError(to)
            if in_reply_to is not None and in_reply_to not in self._statuses:
                raise KeyError(in_reply_to)
        with self._lock:
            known = self._account_by_username(author)
        author_id = known.id if known else self.add_account(author, display_name=display_name)
        with self._lock:
            if f"@{target.username}".lower() not in text.lower():
                text = f"@{target.username} {text}"
            parent = self._statuses.get(in_reply_to) if in_reply_to else None
            status = MastodonStatus(
                id=self._new_id(),
                account_id=author_id,
                text=text,
                created_at=iso_time(time.time()),
                in_reply_to_id=in_reply_to,
                in_reply_to_account_id=parent.account_id if parent else None,
            )
            self._statuses[status.id] = status
            notification = MastodonNotification(
                id=self._new_id(),
                type="mention",
                account_id=target.id,
                from_account_id=author_id,
                status_id=status.id,
                created_at=status.created_at,
            )
            self._notifications[notification.id] = notification
            return status.id, notification.id

    def delete_status(self, status_id: str) -> None:
        """Its author deletes a status; notifications of it stay, with ``status: null``."""
        with self._lock:
            self._statuses.pop(status_id, None)
            self._source.pop(status_id, None)

    def reset(self) -> None:
        """Forget statuses, idempotency keys, rate-limit counts, call counts and faults."""
        with self._lock:
            self._notifications.clear()
            self._statuses.clear()
            self._source.clear()
            self._media.clear()
            self._media_bytes.clear()
            self._idempotency.clear()
            self._windows.clear()
            self._calls.clear()
            self.clear_faults()

    def state(self) -> dict[str, Any]:
        """Accounts, statuses (creation order), call counts and faults."""
        with self._lock:
            names = {a.id: a.username for a in self._accounts.values()}
            return {
                "accounts": [asdict(a) for a in self._accounts.values()],
                "statuses": [
                    asdict(s) | {"username": names.get(s.account_id)}
                    for s in self._statuses.values()
                ],
                "media": [asdict(m) for m in self._media.values()],
                "calls": self.calls(),
                "faults": self.faults(),
            }

    # Requests ---------------------------------------------------------------------------

    def handle(self, request: HttpRequest) -> Reply:
        if request.path.startswith("/api/"):
            return self._api(request)
        if request.method == "GET" and request.path == "/.well-known/oauth-authorization-server":
            return json_reply(200, self._oauth_server())
        if request.method == "POST" and request.path == "/oauth/revoke":
            self.count_call("POST /oauth/revoke")
            return self._revoke(request)
        if request.path.startswith("/_double/"):
            return self.control(request, self._control)
        if request.method == "GET" and (
            m := re.fullmatch(r"/system/media_attachments/files/(\d+)/original\.\w+", request.path)
        ):
            with self._lock:
                media, data = self._media.get(m[1]), self._media_bytes.get(m[1])
            if media is None or data is None:
                return _error(404, RECORD_NOT_FOUND)
            return Reply(200, data, media.content_type)
        if request.method == "GET":
            return self._page(request.path)
        return _error(405, "Method Not Allowed")

    def _api(self, request: HttpRequest) -> Reply:
        route, arg, template = _route(request.method, request.path)
        self.count_call(f"{request.method} {template}")
        # Taken before anything else, so each create (or upload) request consumes exactly
        # one fault.
        fault = None
        if route == "create":
            fault = self.next_fault()
        elif route == "upload":
            fault = self.next_upload_fault()
        elif route == "notifications":
            fault = self.next_read_fault()
        account = self._authenticate(request)
        family = {"create": "statuses", "delete": "delete", "upload": "media"}.get(route, "api")
        if fault == "429":
            reply = _error(429, TOO_MANY_REQUESTS)
            limit = RATE_LIMITS[family][0]
            reply.headers = _rate_headers(limit, 0, time.time() + self.rate_limit_reset_seconds)
            return reply
        allowed, headers = self._consume(account.id if account else "anonymous", family)
        if fault is not None and fault in _FAULT_REPLIES:
            reply = _FAULT_REPLIES[fault]()
        elif route in _NEEDS_USER and account is None:
            reply = _unauthorized()
        elif not allowed:
            reply = _error(429, TOO_MANY_REQUESTS)
        elif route == "create":
            assert account is not None
            reply = self._create(request, account, fault)
        elif route == "upload":
            assert account is not None
            reply = self._upload(request, account, fault)
        elif route == "notifications":
            assert account is not None
            reply = self._notifications_page(request, account)
        else:
            reply = self._read_or_delete(route, arg, request, account)
        reply.headers = headers | reply.headers
        return reply

    def _read_or_delete(
        self, route: str, arg: str, request: HttpRequest, account: MastodonAccount | None
    ) -> Reply:
        with self._lock:
            if route == "instance_v1":
                return json_reply(200, self._instance_v1())
            if route == "instance_v2":
                return json_reply(200, self._instance_v2())
            if route == "app":
                return json_reply(
                    200,
                    {
                        "name": "Sandpit",
                        "website": None,
                        "scopes": ["read", "write"],
                        "redirect_uri": "urn:ietf:wg:oauth:2.0:oob",
                        "redirect_uris": ["urn:ietf:wg:oauth:2.0:oob"],
                    },
                )
            if route == "me":
                assert account is not None
                return json_reply(200, self._account_json(account, with_source=True))
            if route == "account" and arg in self._accounts:
                return json_reply(200, self._account_json(self._accounts[arg]))
            if route == "account_statuses" and arg in self._accounts:
                return self._account_statuses(request, arg)
            if route == "status" and arg in self._statuses:
                return json_reply(200, self._status_json(self._statuses[arg]))
            media = self._media.get(arg) if route == "media" else None
            if media is not None and account is not None and media.account_id == account.id:
                return json_reply(200, self._media_json(media))
            if route == "delete":
                assert account is not None
                return self._delete(account, arg)
        return _error(404, RECORD_NOT_FOUND)

    def _consume(self, identity: str, family: str) -> tuple[bool, dict[str, str]]:
        limit, period = RATE_LIMITS[family]
        allowed, remaining, reset_at = self.spend((identity, family), limit, period)
        return allowed, _rate_headers(limit, remaining, reset_at)

    def _authenticate(self, request: HttpRequest) -> MastodonAccount | None:
        token = request.bearer_token()
        with self._lock:
            account_id = self._tokens.get(token) if token else None
            return self._accounts.get(account_id) if account_id else None

    def _create(self, request: HttpRequest, account: MastodonAccount, fault: str | None) -> Reply:
        if request.header("Content-Type").startswith("application/json"):
            params: Mapping[str, Any] = request.json_object() or {}
            media_ids = params.get("media_ids") or []
        else:
            params = request.form()
            lists = request.form_lists()
            media_ids = lists.get("media_ids[]") or lists.get("media_ids") or []
        if not isinstance(media_ids, list):
            media_ids = [media_ids]
        media_ids = [str(m) for m in media_ids]
        text = params.get("status")
        text = text if isinstance(text, str) else ""
        reply_to = str(params["in_reply_to_id"]) if params.get("in_reply_to_id") else None
        quoting = str(params["quoted_status_id"]) if params.get("quoted_status_id") else None
        visibility = str(params.get("visibility") or "public")
        key = request.header("Idempotency-Key")
        with self._lock:
            # Mastodon looks up the parent first (in the controller), then the service
            # returns the earlier status for a repeated key before validating anything.
            parent = self._statuses.get(reply_to) if reply_to else None
            if reply_to and parent is None:
                return _error(404, REPLY_NOT_FOUND)
            if quoting and quoting not in self._statuses:
                return _error(404, QUOTE_NOT_FOUND)
            earlier = self._idempotency.get((account.id, key)) if key else None
            if earlier and earlier[1] > time.time() - IDEMPOTENCY_SECONDS:
                status = self._statuses.get(earlier[0])
                if status is None:  # deleted since: Mastodon's find raises, answering 404
                    return _error(404, RECORD_NOT_FOUND)
                return self._created(status, fault)
            if not text.strip() and not media_ids:
                return _error(422, BLANK_TEXT)
            if status_length(text) > MAX_CHARACTERS:
                return _error(422, TOO_LONG)
            if len(media_ids) > MAX_MEDIA:
                return _error(422, TOO_MANY_MEDIA)
            if quoting and media_ids:
                return _error(422, QUOTE_WITH_MEDIA)
            unusable = [
                m
                for m in media_ids
                if m not in self._media
                or self._media[m].account_id != account.id
                or self._media[m].status_id is not None
            ]
            if unusable:
                return _error(
                    422,
                    f"Media {', '.join(unusable)} not found or already attached to another post",
                )
            if visibility not in VISIBILITIES:
                return _error(422, f"'{visibility}' is not a valid visibility")
            status = MastodonStatus(
                id=self._new_id(),
                account_id=account.id,
                text=text,
                created_at=iso_time(time.time()),
                in_reply_to_id=parent.id if parent else None,
                in_reply_to_account_id=parent.account_id if parent else None,
                visibility=visibility,
                language=str(params["language"]) if params.get("language") else None,
                spoiler_text=str(params.get("spoiler_text") or ""),
                media_ids=tuple(media_ids),
                quoted_status_id=quoting,
            )
            for media_id in media_ids:
                self._media[media_id] = replace(self._media[media_id], status_id=status.id)
            self._statuses[status.id] = status
            self._source[status.id] = text
            if key:
                self._idempotency[(account.id, key)] = (status.id, time.time())
            return self._created(status, fault)

    def _created(self, status: MastodonStatus, fault: str | None) -> Reply:
        if fault == "5xx-after":
            return _error(503, TEMPORARY_FAILURE)
        reply = json_reply(200, self._status_json(status))  # Mastodon answers 200, not 201
        reply.then = fault  # "hang-after", "reset" or None
        return reply

    def _upload(self, request: HttpRequest, account: MastodonAccount, fault: str | None) -> Reply:
        form = multipart_form(request.header("Content-Type"), request.body)
        files = form.get("file") or []
        data = files[0].data if files else b""
        description = form["description"][0].text if form.get("description") else ""
        kind = sniff_image(data)
        if kind not in IMAGE_TYPES:
            # Mastodon reads the type from the bytes, whatever the name or declared type.
            return _error(422, MEDIA_TYPE_INVALID)
        if len(data) > IMAGE_SIZE_LIMIT:
            return _error(422, MEDIA_TOO_BIG)
        if len(description) > MAX_DESCRIPTION:
            return _error(422, DESCRIPTION_TOO_LONG)
        size = image_size(data)
        with self._lock:
            media = MastodonMedia(
                id=self._new_id(),
                account_id=account.id,
                content_type=kind,
                size=len(data),
                width=size[0] if size else None,
                height=size[1] if size else None,
                description=description,
            )
            self._media[media.id] = media
            self._media_bytes[media.id] = data
            body = self._media_json(media)
        if fault == "5xx-after":
            return _error(503, TEMPORARY_FAILURE)
        # v2 answers 202 (url null) while a file is still being processed and 200 when it
        # was processed at once, as images are; v1 always waits. The double's files are
        # all images, so both answer 200.
        reply = json_reply(200, body)
        reply.then = fault  # "hang-after", "reset" or None
        return reply

    def _media_json(self, media: MastodonMedia) -> dict[str, Any]:
        extension = media.content_type.split("/")[1].replace("jpeg", "jpg")
        url = f"{self.base_url}/system/media_attachments/files/{media.id}/original.{extension}"
        meta: dict[str, Any] = {}
        if media.width and media.height:
            meta["original"] = {
                "width": media.width,
                "height": media.height,
                "size": f"{media.width}x{media.height}",
                "aspect": round(media.width / media.height, 4),
            }
        return {
            "id": media.id,
            "type": "gifv" if media.content_type == "image/gif" else "image",
            "url": url,
            "preview_url": url,
            "remote_url": None,
            "preview_remote_url": None,
            "text_url": None,
            "meta": meta,
            "description": media.description or None,
            "blurhash": None,
        }

    def _delete(self, account: MastodonAccount, status_id: str) -> Reply:
        status = self._statuses.get(status_id)
        # Mastodon finds the status among the caller's own, so others' are "not found" too.
        if status is None or status.account_id != account.id:
            return _error(404, RECORD_NOT_FOUND)
        del self._statuses[status_id]
        text = self._source.pop(status_id, status.text)
        return json_reply(200, self._status_json(status) | {"text": text})

    def _account_statuses(self, request: HttpRequest, account_id: str) -> Reply:
        raw = request.param("limit") or str(PAGE_DEFAULT)
        limit = min(int(raw), PAGE_MAX) if raw.isdigit() and int(raw) > 0 else PAGE_DEFAULT
        statuses = self._statuses_of(account_id)
        if _truthy(request.param("exclude_replies")):
            statuses = [s for s in statuses if s.in_reply_to_id is None]
        max_id, since_id, min_id = (request.param(n) for n in ("max_id", "since_id", "min_id"))
        if max_id:
            statuses = [s for s in statuses if _id_below(s.id, max_id)]
        if since_id:
            statuses = [s for s in statuses if _id_below(since_id, s.id)]
        if min_id:
            # The statuses just after min_id (oldest first), still served newest first.
            statuses = [s for s in statuses if _id_below(min_id, s.id)][-limit:]
        page = statuses[:limit]
        reply = json_reply(200, [self._status_json(s) for s in page])
        if page:
            url = f"{self.base_url}/api/v1/accounts/{account_id}/statuses"
            next_url = f"{url}?{urlencode({'limit': limit, 'max_id': page[-1].id})}"
            prev_url = f"{url}?{urlencode({'limit': limit, 'min_id': page[0].id})}"
            reply.headers["Link"] = f'<{next_url}>; rel="next", <{prev_url}>; rel="prev"'
        return reply

    def _notifications_page(self, request: HttpRequest, account: MastodonAccount) -> Reply:
        raw = request.param("limit") or str(NOTIFICATIONS_DEFAULT)
        limit = (
            min(int(raw), NOTIFICATIONS_MAX)
            if raw.isdigit() and int(raw) > 0
            else NOTIFICATIONS_DEFAULT
        )
        types = set(request.query.get("types[]", []))
        excluded = set(request.query.get("exclude_types[]", []))
        max_id, since_id, min_id = (request.param(n) for n in ("max_id", "since_id", "min_id"))
        with self._lock:
            found = sorted(
                (
                    n
                    for n in self._notifications.values()
                    if n.account_id == account.id
                    and (not types or n.type in types)
                    and n.type not in excluded
                ),
                key=lambda n: int(n.id),
                reverse=True,
            )
            if max_id:
                found = [n for n in found if _id_below(n.id, max_id)]
            if since_id:
                found = [n for n in found if _id_below(since_id, n.id)]
            if min_id:
                found = [n for n in found if _id_below(min_id, n.id)][-limit:]
            page = found[:limit]
            body = [self._notification_json(n) for n in page]
        reply = json_reply(200, body)
        if page:
            # Mastodon's links keep the filters and move only the window.
            kept = [("limit", str(limit))]
            kept += [("types[]", t) for t in sorted(types)]
            kept += [("exclude_types[]", t) for t in sorted(excluded)]
            url = f"{self.base_url}/api/v1/notifications"
            next_url = f"{url}?{urlencode([*kept, ('max_id', page[-1].id)])}"
            prev_url = f"{url}?{urlencode([*kept, ('min_id', page[0].id)])}"
            reply.headers["Link"] = f'<{next_url}>; rel="next", <{prev_url}>; rel="prev"'
        return reply

    def _notification_json(self, notification: MastodonNotification) -> dict[str, Any]:
        status = self._statuses.get(notification.status_id or "")
        return {
            "id": notification.id,
            "type": notification.type,
            "created_at": notification.created_at,
            "group_key": f"ungrouped-{notification.id}",
            "account": self._account_json(self._accounts[notification.from_account_id]),
            "status": self._status_json(status) if status is not None else None,
        }

    def _oauth_server(self) -> dict[str, Any]:
        # The part of Mastodon 4.3's authorization server metadata (RFC 8414) that
        # Mastodon.py reads to find the revocation endpoint.
        return {
            "issuer": f"{self.base_url}/",
            "authorization_endpoint": f"{self.base_url}/oauth/authorize",
            "token_endpoint": f"{self.base_url}/oauth/token",
            "revocation_endpoint": f"{self.base_url}/oauth/revoke",
            "scopes_supported": ["read", "write", "write:statuses", "write:media"],
            "response_types_supported": ["code"],
            "grant_types_supported": ["authorization_code", "client_credentials"],
            "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
        }

    def _revoke(self, request: HttpRequest) -> Reply:
        """Doorkeeper's revocation (RFC 7009), as Mastodon documents POST /oauth/revoke:
        the application authenticates with client_id and client_secret; a token it does
        not hold is refused with 403; an unknown or already revoked token is a 200."""
        form = request.form()
        token = form.get("token", "")
        with self._lock:
            apps = set(self._token_apps.values())
            client = (form.get("client_id", ""), form.get("client_secret", ""))
            if client not in apps:
                return json_reply(
                    401,
                    {
                        "error": "invalid_client",
                        "error_description": "Client authentication failed due to unknown "
                        "client, no client authentication included, or unsupported "
                        "authentication method.",
                    },
                )
            if token in self._tokens:
                if self._token_apps.get(token) != client:
                    return json_reply(
                        403,
                        {
                            "error": "unauthorized_client",
                            "error_description": "You are not authorized to revoke this token",
                        },
                    )
                del self._tokens[token]
                del self._token_apps[token]
        return json_reply(200, {})

    def _control(self, method: str, path: str, payload: dict[str, Any]) -> Reply | None:
        if method == "POST" and path == "/_double/mentions":
            status_id, notification_id = self.add_mention(
                str(payload["to"]),
                author=str(payload["author"]),
                text=str(payload["text"]),
                display_name=payload.get("display_name"),
                in_reply_to=payload.get("in_reply_to"),
            )
            return json_reply(201, {"id": status_id, "notification_id": notification_id})
        if method == "DELETE" and (m := re.fullmatch(r"/_double/statuses/(\d+)", path)):
            self.delete_status(m[1])
            return json_reply(200, {"deleted": True})
        if method == "GET" and path == "/_double/state":
            return json_reply(200, self.state())
        if method == "POST" and path == "/_double/reset":
            self.reset()
            return json_reply(200, self.state())
        if method == "POST" and path == "/_double/accounts":
            token = payload.get("token") or secrets.token_urlsafe(32)
            client = (str(payload.get("client_id") or ""), str(payload.get("client_secret") or ""))
            account_id = self.add_account(
                payload["username"],
                token=token,
                display_name=payload.get("display_name"),
                client=client if all(client) else None,
            )
            return json_reply(
                201, {"id": account_id, "username": payload["username"], "token": token}
            )
        return None

    # Entities (call with the lock held) ------------------------------------------------

    def _account_json(
        self, account: MastodonAccount, *, with_source: bool = False
    ) -> dict[str, Any]:
        statuses = self._statuses_of(account.id)
        body: dict[str, Any] = {
            "id": account.id,
            "username": account.username,
            "acct": account.username,
            "display_name": account.display_name,
            "locked": False,
            "bot": False,
            "discoverable": True,
            "group": False,
            "created_at": account.created_at,
            "note": "",
            "url": f"{self.base_url}/@{account.username}",
            "uri": f"{self.base_url}/users/{account.username}",
            "avatar": f"{self.base_url}/avatars/original/missing.png",
            "avatar_static": f"{self.base_url}/avatars/original/missing.png",
            "header": f"{self.base_url}/headers/original/missing.png",
            "header_static": f"{self.base_url}/headers/original/missing.png",
            "followers_count": 0,
            "following_count": 0,
            "statuses_count": len(statuses),
            "last_status_at": statuses[0].created_at[:10] if statuses else None,
            "emojis": [],
            "fields": [],
        }
        if with_source:
            body["source"] = {
                "privacy": "public",
                "sensitive": False,
                "language": "en",
                "note": "",
                "fields": [],
                "follow_requests_count": 0,
            }
        return body

    def _status_json(self, status: MastodonStatus, *, nested: bool = False) -> dict[str, Any]:
        account = self._accounts[status.account_id]
        return self._quote_json(status, nested) | {
            "id": status.id,
            "created_at": status.created_at,
            "in_reply_to_id": status.in_reply_to_id,
            "in_reply_to_account_id": status.in_reply_to_account_id,
            "sensitive": False,
            "spoiler_text": status.spoiler_text,
            "visibility": status.visibility,
            "language": status.language,
            "uri": f"{self.base_url}/users/{account.username}/statuses/{status.id}",
            "url": f"{self.base_url}/@{account.username}/{status.id}",
            "replies_count": sum(s.in_reply_to_id == status.id for s in self._statuses.values()),
            "reblogs_count": 0,
            "favourites_count": 0,
            "edited_at": None,
            "favourited": False,
            "reblogged": False,
            "muted": False,
            "bookmarked": False,
            "pinned": False,
            "content": status_content(status.text),
            "filtered": [],
            "reblog": None,
            "application": {"name": "Sandpit", "website": None},
            "account": self._account_json(account),
            "media_attachments": [
                self._media_json(self._media[m]) for m in status.media_ids if m in self._media
            ],
            "mentions": [],
            "tags": [],
            "emojis": [],
            "card": None,
            "poll": None,
        }

    def _instance_v1(self) -> dict[str, Any]:
        return {
            "uri": f"{self.host}:{self.port}",
            "title": self.site_name,
            "short_description": "A stand-in for Mastodon used by Sandpit.",
            "description": "A stand-in for Mastodon used by Sandpit.",
            "email": "",
            "version": VERSION,
            "urls": {"streaming_api": f"ws://{self.host}:{self.port}"},
            "stats": {
                "user_count": len(self._accounts),
                "status_count": len(self._statuses),
                "domain_count": 1,
            },
            "thumbnail": None,
            "languages": ["en"],
            "registrations": False,
            "approval_required": False,
            "invites_enabled": False,
            "configuration": self._configuration(),
            "contact_account": None,
            "rules": [],
        }

    def _instance_v2(self) -> dict[str, Any]:
        return {
            "domain": f"{self.host}:{self.port}",
            "title": self.site_name,
            "version": VERSION,
            "source_url": "https://github.com/mastodon/mastodon",
            "description": "A stand-in for Mastodon used by Sandpit.",
            "usage": {"users": {"active_month": len(self._accounts)}},
            "thumbnail": {"url": f"{self.base_url}/packs/media/images/preview.png"},
            "languages": ["en"],
            "configuration": self._configuration()
            | {"urls": {"streaming": f"ws://{self.host}:{self.port}"}},
            "registrations": {"enabled": False, "approval_required": False, "message": None},
            "contact": {"email": "", "account": None},
            "rules": [],
            "api_versions": {"mastodon": API_VERSION},
        }

    @staticmethod
    def _configuration() -> dict[str, Any]:
        return {
            "statuses": {
                "max_characters": MAX_CHARACTERS,
                "max_media_attachments": 4,
                "characters_reserved_per_url": CHARACTERS_PER_URL,
            },
            "media_attachments": {"supported_mime_types": [], "image_size_limit": 16777216},
            "polls": {"max_options": 4, "max_characters_per_option": 50},
        }

    # Public pages -----------------------------------------------------------------------

    def _page(self, path: str) -> Reply:
        parts = [p for p in path.split("/") if p]
        with self._lock:
            if not parts:
                return html_reply(self.site_name, "Accounts", self._accounts_html())
            account = (
                self._account_by_username(parts[0][1:])
                if parts[0].startswith("@") and len(parts) <= 2
                else None
            )
            if account is not None and len(parts) == 1:
                title = f"{account.display_name} (@{account.username})"
                return html_reply(self.site_name, title, self._profile_html(account))
            status = self._statuses.get(parts[1]) if account and len(parts) == 2 else None
            if account is not None and status is not None and status.account_id == account.id:
                title = f"Post {status.id} by @{account.username}"
                return html_reply(self.site_name, title, self._status_page_html(account, status))
        main = "<h1>Not found</h1>\n<p>Nothing is at this address.</p>"
        return html_reply(self.site_name, "Not found", main, 404)

    def _accounts_html(self) -> str:
        if not self._accounts:
            return "<h1>Accounts</h1>\n<p>No accounts yet.</p>"
        items = "\n".join(
            f'<li><a href="/@{quote(a.username)}">'
            f"{html.escape(f'{a.display_name} (@{a.username})')}</a></li>"
            for a in self._accounts.values()
        )
        return f"<h1>Accounts</h1>\n<ul>\n{items}\n</ul>"

    def _profile_html(self, account: MastodonAccount) -> str:
        name = f"{html.escape(account.display_name)} (@{html.escape(account.username)})"
        heading = f"<h1>{name}</h1>\n<h2>Posts</h2>"
        statuses = self._statuses_of(account.id)
        if not statuses:
            return f"{heading}\n<p>No posts yet.</p>"
        items = "\n".join(
            f"<li><article>\n{_answering_html(s)}<p>{text_html(s.text)}</p>\n"
            f"{self._images_html(s)}"
            f'<p><a href="/@{quote(account.username)}/{s.id}">Post {s.id}</a>, '
            f'<time datetime="{s.created_at}">{s.created_at}</time></p>\n</article></li>'
            for s in statuses
        )
        return f"{heading}\n<ol>\n{items}\n</ol>"

    def _quote_json(self, status: MastodonStatus, nested: bool) -> dict[str, Any]:
        """Mastodon 4.5's ``quote``: a Quote (state and the quoted status) on a status, a
        ShallowQuote (state and its id) on the quoted status shown inside another."""
        if status.quoted_status_id is None:
            return {"quote": None}
        quoted = self._statuses.get(status.quoted_status_id)
        if quoted is None:
            return {"quote": {"state": "deleted", "quoted_status": None}}
        if nested:
            return {"quote": {"state": "accepted", "quoted_status_id": quoted.id}}
        return {
            "quote": {"state": "accepted", "quoted_status": self._status_json(quoted, nested=True)}
        }

    def _status_page_html(self, account: MastodonAccount, status: MastodonStatus) -> str:
        reply = (
            f"<p>Replying to post {status.in_reply_to_id}.</p>\n" if status.in_reply_to_id else ""
        )
        if status.quoted_status_id:
            reply += f"<p>Quoting post {status.quoted_status_id}.</p>\n"
        username = html.escape(account.username)
        return (
            f"<h1>Post {status.id} by {html.escape(account.display_name)} (@{username})</h1>\n"
            f"<article>\n{reply}<p>{text_html(status.text)}</p>\n{self._images_html(status)}"
            f'<p><time datetime="{status.created_at}">{status.created_at}</time></p>\n'
            f'</article>\n<p><a href="/@{quote(account.username)}">All posts by @{username}</a></p>'
        )

    def _images_html(self, status: MastodonStatus) -> str:
        media = [self._media[m] for m in status.media_ids if m in self._media]
        return images_html(
            [(self._media_json(m)["url"], m.description, m.width, m.height) for m in media]
        )

    # State helpers (call with the lock held) ----------------------------------------------

    def _account_by_username(self, username: str) -> MastodonAccount | None:
        # Mastodon usernames are case-insensitive.
        return next(
            (a for a in self._accounts.values() if a.username.lower() == username.lower()), None
        )

    def _statuses_of(self, account_id: str) -> list[MastodonStatus]:
        return sorted(
            (s for s in self._statuses.values() if s.account_id == account_id),
            key=lambda s: int(s.id),
            reverse=True,
        )

    def _new_id(self) -> str:
        # Mastodon's ids: milliseconds since 1970 shifted left 16 bits plus a sequence,
        # strictly increasing here even within one millisecond, so newest-first is by id.
        self._last_id = max(int(time.time() * 1000) << 16, self._last_id + 1)
        return str(self._last_id)


# Routes whose answer depends on who is asking; the rest are public, as on Mastodon.
_NEEDS_USER = frozenset({"create", "delete", "me", "app", "upload", "media", "notifications"})
_ROUTES: tuple[tuple[str, str, str], ...] = (
    ("GET", r"/api/v1/instance", "instance_v1"),
    ("GET", r"/api/v2/instance", "instance_v2"),
    ("GET", r"/api/v1/apps/verify_credentials", "app"),
    ("GET", r"/api/v1/accounts/verify_credentials", "me"),
    ("GET", r"/api/v1/accounts/(\d+)/statuses", "account_statuses"),
    ("GET", r"/api/v1/accounts/(\d+)", "account"),
    ("POST", r"/api/v1/statuses", "create"),
    ("POST", r"/api/v2/media", "upload"),
    ("POST", r"/api/v1/media", "upload"),
    ("GET", r"/api/v1/media/(\d+)", "media"),
    ("GET", r"/api/v1/statuses/(\d+)", "status"),
    ("DELETE", r"/api/v1/statuses/(\d+)", "delete"),
    ("GET", r"/api/v1/notifications", "notifications"),
)


def _route(method: str, path: str) -> tuple[str, str, str]:
    """(route name, path argument, path template for call counts)."""
    # Rails ignores a trailing slash, and Mastodon.py asks for /api/v1/instance/.
    path = path.rstrip("/")
    for route_method, pattern, name in _ROUTES:
        if method == route_method and (m := re.fullmatch(pattern, path)):
            arg = m.group(1) if m.groups() else ""
            return name, arg, pattern.replace(r"(\d+)", ":id")
    return "unknown", "", path


def _rate_headers(limit: int, remaining: int, reset_at: float) -> dict[str, str]:
    return {
        "X-RateLimit-Limit": str(limit),
        "X-RateLimit-Remaining": str(remaining),
        "X-RateLimit-Reset": iso_time(reset_at, "microseconds"),
    }


def _truthy(value: str | None) -> bool:
    return (value or "").lower() in {"1", "true", "t", "on"}


def _id_below(lower: str, upper: str) -> bool:
    return lower.isdigit() and upper.isdigit() and int(lower) < int(upper)


def _answering_html(status: MastodonStatus) -> str:
    """What a status answers, on the profile page: the post it replies to, the one it quotes."""
    said = f"<p>Replying to post {status.in_reply_to_id}.</p>\n" if status.in_reply_to_id else ""
    if status.quoted_status_id:
        said += f"<p>Quoting post {status.quoted_status_id}.</p>\n"
    return said
