"""The structured review in Chromium: the coach selects words in the post and anchors a
note to them; the trainee sees them marked, and uses the coach's rewrite in one click."""

import pytest
from playwright.sync_api import Page, expect

from coaching import services as coaching
from coaching.models import FeedbackNote, Review
from sandbox import services
from sandbox.models import Draft
from tests.browser.people import score_the_rubric, sign_in
from tests.factories import SCORES

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

TEXT = "Flu clinic 💉 opens Monday at Ward 4. Bring your card."


def select_words(page: Page, words: str) -> None:
    """Select words in the post the way a mouse drag would: a real DOM selection."""
    page.locator("[data-anchor-post='0']").evaluate(
        """(post, words) => {
            const text = post.firstChild;
            const at = text.data.indexOf(words);
            const range = document.createRange();
            range.setStart(text, at);
            range.setEnd(text, at + words.length);
            const selection = window.getSelection();
            selection.removeAllRanges();
            selection.addRange(range);
        }""",
        words,
    )


def test_the_coach_anchors_a_note_to_selected_words_and_the_trainee_sees_them_marked(
    new_page, live_server, trainee, coach, account
):
    draft = services.draft_create(author=trainee, account=account, text=TEXT)
    coaching.draft_submit(draft=draft, by=trainee)

    coach_page = new_page()
    sign_in(coach_page, live_server.url, coach.username)
    coach_page.goto(f"{live_server.url}/review/{draft.pk}/")
    coach_page.locator("summary", has_text="Notes on particular words").click()  # folded until used
    select_words(coach_page, "Ward 4")
    coach_page.get_by_role("button", name="Add a note on the selected words").click()
    expect(coach_page.get_by_label("Quote the words this note is about").first).to_have_value(
        "Ward 4"
    )
    body = coach_page.get_by_label("Your note about these words").first
    expect(body).to_be_focused()
    body.fill("Which hospital is Ward 4 in?")
    score_the_rubric(coach_page)
    coach_page.get_by_role("button", name="Request changes").click()
    expect(coach_page.get_by_text("Sent back to the trainee with your feedback.")).to_be_visible()

    # Offsets count code points (the emoji is one), checked by the server against the text.
    note = FeedbackNote.objects.get()
    start = TEXT.index("Ward 4")
    assert (note.anchor_start, note.anchor_end, note.quote) == (start, start + 6, "Ward 4")

    trainee_page = new_page()
    sign_in(trainee_page, live_server.url, trainee.username)
    trainee_page.goto(f"{live_server.url}/drafts/{draft.pk}/")
    mark = trainee_page.locator("mark.sp-anchor")
    expect(mark).to_have_text("Ward 4")
    trainee_page.get_by_role("link", name="(see note 1)").click()
    expect(trainee_page.locator(f"#note-{note.pk}")).to_contain_text("Which hospital is Ward 4 in?")
    assert trainee_page.url.endswith(f"#note-{note.pk}")


def test_the_trainee_uses_the_coachs_rewrite_with_one_click(
    new_page, live_server, trainee, coach, account
):
    draft = services.draft_create(author=trainee, account=account, text=TEXT)
    coaching.draft_submit(draft=draft, by=trainee)
    rewrite = "Flu clinic opens Monday on Ward 4, Victoria Hospital. Bring your vaccination card."

    coach_page = new_page()
    sign_in(coach_page, live_server.url, coach.username)
    coach_page.goto(f"{live_server.url}/review/{draft.pk}/")
    coach_page.get_by_text("Suggest a rewrite").click()
    coach_page.get_by_label("The post, rewritten").fill(rewrite)
    coach_page.get_by_label("Feedback for the trainee").fill("Try my version.")
    score_the_rubric(coach_page)
    coach_page.get_by_role("button", name="Request changes").click()
    expect(coach_page.get_by_text("Sent back to the trainee with your feedback.")).to_be_visible()
    assert Review.objects.get().suggestion == [rewrite]

    trainee_page = new_page()
    sign_in(trainee_page, live_server.url, trainee.username)
    trainee_page.goto(f"{live_server.url}/drafts/{draft.pk}/")
    trainee_page.get_by_role("button", name="Use this rewrite").click()
    expect(
        trainee_page.get_by_text("Your coach's rewrite is now your latest revision.")
    ).to_be_visible()
    expect(trainee_page.get_by_text("Revision 2 (current)")).to_be_visible()
    draft.refresh_from_db()
    assert draft.current_revision.text == rewrite
    assert draft.status == Draft.Status.DRAFT

    # Then on as usual: send it, and the coach approves revision 2.
    trainee_page.get_by_role("button", name="Save and send to my coach").click()
    expect(trainee_page.get_by_text("Sent to your coach for review.")).to_be_visible()
    approval = coaching.review_approve(draft=draft, by=coach, scores=SCORES)
    assert approval.revision.number == 2


def test_a_coachs_note_survives_a_closed_tab(new_page, live_server, trainee, coach, account):
    draft = services.draft_create(author=trainee, account=account, text=TEXT)
    coaching.draft_submit(draft=draft, by=trainee)
    page = new_page()
    sign_in(page, live_server.url, coach.username)
    page.goto(f"{live_server.url}/review/{draft.pk}/")
    note = page.get_by_label("Feedback for the trainee")
    note.fill("Say which hospital, and")
    page.goto(f"{live_server.url}/review/{draft.pk}/")  # the tab closes; back again
    page.get_by_role("button", name="Put my text back").click()
    expect(note).to_have_value("Say which hospital, and")
