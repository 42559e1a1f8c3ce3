"""Every response carries the strict Permissions-Policy, and Chromium reads it as meant."""

import os
import shutil

import pytest

from sandbox.middleware import PERMISSIONS_POLICY

CHROMIUM = os.environ.get("SANDPIT_CHROMIUM", "/usr/bin/chromium")


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
