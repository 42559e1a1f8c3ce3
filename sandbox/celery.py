import os

from celery import Celery, signals

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "sandbox.settings")

app = Celery("sandbox")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@signals.task_prerun.connect
@signals.task_postrun.connect
def close_old_database_connections(sender: object = None, **kwargs: object) -> None:
    """Treat each task as Django treats a request: keep the connection for
    ``CONN_MAX_AGE`` and check its health, close it after an error. Celery's own Django
    fixup would close it around every task (CELERY_DB_REUSE_MAX in settings turns that
    off), so each task that touches the database paid for a new PostgreSQL backend."""
    from django.db import close_old_connections

    # A task run in the caller's process (eager, as in tests) shares its connection and
    # maybe its transaction: not ours to close.
    if not getattr(getattr(sender, "request", None), "is_eager", False):
        close_old_connections()
