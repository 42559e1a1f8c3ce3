"""Working the approval queue with the keyboard in Chromium: j/k move the selection,
which survives the live refresh; o opens the review; a opens it at the rubric, to score
before approving; the single-key shortcuts can be switched off, and stay off."""

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from tests.browser.people import score_the_rubric, sign_in
from tests.builders import submitted
from tests.factories import PASSWORD

pytestmark = pytest.mark.browser


@pytest.mark.django_db(transaction=True)
def test_work_the_queue_with_the_keyboard(new_page, live_server, trainee, coach, account):
    first = submitted(trainee, account, "First post in the queue")
    second = submitted(trainee, account, "Second post in the queue")
    page = new_page()
    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_label("Username or email address").fill(coach.username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in", exact=True).click()
    expect(page.get_by_role("heading", name="Approval queue")).to_be_visible()
    page.get_by_text("Keyboard shortcuts").click()
    expect(page.get_by_text("select the next post")).to_be_visible()

    rows = page.locator("[data-queue-row]")
    page.keyboard.press("j")
    expect(rows.nth(0)).to_have_attribute("aria-current", "true")
    expect(page.get_by_role("link", name="First post in the queue")).to_be_focused()
    expect(page.locator("#queue-announce")).to_contain_text("Post 1 of 2 selected")
    page.keyboard.press("j")
    expect(rows.nth(1)).to_have_attribute("aria-current", "true")
    expect(rows.nth(0)).not_to_have_attribute("aria-current", "true")
    page.keyboard.press("k")
    page.keyboard.press("j")
    expect(page.get_by_role("link", name="Second post in the queue")).to_be_focused()

    # A live refresh (as after another coach's decision) keeps the selection and focus.
    page.evaluate("htmx.trigger(document.body, 'queueChanged')")
    page.wait_for_load_state("networkidle")
    expect(page.locator(f"[data-draft-id='{second.pk}']")).to_have_attribute("aria-current", "true")
    expect(page.get_by_role("link", name="Second post in the queue")).to_be_focused()

    # Typing in a filter box is not a shortcut: "a" (approve) is a letter of the search.
    search = page.get_by_label("Trainee")
    search.focus()
    page.keyboard.press("a")
    expect(search).to_have_value("a")
    assert "/review/" not in page.url
    search.fill("")
    page.wait_for_load_state("networkidle")

    page.get_by_role("link", name="Second post in the queue").focus()
    page.keyboard.press("o")
    page.wait_for_url(f"**{reverse('review', args=[second.pk])}")
    expect(page.get_by_role("heading", name="Review a post by Tara")).to_be_visible()

    page.go_back()
    page.get_by_role("link", name="First post in the queue").focus()
    page.keyboard.press("a")
    page.wait_for_url(
        lambda url: url.endswith(f"{reverse('review', args=[first.pk])}?decision=approve")
    )
    # Focus is at the start of the rubric, with the hint; scored, Approve works.
    expect(page.get_by_role("heading", name="Score the post")).to_be_focused()
    expect(page.get_by_text("Score the post, then press Approve.")).to_be_visible()
    score_the_rubric(page, 1)
    page.get_by_role("button", name="Approve").click()
    expect(page.get_by_text("Approved. The post is queued for publication.")).to_be_visible()


@pytest.mark.django_db(transaction=True)
def test_the_single_key_shortcuts_can_be_switched_off(
    new_page, live_server, trainee, coach, account
):
    submitted(trainee, account, "First post in the queue")
    submitted(trainee, account, "Second post in the queue")
    page = new_page()
    sign_in(page, live_server.url, coach.username)
    switch = page.get_by_role("switch", name="Use single-key shortcuts (j, k, o, a, r)")
    expect(switch).to_be_checked()  # on by default
    switch.uncheck()
    page.locator("body").click(position={"x": 5, "y": 5})  # focus away from the switch
    page.keyboard.press("j")
    expect(page.locator("[data-queue-row][aria-current]")).to_have_count(0)

    # Remembered on this browser: still off after a reload, and the filters still work.
    page.reload()
    expect(switch).not_to_be_checked()
    page.locator("body").click(position={"x": 5, "y": 5})
    page.keyboard.press("j")
    expect(page.locator("[data-queue-row][aria-current]")).to_have_count(0)

    switch.check()
    page.locator("body").click(position={"x": 5, "y": 5})
    page.keyboard.press("j")
    expect(page.locator("[data-queue-row]").first).to_have_attribute("aria-current", "true")
    # Keys with Alt held are never shortcuts.
    page.keyboard.press("Alt+j")
    expect(page.locator("[data-queue-row]").first).to_have_attribute("aria-current", "true")
    page.keyboard.press("j")
    expect(page.locator("[data-queue-row]").nth(1)).to_have_attribute("aria-current", "true")
