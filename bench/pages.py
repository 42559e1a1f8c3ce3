"""Benchmark the busiest pages through gunicorn over HTTP, against a bare signed-in view.

    .venv/bin/python -m bench.pages [--quick] [--seconds 5] [--json var/bench/pages.json]

Needs wrk (Debian: apt-get install -y wrk) and PostgreSQL. For each data size it:

1. creates its own PostgreSQL database (sandpit_bench_pages_<pid>), migrates it and fills it
   with ``manage.py seed_load`` (by default the issue's 50,000 drafts, 1,000 trainees and
   10,000 timeline items for one trainee; then 100,000 drafts and 100,000 items);
2. starts a private redis-server (the cache) and gunicorn as the Procfile's ``web`` line
   starts it (2 workers x 4 threads), with the production settings: SANDPIT_ENV=production,
   DEBUG off, manifest static files, as if behind an HTTPS proxy;
3. measures with wrk, all signed in by session: the trainee's timeline (page, and the feed
   htmx polls) and the coach's queue (page, and the rows htmx polls), and in the same run
   /bench/bare/, a view that only loads the session user (SANDPIT_BENCH_BARE_VIEW). Each
   page in turn, in rounds: throughput at 8 connections straight after the bare view's,
   so that each ratio is of one moment, and p95 latency at 1 connection; medians over
   the rounds. Before that, once, the same with kept pages off (SANDPIT_PAGE_CACHE_SECONDS=0):
   what a poll costs when something has changed and the page is rendered afresh. Those
   figures are reported, without a goal.

Goals (exit status 1 if one is missed): every page's throughput at least half the bare
view's; p95 at one connection at most 50 ms; at the large size every page's throughput
(as a ratio to the bare view, which is what noise leaves comparable) at least 80% of
the first size's. It also reports each gunicorn process's resident memory.

--quick seeds 5,000 drafts, 100 trainees and 1,000 items, then 10,000 and 10,000: for
trying a change, not for the record.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import secrets
import shlex
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

from bench import _stack

DATABASE_PREFIX = "sandpit_bench_pages"
RESULTS = _stack.REPO_ROOT / "var" / "bench" / "pages.json"
TRAINEE = "load-trainee"
COACH = "load-coach"
# name -> (user, path, htmx?)
PAGES = {
    "bare": ("trainee", "/bench/bare/", False),
    "timeline_page": ("trainee", "/timeline/", False),
    "timeline_feed": ("trainee", "/timeline/", True),
    "queue_page": ("coach", "/queue/", False),
    "queue_rows": ("coach", "/queue/", True),
}
SIZES = {
    "full": [
        {"drafts": 50_000, "trainees": 1_000, "timeline_items": 10_000},
        {"drafts": 100_000, "trainees": 1_000, "timeline_items": 100_000},
    ],
    "quick": [
        {"drafts": 5_000, "trainees": 100, "timeline_items": 1_000},
        {"drafts": 10_000, "trainees": 100, "timeline_items": 10_000},
    ],
}
GOAL_RATIO = 0.50  # of the bare view's throughput, at 8 connections
GOAL_P95_MS = 50.0  # at 1 connection
GOAL_LARGE = 0.80  # the large size's ratio over the first size's
CONNECTIONS = 8
# A run at 8 connections that left a worker none is started again (see wrk()), up to this
# many times.
PLACEMENT_TRIES = 30
# wrk prints its figures in this shape (a Lua `done` hook): one JSON line.
WRK_SCRIPT = """
wrk.headers["Cookie"] = os.getenv("BENCH_COOKIE")
wrk.headers["X-Forwarded-Proto"] = "https"
if os.getenv("BENCH_HTMX") == "1" then
  -- As the page's own polls do (static/js/idle.js): background requests, not use.
  wrk.headers["HX-Request"] = "true"
  wrk.headers["X-Sandpit-Background"] = "1"
end
done = function(summary, latency, requests)
  local errors = summary.errors.status + summary.errors.connect + summary.errors.read
    + summary.errors.write + summary.errors.timeout
  io.write(string.format(
    '{"requests": %d, "seconds": %f, "errors": %d, "p50_ms": %f, "p95_ms": %f, "p99_ms": %f}\\n',
    summary.requests, summary.duration / 1e6, errors,
    latency:percentile(50) / 1000, latency:percentile(95) / 1000, latency:percentile(99) / 1000))
end
"""


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--json", type=Path, default=RESULTS, help="where to write the figures")
    parser.add_argument("--quick", action="store_true", help="small data, for trying changes")
    parser.add_argument("--seconds", type=float, default=4.0, help="per wrk run (4)")
    parser.add_argument("--rounds", type=int, default=5, help="passes over the pages (5)")
    parser.add_argument("--one-size", action="store_true", help="skip the large size")
    return parser.parse_args(argv)


def require_wrk() -> str:
    for candidate in ("wrk", "/usr/bin/wrk"):
        with contextlib.suppress(OSError):
            subprocess.run([candidate, "--version"], capture_output=True, check=False)
            return candidate
    raise SystemExit("wrk is not installed. Install it with:\n  apt-get install -y wrk")


def web_command(bind: str) -> list[str]:
    """The Procfile's web line, bound where we say: what production runs, not a copy."""
    for line in (_stack.REPO_ROOT / "Procfile").read_text().splitlines():
        if line.startswith("web:"):
            command = line.removeprefix("web:").replace("${SANDPIT_BIND:-127.0.0.1:8000}", bind)
            words = shlex.split(command)
            words[0] = str(Path(sys.executable).parent / words[0])
            # Access logs to a file would only add to the processes' work; drop them.
            return [w for w in words if w not in ("--access-logfile", "-")]
    raise SystemExit("The Procfile has no web line.")


def manage(env: dict[str, str], *args: str) -> None:
    subprocess.run([sys.executable, "manage.py", *args], cwd=_stack.REPO_ROOT, env=env, check=True)


def sign_in(env: dict[str, str]) -> dict[str, str]:
    """A session cookie for the trainee and the coach, made as login does (in a subprocess
    with the server's settings, so the session's hash matches its SECRET_KEY)."""
    code = (
        "import json\n"
        "from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY\n"
        "from django.contrib.auth.models import User\n"
        "from django.contrib.sessions.backends.db import SessionStore\n"
        "out = {}\n"
        f"for role, name in (('trainee', {TRAINEE!r}), ('coach', {COACH!r})):\n"
        "    user = User.objects.get(username=name)\n"
        "    s = SessionStore()\n"
        "    s[SESSION_KEY] = str(user.pk)\n"
        "    s[BACKEND_SESSION_KEY] = 'django.contrib.auth.backends.ModelBackend'\n"
        "    s[HASH_SESSION_KEY] = user.get_session_auth_hash()\n"
        "    s.create()\n"
        "    out[role] = 'sessionid=' + s.session_key\n"
        "print(json.dumps(out))\n"
    )
    result = subprocess.run(
        [sys.executable, "manage.py", "shell", "-c", code],
        cwd=_stack.REPO_ROOT,
        env=env,
        check=True,
        capture_output=True,
        text=True,
    )
    return dict(json.loads(result.stdout.strip().splitlines()[-1]))


def fetch(base: str, path: str, cookie: str, htmx: bool) -> tuple[int, str]:
    headers = {"Cookie": cookie, "X-Forwarded-Proto": "https"}
    if htmx:
        headers["HX-Request"] = "true"
    request = urllib.request.Request(base + path, headers=headers)  # noqa: S310 - our own http

    class NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args: Any, **kwargs: Any) -> None:
            return None

    opener = urllib.request.build_opener(NoRedirect)
    try:
        with opener.open(request, timeout=30) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode(errors="replace")


def wait_until_up(base: str, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"gunicorn exited with {process.returncode}:\n{_stack.tail(log)}")
        with contextlib.suppress(OSError):
            # As from the HTTPS proxy production sits behind; plain HTTP would be redirected.
            probe = urllib.request.Request(  # noqa: S310 - our own http://127.0.0.1 server
                base + "/health/live/", headers={"X-Forwarded-Proto": "https"}
            )
            urllib.request.urlopen(probe, timeout=2).close()  # noqa: S310
            return
        time.sleep(0.2)
    raise SystemExit(f"gunicorn did not answer in 60 s:\n{_stack.tail(log)}")


def rss_mb(pid: int) -> dict[str, float]:
    """Resident memory of the gunicorn master and each worker, in MB."""
    import psutil

    master = psutil.Process(pid)
    figures = {"master": round(master.memory_info().rss / 2**20, 1)}
    for n, child in enumerate(master.children(), start=1):
        figures[f"worker_{n}"] = round(child.memory_info().rss / 2**20, 1)
    return figures


def wrk(
    binary: str,
    script: Path,
    base: str,
    path: str,
    cookie: str,
    htmx: bool,
    *,
    conns: int,
    s: float,
    server_pid: int,
) -> dict[str, float]:
    """One wrk run. gunicorn's workers each accept what they can, and keep-alive connections
    stay where they landed: more often than not, all of wrk's connections land on one of
    the two workers, and the run would measure one process at half the server's speed,
    whatever the page. So a run whose connections left a worker without any is stopped at
    once and started again, and every figure is of the whole server."""
    env = {**os.environ, "BENCH_COOKIE": cookie, "BENCH_HTMX": "1" if htmx else "0"}
    command = [binary, "-t1", f"-c{conns}", f"-d{max(1, round(s))}s", "--timeout", "10s",
               "-s", str(script), base + path]  # fmt: skip
    port = int(base.rsplit(":", 1)[1])
    for attempt in range(1, PLACEMENT_TRIES + 1):
        process = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, text=True)
        time.sleep(0.3)
        placed = connections_per_worker(server_pid, port)
        if conns < 2 * len(placed) or min(placed, default=0) > 0 or attempt == PLACEMENT_TRIES:
            break
        process.terminate()
        process.communicate()
    stdout, _ = process.communicate()
    if process.returncode:
        raise SystemExit(f"wrk failed with {process.returncode} on {path}")
    figures = json.loads(stdout.strip().splitlines()[-1])
    figures["rps"] = figures["requests"] / figures["seconds"]
    figures["connections_per_worker"] = placed
    if not figures["requests"]:
        # Not one answer in the whole run: its latency is at least the run's length.
        figures["p50_ms"] = figures["p95_ms"] = figures["p99_ms"] = figures["seconds"] * 1000
    return dict(figures)


def connections_per_worker(server_pid: int, port: int) -> list[int]:
    """How many open connections to the port each gunicorn worker holds."""
    import psutil

    return [
        sum(
            1
            for c in worker.net_connections(kind="tcp")
            if c.status == psutil.CONN_ESTABLISHED and c.laddr and c.laddr.port == port
        )
        for worker in psutil.Process(server_pid).children()
    ]


def measure_size(
    size: dict[str, int], args: argparse.Namespace, wrk_binary: str, workdir: Path
) -> dict[str, Any]:
    database = _stack.private_database(DATABASE_PREFIX)
    _stack.recreate_database(database)
    redis = _stack.RedisServer(workdir)
    gunicorn: subprocess.Popen[bytes] | None = None
    try:
        redis.start()
        base_env = _stack.stack_env(
            database=database, redis_url=redis.url, x_base_url="http://127.0.0.1:9"
        )
        # One key for seeding and serving: the seeded account's token is encrypted with it.
        base_env["SANDPIT_ENCRYPTION_KEY"] = _fernet_key()
        seed_env = {**base_env, "DJANGO_DEBUG": "false", "DJANGO_ALLOWED_HOSTS": "127.0.0.1"}
        manage(seed_env, "migrate", "--noinput", "-v0")
        started = time.monotonic()
        manage(
            seed_env,
            "seed_load",
            f"--drafts={size['drafts']}",
            f"--trainees={size['trainees']}",
            f"--timeline-items={size['timeline_items']}",
            f"--username={TRAINEE}",
            f"--coach={COACH}",
        )
        seed_seconds = round(time.monotonic() - started, 1)
        port = _stack.free_port()
        web_env = {
            **base_env,
            "SANDPIT_ENV": "production",
            "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
            "DJANGO_ALLOWED_HOSTS": "127.0.0.1",
            "SANDPIT_BEHIND_PROXY": "true",
            "SANDPIT_STATIC_ROOT": str(workdir / "static"),
            "SANDPIT_MEDIA_ROOT": str(workdir / "media"),
            "SANDPIT_BENCH_BARE_VIEW": "true",
            "DJANGO_EMAIL_BACKEND": "django.core.mail.backends.locmem.EmailBackend",
        }
        manage(web_env, "collectstatic", "--noinput", "-v0")
        cookies = sign_in(web_env)
        base = f"http://127.0.0.1:{port}"
        log = workdir / "gunicorn.log"
        script = workdir / "bench.lua"
        script.write_text(WRK_SCRIPT)
        # Rendered afresh first: kept pages off, one round, for the figures beside the
        # goals (what a poll costs when something has changed). No goal of its own.
        gunicorn = serve(base, {**web_env, "SANDPIT_PAGE_CACHE_SECONDS": "0"}, log, cookies)
        afresh: dict[str, dict[str, float]] = {}
        for name, (who, path, htmx) in PAGES.items():
            fast = wrk(wrk_binary, script, base, path, cookies[who], htmx, conns=CONNECTIONS,
                       s=args.seconds, server_pid=gunicorn.pid)  # fmt: skip
            slow = wrk(wrk_binary, script, base, path, cookies[who], htmx, conns=1,
                       s=args.seconds, server_pid=gunicorn.pid)  # fmt: skip
            afresh[name] = {"rps_c8": round(fast["rps"], 1), "p95_ms_c1": round(slow["p95_ms"], 1)}
        stop(gunicorn)
        gunicorn = serve(base, web_env, log, cookies)
        runs: dict[str, dict[str, list[dict[str, float]]]] = {
            name: {"c8": [], "c1": [], "pairs": []} for name in PAGES
        }
        # Warm each worker's caches and connections before anything counts.
        for who, path, htmx in PAGES.values():
            wrk(wrk_binary, script, base, path, cookies[who], htmx, conns=CONNECTIONS, s=2,
                server_pid=gunicorn.pid)  # fmt: skip

        def measured(name: str, conns: int) -> dict[str, float]:
            who, path, htmx = PAGES[name]
            return wrk(wrk_binary, script, base, path, cookies[who], htmx, conns=conns,
                       s=args.seconds, server_pid=gunicorn.pid)  # fmt: skip

        for _ in range(args.rounds):
            runs["bare"]["c1"].append(measured("bare", 1))
            for name in PAGES:
                if name == "bare":
                    continue
                # Each page straight after a bare run: their ratio is this moment's, and
                # the rounds' median of such pairs is what a noisy machine leaves steady.
                bare = measured("bare", CONNECTIONS)
                runs["bare"]["c8"].append(bare)
                runs[name]["c8"].append(measured(name, CONNECTIONS))
                runs[name]["pairs"].append({"ratio": runs[name]["c8"][-1]["rps"] / bare["rps"]})
                runs[name]["c1"].append(measured(name, 1))
        memory = rss_mb(gunicorn.pid)
    finally:
        if gunicorn is not None:
            stop(gunicorn)
        redis.stop()
        _stack.drop_database(database)
    pages: dict[str, Any] = {}
    for name, figures in runs.items():
        rps = statistics.median(r["rps"] for r in figures["c8"])
        pairs = [r["ratio"] for r in figures["pairs"]] or [1.0]
        pages[name] = {
            "rps_c8": round(rps, 1),
            "ratio_to_bare": round(statistics.median(pairs), 3),
            "ratios_by_round": [round(r, 3) for r in pairs],
            "p50_ms_c1": round(statistics.median(r["p50_ms"] for r in figures["c1"]), 1),
            "p95_ms_c1": round(statistics.median(r["p95_ms"] for r in figures["c1"]), 1),
            "p95_ms_c8": round(statistics.median(r["p95_ms"] for r in figures["c8"]), 1),
            "errors": sum(r["errors"] for key in ("c8", "c1") for r in figures[key]),
        }
    for name, numbers in afresh.items():
        numbers["ratio_to_bare"] = round(numbers["rps_c8"] / afresh["bare"]["rps_c8"], 3)
        pages[name]["rendered_afresh"] = numbers
    return {**size, "seed_seconds": seed_seconds, "pages": pages, "rss_mb": memory}


def serve(
    base: str, env: dict[str, str], log: Path, cookies: dict[str, str]
) -> subprocess.Popen[bytes]:
    """gunicorn as production runs it, answering every page."""
    with log.open("ab") as out:
        gunicorn = subprocess.Popen(
            web_command(base.removeprefix("http://")),
            cwd=_stack.REPO_ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    wait_until_up(base, gunicorn, log)
    for name, (who, path, htmx) in PAGES.items():
        status, body = fetch(base, path, cookies[who], htmx)
        if status != 200 or not body.strip():
            stop(gunicorn)
            raise SystemExit(f"{name}: {path} answered {status}:\n{_stack.tail(log, 60)}")
    return gunicorn


def stop(gunicorn: subprocess.Popen[bytes]) -> None:
    if gunicorn.poll() is None:
        os.killpg(gunicorn.pid, 15)
        gunicorn.wait(timeout=30)


def _fernet_key() -> str:
    from cryptography.fernet import Fernet

    return Fernet.generate_key().decode()


def run(args: argparse.Namespace) -> dict[str, Any]:
    _stack.require_postgres()
    wrk_binary = require_wrk()
    sizes = SIZES["quick" if args.quick else "full"][: 1 if args.one_size else 2]
    started = time.monotonic()
    results = []
    with tempfile.TemporaryDirectory(prefix="sandpit-bench-pages-") as tmp:
        for n, size in enumerate(sizes):
            workdir = Path(tmp) / f"size{n}"
            workdir.mkdir()
            print(f"seeding and measuring {size} ...", flush=True)
            results.append(measure_size(size, args, wrk_binary, workdir))
            print_size(results[-1])
    return {
        "goals": {
            "ratio_to_bare_c8": GOAL_RATIO,
            "p95_ms_c1": GOAL_P95_MS,
            "large_over_first_ratio": GOAL_LARGE,
        },
        "connections": CONNECTIONS,
        "seconds_per_run": args.seconds,
        "rounds": args.rounds,
        "sizes": results,
        "large_over_first": large_over_first(results),
        "runtime_seconds": round(time.monotonic() - started),
    }


def large_over_first(results: list[dict[str, Any]]) -> dict[str, float]:
    if len(results) < 2:
        return {}
    first, large = results[0]["pages"], results[-1]["pages"]
    return {
        name: round(large[name]["ratio_to_bare"] / max(first[name]["ratio_to_bare"], 1e-9), 3)
        for name in PAGES
        if name != "bare"
    }


def print_size(result: dict[str, Any]) -> None:
    print(
        f"\n{result['drafts']} drafts, {result['trainees']} trainees, "
        f"{result['timeline_items']} timeline items (seeded in {result['seed_seconds']} s)"
    )
    print(
        f"  {'page':15} {'req/s at 8':>10} {'x bare':>7} (goal >= {GOAL_RATIO})"
        f"  {'p95 at 1':>9} (goal <= {GOAL_P95_MS:.0f} ms)  p50 at 1"
    )
    for name, page in result["pages"].items():
        ok_ratio = name == "bare" or page["ratio_to_bare"] >= GOAL_RATIO
        ok_p95 = name == "bare" or page["p95_ms_c1"] <= GOAL_P95_MS
        print(
            f"  {name:15} {page['rps_c8']:>10} {page['ratio_to_bare']:>7} "
            f"{'ok' if ok_ratio else 'MISSED':>16}"
            f"  {page['p95_ms_c1']:>6} ms {'ok' if ok_p95 else 'MISSED':>19}"
            f"  {page['p50_ms_c1']} ms"
        )
    print("  rendered afresh (kept pages off, one round; no goal):")
    for name, page in result["pages"].items():
        afresh = page["rendered_afresh"]
        print(
            f"  {name:15} {afresh['rps_c8']:>10} {afresh['ratio_to_bare']:>7} "
            f"{'':>16}  {afresh['p95_ms_c1']:>6} ms"
        )
    print("  RSS (MB): " + ", ".join(f"{k} {v}" for k, v in result["rss_mb"].items()))


def print_summary(report: dict[str, Any]) -> None:
    if report["large_over_first"]:
        print(f"\nlarge size over first (ratio to bare; goal >= {GOAL_LARGE}):")
        for name, value in report["large_over_first"].items():
            print(f"  {name:15} {value:>6} {'ok' if value >= GOAL_LARGE else 'MISSED'}")
    print(f"runtime {report['runtime_seconds']} s")


def failures(report: dict[str, Any]) -> str | None:
    missed = []
    for result in report["sizes"]:
        where = f"{result['drafts']} drafts/{result['timeline_items']} items"
        for name, page in result["pages"].items():
            if page["errors"]:
                missed.append(f"{name} at {where}: {page['errors']} errors or timeouts")
            if name == "bare":
                continue
            if page["ratio_to_bare"] < GOAL_RATIO:
                missed.append(f"{name} at {where}: {page['ratio_to_bare']}x bare < {GOAL_RATIO}")
            if page["p95_ms_c1"] > GOAL_P95_MS:
                missed.append(f"{name} at {where}: p95 {page['p95_ms_c1']} ms > {GOAL_P95_MS}")
    for name, value in report["large_over_first"].items():
        if value < GOAL_LARGE:
            missed.append(f"{name} at the large size: {value} of the first size < {GOAL_LARGE}")
    return "; ".join(missed) or None


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    return _stack.run_and_report(args, run, print_summary, failures)


if __name__ == "__main__":
    sys.exit(main())
