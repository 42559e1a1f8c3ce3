"""coaching/services/outbox.py: the beat sweep re-sends lost messages, starts scheduled posts
when due, and settles posts whose worker died, never sending one twice. Against the real X
API double over HTTP."""

import contextlib
import datetime as dt

import pytest
from django.utils import timezone

from coaching import services as coaching
from coaching.models import Publication, PublishAttempt
from tests.builders import approved, sent

pytestmark = pytest.mark.django_db

LONG_AGO = dt.timedelta(minutes=10)


P = Publication.Status


# The sweep ------------------------------------------------------------------------------


@pytest.fixture
def broker():
    """The real Redis broker's publish queue, emptied first (this test's own db)."""
    from kombu import Queue

    from sandbox.celery import app

    with app.connection_for_write() as connection:
        queue = Queue("celery")(connection.default_channel)
        queue.declare()
        queue.purge()
        yield queue
        queue.purge()


@pytest.fixture
def control():
    """The housekeeping queue, where resume messages go, emptied first."""
    from kombu import Queue

    from sandbox.celery import app

    with app.connection_for_write() as connection:
        queue = Queue("control")(connection.default_channel)
        queue.declare()
        queue.purge()
        yield queue
        queue.purge()


def _lease_ran_out(publication, minutes=5):
    ago = timezone.now() - dt.timedelta(minutes=minutes)
    Publication.objects.filter(pk=publication.pk).update(
        enqueued_at=ago - dt.timedelta(minutes=1), lease_until=ago
    )


def test_the_sweep_resends_a_lost_message(publication, broker, django_capture_on_commit_callbacks):
    _lease_ran_out(publication)
    with django_capture_on_commit_callbacks() as callbacks:
        result = coaching.publication_sweep()
    assert (result["enqueued"], result["resent"]) == (0, 1)
    assert len(callbacks) == 1
    publication.refresh_from_db()
    assert publication.lease_until > timezone.now()  # a fresh lease for the new message


def test_the_sweep_leaves_recently_enqueued_posts_alone(publication, broker):
    result = coaching.publication_sweep()
    assert (result["enqueued"], result["resent"]) == (0, 0)


def test_a_message_waiting_its_turn_in_a_backlog_is_not_sent_again(
    trainee, coach, account, x_double, broker, control, django_capture_on_commit_callbacks
):
    from coaching import tasks

    older = approved(trainee, coach, account, "Lost when Redis restarted")
    newer = approved(trainee, coach, account, "Waiting behind a long backlog")
    _lease_ran_out(older, minutes=6)
    _lease_ran_out(newer, minutes=5)
    # The newer post's message is still in the queue (no worker is running here).
    tasks.publish.apply_async((newer.pk,))
    assert broker.queue_declare().message_count == 1
    with django_capture_on_commit_callbacks(execute=True):  # its message really goes
        assert coaching.publication_sweep()["resent"] == 1  # only the older, whose was lost
    # The older one goes with its account's resume; the newer's message still waits.
    assert (broker.queue_declare().message_count, control.queue_declare().message_count) == (1, 1)
    for _ in range(3):  # sweep after sweep, the backlog never multiplies itself
        with django_capture_on_commit_callbacks(execute=True):
            assert coaching.publication_sweep()["resent"] == 0
    older.refresh_from_db()
    assert older.lease_until > timezone.now()


def test_the_sweep_sends_a_message_for_a_post_that_has_none(publication, broker):
    """A post that waited for a stop or a reconnect has no message on its way."""
    Publication.objects.filter(pk=publication.pk).update(lease_until=None)
    assert coaching.publication_sweep()["enqueued"] == 1
    assert coaching.publication_sweep()["enqueued"] == 0  # now it has one


def test_the_sweep_starts_a_scheduled_post_when_due(publication, broker):
    Publication.objects.filter(pk=publication.pk).update(
        publish_at=timezone.now() + dt.timedelta(minutes=10), enqueued_at=None, lease_until=None
    )
    assert coaching.publication_sweep()["enqueued"] == 0
    later = timezone.now() + dt.timedelta(minutes=11)
    assert coaching.publication_sweep(now=later)["enqueued"] == 1


def test_a_worker_that_died_before_sending_is_safely_requeued(publication):
    Publication.objects.filter(pk=publication.pk).update(status=P.SENDING)
    later = timezone.now() + dt.timedelta(minutes=5)
    assert coaching.publication_sweep(now=later)["requeued"] == 1
    publication.refresh_from_db()
    assert publication.status == P.QUEUED


def test_a_worker_that_died_mid_request_leaves_it_unconfirmed(publication):
    Publication.objects.filter(pk=publication.pk).update(status=P.SENDING)
    PublishAttempt.objects.create(publication=publication, request="POST X create post")
    later = timezone.now() + dt.timedelta(minutes=5)
    assert coaching.publication_sweep(now=later)["unconfirmed"] == 1
    publication.refresh_from_db()
    assert publication.status == P.UNCONFIRMED
    assert publication.attempts.get().outcome == PublishAttempt.Outcome.UNKNOWN


# A dead worker must never lead to a second send ------------------------------------------------


@pytest.mark.parametrize("outcome", ["unknown", "published", "pending"])
def test_a_stuck_post_whose_try_may_have_landed_is_unconfirmed_not_resent(
    trainee, coach, account, x_double, outcome
):
    publication = approved(trainee, coach, account, "Stuck")
    Publication.objects.filter(pk=publication.pk).update(status=P.SENDING)
    PublishAttempt.objects.create(publication=publication, request="x", outcome=outcome)
    result = coaching.publication_sweep(now=timezone.now() + LONG_AGO)
    publication.refresh_from_db()
    assert (result["requeued"], publication.status) == (0, P.UNCONFIRMED)


def test_a_stuck_post_whose_last_try_surely_failed_is_retried(trainee, coach, account, x_double):
    publication = approved(trainee, coach, account, "Stuck after a refused connection")
    Publication.objects.filter(pk=publication.pk).update(status=P.SENDING)
    PublishAttempt.objects.create(publication=publication, request="x", outcome="not_sent")
    assert coaching.publication_sweep(now=timezone.now() + LONG_AGO)["requeued"] == 1


def test_a_stuck_thread_with_every_post_live_is_published_not_resent(
    trainee, coach, account, x_double
):
    publication = sent(approved(trainee, coach, account, "One", ["Two"]))
    Publication.objects.filter(pk=publication.pk).update(status=P.SENDING)
    coaching.publication_sweep(now=timezone.now() + LONG_AGO)
    publication.refresh_from_db()
    assert publication.status == P.PUBLISHED
    coaching.publication_send(publication_id=publication.pk)
    assert len(x_double.posts_for(account.handle)) == 2


def test_a_post_waiting_for_a_reset_does_not_count_as_a_message_in_the_queue(
    trainee, coach, account, x_double, broker, django_capture_on_commit_callbacks
):
    """A post parked for a rate limit (or held for a retry's countdown) has no message in
    the queue, so it must not push a waiting one out of the sweep's count of them."""
    from coaching import tasks

    waiting = approved(trainee, coach, account, "Waiting its turn")
    parked = approved(trainee, coach, account, "Waited for a reset that has passed")
    _lease_ran_out(waiting, minutes=6)
    now = timezone.now()
    Publication.objects.filter(pk=parked.pk).update(
        enqueued_at=now - dt.timedelta(minutes=1),
        not_before=now - dt.timedelta(seconds=30),
        lease_until=now - dt.timedelta(seconds=1),
    )
    tasks.publish.apply_async((waiting.pk,))  # the waiting post's message, still queued
    with django_capture_on_commit_callbacks(execute=True):
        assert coaching.publication_sweep()["resent"] == 1
    parked.refresh_from_db()
    waiting.refresh_from_db()
    assert parked.lease_until > now  # the parked post got its message
    assert waiting.lease_until < now  # the waiting one was left alone


# Lost messages: one resume per account, never one message per post ----------------------------


def _sent_messages(callbacks) -> list[tuple[str, tuple]]:
    """Run captured after-commit callbacks with the task messages recorded, not sent."""
    from unittest import mock

    from coaching import tasks

    messages = []
    with contextlib.ExitStack() as stack:
        for task in (tasks.publish, tasks.resume_publishing, tasks.reconcile):

            def record(args, countdown=0, name=task.name):
                messages.append((name, tuple(args)))

            stack.enter_context(mock.patch.object(task, "apply_async", side_effect=record))
        for callback in callbacks:
            callback()
    return messages


def test_posts_whose_messages_were_lost_go_to_one_resume_for_their_account(
    trainee, coach, account, x_double, broker, django_capture_on_commit_callbacks
):
    """A Redis restart loses a backlog: the sweep sends one message for the account, which
    sends the posts oldest first, and takes out their leases so no later sweep sends more."""
    from coaching import tasks

    lost = [approved(trainee, coach, account, f"Lost with Redis {n}") for n in range(5)]
    for publication in lost:
        _lease_ran_out(publication)
    with django_capture_on_commit_callbacks() as callbacks:
        result = coaching.publication_sweep()
    assert (result["resent"], result["resumes"]) == (5, 1)
    assert _sent_messages(callbacks) == [(tasks.resume_publishing.name, (account.pk,))]
    for publication in lost:
        publication.refresh_from_db()
        # No message of its own is in the queue, and the resume holds the lease.
        assert publication.enqueued_at is None
        assert publication.lease_until > timezone.now()
    with django_capture_on_commit_callbacks() as callbacks:
        assert coaching.publication_sweep()["resumes"] == 0
    assert callbacks == []

    assert coaching.account_resume(account_id=account.pk) == 5
    live = sorted(x_double.posts_for(account.handle), key=lambda post: int(post.id))
    assert [post.text for post in live] == [f"Lost with Redis {n}" for n in range(5)]


def test_a_sweep_that_raced_another_sends_nothing_for_posts_already_taken(
    trainee, coach, account, x_double, broker, django_capture_on_commit_callbacks
):
    """Two sweeps running at once read the same lost posts; the lease is taken by a
    conditional update, so only the first sends a message."""
    from coaching.services.outbox import _hand_to_resumes

    publication = approved(trainee, coach, account, "Lost once, re-sent once")
    _lease_ran_out(publication)
    now = timezone.now()
    with django_capture_on_commit_callbacks() as callbacks:
        first = _hand_to_resumes([(publication.pk, account.pk)], now)
        second = _hand_to_resumes([(publication.pk, account.pk)], now)
    assert (first, second) == ((1, {publication.pk}), (0, set()))
    assert len(callbacks) == 1


def test_an_unconfirmed_post_gets_one_check_per_look_however_many_sweeps_run(
    publication, broker, django_capture_on_commit_callbacks
):
    Publication.objects.filter(pk=publication.pk).update(status=P.UNCONFIRMED, not_before=None)
    now = timezone.now()
    with django_capture_on_commit_callbacks() as callbacks:
        assert coaching.publication_sweep(now=now)["reconciling"] == 1
        assert coaching.publication_sweep(now=now)["reconciling"] == 0
    assert len(callbacks) == 1
