"""The publication service against the real X API double over HTTP: the happy path,
each class of failure, and the sweep that recovers lost messages and dead workers."""

import datetime as dt

import pytest
from django.utils import timezone

from coaching import services as coaching
from coaching.models import Publication, PublishAttempt
from sandbox.models import Draft, WorkplaceAccount
from tests.builders import approved, sent

pytestmark = pytest.mark.django_db

P = Publication.Status


@pytest.fixture
def publication(trainee, coach, account, x_double):  # type: ignore[no-untyped-def]
    return approved(trainee, coach, account, "Flu jabs at Ward 4 today")


def test_an_approved_post_goes_live_with_its_link(publication, x_double, account):
    publication = sent(publication)
    assert publication.status == P.PUBLISHED
    [post] = x_double.posts_for(account.handle)
    assert post.text == "Flu jabs at Ward 4 today"
    assert publication.remote_id == post.id
    assert publication.remote_url == f"{x_double.base_url}/{account.handle}/status/{post.id}"
    [attempt] = publication.attempts.all()
    assert attempt.outcome == PublishAttempt.Outcome.PUBLISHED
    assert attempt.status_code == 201
    assert attempt.duration_ms is not None


def test_sending_again_never_posts_twice(publication, x_double, account):
    sent(publication)
    sent(publication)
    coaching.publication_send(publication_id=publication.pk)
    assert len(x_double.posts_for(account.handle)) == 1
    assert publication.attempts.count() == 1


def test_a_duplicate_is_failed_in_the_platforms_own_words(publication, x_double):
    x_double.inject("403-duplicate")
    publication = sent(publication)
    assert publication.status == P.FAILED
    assert "You are not allowed to create a Tweet with duplicate content." in publication.error
    assert publication.attempts.get().outcome == PublishAttempt.Outcome.REJECTED


def test_the_trainee_hears_when_their_post_is_live(publication, trainee, account):
    from coaching.models import Notification

    sent(publication)
    [notice] = Notification.objects.filter(user=trainee, kind="publication")
    assert notice.message == f"Your post “Flu jabs at Ward 4 today” is live on @{account.handle}"


def test_a_failed_post_is_told_to_the_trainee_and_the_coaches_who_can_retry_it(
    publication, x_double, trainee, coach, second_coach
):
    from coaching.models import Notification

    x_double.inject("403-duplicate")
    sent(publication)
    told = Notification.objects.filter(kind="publication", draft=publication.draft)
    assert {notice.user for notice in told} == {trainee, coach, second_coach}
    assert all("could not be published: The platform said:" in n.message for n in told)


@pytest.mark.parametrize("fault", ["5xx-after", "reset"])
def test_an_unknown_outcome_is_unconfirmed_and_never_resent(publication, x_double, account, fault):
    x_double.inject(fault)
    publication = sent(publication)
    assert publication.status == P.UNCONFIRMED
    assert "will not be sent again" in publication.error
    sent(publication)
    assert len(x_double.posts_for(account.handle)) == 1  # the double stored it once


def test_a_timeout_after_sending_is_unconfirmed(publication, x_double, settings):
    settings.PUBLISH_READ_TIMEOUT = 1.0
    x_double.inject("hang-after")
    publication = sent(publication)
    assert publication.status == P.UNCONFIRMED
    assert publication.attempts.get().outcome == PublishAttempt.Outcome.UNKNOWN


def test_5xx_before_storing_is_still_unconfirmed_because_we_cannot_tell(publication, x_double):
    # From outside, a 503 on create looks the same whether or not X stored the post.
    x_double.inject("5xx-before")
    assert sent(publication).status == P.UNCONFIRMED


def test_an_unreachable_platform_is_retried_later(publication, settings):
    settings.X_API_BASE_URL = "http://127.0.0.1:9"  # discard port: connection refused
    publication = sent(publication)
    assert publication.status == P.QUEUED
    assert publication.not_before > timezone.now() - dt.timedelta(seconds=1)
    assert "Trying again shortly" in publication.error
    assert publication.attempts.get().outcome == PublishAttempt.Outcome.NOT_SENT


def test_a_rate_limit_waits_for_the_reset_time_stored_on_the_account(
    publication, x_double, account
):
    x_double.inject("429")
    publication = sent(publication)
    account.refresh_from_db()
    assert publication.status == P.QUEUED
    assert account.rate_limited_until is not None
    assert publication.not_before == account.rate_limited_until
    assert account.rate_limited_until > timezone.now()
    # Not due yet, so a send now does nothing.
    assert sent(publication).status == P.QUEUED
    assert publication.attempts.count() == 1


def test_a_revoked_token_marks_the_account_and_the_post_waits(publication, x_double, account):
    x_double.inject("401")
    publication = sent(publication)
    account.refresh_from_db()
    assert account.status == WorkplaceAccount.Status.NEEDS_RECONNECT
    assert publication.status == P.QUEUED
    assert "reconnect" in publication.error


def test_an_account_with_no_credentials_waits_with_a_clear_reason(publication, account, x_double):
    WorkplaceAccount.objects.filter(pk=account.pk).update(access_token="")
    publication = sent(publication)
    assert publication.status == P.QUEUED
    assert "no connected credentials" in publication.error
    assert x_double.posts_for(account.handle) == []


def test_a_publication_whose_draft_changed_is_cancelled_not_sent(publication, x_double, account):
    Draft.objects.filter(pk=publication.draft_id).update(status=Draft.Status.SUBMITTED)
    assert sent(publication).status == P.CANCELLED
    assert x_double.posts_for(account.handle) == []


def test_tokens_are_encrypted_at_rest(account):
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT access_token FROM sandbox_workplaceaccount WHERE id = %s", [account.pk]
        )
        stored = cursor.fetchone()[0]
    assert stored and "test-x-access-token" not in stored
    assert WorkplaceAccount.objects.get(pk=account.pk).access_token == "test-x-access-token"


# The sweep ------------------------------------------------------------------------------


def test_the_sweep_resends_a_lost_message(publication, django_capture_on_commit_callbacks):
    Publication.objects.filter(pk=publication.pk).update(
        enqueued_at=timezone.now() - dt.timedelta(minutes=5)
    )
    with django_capture_on_commit_callbacks() as callbacks:
        result = coaching.publication_sweep()
    assert result["enqueued"] == 1
    assert len(callbacks) == 1


def test_the_sweep_leaves_recently_enqueued_posts_alone(publication):
    assert coaching.publication_sweep()["enqueued"] == 0


def test_the_sweep_starts_a_scheduled_post_when_due(publication):
    Publication.objects.filter(pk=publication.pk).update(
        publish_at=timezone.now() + dt.timedelta(minutes=10), enqueued_at=None
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
