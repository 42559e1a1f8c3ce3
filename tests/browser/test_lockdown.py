"""A coach locks down a hacked account from the publishing page and works through the recovery
checklist, at desktop and phone widths: the confirmation refuses an unticked box and keeps
what was typed, the checklist shows who ticked what and how long after, and every page
passes axe (no serious or critical violations)."""

import re

import pytest
from django.urls import reverse

from coaching.models import AuditEvent, Lockdown
from sandbox.models import WorkplaceAccount
from tests.browser.people import sign_in
from tests.browser.test_accessibility import violations

WIDTHS = {"desktop": {"width": 1280, "height": 900}, "phone": {"width": 390, "height": 844}}


def fits(page) -> bool:
    """Nothing wider than the screen: no sideways scrolling."""
    return bool(
        page.evaluate(
            "document.documentElement.scrollWidth <= document.documentElement.clientWidth"
        )
    )


@pytest.mark.parametrize("width", WIDTHS)
@pytest.mark.django_db(transaction=True)
def test_a_coach_locks_down_an_account_and_ticks_the_checklist(
    new_page, live_server, coach, account, x_double, width
):
    page = new_page(bypass_csp=True, viewport=WIDTHS[width])
    sign_in(page, live_server.url, coach.username)
    page.goto(f"{live_server.url}{reverse('publishing')}")
    page.get_by_role("link", name="Lock down @TestBoard if it has been hacked").click()

    assert page.get_by_role("heading", name="Lock down @TestBoard").is_visible()
    assert violations(page) == [] and fits(page)
    page.get_by_label("What has happened?").fill("Posts we did not write at 2am")
    page.get_by_role("button", name="Lock down @TestBoard").click()
    # Not confirmed: refused, with what was typed kept.
    assert page.get_by_role("link", name="Tick the box to confirm").is_visible()
    assert page.get_by_label("What has happened?").input_value() == "Posts we did not write at 2am"
    assert not Lockdown.objects.exists()
    assert violations(page) == [] and fits(page)

    page.get_by_label("I understand that publishing stops").check()
    page.get_by_role("button", name="Lock down @TestBoard").click()
    page.get_by_role("heading", name="Recovery checklist").wait_for()
    assert page.get_by_text("X revoked the access token.").is_visible()
    assert page.get_by_text("0 of 7 steps done").is_visible()
    assert violations(page) == [] and fits(page)

    # The step's name is hidden visually but read out with the button (each says what it ticks).
    page.get_by_role(
        "button", name=re.compile(r"Mark as done\W+Tell information governance")
    ).click()
    step = page.locator("#step-governance")
    step.get_by_text("after the lockdown").wait_for()
    assert "Done by Cora" in step.inner_text()
    assert page.get_by_text("1 of 7 steps done").is_visible()
    assert violations(page) == [] and fits(page)

    account.refresh_from_db()
    assert account.status == WorkplaceAccount.Status.NEEDS_RECONNECT and not account.access_token
    assert AuditEvent.objects.filter(action=AuditEvent.Action.LOCKDOWN_STEP_DONE).count() == 1
    # While it is open, the publishing page leads back to the checklist.
    page.goto(f"{live_server.url}{reverse('publishing')}")
    page.get_by_role("link", name="Recovery checklist for @TestBoard").click()
    page.get_by_role("heading", name="Recovery checklist").wait_for()
