"""sandbox/middleware.py: every response carries the strict Permissions-Policy (Chromium's
reading of it is in tests/browser/test_permissions_policy.py) and a Content-Security-Policy
with no inline code; a refused role check is a 403 with its message; a signed-in person's
pages are kept by no cache."""

import re

import pytest
from django.urls import reverse
from django.utils.html import escape

from sandbox.access import REVIEWER_ONLY
from sandbox.middleware import PERMISSIONS_POLICY
from tests.factories import signed_in

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


def test_a_refusal_is_logged_as_one_line_with_its_reason_and_no_traceback(client, trainee, caplog):
    signed_in(client, trainee)
    with caplog.at_level("WARNING", logger="django.request"):
        assert client.get(reverse("queue")).status_code == 403
    [record] = [r for r in caplog.records if r.name == "django.request"]
    assert record.getMessage() == f"Forbidden (Permission denied): /queue/: {REVIEWER_ONLY}"
    assert record.exc_info is None and not record.exc_text
    assert "Traceback" not in caplog.text


def test_an_error_keeps_its_traceback(client, coach, caplog, monkeypatch):
    from coaching.views import queue

    def broken(*args, **kwargs):
        raise RuntimeError("a real fault")

    monkeypatch.setattr(queue, "render", broken)
    client.raise_request_exception = False
    signed_in(client, coach)
    with caplog.at_level("ERROR", logger="django.request"):
        assert client.get(reverse("queue")).status_code == 500
    [record] = [r for r in caplog.records if r.name == "django.request"]
    assert record.exc_info and "a real fault" in str(record.exc_info[1])


@pytest.mark.parametrize("who", ["anonymous", "trainee"])
def test_head_is_answered_wherever_get_is(client, trainee, who):
    if who == "trainee":
        signed_in(client, trainee)
    # Every GET-only and GET-or-POST view takes HEAD too (require_safe, or HEAD listed).
    for path in ("/", "/timeline/", "/notifications/", "/accounts/login/"):
        head, get = client.head(path), client.get(path)
        assert head.status_code == get.status_code != 405, path
        assert head.content == b""
