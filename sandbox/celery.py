import os

from celery import Celery, signals

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "sandbox.settings")

app = Celery("sandbox")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@signals.task_postrun.connect
def close_old_database_connections(sender: object = None, **kwargs: object) -> None:
    """After each task, as Django does after a request: keep the connection for
    ``CONN_MAX_AGE``, and close it if it is older or broke (an error, then a failed
    ping). Celery's own Django fixup would close it around every task (CELERY_DB_REUSE_MAX
    in settings turns that off), so each task that touched the database paid for a new
    PostgreSQL backend.

    No ping before every task, though (CONN_HEALTH_CHECKS is for the web): it would cost
    a round trip of every publish. A connection that died while idle fails its next task's
    first query, is closed here, and that task's post is picked up again by the sweep."""
    from django.db import close_old_connections, connections

    # A task run in the caller's process (eager, as in tests) shares its connection and
    # maybe its transaction: not ours to close.
    if getattr(getattr(sender, "request", None), "is_eager", False):
        return
    close_old_connections()
    for connection in connections.all(initialized_only=True):
        connection.health_check_done = True  # type: ignore[attr-defined]
