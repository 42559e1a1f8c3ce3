"""An account's calendar in Chromium at desktop and phone widths: no serious or critical
axe violations, nothing wider than the screen, today marked, and the periods reached by
keyboard alone."""

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone
from playwright.sync_api import expect

from coaching.models import Publication
from tests.browser.people import sign_in
from tests.browser.test_accessibility import violations
from tests.builders import approved

pytestmark = pytest.mark.browser


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("width", [1280, 390], ids=["desktop", "phone"])
def test_the_calendar_is_accessible_fits_and_works_by_keyboard(
    new_page, live_server, trainee, coach, account, width
):
    today = timezone.localdate()
    zone = timezone.get_current_timezone()
    live = approved(trainee, coach, account, "Flu clinic opens Monday at the health centre")
    Publication.objects.filter(pk=live.pk).update(
        status=Publication.Status.PUBLISHED,
        published_at=dt.datetime.combine(today, dt.time(9, 30), tzinfo=zone),
    )
    planned = approved(trainee, coach, account, "Ward 4 visiting hours change next week")
    Publication.objects.filter(pk=planned.pk).update(
        publish_at=dt.datetime.combine(today + dt.timedelta(days=2), dt.time(14), tzinfo=zone)
    )
    url = reverse("account_calendar", args=[account.pk])
    page = new_page(bypass_csp=True, viewport={"width": width, "height": 900})
    sign_in(page, live_server.url, coach.username)
    problems, too_wide = {}, {}
    for view in ("week", "month"):
        page.goto(f"{live_server.url}{url}?view={view}")
        page.wait_for_load_state("networkidle")
        expect(page.locator("td[aria-current=date]")).to_contain_text("Today")
        expect(page.get_by_role("link", name="09:30 Flu clinic opens Monday")).to_be_visible()
        if found := violations(page):
            problems[view] = [f"{v['id']}: {v['help']} ({len(v['nodes'])}x)" for v in found]
        scroll_width = page.evaluate("document.documentElement.scrollWidth")
        if scroll_width > width:
            too_wide[view] = scroll_width
    assert problems == {}
    assert too_wide == {}

    # By keyboard: Tab to "Next month", follow it, and come back.
    next_link = page.get_by_role("link", name="Next month")
    for _ in range(60):
        page.keyboard.press("Tab")
        if next_link.evaluate("link => link === document.activeElement"):
            break
    expect(next_link).to_be_focused()
    page.keyboard.press("Enter")
    page.wait_for_load_state("networkidle")
    following = (today.replace(day=1) + dt.timedelta(days=32)).replace(day=1)
    expect(page.locator("caption")).to_contain_text(following.strftime("%B %Y"))
    expect(page.locator("td[aria-current=date]")).to_have_count(0)
    page.get_by_role("link", name="Previous month").focus()
    page.keyboard.press("Enter")
    page.wait_for_load_state("networkidle")
    expect(page.locator("td[aria-current=date]")).to_have_count(1)
