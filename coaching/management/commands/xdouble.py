"""Run the X API double in the foreground: ``python manage.py xdouble``."""

from __future__ import annotations

import signal
import threading
from types import FrameType
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser

from coaching.publishing.x_double import FAULTS, XDouble


class Command(BaseCommand):
    help = "Run the X API double (a local stand-in for api.x.com) with one demo account."
    # The double shares nothing with the web app, so a broken URLconf or model elsewhere
    # must not stop it: `make run` starts it beside the app precisely while developing.
    requires_system_checks: list[str] = []

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=getattr(settings, "XDOUBLE_PORT", 8025))
        parser.add_argument("--username", default="NHSDemoBoard")
        parser.add_argument("--name", default="NHS Demo Board", help="display name")
        parser.add_argument(
            "--token",
            default=getattr(settings, "XDOUBLE_DEMO_TOKEN", "sandpit-demo-x-token"),
            help="bearer token of the demo account",
        )
        parser.add_argument(
            "--state-file", help="keep users and posts in this JSON file across restarts"
        )
        parser.add_argument(
            "--fault",
            action="append",
            default=[],
            choices=FAULTS,
            help="queue a fault for the next create request (repeatable)",
        )
        parser.add_argument("--quiet", action="store_true", help="do not log each request")

    def handle(self, *args: Any, **options: Any) -> None:
        double = XDouble(
            options["host"],
            options["port"],
            state_file=options["state_file"],
            verbose=not options["quiet"],
        )
        username = options["username"]
        user_id = double.add_user(username, name=options["name"], token=options["token"])
        double.inject(*options["fault"])
        double.start()
        self.stdout.write(f"X API double listening on {double.base_url}")
        self.stdout.write(
            f"Demo account @{username} (id {user_id}): {double.profile_url(username)}"
        )
        self.stdout.write(f"Control: {double.base_url}/_double/state, /_double/faults")

        stopped = threading.Event()

        def on_signal(signum: int, frame: FrameType | None) -> None:
            stopped.set()

        # honcho and docker stop with SIGTERM; let it end the process as cleanly as Ctrl-C.
        signal.signal(signal.SIGTERM, on_signal)
        try:
            stopped.wait()
        except KeyboardInterrupt:
            pass
        finally:
            double.stop()
            self.stdout.write("X API double stopped.")
