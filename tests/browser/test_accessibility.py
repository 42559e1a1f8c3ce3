"""axe-core (vendored, static/vendor/axe-core) in Chromium over every main page, for
each role: no serious or critical WCAG violations.

The test context bypasses our CSP only so axe itself can be injected; the pages are the
real ones, served by the live server."""

from pathlib import Path

import pytest
from django.urls import reverse

from coaching import services as coaching
from sandbox import services
from tests.browser.people import sign_in

pytestmark = pytest.mark.browser

AXE = Path(__file__).resolve().parents[2] / "static/vendor/axe-core/axe-4.14.1.min.js"


def violations(page) -> list[dict]:
    page.add_script_tag(path=str(AXE))
    result = page.evaluate(
        "async () => await axe.run(document, {runOnly: ['wcag2a', 'wcag2aa', 'wcag21a', "
        "'wcag21aa', 'wcag22aa', 'best-practice']})"
    )
    assert len(result["passes"]) > 10, "axe did not really check the page"
    return [v for v in result["violations"] if v["impact"] in ("serious", "critical")]


def signed_in(new_page, live_server, user):
    page = new_page(bypass_csp=True)
    sign_in(page, live_server.url, user.username)
    return page


def problems_on(new_page, live_server, pages, check=None) -> dict[str, list[str]]:
    """Each person's pages ({user: [url, ...]}) through axe, signed in as them: the
    serious and critical violations, by URL, of the pages that have any. ``check(page)``
    runs on each page first, for what a test wants to see there."""
    problems = {}
    for person, urls in pages.items():
        page = signed_in(new_page, live_server, person)
        for url in urls:
            page.goto(f"{live_server.url}{url}")
            page.wait_for_load_state("networkidle")
            if check:
                check(page)
            problems[url] = violations(page)
    return {
        url: [f"{v['id']}: {v['help']} ({len(v['nodes'])}x)" for v in found]
        for url, found in problems.items()
        if found
    }


@pytest.mark.django_db(transaction=True)
def test_the_main_pages_have_no_serious_accessibility_problems(
    new_page, live_server, trainee, coach, admin, account
):
    draft = services.draft_create(
        author=trainee, account=account, text="£1 for every retweet! Call 07700 900123 #nhs"
    )
    other = services.draft_create(author=trainee, account=account, text="Clinic open 9-5")
    coaching.draft_submit(draft=other, by=trainee)
    # Something in each person's notifications: the coach heard of the submission above.
    rejected = services.draft_create(author=trainee, account=account, text="Drop-in at 10")
    coaching.draft_submit(draft=rejected, by=trainee)
    coaching.review_reject(draft=rejected, by=coach, note="We have no drop-in.")
    # A reviewed draft: the trainee's page shows the rubric, tags, a note marked in the
    # text and a rewrite to use; the coach's review page has the rubric form.
    reviewed = services.draft_create(author=trainee, account=account, text="Ward 4 opens at 9")
    coaching.draft_submit(draft=reviewed, by=trainee)
    coaching.review_request_changes(
        draft=reviewed,
        by=coach,
        note="Nearly.",
        scores={"safe": 4, "person_centred": 2, "effective": 3},
        tags=["tone", "timing"],
        anchored_notes=[coaching.AnchoredNote(body="Which hospital?", quote="Ward 4")],
        suggestion=["Ward 4, Victoria Hospital, opens at 9am"],
    )
    practice = services.practice_post(author=trainee, account=account, text="Is it open?")
    services.audience_simulate(item_id=practice.pk)
    scenario = services.scenario_save(
        by=coach,
        organisation_id=account.organisation_id,
        title="Rumour",
        description="",
        items=services.parse_scenario_script("0 | wake-up-kelderby | The clinic is a scam"),
    )
    run = services.scenario_start(scenario=scenario, trainee=trainee, by=coach)
    response = services.draft_create(
        author=trainee, account=account, text="It is not.", in_reply_to=run.items.get()
    )
    coaching.draft_submit(draft=response, by=trainee)
    # A record with a scored review, so the portfolio draws its chart and tables.
    sent_back = services.draft_create(author=trainee, account=account, text="Clinic open")
    coaching.draft_submit(draft=sent_back, by=trainee)
    coaching.review_request_changes(
        draft=sent_back,
        by=coach,
        note="Say when.",
        scores={"safe": 3, "person_centred": 2, "effective": 3},
        tags=["tone"],
    )

    pages = {
        trainee: [
            reverse("timeline"),
            reverse("draft_detail", args=[draft.pk]),
            reverse("draft_detail", args=[reviewed.pk]),
            reverse("timeline_item", args=[practice.pk]),
            reverse("notifications"),
            reverse("notification_preferences"),
            reverse("timeline_item", args=[run.items.get().pk]),
            reverse("draft_detail", args=[response.pk]),
            reverse("portfolio"),
            reverse("account_security"),
            reverse("mfa_index"),
            reverse("usersessions_list"),
        ],
        coach: [
            reverse("queue"),
            reverse("queue") + "?scope=all&age=overdue&trainee=0",  # filters, with an error
            reverse("availability"),
            reverse("review", args=[other.pk]),
            reverse("review", args=[other.pk]) + "?decision=approve",  # the "a" shortcut
            reverse("replay", args=[draft.pk]),
            reverse("publishing"),
            reverse("scenarios"),
            reverse("notifications"),
            reverse("notification_preferences"),
            reverse("scenario_debrief", args=[run.pk]),
            reverse("review", args=[response.pk]),
            reverse("trainee_portfolio", args=[trainee.pk]),
            reverse("cohorts"),
        ],
        admin: [
            reverse("accounts"),
            reverse("audit_log"),
            reverse("unassigned_trainees"),
            reverse("second_factors"),
        ],
    }
    login = new_page(bypass_csp=True)
    for signed_out_page in ["/accounts/login/", "/accounts/password/reset/"]:
        login.goto(f"{live_server.url}{signed_out_page}")
        assert [f"{v['id']}: {v['help']}" for v in violations(login)] == []
    assert problems_on(new_page, live_server, pages) == {}
