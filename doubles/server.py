"""The HTTP plumbing every platform double shares: a real threaded HTTP server on
127.0.0.1, parsed requests, replies, a queue of faults with seeded odds behind it
(including "hang-after" and "reset", which the handler acts out), fixed-window rate
limits and call counts.

Pure standard library, so the doubles load without Django (the benchmarks load the X
double before setting Django up). Each double subclasses ``HttpDouble`` and answers
``handle(request)``.
"""

from __future__ import annotations

import html
import json
import random
import socket
import struct
import threading
import time
from collections import Counter, deque
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Self
from urllib.parse import parse_qs, urlsplit

from doubles.media import multipart_form


@dataclass(frozen=True)
class HttpRequest:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: Mapping[str, str]  # names lower-cased
    body: bytes

    def param(self, name: str) -> str | None:
        values = self.query.get(name)
        return values[0] if values else None

    def header(self, name: str) -> str:
        return self.headers.get(name.lower(), "")

    def bearer_token(self) -> str | None:
        scheme, _, token = self.header("Authorization").partition(" ")
        return token.strip() if scheme.lower() == "bearer" and token.strip() else None

    def form(self) -> dict[str, str]:
        if not self.header("Content-Type").startswith("application/x-www-form-urlencoded"):
            return {}
        return {k: v[0] for k, v in parse_qs(self.body.decode(errors="replace")).items()}

    def form_lists(self) -> dict[str, list[str]]:
        """A urlencoded or multipart form with every value of each name (``media_ids[]``)."""
        if self.header("Content-Type").startswith("application/x-www-form-urlencoded"):
            return parse_qs(self.body.decode(errors="replace"))
        parts = multipart_form(self.header("Content-Type"), self.body)
        return {name: [p.text for p in values] for name, values in parts.items()}

    def json_object(self) -> dict[str, Any] | None:
        """The body as a JSON object, or None when it is not one."""
        try:
            payload = json.loads(self.body)
        except ValueError:
            return None
        return payload if isinstance(payload, dict) else None


@dataclass
class Reply:
    status: int
    body: bytes = b""
    content_type: str = "application/json; charset=utf-8"
    headers: dict[str, str] = field(default_factory=dict)
    # A post-fault to act out instead of answering at once ("hang-after" or "reset").
    then: str | None = None


def json_reply(status: int, payload: object, content_type: str = "application/json") -> Reply:
    return Reply(status, json.dumps(payload).encode(), f"{content_type}; charset=utf-8")


def html_reply(site: str, title: str, main: str, status: int = 200, *, platform: str = "") -> Reply:
    """A plain, accessible page with no scripts or styles, so a strict CSP costs nothing."""
    stand_in = f"a stand-in for {platform}" if platform else "a stand-in"
    document = f"""<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{html.escape(title)} · {html.escape(site)}</title>
</head>
<body>
<header>
<p><a href="/">{html.escape(site)}</a>: {stand_in} used by Sandpit. Nothing here is public.</p>
</header>
<main>
{main}
</main>
</body>
</html>
"""
    headers = {
        "Content-Security-Policy": "default-src 'none'; img-src 'self'",
        "X-Content-Type-Options": "nosniff",
    }
    return Reply(status, document.encode(), "text/html; charset=utf-8", headers)


def text_html(text: str) -> str:
    return html.escape(text).replace("\n", "<br>\n")


@dataclass
class _Window:
    reset_at: int  # epoch seconds when the count starts again
    used: int = 0


class HttpDouble:
    """What every platform double shares: a threaded HTTP server on 127.0.0.1, a queue of
    faults (one taken per create request) with seeded odds behind it, and call counts.

    All state sits behind one lock because every request runs on its own thread.
    """

    server_name = "HttpDouble/1"
    fault_names: tuple[str, ...] = ()
    upload_fault_names: tuple[str, ...] = ()
    # Faults an inbox read can meet (``inject(..., on="read")``): each read of mentions or
    # notifications takes the next one.
    read_fault_names: tuple[str, ...] = ()

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        hang_seconds: float = 30.0,
        rate_limit_reset_seconds: int = 60,
        verbose: bool = False,
    ) -> None:
        self.host = host
        self.port = port
        # How long "hang-after" holds the response: set it past the client's read timeout.
        self.hang_seconds = hang_seconds
        # When a "429" fault says the limit resets, counted from the faulted request.
        self.rate_limit_reset_seconds = rate_limit_reset_seconds
        self.verbose = verbose
        self._lock = threading.RLock()
        self._fault_queue: deque[str] = deque()
        self._upload_faults: deque[str] = deque()
        self._read_faults: deque[str] = deque()
        self._probabilities: dict[str, float] = {}
        self._rng = random.Random()  # noqa: S311 - chaos, not security
        self._calls: Counter[str] = Counter()
        self._windows: dict[tuple[str, str], _Window] = {}
        self._stopping = threading.Event()
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    def handle(self, request: HttpRequest) -> Reply:
        raise NotImplementedError

    def internal_error(self) -> Reply:
        """What a bug in the double answers, in the platform's own error shape."""
        return json_reply(500, {"error": "Internal Server Error"})

    # Lifecycle ----------------------------------------------------------------------

    def start(self) -> Self:
        self._stopping.clear()
        self._server = _Server((self.host, self.port), self)
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.02},  # how soon stop() takes effect
            name=f"{self.server_name}-{self.port}",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        # Wake any "hang-after" responses so their threads end with the server.
        self._stopping.set()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def wait_for_hang(self) -> None:
        self._stopping.wait(self.hang_seconds)

    # Faults -------------------------------------------------------------------------

    def inject(self, *faults: str, on: str = "create") -> None:
        """Queue faults; each create request (``on="upload"``: each media upload;
        ``on="read"``: each inbox read) takes the next one, in order."""
        if on == "read":
            self._check_faults(faults, self.read_fault_names)
            with self._lock:
                self._read_faults.extend(faults)
            return
        if on == "upload":
            self._check_faults(faults, self.upload_fault_names)
            with self._lock:
                self._upload_faults.extend(faults)
            return
        if on != "create":
            raise ValueError("faults strike on 'create', 'upload' or 'read'")
        self._check_faults(faults)
        with self._lock:
            self._fault_queue.extend(faults)

    def set_probabilities(
        self, probabilities: Mapping[str, float], *, seed: int | None = None
    ) -> None:
        """When the queue is empty, each create request draws a fault with these odds."""
        self._check_faults(probabilities)
        if any(not 0 <= p <= 1 for p in probabilities.values()) or sum(probabilities.values()) > 1:
            raise ValueError("probabilities must each be in [0, 1] and sum to at most 1")
        with self._lock:
            self._probabilities = dict(probabilities)
            if seed is not None:
                self._rng.seed(seed)

    def clear_faults(self) -> None:
        with self._lock:
            self._fault_queue.clear()
            self._upload_faults.clear()
            self._read_faults.clear()
            self._probabilities = {}

    def faults(self) -> dict[str, Any]:
        with self._lock:
            return {
                "queue": list(self._fault_queue),
                "upload_queue": list(self._upload_faults),
                "read_queue": list(self._read_faults),
                "probabilities": dict(self._probabilities),
                "hang_seconds": self.hang_seconds,
                "rate_limit_reset_seconds": self.rate_limit_reset_seconds,
            }

    def configure_faults(self, payload: Mapping[str, Any]) -> None:
        """Keys present replace what is set; absent keys are left alone."""
        if "queue" in payload:
            self._check_faults(payload["queue"])
            with self._lock:
                self._fault_queue = deque(payload["queue"])
        if "upload_queue" in payload:
            self._check_faults(payload["upload_queue"], self.upload_fault_names)
            with self._lock:
                self._upload_faults = deque(payload["upload_queue"])
        if "read_queue" in payload:
            self._check_faults(payload["read_queue"], self.read_fault_names)
            with self._lock:
                self._read_faults = deque(payload["read_queue"])
        if "probabilities" in payload or "seed" in payload:
            current = self.faults()["probabilities"]
            self.set_probabilities(payload.get("probabilities", current), seed=payload.get("seed"))
        if "hang_seconds" in payload:
            self.hang_seconds = float(payload["hang_seconds"])
        if "rate_limit_reset_seconds" in payload:
            self.rate_limit_reset_seconds = int(payload["rate_limit_reset_seconds"])

    def next_fault(self) -> str | None:
        with self._lock:
            if self._fault_queue:
                return self._fault_queue.popleft()
            draw = self._rng.random() if self._probabilities else 1.0
            for fault, probability in self._probabilities.items():
                if draw < probability:
                    return fault
                draw -= probability
            return None

    def next_upload_fault(self) -> str | None:
        with self._lock:
            return self._upload_faults.popleft() if self._upload_faults else None

    def next_read_fault(self) -> str | None:
        with self._lock:
            return self._read_faults.popleft() if self._read_faults else None

    def _check_faults(self, faults: Iterable[str], allowed: tuple[str, ...] = ()) -> None:
        allowed = allowed or self.fault_names
        unknown = sorted(set(faults) - set(allowed))
        if unknown:
            raise ValueError(f"unknown faults {unknown}; choose from {list(allowed)}")

    # Rate limits --------------------------------------------------------------------

    def spend(
        self, key: tuple[str, str], limit: int, period: int, cost: int = 1
    ) -> tuple[bool, int, int]:
        """Count ``cost`` against a fixed window of ``period`` seconds that starts with
        the key's first request: (within the limit, remaining, reset epoch).

        Mastodon aligns its windows to the clock instead; that differs only in where a
        window starts, and starting at the first request keeps tests off the boundary.
        A refused request spends nothing.
        """
        now = int(time.time())
        with self._lock:
            window = self._windows.get(key)
            if window is None or window.reset_at <= now:
                window = self._windows[key] = _Window(now + period)
            allowed = window.used + cost <= limit
            if allowed:
                window.used += cost
            return allowed, max(limit - window.used, 0), window.reset_at

    # Call counts --------------------------------------------------------------------

    def calls(self) -> dict[str, int]:
        """How many requests each endpoint has had, e.g. what a client calls on startup."""
        with self._lock:
            return dict(self._calls)

    def count_call(self, endpoint: str) -> None:
        with self._lock:
            self._calls[endpoint] += 1

    def control(
        self, request: HttpRequest, extra: Callable[[str, str, dict[str, Any]], Reply | None]
    ) -> Reply:
        """The ``/_double/`` endpoints every double has; ``extra`` answers the rest or None."""
        method, path = request.method, request.path
        try:
            payload = json.loads(request.body) if request.body else {}
            if path == "/_double/faults" and method in {"GET", "POST", "DELETE"}:
                if method == "DELETE":
                    self.clear_faults()
                if method == "POST":
                    self.configure_faults(payload)
                return json_reply(200, self.faults())
            reply = extra(method, path, payload)
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            return json_reply(400, {"error": f"{type(exc).__name__}: {exc}"})
        return reply or json_reply(404, {"error": f"no control endpoint {method} {path}"})


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, address: tuple[str, int], double: HttpDouble) -> None:
        self.double = double
        super().__init__(address, _Handler)


class _Handler(BaseHTTPRequestHandler):
    # HTTP/1.1 keeps connections alive, as real servers do; every reply has Content-Length.
    protocol_version = "HTTP/1.1"
    server: _Server

    def version_string(self) -> str:
        return self.server.double.server_name

    def setup(self) -> None:
        super().setup()
        # Headers and body go out in separate writes; without this, Nagle's algorithm and
        # the client's delayed ACK add ~40 ms to every keep-alive response.
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def do_GET(self) -> None:
        self._dispatch()

    def do_POST(self) -> None:
        self._dispatch()

    def do_DELETE(self) -> None:
        self._dispatch()

    def _dispatch(self) -> None:
        url = urlsplit(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        request = HttpRequest(
            method=self.command,
            path=url.path,
            query=parse_qs(url.query),
            headers={k.lower(): v for k, v in self.headers.items()},
            body=self.rfile.read(length) if length else b"",
        )
        double = self.server.double
        try:
            reply = double.handle(request)
        except Exception:
            # A bug in the double must look like the platform having one, not a dropped line.
            self.log_error("double failed on %s %s", self.command, self.path)
            reply = double.internal_error()
        if reply.then == "reset":
            self._reset_connection()
            return
        if reply.then == "hang-after":
            double.wait_for_hang()
        self._send(reply)

    def _send(self, reply: Reply) -> None:
        try:
            self.send_response(reply.status)
            self.send_header("Content-Type", reply.content_type)
            self.send_header("Content-Length", str(len(reply.body)))
            if self.close_connection:
                # The client asked to close: say so, as real servers do, or it may put the
                # connection back in its pool and send the next request into a closed socket.
                self.send_header("Connection", "close")
            for name, value in reply.headers.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(reply.body)
        except (BrokenPipeError, ConnectionResetError):
            # The client gave up (e.g. its read timeout during "hang-after"); nobody to tell.
            self.close_connection = True

    def _reset_connection(self) -> None:
        # SO_LINGER with a zero timeout makes close() send a TCP RST instead of a FIN:
        # the client sees "connection reset" with no response, as when a proxy drops it.
        self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.connection.close()
        self.close_connection = True

    def log_message(self, format: str, *args: Any) -> None:
        if self.server.double.verbose:
            super().log_message(format, *args)
