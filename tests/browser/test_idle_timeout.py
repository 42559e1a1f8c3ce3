"""The idle timeout in Chromium: the warning comes before it, "Stay signed in" keeps the
session, and a page left alone (polling all the while) is signed out with a message. The
browser's clock (Playwright's) and the server's (time.time, in this process with the live
server) are moved on together."""

import time

import pytest
from django.conf import settings
from playwright.sync_api import expect

from tests.browser.people import sign_in

pytestmark = pytest.mark.browser

REAL_TIME = time.time
# The warning waits on the page's question to the server; a busy CI machine (two test
# processes, each with a browser) can take longer than Playwright's default 5 seconds.
ANSWERED = 20_000


@pytest.mark.django_db(transaction=True)
def test_warned_kept_and_then_signed_out(new_page, live_server, coach, monkeypatch):
    timeout = settings.IDLE_TIMEOUT_MINUTES * 60
    offset = 0.0

    def later(seconds):
        nonlocal offset
        offset += seconds
        monkeypatch.setattr(time, "time", lambda: REAL_TIME() + offset)
        page.clock.fast_forward(int(seconds * 1000))

    page = new_page()
    page.clock.install()
    sign_in(page, live_server.url, coach.username)
    expect(page.get_by_role("heading", name="Approval queue")).to_be_visible()
    warning = page.get_by_role("alertdialog", name="You will be signed out soon")
    expect(warning).to_be_hidden()

    # A minute and a half before the timeout, the warning is up, with the time left.
    later(timeout - 90)
    expect(warning).to_be_visible(timeout=ANSWERED)
    expect(warning).to_contain_text("signed out in")
    expect(page.get_by_role("button", name="Stay signed in")).to_be_focused()
    page.get_by_role("button", name="Stay signed in").click()
    expect(warning).to_be_hidden(timeout=ANSWERED)

    # Kept: the time started again. Now left alone, the queue polling every 15 seconds.
    later(timeout - 60)
    expect(page.get_by_role("heading", name="Approval queue")).to_be_visible()
    later(120)
    expect(page.get_by_role("heading", name="Sign in to Sandpit")).to_be_visible(timeout=ANSWERED)
    expect(page.get_by_text("You were signed out because Sandpit was not used for")).to_be_visible()
