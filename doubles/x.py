"""A stand-in for the X API v2: a real HTTP server speaking the subset Sandpit uses.

It follows X's documented contract (paths, response shapes, status codes, problem
bodies, rate-limit headers) so the X publisher can be exercised end to end without
credentials, and it can be told to misbehave in the ways X really does (see ``FAULTS``).
Pure standard library: nothing here needs Django, so tests and benchmarks can run it
in-process (``XDouble(...).start()``) and ``python -m doubles`` can run it standalone.

Endpoints (API responses always carry ``x-rate-limit-*`` headers):
    POST   /2/media/upload          upload one image (multipart: media, media_category)
    POST   /2/media/metadata        set an uploaded image's alt text
    POST   /2/tweets                create a post (bearer token), with media.media_ids, as a
                                    reply (reply.in_reply_to_tweet_id) or quote (quote_tweet_id)
    DELETE /2/tweets/<id>           delete one of your posts
    GET    /2/users/me              the token's user
    GET    /2/users/<id>/tweets     a user's posts, newest first (max_results, pagination_token)
    GET    /2/users/<id>/mentions   posts by others that mention or answer the user, newest
                                    first (since_id, max_results 5-100, pagination_token;
                                    tweet.fields, expansions=author_id -> includes.users;
                                    meta.newest_id, meta.next_token)
    POST   /2/oauth2/token          authorization_code (PKCE) and rotating refresh_token grants
    POST   /2/oauth2/revoke         revoke an access or refresh token (form: token,
                                    token_type_hint, client_id; or Basic auth)
Human pages: ``/`` (users), ``/<username>`` (profile), ``/<username>/status/<id>`` (one post).
Control, for other processes: ``POST|GET|DELETE /_double/faults``, ``GET /_double/state``,
``POST /_double/reset``, ``POST /_double/users``, ``POST /_double/authorization-codes``,
``POST /_double/mentions`` (someone else posts to a user: ``{"to", "author", "name",
"text", "in_reply_to", "quote_of"}``; the author is made if new; answers the post's id),
``DELETE /_double/posts/<id>`` (its author deletes a post: it stops appearing, as on X).
Faults for the mentions read: ``inject("429", on="read")`` (or ``"read_queue"`` in
``POST /_double/faults``), also "401" and "5xx-before".
``generate_mentions(username, every=20)`` (``python -m doubles --generate-mentions 20``)
has members of the public mention the user every so often (doubles/inbound.py), so a
development inbox is alive.

Media follows docs.x.com (POST /2/media/upload, POST /2/media/metadata, and
``{"media": {"media_ids": [...]}}`` on create; a token needs the ``media.write`` scope to
upload). Guesses, not checked against X: the words for a file that is not an image, too
big, or more than four media ids, and the shape of the metadata error for an unknown id.
"""

from __future__ import annotations

import base64
import hashlib
import html
import json
import os
import re
import secrets
import threading
import time
import unicodedata
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode

from doubles.inbound import sayings
from doubles.media import (
    image_size,
    images_html,
    multipart_form,
    sniff_image,
)
from doubles.server import (
    HttpDouble,
    HttpRequest,
    Reply,
    html_reply,
    json_reply,
    text_html,
)

# Faults that answer instead of X: the post is NOT stored.
PRE_FAULTS = ("429", "401", "403-duplicate", "5xx-before")
# Faults that strike after the post is stored, so the client cannot know it was accepted.
POST_FAULTS = ("5xx-after", "hang-after", "reset")
FAULTS = PRE_FAULTS + POST_FAULTS
# Faults an inbox read (the mentions timeline) can meet (``inject(..., on="read")``).
READ_FAULTS = ("429", "401", "5xx-before")
# Faults an image upload can meet (``inject(..., on="upload")``): the same, less the
# duplicate-content refusal, which only a post can earn. A post-fault here stores the
# image but loses the answer; no post exists either way.
UPLOAD_FAULTS = ("429", "401", "5xx-before", *POST_FAULTS)

MAX_WEIGHTED_LENGTH = 280
ACCESS_TOKEN_SECONDS = 7200
AUTHORIZATION_CODE_SECONDS = 30
DEFAULT_SCOPE = "tweet.read tweet.write users.read media.write offline.access"
MEDIA_SCOPE = "media.write"
MAX_MEDIA_PER_POST = 4
MAX_IMAGE_BYTES = 5 * 1024 * 1024  # tweet_image
MAX_ALT_TEXT = 1000
MEDIA_EXPIRES_SECONDS = 24 * 3600
IMAGE_TYPES = ("image/jpeg", "image/png", "image/webp", "image/gif")
INVALID_MEDIA_IDS = "Your media IDs are invalid."

DUPLICATE_DETAIL = "You are not allowed to create a Tweet with duplicate content."
# X's words for a reply to a post that was deleted or that the account cannot see; the
# quote's are the double's guess in the same form.
REPLY_GONE_DETAIL = "You attempted to reply to a Tweet that is deleted or not visible to you."
QUOTE_GONE_DETAIL = "You attempted to quote a Tweet that is deleted or not visible to you."
TOO_LONG_DETAIL = (
    "Your Tweet text is too long. For more information on how Twitter determines "
    "text length see https://github.com/twitter/twitter-text."
)
INVALID_REQUEST_TYPE = "https://api.twitter.com/2/problems/invalid-request"
INVALID_REQUEST_DETAIL = "One or more parameters to your request was invalid."

# Per user and 15-minute window, from X's documented user-context limits.
RATE_LIMITS = {
    "create": 200,
    "delete": 50,
    "me": 75,
    "timeline": 900,
    "mentions": 300,  # GET /2/users/:id/mentions, per user
    "token": 300,
    "revoke": 300,  # a guess: X documents no limit for revoking
    "media": 500,  # a guess: X states media limits per plan
    "metadata": 500,
    "other": 300,
}

_TWITTER_EPOCH_MS = 1288834974657
_USERNAME = r"[A-Za-z0-9_]{1,15}"
# twitter-text v3: these code point ranges weigh 1, everything else 2; any URL weighs 23.
_LIGHT_RANGES = ((0, 4351), (8192, 8205), (8208, 8223), (8242, 8247))
_URL = re.compile(r"https?://\S+", re.IGNORECASE)
_URL_WEIGHT = 23


def weighted_length(text: str) -> int:
    """X's weighted length, close enough for the double.

    Bare domains ("example.com") and multi-code-point emoji are counted as plain
    characters, so the double may reject a few posts near the limit that X would take.
    """
    text = unicodedata.normalize("NFC", text)
    urls = _URL.findall(text)
    rest = _URL.sub("", text)
    light = sum(any(lo <= ord(ch) <= hi for lo, hi in _LIGHT_RANGES) for ch in rest)
    return _URL_WEIGHT * len(urls) + light + 2 * (len(rest) - light)


@dataclass(frozen=True)
class DoubleUser:
    id: str
    username: str
    name: str


@dataclass(frozen=True)
class DoublePost:
    id: str
    author_id: str
    text: str  # as sent; X shows it with a t.co link to the media appended (shown_text)
    created_at: str
    in_reply_to_tweet_id: str | None = None
    media_ids: tuple[str, ...] = ()
    quote_tweet_id: str | None = None

    @property
    def shown_text(self) -> str:
        if not self.media_ids:
            return self.text
        short = hashlib.sha256(self.media_ids[0].encode()).hexdigest()[:10]
        return f"{self.text} https://t.co/{short}".strip()


@dataclass(frozen=True)
class DoubleMedia:
    id: str
    owner_id: str
    content_type: str
    size: int
    width: int | None
    height: int | None
    sha256: str
    uploaded_at: float
    alt_text: str = ""

    @property
    def media_key(self) -> str:
        return f"3_{self.id}"  # 3: a photo


@dataclass(frozen=True)
class _Grant:
    user_id: str
    scope: str
    client_id: str
    expires_at: float | None = None
    code_challenge: str = ""
    code_challenge_method: str = "S256"
    redirect_uri: str = ""


def _problem(status: int, title: str, detail: str, type_: str = "about:blank") -> Reply:
    payload = {"title": title, "type": type_, "status": status, "detail": detail}
    return json_reply(status, payload, "application/problem+json")


def _invalid_request(message: str, parameters: Mapping[str, list[str]] | None = None) -> Reply:
    payload = {
        "errors": [{"parameters": dict(parameters or {}), "message": message}],
        "title": "Invalid Request",
        "detail": INVALID_REQUEST_DETAIL,
        "type": INVALID_REQUEST_TYPE,
    }
    return json_reply(400, payload, "application/problem+json")


def _unauthorized() -> Reply:
    return _problem(401, "Unauthorized", "Unauthorized")


def _too_many_requests() -> Reply:
    return _problem(429, "Too Many Requests", "Too Many Requests")


def _service_unavailable() -> Reply:
    return _problem(503, "Service Unavailable", "Service Unavailable")


_FAULT_REPLIES: dict[str | None, Callable[[], Reply]] = {
    "401": _unauthorized,
    "403-duplicate": lambda: _problem(403, "Forbidden", DUPLICATE_DETAIL),
    "5xx-before": _service_unavailable,
}


def _oauth_error(description: str, error: str = "invalid_request") -> Reply:
    return json_reply(400, {"error": error, "error_description": description})


def _user_id_for(username: str) -> str:
    # Derived from the name so the demo user keeps its id across restarts without a state file.
    digest = hashlib.sha256(username.lower().encode()).digest()
    return str(10**15 + int.from_bytes(digest[:6], "big"))


def _pkce_matches(verifier: str, challenge: str, method: str) -> bool:
    if method == "plain":
        return secrets.compare_digest(verifier, challenge)
    derived = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest())
    return secrets.compare_digest(derived.rstrip(b"=").decode(), challenge)


class XDouble(HttpDouble):
    """The X API double. Start it, point ``XPublisher`` at ``base_url``, inspect what arrived.

    All state sits behind one lock because every request runs on its own thread.
    """

    server_name = "XDouble/1"
    fault_names = FAULTS
    upload_fault_names = UPLOAD_FAULTS
    read_fault_names = READ_FAULTS

    # How long an uploaded media id stays usable (X: a day); a test may shorten it.
    media_expires_seconds: float = MEDIA_EXPIRES_SECONDS

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        state_file: str | Path | None = None,
        hang_seconds: float = 30.0,
        rate_limit_reset_seconds: int = 60,
        rate_limit_window_seconds: int = 900,
        verbose: bool = False,
    ) -> None:
        super().__init__(
            host,
            port,
            hang_seconds=hang_seconds,
            rate_limit_reset_seconds=rate_limit_reset_seconds,
            verbose=verbose,
        )
        self.state_file = Path(state_file) if state_file else None
        self.rate_limit_window_seconds = rate_limit_window_seconds
        self._users: dict[str, DoubleUser] = {}
        self._tokens: dict[str, _Grant] = {}
        self._refresh_tokens: dict[str, _Grant] = {}
        self._codes: dict[str, _Grant] = {}
        self._posts: dict[str, DoublePost] = {}
        self._media: dict[str, DoubleMedia] = {}
        self._media_bytes: dict[str, bytes] = {}  # not in the state file: kept small
        self._last_post_id = 0
        # What inbound posts made by the control endpoint say of themselves: the post
        # they quote, and their conversation (kept when the post it answers is deleted).
        self._conversations: dict[str, str] = {}
        self._generator: threading.Thread | None = None
        self._generating = threading.Event()
        if self.state_file and self.state_file.exists():
            self._load()

    def profile_url(self, username: str) -> str:
        return f"{self.base_url}/{quote(username)}"

    # Python API for tests and the management command ---------------------------------

    def add_user(
        self,
        username: str,
        *,
        name: str | None = None,
        token: str | None = None,
        user_id: str | None = None,
        scope: str = DEFAULT_SCOPE,
    ) -> str:
        """Create (or update) a user with a bearer token that never expires; return its id."""
        if not re.fullmatch(_USERNAME, username):
            raise ValueError(f"{username!r} is not a valid X username")
        with self._lock:
            existing = self._user_by_username(username)
            if existing is not None:
                uid, name = existing.id, name or existing.name
            else:
                uid = user_id or _user_id_for(username)
            self._users[uid] = DoubleUser(uid, username, name or username)
            self._tokens[token or secrets.token_urlsafe(24)] = _Grant(uid, scope, "")
            self._save()
            return uid

    def token_for(self, username: str) -> str:
        """A non-expiring bearer token of the user (the one given to ``add_user``)."""
        with self._lock:
            user = self._user_by_username(username)
            for token, grant in self._tokens.items():
                if user and grant.user_id == user.id and grant.expires_at is None:
                    return token
        raise KeyError(username)

    def users(self) -> list[DoubleUser]:
        with self._lock:
            return list(self._users.values())

    def posts_for(self, username: str) -> list[DoublePost]:
        """The user's stored posts, newest first."""
        with self._lock:
            user = self._user_by_username(username)
            if user is None:
                raise KeyError(username)
            return self._posts_of(user.id)

    def media(self, media_id: str) -> DoubleMedia:
        with self._lock:
            return self._media[media_id]

    def media_of(self, post: DoublePost) -> list[DoubleMedia]:
        """The images attached to a post, in order, with their alt text."""
        with self._lock:
            return [self._media[m] for m in post.media_ids if m in self._media]

    def media_bytes(self, media_id: str) -> bytes:
        with self._lock:
            return self._media_bytes[media_id]

    def issue_authorization_code(
        self,
        username: str,
        *,
        code_challenge: str,
        code_challenge_method: str = "S256",
        redirect_uri: str = "",
        client_id: str = "",
        scope: str = DEFAULT_SCOPE,
    ) -> str:
        """What X's consent screen would hand back to the redirect URI, for the token grant."""
        if code_challenge_method not in {"S256", "plain"}:
            raise ValueError("code_challenge_method must be 'S256' or 'plain'")
        with self._lock:
            user = self._user_by_username(username)
            if user is None:
                raise KeyError(username)
            code = secrets.token_urlsafe(24)
            self._codes[code] = _Grant(
                user.id,
                scope,
                client_id,
                time.time() + AUTHORIZATION_CODE_SECONDS,
                code_challenge,
                code_challenge_method,
                redirect_uri,
            )
            return code

    # Inbound posts: the public mentioning and answering a user ---------------------------

    def add_mention(
        self,
        to: str,
        *,
        author: str,
        text: str,
        name: str | None = None,
        in_reply_to: str | None = None,
        quote_of: str | None = None,
    ) -> str:
        """Someone else (``author``, made if new) posts to the user ``to``: a mention, a
        reply to ``in_reply_to`` or a quote of ``quote_of``. The text gets ``@to`` in front
        unless it names them already, as X's reply box does. Returns the post's id."""
        with self._lock:
            target = self._user_by_username(to)
            if target is None:
                raise KeyError(to)
            author_user = self._user_by_username(author)
            if author_user is None:
                uid = _user_id_for(author)
                if not re.fullmatch(_USERNAME, author):
                    raise ValueError(f"{author!r} is not a valid X username")
                author_user = self._users[uid] = DoubleUser(uid, author, name or author)
            if in_reply_to is not None and in_reply_to not in self._posts:
                raise KeyError(in_reply_to)
            if not _names(text, target.username):
                text = f"@{target.username} {text}"
            post = DoublePost(
                id=self._new_post_id(),
                author_id=author_user.id,
                text=text,
                created_at=_now(),
                in_reply_to_tweet_id=in_reply_to,
                quote_tweet_id=quote_of,
            )
            self._posts[post.id] = post
            parent = self._posts.get(in_reply_to) if in_reply_to else None
            self._conversations[post.id] = self._conversation_of(parent) if parent else post.id
            self._save()
            return post.id

    def delete_post(self, post_id: str) -> None:
        """Its author deletes a post: it stops appearing anywhere, mentions included."""
        with self._lock:
            self._posts.pop(post_id, None)
            self._save()

    def generate_mentions(self, username: str, *, every: float) -> None:
        """Have members of the public mention ``username`` every ``every`` seconds (their
        words from doubles/inbound.py), until ``stop()``; every third answers one of the
        user's own posts, when there is one."""
        said = sayings(username)
        self._generating.clear()

        def run() -> None:
            count = 0
            while not self._generating.wait(every):
                voice, text = next(said)
                count += 1
                with self._lock:
                    user = self._user_by_username(username)
                    own = self._posts_of(user.id) if user else []
                reply_to = own[0].id if own and count % 3 == 0 else None
                try:
                    self.add_mention(
                        username,
                        author=voice.username,
                        name=voice.name,
                        text=text,
                        in_reply_to=reply_to,
                    )
                except KeyError:
                    continue  # the user, or the post answered, is gone: try next time

        self._generator = threading.Thread(target=run, name="x-mentions", daemon=True)
        self._generator.start()

    def stop(self) -> None:
        self._generating.set()
        if self._generator is not None:
            self._generator.join(timeout=5)
            self._generator = None
        super().stop()

    def reset(self) -> None:
        """Forget posts, media, faults, rate-limit counts and pending codes; keep users
        and tokens."""
        with self._lock:
            self._posts.clear()
            self._conversations.clear()
            self._media.clear()
            self._media_bytes.clear()
            self._windows.clear()
            self._codes.clear()
            self.clear_faults()
            self._save()

    def state(self) -> dict[str, Any]:
        """Users and posts (creation order), as ``GET /_double/state`` shows them."""
        with self._lock:
            names = {u.id: u.username for u in self._users.values()}
            return {
                "users": [asdict(u) for u in self._users.values()],
                "posts": [
                    asdict(p) | {"username": names.get(p.author_id)} for p in self._posts.values()
                ],
                "media": [asdict(m) for m in self._media.values()],
                "faults": self.faults(),
            }

    # Request handling (called from server threads) -----------------------------------

    def handle(self, request: HttpRequest) -> Reply:
        if request.path.startswith("/2/"):
            return self._api(request)
        if request.path.startswith("/_double/"):
            return self.control(request, self._control)
        if request.path == "/i/oauth2/authorize":
            return self._authorize(request)
        if request.method == "GET":
            return self._page(request.path)
        return _problem(405, "Method Not Allowed", "Method Not Allowed")

    def internal_error(self) -> Reply:
        # A bug in the double must look like X having one, not like a dropped connection.
        return _problem(500, "Internal Server Error", "Internal Server Error")

    def _api(self, request: HttpRequest) -> Reply:
        method, path = request.method, request.path
        endpoint, arg = "other", ""
        if method == "POST" and path == "/2/oauth2/token":
            endpoint = "token"
        elif method == "POST" and path == "/2/oauth2/revoke":
            endpoint = "revoke"
        elif method == "POST" and path == "/2/tweets":
            endpoint = "create"
        elif method == "POST" and path == "/2/media/upload":
            endpoint = "media"
        elif method == "POST" and path == "/2/media/metadata":
            endpoint = "metadata"
        elif method == "GET" and path == "/2/users/me":
            endpoint = "me"
        elif method == "DELETE" and (m := re.fullmatch(r"/2/tweets/(\d+)", path)):
            endpoint, arg = "delete", m[1]
        elif method == "GET" and (m := re.fullmatch(r"/2/users/(\d+)/tweets", path)):
            endpoint, arg = "timeline", m[1]
        elif method == "GET" and (m := re.fullmatch(r"/2/users/(\d+)/mentions", path)):
            endpoint, arg = "mentions", m[1]
        # Taken before anything else, so each create (or upload) request consumes exactly
        # one fault.
        fault = None
        if endpoint == "create":
            fault = self.next_fault()
        elif endpoint == "media":
            fault = self.next_upload_fault()
        elif endpoint == "mentions":
            fault = self.next_read_fault()
        if fault == "429":
            reset_at = int(time.time()) + self.rate_limit_reset_seconds
            reply = _too_many_requests()
            reply.headers = _rate_headers(RATE_LIMITS[endpoint], 0, reset_at)
            return reply
        user = self._authenticate(request)
        if endpoint in {"token", "revoke"}:
            identity = request.form().get("client_id") or "app"
        else:
            identity = user.id if user else "anonymous"
        allowed, headers = self._consume(endpoint, identity)
        if fault in PRE_FAULTS:
            reply = _FAULT_REPLIES[fault]()
        elif endpoint == "token":
            reply = self._token(request) if allowed else _too_many_requests()
        elif endpoint == "revoke":
            self.count_call("POST /2/oauth2/revoke")
            reply = self._revoke(request) if allowed else _too_many_requests()
        elif endpoint == "other":
            reply = json_reply(
                404, {"errors": [{"message": "Sorry, that page does not exist", "code": 34}]}
            )
        elif user is None:
            reply = _unauthorized()
        elif not allowed:
            reply = _too_many_requests()
        elif endpoint == "create":
            reply = self._create(request, user, fault)
        elif endpoint in {"media", "metadata"} and MEDIA_SCOPE not in self._scope_of(request):
            # What X answers a token granted without media.write (reconnecting fixes it).
            reply = _problem(403, "Forbidden", "Forbidden")
        elif endpoint == "media":
            reply = self._upload(request, user, fault)
        elif endpoint == "metadata":
            reply = self._metadata(request, user)
        elif endpoint == "me":
            reply = json_reply(200, {"data": asdict(user)})
        elif endpoint == "delete":
            reply = self._delete(user, arg)
        elif endpoint == "mentions":
            reply = self._mentions(request, arg)
        else:
            reply = self._timeline(request, arg)
        reply.headers = headers | reply.headers
        return reply

    def _consume(self, endpoint: str, identity: str) -> tuple[bool, dict[str, str]]:
        """Count one request against its 15-minute window; say if it was within the limit."""
        limit = RATE_LIMITS[endpoint]
        allowed, remaining, reset_at = self.spend(
            (identity, endpoint), limit, self.rate_limit_window_seconds
        )
        return allowed, _rate_headers(limit, remaining, reset_at)

    def _scope_of(self, request: HttpRequest) -> set[str]:
        token = request.bearer_token()
        with self._lock:
            grant = self._tokens.get(token) if token else None
            return set(grant.scope.split()) if grant else set()

    def _authenticate(self, request: HttpRequest) -> DoubleUser | None:
        token = request.bearer_token()
        with self._lock:
            grant = self._tokens.get(token) if token else None
            if grant is None or (grant.expires_at is not None and grant.expires_at < time.time()):
                return None
            return self._users.get(grant.user_id)

    def _create(self, request: HttpRequest, user: DoubleUser, fault: str | None) -> Reply:
        if not request.header("Content-Type").startswith("application/json"):
            return _invalid_request(
                "Requests with bodies must have content-type of application/json."
            )
        try:
            payload = json.loads(request.body)
        except ValueError:
            return _invalid_request("Request body is not valid JSON.")
        if not isinstance(payload, dict) or not all(
            isinstance(payload.get(key, {}), dict) for key in ("reply", "media")
        ):
            return _invalid_request("Request body must be a JSON object.")
        text = payload.get("text", "")
        reply_to = payload.get("reply", {}).get("in_reply_to_tweet_id")
        quoted = payload.get("quote_tweet_id")
        media_ids = payload.get("media", {}).get("media_ids", [])
        if not isinstance(media_ids, list) or not all(isinstance(m, str) for m in media_ids):
            return _invalid_request(
                "The `media.media_ids` parameter must be an array of strings.",
                {"media.media_ids": [json.dumps(media_ids)]},
            )
        for name, value in (("reply.in_reply_to_tweet_id", reply_to), ("quote_tweet_id", quoted)):
            if value is not None and not (isinstance(value, str) and value.isdigit()):
                return _invalid_request(
                    f"The `{name}` query parameter value [{value}] is not valid",
                    {name: [str(value)]},
                )
        if quoted is not None and "media" in payload:
            # X: media is "mutually exclusive from Quote Tweet ID, Poll, and card_uri".
            return _invalid_request(
                "The following fields are mutually exclusive: [media, quote_tweet_id]",
                {"media": [json.dumps(media_ids)], "quote_tweet_id": [quoted]},
            )
        if not isinstance(text, str) or (not text.strip() and not media_ids and quoted is None):
            return _invalid_request(
                "Post text is required when no media, poll or quote is attached.",
                {"text": [text if isinstance(text, str) else ""]},
            )
        if weighted_length(text) > MAX_WEIGHTED_LENGTH:
            return _problem(400, "Bad Request", TOO_LONG_DETAIL)
        if "media" in payload and not 1 <= len(media_ids) <= MAX_MEDIA_PER_POST:
            return _invalid_request(
                f"The `media.media_ids` array size must be between 1 and {MAX_MEDIA_PER_POST}.",
                {"media.media_ids": media_ids},
            )
        with self._lock:
            if not all(self._usable_media(m, user) for m in media_ids):
                return _invalid_request(INVALID_MEDIA_IDS, {"media.media_ids": media_ids})
            # A post that was deleted (or never existed) is "deleted or not visible".
            if reply_to is not None and reply_to not in self._posts:
                return _problem(403, "Forbidden", REPLY_GONE_DETAIL)
            if quoted is not None and quoted not in self._posts:
                return _problem(403, "Forbidden", QUOTE_GONE_DETAIL)
            if text.strip() and any(p.text == text for p in self._posts_of(user.id)):
                return _problem(403, "Forbidden", DUPLICATE_DETAIL)
            post = DoublePost(
                self._new_post_id(),
                user.id,
                text,
                datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z"),
                reply_to,
                tuple(media_ids),
                quoted,
            )
            self._posts[post.id] = post
            self._save()
        if fault == "5xx-after":
            return _service_unavailable()
        data = {"id": post.id, "text": post.shown_text, "edit_history_tweet_ids": [post.id]}
        reply = json_reply(201, {"data": data})
        reply.then = fault  # "hang-after", "reset" or None
        return reply

    def _usable_media(self, media_id: str, user: DoubleUser) -> bool:
        media = self._media.get(media_id)
        return (
            media is not None
            and media.owner_id == user.id
            and media.uploaded_at + self.media_expires_seconds > time.time()
        )

    def _upload(self, request: HttpRequest, user: DoubleUser, fault: str | None) -> Reply:
        """One-shot image upload: multipart/form-data with the file in ``media`` (or a
        JSON body with it base64-encoded, the form the current reference also shows)."""
        content_type = request.header("Content-Type")
        fields: dict[str, str] = {}
        data: bytes | None = None
        if content_type.startswith("application/json"):
            try:
                payload = json.loads(request.body)
                data = base64.b64decode(payload.get("media", ""), validate=True)
                fields = {k: v for k, v in payload.items() if isinstance(v, str) and k != "media"}
            except (ValueError, AttributeError):
                return _invalid_request("Request body is not valid JSON with base64 media.")
        else:
            form = multipart_form(content_type, request.body)
            fields = {name: parts[0].text for name, parts in form.items() if name != "media"}
            if form.get("media"):
                data = form["media"][0].data
        if not data:
            return _invalid_request("The `media` field is required.", {"media": [""]})
        category = fields.get("media_category", "tweet_image")
        if category != "tweet_image":
            return _invalid_request(
                f"The double accepts media_category tweet_image only, not {category}.",
                {"media_category": [category]},
            )
        kind = sniff_image(data)
        if kind not in IMAGE_TYPES:
            return _invalid_request("media type unrecognized.", {"media": ["<binary>"]})
        if len(data) > MAX_IMAGE_BYTES:
            return _invalid_request(
                f"File size exceeds {MAX_IMAGE_BYTES} bytes.", {"media": ["<binary>"]}
            )
        size = image_size(data)
        with self._lock:
            media = DoubleMedia(
                id=self._new_post_id(),  # media ids are snowflakes too
                owner_id=user.id,
                content_type=kind,
                size=len(data),
                width=size[0] if size else None,
                height=size[1] if size else None,
                sha256=hashlib.sha256(data).hexdigest(),
                uploaded_at=time.time(),
            )
            self._media[media.id] = media
            self._media_bytes[media.id] = data
            self._save()
        if fault == "5xx-after":
            return _service_unavailable()
        body: dict[str, Any] = {
            "id": media.id,
            "media_key": media.media_key,
            "size": media.size,
            "expires_after_secs": int(self.media_expires_seconds),
            "image": {"image_type": kind, "w": media.width, "h": media.height},
        }
        reply = json_reply(200, {"data": body})
        reply.then = fault  # "hang-after", "reset" or None
        return reply

    def _metadata(self, request: HttpRequest, user: DoubleUser) -> Reply:
        try:
            payload = json.loads(request.body)
        except ValueError:
            return _invalid_request("Request body is not valid JSON.")
        if not isinstance(payload, dict) or not isinstance(payload.get("metadata"), dict):
            return _invalid_request("The `id` and `metadata` fields are required.")
        media_id = str(payload.get("id", ""))
        alt = payload["metadata"].get("alt_text", {})
        text = alt.get("text") if isinstance(alt, dict) else None
        if not isinstance(text, str):
            return _invalid_request(
                "The `metadata.alt_text.text` field is required.", {"id": [media_id]}
            )
        if len(text) > MAX_ALT_TEXT:
            return _invalid_request(
                f"The alt text must be at most {MAX_ALT_TEXT} characters.", {"id": [media_id]}
            )
        with self._lock:
            if not self._usable_media(media_id, user):
                return _invalid_request(INVALID_MEDIA_IDS, {"id": [media_id]})
            media = self._media[media_id] = replace(self._media[media_id], alt_text=text)
            self._save()
        associated = {"alt_text": {"text": media.alt_text}}
        return json_reply(200, {"data": {"id": media.id, "associated_metadata": associated}})

    def _delete(self, user: DoubleUser, post_id: str) -> Reply:
        with self._lock:
            post = self._posts.get(post_id)
            if post is None:
                # Unverified against X: nothing to delete is reported as not deleted.
                return json_reply(200, {"data": {"deleted": False}})
            if post.author_id != user.id:
                return _problem(
                    403,
                    "Forbidden",
                    "You are not allowed to delete a Tweet that you did not create.",
                )
            del self._posts[post_id]
            self._save()
        return json_reply(200, {"data": {"deleted": True}})

    def _timeline(self, request: HttpRequest, user_id: str) -> Reply:
        raw = request.param("max_results") or "10"
        if not raw.isdigit() or not 5 <= int(raw) <= 100:
            return _invalid_request(
                f"The `max_results` query parameter value [{raw}] is not between 5 and 100",
                {"max_results": [raw]},
            )
        fields = set((request.param("tweet.fields") or "").split(","))
        expansions = set((request.param("expansions") or "").split(","))
        media_fields = set((request.param("media.fields") or "").split(","))
        with self._lock:
            if user_id not in self._users:
                detail = f"Could not find user with id: [{user_id}]."
                error = {
                    "value": user_id,
                    "detail": detail,
                    "title": "Not Found Error",
                    "resource_type": "user",
                    "parameter": "id",
                    "resource_id": user_id,
                    "type": "https://api.twitter.com/2/problems/resource-not-found",
                }
                return json_reply(200, {"errors": [error]})
            posts = self._posts_of(user_id)
        # The pagination token is opaque to clients; here it is the id to continue below.
        before = request.param("pagination_token")
        if before:
            posts = [p for p in posts if int(p.id) < int(before)] if before.isdigit() else []
        page, more = posts[: int(raw)], posts[int(raw) :]
        if not page:
            return json_reply(200, {"meta": {"result_count": 0}})
        data = []
        included: list[dict[str, Any]] = []
        for post in page:
            item: dict[str, Any] = {
                "id": post.id,
                "text": post.shown_text,
                "edit_history_tweet_ids": [post.id],
            }
            if "created_at" in fields:
                item["created_at"] = post.created_at
            if "author_id" in fields:
                item["author_id"] = post.author_id
            with self._lock:
                media = [self._media[m] for m in post.media_ids if m in self._media]
            if media and ("attachments" in fields or "attachments.media_keys" in expansions):
                item["attachments"] = {"media_keys": [m.media_key for m in media]}
            if "attachments.media_keys" in expansions:
                included.extend(_media_object(m, media_fields, self.base_url) for m in media)
            data.append(item)
        meta: dict[str, Any] = {
            "result_count": len(page),
            "newest_id": page[0].id,
            "oldest_id": page[-1].id,
        }
        if more:
            meta["next_token"] = page[-1].id
        body: dict[str, Any] = {"data": data, "meta": meta}
        if included:
            body["includes"] = {"media": included}
        return json_reply(200, body)

    def _mentions(self, request: HttpRequest, user_id: str) -> Reply:
        """GET /2/users/:id/mentions: posts by others that name @user or answer one of the
        user's posts, newest first, newer than since_id, paged by pagination_token."""
        raw = request.param("max_results") or "10"
        if not raw.isdigit() or not 5 <= int(raw) <= 100:
            return _invalid_request(
                f"The `max_results` query parameter value [{raw}] is not between 5 and 100",
                {"max_results": [raw]},
            )
        since_id = request.param("since_id") or ""
        if since_id and not since_id.isdigit():
            return _invalid_request(
                f"The `since_id` query parameter value [{since_id}] is not valid",
                {"since_id": [since_id]},
            )
        fields = set((request.param("tweet.fields") or "").split(","))
        expansions = set((request.param("expansions") or "").split(","))
        with self._lock:
            user = self._users.get(user_id)
            if user is None:
                return _invalid_request(
                    f"Could not find user with id: [{user_id}].", {"id": [user_id]}
                )
            posts = [
                p
                for p in sorted(self._posts.values(), key=lambda p: int(p.id), reverse=True)
                if p.author_id != user_id and self._mentions_user(p, user)
            ]
            if since_id:
                posts = [p for p in posts if int(p.id) > int(since_id)]
            # The pagination token is opaque to clients; here it is the id to continue below.
            before = request.param("pagination_token")
            if before:
                posts = [p for p in posts if int(p.id) < int(before)] if before.isdigit() else []
            page, more = posts[: int(raw)], posts[int(raw) :]
            data = [self._mention_json(p, fields) for p in page]
            authors = {p.author_id: self._users.get(p.author_id) for p in page}
        if not page:
            return json_reply(200, {"meta": {"result_count": 0}})
        meta: dict[str, Any] = {
            "result_count": len(page),
            "newest_id": page[0].id,
            "oldest_id": page[-1].id,
        }
        if more:
            meta["next_token"] = page[-1].id
        body: dict[str, Any] = {"data": data, "meta": meta}
        if "author_id" in expansions:
            body["includes"] = {"users": [asdict(u) for u in authors.values() if u is not None]}
        return json_reply(200, body)

    def _mentions_user(self, post: DoublePost, user: DoubleUser) -> bool:
        parent = self._posts.get(post.in_reply_to_tweet_id or "")
        return _names(post.text, user.username) or (
            parent is not None and parent.author_id == user.id
        )

    def _mention_json(self, post: DoublePost, fields: set[str]) -> dict[str, Any]:
        item: dict[str, Any] = {
            "id": post.id,
            "text": post.shown_text,
            "edit_history_tweet_ids": [post.id],
        }
        if "created_at" in fields:
            item["created_at"] = post.created_at
        if "author_id" in fields:
            item["author_id"] = post.author_id
        if "conversation_id" in fields:
            item["conversation_id"] = self._conversation_of(post)
        parent = self._posts.get(post.in_reply_to_tweet_id or "")
        if "in_reply_to_user_id" in fields and parent is not None:
            item["in_reply_to_user_id"] = parent.author_id
        references = []
        if post.in_reply_to_tweet_id:
            # Named even when the post it answers has been deleted since, as X does.
            references.append({"type": "replied_to", "id": post.in_reply_to_tweet_id})
        if post.quote_tweet_id:
            references.append({"type": "quoted", "id": post.quote_tweet_id})
        if "referenced_tweets" in fields and references:
            item["referenced_tweets"] = references
        return item

    def _conversation_of(self, post: DoublePost) -> str:
        """The first post of the conversation: the stored one, else up the reply chain as
        far as it is still there."""
        seen = {post.id}
        while post.id not in self._conversations and post.in_reply_to_tweet_id:
            parent = self._posts.get(post.in_reply_to_tweet_id)
            if parent is None or parent.id in seen:
                return post.in_reply_to_tweet_id
            seen.add(parent.id)
            post = parent
        return self._conversations.get(post.id, post.id)

    def _token(self, request: HttpRequest) -> Reply:
        form = request.form()
        if not form:
            return _oauth_error("Missing required parameter [grant_type].")
        # Public clients send client_id in the form; confidential ones use Basic auth.
        client_id = form.get("client_id") or _basic_auth_user(request.header("Authorization"))
        grant_type = form.get("grant_type")
        with self._lock:
            if grant_type == "authorization_code":
                grant = self._codes.pop(form.get("code", ""), None)
                if (
                    grant is None
                    or (grant.expires_at or 0) < time.time()
                    or (grant.client_id and grant.client_id != client_id)
                    or (grant.redirect_uri and grant.redirect_uri != form.get("redirect_uri"))
                    or not _pkce_matches(
                        form.get("code_verifier", ""),
                        grant.code_challenge,
                        grant.code_challenge_method,
                    )
                ):
                    return _oauth_error("Value passed for the authorization code was invalid.")
            elif grant_type == "refresh_token":
                # Rotating: a refresh token works once; the response carries its successor.
                grant = self._refresh_tokens.pop(form.get("refresh_token", ""), None)
                if grant is None or (grant.client_id and grant.client_id != client_id):
                    return _oauth_error("Value passed for the token was invalid.")
            else:
                return _oauth_error(f"Value passed for the grant_type [{grant_type}] was invalid.")
            access_token = secrets.token_urlsafe(32)
            self._tokens[access_token] = _Grant(
                grant.user_id, grant.scope, grant.client_id, time.time() + ACCESS_TOKEN_SECONDS
            )
            body: dict[str, Any] = {
                "token_type": "bearer",
                "expires_in": ACCESS_TOKEN_SECONDS,
                "access_token": access_token,
                "scope": grant.scope,
            }
            if "offline.access" in grant.scope.split():
                refresh_token = secrets.token_urlsafe(32)
                self._refresh_tokens[refresh_token] = _Grant(
                    grant.user_id, grant.scope, grant.client_id
                )
                body["refresh_token"] = refresh_token
            self._save()
        return json_reply(200, body)

    def _revoke(self, request: HttpRequest) -> Reply:
        """Token revocation as X documents it (RFC 7009): the token in the form, the app
        named by client_id (public) or Basic auth (confidential), ``{"revoked": true}``.
        From RFC 7009 rather than checked against X: a token that is unknown, expired or
        already revoked is answered the same as a revoked one."""
        form = request.form()
        token = form.get("token", "")
        if not token:
            return _oauth_error("Missing required parameter [token].")
        client_id = form.get("client_id") or _basic_auth_user(request.header("Authorization"))
        if not client_id:
            return _oauth_error("Missing required parameter [client_id].")
        with self._lock:
            for store in (self._tokens, self._refresh_tokens):
                grant = store.get(token)
                if grant is None:
                    continue
                if grant.client_id and grant.client_id != client_id:
                    # Only the app the token was issued to may revoke it.
                    return _oauth_error(
                        "Value passed for the token was invalid.", error="unauthorized_client"
                    )
                del store[token]
            self._save()
        return json_reply(200, {"revoked": True})

    def _control(self, method: str, path: str, payload: dict[str, Any]) -> Reply | None:
        inbound = self._inbound_control(method, path, payload)
        if inbound is not None:
            return inbound
        if method == "GET" and path == "/_double/state":
            return json_reply(200, self.state())
        if method == "GET" and (m := re.fullmatch(r"/_double/media/(\d+)", path)):
            with self._lock:
                media = self._media.get(m[1])
                data = self._media_bytes.get(m[1])
            if media is None or data is None:
                return json_reply(404, {"error": "no such media"})
            return Reply(200, data, media.content_type)
        if method == "POST" and path == "/_double/reset":
            self.reset()
            return json_reply(200, self.state())
        if method == "POST" and path == "/_double/users":
            token = payload.get("token") or secrets.token_urlsafe(24)
            uid = self.add_user(payload["username"], name=payload.get("name"), token=token)
            return json_reply(201, {"id": uid, "username": payload["username"], "token": token})
        if method == "POST" and path == "/_double/authorization-codes":
            code = self.issue_authorization_code(
                payload["username"],
                code_challenge=payload["code_challenge"],
                code_challenge_method=payload.get("code_challenge_method", "S256"),
                redirect_uri=payload.get("redirect_uri", ""),
                client_id=payload.get("client_id", ""),
                scope=payload.get("scope", DEFAULT_SCOPE),
            )
            return json_reply(201, {"code": code})
        return None

    def _inbound_control(self, method: str, path: str, payload: dict[str, Any]) -> Reply | None:
        if method == "POST" and path == "/_double/mentions":
            post_id = self.add_mention(
                str(payload["to"]),
                author=str(payload["author"]),
                name=payload.get("name"),
                text=str(payload["text"]),
                in_reply_to=payload.get("in_reply_to"),
                quote_of=payload.get("quote_of"),
            )
            return json_reply(201, {"id": post_id})
        if method == "DELETE" and (m := re.fullmatch(r"/_double/posts/(\d+)", path)):
            self.delete_post(m[1])
            return json_reply(200, {"deleted": True})
        return None

    # The consent screen ---------------------------------------------------------------

    def _authorize(self, request: HttpRequest) -> Reply:
        """X's consent screen, reduced to choosing which account grants access. GET shows
        it; POST (the button) sends the browser back to the app with a code, or with
        error=access_denied if the person cancels."""
        params = (
            request.form()
            if request.method == "POST"
            else {k: v[0] for k, v in request.query.items()}
        )
        redirect_uri = params.get("redirect_uri", "")
        if params.get("response_type") != "code" or not redirect_uri.startswith(
            ("http://", "https://")
        ):
            return _html_page(
                "Something went wrong",
                "<h1>Something went wrong</h1>\n<p>This authorization request is not valid: "
                "it needs response_type=code and a redirect_uri.</p>",
                400,
            )
        state = params.get("state", "")
        if request.method == "POST":
            username = params.get("username", "")
            if params.get("decision") != "allow" or not username:
                return _redirect(
                    f"{redirect_uri}?{urlencode({'error': 'access_denied', 'state': state})}"
                )
            try:
                code = self.issue_authorization_code(
                    username,
                    code_challenge=params.get("code_challenge", ""),
                    code_challenge_method=params.get("code_challenge_method", "S256"),
                    redirect_uri=redirect_uri,
                    client_id=params.get("client_id", ""),
                    scope=params.get("scope", DEFAULT_SCOPE),
                )
            except (KeyError, ValueError):
                return _html_page("Not found", "<h1>No such account</h1>", 404)
            return _redirect(f"{redirect_uri}?{urlencode({'code': code, 'state': state})}")
        with self._lock:
            users = list(self._users.values())
        hidden = "".join(
            f'<input type="hidden" name="{html.escape(k)}" value="{html.escape(v)}">'
            for k, v in params.items()
        )
        buttons = "".join(
            f'<form method="post" action="/i/oauth2/authorize">{hidden}'
            f'<input type="hidden" name="username" value="{html.escape(u.username)}">'
            f'<button type="submit" name="decision" value="allow">'
            f"Authorize app as @{html.escape(u.username)}</button></form>"
            for u in users
        )
        cancel = (
            f'<form method="post" action="/i/oauth2/authorize">{hidden}'
            '<button type="submit" name="decision" value="deny">Cancel</button></form>'
        )
        scopes = html.escape(params.get("scope", DEFAULT_SCOPE))
        return _html_page(
            "Authorize access",
            f"<h1>An app wants to access your X account</h1>\n<p>It asks for: {scopes}</p>\n"
            f"{buttons or '<p>No accounts exist on this double yet.</p>'}\n{cancel}",
        )

    # Public pages -------------------------------------------------------------------

    def _page(self, path: str) -> Reply:
        parts = [p for p in path.split("/") if p]
        with self._lock:
            if not parts:
                return _html_page("Accounts", _users_html(list(self._users.values())))
            user = self._user_by_username(parts[0]) if re.fullmatch(_USERNAME, parts[0]) else None
            if user is not None and len(parts) == 1:
                title = f"{user.name} (@{user.username})"
                posts = [(p, self.media_of(p)) for p in self._posts_of(user.id)]
                return _html_page(title, _profile_html(user, posts))
            if user is not None and len(parts) == 3 and parts[1] == "status":
                post = self._posts.get(parts[2])
                if post is not None and post.author_id == user.id:
                    return _html_page(
                        f"Post {post.id} by @{user.username}",
                        _status_html(user, post, self.media_of(post)),
                    )
        return _html_page(
            "Not found", "<h1>Not found</h1>\n<p>Nothing is at this address.</p>", 404
        )

    # State helpers (call with the lock held) -----------------------------------------

    def _user_by_username(self, username: str) -> DoubleUser | None:
        # X usernames are case-insensitive.
        return next(
            (u for u in self._users.values() if u.username.lower() == username.lower()), None
        )

    def _posts_of(self, user_id: str) -> list[DoublePost]:
        return sorted(
            (p for p in self._posts.values() if p.author_id == user_id),
            key=lambda p: int(p.id),
            reverse=True,
        )

    def _new_post_id(self) -> str:
        # Snowflake-shaped (milliseconds since X's epoch << 22), and strictly increasing
        # even within one millisecond, so newest-first is ordering by id as on X.
        snowflake = (int(time.time() * 1000) - _TWITTER_EPOCH_MS) << 22
        self._last_post_id = max(snowflake, self._last_post_id + 1)
        return str(self._last_post_id)

    def _save(self) -> None:
        if self.state_file is None:
            return
        state = {
            "users": [asdict(u) for u in self._users.values()],
            "tokens": {t: asdict(g) for t, g in self._tokens.items()},
            "refresh_tokens": {t: asdict(g) for t, g in self._refresh_tokens.items()},
            "posts": [asdict(p) for p in self._posts.values()],
            "media": [asdict(m) for m in self._media.values()],
            "last_post_id": self._last_post_id,
        }
        # Write then rename, so a crash mid-write never leaves a half file to load.
        self.state_file.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.state_file.with_name(self.state_file.name + ".tmp")
        tmp.write_text(json.dumps(state, indent=1))
        os.replace(tmp, self.state_file)

    def _load(self) -> None:
        assert self.state_file is not None
        state = json.loads(self.state_file.read_text())
        self._users = {u["id"]: DoubleUser(**u) for u in state.get("users", [])}
        self._tokens = {t: _Grant(**g) for t, g in state.get("tokens", {}).items()}
        self._refresh_tokens = {t: _Grant(**g) for t, g in state.get("refresh_tokens", {}).items()}
        self._posts = {
            p["id"]: DoublePost(**p | {"media_ids": tuple(p.get("media_ids", ()))})
            for p in state.get("posts", [])
        }
        self._media = {m["id"]: DoubleMedia(**m) for m in state.get("media", [])}
        self._last_post_id = int(state.get("last_post_id", 0))


def _media_object(media: DoubleMedia, fields: set[str], base_url: str) -> dict[str, Any]:
    """A media object as the ``includes.media`` of a v2 answer carries it."""
    item: dict[str, Any] = {"media_key": media.media_key, "type": "photo"}
    if "alt_text" in fields and media.alt_text:
        item["alt_text"] = media.alt_text
    if "url" in fields:
        item["url"] = f"{base_url}/_double/media/{media.id}"
    if "width" in fields and media.width:
        item["width"] = media.width
    if "height" in fields and media.height:
        item["height"] = media.height
    return item


def _names(text: str, username: str) -> bool:
    """Whether the text mentions @username (X usernames are case-insensitive)."""
    return re.search(rf"(?<![\w@])@{re.escape(username)}(?!\w)", text, re.IGNORECASE) is not None


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _rate_headers(limit: int, remaining: int, reset_at: int) -> dict[str, str]:
    return {
        "x-rate-limit-limit": str(limit),
        "x-rate-limit-remaining": str(remaining),
        "x-rate-limit-reset": str(reset_at),
    }


def _basic_auth_user(header: str) -> str:
    scheme, _, encoded = header.partition(" ")
    if scheme.lower() != "basic":
        return ""
    try:
        return base64.b64decode(encoded).decode().partition(":")[0]
    except ValueError:
        return ""


# HTML: plain, accessible, no scripts or styles, so a strict CSP costs nothing. ----------


def _redirect(location: str) -> Reply:
    return Reply(302, b"", "text/plain; charset=utf-8", {"Location": location})


def _html_page(title: str, main: str, status: int = 200) -> Reply:
    return html_reply("X API double", title, main, status, platform="X")


def _users_html(users: list[DoubleUser]) -> str:
    if not users:
        return "<h1>Accounts</h1>\n<p>No accounts yet.</p>"
    items = "\n".join(
        f'<li><a href="/{quote(u.username)}">{html.escape(f"{u.name} (@{u.username})")}</a></li>'
        for u in users
    )
    return f"<h1>Accounts</h1>\n<ul>\n{items}\n</ul>"


def _post_link(user: DoubleUser, post: DoublePost) -> str:
    return f'<a href="/{quote(user.username)}/status/{post.id}">Post {post.id}</a>'


def _images_html(media: list[DoubleMedia]) -> str:
    return images_html([(f"/_double/media/{m.id}", m.alt_text, m.width, m.height) for m in media])


def _profile_html(user: DoubleUser, posts: list[tuple[DoublePost, list[DoubleMedia]]]) -> str:
    heading = f"<h1>{html.escape(user.name)} (@{html.escape(user.username)})</h1>\n<h2>Posts</h2>"
    if not posts:
        return f"{heading}\n<p>No posts yet.</p>"
    items = "\n".join(
        f"<li><article>\n{_answering_html(p)}<p>{text_html(p.text)}</p>\n{_images_html(media)}"
        f'<p>{_post_link(user, p)}, <time datetime="{p.created_at}">{p.created_at}</time></p>\n'
        "</article></li>"
        for p, media in posts
    )
    return f"{heading}\n<ol>\n{items}\n</ol>"


def _answering_html(post: DoublePost) -> str:
    """What a post answers: the post it replies to, the post it quotes."""
    said = ""
    if post.in_reply_to_tweet_id:
        said += f"<p>Replying to post {post.in_reply_to_tweet_id}.</p>\n"
    if post.quote_tweet_id:
        said += f"<p>Quoting post {post.quote_tweet_id}.</p>\n"
    return said


def _status_html(user: DoubleUser, post: DoublePost, media: list[DoubleMedia]) -> str:
    reply = _answering_html(post)
    return (
        f"<h1>Post {post.id} by {html.escape(user.name)} (@{html.escape(user.username)})</h1>\n"
        f"<article>\n{reply}<p>{text_html(post.text)}</p>\n{_images_html(media)}"
        f'<p><time datetime="{post.created_at}">{post.created_at}</time></p>\n</article>\n'
        f'<p><a href="/{quote(user.username)}">All posts by @{html.escape(user.username)}</a></p>'
    )
