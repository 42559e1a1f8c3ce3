"""The inbox in Chromium: a coach filters the list (htmx swaps it and keeps the address),
gives a post to a trainee and marks another done; and the inbox and an account's cover
page have no serious or critical axe violations and fit a phone's 390 px and a desk's
1,280 px."""

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone
from playwright.sync_api import expect

from coaching.models import AccountCover, InboxItem
from tests.browser.people import sign_in
from tests.browser.test_accessibility import violations
from tests.factories import InboxItemFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def inbox_of(account, trainee):
    now = timezone.now()
    mention = InboxItemFactory(
        account=account,
        author_handle="amara",
        author_name="Amara Okafor",
        text="@TestBoard is the walk-in centre open on Sunday?",
        posted_at=now - dt.timedelta(minutes=5),
    )
    reply = InboxItemFactory(
        account=account,
        kind=InboxItem.Kind.REPLY,
        author_handle="worried_son",
        author_name="Dev Patel",
        text="My dad, NHS no 999 200 2972, waited 6 hours at A&E",
        risks=[{"code": "patient-identifier", "message": "It has what looks like an NHS number."}],
        posted_at=now - dt.timedelta(minutes=2),
    )
    gone = InboxItemFactory(
        account=account,
        author_handle="gone_user",
        text="Deleted later",
        gone_at=now,
        assigned_to=trainee,
    )
    return mention, reply, gone


def test_a_coach_filters_gives_a_post_to_a_trainee_and_marks_one_done(
    new_page, live_server, coach, trainee, account
):
    mention, reply, _ = inbox_of(account, trainee)
    page = new_page(viewport={"width": 1280, "height": 900})  # the real CSP
    sign_in(page, live_server.url, coach.username)
    page.goto(f"{live_server.url}{reverse('inbox')}")
    expect(page.locator(".sp-inbox-item")).to_have_count(3)

    # Filtering swaps the list in place (htmx) and puts the filter in the address.
    page.get_by_label("Kind").select_option("reply")
    expect(page.locator(".sp-inbox-item")).to_have_count(1)
    expect(page.locator(f"#inbox-item-{reply.pk}")).to_contain_text(
        "Contains what looks like a patient's details: do not quote it."
    )
    expect(page).to_have_url(
        f"{live_server.url}{reverse('inbox')}?account=&state=open&assigned=&kind=reply"
    )

    # Give the reply to the trainee: back on the same filtered list, with a message.
    row = page.locator(f"#inbox-item-{reply.pk}")
    row.get_by_label("Give to").select_option(label="Tara")
    row.get_by_role("button", name="Give @worried_son's post").click()
    expect(page.locator(".sp-messages")).to_contain_text("@worried_son's post is now with Tara.")
    expect(page.locator(f"#inbox-item-{reply.pk}")).to_contain_text("With Tara")
    expect(page.locator(".sp-inbox-item")).to_have_count(1)
    assert InboxItem.objects.get(pk=reply.pk).assigned_to == trainee

    # Mark the mention done: it leaves the list of posts needing an answer.
    page.goto(f"{live_server.url}{reverse('inbox')}")
    page.locator(f"#inbox-item-{mention.pk}").get_by_role("button", name="Mark done").click()
    expect(page.locator(".sp-messages")).to_contain_text("Marked done: @amara's post.")
    expect(page.locator(f"#inbox-item-{mention.pk}")).to_have_count(0)
    assert InboxItem.objects.get(pk=mention.pk).state == InboxItem.State.DONE

    # The done filter finds it again, with who closed it.
    page.get_by_label("State").select_option("done")
    expect(page.locator(f"#inbox-item-{mention.pk}")).to_contain_text("Done by Cora")


@pytest.mark.parametrize("width", [1280, 390], ids=["desktop", "phone"])
def test_the_inbox_and_cover_pages_are_accessible_and_fit(
    new_page, live_server, coach, trainee, admin, account, width
):
    _, reply, _ = inbox_of(account, trainee)
    account.owner = admin
    account.save()
    today = timezone.localdate()
    AccountCover.objects.create(
        account=account,
        person=coach,
        starts_on=today,
        ends_on=today + dt.timedelta(days=3),
        handover_note="Watch the A&E waiting times thread.",
    )
    page = new_page(bypass_csp=True, viewport={"width": width, "height": 900})
    sign_in(page, live_server.url, coach.username)
    problems, too_wide = {}, {}
    urls = [
        reverse("inbox"),
        reverse("inbox") + "?state=any",
        reverse("inbox_item", args=[reply.pk]),
        reverse("account_cover", args=[account.pk]),
    ]
    for url in urls:
        page.goto(f"{live_server.url}{url}")
        page.wait_for_load_state("networkidle")
        expect(page.locator(".sp-covering")).to_contain_text("Cora is covering until")
        if found := violations(page):
            problems[url] = [f"{v['id']}: {v['help']} ({len(v['nodes'])}x)" for v in found]
        scroll_width = page.evaluate("document.documentElement.scrollWidth")
        if scroll_width > width:
            too_wide[url] = scroll_width
    assert problems == {}
    assert too_wide == {}
