"""Run the content checks over posts in bulk: JSON lines in, JSON lines out.

    echo '{"id": "p1", "text": "Call 07700 900123"}' | python manage.py riskcheck

Each input line {"id", "text"} gives one output line {"id", "findings": [...]}, in order. A line
that cannot be checked gives {"id", "error"} and the run carries on. Lines are read and written
one at a time, so the command can sit at the end of a pipe for as long as the pipe lasts.
"""

from __future__ import annotations

import argparse
import json
import sys
from datetime import date
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from sandbox.checks import CheckContext, run_checks


def _iso_date(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not a date like 2026-05-07") from None


def _period(value: str) -> tuple[date, date]:
    start, _, end = value.partition(":")
    first, last = _iso_date(start), _iso_date(end)
    if first > last:
        raise argparse.ArgumentTypeError(f"{value!r} ends before it starts")
    return first, last


def check_line(line: bytes, context: CheckContext) -> dict[str, Any]:
    try:
        item = json.loads(line)
    except UnicodeDecodeError:
        return {"id": None, "error": "This line is not UTF-8 text."}
    except (ValueError, RecursionError):  # nesting deeper than Python's stack is not a post
        return {"id": None, "error": "This line is not valid JSON."}
    if not isinstance(item, dict):
        return {"id": None, "error": 'Each line must be a JSON object with "id" and "text".'}
    post_id = item.get("id")
    text = item.get("text")
    if text is None:
        return {"id": post_id, "error": 'This line has no "text".'}
    if not isinstance(text, str):
        return {"id": post_id, "error": '"text" must be a string.'}
    return {"id": post_id, "findings": [f.as_dict() for f in run_checks(text, context=context)]}


class Command(BaseCommand):
    help = (
        'Check posts read as JSON lines {"id", "text"} from standard input; write '
        '{"id", "findings"} lines to standard output.'
    )
    # Pure text in, text out: no database, and no reason to stop for a problem elsewhere.
    requires_system_checks: list[str] = []

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--today",
            type=_iso_date,
            help="the date to check against, YYYY-MM-DD (default: today)",
        )
        parser.add_argument(
            "--pre-election",
            action="append",
            type=_period,
            default=[],
            metavar="START:END",
            help="a pre-election period, e.g. 2026-03-26:2026-05-07 (repeatable)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        context = CheckContext(
            pre_election_periods=tuple(options["pre_election"]),
            today=options["today"] or date.today(),
        )
        # Bytes, not text: a line that is not UTF-8 is one bad line, not the end of the run.
        for line in sys.stdin.buffer:
            if not line.strip():
                continue
            self.stdout.write(json.dumps(check_line(line, context)))
            # Flushed per line so a caller feeding one post at a time gets each answer at once.
            self.stdout.flush()
