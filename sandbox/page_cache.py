"""Whole pages kept in the cache (Redis) for the session that asked, until what they show
changes.

The timeline and the queue are polled by every open tab (every 10 and 15 seconds), and
between two polls nothing they show has usually changed. A page is kept under a key made of:

- its address, and the htmx headers that choose between the page and a fragment of it;
- the session and its CSRF secret (kept in the session; the page's forms carry a token made
  from it), so nobody is ever given a page made for someone else;
- the *generation* of the installation and of each of the viewer's organisations.

A generation is a random token in the cache. Any write to the database made through Django
(``note_writes`` sees every statement) gives the writer's organisations a new one: the
organisations of the signed-in person whose request wrote; the one organisation a task
names with ``writes_for`` (publishing, reading an inbox); or, for a write from any other
task, a command, an anonymous request or the installation's staff, the whole installation. So a
change anyone makes reaches every kept page that could show it, at once and from one place;
no view has to remember to forget.

What changes by time alone is handled in two ways. Code that knows when its content will
change (a post due to appear, a practice post's counters rising, a draft passing its review
target) says so with ``changes_at``, and the page is kept only until then. Everything else,
such as "5 minutes ago" wording, is at most ``PAGE_CACHE_SECONDS`` old (a minute, by
default).

A page with messages waiting, a response other than 200, a session's first page (its CSRF
secret is made then) and anything but GET are never kept. Without the cache (Redis down)
pages are rendered as usual.
"""

from __future__ import annotations

import contextlib
import contextvars
import functools
import hashlib
import logging
import re
import secrets
import time
from collections.abc import Callable, Iterator
from typing import Any

from django import db
from django.conf import settings
from django.contrib import messages
from django.core.cache import cache
from django.db.backends.base.base import BaseDatabaseWrapper
from django.http import HttpRequest, HttpResponse
from django.middleware.csrf import CSRF_SESSION_KEY, get_token
from redis.exceptions import RedisError

from sandbox.selectors import standings

logger = logging.getLogger(__name__)

INSTALLATION = "pagegen:all"
# Writes to these tables change nothing a kept page shows: a session's own bookkeeping
# (the idle mark is saved by page reads) and allauth's list of a person's sessions.
UNSHOWN_TABLES = frozenset({"django_session", "usersessions_usersession"})
# The htmx headers a view may read to choose what it answers.
HTMX_HEADERS = ("HX-Request", "HX-Boosted", "HX-Target", "HX-Trigger", "HX-Trigger-Name")
KEPT_HEADERS = ("Content-Type",)
UNCOMMITTED = "page_cache_uncommitted"  # scopes a connection wrote but has not committed
# A statement that writes starts with one of these (WITH: a data-modifying one may)...
_WRITE_STARTS = ("INSERT", "UPDATE", "DELETE", "TRUNCATE", "WITH")
# ...and names the tables it writes after these; "FOR UPDATE" is a read's lock.
_WRITTEN = re.compile(
    r'(?<!FOR )\b(?:INSERT\s+INTO|UPDATE|DELETE\s+FROM|TRUNCATE(?:\s+TABLE)?)\s+"?(\w+)', re.I
)

_writer: contextvars.ContextVar[HttpRequest | None] = contextvars.ContextVar(
    "page_cache_writer", default=None
)
_organisation: contextvars.ContextVar[int | None] = contextvars.ContextVar(
    "page_cache_organisation", default=None
)
_deadline: contextvars.ContextVar[list[float] | None] = contextvars.ContextVar(
    "page_cache_deadline", default=None
)


# --- Generations -------------------------------------------------------------------------------


def organisation_key(organisation_id: int) -> str:
    return f"pagegen:org:{organisation_id}"


@contextlib.contextmanager
def writes_for(organisation_id: int) -> Iterator[None]:
    """For a task whose writes all belong to one organisation (publishing a post, reading
    an account's inbox): they change only its pages, not the whole installation's."""
    token = _organisation.set(organisation_id)
    try:
        yield
    finally:
        _organisation.reset(token)


def _scope_of(request: HttpRequest | None) -> list[str]:
    """Whose pages a write by this request (or task) can change."""
    if (organisation_id := _organisation.get()) is not None:
        return [organisation_key(organisation_id)]
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated or user.is_staff or user.is_superuser:
        return [INSTALLATION]
    organisation_ids = [s.organisation_id for s in standings(user)]
    return [organisation_key(pk) for pk in organisation_ids] or [INSTALLATION]


def move_on(keys: list[str]) -> None:
    """New generations for these scopes: every page kept under the old ones is forgotten."""
    try:
        cache.set_many({key: secrets.token_hex(8) for key in keys}, timeout=None)
    except RedisError:
        # Kept pages are at most PAGE_CACHE_SECONDS old, and with Redis unreachable they
        # cannot be read either.
        logger.warning("The cache is unreachable; kept pages age out instead.")


def note_writes(
    execute: Callable[..., Any], sql: str, params: Any, many: bool, context: dict[str, Any]
) -> Any:
    """Installed on every database connection (sandbox.apps). After a statement that writes
    a table a page may show, the writer's generations move on once the write is committed.
    Until then only this connection can read it, and it moves them on before it next looks
    up a kept page (``kept``)."""
    result = execute(sql, params, many, context)
    # A conditional update that matched nothing (a sweep finding no work) changed nothing.
    changed = getattr(context["cursor"], "rowcount", -1) != 0
    if changed and writes_shown_tables(sql):
        _moved(context["connection"], _scope_of(_writer.get()))
    return result


def writes_shown_tables(sql: str) -> bool:
    """Whether the statement writes a table that pages may show."""
    if not sql.lstrip()[:8].upper().startswith(_WRITE_STARTS):
        return False
    return any(table.lower() not in UNSHOWN_TABLES for table in _WRITTEN.findall(sql))


def _moved(connection: BaseDatabaseWrapper, keys: list[str]) -> None:
    if not connection.in_atomic_block:
        move_on(keys)
        return
    getattr(connection, UNCOMMITTED).update(keys)
    # Each entry is (savepoints, callback, robust); one callback per scope and transaction.
    pending = (getattr(entry[1], "page_generations", None) for entry in connection.run_on_commit)
    if keys not in pending:
        after_commit = functools.partial(move_on, keys)
        after_commit.page_generations = keys  # type: ignore[attr-defined]
        connection.on_commit(after_commit)


def _own_writes_seen(connection: BaseDatabaseWrapper) -> None:
    """Move on the generations of this connection's writes not yet committed: what it
    reads next includes them."""
    uncommitted = getattr(connection, UNCOMMITTED, None)
    if uncommitted:
        move_on(sorted(uncommitted))
        uncommitted.clear()


def install(sender: object, connection: BaseDatabaseWrapper, **kwargs: Any) -> None:
    """Connected to ``connection_created`` (see apps.py)."""
    if note_writes not in connection.execute_wrappers:
        setattr(connection, UNCOMMITTED, set())
        connection.execute_wrappers.append(note_writes)


class WriterMiddleware:
    """Names the request whose writes ``note_writes`` sees, for the scope they change."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        token = _writer.set(request)
        try:
            return self.get_response(request)
        finally:
            _writer.reset(token)


# --- Kept pages --------------------------------------------------------------------------------


def changes_at(moment: float) -> None:
    """What is being rendered changes by itself at ``moment`` (a Unix time): keep the page
    no longer. Outside a kept page, nothing."""
    deadline = _deadline.get()
    if deadline is not None and moment < deadline[0]:
        deadline[0] = moment


@contextlib.contextmanager
def _collecting_deadline(until: float) -> Iterator[list[float]]:
    deadline = [until]
    token = _deadline.set(deadline)
    try:
        yield deadline
    finally:
        _deadline.reset(token)


def _page_key(request: HttpRequest) -> list[str] | None:
    """The generations' keys and the page's own part of its key; None: not to be kept."""
    csrf_secret = request.session.get(CSRF_SESSION_KEY)
    if not csrf_secret:
        # The session's first page: make its secret now, for the pages kept after this one
        # (a fragment shows no token, so would not make one).
        get_token(request)
        return None
    session_key = request.session.session_key
    if not session_key or len(messages.get_messages(request)):
        return None
    own = "\n".join(
        [
            request.get_full_path(),
            session_key,
            csrf_secret,
            *(request.headers.get(name, "") for name in HTMX_HEADERS),
        ]
    )
    generations = [
        INSTALLATION,
        *(organisation_key(s.organisation_id) for s in standings(request.user)),  # type: ignore[arg-type]
    ]
    return [*generations, hashlib.sha256(own.encode()).hexdigest()]


def _generations(keys: list[str]) -> list[str]:
    known = cache.get_many(keys)
    fresh = {key: secrets.token_hex(8) for key in keys if key not in known}
    if fresh:
        # Never seen, or forgotten by Redis: a generation of its own, which no page was
        # kept under.
        cache.set_many(fresh, timeout=None)
    return [known.get(key) or fresh[key] for key in keys]


def kept(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Serve the view's GET answers from the cache while what they show is unchanged."""

    @functools.wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        seconds = settings.PAGE_CACHE_SECONDS
        if request.method != "GET" or not seconds or not request.user.is_authenticated:
            return view(request, *args, **kwargs)
        parts = _page_key(request)
        if parts is None:
            return view(request, *args, **kwargs)
        try:
            _own_writes_seen(db.connection)
            generation_keys, own = parts[:-1], parts[-1]
            key = (
                "page:"
                + hashlib.sha256(
                    "\n".join([*_generations(generation_keys), own]).encode()
                ).hexdigest()
            )
            found = cache.get(key)
        except RedisError:
            logger.warning("The cache is unreachable; rendering without it.")
            return view(request, *args, **kwargs)
        now = time.time()
        if found is not None and found["until"] > now:
            return HttpResponse(found["content"], headers=found["headers"])
        with _collecting_deadline(now + seconds) as deadline:
            response = view(request, *args, **kwargs)
        if (
            response.status_code == 200
            and not response.streaming
            and not response.cookies
            and not len(messages.get_messages(request))
            and deadline[0] > now
        ):
            kept_page = {
                "until": deadline[0],
                "content": response.content,
                "headers": {h: response[h] for h in KEPT_HEADERS if h in response},
            }
            with contextlib.suppress(RedisError):
                cache.set(key, kept_page, timeout=max(1, round(deadline[0] - now)))
        return response

    return wrapper
