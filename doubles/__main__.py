"""Run the X API double in the foreground: ``python -m doubles``.

A development tool, outside the product: ``make run`` and docker-compose start it beside
the app. It reads the same environment variables as the app's settings for its port and
demo token, so the two agree without importing Django.
"""

from __future__ import annotations

import argparse
import os
import signal
import threading
from types import FrameType

from doubles.x import FAULTS, XDouble


def main() -> None:
    parser = argparse.ArgumentParser(
        prog="python -m doubles",
        description="Run the X API double (a local stand-in for api.x.com) with one demo account.",
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument(
        "--port", type=int, default=int(os.environ.get("SANDPIT_XDOUBLE_PORT") or 8025)
    )
    parser.add_argument("--username", default="NHSDemoBoard")
    parser.add_argument("--name", default="NHS Demo Board", help="display name")
    parser.add_argument(
        "--token",
        default=os.environ.get("SANDPIT_XDOUBLE_DEMO_TOKEN") or "sandpit-demo-x-token",
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
    parser.add_argument(
        "--generate-mentions",
        type=float,
        metavar="SECONDS",
        default=float(os.environ.get("SANDPIT_XDOUBLE_GENERATE_MENTIONS") or 0),
        help="have members of the public mention the demo account every SECONDS (0: never)",
    )
    parser.add_argument("--quiet", action="store_true", help="do not log each request")
    options = parser.parse_args()

    double = XDouble(
        options.host, options.port, state_file=options.state_file, verbose=not options.quiet
    )
    user_id = double.add_user(options.username, name=options.name, token=options.token)
    double.inject(*options.fault)
    double.start()
    if options.generate_mentions > 0:
        double.generate_mentions(options.username, every=options.generate_mentions)
    print(f"X API double listening on {double.base_url}", flush=True)
    print(
        f"Demo account @{options.username} (id {user_id}): {double.profile_url(options.username)}",
        flush=True,
    )
    print(f"Control: {double.base_url}/_double/state, /_double/faults", flush=True)
    if options.generate_mentions > 0:
        print(f"A mention of @{options.username} every {options.generate_mentions:g} s", flush=True)

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
        print("X API double stopped.", flush=True)


if __name__ == "__main__":
    main()
