"""What people see when they use the pages: clear messages, nothing lost, htmx fragments,
security headers, and query counts that stay flat as data grows."""

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from coaching import services as coaching
from coaching.models import Publication
from sandbox import services
from sandbox.models import Draft
from tests import builders
from tests.factories import PASSWORD, SCORES

pytestmark = pytest.mark.django_db


@pytest.fixture
def as_trainee(client, trainee):  # type: ignore[no-untyped-def]
    client.login(username=trainee.username, password=PASSWORD)
    return client


@pytest.fixture
def as_coach(client, coach, organisation):  # type: ignore[no-untyped-def]
    client.login(username=coach.username, password=PASSWORD)
    return client


# The composer -----------------------------------------------------------------------------


def test_saving_a_draft_shows_it_on_the_timeline(as_trainee, account):
    response = as_trainee.post(reverse("timeline"), {"text": "Hello #NHS", "account": account.pk})
    draft = Draft.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("draft_detail", args=[draft.pk])
    assert draft.status == Draft.Status.DRAFT
    timeline = as_trainee.get(reverse("timeline")).content.decode()
    assert "Hello" in timeline and "sp-entity--hashtag" in timeline


def test_send_to_coach_submits_straight_away(as_trainee, account):
    as_trainee.post(reverse("timeline"), {"text": "Hi", "account": account.pk, "submit": "1"})
    assert Draft.objects.get().status == Draft.Status.SUBMITTED


def test_an_empty_post_gets_a_clear_message(as_trainee, account):
    response = as_trainee.post(reverse("timeline"), {"text": "", "account": account.pk})
    assert response.status_code == 422
    assert "the post is empty" in response.content.decode()
    assert not Draft.objects.exists()


@pytest.mark.parametrize("length", [281, 10_000])
def test_an_over_length_post_is_refused_and_keeps_its_text(as_trainee, account, length):
    text = "Our flu clinic " + "z" * (length - 15)
    response = as_trainee.post(reverse("timeline"), {"text": text, "account": account.pk})
    body = response.content.decode()
    assert response.status_code == 422
    over = length - 280
    assert f"{over} character{'s' if over > 1 else ''} over X" in body
    assert text in body  # nothing the trainee typed is lost
    assert not Draft.objects.exists()


def test_a_forged_account_is_refused(as_trainee, other_account):
    response = as_trainee.post(reverse("timeline"), {"text": "Hi", "account": other_account.pk})
    assert response.status_code == 422
    assert not Draft.objects.exists()


def test_posts_are_escaped(as_trainee, trainee, account):
    services.draft_create(author=trainee, account=account, text="<script>alert(1)</script> & co")
    body = as_trainee.get(reverse("timeline")).content.decode()
    assert "<script>alert(1)</script>" not in body
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &amp; co" in body


def test_an_edit_that_is_refused_keeps_the_typed_text(as_trainee, submitted, coach):
    coaching.review_reject(draft=submitted, by=coach, note="No")
    response = as_trainee.post(
        reverse("draft_edit", args=[submitted.pk]), {"text": "My careful rewrite"}
    )
    assert response.status_code == 422
    body = response.content.decode()
    assert "can no longer be edited" in body
    assert "My careful rewrite" in body  # shown back so it can be copied to a new draft
    submitted.refresh_from_db()
    assert submitted.text == "Clinic open 9-5"


def test_submitting_in_the_wrong_state_explains_why(as_trainee, submitted):
    response = as_trainee.post(reverse("draft_submit", args=[submitted.pk]), follow=True)
    assert "cannot be submitted: it is waiting for review" in response.content.decode()


def test_the_draft_page_shows_feedback_against_its_revision(as_trainee, submitted, coach, trainee):
    coaching.review_request_changes(draft=submitted, by=coach, note="Add the clinic address.")
    services.draft_edit(draft=submitted, by=trainee, text="Clinic at 1 High St open 9-5")
    body = as_trainee.get(reverse("draft_detail", args=[submitted.pk])).content.decode()
    first, second = body.index("Revision 2"), body.index("Revision 1")
    assert first < second < body.index("Add the clinic address.")


def test_the_publication_panel_is_its_own_htmx_fragment(as_trainee, submitted, coach):
    coaching.review_approve(draft=submitted, by=coach)
    response = as_trainee.get(
        reverse("draft_detail", args=[submitted.pk]), headers={"HX-Request": "true"}
    )
    body = response.content.decode()
    assert body.lstrip().startswith('<div id="publication"')
    assert "sp-post" in body  # the card's badge updates with the panel
    assert "Approved, queued" in body
    assert 'hx-trigger="every 2s"' in body  # keeps polling while in flight


def test_a_live_post_shows_its_link_and_stops_polling(as_trainee, submitted, coach):
    coaching.review_approve(draft=submitted, by=coach)
    Publication.objects.filter(draft=submitted).update(
        status="published", remote_url="http://127.0.0.1:8025/TestBoard/status/1"
    )
    body = as_trainee.get(
        reverse("draft_detail", args=[submitted.pk]), headers={"HX-Request": "true"}
    ).content.decode()
    assert "http://127.0.0.1:8025/TestBoard/status/1" in body
    assert "hx-trigger" not in body


# The review -------------------------------------------------------------------------------


def test_request_changes_without_a_note_keeps_the_page_and_says_why(as_coach, submitted):
    response = as_coach.post(
        reverse("review_decide", args=[submitted.pk]),
        {
            "decision": "request_changes",
            "note": "",
            "revision": submitted.current_revision_id,
            **SCORES,
        },
    )
    assert response.status_code == 422
    assert "Write a note" in response.content.decode()
    submitted.refresh_from_db()
    assert submitted.status == Draft.Status.SUBMITTED


def test_a_decision_that_lost_a_race_keeps_the_coachs_note(as_coach, submitted, second_coach):
    coaching.review_approve(draft=submitted, by=second_coach)
    note = "A long thoughtful note I would hate to lose"
    response = as_coach.post(
        reverse("review_decide", args=[submitted.pk]),
        {
            "decision": "request_changes",
            "note": note,
            "revision": submitted.current_revision_id,
            **SCORES,
        },
    )
    body = response.content.decode()
    assert response.status_code == 422
    assert "it is approved" in body
    assert note in body  # the coach's typed note is never lost


def test_a_note_over_the_limit_keeps_its_text(as_coach, submitted):
    note = "word " * 500
    response = as_coach.post(
        reverse("review_decide", args=[submitted.pk]),
        {"decision": "reject", "note": note, "revision": submitted.current_revision_id, **SCORES},
    )
    assert response.status_code == 422
    assert "up to 2000 characters" in response.content.decode()
    assert note.strip() in response.content.decode()


def test_a_schedule_in_the_past_is_refused_on_the_page(as_coach, submitted):
    response = as_coach.post(
        reverse("review_decide", args=[submitted.pk]),
        {
            "decision": "approve",
            "revision": submitted.current_revision_id,
            "publish_at": "2001-01-01T09:00",
            **SCORES,
        },
    )
    assert response.status_code == 422
    assert "time in the future" in response.content.decode()


def test_an_htmx_decision_swaps_the_page_and_refreshes_the_queue(as_coach, submitted):
    response = as_coach.post(
        reverse("review_decide", args=[submitted.pk]),
        {"decision": "approve", "note": "", "revision": submitted.current_revision_id, **SCORES},
        headers={"HX-Request": "true"},
    )
    assert response.status_code == 200
    assert response["HX-Trigger"] == "queueChanged"
    body = response.content.decode()
    assert "Approved. The post is queued for publication." in body
    # The swapped-in page keeps polling its own URL, not the POST-only decision URL.
    assert f'hx-get="{reverse("review", args=[submitted.pk])}"' in body


def test_the_queue_is_oldest_first_with_waiting_time(as_coach, trainee, account):
    for text in ["First in", "Second in"]:
        coaching.draft_submit(
            draft=services.draft_create(author=trainee, account=account, text=text), by=trainee
        )
    body = as_coach.get(reverse("queue")).content.decode()
    assert body.index("First in") < body.index("Second in")
    assert "<time" in body


def test_the_queue_fragment_is_only_the_rows(as_coach, submitted):
    body = as_coach.get(reverse("queue"), headers={"HX-Request": "true"}).content.decode()
    assert body.lstrip().startswith('<div id="queue-rows"')
    assert "<html" not in body


# Security headers and inline code ------------------------------------------------------------


def test_pages_send_a_strict_csp_and_have_no_inline_script_or_style(as_trainee, submitted):
    response = as_trainee.get(reverse("draft_detail", args=[submitted.pk]))
    csp = response["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp
    body = response.content.decode()
    assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", body)
    assert "<style" not in body and " style=" not in body


# Query counts stay flat as the data grows ---------------------------------------------------


def count_queries(client, url):  # type: ignore[no-untyped-def]
    with CaptureQueriesContext(connection) as captured:
        assert client.get(url).status_code == 200
    return len(captured)


def make_posts(trainee, account, coach, n):  # type: ignore[no-untyped-def]
    for i in range(n):
        draft = builders.submitted(trainee, account, f"Post {i}")
        if i % 3 == 0:
            coaching.review_approve(draft=draft, by=coach)


@pytest.mark.parametrize("page", ["timeline", "queue"])
def test_page_queries_do_not_grow_with_the_number_of_posts(client, trainee, coach, account, page):
    user = trainee if page == "timeline" else coach
    client.login(username=user.username, password=PASSWORD)
    make_posts(trainee, account, coach, 2)
    few = count_queries(client, reverse(page))
    make_posts(trainee, account, coach, 30)
    assert count_queries(client, reverse(page)) == few


# Bad input gets a clear answer, never a 500 -----------------------------------------------------


def test_live_hints_with_a_junk_account_id_still_answer(as_trainee):
    response = as_trainee.post(reverse("draft_check"), {"text": "Hello", "account": "abc"})
    assert response.status_code == 200


def test_starting_a_scenario_for_a_junk_trainee_id_is_a_404(as_coach, coach, organisation):
    from sandbox.models import Scenario

    scenario = Scenario.objects.create(
        organisation=organisation,
        title="S",
        items=[{"offset_seconds": 0, "persona": "dave-hollins", "kind": "post", "text": "Hi"}],
    )
    response = as_coach.post(reverse("scenario_start", args=[scenario.pk]), {"trainee": "abc"})
    assert response.status_code == 404


@pytest.mark.parametrize("minutes", ["1e400", "-5", "99999999"])
def test_absurd_scenario_times_get_a_message(as_coach, minutes):
    response = as_coach.post(
        reverse("scenarios"), {"title": "T", "script": f"{minutes} | dave-hollins | Hi"}
    )
    assert response.status_code == 422
    assert "is not a number of minutes from 0 to 1440" in response.content.decode()


def test_a_decision_on_another_drafts_revision_is_refused(as_coach, submitted, trainee, account):
    other = services.draft_create(author=trainee, account=account, text="Another")
    response = as_coach.post(
        reverse("review_decide", args=[submitted.pk]),
        {"decision": "approve", "revision": other.current_revision_id},
    )
    assert response.status_code == 404
    assert not Publication.objects.exists()


def test_after_the_trainee_edits_the_coach_can_decide_on_the_new_text(as_coach, submitted, trainee):
    shown = submitted.current_revision_id
    services.draft_edit(draft=submitted, by=trainee, text="Clinic open 9-6")
    refused = as_coach.post(
        reverse("review_decide", args=[submitted.pk]),
        {"decision": "approve", "note": "Looks fine", "revision": shown, **SCORES},
    )
    body = refused.content.decode()
    assert "changed this draft while you were looking" in body
    assert "Looks fine" in body  # the note is kept
    submitted.refresh_from_db()
    assert f'value="{submitted.current_revision_id}"' in body  # the retry binds to it


@pytest.mark.parametrize("name", ["timeline", "queue", "publishing", "notifications"])
def test_every_page_that_serves_a_fragment_varies_on_htmx(client, coach, name):
    # Otherwise the Back button can show a cached fragment, bare, in place of the page.
    client.force_login(coach)
    response = client.get(reverse(name))
    assert "HX-Request" in response["Vary"]


def test_a_button_address_opened_on_its_own_explains_itself(client, trainee, account):
    draft = services.draft_create(author=trainee, account=account, text="Flu clinic today")
    client.force_login(trainee)
    response = client.get(reverse("draft_submit", args=[draft.pk]))
    assert response.status_code == 405
    assert response["Allow"] == "POST"
    assert "This address is for a button" in response.content.decode()
