"""Test settings: the real PostgreSQL and Redis on this machine, never SQLite.

Override with DATABASE_URL / REDIS_URL. Redis databases 15 and down keep test messages away
from a development worker on database 0.
"""

import os

os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/sandpit")
# Each pytest-xdist worker (gw0, gw1, ...) gets its own Redis database, counting down from
# the one named (15 unless REDIS_URL names another), so one worker's Celery worker never
# takes another's messages. pytest-django gives each its own test database the same way.
_redis_base, _, _redis_db = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/15").rpartition("/")
_xdist_worker = int(os.environ.get("PYTEST_XDIST_WORKER", "gw0").removeprefix("gw") or 0)
os.environ["REDIS_URL"] = f"{_redis_base}/{int(_redis_db or 15) - _xdist_worker}"

from sandbox.settings import *  # noqa: E402, F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
# Every page read notes use, as before the idle mark was throttled, so a page's query count
# does not depend on how recently the test's client read another one; the throttle's own
# test turns it on.
IDLE_ACTIVITY_RESOLUTION_SECONDS = 0
# Tests start their own X API double on a free port and point the publisher at it.
X_API_BASE_URL = "http://127.0.0.1:9"
X_PUBLIC_BASE_URL = X_API_BASE_URL
PUBLISH_READ_TIMEOUT = 3.0
# The Mastodon and Bluesky doubles listen on 127.0.0.1; tests of the address rule turn
# this off again.
ALLOW_LOCAL_PLATFORM_ADDRESSES = True
# Close connections after each task and request, so threads used by the in-process worker
# and live server do not hold the test database open at teardown.
DATABASES["default"]["CONN_MAX_AGE"] = 0  # noqa: F405
# The test runner empties every table between transactional tests with one TRUNCATE, which
# the audit log refuses (coaching/migrations/0007) unless the session opts in, as here.
DATABASES["default"]["OPTIONS"] = {"options": "-c sandpit.allow_audit_log_truncate=on"}  # noqa: F405
