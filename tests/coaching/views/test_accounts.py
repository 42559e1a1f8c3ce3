"""The accounts page (coaching/views/accounts.py). Connecting and its refusals are in
tests/coaching/services/test_accounts.py."""

import pytest
from django.urls import reverse

from tests.factories import signed_in

pytestmark = pytest.mark.django_db


def form_action(response) -> str:
    policy = response["Content-Security-Policy"]
    return next(part for part in policy.split(";") if "form-action" in part).strip()


def test_connect_with_x_may_lead_to_xs_consent_page(client, admin, settings):
    # The button posts to Sandpit, which redirects to X; browsers apply form-action to
    # that redirect, so the page must name X's origin or the admin is stopped there.
    settings.X_AUTHORIZE_URL = "https://x.example.test/i/oauth2/authorize"
    signed_in(client, admin)

    assert form_action(client.get(reverse("accounts"))) == (
        "form-action 'self' https://x.example.test"
    )
    assert form_action(client.get(reverse("queue"))) == "form-action 'self'"
