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
            *people_pages(admin, trainee, account.organisation),
        ],
    }
    login = new_page(bypass_csp=True)
    for signed_out_page in ["/accounts/login/", "/accounts/password/reset/"]:
        login.goto(f"{live_server.url}{signed_out_page}")
        assert [f"{v['id']}: {v['help']}" for v in violations(login)] == []
    assert problems_on(new_page, live_server, pages) == {}


def people_pages(admin, trainee, organisation) -> list[str]:
    """The people pages, with something on each: an invited person, a finished import
    with every outcome, the check settings with a word, a pattern and a period."""
    import datetime as dt

    from coaching.models import PeopleImport
    from coaching.services import people
    from sandbox.models import LocalIdentifierPattern, LocalWord, Membership, PreElectionPeriod

    invited = people.person_invite(
        by=admin, organisation_id=organisation.pk, email="sam.jones@example.org"
    ).membership
    finished = PeopleImport.objects.create(
        organisation=organisation,
        started_by=admin,
        file_name="staff.csv",
        status=PeopleImport.Status.DONE,
        total=3,
        processed=3,
        created_count=1,
        skipped_count=1,
        refused_count=1,
        results=[
            {"line": 2, "email": "a@example.org", "outcome": "created", "reason": "Invited."},
            {"line": 3, "email": "b@example.org", "outcome": "skipped", "reason": "Already in."},
            {"line": 4, "email": "nope", "outcome": "refused", "reason": "Enter an email."},
        ],
    )
    running = PeopleImport.objects.create(
        organisation=organisation, started_by=admin, file_name="more.csv", total=10, processed=4
    )
    LocalWord.objects.get_or_create(organisation=organisation, word="numpty")
    LocalIdentifierPattern.objects.get_or_create(
        organisation=organisation, label="hospital number", pattern=r"\bRX\d{7}\b"
    )
    PreElectionPeriod.objects.get_or_create(
        organisation=organisation,
        name="Local elections",
        starts_on=dt.date(2027, 4, 1),
        ends_on=dt.date(2027, 5, 7),
    )
    return [
        reverse("people"),
        reverse("people") + "?cohort=999999",  # a filter with an error
        reverse("person", args=[Membership.objects.get(user=trainee).pk]),
        reverse("person", args=[invited.pk]),
        reverse("person_invite"),
        reverse("people_import"),
        reverse("people_import_report", args=[finished.pk]),
        reverse("people_import_report", args=[running.pk]),
        reverse("check_settings"),
        reverse("retention"),
        reverse("draft_purge", args=[_patient_draft(trainee, organisation).pk]),
    ]


def _patient_draft(trainee, organisation):
    from tests.factories import NHS_NUMBER_POST, AccountFactory

    account = AccountFactory(organisation=organisation)
    return services.draft_create(author=trainee, account=account, text=NHS_NUMBER_POST)


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("width", [1280, 390], ids=["desktop", "phone"])
def test_the_people_pages_are_accessible_and_fit_the_screen(
    new_page, live_server, admin, trainee, organisation, width
):
    # The Django admin's people page was 1,554 px wide on a 1,280 px screen; these fit.
    urls = people_pages(admin, trainee, organisation)
    page = new_page(bypass_csp=True, viewport={"width": width, "height": 900})
    sign_in(page, live_server.url, admin.username)
    problems, too_wide = {}, {}
    for url in urls:
        page.goto(f"{live_server.url}{url}")
        page.wait_for_load_state("networkidle")
        if found := violations(page):
            problems[url] = [f"{v['id']}: {v['help']} ({len(v['nodes'])}x)" for v in found]
        scroll_width = page.evaluate("document.documentElement.scrollWidth")
        if scroll_width > width:
            too_wide[url] = scroll_width
    assert problems == {}
    assert too_wide == {}
    # The invitation page, for someone not signed in (the email goes at commit).
    from django.core import mail

    from coaching.services import people as people_services

    people_services.person_invite(by=admin, organisation_id=organisation.pk, email="x@example.org")
    token = mail.outbox[-1].body.split("/invitations/", 1)[1].split("/", 1)[0]
    guest = new_page(bypass_csp=True, viewport={"width": width, "height": 900})
    guest.goto(f"{live_server.url}{reverse('invitation_accept', args=[token])}")
    assert "Choose a password" in guest.content()
    assert violations(guest) == []
