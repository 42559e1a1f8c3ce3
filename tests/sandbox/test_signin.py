"""Signing in (sandbox/signin.py on django-allauth): throttling per account and per address,
the second factor an organisation requires of its coaches and admins, the idle timeout."""

import time
from urllib.parse import urlsplit

import pytest
from django.conf import settings
from django.contrib.sessions.models import Session
from django.test import Client
from django.urls import reverse

from coaching.models import AuditEvent
from sandbox import signin
from sandbox.models import Membership, Organisation
from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db

LOGIN = reverse("account_login")


def sign_in(client, login, password=PASSWORD, address="10.0.0.1"):
    return client.post(LOGIN, {"login": login, "password": password}, REMOTE_ADDR=address)


def signed_in_as(client):
    return client.get(reverse("account_security")).status_code == 200


REAL_TIME = time.time


def later(monkeypatch, seconds):
    """Move every clock allauth's throttle and the idle timeout read to this many seconds
    from now (the real now, however often it is called)."""
    now = REAL_TIME() + seconds
    monkeypatch.setattr(time, "time", lambda: now)


# Throttling ------------------------------------------------------------------------------


@pytest.mark.usefixtures("clear_sign_in_throttle")
def test_a_burst_of_wrong_passwords_locks_that_account_and_that_address_only(
    client, coach, trainee, monkeypatch
):
    coach.email = "cora@example.nhs.uk"
    coach.save()
    tries = settings.SIGNIN_TRIES_PER_ACCOUNT
    minutes = settings.SIGNIN_LOCK_MINUTES
    print(
        f"\nThrottle: {tries} wrong passwords per account, "
        f"{settings.SIGNIN_TRIES_PER_ADDRESS} per address, in {minutes} minutes; "
        f"locked until the window moves on (at most {minutes} minutes)"
    )
    for _ in range(tries):
        response = sign_in(client, "cora", "not the password")
        assert response.status_code == 200
        assert "Try again in" not in response.content.decode()

    # That account is locked, even with the right password, and says for how long...
    response = sign_in(client, "cora")
    page = response.content.decode()
    assert response.status_code == 200 and not signed_in_as(client)
    assert "Sign-in is paused for this account" in page
    assert f"Try again in {minutes} minutes" in page
    # ...by email address too (one account, not one allowance per way of naming it)...
    assert "paused for this account" in sign_in(client, "cora@example.nhs.uk").content.decode()
    # ...and from any address.
    sign_in(client, "cora", address="10.9.9.9")
    assert not signed_in_as(client)

    # Another account, from another address, signs in at once.
    other = Client()
    assert sign_in(other, "tara", address="10.0.0.2").status_code == 302
    assert signed_in_as(other)

    # The lockout and each wrong password are in the organisation's audit log.
    events = AuditEvent.objects.filter(actor=coach)
    assert events.filter(action=AuditEvent.Action.SIGN_IN_FAILED).count() == tries
    locked = events.get(action=AuditEvent.Action.SIGN_IN_LOCKED)
    assert f"locked for {minutes} minutes" in locked.detail

    # When the window has moved on, the right password works again.
    later(monkeypatch, minutes * 60 + 1)
    assert sign_in(client, "cora").status_code == 302
    assert signed_in_as(client)


@pytest.mark.usefixtures("clear_sign_in_throttle")
def test_a_burst_from_one_address_locks_that_address_not_the_site(client, trainee, coach):
    per_address = settings.SIGNIN_TRIES_PER_ADDRESS
    # Guessing many names from one address: each name stays under its own limit.
    for n in range(per_address):
        sign_in(client, f"guess{n}", "not the password", address="10.0.0.3")
    response = sign_in(client, "tara", address="10.0.0.3")
    assert "Sign-in is paused from this network" in response.content.decode()
    assert not signed_in_as(client)
    # The same account from another address is fine: only that address is locked.
    assert sign_in(client, "tara", address="10.0.0.4").status_code == 302
    elsewhere = Client()
    assert sign_in(elsewhere, "cora", address="10.0.0.5").status_code == 302


@pytest.mark.usefixtures("clear_sign_in_throttle")
def test_a_right_password_does_not_count_towards_a_lock(client, trainee):
    for _ in range(settings.SIGNIN_TRIES_PER_ACCOUNT * 2):
        assert sign_in(client, "tara").status_code == 302
        client.logout()
    assert sign_in(client, "tara", "wrong").status_code == 200
    assert sign_in(client, "tara").status_code == 302


@pytest.mark.usefixtures("clear_sign_in_throttle")
def test_signing_in_is_audited_in_each_of_the_persons_organisations(
    client, coach, other_organisation
):
    Membership.objects.create(user=coach, organisation=other_organisation, role="trainee")
    assert sign_in(client, "cora").status_code == 302
    events = AuditEvent.objects.filter(actor=coach, action=AuditEvent.Action.SIGNED_IN)
    assert {e.organisation_id for e in events} == {
        coach.memberships.get(role="coach").organisation_id,
        other_organisation.pk,
    }
    assert "From 10.0.0.1" in events.first().detail


def test_nobody_signs_themselves_up(client):
    response = client.get(reverse("account_signup"))
    assert "Sign Up Closed" in response.content.decode() or response.status_code in {403, 404}


# The second factor ---------------------------------------------------------------------------


@pytest.fixture
def requires_second_factor(organisation):
    organisation.second_factor_required = True
    organisation.save()
    return organisation


def totp_for(user):
    from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret

    return TOTP.activate(user, generate_totp_secret())


def test_new_organisations_require_a_second_factor():
    assert Organisation(name="Production Trust").second_factor_required is True


@pytest.mark.usefixtures("requires_second_factor")
def test_a_coach_cannot_reach_the_queue_without_a_second_factor(client, coach):
    client.force_login(coach)
    response = client.get(reverse("queue"))
    assert response.status_code == 302 and response["Location"] == reverse("mfa_index")
    # htmx requests (the queue's refresh) are sent there too, as a whole page.
    response = client.get(reverse("queue"), headers={"HX-Request": "true"})
    assert response["HX-Redirect"] == reverse("mfa_index")
    # Every other page too; the pages to set one up open.
    assert client.get(reverse("publishing")).status_code == 302
    assert client.get(reverse("mfa_index")).status_code == 200
    assert client.get(reverse("account_security")).status_code == 200


@pytest.mark.usefixtures("requires_second_factor")
def test_with_a_second_factor_the_coach_reaches_the_queue(client, coach):
    totp_for(coach)
    client.force_login(coach)
    assert client.get(reverse("queue")).status_code == 200


def test_trainees_are_not_asked_and_may_opt_in(client, trainee, requires_second_factor):
    client.force_login(trainee)
    assert client.get(reverse("timeline")).status_code == 200
    assert client.get(reverse("mfa_index")).status_code == 200


def test_an_organisation_can_leave_it_off(client, coach, organisation):
    assert organisation.second_factor_required is False
    client.force_login(coach)
    assert client.get(reverse("queue")).status_code == 200


# The idle timeout ----------------------------------------------------------------------------


def test_a_coach_is_signed_out_after_the_idle_timeout(client, coach, monkeypatch):
    client.force_login(coach)
    assert client.get(reverse("queue")).status_code == 200
    later(monkeypatch, settings.IDLE_TIMEOUT_MINUTES * 60 - 30)
    assert client.get(reverse("queue")).status_code == 200  # used: the time starts again
    later(monkeypatch, 2 * settings.IDLE_TIMEOUT_MINUTES * 60 - 120)
    assert client.get(reverse("queue")).status_code == 200
    later(monkeypatch, 3 * settings.IDLE_TIMEOUT_MINUTES * 60)
    response = client.get(reverse("queue"), follow=True)
    assert response.redirect_chain[0][0].startswith(LOGIN)
    page = response.content.decode()
    assert f"not used for {settings.IDLE_TIMEOUT_MINUTES} minutes" in page
    assert not signed_in_as(client)


def test_polling_does_not_keep_a_session_alive(client, coach, monkeypatch):
    client.force_login(coach)
    assert client.get(reverse("queue")).status_code == 200
    background = {"HX-Request": "true", signin.BACKGROUND_HEADER: "1"}
    for minutes in range(5, settings.IDLE_TIMEOUT_MINUTES, 5):
        later(monkeypatch, minutes * 60)
        assert client.get(reverse("queue"), headers=background).status_code == 200
    later(monkeypatch, settings.IDLE_TIMEOUT_MINUTES * 60 + 1)
    response = client.get(reverse("queue"), headers=background)
    # htmx follows HX-Redirect with a whole page: the sign-in page, back to the queue after.
    assert response["HX-Redirect"] == f"{LOGIN}?next=/"
    assert not signed_in_as(client)


def test_the_warning_asks_without_extending_and_stay_signed_in_extends(client, coach, monkeypatch):
    client.force_login(coach)
    client.get(reverse("queue"))
    timeout = settings.IDLE_TIMEOUT_MINUTES * 60
    later(monkeypatch, timeout - 100)
    answer = client.get(reverse("idle_session"), headers={signin.BACKGROUND_HEADER: "1"})
    assert 99 <= answer.json()["seconds_left"] <= 100
    answer = client.post(reverse("idle_session"))
    assert answer.json()["seconds_left"] == timeout


def test_reading_pages_saves_the_session_at_most_every_half_minute(
    client, coach, monkeypatch, settings
):
    settings.IDLE_ACTIVITY_RESOLUTION_SECONDS = 30
    client.force_login(coach)
    client.get(reverse("queue"))
    saved = Session.objects.get().expire_date

    def saves_session(seconds: float) -> bool:
        nonlocal saved
        later(monkeypatch, seconds)
        client.get(reverse("queue"))
        before, saved = saved, Session.objects.get().expire_date
        return saved != before

    assert not saves_session(settings.IDLE_ACTIVITY_RESOLUTION_SECONDS - 5)
    assert saves_session(settings.IDLE_ACTIVITY_RESOLUTION_SECONDS + 5)
    # An action always counts at once.
    later(monkeypatch, settings.IDLE_ACTIVITY_RESOLUTION_SECONDS + 10)
    answer = client.post(reverse("idle_session"))
    assert answer.json()["seconds_left"] == settings.IDLE_TIMEOUT_MINUTES * 60


def test_trainees_have_the_longer_timeout(client, trainee, monkeypatch):
    assert settings.TRAINEE_IDLE_TIMEOUT_MINUTES > settings.IDLE_TIMEOUT_MINUTES
    client.force_login(trainee)
    client.get(reverse("timeline"))
    later(monkeypatch, settings.IDLE_TIMEOUT_MINUTES * 60 + 60)
    assert client.get(reverse("timeline")).status_code == 200
    later(
        monkeypatch,
        settings.IDLE_TIMEOUT_MINUTES * 60 + 60 + settings.TRAINEE_IDLE_TIMEOUT_MINUTES * 60 + 1,
    )
    assert client.get(reverse("timeline")).status_code == 302


# Password reset and change, signing out everywhere ------------------------------------------


@pytest.mark.usefixtures("clear_sign_in_throttle")
def test_password_reset_by_email(client, trainee, mailoutbox):
    trainee.email = "tara@example.nhs.uk"
    trainee.save()
    response = client.post(reverse("account_reset_password"), {"email": "TARA@example.nhs.uk"})
    assert response.status_code == 302
    (message,) = mailoutbox
    assert message.to == ["tara@example.nhs.uk"]
    assert message.subject == "Sandpit: Reset your password"
    link = next(word for word in message.body.split() if "/accounts/password/reset/key/" in word)
    path = urlsplit(link).path
    form = client.get(path, follow=True)
    assert form.status_code == 200
    action = form.redirect_chain[-1][0] if form.redirect_chain else path
    new = "a brand new long passphrase"
    done = client.post(action, {"password1": new, "password2": new})
    assert done.status_code == 302
    client.logout()
    assert sign_in(client, "tara", new).status_code == 302


def test_password_reset_for_an_unknown_address_says_the_same(client, mailoutbox):
    response = client.post(reverse("account_reset_password"), {"email": "nobody@example.nhs.uk"})
    assert response.status_code == 302  # no hint whether the address has an account
    assert mailoutbox == []


@pytest.mark.usefixtures("clear_sign_in_throttle")
def test_password_change(client, trainee):
    sign_in(client, "tara")
    page = client.get(reverse("account_change_password"))
    assert b"nhsuk-input" in page.content
    new = "another long passphrase"
    response = client.post(
        reverse("account_change_password"),
        {"oldpassword": PASSWORD, "password1": new, "password2": new},
    )
    assert response.status_code == 302
    client.logout()
    assert sign_in(client, "tara", new).status_code == 302


@pytest.mark.usefixtures("clear_sign_in_throttle")
def test_a_wrong_old_password_keeps_what_was_typed_and_says_why(client, trainee):
    sign_in(client, "tara")
    response = client.post(
        reverse("account_change_password"),
        {"oldpassword": "wrong", "password1": "new long phrase", "password2": "new long phrase"},
    )
    assert response.status_code == 200
    assert b"nhsuk-error-message" in response.content


@pytest.mark.usefixtures("clear_sign_in_throttle")
def test_sign_out_everywhere(client, coach):
    phone, desk = Client(), Client()
    for browser in (phone, desk, client):
        assert sign_in(browser, "cora").status_code == 302
    page = client.get(reverse("usersessions_list"))
    assert page.status_code == 200
    client.post(reverse("usersessions_list"))
    assert not signed_in_as(phone) and not signed_in_as(desk)
    assert signed_in_as(client)


@pytest.mark.django_db
@pytest.mark.parametrize("method", ["get", "post"])
def test_nobody_changes_their_own_email_address(client, trainee, method):
    # An address is how invitations and single sign-on find a person: a trainee who could
    # set "new.admin@trust.nhs.uk" on their own account would be given that admin's invitation.
    client.force_login(trainee)
    response = getattr(client, method)("/accounts/email/", {"email": "new.admin@example.org"})
    assert response.status_code == 404
    trainee.refresh_from_db()
    assert trainee.email != "new.admin@example.org"
