"""Inbox fetching on each platform's double: items stored, duplicates counted, time per fetch.

For X, Mastodon and Bluesky in turn (each its double in this process, PostgreSQL and a
private Redis), the public sends --mentions mentions (doubles/inbound.py's words, one in
six with a patient's details) in bursts of uneven size, some larger than a page, and
``inbox_fetch`` runs after each burst, as the beat would. Once in the run the cursor is
put back two bursts (a restored backup, a lost update): the platforms hand those posts
back again, and the fetch must count them as duplicates and store nothing twice.

    .venv/bin/python -m bench.inbox_fetch [--mentions 500]

The bar (exit status 1 when missed): every mention stored exactly once, the re-sent ones
counted as duplicates, and the patient-detail posts flagged.
"""

from __future__ import annotations

import argparse
import contextlib
import shutil
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from bench import _stack

DATABASE_PREFIX = "sandpit_inbox_fetch"
# Burst sizes, as shares of the run: X and Bluesky page 100 at a time, Mastodon 80.
BURSTS = (0.07, 0.30, 0.13, 0.36, 0.14)
APP_PASSWORD = "abcd-efgh-ijkl-mnop"  # noqa: S105 - the double's, made up
TOKEN = "bench-token"  # noqa: S105 - likewise


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = _stack.command_line(__doc__, "inbox_fetch.json")
    parser.add_argument("--mentions", type=int, default=500, help="mentions per platform (500)")
    return parser.parse_args(argv)


def bursts(total: int) -> list[int]:
    sizes = [round(total * share) for share in BURSTS]
    sizes[-1] += total - 1 - sum(sizes)  # one mention goes before the first fetch
    return sizes


def run_platform(platform: str, total: int) -> dict[str, Any]:
    from coaching.models import InboxCursor, InboxItem
    from coaching.services.fetching import inbox_fetch
    from doubles.bluesky import BlueskyDouble
    from doubles.inbound import sayings
    from doubles.mastodon import MastodonDouble
    from doubles.x import XDouble
    from sandbox.models import Organisation, WorkplaceAccount

    organisation = Organisation.objects.create(name=f"Bench {platform}", slug=f"bench-{platform}")
    handle = {"x": "BenchBoard", "mastodon": "benchboard", "bluesky": "benchboard.test"}[platform]
    double: Any
    if platform == "x":
        double = XDouble().start()
        double.add_user(handle, token=TOKEN)
    elif platform == "mastodon":
        double = MastodonDouble().start()
        double.add_account(handle, token=TOKEN)
    else:
        double = BlueskyDouble().start()
        double.add_account(handle, app_password=APP_PASSWORD)
    try:
        account = WorkplaceAccount.objects.create(
            organisation=organisation,
            platform=platform,
            handle=handle,
            display_name="Bench",
            api_base_url=double.base_url,
            access_token=TOKEN if platform != "bluesky" else "",
            app_password=APP_PASSWORD if platform == "bluesky" else "",
        )
        said = sayings(handle)

        def mention() -> None:
            voice, text = next(said)
            author = (
                voice.username.replace("_", "-") + ".test"
                if platform == "bluesky"
                else voice.username
            )
            double.add_mention(handle, author=author, text=text)

        fetches: list[dict[str, Any]] = []

        def fetch() -> None:
            result = inbox_fetch(account=account)
            assert result.outcome == "fetched", result
            fetches.append(
                {
                    "stored": result.stored,
                    "duplicates": result.duplicates,
                    "unreadable": result.unreadable,
                    "seconds": round(result.seconds, 4),
                }
            )

        mention()
        fetch()
        marks = []
        for n, size in enumerate(bursts(total)):
            marks.append(InboxCursor.objects.get(account=account).since_id)
            for _ in range(size):
                mention()
            if n == 3:
                # The overlap: the cursor goes back two bursts before this fetch.
                InboxCursor.objects.filter(account=account).update(since_id=marks[1])
            fetch()
        fetch()  # nothing new
        cursor = InboxCursor.objects.get(account=account)
        items = InboxItem.objects.filter(account=account)
        seconds = [f["seconds"] for f in fetches]
        return {
            "mentions": total,
            "fetches": len(fetches),
            "stored": cursor.fetched_total,
            "rows": items.count(),
            "duplicates": cursor.duplicates_total,
            "expected_duplicates": bursts(total)[1] + bursts(total)[2],
            "flagged": items.exclude(risks=[]).count(),
            "expected_flagged": sum(
                "999 000 0018" in t or "Jack Peters" in t
                for t in items.values_list("text", flat=True)
            ),
            "seconds_per_fetch_median": round(statistics.median(seconds), 4),
            "seconds_per_fetch_max": round(max(seconds), 4),
            "per_fetch": fetches,
        }
    finally:
        double.stop()


def run(args: argparse.Namespace) -> dict[str, Any]:
    _stack.require_postgres()
    workdir = Path(tempfile.mkdtemp(prefix="sandpit-inbox-fetch-"))
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
            # The Mastodon and Bluesky doubles are on 127.0.0.1.
            extra={"SANDPIT_ALLOW_LOCAL_PLATFORMS": "true"},
        )
        _stack.setup_django(env)
        _stack.migrate()
        report: dict[str, Any] = {}
        for platform in ("x", "mastodon", "bluesky"):
            started = time.monotonic()
            report[platform] = run_platform(platform, args.mentions)
            report[platform]["seconds_total"] = round(time.monotonic() - started, 2)
    return report


def print_summary(report: dict[str, Any]) -> None:
    for platform, figures in report.items():
        print(
            f"{platform:>8}: {figures['mentions']} mentions, {figures['fetches']} fetches, "
            f"{figures['stored']} stored ({figures['rows']} rows), "
            f"{figures['duplicates']} duplicates (expected {figures['expected_duplicates']}), "
            f"{figures['flagged']} flagged; per fetch median "
            f"{figures['seconds_per_fetch_median'] * 1000:.0f} ms, max "
            f"{figures['seconds_per_fetch_max'] * 1000:.0f} ms"
        )


def failed(report: dict[str, Any]) -> str | None:
    for platform, figures in report.items():
        if not figures["stored"] == figures["rows"] == figures["mentions"]:
            return f"{platform}: stored {figures['stored']} of {figures['mentions']}"
        if figures["duplicates"] != figures["expected_duplicates"]:
            return f"{platform}: {figures['duplicates']} duplicates counted"
        if figures["flagged"] != figures["expected_flagged"]:
            return f"{platform}: {figures['flagged']} flagged"
    return None


def main(argv: list[str] | None = None) -> int:
    return _stack.run_and_report(parse_args(argv), run, print_summary, failed)


if __name__ == "__main__":
    raise SystemExit(main())
