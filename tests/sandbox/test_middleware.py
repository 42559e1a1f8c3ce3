"""sandbox/middleware.py: every response carries the strict Permissions-Policy (and Chromium
reads it as meant) and a Content-Security-Policy with no inline code; a refused role check
is a 403 with its message; a signed-in person's pages are kept by no cache."""

import os
import re
import shutil

import pytest
from django.urls import reverse
from django.utils.html import escape

from sandbox.access import REVIEWER_ONLY
from sandbox.middleware import PERMISSIONS_POLICY
from tests.factories import signed_in

CHROMIUM = os.environ.get("SANDPIT_CHROMIUM", "/usr/bin/chromium")


# Permissions-Policy -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "status"),
    [
        ("/accounts/login/", 200),  # a page
        ("/health/live/", 200),  # JSON
        ("/no-such-page/", 404),
        ("/", 302),  # to sign in
    ],
)
def test_every_response_carries_the_permissions_policy(client, db, path, status):
    response = client.get(path)
    assert response.status_code == status
    assert response.headers["Permissions-Policy"] == PERMISSIONS_POLICY


def test_the_policy_denies_powerful_features_and_keeps_passkeys_for_ourselves():
    directives = dict(item.split("=", 1) for item in PERMISSIONS_POLICY.split(", "))
    for feature in ("camera", "microphone", "geolocation", "payment", "usb", "browsing-topics"):
        assert directives[feature] == "()"
    assert directives["publickey-credentials-get"] == "(self)"
    assert directives["publickey-credentials-create"] == "(self)"
    assert set(directives.values()) == {"()", "(self)"}
    assert "interest-cohort" not in directives  # obsolete; browsing-topics replaced it


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_chromium_applies_the_policy_and_knows_every_feature_it_names(live_server):
    """A misspelt or unknown feature is only a console warning, and silently denies nothing:
    so load a real page and ask the browser what it allows."""
    if not shutil.which(CHROMIUM) and not os.path.exists(CHROMIUM):
        pytest.fail(
            f"Chromium not found at {CHROMIUM}. Install it with: "
            "apt-get update && apt-get install -y chromium"
        )
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"]
        )
        try:
            page = browser.new_page()
            messages: list[str] = []
            page.on("console", lambda message: messages.append(message.text))
            page.goto(f"{live_server.url}/accounts/login/")
            allowed = page.evaluate(
                "features => features.map(f => document.featurePolicy.allowsFeature(f))",
                ["camera", "microphone", "geolocation", "payment", "usb", "fullscreen"],
            )
            passkeys = page.evaluate(
                "() => ['publickey-credentials-get', 'publickey-credentials-create']"
                ".map(f => document.featurePolicy.allowsFeature(f))"
            )
        finally:
            browser.close()
    assert [m for m in messages if "Permissions-Policy" in m] == []
    assert allowed == [False] * 6
    assert passkeys == [True, True]


# Private pages and refused role checks ----------------------------------------------------


@pytest.mark.django_db
def test_a_signed_in_persons_pages_are_not_kept_by_any_cache(client, trainee):
    response = signed_in(client, trainee).get(reverse("timeline"))
    assert response.status_code == 200
    assert response["Cache-Control"] == "private, no-store"


@pytest.mark.django_db
def test_a_refused_role_check_is_a_403_with_its_message(client, trainee):
    response = signed_in(client, trainee).get(reverse("queue"))
    assert response.status_code == 403
    assert escape(REVIEWER_ONLY) in response.content.decode()


# Content-Security-Policy: no inline code ---------------------------------------------------


@pytest.mark.django_db
def test_pages_send_a_strict_csp_and_have_no_inline_script_or_style(as_trainee, submitted):
    response = as_trainee.get(reverse("draft_detail", args=[submitted.pk]))
    csp = response["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp
    body = response.content.decode()
    assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", body)
    assert "<style" not in body and " style=" not in body
