"""Approve -> on_commit -> Redis -> a real Celery worker -> the X API double over HTTP."""

import threading
import time

import httpx
import pytest

from coaching import services as coaching
from coaching.models import Publication
from sandbox import services
from sandbox.errors import InvalidState
from tests.factories import wait_for

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]


def test_an_approved_post_arrives_at_the_double_through_the_worker(
    celery_worker, x_double, trainee, coach, account
):
    draft = services.draft_create(
        author=trainee, account=account, text="Walk-in vaccinations today"
    )
    coaching.draft_submit(draft=draft, by=trainee)
    coaching.review_approve(draft=draft, by=coach)

    publication = wait_for(
        lambda: Publication.objects.filter(draft=draft, status=Publication.Status.PUBLISHED).first()
    )
    [post] = x_double.posts_for(account.handle)
    assert post.text == "Walk-in vaccinations today"
    page = httpx.get(publication.remote_url)
    assert page.status_code == 200
    assert "Walk-in vaccinations today" in page.text


def test_two_coaches_approving_at_once_make_one_approval_and_one_post(
    celery_worker, x_double, trainee, coach, second_coach, account
):
    from django.db import connection

    draft = services.draft_create(author=trainee, account=account, text="One post, not two")
    coaching.draft_submit(draft=draft, by=trainee)
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def approve(who):
        try:
            barrier.wait()
            coaching.review_approve(draft=draft, by=who)
            outcomes.append("approved")
        except InvalidState:
            outcomes.append("refused")
        finally:
            connection.close()

    threads = [threading.Thread(target=approve, args=(c,)) for c in (coach, second_coach)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(outcomes) == ["approved", "refused"]
    assert draft.reviews.count() == 1
    assert Publication.objects.filter(draft=draft).count() == 1
    wait_for(lambda: Publication.objects.filter(draft=draft, status="published").exists())
    time.sleep(1)  # give a wrongly duplicated task time to land, if there were one
    assert len(x_double.posts_for(account.handle)) == 1
