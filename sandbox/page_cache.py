"""Whole pages kept in the cache (Redis) for the session that asked, until what they show
changes.

The timeline and the queue are polled by every open tab (every 10 and 15 seconds), and
between two polls nothing they show has usually changed. Each session has one slot per
view and fragment, holding the last page kept with a digest of what it was made from:

- its address (the query string too) and the htmx headers that choose between the page
  and a fragment of it;
- the session and its CSRF secret (kept in the session; the page's forms carry a token made
  from it), so nobody is ever given a page made for someone else;
- the *generation* of the installation and of each of the viewer's organisations.

A generation is a random token in the cache. Any statement that writes through Django
(``note_writes`` sees each one) gives the writer's organisations a new one: the
organisations of the signed-in person whose request wrote; the one organisation a task
names with ``writes_for`` (publishing, reading an inbox, telling people a post settled);
or, for any other task, a command, an anonymous request or the installation's staff, the
whole installation. A statement that is not plainly a read and names no table moves the
whole installation on. So a change reaches the kept pages that could show it from one
place; no view has to remember to forget. The exception: a page of someone outside the
writer's organisations (a trainee who has left the organisation whose coach reviews their
old post) waits for its time limit.

What changes by time alone is handled in two ways. Code that knows when its content will
change (a post due to appear, a practice post's counters rising, a draft passing its review
target, a claim on a review lapsing) says so with ``changes_at``, and the page is kept only
until then, and never past local midnight (dates, who is covering today). Everything else,
such as "5 minutes ago" wording, is at most ``PAGE_CACHE_SECONDS`` old (a minute, by
default).

A page with messages waiting, a response other than 200, a session's first page (its CSRF
secret is made then) and anything but GET are never kept. Without the cache (Redis down)
pages are rendered as usual.
"""

from __future__ import annotations

import contextlib
import contextvars
import dataclasses
import datetime as dt
import functools
import hashlib
import logging
import math
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
from django.utils import timezone
from redis.exceptions import RedisError

from sandbox.selectors import standings

logger = logging.getLogger(__name__)

INSTALLATION = "pagegen:all"
# Writes to these tables change nothing a kept page (the timeline, the queue, the header
# around them) shows: a session's own bookkeeping (page reads save the idle mark),
# allauth's list of a person's sessions, where an inbox fetch got to (every minute, per
# account) and publishing's attempt rows (the publication's own row says what pages show).
UNSHOWN_TABLES = frozenset(
    {
        "django_session",
        "usersessions_usersession",
        "coaching_inboxcursor",
        "coaching_publishattempt",
    }
)
# The htmx headers a view may read to choose what it answers.
HTMX_HEADERS = ("HX-Request", "HX-Boosted", "HX-Target", "HX-Trigger", "HX-Trigger-Name")
# All a kept answer needs besides its body; the middleware adds the rest (CSP, Vary,
# no-store) to every answer, kept or not.
KEPT_HEADERS = ("Content-Type",)
# Statements that only read, or manage a transaction. Anything else is taken as a write.
_READS = frozenset(
    {"SELECT", "SAVEPOINT", "RELEASE", "ROLLBACK", "BEGIN", "COMMIT", "SET", "SHOW", "EXPLAIN"}
)
# The tables a statement writes; "FOR UPDATE" is a read's lock. SQLite says "INSERT OR
# IGNORE INTO" where PostgreSQL says "ON CONFLICT DO NOTHING".
_WRITTEN = re.compile(
    r"(?<!FOR )\b(?:INSERT\s+(?:OR\s+\w+\s+)?INTO|UPDATE|DELETE\s+FROM|TRUNCATE(?:\s+TABLE)?)"
    r'\s+"?(\w+)',
    re.I,
)

_writer: contextvars.ContextVar[HttpRequest | None] = contextvars.ContextVar(
    "page_cache_writer", default=None
)
_organisations: contextvars.ContextVar[tuple[int, ...]] = contextvars.ContextVar(
    "page_cache_organisations", default=()
)
_deferred: contextvars.ContextVar[set[str] | None] = contextvars.ContextVar(
    "page_cache_deferred", default=None
)
_deadline: contextvars.ContextVar[list[float] | None] = contextvars.ContextVar(
    "page_cache_deadline", default=None
)
_last_warning = [0.0]


def _warn_unreachable() -> None:
    # Once a minute at most: with Redis down, every write would say it again.
    if time.monotonic() - _last_warning[0] > 60:
        _last_warning[0] = time.monotonic()
        logger.warning("The cache is unreachable: kept pages are not read, and age out.")


# --- Generations -------------------------------------------------------------------------------


def organisation_key(organisation_id: int) -> str:
    return f"pagegen:org:{organisation_id}"


@contextlib.contextmanager
def writes_for(*organisation_ids: int) -> Iterator[None]:
    """For a task whose writes all belong to these organisations (publishing a post,
    reading an account's inbox, telling people posts settled): they change only their
    pages, not the whole installation's. Their generations move once, as the task's block
    ends, rather than after each of its commits: a post going live costs one round trip
    to Redis, and its pages show the state before the task until then."""
    moves: set[str] = set()
    named, deferred = _organisations.set(tuple(organisation_ids)), _deferred.set(moves)
    try:
        yield
    finally:
        _organisations.reset(named)
        _deferred.reset(deferred)
        if moves:
            move_on(sorted(moves))


def _scope_of(request: HttpRequest | None) -> list[str]:
    """Whose pages a write by this request (or task) can change."""
    if named := _organisations.get():
        return [organisation_key(pk) for pk in sorted(named)]
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated or user.is_staff or user.is_superuser:
        return [INSTALLATION]
    organisation_ids = [s.organisation_id for s in standings(user)]
    return [organisation_key(pk) for pk in organisation_ids] or [INSTALLATION]


def move_on(keys: list[str]) -> None:
    """New generations for these scopes: every page kept under the old ones is forgotten
    (inside ``writes_for``, when its block ends)."""
    if (moves := _deferred.get()) is not None:
        moves.update(keys)
        return
    try:
        cache.set_many({key: secrets.token_hex(8) for key in keys}, timeout=None)
    except RedisError:
        # Pages kept under the old generation are at most PAGE_CACHE_SECONDS old.
        _warn_unreachable()


def changes_shown_rows(sql: str, rowcount: int) -> bool:
    """Whether the statement may have changed something a kept page shows. It fails
    closed: a statement that is not plainly a read, and whose tables cannot be named, is
    taken to change everything."""
    words = sql.lstrip().split(None, 1)
    first = words[0].upper() if words else ""
    if first in _READS:
        return False
    shown = [t for t in _WRITTEN.findall(sql) if t.lower() not in UNSHOWN_TABLES]
    if first == "WITH":
        # A read, unless one of its parts writes; the rowcount is only the last part's.
        return bool(shown)
    if rowcount == 0:
        return False  # a conditional update that matched nothing (a sweep with no work)
    return bool(shown) or not _WRITTEN.search(sql)


def note_writes(
    execute: Callable[..., Any], sql: str, params: Any, many: bool, context: dict[str, Any]
) -> Any:
    """Installed on every database connection (sandbox.apps). After a statement that may
    have changed what pages show, the writer's generations move on once it is committed.
    Until then only this connection can read the change, and it moves them on before it
    next looks up a kept page (``kept``). Never fails a statement that succeeded."""
    result = execute(sql, params, many, context)
    try:
        if not changes_shown_rows(sql, getattr(context["cursor"], "rowcount", -1)):
            return result
        scope = _scope_of(_writer.get())
    except Exception:
        logger.exception("Could not tell whose pages a write changed; moving on every page.")
        scope = [INSTALLATION]
    _moved(context["connection"], scope)
    return result


class _AfterCommit:
    """A transaction's move of some scopes, run when it commits (Django drops it on
    rollback, and with it the move). ``seen`` says whether this connection has moved them
    on already for its own reads since its last write to them."""

    def __init__(self, keys: list[str]) -> None:
        self.keys = keys
        self.seen = False

    def __call__(self) -> None:
        move_on(self.keys)


def _pending(connection: BaseDatabaseWrapper) -> Iterator[_AfterCommit]:
    # Each entry of run_on_commit is (savepoints, callback, robust).
    return (entry[1] for entry in connection.run_on_commit if isinstance(entry[1], _AfterCommit))


def _moved(connection: BaseDatabaseWrapper, keys: list[str]) -> None:
    if not connection.in_atomic_block:
        move_on(keys)
        return
    for after_commit in _pending(connection):
        if after_commit.keys == keys:  # one per scope and transaction
            after_commit.seen = False
            return
    connection.on_commit(_AfterCommit(keys), robust=True)


def _own_writes_seen(connection: BaseDatabaseWrapper) -> None:
    """Move on now the generations of this connection's writes that are not committed yet:
    what it reads next includes them. (They move again when the transaction commits.)"""
    if not connection.in_atomic_block:
        return
    for after_commit in _pending(connection):
        if not after_commit.seen:
            move_on(after_commit.keys)
            after_commit.seen = True


def install(sender: object, connection: BaseDatabaseWrapper, **kwargs: Any) -> None:
    """Connected to ``connection_created`` (see apps.py)."""
    if note_writes not in connection.execute_wrappers:
        # First, so that a wrapper added for a while (connection.execute_wrapper(), which
        # removes the last one on leaving) never takes this one away.
        connection.execute_wrappers.insert(0, note_writes)


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


def _next_midnight() -> float:
    """Dates on pages ("today", who is covering) move on at local midnight."""
    tomorrow = timezone.localdate() + dt.timedelta(days=1)
    return dt.datetime.combine(
        tomorrow, dt.time(), tzinfo=timezone.get_current_timezone()
    ).timestamp()


@dataclasses.dataclass(frozen=True)
class _Slot:
    """Where a session keeps one view's page (or fragment): one slot each, whatever the
    query string, so nobody can fill Redis by asking for endless addresses. The slot holds
    the last page kept, with the digest of everything it was made from."""

    key: str
    generation_keys: list[str]
    made_from: str


def _slot(request: HttpRequest) -> _Slot | None:
    """None: not to be kept (a session's first page, messages waiting)."""
    csrf_secret = request.session.get(CSRF_SESSION_KEY)
    if not csrf_secret:
        # Make the session's secret now, for the pages kept after this one (a fragment
        # shows no token, so would not make one).
        get_token(request)
        return None
    session_key = request.session.session_key
    if not session_key or len(messages.get_messages(request)):
        return None
    place = [request.path, session_key, *(request.headers.get(h, "") for h in HTMX_HEADERS)]
    return _Slot(
        key="page:" + _digest(place),
        generation_keys=[
            INSTALLATION,
            *(organisation_key(s.organisation_id) for s in standings(request.user)),  # type: ignore[arg-type]
        ],
        made_from=_digest([*place, request.get_full_path(), csrf_secret]),
    )


def _digest(parts: list[str]) -> str:
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()


def _generations(keys: list[str]) -> list[str]:
    known = cache.get_many(keys)
    for key in keys:
        if key not in known:
            # Never seen, or forgotten by Redis: a generation of its own, which no page
            # was kept under (add: a concurrent first look-up's token wins, not ours).
            cache.add(key, secrets.token_hex(8), timeout=None)
            known[key] = cache.get(key)
    return [str(known[key]) for key in keys]


def kept(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Serve the view's GET answers from the cache while what they show is unchanged."""

    @functools.wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        seconds = settings.PAGE_CACHE_SECONDS
        if request.method != "GET" or seconds <= 0 or not request.user.is_authenticated:
            return view(request, *args, **kwargs)
        slot = _slot(request)
        if slot is None:
            return view(request, *args, **kwargs)
        try:
            _own_writes_seen(db.connection)
            made_from = _digest([*_generations(slot.generation_keys), slot.made_from])
            found = cache.get(slot.key)
        except RedisError:
            _warn_unreachable()
            return view(request, *args, **kwargs)
        now = time.time()
        if found is not None and found["made_from"] == made_from and found["until"] > now:
            return HttpResponse(found["content"], headers=found["headers"])
        with _collecting_deadline(min(now + seconds, _next_midnight())) as deadline:
            response = view(request, *args, **kwargs)
        if (
            response.status_code == 200
            and not response.streaming
            and not response.cookies
            and not len(messages.get_messages(request))
            and deadline[0] > now
        ):
            page = {
                "made_from": made_from,
                "until": deadline[0],
                "content": response.content,
                "headers": {h: response[h] for h in KEPT_HEADERS if h in response},
            }
            try:
                cache.set(slot.key, page, timeout=max(1, math.ceil(deadline[0] - now)))
            except RedisError:
                _warn_unreachable()
        return response

    return wrapper
