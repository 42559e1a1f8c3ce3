"""The everyday layout in Chromium at a phone's width (390 px) and a desk's (1,280 px):
the review page's two columns and its decision in one tap, the draft page's feedback
first and one "Save and send", the header's menu, tables that fit. Each test saves
screenshots into var/screenshots/ (git-ignored; index.html shows them all) so a reviewer
can look at every page in a minute."""

import json
from pathlib import Path

import pytest
from django.urls import reverse
from playwright.sync_api import Page, expect

from coaching import services as coaching
from sandbox import services
from tests.browser.people import score_the_rubric, sign_in
from tests.browser.test_accessibility import violations

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SCREENSHOTS = Path(__file__).resolve().parents[2] / "var/screenshots"
WIDTHS = {"desktop": 1280, "phone": 390}
FIRST = "Flu clinic opens Monday at Ward 4. Bring your card. https://example.org/flu #flu"
SECOND = "Flu clinic on Ward 4, Victoria Hospital, opens Monday 9am. Bring your vaccination card."


def screenshot(page: Page, name: str, *, full_page: bool = True) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=full_page)
    # One page of them all, phone beside desk, to open in a browser.
    shots = sorted(path.name for path in SCREENSHOTS.glob("*.png"))
    (SCREENSHOTS / "index.html").write_text(
        "<!doctype html><title>Sandpit screenshots</title><body>"
        + "".join(
            f'<figure style="display:inline-block;vertical-align:top;margin:8px">'
            f'<figcaption>{shot}</figcaption><a href="{shot}"><img src="{shot}" width="320" '
            f'alt="{shot}"></a></figure>'
            for shot in shots
        )
    )


def revised_and_resent(trainee, coach, account):
    """A post sent back once with feedback, revised and sent again: the review page with
    everything on it (findings, a diff, history with a review)."""
    draft = services.draft_create(author=trainee, account=account, text=FIRST)
    coaching.draft_submit(draft=draft, by=trainee)
    coaching.review_request_changes(
        draft=draft,
        by=coach,
        note="Say which hospital, and when it opens.",
        scores={"safe": 3, "person_centred": 2, "effective": 2},
        tags=["accuracy"],
        anchored_notes=[coaching.AnchoredNote(body="Which hospital?", quote="Ward 4")],
    )
    services.draft_edit(draft=draft, by=trainee, text=SECOND)
    coaching.draft_submit(draft=draft, by=trainee)
    return draft


def measure(page: Page) -> dict[str, int]:
    """The page's height and where Approve is (from the top of the page), in CSS pixels."""
    return page.evaluate(
        """() => {
            const approve = document.querySelector('button[value="approve"]');
            const box = approve.getBoundingClientRect();
            return {height: document.documentElement.scrollHeight,
                    approve_y: Math.round(box.top + window.scrollY)};
        }"""
    )


def in_view(page: Page, locator) -> bool:
    box = locator.bounding_box()
    height = page.viewport_size["height"]
    return box is not None and box["y"] >= 0 and box["y"] + box["height"] <= height


def test_the_trainee_reads_the_feedback_then_revises_and_sends_in_one_action(
    new_page, live_server, trainee, coach, account
):
    draft = services.draft_create(author=trainee, account=account, text=FIRST)
    coaching.draft_submit(draft=draft, by=trainee)
    coaching.review_request_changes(draft=draft, by=coach, note="Say which hospital.")

    for name, width in WIDTHS.items():
        page = new_page(viewport={"width": width, "height": 900})
        sign_in(page, live_server.url, trainee.username)
        page.goto(f"{live_server.url}{reverse('draft_detail', args=[draft.pk])}")
        feedback = page.get_by_role("region", name="Your coach's feedback, by revision")
        editor = page.get_by_role("region", name="Revise your post")
        expect(feedback).to_contain_text("Say which hospital.")
        # The feedback comes first, and sending is offered at once, before any save.
        assert feedback.bounding_box()["y"] < editor.bounding_box()["y"]
        expect(editor.get_by_role("button", name="Save and send to my coach")).to_be_visible()
        expect(page.get_by_role("region", name="Publication")).not_to_contain_text("Flu clinic")
        screenshot(page, f"draft-changes-requested-{name}")

    page.get_by_label("What do you want to post?").fill(SECOND)
    page.get_by_role("button", name="Save and send to my coach").click()
    expect(page.get_by_text("Sent to your coach for review.")).to_be_visible()
    expect(page.get_by_text("Waiting for review").first).to_be_visible()
    draft.refresh_from_db()
    assert (draft.status, draft.current_revision.number, draft.text) == ("submitted", 2, SECOND)


def test_the_review_is_two_columns_at_a_desk_with_the_decision_in_view(
    new_page, live_server, trainee, coach, account
):
    draft = revised_and_resent(trainee, coach, account)
    page = new_page(viewport={"width": 1280, "height": 900})
    sign_in(page, live_server.url, coach.username)
    page.goto(f"{live_server.url}{reverse('review', args=[draft.pk])}")
    preview = page.get_by_role("region", name="Preview: how it will look on @TestBoard")
    decision = page.get_by_role("region", name="Your decision")
    approve = page.get_by_role("button", name="Approve")
    # The post once, the decision beside it, and Approve in view without scrolling.
    expect(preview).to_have_count(1)
    expect(page.locator("article.sp-post")).to_have_count(0)
    post_box = preview.bounding_box()
    assert decision.bounding_box()["x"] > post_box["x"] + post_box["width"]
    assert in_view(page, approve)
    expect(page.get_by_role("link", name="Go to decision")).to_be_hidden()
    screenshot(page, "review-desktop")
    # Reading the history at the foot of the page, the decision is still beside it.
    earlier = page.get_by_text("Say which hospital, and when it opens.")
    earlier.scroll_into_view_if_needed()
    assert in_view(page, earlier)
    assert in_view(page, approve)
    page.evaluate("window.scrollTo(0, document.documentElement.scrollHeight)")
    assert in_view(page, approve)
    score_the_rubric(page)
    approve.click()
    expect(page.get_by_text("Approved. The post is queued for publication.")).to_be_visible()


def test_the_review_on_a_phone_reaches_the_decision_in_one_tap(
    new_page, live_server, trainee, coach, account
):
    draft = revised_and_resent(trainee, coach, account)
    page = new_page(viewport={"width": 390, "height": 844}, has_touch=True, is_mobile=True)
    sign_in(page, live_server.url, coach.username)
    page.goto(f"{live_server.url}{reverse('review', args=[draft.pk])}")
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    preview = page.get_by_role("region", name="Preview: how it will look on @TestBoard")
    expect(preview).to_have_count(1)
    screenshot(page, "review-phone")
    page.get_by_role("link", name="Go to decision").tap()
    assert in_view(page, page.get_by_role("heading", name="Your decision"))
    score_the_rubric(page)
    page.get_by_label("Feedback for the trainee").fill("Add the time it closes.")
    page.get_by_role("button", name="Request changes").tap()
    expect(page.get_by_text("Sent back to the trainee with your feedback.")).to_be_visible()


def test_the_header_collapses_into_a_menu_on_a_phone(new_page, live_server, admin, coach):
    page = new_page(viewport={"width": 390, "height": 844})
    sign_in(page, live_server.url, admin.username)
    page.goto(f"{live_server.url}{reverse('queue')}")
    more = page.get_by_role("button", name="More pages")
    expect(more).to_be_visible()  # the header's script has arranged it
    header = page.locator("header.sp-header")
    # Two rows: the name and the person's links, then the pages and "More" (it was 188 px).
    assert header.bounding_box()["height"] <= 110
    audit = page.get_by_role("link", name="Audit log")
    expect(more).to_have_attribute("aria-expanded", "false")
    expect(audit).to_be_hidden()
    screenshot(page, "header-phone")
    more.click()
    expect(more).to_have_attribute("aria-expanded", "true")
    expect(audit).to_be_visible()
    screenshot(page, "header-phone-menu-open", full_page=False)
    page.keyboard.press("Escape")
    expect(audit).to_be_hidden()
    expect(more).to_be_focused()
    more.click()
    audit.click()
    expect(page.get_by_role("heading", name="Audit log", level=1)).to_be_visible()

    # At a desk the header is two rows too (it was three), the rest behind "More".
    wide = new_page(viewport={"width": 1280, "height": 900})
    sign_in(wide, live_server.url, admin.username)
    wide.goto(f"{live_server.url}{reverse('audit_log')}")
    expect(wide.get_by_role("button", name="More pages")).to_be_visible()
    assert wide.locator("header.sp-header").bounding_box()["height"] <= 110
    expect(wide.get_by_role("link", name="Approval queue")).to_be_visible()


def main_pages(trainee, coach, admin, account) -> dict:
    """Each person's main pages, with something on each."""
    draft = revised_and_resent(trainee, coach, account)
    sent_back = services.draft_create(author=trainee, account=account, text="Clinic open 9-5")
    coaching.draft_submit(draft=sent_back, by=trainee)
    coaching.review_request_changes(
        draft=sent_back,
        by=coach,
        note="Say which clinic.",
        scores={"safe": 3, "person_centred": 2, "effective": 3},
        tags=["tone"],
        anchored_notes=[coaching.AnchoredNote(body="Which one?", quote="Clinic")],
        suggestion=["The Ward 4 clinic is open 9-5"],
    )
    return {
        trainee: {
            "timeline": reverse("timeline"),
            "draft-sent-back": reverse("draft_detail", args=[sent_back.pk]),
            "draft-waiting": reverse("draft_detail", args=[draft.pk]),
            "record": reverse("portfolio"),
            "trainee-notifications": reverse("notifications"),
        },
        coach: {
            "queue": reverse("queue"),
            "review": reverse("review", args=[draft.pk]),
            "publishing": reverse("publishing"),
            "cohorts": reverse("cohorts"),
            "scenarios": reverse("scenarios"),
        },
        admin: {
            "audit-log": reverse("audit_log"),
            "people": reverse("people"),
            "accounts": reverse("accounts"),
            "unassigned": reverse("unassigned_trainees"),
            "second-factors": reverse("second_factors"),
        },
    }


@pytest.mark.parametrize("width", WIDTHS.values(), ids=WIDTHS.keys())
def test_the_main_pages_fit_pass_axe_and_are_photographed(
    new_page, live_server, trainee, coach, admin, account, width
):
    pages = main_pages(trainee, coach, admin, account)
    name = "desktop" if width == 1280 else "phone"
    problems, too_wide, figures = {}, {}, {}
    for person, urls in pages.items():
        page = new_page(bypass_csp=True, viewport={"width": width, "height": 900})
        sign_in(page, live_server.url, person.username)
        for label, url in urls.items():
            page.goto(f"{live_server.url}{url}")
            page.wait_for_load_state("networkidle")
            screenshot(page, f"{label}-{name}")
            if found := violations(page):
                problems[url] = [f"{v['id']}: {v['help']} ({len(v['nodes'])}x)" for v in found]
            if page.evaluate("document.documentElement.scrollWidth") > width:
                # What sticks out, to say where to look.
                too_wide[url] = page.evaluate(
                    """w => [...document.querySelectorAll('body *')]
                        .filter(e => e.getBoundingClientRect().right > w)
                        .map(e => e.tagName + '.' + e.className).slice(0, 5)""",
                    width,
                )
            if label == "review":
                figures = measure(page)
    (SCREENSHOTS / f"review-figures-{name}.json").write_text(json.dumps(figures))
    print(f"review at {width}px: {figures}")
    assert problems == {}
    assert too_wide == {}
