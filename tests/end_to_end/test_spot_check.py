"""A spot-check pass through the real parts: the beat sweep starts it when due and the
Celery worker publishes it to the X API double; and a coach's "Hold for review" racing
the worker's claim on PostgreSQL, from two threads."""

import datetime as dt
import threading
import time

import pytest
from django.db import connection
from django.utils import timezone

from coaching import services as coaching
from coaching.models import Publication
from sandbox.errors import InvalidState
from sandbox.models import Draft, Membership, Organisation
from tests.builders import passed
from tests.factories import wait_for

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]

Mode = Membership.ReviewMode


@pytest.fixture
def spot_checked(organisation, trainee):
    """A trainee already in spot-check mode, where no post is sampled (1 in 100)."""
    Organisation.objects.filter(pk=organisation.pk).update(
        autonomy_streak=3, spot_check_every=100, spot_check_delay_minutes=60
    )
    Membership.objects.filter(user=trainee).update(review_mode=Mode.SPOT_CHECK)
    return trainee


def test_nobody_steps_in_so_the_sweep_and_the_worker_publish_it_when_due(
    celery_worker, x_double, spot_checked, account
):
    draft = passed(spot_checked, account, "Blood donors welcome at Ward 2 on Friday")
    publication = draft.publications.get()
    assert coaching.publication_sweep()["enqueued"] == 0  # the delay has not passed
    # The delay passes (we move the due time rather than wait an hour).
    Publication.objects.filter(pk=publication.pk).update(
        publish_at=timezone.now() - dt.timedelta(seconds=1)
    )
    assert coaching.publication_sweep()["enqueued"] == 1
    live = wait_for(
        lambda: Publication.objects.filter(pk=publication.pk, status="published").first()
    )
    [post] = x_double.posts_for(account.handle)
    assert post.text == "Blood donors welcome at Ward 2 on Friday"
    assert live.revision_id == draft.current_revision_id


@pytest.mark.parametrize("head_start", [0.0, 0.005, 0.01, 0.02, 0.04])
def test_hold_racing_the_worker_ends_one_way_only(
    x_double, spot_checked, coach, account, head_start
):
    """The coach gets a head start of a few milliseconds, so across the rounds each side
    wins some; whichever wins, the other is refused and the post goes out once or never."""
    draft = passed(spot_checked, account, f"Race {head_start}: clinic closes early today")
    publication = draft.publications.get()
    Publication.objects.filter(pk=publication.pk).update(publish_at=timezone.now())
    barrier = threading.Barrier(2)
    held: list[str] = []

    def worker() -> None:
        try:
            barrier.wait()
            time.sleep(head_start)
            coaching.publication_send(publication_id=publication.pk)
        finally:
            connection.close()

    def hold() -> None:
        try:
            barrier.wait()
            coaching.spot_check_hold(draft=draft, by=coach)
            held.append("held")
        except InvalidState as error:
            held.append(error.message)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker), threading.Thread(target=hold)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    publication.refresh_from_db()
    draft.refresh_from_db()
    posts = x_double.posts_for(account.handle)
    mode = Membership.objects.get(user=spot_checked).review_mode
    if held == ["held"]:
        assert publication.status == Publication.Status.CANCELLED
        assert draft.status == Draft.Status.SUBMITTED
        assert posts == []
        assert mode == Mode.FULL
    else:
        [message] = held
        assert message.startswith("Too late to hold this post")
        assert publication.status == Publication.Status.PUBLISHED
        assert draft.status == Draft.Status.APPROVED
        assert len(posts) == 1
        assert mode == Mode.SPOT_CHECK
