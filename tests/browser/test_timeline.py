"""The private timeline in Chromium: live risk hints while typing, a thread composed in the
browser, a practice post whose simulated reactions arrive without a reload (from a real
Celery worker), and a scenario a coach starts for the trainee."""

import datetime as dt

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from sandbox.models import TimelineItem
from tests.browser.people import sign_in

pytestmark = [pytest.mark.browser, pytest.mark.worker]


def test_practise_a_thread_and_watch_the_reactions_arrive(
    new_page, live_server, celery_worker, trainee, account
):
    page = new_page()
    sign_in(page, live_server.url, trainee.username)

    first = page.get_by_label("What do you want to post?")
    first.fill("£1 for every retweet this gets goes to the hospital charity!")
    # Live hints arrive while typing (debounced htmx), highlighted and explained.
    expect(page.locator(".sp-finding--block").first).to_be_visible()
    expect(page.get_by_text("Engagement pledge").first).to_be_visible()

    page.get_by_role("button", name="Add another post to make a thread").click()
    expect(first).to_have_value("£1 for every retweet this gets goes to the hospital charity!")
    page.get_by_label("Post 2 of the thread").fill("Thanks to everyone who supports Ward 4.")
    page.get_by_role("button", name="Practise it here").click()
    expect(page.get_by_text("Posted to your practice timeline")).to_be_visible()

    post = TimelineItem.objects.get(owner=trainee, parent=None)
    assert post.children.get(persona="").text == "Thanks to everyone who supports Ward 4."
    # Wait for the worker's audience, then bring the reactions' time forward: the feed
    # polls, so they must show up without a reload.
    for _ in range(150):
        post.refresh_from_db()
        if post.audience:
            break
        page.wait_for_timeout(100)
    reactions = post.children.exclude(persona="")
    assert post.audience and reactions.exists(), "the worker did not simulate the audience"
    reactions.update(appear_at=timezone.now())
    TimelineItem.objects.filter(pk=post.pk).update(
        appear_at=timezone.now() - dt.timedelta(minutes=30)
    )
    expect(page.locator(".sp-post__counts").first).to_contain_text("K", timeout=20_000)
    page.get_by_role("link", name="Open conversation").first.click()
    expect(page.locator("#replies .sp-post").first).to_be_visible()


def test_a_coach_starts_a_scenario_and_it_lands_in_the_trainees_timeline(
    new_page, live_server, celery_worker, trainee, coach, account
):
    coach_page = new_page()
    sign_in(coach_page, live_server.url, coach.username)
    coach_page.get_by_role("link", name="Scenarios").click()
    coach_page.get_by_role("button", name="Add to our scenarios").first.click()
    coach_page.get_by_role("button", name="Start scenario").first.click()
    expect(coach_page.get_by_role("heading", name="timeline")).to_be_visible()

    page = new_page()
    sign_in(page, live_server.url, trainee.username)
    first = TimelineItem.objects.filter(owner=trainee).order_by("appear_at").first()
    assert first is not None and first.scenario_run_id
    expect(page.get_by_text(first.text[:40])).to_be_visible()
    expect(page.locator(".nhsuk-tag--purple", has_text="Scenario").first).to_be_visible()
