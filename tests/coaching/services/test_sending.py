"""coaching/services/sending.py against the real X API double over HTTP: one publication to
the platform, the happy path and each class of failure, threads, and token refresh."""

import contextlib
import datetime as dt

import httpx
import pytest
from django.utils import timezone

from coaching import services as coaching
from coaching.models import AuditEvent, Publication, PublishAttempt
from coaching.publishing import x_oauth
from coaching.services import outbox
from sandbox.models import Draft, WorkplaceAccount
from tests.builders import approved, sent

pytestmark = pytest.mark.django_db

P = Publication.Status


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


def sent_after_commit(callbacks) -> list[tuple[str, tuple, float]]:
    """Run captured after-commit callbacks with the task messages they send recorded, not
    sent: (task name, args, countdown) for each."""
    from unittest import mock

    from coaching import tasks

    # A notice message sent by an earlier test a moment ago would hold this one back.
    outbox._tell_sent_at = -outbox.TELL_WINDOW

    messages = []
    every = (tasks.publish, tasks.tell_settled, tasks.resume_publishing, tasks.reconcile)
    with contextlib.ExitStack() as stack:
        for task in every:

            def record(args, countdown=0, name=task.name):
                messages.append((name, tuple(args), countdown))

            stack.enter_context(mock.patch.object(task, "apply_async", side_effect=record))
        for callback in callbacks:
            callback()
    return messages


def _settled_later(publication, callbacks) -> None:
    """The notice is a task of its own, sent after the publish task's commit: run it as
    the worker would."""
    from coaching import tasks

    [told] = [m for m in sent_after_commit(callbacks) if m[0] == tasks.tell_settled.name]
    assert told[1:] == ((), outbox.TELL_DELAY)
    assert tasks.tell_settled() == 1


def test_the_trainee_hears_when_their_post_is_live(
    publication, trainee, account, django_capture_on_commit_callbacks
):
    from coaching.models import Notification

    with django_capture_on_commit_callbacks() as callbacks:
        sent(publication)
    # Nothing is said inside the publish task itself: only after its commit.
    assert not Notification.objects.filter(kind="publication").exists()
    _settled_later(publication, callbacks)
    [notice] = Notification.objects.filter(user=trainee, kind="publication")
    assert notice.message == f"Your post “Flu jabs at Ward 4 today” is live on @{account.handle}"


def test_a_failed_post_is_told_to_the_trainee_and_the_coaches_who_can_retry_it(
    publication, x_double, trainee, coach, second_coach, django_capture_on_commit_callbacks
):
    from coaching.models import Notification

    x_double.inject("403-duplicate")
    with django_capture_on_commit_callbacks() as callbacks:
        sent(publication)
    assert not Notification.objects.filter(kind="publication").exists()
    _settled_later(publication, callbacks)
    told = Notification.objects.filter(kind="publication", draft=publication.draft)
    assert {notice.user for notice in told} == {trainee, coach, second_coach}
    assert all("could not be published: The platform said:" in n.message for n in told)


def test_a_notice_is_not_sent_for_a_post_sent_again_meanwhile(
    publication, x_double, django_capture_on_commit_callbacks
):
    from coaching import tasks
    from coaching.models import Notification

    x_double.inject("403-duplicate")
    sent(publication)
    Publication.objects.filter(pk=publication.pk).update(status=P.QUEUED)
    assert tasks.tell_settled() == 0
    assert not Notification.objects.filter(kind="publication").exists()


def test_a_burst_of_posts_is_told_with_one_message_each_told_once(
    trainee, coach, account, x_double, django_capture_on_commit_callbacks
):
    from coaching import tasks
    from coaching.models import Notification

    publications = [approved(trainee, coach, account, f"Burst post {n}") for n in range(5)]
    with django_capture_on_commit_callbacks() as callbacks:
        for publication in publications:
            sent(publication)
    told = [m for m in sent_after_commit(callbacks) if m[0] == tasks.tell_settled.name]
    assert len(told) == 1  # one message, a moment later, for the whole burst
    assert tasks.tell_settled() == 5
    assert tasks.tell_settled() == 0  # told once
    assert Notification.objects.filter(user=trainee, kind="publication").count() == 5


def test_a_post_sent_again_is_told_again_when_it_settles(
    publication, x_double, trainee, coach, django_capture_on_commit_callbacks
):
    from coaching import tasks
    from coaching.models import Notification

    x_double.inject("403-duplicate")
    sent(publication)
    assert tasks.tell_settled() == 1
    coaching.publication_retry(publication=publication, by=coach)
    assert sent(publication).status == P.PUBLISHED
    assert tasks.tell_settled() == 1
    notices = Notification.objects.filter(user=trainee, kind="publication").order_by("pk")
    assert ["could not be published" in n.message for n in notices] == [True, False]


def test_the_sweep_tells_about_posts_whose_message_was_lost(
    publication, django_capture_on_commit_callbacks
):
    from coaching import tasks

    sent(publication)  # its message is never sent here
    later = timezone.now() + dt.timedelta(minutes=5)
    with django_capture_on_commit_callbacks() as callbacks:
        coaching.publication_sweep(now=later)
    assert [m[0] for m in sent_after_commit(callbacks)] == [tasks.tell_settled.name]
    assert tasks.tell_settled() == 1


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


# Threads ---------------------------------------------------------------------------------


def test_a_thread_publishes_as_a_reply_chain(trainee, coach, account, x_double):
    publication = sent(approved(trainee, coach, account, "1/3 Flu", ["2/3 Covid", "3/3 Thanks"]))
    assert publication.status == P.PUBLISHED
    posts = {post.text: post for post in x_double.posts_for(account.handle)}
    assert posts["2/3 Covid"].in_reply_to_tweet_id == posts["1/3 Flu"].id
    assert posts["3/3 Thanks"].in_reply_to_tweet_id == posts["2/3 Covid"].id
    assert publication.remote_id == posts["1/3 Flu"].id


def test_a_thread_that_fails_part_way_resumes_without_reposting(
    trainee, coach, second_coach, account, x_double
):
    blocker = sent(approved(trainee, coach, account, "Clinic times below"))
    thread = sent(
        approved(trainee, coach, account, "Winter update", ["Clinic times below", "Stay well"])
    )
    assert thread.status == P.FAILED
    assert "duplicate content" in thread.error
    assert "Posts 1 to 1 of the thread are live" in thread.error
    assert thread.live_parts == 1

    coaching.publication_retract(publication=blocker, by=coach, reason="Clearing the way")
    coaching.publication_retry(publication=thread, by=second_coach)
    thread = sent(thread)
    assert thread.status == P.PUBLISHED
    texts = [post.text for post in x_double.posts_for(account.handle)]
    assert sorted(texts) == ["Clinic times below", "Stay well", "Winter update"]
    assert AuditEvent.objects.filter(action="publication_resumed", publication=thread).exists()


# Tokens ---------------------------------------------------------------------------------------


def test_an_expiring_x_token_is_refreshed_and_the_refresh_token_rotates(
    trainee, coach, account, x_double, settings
):
    verifier = x_oauth.new_pkce_verifier()
    code = x_double.issue_authorization_code(
        account.handle,
        code_challenge=x_oauth.pkce_challenge(verifier),
        client_id=settings.X_CLIENT_ID,
    )
    tokens = x_oauth.exchange_code(
        base_url=x_double.base_url,
        client_id=settings.X_CLIENT_ID,
        client_secret="",
        code=code,
        verifier=verifier,
        redirect_uri="",
        timeout=httpx.Timeout(5),
    )
    WorkplaceAccount.objects.filter(pk=account.pk).update(
        access_token=tokens.access_token,
        refresh_token=tokens.refresh_token,
        token_expires_at=timezone.now() + dt.timedelta(minutes=1),
    )
    publication = sent(approved(trainee, coach, account, "Fresh token"))
    assert publication.status == P.PUBLISHED
    account.refresh_from_db()
    assert account.access_token != tokens.access_token
    assert account.refresh_token and account.refresh_token != tokens.refresh_token
    assert account.token_expires_at > timezone.now() + dt.timedelta(hours=1)


def test_a_revoked_refresh_token_asks_for_reconnection(
    trainee, coach, account, x_double, mailoutbox, admin, django_capture_on_commit_callbacks
):
    admin.email = "ada@example.nhs.uk"
    admin.save()
    WorkplaceAccount.objects.filter(pk=account.pk).update(
        refresh_token="revoked", token_expires_at=timezone.now()
    )
    publication = approved(trainee, coach, account, "Needs a token")
    # The email goes after the worker's transaction commits.
    with django_capture_on_commit_callbacks(execute=True):
        publication = sent(publication)
    account.refresh_from_db()
    assert publication.status == P.QUEUED
    assert account.status == WorkplaceAccount.Status.NEEDS_RECONNECT
    assert [m.to for m in mailoutbox] == [["ada@example.nhs.uk"]]
    assert "reconnect" in mailoutbox[0].subject.lower()


# What one post costs the database ----------------------------------------------------------

# The happy path of one single post: read the row with its account, draft and any standing
# stop; claim it and write the attempt in one statement; finish the attempt and the row in
# another. Before issue 13 it was 14 captured queries (BEGIN and COMMIT among them) and 5
# commits, with the notice written inside the task.
QUERIES_PER_POST = 3
COMMITS_PER_POST = 2


class _Commits:
    """Counts transactions that write: each writing statement run in autocommit mode is
    one, and so is each commit of an atomic block (the connection's own commit)."""

    def __init__(self, connection):
        self.connection = connection
        self.count = 0

    def __call__(self, execute, sql, params, many, context):
        if not self.connection.in_atomic_block and not sql.lstrip().upper().startswith("SELECT"):
            self.count += 1
        return execute(sql, params, many, context)


@pytest.mark.django_db(transaction=True)
def test_one_post_costs_few_queries_and_commits(trainee, coach, account, x_double, monkeypatch):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    publication = approved(trainee, coach, account, "Flu jabs at Ward 4 today")
    commits = _Commits(connection)
    commit = connection.commit

    def counted_commit():
        commits.count += 1
        commit()

    monkeypatch.setattr(connection, "commit", counted_commit)
    with connection.execute_wrapper(commits), CaptureQueriesContext(connection) as queries:
        coaching.publication_send(publication_id=publication.pk)
    publication.refresh_from_db()
    assert publication.status == P.PUBLISHED
    print(f"\nper post: {len(queries)} queries, {commits.count} commits")
    for query in queries.captured_queries:
        print("  ", query["sql"][:140])
    assert (len(queries), commits.count) == (QUERIES_PER_POST, COMMITS_PER_POST)


# A rate limit: one resume per reset, not a message per post ------------------------------------


def _resumes(callbacks) -> list:
    from coaching import tasks

    return [m for m in sent_after_commit(callbacks) if m[0] == tasks.resume_publishing.name]


def test_a_429_parks_the_accounts_posts_with_one_resume_at_the_reset(
    trainee, coach, account, x_double, monkeypatch, django_capture_on_commit_callbacks
):
    monkeypatch.setattr(x_double, "rate_limit_reset_seconds", 30)
    publications = [approved(trainee, coach, account, f"Post {n}") for n in range(3)]
    x_double.inject("429")
    with django_capture_on_commit_callbacks() as callbacks:
        for publication in publications:
            coaching.publication_send(publication_id=publication.pk)
    [resume] = _resumes(callbacks)  # the two posts after the first never reached X
    account.refresh_from_db()
    reset = account.rate_limited_until
    assert resume[1] == (account.pk,)
    assert reset - timezone.now() < dt.timedelta(seconds=31)
    assert abs(resume[2] - (reset - timezone.now()).total_seconds()) < 2
    for publication in publications:
        publication.refresh_from_db()
        assert (publication.status, publication.not_before) == (P.QUEUED, reset)
        assert "rate limit" in publication.error
        # No message of its own: the resume sends it, and the sweep only if that never ran.
        assert publication.lease_until > reset
    assert x_double.posts_for(account.handle) == []


def test_the_resume_sends_the_waiting_posts_oldest_first(
    trainee, coach, account, x_double, monkeypatch
):
    monkeypatch.setattr(x_double, "rate_limit_reset_seconds", 30)
    publications = [approved(trainee, coach, account, f"Waiting post {n}") for n in range(3)]
    x_double.inject("429")
    for publication in publications:
        coaching.publication_send(publication_id=publication.pk)
    assert coaching.account_resume(account_id=account.pk) == 0  # not before the reset
    WorkplaceAccount.objects.filter(pk=account.pk).update(rate_limited_until=timezone.now())
    Publication.objects.filter(pk__in=[p.pk for p in publications]).update(
        not_before=timezone.now()
    )
    assert coaching.account_resume(account_id=account.pk) == 3
    in_order = sorted(x_double.posts_for(account.handle), key=lambda post: int(post.id))
    assert [post.text for post in in_order] == [f"Waiting post {n}" for n in range(3)]


def test_a_new_429_during_the_resume_stops_it(trainee, coach, account, x_double, monkeypatch):
    monkeypatch.setattr(x_double, "rate_limit_reset_seconds", 30)
    publications = [approved(trainee, coach, account, f"Held post {n}") for n in range(3)]
    x_double.inject("429")
    assert coaching.account_resume(account_id=account.pk) == 1
    assert x_double.posts_for(account.handle) == []
    assert all(sent(p).status == P.QUEUED for p in publications)


def test_the_resume_holds_the_lease_of_the_posts_it_has_still_to_send(
    trainee, coach, account, x_double, monkeypatch
):
    """While one resume works through an account's backlog, the sweep must see each post
    still to come as carried, or it would send another message for it."""
    from coaching.services import sending

    publications = [approved(trainee, coach, account, f"Backlog post {n}") for n in range(3)]
    ran_out = timezone.now() - dt.timedelta(minutes=5)
    Publication.objects.filter(pk__in=[p.pk for p in publications]).update(lease_until=ran_out)
    leases_seen = []
    send = sending.publication_send

    def send_and_look(*, publication_id):
        leases_seen.append(
            list(Publication.objects.filter(status=P.QUEUED).values_list("lease_until", flat=True))
        )
        send(publication_id=publication_id)

    monkeypatch.setattr(sending, "publication_send", send_and_look)
    assert coaching.account_resume(account_id=account.pk) == 3
    assert [len(leases) for leases in leases_seen] == [3, 2, 1]
    assert all(lease > timezone.now() - dt.timedelta(seconds=5) for lease in leases_seen[0])
