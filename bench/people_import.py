"""Importing people from a CSV: rows per second through a real Celery worker, against a
baseline measured in the same run.

A private PostgreSQL database and redis-server, and one worker subprocess (concurrency 1).
An admin's CSV of N people (email, name, role, cohort, coach email) is checked and queued
by ``people_import_start`` exactly as the upload page does; the clock runs from the commit
that queues it until the import's row says done. Figures:

- first import: rows per second (every row a new person: user, membership, invitation,
  audit event, and the invitation email after commit; mail goes to Django's in-memory
  backend, so no mail server is timed);
- the same file again: rows per second (every row skipped: the re-run is safe and quick);
- the baseline: the same number of bare ``User`` rows created one by one, each committed,
  in this process: the least a person can cost; and the ratio import / baseline.

Bars: at least --goal rows per second on the first import, and the re-run adding nobody.

    .venv/bin/python -m bench.people_import [--rows 1000] [--goal 20]
"""

from __future__ import annotations

import argparse
import contextlib
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench import _stack

DATABASE_PREFIX = "sandpit_people_import"


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = _stack.command_line(__doc__, "people_import.json")
    parser.add_argument("--rows", type=int, default=1000, help="people in the file (1000)")
    parser.add_argument("--goal", type=float, default=20.0, help="rows per second to reach")
    parser.add_argument("--timeout", type=float, default=600.0, help="per-import limit (s)")
    args = parser.parse_args(argv)
    if args.rows < 1:
        parser.error("--rows must be at least 1")
    return args


def csv_of(rows: int) -> bytes:
    lines = ["email,name,role,cohort,coach email"]
    lines += [
        f"person{n}@example.org,Person {n},trainee,Ward {n % 7},coach@example.org"
        for n in range(rows)
    ]
    return ("\n".join(lines) + "\n").encode()


def seed() -> Any:
    from django.contrib.auth.models import User

    from sandbox.models import Membership, Organisation

    organisation = Organisation.objects.create(name="Bench Health Board", slug="bench")
    admin = User.objects.create_user("bench-admin", "admin@example.org", "x")
    coach = User.objects.create_user("bench-coach", "coach@example.org", "x")
    Membership.objects.create(user=admin, organisation=organisation, role="admin")
    Membership.objects.create(user=coach, organisation=organisation, role="coach")
    return organisation, admin


def timed_import(organisation: Any, admin: Any, content: bytes, timeout: float) -> Any:
    """Queue the file as the upload page does; seconds from the queueing commit to done."""
    from django.db import transaction

    from coaching.models import PeopleImport
    from coaching.services import people

    committed: list[float] = []
    with transaction.atomic():
        transaction.on_commit(lambda: committed.append(time.monotonic()))
        started = people.people_import_start(
            by=admin, organisation_id=organisation.pk, file_name="staff.csv", content=content
        )
    deadline = committed[0] + timeout
    while True:
        row = PeopleImport.objects.get(pk=started.pk)
        if row.finished:
            return time.monotonic() - committed[0], row
        if time.monotonic() > deadline:
            raise _stack.StackError(f"the import did not finish in {timeout} s: {row.processed}")
        time.sleep(0.05)


def baseline(rows: int) -> float:
    """Bare users, one committed insert each, in this process."""
    from django.contrib.auth.models import User

    started = time.monotonic()
    for n in range(rows):
        User.objects.create(username=f"baseline{n}", email=f"baseline{n}@example.org")
    return time.monotonic() - started


def run(args: argparse.Namespace) -> dict[str, Any]:
    _stack.require_postgres()
    workdir = Path(tempfile.mkdtemp(prefix="sandpit-people-import-"))
    with contextlib.ExitStack() as stack:
        stack.callback(shutil.rmtree, workdir, ignore_errors=True)
        redis = _stack.RedisServer(workdir)
        stack.callback(redis.stop)
        redis.start()
        database = _stack.private_database(DATABASE_PREFIX)
        stack.callback(_stack.drop_database, database)
        _stack.recreate_database(database)
        env = _stack.stack_env(
            database=database,
            redis_url=redis.url,
            x_base_url="http://127.0.0.1:9",
            extra={
                "DJANGO_EMAIL_BACKEND": "django.core.mail.backends.locmem.EmailBackend",
                "SANDPIT_PEOPLE_IMPORT_MAX_ROWS": str(max(args.rows, 5000)),
                "SANDPIT_PEOPLE_IMPORT_MAX_BYTES": str(max(100 * args.rows, 2_000_000)),
            },
        )
        _stack.setup_django(env)
        _stack.migrate()
        organisation, admin = seed()
        worker = _stack.worker_process(env, workdir, concurrency=1)
        stack.callback(worker.stop)
        worker.start()
        _stack.wait_for_worker(worker, timeout=60)

        # Warm up: the worker's first import opens its connection and imports lazily.
        timed_import(organisation, admin, b"email\nwarm-up@example.org\n", args.timeout)
        content = csv_of(args.rows)
        print(f"first import of {args.rows} people ...")
        first_seconds, first = timed_import(organisation, admin, content, args.timeout)
        print("the same file again ...")
        again_seconds, again = timed_import(organisation, admin, content, args.timeout)
        print(f"baseline: {args.rows} bare users, one commit each ...")
        baseline_seconds = baseline(args.rows)

    first_rate = args.rows / first_seconds
    return {
        "rows": args.rows,
        "goal_rows_per_second": args.goal,
        "first_import": {
            "seconds": round(first_seconds, 2),
            "rows_per_second": round(first_rate, 1),
            "created": first.created_count,
            "skipped": first.skipped_count,
            "refused": first.refused_count,
        },
        "same_file_again": {
            "seconds": round(again_seconds, 2),
            "rows_per_second": round(args.rows / again_seconds, 1),
            "created": again.created_count,
            "skipped": again.skipped_count,
        },
        "baseline_bare_users": {
            "seconds": round(baseline_seconds, 2),
            "rows_per_second": round(args.rows / baseline_seconds, 1),
        },
        "import_over_baseline": round(first_seconds / baseline_seconds, 2),
    }


def print_summary(report: dict[str, Any]) -> None:
    first, again, base = (
        report["first_import"],
        report["same_file_again"],
        report["baseline_bare_users"],
    )
    print(
        f"first import:    {first['rows_per_second']:>7} rows/s ({first['seconds']} s; "
        f"goal {report['goal_rows_per_second']}) created {first['created']}, "
        f"refused {first['refused']}"
    )
    print(
        f"same file again: {again['rows_per_second']:>7} rows/s ({again['seconds']} s) "
        f"created {again['created']}, skipped {again['skipped']}"
    )
    print(f"baseline:        {base['rows_per_second']:>7} bare users/s ({base['seconds']} s)")
    print(f"import / baseline: {report['import_over_baseline']}x")


def failed(report: dict[str, Any]) -> str | None:
    first, again = report["first_import"], report["same_file_again"]
    if first["created"] != report["rows"]:
        return f"the first import created {first['created']} of {report['rows']} people"
    if again["created"]:
        return f"the same file again added {again['created']} people"
    if first["rows_per_second"] < report["goal_rows_per_second"]:
        return f"{first['rows_per_second']} rows/s, under the goal"
    return None


def main(argv: list[str] | None = None) -> int:
    return _stack.run_and_report(parse_args(argv), run, print_summary, failed)


if __name__ == "__main__":
    sys.exit(main())
