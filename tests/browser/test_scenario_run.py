"""Running a scenario in Chromium, end to end: a coach writes a scenario and starts it for
a cohort; its first post arrives in the trainee's open timeline without a reload; the
trainee drafts a response for the coach; the coach approves it; the trainee sees it in the
practice timeline, marked practice-only (nothing reaches the X double); the coach opens
the debrief."""

import pytest
from playwright.sync_api import expect

from coaching.models import Publication
from sandbox.models import Cohort, Draft, Membership, TimelineItem
from tests.browser.people import score_the_rubric, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.worker]

INJECT = "The flu clinic is using out-of-date vaccines. Don't take your kids!"
ANSWER = "The vaccines at Saturday's clinic are in date and safe. Details: nhs.uk/flu"


def test_a_coach_runs_a_scenario_for_a_cohort_and_debriefs_the_response(
    new_page, live_server, celery_worker, x_double, trainee, coach, organisation, account
):
    ward = Cohort.objects.create(organisation=organisation, name="Ward 4")
    Membership.objects.filter(user=trainee).update(cohort=ward)

    # The trainee is already looking at their timeline.
    page = new_page()
    sign_in(page, live_server.url, trainee.username)
    expect(page.get_by_role("heading", name="My timeline")).to_be_visible()

    coach_page = new_page()
    sign_in(coach_page, live_server.url, coach.username)
    coach_page.get_by_role("link", name="Scenarios").click()
    coach_page.get_by_label("Title").fill("Rumour drill")
    coach_page.get_by_label("Timeline items, one a line").fill(
        f"0 | wake-up-kelderby | {INJECT}\n20 | amara-okafor | reply: Is this true??"
    )
    coach_page.get_by_role("button", name="Save scenario").click()
    coach_page.get_by_label("Or start it for everyone in a cohort").select_option(
        label="Ward 4 (1 trainee)"
    )
    coach_page.get_by_role("button", name="Start for the cohort").click()
    expect(
        coach_page.get_by_text("Started “Rumour drill” for 1 trainee in Ward 4.")
    ).to_be_visible()

    # The first post arrives in the open timeline by itself (the feed polls).
    inject = page.locator(".sp-post", has_text=INJECT)
    expect(inject).to_be_visible(timeout=25_000)
    expect(inject.locator(".nhsuk-tag--purple", has_text="Scenario")).to_be_visible()
    inject.get_by_role("link", name="Open conversation").click()

    page.get_by_label("Reply to it").check()
    page.get_by_label("Your answer").fill(ANSWER)
    page.get_by_role("button", name="Send to my coach").click()
    expect(page.get_by_text("Sent to your coach for review.")).to_be_visible()
    expect(page.get_by_role("heading", name="A reply to this post")).to_be_visible()
    draft = Draft.objects.get(author=trainee)
    assert draft.in_reply_to is not None and draft.in_reply_to.text == INJECT

    coach_page.goto(f"{live_server.url}/review/{draft.pk}/")
    expect(coach_page.get_by_role("heading", name="A reply to this post")).to_be_visible()
    expect(coach_page.get_by_text("Wake Up Kelderby").first).to_be_visible()
    coach_page.get_by_label("Feedback for the trainee").fill("Calm, and it says where to check.")
    score_the_rubric(coach_page)
    coach_page.get_by_role("button", name="Approve", exact=True).click()
    expect(coach_page.locator(".sp-message--success")).to_contain_text(
        "posted in the trainee's practice timeline only"
    )

    page.reload()
    expect(page.get_by_text("Approved — posted in your practice timeline only")).to_be_visible()
    page.get_by_role("link", name="See it in the practice timeline").click()
    reply = page.locator("#replies .sp-post", has_text="are in date and safe")
    expect(reply).to_be_visible()
    expect(reply.get_by_text("Approved by your coach, practice only")).to_be_visible()
    expect(reply.get_by_text("Replying to @WakeUpKelderby")).to_be_visible()
    page.get_by_role("link", name="Back to the timeline").click()
    expect(
        page.locator(".sp-post", has_text="are in date and safe").get_by_text(
            "Approved, practice only"
        )
    ).to_be_visible()
    assert TimelineItem.objects.filter(draft=draft, owner=trainee).count() == 1
    assert not Publication.objects.exists()
    assert x_double.posts_for(account.handle) == []

    coach_page.goto(f"{live_server.url}/scenarios/")
    coach_page.get_by_role("link", name="Debrief Rumour drill").click()
    expect(coach_page.get_by_role("heading", name="Debrief: Rumour drill")).to_be_visible()
    rows = coach_page.locator(".sp-debrief tbody tr")
    expect(rows.nth(0)).to_contain_text(INJECT)
    expect(rows.nth(0)).to_contain_text("0:00")
    response_row = coach_page.locator(".sp-debrief tr", has_text="are in date and safe")
    expect(response_row).to_contain_text("Approved")
    expect(response_row).to_contain_text("Calm, and it says where to check.")
    expect(response_row).to_contain_text("Replying to @WakeUpKelderby (0:00)")
