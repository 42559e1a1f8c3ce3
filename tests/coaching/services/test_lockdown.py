"""Locking down a compromised account: the stop, the revoke at each platform double (and its
refusal), the tokens forgotten, the alerts, the rogue posts, and the checklist's ticks."""

from __future__ import annotations

import datetime as dt

import httpx
import pytest
from django.core import mail
from django.utils import timezone

from coaching import services as coaching
from coaching.models import AuditEvent, Lockdown, LockdownStep, Notification, PublishingStop
from coaching.publishing import x_oauth
from coaching.publishing.base import AuthFailed
from coaching.publishing.mastodon import MastodonPublisher
from coaching.publishing.x import XPublisher
from sandbox.errors import InvalidInput, InvalidState, NotAllowed
from sandbox.models import WorkplaceAccount
from tests import factories
from tests.builders import approved, sent
from tests.factories import BLUESKY_APP_PASSWORD, BLUESKY_HANDLE

pytestmark = pytest.mark.django_db

A = AuditEvent.Action
CLIENT_KEY, CLIENT_SECRET = "lockdown-client-key-0123456789", "lockdown-client-secret-0123456789"


def actions(account: WorkplaceAccount) -> list[str]:
    return list(
        AuditEvent.objects.filter(account=account).order_by("pk").values_list("action", flat=True)
    )


def assert_forgotten(account: WorkplaceAccount) -> None:
    account.refresh_from_db()
    assert account.status == WorkplaceAccount.Status.NEEDS_RECONNECT
    assert (account.access_token, account.refresh_token, account.app_password) == ("", "", "")
    assert (account.platform_session, account.client_secret) == ("", "")
    assert account.status_detail.startswith("Locked down: ")


@pytest.fixture
def x_tokens(settings, x_double, account) -> x_oauth.TokenSet:
    """Tokens from X's real OAuth flow (so a refresh token, bound to Sandpit's client id)."""
    verifier = x_oauth.new_pkce_verifier()
    code = x_double.issue_authorization_code(
        account.handle,
        code_challenge=x_oauth.pkce_challenge(verifier),
        client_id=settings.X_CLIENT_ID,
        redirect_uri="http://testserver/callback",
    )
    tokens = x_oauth.exchange_code(
        base_url=x_double.base_url,
        client_id=settings.X_CLIENT_ID,
        client_secret="",
        code=code,
        verifier=verifier,
        redirect_uri="http://testserver/callback",
        timeout=httpx.Timeout(5),
    )
    account.access_token, account.refresh_token = tokens.access_token, tokens.refresh_token
    account.token_expires_at = tokens.expires_at
    account.save()
    return tokens


def test_lockdown_at_x_stops_revokes_both_tokens_and_lists_the_rogue_posts(
    settings,
    django_capture_on_commit_callbacks,
    trainee,
    coach,
    second_coach,
    admin,
    account,
    x_double,
    x_tokens,
):
    for person in (trainee, coach, second_coach, admin):
        person.email = f"{person.username}@nhs.example"
        person.save()
    ours = sent(approved(trainee, coach, account, "Flu clinics open on Saturday"))
    intruder = XPublisher(
        base_url=x_double.base_url, access_token=x_tokens.access_token, username=account.handle
    )
    rogue = intruder.publish(text="Free crypto for all NHS staff!", idempotency_key="x")
    # The double lives as long as the test process: count this test's calls only.
    revokes = x_double.calls().get("POST /2/oauth2/revoke", 0)

    with django_capture_on_commit_callbacks(execute=True):
        lockdown = coaching.account_lockdown(
            by=coach, account=account, reason="Posts we did not write at 2am"
        )

    lockdown.refresh_from_db()
    assert PublishingStop.objects.get(account=account, ended_at__isnull=True)
    assert lockdown.revoked, lockdown.revoke_outcome
    assert lockdown.revoke_outcome == "X revoked the refresh token and the access token."
    assert x_double.calls()["POST /2/oauth2/revoke"] == revokes + 2
    # The double no longer takes either token.
    me = httpx.get(
        f"{x_double.base_url}/2/users/me",
        headers={"Authorization": f"Bearer {x_tokens.access_token}"},
    )
    assert me.status_code == 401
    with pytest.raises(AuthFailed):
        x_oauth.refresh(
            base_url=x_double.base_url,
            client_id=settings.X_CLIENT_ID,
            client_secret="",
            refresh_token=x_tokens.refresh_token,
            timeout=httpx.Timeout(5),
        )
    assert_forgotten(account)
    # Only the post Sandpit never published is listed.
    assert [post["remote_id"] for post in lockdown.rogue_posts] == [rogue.remote_id]
    assert ours.remote_id not in {post["remote_id"] for post in lockdown.rogue_posts}
    assert actions(account)[-3:] == [A.PUBLISHING_STOPPED, A.LOCKDOWN_STARTED, A.LOCKDOWN_REVOKED]
    # Every coach and admin, in the app and by email whatever their preferences; the
    # trainee is not told.
    told = set(
        Notification.objects.filter(kind=Notification.Kind.LOCKDOWN).values_list(
            "user__username", flat=True
        )
    )
    assert told == {coach.username, second_coach.username, admin.username}
    assert sorted(m.to[0] for m in mail.outbox) == sorted(
        [coach.email, second_coach.email, admin.email]
    )
    assert "Posts we did not write at 2am" in mail.outbox[0].body
    assert f"/lockdowns/{lockdown.pk}/" in mail.outbox[0].body


def test_a_queued_post_waits_behind_the_lockdown(trainee, coach, account, x_double, x_tokens):
    coaching.account_lockdown(by=coach, account=account, reason="Hacked")
    publication = sent(approved(trainee, coach, account, "Waiting, not lost"))
    assert publication.status == publication.Status.QUEUED
    assert x_double.posts_for(account.handle) == []


@pytest.fixture
def on_mastodon(organisation, mastodon_double):
    """A Mastodon account of its own (the module's double keeps its shared token working)."""
    token = "lockdown-mastodon-token-0123456789abcdef"
    mastodon_double.add_account("lockedboard", token=token, client=(CLIENT_KEY, CLIENT_SECRET))
    return factories.AccountFactory.create(
        organisation=organisation,
        platform="mastodon",
        handle="lockedboard",
        api_base_url=mastodon_double.base_url,
        access_token=token,
        client_id=CLIENT_KEY,
        client_secret=CLIENT_SECRET,
    )


def test_lockdown_at_mastodon_revokes_the_token_with_the_apps_key(
    coach, on_mastodon, mastodon_double
):
    token = on_mastodon.access_token
    revokes = mastodon_double.calls().get("POST /oauth/revoke", 0)
    lockdown = coaching.account_lockdown(by=coach, account=on_mastodon, reason="Hacked")

    assert lockdown.revoked, lockdown.revoke_outcome
    assert mastodon_double.calls()["POST /oauth/revoke"] == revokes + 1
    assert not mastodon_double.token_works(token)
    with pytest.raises(AuthFailed):
        MastodonPublisher(api_base_url=mastodon_double.base_url, access_token=token).identity()
    assert_forgotten(on_mastodon)


def test_a_refused_revoke_is_recorded_and_the_tokens_are_still_forgotten(
    client, coach, on_mastodon, mastodon_double
):
    # Connected before Sandpit kept the client key and secret: Mastodon will not revoke.
    WorkplaceAccount.objects.filter(pk=on_mastodon.pk).update(client_id="", client_secret="")
    on_mastodon.refresh_from_db()
    token = on_mastodon.access_token

    lockdown = coaching.account_lockdown(by=coach, account=on_mastodon, reason="Hacked")

    assert not lockdown.revoked
    assert "client key and secret" in lockdown.revoke_outcome
    assert mastodon_double.token_works(token)  # still live there: revoke it by hand
    assert_forgotten(on_mastodon)
    assert actions(on_mastodon)[-1] == A.LOCKDOWN_REVOKE_FAILED
    page = factories.signed_in(client, coach).get(f"/lockdowns/{lockdown.pk}/")
    assert "The tokens were not revoked at Mastodon" in page.text
    assert "Revoke Sandpit's access by hand" in page.text


def test_mastodon_refuses_another_apps_key_and_says_why(coach, on_mastodon, mastodon_double):
    mastodon_double.add_account(
        "otherapp", token="other-app-token-0123456789abcdef", client=("other-key", "other-secret")
    )
    WorkplaceAccount.objects.filter(pk=on_mastodon.pk).update(
        client_id="other-key", client_secret="other-secret"
    )
    on_mastodon.refresh_from_db()

    lockdown = coaching.account_lockdown(by=coach, account=on_mastodon, reason="Hacked")

    assert not lockdown.revoked
    assert lockdown.revoke_outcome == "You are not authorized to revoke this token"
    assert_forgotten(on_mastodon)


def test_lockdown_at_bluesky_ends_the_session(coach, organisation, bluesky_double):
    on_bluesky = coaching.bluesky_connect(
        by=factories.member(organisation, "admin", username="bea"),
        organisation_id=organisation.pk,
        server=bluesky_double.base_url,
        handle=BLUESKY_HANDLE,
        app_password=BLUESKY_APP_PASSWORD,
    )
    from atproto_client import Session

    refresh_jwt = Session.decode(on_bluesky.platform_session).refresh_jwt
    assert not bluesky_double.session_ended(refresh_jwt)
    ended = bluesky_double.calls().get("com.atproto.server.deleteSession", 0)

    lockdown = coaching.account_lockdown(by=coach, account=on_bluesky, reason="Hacked")

    assert lockdown.revoked, lockdown.revoke_outcome
    assert bluesky_double.calls()["com.atproto.server.deleteSession"] == ended + 1
    assert bluesky_double.session_ended(refresh_jwt)
    refreshed = httpx.post(
        f"{bluesky_double.base_url}/xrpc/com.atproto.server.refreshSession",
        headers={"Authorization": f"Bearer {refresh_jwt}"},
    )
    assert refreshed.status_code == 400 and refreshed.json()["error"] == "ExpiredToken"
    assert_forgotten(on_bluesky)


def test_a_standing_stop_is_kept_and_a_second_lockdown_is_refused(coach, admin, account, x_double):
    stop = coaching.publishing_stop(
        by=admin, organisation_id=account.organisation_id, account=account, reason="Odd posts"
    )
    coaching.account_lockdown(by=coach, account=account, reason="Hacked")
    assert list(PublishingStop.objects.filter(account=account, ended_at__isnull=True)) == [stop]

    with pytest.raises(InvalidState, match="already locked down"):
        coaching.account_lockdown(by=admin, account=account, reason="Again")
    assert Lockdown.objects.filter(account=account).count() == 1


@pytest.mark.parametrize("who", ["trainee", "outside_coach"])
def test_only_the_organisations_coaches_and_admins_may_lock_down(request, account, x_double, who):
    with pytest.raises(NotAllowed):
        coaching.account_lockdown(by=request.getfixturevalue(who), account=account, reason="x")
    assert not Lockdown.objects.exists()
    assert WorkplaceAccount.objects.get(pk=account.pk).access_token


def test_a_lockdown_needs_a_reason(coach, account, x_double):
    with pytest.raises(InvalidInput):
        coaching.account_lockdown(by=coach, account=account, reason="  ")
    assert not PublishingStop.objects.exists()


def test_each_step_is_ticked_once_timed_and_audited_and_the_last_closes_it(
    coach, admin, trainee, outside_coach, account, x_double
):
    lockdown = coaching.account_lockdown(by=coach, account=account, reason="Hacked")
    steps = list(lockdown.steps.all())
    assert [s.step for s in steps] == LockdownStep.Step.values
    # As if the lockdown began 75 minutes ago.
    Lockdown.objects.filter(pk=lockdown.pk).update(
        started_at=timezone.now() - dt.timedelta(minutes=75)
    )

    for who in (trainee, outside_coach):
        with pytest.raises(NotAllowed):
            coaching.lockdown_step_done(by=who, step=LockdownStep.objects.get(pk=steps[0].pk))

    first = coaching.lockdown_step_done(by=admin, step=LockdownStep.objects.get(pk=steps[0].pk))
    assert first.done_by == admin and first.done_at is not None
    assert first.after is not None and first.after >= dt.timedelta(minutes=75)
    event = AuditEvent.objects.filter(action=A.LOCKDOWN_STEP_DONE).get()
    assert event.actor == admin
    assert event.detail == (
        "Change the password and second factor at the platform, "
        "1 hour 15 minutes after the lockdown"
    )
    with pytest.raises(InvalidState, match="already ticked"):
        coaching.lockdown_step_done(by=coach, step=LockdownStep.objects.get(pk=steps[0].pk))

    for step in steps[1:]:
        assert Lockdown.objects.get(pk=lockdown.pk).closed_at is None
        coaching.lockdown_step_done(by=coach, step=LockdownStep.objects.get(pk=step.pk))
    assert Lockdown.objects.get(pk=lockdown.pk).closed_at is not None
    assert actions(account)[-1] == A.LOCKDOWN_CLOSED
    # Its alerts are dealt with, for everyone who had one.
    alerts = Notification.objects.filter(kind=Notification.Kind.LOCKDOWN)
    assert alerts.count() == 2 and not alerts.filter(resolved_at__isnull=True).exists()
    assert AuditEvent.objects.filter(action=A.LOCKDOWN_STEP_DONE).count() == len(steps)


def test_a_persons_subject_access_export_holds_their_lockdowns_and_ticks(
    coach, admin, organisation, account, x_double
):
    from coaching.selectors.subject_access import _lockdowns, scope_for

    lockdown = coaching.account_lockdown(by=coach, account=account, reason="Hacked")
    coaching.lockdown_step_done(by=admin, step=lockdown.steps.get(step="report"))

    started = _lockdowns(scope_for(coach, [organisation.pk]))
    assert len(started) == len(LockdownStep.Step.values)
    assert all(row["started_by_them"] and row["reason"] == "Hacked" for row in started)
    [ticked] = _lockdowns(scope_for(admin, [organisation.pk]))
    assert ticked["step_done_by_them"] and not ticked["started_by_them"]
    assert ticked["step"] == "Report the compromise to the platform"


def test_an_unreachable_platform_is_recorded_and_the_tokens_are_still_forgotten(
    settings, coach, account
):
    settings.X_API_BASE_URL = "http://127.0.0.1:9"  # nothing listens: refused at once
    account.refresh_token = "a-refresh-token"
    account.save()

    lockdown = coaching.account_lockdown(by=coach, account=account, reason="Hacked")

    assert not lockdown.revoked
    assert lockdown.revoke_outcome.startswith("Could not reach X")
    assert lockdown.rogue_posts == [] and lockdown.rogue_posts_error.startswith("Could not reach X")
    assert_forgotten(account)
    assert PublishingStop.objects.filter(account=account, ended_at__isnull=True).exists()
    event = AuditEvent.objects.get(action=A.LOCKDOWN_REVOKE_FAILED)
    assert event.detail == lockdown.revoke_outcome


def test_an_unexpected_client_error_still_forgets_the_tokens(coach, account, monkeypatch):
    from coaching.publishing import x as x_publishing

    def broken(self, *args, **kwargs):
        raise RuntimeError("the client library broke")

    monkeypatch.setattr(x_publishing.XPublisher, "revoke", broken)
    monkeypatch.setattr(x_publishing.XPublisher, "recent_posts", broken, raising=False)
    account.refresh_token = "a-refresh-token"
    account.save()

    lockdown = coaching.account_lockdown(by=coach, account=account, reason="Hacked")

    assert not lockdown.revoked and "the client library broke" in lockdown.revoke_outcome
    assert_forgotten(account)
