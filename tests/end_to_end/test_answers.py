"""Answering the public through the real parts: an approved reply goes through Redis and a
real Celery worker to the X API double and lands there as a reply, exactly once, whatever
the double does to the request (a 5xx after storing, a hang, a reset connection, a 429);
an answer passed by spot-check; a reply to a post deleted meanwhile; and the time from
approval to live for a reply."""

import datetime as dt
import statistics
import time

import pytest
from django.utils import timezone

from coaching import services as coaching
from coaching import tasks
from coaching.models import InboxItem, Publication, PublishAttempt
from coaching.publishing.x import XPublisher
from sandbox.models import Membership, Organisation
from tests.builders import answer, answer_approved
from tests.factories import inbox_item, wait_for

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]

P = Publication.Status
QUESTION = "Is the walk-in centre open on Sunday?"


@pytest.fixture
def quick_recovery(settings, x_double):
    """Recovery timings short enough for a test: reconcile a second after an unknown
    outcome, a 2 s read timeout (the double hangs for 6), a 1 s rate-limit window."""
    settings.RECONCILE_EVERY_SECONDS = 1
    settings.RECONCILE_GRACE_SECONDS = 30
    settings.PUBLISH_READ_TIMEOUT = 2
    reset = x_double.rate_limit_reset_seconds
    x_double.rate_limit_reset_seconds = 1
    yield
    x_double.rate_limit_reset_seconds = reset


def question_on_x(x_double, text: str = QUESTION) -> tuple[str, XPublisher]:
    """A post by a member of the public at the X double: (its id, their publisher)."""
    x_double.add_user("amara_okafor", token="amara-token")
    publisher = XPublisher(
        base_url=x_double.base_url, access_token="amara-token", username="amara_okafor"
    )
    return publisher.publish(text=text, idempotency_key=text).remote_id, publisher


def settled(publication: Publication, *, sweep: bool = True) -> Publication | None:
    """The publication once it is published or failed; meanwhile the beat's sweep runs
    as it would every few seconds (it sends reconcile for an unconfirmed post)."""
    publication.refresh_from_db()
    if publication.status in (P.PUBLISHED, P.FAILED):
        return publication
    if sweep:
        coaching.publication_sweep()
    return None


@pytest.mark.parametrize(
    "faults",
    [["5xx-after"], ["hang-after"], ["reset"], ["429"], ["429", "5xx-after"]],
    ids=lambda faults: "+".join(faults),
)
def test_a_reply_lands_as_a_reply_exactly_once_under_faults(
    celery_worker, quick_recovery, x_double, trainee, coach, account, faults
):
    target, _ = question_on_x(x_double)
    item = inbox_item(account, remote_id=target)
    x_double.inject(*faults)
    publication = answer_approved(trainee, coach, item, f"Yes, 9 to 5 ({'+'.join(faults)})")
    live = wait_for(lambda: settled(publication), timeout=40)
    assert live.status == P.PUBLISHED, live.error
    # A redelivered message (as after a worker's death) and the sweep find nothing to do.
    tasks.publish.delay(publication.pk)
    coaching.publication_sweep()
    time.sleep(1)  # give a wrongly repeated send time to land, if there were one
    [post] = x_double.posts_for(account.handle)
    assert post.in_reply_to_tweet_id == target and post.quote_tweet_id is None
    assert live.remote_id == post.id
    outcomes = list(live.attempts.values_list("outcome", flat=True))
    if "429" in faults:
        assert PublishAttempt.Outcome.RATE_LIMITED in outcomes
    if set(faults) & {"5xx-after", "hang-after", "reset"}:
        # The outcome was unknown, so it was looked for on the account, never sent again.
        assert outcomes.count(PublishAttempt.Outcome.UNKNOWN) == 1
        assert outcomes[-1] == PublishAttempt.Outcome.UNKNOWN
    item.refresh_from_db()
    assert item.state == InboxItem.State.DONE and item.handled_by == trainee


def test_a_reply_to_a_post_deleted_meanwhile_fails_and_the_item_is_gone(
    celery_worker, x_double, trainee, coach, account
):
    target, author = question_on_x(x_double)
    item = inbox_item(account, remote_id=target)
    author.delete(remote_id=target)
    publication = answer_approved(trainee, coach, item, "Yes, 9 to 5")
    failed = wait_for(lambda: settled(publication, sweep=False))
    assert failed.status == P.FAILED
    assert "deleted or not visible" in failed.error
    assert failed.attempts.get().outcome == PublishAttempt.Outcome.REJECTED
    assert x_double.posts_for(account.handle) == []
    item.refresh_from_db()
    assert item.gone_at is not None


def test_an_answer_passed_by_spot_check_publishes_as_a_reply_when_due(
    celery_worker, x_double, trainee, account, organisation
):
    Organisation.objects.filter(pk=organisation.pk).update(
        autonomy_streak=3, spot_check_every=100, spot_check_delay_minutes=60
    )
    Membership.objects.filter(user=trainee).update(review_mode=Membership.ReviewMode.SPOT_CHECK)
    target, _ = question_on_x(x_double)
    draft = answer(trainee, inbox_item(account, remote_id=target), "Yes, 9 to 5")
    publication = draft.publications.get()
    assert publication.reply_to_remote_id == target
    assert coaching.publication_sweep()["enqueued"] == 0  # it waits for the delay
    assert x_double.posts_for(account.handle) == []
    Publication.objects.filter(pk=publication.pk).update(
        publish_at=timezone.now() - dt.timedelta(seconds=1)
    )
    assert coaching.publication_sweep()["enqueued"] == 1
    wait_for(lambda: settled(publication, sweep=False))
    [post] = x_double.posts_for(account.handle)
    assert post.in_reply_to_tweet_id == target


REPLIES_TIMED = 20


def test_time_from_approval_to_a_live_reply(celery_worker, x_double, trainee, coach, account):
    """Approve -> live for a reply, one at a time (so nothing queues): from the return of
    review_approve (its commit) to the double storing the reply, and to the row saying so.
    The figures are printed (run with -s); the bound only catches a pipeline gone wrong."""
    to_double, to_row, targets = [], [], set()
    for n in range(REPLIES_TIMED):
        target, _ = question_on_x(x_double, f"{QUESTION} ({n})")
        targets.add(target)
        item = inbox_item(account, remote_id=target)
        submitted = answer(trainee, item, f"Reply {n}: yes, 9 to 5")
        started = time.time()
        coaching.review_approve(draft=submitted, by=coach)
        publication = Publication.objects.get(draft=submitted)
        live = wait_for(lambda p=publication: settled(p, sweep=False))
        assert live.status == P.PUBLISHED
        post = next(p for p in x_double.posts_for(account.handle) if p.id == live.remote_id)
        stored = dt.datetime.fromisoformat(post.created_at.replace("Z", "+00:00")).timestamp()
        to_double.append(stored - started)
        to_row.append(live.published_at.timestamp() - started)
    posts = x_double.posts_for(account.handle)
    assert {p.in_reply_to_tweet_id for p in posts} == targets and len(posts) == REPLIES_TIMED
    median_ms = statistics.median(to_double) * 1000
    print(
        f"\napprove -> live for a reply, {REPLIES_TIMED} through the worker: "
        f"median {median_ms:.0f} ms at the double, "
        f"{statistics.median(to_row) * 1000:.0f} ms to the row; "
        f"max {max(to_double) * 1000:.0f} ms"
    )
    assert median_ms < 2000
