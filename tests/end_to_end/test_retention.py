"""The nightly tasks, end to end: the task beat names, sent through the real Redis to a
real Celery worker, removes what is due (the image's file too) and audits the run; the
sessions task clears expired sessions."""

import datetime as dt

import pytest
from django.conf import settings
from django.contrib.sessions.backends.db import SessionStore
from django.contrib.sessions.models import Session
from django.utils import timezone

from coaching.models import AuditEvent
from sandbox.celery import app
from sandbox.models import Draft, PostImage
from tests import builders
from tests.factories import make_post_image, wait_for

pytestmark = pytest.mark.usefixtures("private_media")


def _beat_task(name: str) -> str:
    (task,) = [e["task"] for e in settings.CELERY_BEAT_SCHEDULE.values() if e["task"] == name]
    return task


def test_the_retention_task_runs_on_a_worker(celery_worker, trainee, account, organisation):
    draft = builders.draft(trainee, account, "An idea for later")
    image = make_post_image(draft)
    Draft.objects.filter(pk=draft.pk).update(updated_at=timezone.now() - dt.timedelta(days=400))
    kept = builders.draft(trainee, account, "Written today")

    app.send_task(_beat_task("coaching.tasks.apply_retention"))

    event = wait_for(
        lambda: AuditEvent.objects.filter(
            organisation=organisation, action=AuditEvent.Action.RETENTION_APPLIED
        ).first()
    )
    assert "1 drafts never sent for review" in event.detail and "1 images" in event.detail
    assert not Draft.objects.filter(pk=draft.pk).exists()
    assert not PostImage.objects.filter(pk=image.pk).exists()
    assert wait_for(lambda: not image.file.storage.exists(image.file.name))
    assert Draft.objects.filter(pk=kept.pk).exists()


def test_the_sessions_task_runs_on_a_worker(celery_worker):
    expired = SessionStore()
    expired.create()
    Session.objects.filter(session_key=expired.session_key).update(
        expire_date=timezone.now() - dt.timedelta(seconds=1)
    )

    app.send_task(_beat_task("sandbox.tasks.clear_expired_sessions"))

    assert wait_for(lambda: not Session.objects.filter(session_key=expired.session_key).exists())
