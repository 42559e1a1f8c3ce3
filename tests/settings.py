"""Test settings: the real PostgreSQL and Redis on this machine, never SQLite.

Override with DATABASE_URL / REDIS_URL. Redis database 15 keeps test messages away from
a development worker on database 0.
"""

import os

os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/sandpit")
os.environ.setdefault("REDIS_URL", "redis://127.0.0.1:6379/15")

from sandbox.settings import *  # noqa: F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
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
