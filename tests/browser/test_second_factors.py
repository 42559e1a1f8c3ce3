"""Second factors in Chromium: a coach whose organisation requires one is sent to set it
up, enrols a passkey (Chromium's virtual authenticator, over the DevTools protocol) or an
authenticator app (codes computed here from the secret the page shows), and signs in with
each; recovery codes work when the phone is lost."""

import time

import pytest
from allauth.mfa.totp.internal.auth import format_hotp_value, hotp_value
from django.urls import reverse
from playwright.sync_api import expect

from coaching.models import AuditEvent
from tests.browser.people import sign_in
from tests.factories import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("clear_sign_in_throttle")]

ASKED = "Your organisation asks coaches and admins to set up a second way"


@pytest.fixture
def required(organisation):
    organisation.second_factor_required = True
    organisation.save()
    return organisation


def virtual_authenticator(page):
    """A platform authenticator that keeps passkeys and verifies its user, like a laptop's
    fingerprint reader."""
    cdp = page.context.new_cdp_session(page)
    cdp.send("WebAuthn.enable")
    cdp.send(
        "WebAuthn.addVirtualAuthenticator",
        {
            "options": {
                "protocol": "ctap2",
                "transport": "internal",
                "hasResidentKey": True,
                "hasUserVerification": True,
                "isUserVerified": True,
            }
        },
    )
    return cdp


def confirm_password(page):
    """allauth asks for the password again before a second factor is added or removed."""
    expect(page.get_by_role("heading", name="Confirm Access")).to_be_visible()
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Confirm").click()


def sign_out(page):
    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("heading", name="Sign in to Sandpit")).to_be_visible()


def totp_code(secret: str) -> str:
    """The authenticator app's code now; waits for a fresh period when this one is ending,
    so the code is still good when the server reads it."""
    if 30 - time.time() % 30 < 4:
        time.sleep(30 - time.time() % 30 + 0.5)
    return format_hotp_value(hotp_value(secret, int(time.time()) // 30))


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("required")
def test_enrol_a_passkey_and_sign_in_with_it(new_page, live_server, coach):
    page = new_page()
    virtual_authenticator(page)
    sign_in(page, live_server.url, coach.username)
    # Sent to set up a second factor, not to the queue.
    expect(page.get_by_text(ASKED)).to_be_visible()
    page.goto(f"{live_server.url}{reverse('queue')}")
    expect(page.get_by_text(ASKED)).to_be_visible()

    page.goto(f"{live_server.url}{reverse('mfa_add_webauthn')}")
    confirm_password(page)
    page.get_by_label("Name").fill("Work laptop")
    page.get_by_label("Also use it to sign in without a password").check()
    page.locator("#mfa_webauthn_add").click()
    # allauth makes recovery codes with the first factor, and shows them.
    expect(page.locator("#recovery_codes")).to_be_visible()
    page.goto(f"{live_server.url}{reverse('queue')}")
    expect(page.get_by_role("heading", name="Approval queue")).to_be_visible()
    sign_out(page)

    # The passkey alone signs in (it is something you have and, verified, something you are).
    page.get_by_role("button", name="Sign in with a passkey").click()
    expect(page.get_by_role("heading", name="Approval queue")).to_be_visible()
    sign_out(page)

    # Or the password, then the passkey as the second step.
    sign_in(page, live_server.url, coach.username)
    page.get_by_role("button", name="Use your passkey").click()
    expect(page.get_by_role("heading", name="Approval queue")).to_be_visible()
    events = AuditEvent.objects.filter(actor=coach)
    added = events.get(action=AuditEvent.Action.SECOND_FACTOR_ADDED, detail__contains="passkey")
    assert "Work laptop" in added.detail
    assert events.filter(action=AuditEvent.Action.SIGNED_IN).count() == 3


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("required")
def test_enrol_an_authenticator_app_and_sign_in_with_it_or_a_recovery_code(
    new_page, live_server, coach
):
    page = new_page()
    sign_in(page, live_server.url, coach.username)
    expect(page.get_by_text(ASKED)).to_be_visible()
    page.goto(f"{live_server.url}{reverse('mfa_activate_totp')}")
    confirm_password(page)
    secret = page.locator("#authenticator_secret").input_value()
    assert len(secret) >= 16
    # A wrong code is refused with a message, and nothing is set up.
    page.get_by_label("Authenticator code").fill("000000")
    page.get_by_role("button", name="Activate").click()
    expect(page.locator(".nhsuk-error-message")).to_be_visible()
    page.get_by_label("Authenticator code").fill(totp_code(secret))
    page.get_by_role("button", name="Activate").click()
    codes = page.locator("#recovery_codes").input_value().split()
    assert len(codes) == 10
    page.goto(f"{live_server.url}{reverse('queue')}")
    expect(page.get_by_role("heading", name="Approval queue")).to_be_visible()
    sign_out(page)

    # Password, then the app's code.
    sign_in(page, live_server.url, coach.username)
    expect(page.get_by_role("heading", name="Approval queue")).not_to_be_visible()
    page.get_by_label("Code from your authenticator app").fill(totp_code(secret))
    page.get_by_role("button", name="Continue").click()
    expect(page.get_by_role("heading", name="Approval queue")).to_be_visible()
    sign_out(page)

    # Phone lost: a recovery code instead, once.
    sign_in(page, live_server.url, coach.username)
    page.get_by_label("Code from your authenticator app").fill(codes[0])
    page.get_by_role("button", name="Continue").click()
    expect(page.get_by_role("heading", name="Approval queue")).to_be_visible()
    sign_out(page)
    sign_in(page, live_server.url, coach.username)
    page.get_by_label("Code from your authenticator app").fill(codes[0])
    page.get_by_role("button", name="Continue").click()
    expect(page.locator(".nhsuk-error-message, .nhsuk-error-summary").first).to_be_visible()
    assert AuditEvent.objects.filter(actor=coach, action=AuditEvent.Action.SIGN_IN_FAILED).exists()
