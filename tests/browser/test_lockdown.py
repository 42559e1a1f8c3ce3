"""A coach locks down a hacked account from the publishing page and works through the recovery
checklist, at desktop and phone widths: the confirmation refuses an unticked box and keeps
what was typed, the checklist ticks in place with htmx (focus on the step's new "Done" line)
and as a plain form without JavaScript, shows who ticked what and how long after, and every
page passes axe (no serious or critical violations).

And a lockdown drill: a coach starts one for a cohort, a trainee opens it from their notice,
starts, presses the Lock down button (the X double gets no revoke, and no stop or lockdown
exists), ticks the checklist, and the coach's debrief shows the trainee's times."""

import re

import pytest
from django.urls import reverse

from coaching.models import AuditEvent, DrillRun, Lockdown, LockdownStep, PublishingStop
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
    # With htmx the tick swaps the page in place (the marker set on this page survives) and
    # puts focus on the step's new "Done" line, which says when.
    page.evaluate("window.sandpitStayed = true")
    page.get_by_role(
        "button", name=re.compile(r"Mark as done\W+Tell information governance")
    ).click()
    step = page.locator("#step-governance")
    step.get_by_text("after the lockdown").wait_for()
    assert "Done by Cora" in step.inner_text()
    assert re.search(r"at \d\d:\d\d:\d\d, under a minute after the lockdown", step.inner_text())
    assert page.get_by_text("1 of 7 steps done").is_visible()
    assert page.evaluate("window.sandpitStayed === true")
    assert page.evaluate("document.activeElement.closest('#step-governance') !== null")
    assert violations(page) == [] and fits(page)

    account.refresh_from_db()
    assert account.status == WorkplaceAccount.Status.NEEDS_RECONNECT and not account.access_token
    assert AuditEvent.objects.filter(action=AuditEvent.Action.LOCKDOWN_STEP_DONE).count() == 1
    # Without JavaScript the same checklist ticks as a plain form, back at the step.
    plain = new_page(java_script_enabled=False, viewport=WIDTHS[width])
    sign_in(plain, live_server.url, coach.username)
    plain.goto(f"{live_server.url}{reverse('lockdown', args=[Lockdown.objects.get().pk])}")
    plain.get_by_role("button", name=re.compile(r"Mark as done\W+Report the compromise")).click()
    plain.locator("#step-report").get_by_text("after the lockdown").wait_for()
    assert plain.url.endswith("#step-report")
    assert plain.get_by_text("2 of 7 steps done").is_visible()
    assert "Done by Cora" in plain.locator("#step-governance").inner_text()
    # While it is open, the publishing page leads back to the checklist.
    page.goto(f"{live_server.url}{reverse('publishing')}")
    page.get_by_role("link", name="Recovery checklist for @TestBoard").click()
    page.get_by_role("heading", name="Recovery checklist").wait_for()


def numbered_times(text: str) -> list[str]:
    return re.findall(r"\d+ (?:s|min \d\d s)", text)


@pytest.mark.parametrize("width", WIDTHS)
@pytest.mark.django_db(transaction=True)
def test_a_drill_for_a_cohort_touches_nothing_real_and_the_debrief_shows_the_times(
    new_page, live_server, coach, trainee, other_trainee, ward, account, x_double, width
):
    coaches = new_page(bypass_csp=True, viewport=WIDTHS[width])
    sign_in(coaches, live_server.url, coach.username)
    coaches.goto(f"{live_server.url}{reverse('scenarios')}")
    coaches.get_by_role("link", name="lockdown drill").click()
    coaches.get_by_role("heading", name="Lockdown drills", level=1).wait_for()
    assert violations(coaches) == [] and fits(coaches)
    coaches.get_by_label("The cohort who take part").select_option(label="Ward 7")
    coaches.get_by_role("button", name="Start the drill for the cohort").click()
    coaches.get_by_role("heading", name=re.compile("Drill debrief")).wait_for()
    assert coaches.locator("[data-trainee=tara]").get_by_text("Not started").first.is_visible()
    revokes_before = x_double.calls().get("POST /2/oauth2/revoke", 0)

    trainees = new_page(bypass_csp=True, viewport=WIDTHS[width])
    sign_in(trainees, live_server.url, trainee.username)
    trainees.goto(f"{live_server.url}{reverse('notifications')}")
    trainees.get_by_role("button", name=re.compile("Lockdown drill from Cora")).click()
    trainees.get_by_role("heading", name=re.compile("Lockdown drill")).first.wait_for()
    assert trainees.get_by_text("Nothing you do here touches @TestBoard").is_visible()
    assert violations(trainees) == [] and fits(trainees)
    trainees.get_by_role("button", name="Start the drill").click()
    trainees.get_by_text("going out from @TestBoard").wait_for()
    assert violations(trainees) == [] and fits(trainees)
    trainees.get_by_role("button", name=re.compile("Lock down @TestBoard")).click()
    trainees.get_by_text("Locked down (drill)").wait_for()

    # Nothing real: no revoke at X, no stop, no lockdown, the account still connected.
    assert x_double.calls().get("POST /2/oauth2/revoke", 0) == revokes_before
    assert not PublishingStop.objects.exists() and not Lockdown.objects.exists()
    account.refresh_from_db()
    assert account.status == WorkplaceAccount.Status.ACTIVE and account.access_token

    for label in LockdownStep.Step.labels:
        trainees.get_by_role(
            "button", name=re.compile(rf"Mark as done\W+{re.escape(label)}")
        ).click()
        trainees.get_by_role(
            "button", name=re.compile(rf"Mark as done\W+{re.escape(label)}")
        ).wait_for(state="detached")
    trainees.get_by_text("7 of 7 steps done").wait_for()
    done = trainees.locator("[data-step-done]")
    assert done.count() == 7
    assert all("after you started" in line for line in done.all_inner_texts())
    assert trainees.get_by_text("Every step done").is_visible()
    assert violations(trainees) == [] and fits(trainees)
    run = DrillRun.objects.get(trainee=trainee)
    assert run.finished_at is not None

    coaches.reload()
    tara = coaches.locator("[data-trainee=tara]")
    # The lockdown, seven steps and the total, each to the second; Otto not started.
    assert len(numbered_times(tara.inner_text())) == 9
    assert "Not started" in coaches.locator("[data-trainee=otto]").inner_text()
    assert len(numbered_times(coaches.locator("#debrief-median").inner_text())) == 9
    assert violations(coaches) == [] and fits(coaches)
    coaches.get_by_role("button", name="End the drill").click()
    coaches.get_by_text("The drill has ended.").wait_for()
