"""sandbox/celery.py: a worker keeps its database connection from task to task, as a web
process does from request to request, and lets go of a broken or old one."""

import time
from types import SimpleNamespace

import pytest
from django.db import connection

from sandbox.celery import close_old_database_connections

pytestmark = pytest.mark.django_db(transaction=True)

A_TASK = SimpleNamespace(request=SimpleNamespace(is_eager=False))


def _backend_pid() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        return int(cursor.fetchone()[0])


def test_the_connection_outlives_a_task():
    before = _backend_pid()
    connection.close_at = time.monotonic() + 60  # CONN_MAX_AGE as in production
    close_old_database_connections(sender=A_TASK)
    assert _backend_pid() == before


def test_a_connection_that_had_an_error_and_is_broken_is_replaced():
    before = _backend_pid()
    connection.errors_occurred = True
    connection.connection.close()  # as when PostgreSQL restarted under it
    close_old_database_connections(sender=A_TASK)
    assert _backend_pid() != before


def test_a_connection_past_its_age_is_replaced():
    before = _backend_pid()
    connection.close_at = 0  # CONN_MAX_AGE has passed
    close_old_database_connections(sender=A_TASK)
    assert _backend_pid() != before
