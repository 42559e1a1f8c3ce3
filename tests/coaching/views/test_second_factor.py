"""The lost-device path: an admin removes a person's second factors, audited, and the
person is signed out everywhere."""

import pytest
from allauth.mfa.models import Authenticator
from allauth.mfa.totp.internal.auth import (
    TOTP,
    format_hotp_value,
    generate_totp_secret,
    hotp_value,
    yield_hotp_counters_from_time,
)
from django.test import Client
from django.urls import reverse

from coaching.models import AuditEvent
from tests.factories import PASSWORD, signed_in

pytestmark = pytest.mark.django_db


@pytest.mark.usefixtures("clear_sign_in_throttle")
def test_an_admin_resets_a_coachs_lost_device(client, admin, coach, organisation):
    secret = generate_totp_secret()
    TOTP.activate(coach, secret)
    # The coach is signed in somewhere, with password and app code (through the sign-in
    # pages, so allauth knows the session).
    elsewhere = Client()
    elsewhere.post(reverse("account_login"), {"login": "cora", "password": PASSWORD})
    code = format_hotp_value(hotp_value(secret, next(yield_hotp_counters_from_time())))
    elsewhere.post(reverse("mfa_authenticate"), {"code": code})
    assert elsewhere.get(reverse("account_security")).status_code == 200

    page = signed_in(client, admin).get(reverse("second_factors"))
    assert b"Remove second factors" in page.content
    response = client.post(
        reverse("second_factors_reset", args=[coach.memberships.get().pk]), follow=True
    )
    assert "second factors are removed and they are signed out everywhere" in (
        response.content.decode().replace("&#x27;", "'")
    )
    assert not Authenticator.objects.filter(user=coach).exists()
    assert elsewhere.get(reverse("account_security")).status_code == 302
    event = AuditEvent.objects.get(action=AuditEvent.Action.SECOND_FACTORS_RESET)
    assert event.actor == admin and event.organisation == organisation
    assert "Cora" in event.detail
    # In the audit log and its CSV export.
    assert b"Second factors reset by an admin" in client.get(reverse("audit_log")).content
    export = client.get(reverse("audit_log_export"))
    assert b"Second factors reset by an admin" in export.content


def test_a_person_without_a_second_factor_has_nothing_to_reset(client, admin, trainee):
    page = signed_in(client, admin).get(reverse("second_factors"))
    assert b"Remove second factors" not in page.content
    response = client.post(
        reverse("second_factors_reset", args=[trainee.memberships.get().pk]), follow=True
    )
    assert b"had no second factor to remove" in response.content
