"""Send coaches' daily digests now: ``python manage.py send_digests``."""

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from coaching.notifications import send_due_digests


class Command(BaseCommand):
    help = (
        "Email today's queue digest to every coach who wants one and has not had it today. "
        "Safe to run beside beat: a coach never gets two digests on one day."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--wait-for-hour",
            action="store_true",
            help="do nothing before SANDPIT_DIGEST_HOUR, as beat does (default: send now)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        sent = send_due_digests(any_hour=not options["wait_for_hour"])
        self.stdout.write(f"Sent {sent} digest{'s' if sent != 1 else ''}.")
