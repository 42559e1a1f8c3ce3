"""Chromium reads sandbox/middleware.py's Permissions-Policy as meant. (The header itself is
checked in tests/sandbox/test_middleware.py.)"""

import pytest

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_chromium_applies_the_policy_and_knows_every_feature_it_names(live_server, page):
    """A misspelt or unknown feature is only a console warning, and silently denies nothing:
    so load a real page and ask the browser what it allows."""
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
    assert [m for m in messages if "Permissions-Policy" in m] == []
    assert allowed == [False] * 6
    assert passkeys == [True, True]
