"""In Chromium: the trainee asks on the draft page and the coach answers on the review
page, each in place (htmx), and a refused comment keeps its words."""

import pytest
from playwright.sync_api import expect

from tests import builders
from tests.browser.test_accessibility import signed_in, violations

pytestmark = pytest.mark.browser


@pytest.mark.django_db(transaction=True)
def test_a_trainee_and_their_coach_talk_about_a_draft(
    new_page, live_server, trainee, coach, account
):
    draft = builders.submitted(trainee, account)
    page = signed_in(new_page, live_server, trainee)
    page.goto(f"{live_server.url}/drafts/{draft.pk}/")
    page.evaluate("window.notReloaded = true")
    thread = page.get_by_role("region", name="Comments")
    thread.get_by_label("Add a comment").fill("Is 9 to 5 right for Saturdays too?")
    thread.get_by_role("button", name="Send comment").click()
    expect(page.get_by_role("region", name="Comments (1)")).to_contain_text(
        "Is 9 to 5 right for Saturdays too?"
    )
    assert page.evaluate("window.notReloaded === true")  # swapped in place
    assert violations(page) == []

    review = signed_in(new_page, live_server, coach)
    review.goto(f"{live_server.url}/review/{draft.pk}/")
    thread = review.get_by_role("region", name="Comments (1)")
    expect(thread).to_contain_text("Is 9 to 5 right for Saturdays too?")
    too_long = "Saturdays are 10 to 2. " * 100
    thread.get_by_label("Add a comment").fill(too_long)
    thread.get_by_role("button", name="Send comment").click()
    expect(review.get_by_text("A comment can be up to 2000 characters")).to_be_visible()
    expect(review.get_by_label("Add a comment")).to_have_value(too_long)
    review.get_by_label("Add a comment").fill("Saturdays are 10 to 2.")
    review.get_by_role("button", name="Send comment").click()
    expect(review.get_by_role("region", name="Comments (2)")).to_contain_text(
        "Saturdays are 10 to 2."
    )
    assert violations(review) == []


@pytest.mark.django_db(transaction=True)
def test_without_javascript_a_comment_still_goes(new_page, live_server, trainee, account):
    draft = builders.submitted(trainee, account)
    page = new_page(java_script_enabled=False)
    from tests.browser.people import sign_in

    sign_in(page, live_server.url, trainee.username)
    page.goto(f"{live_server.url}/drafts/{draft.pk}/")
    page.get_by_label("Add a comment").fill("Sent without JavaScript")
    page.get_by_role("button", name="Send comment").click()
    expect(page).to_have_url(f"{live_server.url}/drafts/{draft.pk}/#comments")
    expect(page.get_by_role("region", name="Comments (1)")).to_contain_text(
        "Sent without JavaScript"
    )
