"""Approving several clean posts from the queue in Chromium: the ticks survive the live
refresh, the scores apply to each, and the page says what became of every post; with
htmx the page's main is swapped and focus goes to that report."""

import pytest
from playwright.sync_api import expect

from sandbox import services
from sandbox.models import Draft
from tests.browser.people import score_the_rubric, sign_in
from tests.builders import submitted

pytestmark = pytest.mark.browser


@pytest.mark.django_db(transaction=True)
def test_approve_ticked_posts_from_the_queue(
    new_page, live_server, trainee, other_trainee, coach, account
):
    first = submitted(trainee, account, "Flu clinic opens Monday")
    second = submitted(other_trainee, account, "Ward 4 is open again")
    submitted(trainee, account, "Damn, the clinic is shut")
    page = new_page()
    sign_in(page, live_server.url, coach.username)
    page.goto(f"{live_server.url}/queue/?scope=all")
    boxes = page.locator('[data-queue-row] input[name="approve"]')
    expect(boxes).to_have_count(2)  # the post with a finding has none
    page.get_by_label("Approve “Flu clinic opens Monday” by Tara with the others ticked").check()
    page.get_by_label("Approve “Ward 4 is open again” by Otto with the others ticked").check()

    # A live refresh keeps the ticks; the trainee revising one makes its box a new one.
    services.draft_edit(draft=second, by=other_trainee, text="Ward 4 is open again today")
    page.evaluate("htmx.trigger(document.body, 'queueChanged')")
    page.wait_for_load_state("networkidle")
    expect(page.get_by_role("link", name="Ward 4 is open again today")).to_be_visible()
    first_box = page.locator(f'input[value="{first.pk}:{first.current_revision_id}"]')
    expect(first_box).to_be_checked()
    second.refresh_from_db()  # ticked for the words the coach read, not the new ones
    expect(
        page.locator(f'input[value="{second.pk}:{second.current_revision_id}"]')
    ).not_to_be_checked()

    # Without scores nothing is approved, and the ticks stay.
    page.get_by_role("button", name="Approve the ticked posts").click()
    summary = page.locator(".nhsuk-error-summary")
    expect(summary).to_contain_text("Score the post for safe, person-centred and effective")
    expect(summary).to_be_focused()
    expect(first_box).to_be_checked()

    score_the_rubric(page, 4)
    page.get_by_role("button", name="Approve the ticked posts").click()
    report = page.locator(".sp-messages")
    expect(report).to_contain_text("“Flu clinic opens Monday” by Tara: Approved")
    expect(report).to_be_focused()
    first.refresh_from_db()
    second.refresh_from_db()
    assert first.status == Draft.Status.APPROVED
    assert second.status == Draft.Status.SUBMITTED
    expect(page.get_by_role("link", name="Ward 4 is open again today")).to_be_visible()
    expect(page.get_by_role("link", name="Flu clinic opens Monday")).to_have_count(0)


@pytest.mark.django_db(transaction=True)
def test_approve_ticked_posts_without_javascript(
    new_page, live_server, trainee, other_trainee, coach, account
):
    first = submitted(trainee, account, "Flu clinic opens Monday")
    page = new_page(java_script_enabled=False)
    sign_in(page, live_server.url, coach.username)
    page.goto(f"{live_server.url}/queue/?scope=all")
    page.get_by_label("Approve “Flu clinic opens Monday” by Tara with the others ticked").check()
    score_the_rubric(page, 3)
    page.get_by_role("button", name="Approve the ticked posts").click()
    expect(page.locator(".sp-messages")).to_contain_text("Approved: it is queued for publication")
    assert page.url.endswith("/queue/?scope=all")
    first.refresh_from_db()
    assert first.status == Draft.Status.APPROVED
