"""The whole coached loop in Chromium: the trainee drafts and submits, the coach asks
for changes, the trainee revises, the coach approves, a real Celery worker publishes,
and the post is live on the X API double's public page."""

import pytest
from playwright.sync_api import expect

from tests.browser.people import score_the_rubric, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.worker]


def test_the_whole_coached_loop(
    new_page, live_server, celery_worker, x_double, trainee, coach, account
):
    trainee_page = new_page()
    coach_page = new_page()

    # The trainee drafts; the count updates as they type, with no round trip.
    sign_in(trainee_page, live_server.url, trainee.username)
    expect(trainee_page.get_by_role("heading", name="My timeline")).to_be_visible()
    box = trainee_page.get_by_label("What do you want to post?")
    box.fill("Flu clinic opens Monday https://example.org/flu")
    expect(trainee_page.locator("[data-count-text]").first).to_contain_text("47 of 280")
    trainee_page.get_by_role("button", name="Send to my coach").click()
    expect(trainee_page.get_by_text("Waiting for review").first).to_be_visible()
    draft_url = trainee_page.url

    # The coach asks for changes from the queue.
    sign_in(coach_page, live_server.url, coach.username)
    expect(coach_page.get_by_role("heading", name="Approval queue")).to_be_visible()
    coach_page.get_by_role("link", name="Flu clinic opens Monday").click()
    coach_page.get_by_label("Feedback for the trainee").fill("Say which ward, please.")
    score_the_rubric(coach_page)
    coach_page.get_by_role("button", name="Request changes").click()
    expect(coach_page.get_by_text("Sent back to the trainee with your feedback.")).to_be_visible()

    # The trainee sees the note against their revision, revises and resubmits.
    trainee_page.goto(draft_url)
    expect(trainee_page.get_by_text("Say which ward, please.")).to_be_visible()
    edit_box = trainee_page.get_by_label("What do you want to post?")
    edit_box.fill("Flu clinic on Ward 4 opens Monday https://example.org/flu")
    trainee_page.get_by_role("button", name="Save and send to my coach").click()
    expect(trainee_page.get_by_text("Sent to your coach for review.")).to_be_visible()

    # The coach approves; the page follows the publication until it is live.
    coach_page.goto(f"{live_server.url}/queue/")
    coach_page.get_by_role("link", name="Flu clinic on Ward 4").click()
    score_the_rubric(coach_page)
    coach_page.get_by_role("button", name="Approve").click()
    expect(coach_page.get_by_text("Approved. The post is queued for publication.")).to_be_visible()
    live_link = coach_page.get_by_role("link", name="See the live post")
    expect(live_link).to_be_visible(timeout=30_000)

    # The trainee sees it live too.
    trainee_page.goto(draft_url)
    expect(trainee_page.get_by_text("Live").first).to_be_visible()

    # And it is on the account's public page at the double.
    live_link.click()
    expect(coach_page.get_by_text("Flu clinic on Ward 4 opens Monday")).to_be_visible()
    [post] = x_double.posts_for(account.handle)
    assert post.text == "Flu clinic on Ward 4 opens Monday https://example.org/flu"


def test_text_typed_before_a_closed_tab_is_offered_back(new_page, live_server, trainee, account):
    page = new_page()
    sign_in(page, live_server.url, trainee.username)
    box = page.get_by_label("What do you want to post?")
    box.fill("A careful post I was halfway through")
    page.goto(f"{live_server.url}/timeline/")  # the tab closes without saving; back again
    expect(page.get_by_text("You have unsent text from earlier")).to_be_visible()
    page.get_by_role("button", name="Put my text back").click()
    expect(box).to_have_value("A careful post I was halfway through")

    page.get_by_role("button", name="Save as draft").click()
    expect(page.get_by_text("Saved to your timeline.")).to_be_visible()
    page.goto(f"{live_server.url}/timeline/")
    expect(page.get_by_text("You have unsent text from earlier")).to_have_count(0)
