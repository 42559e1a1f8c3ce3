"""Every class of publishing outcome, for every platform, end to end: approve, Redis, a
real Celery worker, the platform's real client library, the platform's double."""

import time

import pytest

from coaching.models import Publication, PublishAttempt
from sandbox.models import WorkplaceAccount
from tests.builders import approved
from tests.factories import wait_for

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]
P = Publication.Status
CLOSED_PORT = "http://127.0.0.1:9"  # the discard port: nothing listens, connect is refused


# platform -> the fault its double uses for a rejection
REJECTION = {"x": "403-duplicate", "mastodon": "422", "bluesky": "400"}


def approve_and_wait(
    trainee, coach, account, settled=lambda p: p.attempts.exclude(outcome="pending").exists()
):
    publication = approved(trainee, coach, account, f"Update {time.time_ns()}")

    def done() -> Publication | None:
        publication.refresh_from_db()
        # The worker finishes the attempt a moment before it moves the publication on, so
        # a finished attempt with the row still "sending" is not settled yet.
        ready = settled(publication) and publication.status != P.SENDING
        return publication if ready else None

    return wait_for(done)


ALL = pytest.mark.parametrize("platform_account", ["x", "mastodon", "bluesky"], indirect=True)


@ALL
def test_a_post_goes_live(celery_worker, platform_account, trainee, coach):
    _, account, _ = platform_account
    publication = approve_and_wait(trainee, coach, account, lambda p: p.status == P.PUBLISHED)
    assert publication.remote_id and publication.remote_url


@ALL
def test_surely_not_sent_is_retried_later(celery_worker, platform_account, trainee, coach):
    _, account, _ = platform_account
    WorkplaceAccount.objects.filter(pk=account.pk).update(api_base_url=CLOSED_PORT)
    publication = approve_and_wait(trainee, coach, account)
    assert publication.status == P.QUEUED and publication.not_before is not None
    assert publication.attempts.first().outcome == PublishAttempt.Outcome.NOT_SENT


@ALL
def test_a_rate_limit_waits_for_the_reset(celery_worker, platform_account, trainee, coach):
    _, account, double = platform_account
    double.inject("429")
    publication = approve_and_wait(trainee, coach, account)
    account.refresh_from_db()
    assert publication.status in (P.QUEUED, P.SENDING, P.PUBLISHED)
    assert publication.attempts.first().outcome == PublishAttempt.Outcome.RATE_LIMITED
    assert account.rate_limited_until is not None


@ALL
def test_an_auth_failure_asks_for_reconnection(celery_worker, platform_account, trainee, coach):
    _, account, double = platform_account
    double.inject("401")
    publication = approve_and_wait(trainee, coach, account)
    account.refresh_from_db()
    assert publication.status == P.QUEUED
    assert account.status == WorkplaceAccount.Status.NEEDS_RECONNECT


@ALL
def test_a_rejection_fails_in_the_platforms_words(celery_worker, platform_account, trainee, coach):
    platform, account, double = platform_account
    double.inject(REJECTION[platform])
    publication = approve_and_wait(trainee, coach, account)
    assert publication.status == P.FAILED
    assert publication.error.startswith("The platform said: ")
    assert len(publication.error) > len("The platform said: ") + 5


@ALL
def test_an_unknown_outcome_is_unconfirmed_and_not_resent(
    celery_worker, platform_account, trainee, coach
):
    _, account, double = platform_account
    double.inject("5xx-after")
    publication = approve_and_wait(trainee, coach, account)
    assert publication.status == P.UNCONFIRMED
    time.sleep(1)
    assert publication.attempts.count() == 1
