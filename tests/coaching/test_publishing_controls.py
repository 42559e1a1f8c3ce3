"""Issue-3 behaviour through the real X double over HTTP: threads that resume, emergency
stops, reconcile, publish-anyway, retract, token refresh, and connecting an account."""

import datetime as dt
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from django.urls import reverse
from django.utils import timezone

from coaching import services as coaching
from coaching.models import AuditEvent, Publication, PublishingStop
from coaching.publishing import x_oauth
from sandbox.errors import InvalidInput, InvalidState, NotAllowed
from sandbox.models import WorkplaceAccount
from tests.builders import approved, sent
from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db
P = Publication.Status


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


# Emergency stop ------------------------------------------------------------------------------


@pytest.mark.parametrize("scope", ["account", "organisation"])
def test_a_stop_holds_queued_posts_until_resumed(trainee, coach, account, x_double, scope):
    stop = coaching.publishing_stop(
        by=coach,
        organisation_id=account.organisation_id,
        account=account if scope == "account" else None,
        reason="Suspected hacked account",
    )
    publication = sent(approved(trainee, coach, account, "Hold this"))
    assert publication.status == P.QUEUED
    assert "Cora paused publishing" in publication.error
    assert "Suspected hacked account" in publication.error
    assert x_double.posts_for(account.handle) == []
    assert coaching.publication_sweep(force=True)["enqueued"] == 0  # the sweep skips it too

    coaching.publishing_resume(by=coach, stop=stop)
    assert sent(publication).status == P.PUBLISHED
    actions = set(AuditEvent.objects.values_list("action", flat=True))
    assert {"publishing_stopped", "publishing_resumed"} <= actions


def test_only_coaches_and_admins_stop_publishing(trainee, outside_coach, account):
    for person in (trainee, outside_coach):
        with pytest.raises(NotAllowed):
            coaching.publishing_stop(
                by=person, organisation_id=account.organisation_id, reason="No"
            )


def test_a_stop_needs_a_reason_and_cannot_be_doubled(coach, account):
    with pytest.raises(InvalidInput, match="Say why"):
        coaching.publishing_stop(by=coach, organisation_id=account.organisation_id, reason=" ")
    coaching.publishing_stop(by=coach, organisation_id=account.organisation_id, reason="Purdah")
    with pytest.raises(InvalidState, match="already stopped"):
        coaching.publishing_stop(by=coach, organisation_id=account.organisation_id, reason="Again")


def test_everyone_in_the_organisation_sees_the_stop_banner(client, coach, trainee, account):
    coaching.publishing_stop(
        by=coach, organisation_id=account.organisation_id, reason="Major incident declared"
    )
    client.login(username=trainee.username, password=PASSWORD)
    body = client.get(reverse("timeline")).content.decode()
    assert "Publishing is stopped" in body and "Major incident declared" in body
    assert "Resume publishing" not in body  # trainees cannot resume


def test_a_coach_stops_and_resumes_from_the_publishing_page(client, coach, account):
    client.login(username=coach.username, password=PASSWORD)
    client.post(reverse("publishing_stop"), {"account": account.pk, "reason": "Purdah"})
    stop = PublishingStop.objects.get()
    assert stop.account == account and stop.started_by == coach
    client.post(reverse("publishing_resume", args=[stop.pk]))
    stop.refresh_from_db()
    assert stop.ended_by == coach


def test_a_coach_elsewhere_cannot_stop_or_resume_our_account(client, coach, outside_coach, account):
    stop = coaching.publishing_stop(by=coach, organisation_id=account.organisation_id, reason="x")
    client.login(username=outside_coach.username, password=PASSWORD)
    assert (
        client.post(reverse("publishing_stop"), {"account": account.pk, "reason": "y"}).status_code
        == 404
    )
    assert client.post(reverse("publishing_resume", args=[stop.pk])).status_code == 404


# Unknown outcomes: reconcile and publish anyway ---------------------------------------------


def test_reconcile_finds_a_post_that_went_out(trainee, coach, account, x_double):
    x_double.inject("5xx-after")
    publication = sent(approved(trainee, coach, account, "Did this go?"))
    assert publication.status == P.UNCONFIRMED
    assert coaching.publication_reconcile(publication=publication, by=coach) == P.PUBLISHED
    publication.refresh_from_db()
    [post] = x_double.posts_for(account.handle)
    assert publication.remote_id == post.id
    assert AuditEvent.objects.filter(action="publication_reconciled", actor=coach).exists()


def test_reconcile_waits_then_fails_a_post_that_never_arrived(trainee, coach, account, x_double):
    x_double.inject("5xx-before")
    publication = sent(approved(trainee, coach, account, "Lost in transit"))
    assert coaching.publication_reconcile(publication=publication) == P.UNCONFIRMED
    publication.attempts.update(started_at=timezone.now() - dt.timedelta(minutes=5))
    assert coaching.publication_reconcile(publication=publication) == P.FAILED
    publication.refresh_from_db()
    assert "did not go out" in publication.error


def test_publish_anyway_is_audited_and_sends_again(trainee, coach, account, x_double):
    x_double.inject("5xx-before")
    publication = sent(approved(trainee, coach, account, "Try once more"))
    coaching.publication_retry(publication=publication, by=coach)
    assert sent(publication).status == P.PUBLISHED
    assert AuditEvent.objects.get(action="publication_forced").actor == coach


def test_a_trainee_cannot_force_or_retract(trainee, coach, account, x_double):
    publication = sent(approved(trainee, coach, account, "Mine"))
    with pytest.raises(NotAllowed):
        coaching.publication_retract(publication=publication, by=trainee, reason="Oops")
    with pytest.raises(NotAllowed):
        coaching.publication_retry(publication=publication, by=trainee)


# Retract -----------------------------------------------------------------------------------------


def test_retract_deletes_the_post_and_is_audited(trainee, coach, account, x_double):
    publication = sent(approved(trainee, coach, account, "Wrong date, sorry"))
    with pytest.raises(InvalidInput):
        coaching.publication_retract(publication=publication, by=coach, reason="")
    coaching.publication_retract(publication=publication, by=coach, reason="Wrong date")
    publication.refresh_from_db()
    assert publication.status == P.RETRACTED
    assert x_double.posts_for(account.handle) == []
    event = AuditEvent.objects.get(action="publication_retracted")
    assert (event.actor, event.detail, event.revision_id) == (
        coach,
        "Wrong date",
        publication.revision_id,
    )


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


# Connecting an account in the browser's way (HTTP through the double's consent page) ----------


def test_an_admin_connects_an_x_account_with_oauth_pkce(
    client, admin, organisation, x_double, settings
):
    settings.X_AUTHORIZE_URL = f"{x_double.base_url}/i/oauth2/authorize"
    x_double.add_user("NewBoard", name="New Board", token="unused")
    client.login(username=admin.username, password=PASSWORD)
    start = client.post(reverse("account_connect_x"), {"organisation": organisation.pk})
    assert start.status_code == 302
    authorize = urlsplit(start["Location"])
    query = {k: v[0] for k, v in parse_qs(authorize.query).items()}
    assert query["code_challenge_method"] == "S256"
    assert set(query["scope"].split()) == {
        "tweet.read",
        "tweet.write",
        "users.read",
        "media.write",  # uploading a post's images
        "offline.access",
    }
    consent = httpx.get(start["Location"])
    assert "Authorize app as @NewBoard" in consent.text
    granted = httpx.post(
        f"{x_double.base_url}/i/oauth2/authorize",
        data={**query, "username": "NewBoard", "decision": "allow"},
    )
    callback = urlsplit(granted.headers["location"])
    done = client.get(f"{callback.path}?{callback.query}", follow=True)
    assert "Connected @NewBoard on X" in done.content.decode()
    account = WorkplaceAccount.objects.get(handle="NewBoard")
    assert account.organisation == organisation and account.access_token and account.refresh_token
    assert AuditEvent.objects.filter(action="account_connected", actor=admin).exists()


def test_a_tampered_oauth_callback_is_refused_clearly(
    client, admin, organisation, x_double, settings
):
    settings.X_AUTHORIZE_URL = f"{x_double.base_url}/i/oauth2/authorize"
    client.login(username=admin.username, password=PASSWORD)
    client.post(reverse("account_connect_x"), {"organisation": organisation.pk})
    response = client.get(
        reverse("account_connect_x_callback") + "?state=forged&code=abc", follow=True
    )
    assert "does not match one you started here" in response.content.decode()
    assert WorkplaceAccount.objects.count() == 1  # only the fixture's account
    assert "x_oauth_pending" not in client.session  # the pending flow is used up


def test_only_admins_connect_accounts(client, coach):
    client.login(username=coach.username, password=PASSWORD)
    assert client.get(reverse("accounts")).status_code == 403
    assert client.post(reverse("account_connect_x")).status_code == 403
