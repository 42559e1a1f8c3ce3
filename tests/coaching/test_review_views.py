"""The review page and the trainee's draft page: what people see and what they keep."""

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from coaching import services as coaching
from coaching.models import FeedbackNote, Review
from coaching.services import AnchoredNote
from sandbox import services
from sandbox.models import Draft
from tests.factories import SCORES, signed_in

pytestmark = pytest.mark.django_db

TEXT = "Flu clinic opens Monday at Ward 4. Bring your card."
PEOPLE = ["anonymous", "trainee", "other_trainee", "coach", "outside_coach", "admin"]


@pytest.fixture
def post_text() -> str:
    return TEXT


def decide(client, draft, htmx=False, **data):  # type: ignore[no-untyped-def]
    payload = {"revision": draft.current_revision_id, **data}
    headers = {"HX-Request": "true"} if htmx else {}
    return client.post(reverse("review_decide", args=[draft.pk]), payload, headers=headers)


# The coach's form -------------------------------------------------------------------------


def test_the_review_page_shows_the_rubric_with_descriptors_tags_and_the_rewrite_box(
    client, coach, submitted
):
    body = signed_in(client, coach).get(reverse("review", args=[submitted.pk])).content.decode()
    assert '<legend class="nhsuk-fieldset__legend nhsuk-fieldset__legend--s">Person-centred' in body
    assert "Clear, with one point and what to do next." in body
    assert body.count('type="radio"') == 12
    assert 'value="plain_english"' in body
    assert "Quote the words this note is about" in body
    assert f">{TEXT}</textarea>" in body  # the rewrite starts from the current text
    assert 'data-anchor-post="0">' + TEXT + "</blockquote>" in body
    assert "js/review.js" in body


@pytest.mark.parametrize("htmx", [False, True])
def test_a_full_review_is_saved(client, coach, submitted, htmx):
    response = decide(
        signed_in(client, coach),
        submitted,
        htmx=htmx,
        decision="request_changes",
        note="Nearly there.",
        tags=["accuracy", "timing"],
        **{"anchor-0-quote": "Ward 4", "anchor-0-post": "0", "anchor-0-body": "Which hospital?"},
        **{"anchor-1-quote": "", "anchor-1-body": ""},
        **{"suggestion-0": "Flu clinic opens Monday, Ward 4, Victoria Hospital."},
        **SCORES,
    )
    assert response.status_code == (200 if htmx else 302)
    review = Review.objects.get()
    assert review.tags == ["accuracy", "timing"]
    assert review.suggestion == ["Flu clinic opens Monday, Ward 4, Victoria Hospital."]
    assert sorted(review.notes.values_list("quote", flat=True)) == ["", "Ward 4"]
    if htmx:
        assert response["HX-Trigger"] == "queueChanged"


def test_a_score_out_of_range_keeps_everything_typed(client, coach, submitted):
    response = decide(
        signed_in(client, coach),
        submitted,
        decision="request_changes",
        note="My careful note",
        tags=["tone"],
        safe="9",
        person_centred="2",
        effective="3",
        **{"anchor-0-quote": "Ward 4", "anchor-0-body": "My anchored thought"},
        **{"suggestion-0": "My rewrite"},
    )
    body = response.content.decode()
    assert response.status_code == 422
    assert "Score safe from 1 to 4" in body
    assert '<a href="#id_safe">' in body
    assert "My careful note" in body and "My anchored thought" in body and "My rewrite" in body
    assert 'name="person_centred" type="radio" value="2" checked' in body
    assert 'name="tags" type="checkbox" value="tone" checked' in body
    assert not Review.objects.exists()


def test_a_quote_not_in_the_post_is_explained(client, coach, submitted):
    response = decide(
        signed_in(client, coach),
        submitted,
        decision="approve",
        **{"anchor-0-quote": "Ward 9", "anchor-0-body": "Hm"},
        **SCORES,
    )
    assert response.status_code == 422
    assert "“Ward 9” is not in the post" in response.content.decode()


def test_adding_another_note_box_without_javascript_saves_nothing(client, coach, submitted):
    response = signed_in(client, coach).post(
        reverse("review_decide", args=[submitted.pk]),
        {
            "revision": submitted.current_revision_id,
            "add_anchor": "1",
            "note": "Kept",
            "safe": "4",
            "anchor-0-quote": "Ward 4",
            "anchor-0-body": "First",
        },
    )
    body = response.content.decode()
    assert response.status_code == 200
    assert 'id="anchor-1-quote"' in body and 'id="anchor-2-quote"' in body
    assert "First" in body and "Kept" in body
    assert 'name="safe" type="radio" value="4" checked' in body
    assert "There is a problem" not in body
    assert not Review.objects.exists()


def test_a_decision_refused_mid_takeover_keeps_the_coachs_words(
    client, coach, second_coach, submitted
):
    coaching.review_claim(draft=submitted, by=coach)
    Draft.objects.filter(pk=submitted.pk).update(
        claimed_at=timezone.now() - dt.timedelta(minutes=20)
    )
    coaching.review_claim(draft=submitted, by=second_coach)
    response = decide(
        signed_in(client, coach),
        submitted,
        decision="approve",
        note="Twenty minutes of thought",
        tags=["tone"],
        **{"suggestion-0": "A better version"},
        **SCORES,
    )
    body = response.content.decode()
    assert response.status_code == 422
    assert "Colin took over this review at" in body
    assert "Twenty minutes of thought" in body and "A better version" in body
    assert 'value="tone" checked' in body
    assert not Review.objects.exists()


# Claims on the page -------------------------------------------------------------------------


def test_another_coach_sees_who_is_reviewing_in_the_queue_and_on_the_page(
    client, coach, second_coach, submitted
):
    coaching.review_claim(draft=submitted, by=coach)
    client = signed_in(client, second_coach)
    assert "Being reviewed by Cora" in client.get(reverse("queue")).content.decode()
    page = client.get(reverse("review", args=[submitted.pk])).content.decode()
    assert "Being reviewed by Cora" in page and "Take over" not in page
    Draft.objects.filter(pk=submitted.pk).update(
        claimed_at=timezone.now() - dt.timedelta(minutes=20)
    )
    page = client.get(reverse("review", args=[submitted.pk])).content.decode()
    assert "has not been active since" in page and "Take over this review" in page
    assert "you can take it over" in client.get(reverse("queue")).content.decode()
    response = client.post(reverse("review_claim", args=[submitted.pk]), follow=True)
    assert "You have taken over this review from Cora." in response.content.decode()


def test_the_claim_banner_polls_by_itself(client, coach, second_coach, submitted):
    coaching.review_claim(draft=submitted, by=coach)
    response = signed_in(client, second_coach).get(
        reverse("review", args=[submitted.pk]), headers={"HX-Request": "true", "HX-Target": "claim"}
    )
    body = response.content.decode()
    assert body.lstrip().startswith('<div id="claim"') and "<html" not in body
    assert "Being reviewed by Cora" in body


def test_the_holders_page_renews_the_claim(client, coach, submitted):
    coaching.review_claim(draft=submitted, by=coach)
    old = timezone.now() - dt.timedelta(minutes=10)
    Draft.objects.filter(pk=submitted.pk).update(claimed_at=old)
    client = signed_in(client, coach)
    page = client.get(reverse("review", args=[submitted.pk])).content.decode()
    assert f'hx-post="{reverse("review_claim_renew", args=[submitted.pk])}"' in page
    response = client.post(
        reverse("review_claim_renew", args=[submitted.pk]), headers={"HX-Request": "true"}
    )
    # Nothing to redraw, so the banner (and its throttle while typing) stays as it is.
    assert response.status_code == 204
    submitted.refresh_from_db()
    assert submitted.claimed_at > old


def test_a_coach_whose_review_was_taken_over_is_told_on_the_next_renewal(
    client, coach, second_coach, submitted
):
    coaching.review_claim(draft=submitted, by=coach)
    Draft.objects.filter(pk=submitted.pk).update(
        claimed_at=timezone.now() - dt.timedelta(minutes=20)
    )
    coaching.review_claim(draft=submitted, by=second_coach)
    client = signed_in(client, coach)
    url = reverse("review_claim_renew", args=[submitted.pk])
    body = client.post(url, headers={"HX-Request": "true"}).content.decode()
    assert "Colin took over this review at" in body and 'role="alert"' in body
    plain = client.post(url, follow=True)
    assert "Colin took over this review at" in plain.content.decode()


@pytest.mark.parametrize("who", PEOPLE)
def test_who_can_renew_a_claim(request, client, submitted, coach, who):
    coaching.review_claim(draft=submitted, by=coach)
    if who != "anonymous":
        signed_in(client, request.getfixturevalue(who))
    response = client.post(reverse("review_claim_renew", args=[submitted.pk]))
    expected = {
        "anonymous": 302,
        "trainee": 403,
        "other_trainee": 403,
        "coach": 302,
        "outside_coach": 404,
        "admin": 302,
    }[who]
    assert response.status_code == expected
    if who == "anonymous":
        assert response["Location"].startswith(reverse("login"))


# The trainee's view -----------------------------------------------------------------------


@pytest.fixture
def reviewed(submitted, coach):  # type: ignore[no-untyped-def]
    return coaching.review_request_changes(
        draft=submitted,
        by=coach,
        note="Nearly there.",
        scores={"safe": 4, "person_centred": 2, "effective": 3},
        tags=["plain_english"],
        anchored_notes=[AnchoredNote(body="Which hospital?", quote="Ward 4")],
        suggestion=["Flu clinic opens Monday on Ward 4, Victoria Hospital. Bring your card."],
    )


def test_the_trainee_sees_scores_tags_and_notes_marked_in_their_text(client, trainee, reviewed):
    body = signed_in(client, trainee).get(reverse("draft_detail", args=[reviewed.draft_id]))
    body = body.content.decode()
    note = FeedbackNote.objects.get(quote="Ward 4")
    assert "<dt>Person-centred</dt><dd><strong>2 of 4</strong>: Written for the service" in body
    assert '<strong class="nhsuk-tag nhsuk-tag--grey">Plain English</strong>' in body
    assert '<mark class="sp-anchor">Ward 4</mark>' in body
    assert f'href="#note-{note.pk}"' in body and f'id="note-{note.pk}"' in body
    assert "(see note 1)" in body and "<strong>Note 1</strong> on “Ward 4”: Which hospital?" in body
    assert "Use this rewrite" in body
    assert "<ins>" in body  # the rewrite shows what it changes


def test_a_spot_check_pass_shows_as_spot_check(client, trainee, submitted):
    Review.objects.create(
        draft=submitted,
        revision=submitted.current_revision,
        decision="approve",
        content_hash=submitted.current_revision.content_hash,
    )
    body = signed_in(client, trainee).get(reverse("draft_detail", args=[submitted.pk]))
    assert "<strong>Passed by spot-check</strong> (no coach read it)" in body.content.decode()


def test_using_the_rewrite_makes_a_new_revision(client, trainee, reviewed):
    url = reverse("suggestion_accept", args=[reviewed.draft_id, reviewed.pk])
    response = signed_in(client, trainee).post(url, follow=True)
    body = response.content.decode()
    assert "Your coach&#x27;s rewrite is now your latest revision." in body
    assert "Revision 2 (current)" in body
    draft = Draft.objects.get(pk=reviewed.draft_id)
    assert draft.current_revision.text.endswith("Victoria Hospital. Bring your card.")
    assert "Use this rewrite" not in body and "Used as a new revision" in body


def test_using_a_rewrite_after_moving_on_is_refused_with_a_message(client, trainee, reviewed):
    draft = Draft.objects.get(pk=reviewed.draft_id)
    services.draft_edit(draft=draft, by=trainee, text="My own fix")
    url = reverse("suggestion_accept", args=[reviewed.draft_id, reviewed.pk])
    response = signed_in(client, trainee).post(url, follow=True)
    assert "changed the post since your coach suggested" in response.content.decode()
    assert Draft.objects.get(pk=draft.pk).current_revision.text == "My own fix"


@pytest.mark.parametrize("who", PEOPLE)
def test_only_the_author_can_use_a_rewrite(request, client, reviewed, who):
    if who != "anonymous":
        signed_in(client, request.getfixturevalue(who))
    url = reverse("suggestion_accept", args=[reviewed.draft_id, reviewed.pk])
    response = client.post(url)
    expected = {"anonymous": 302, "trainee": 302}.get(who, 404)
    assert response.status_code == expected
    made = Draft.objects.get(pk=reviewed.draft_id).revisions.count()
    assert made == (2 if who == "trainee" else 1)


def test_a_review_of_another_draft_is_not_found(client, trainee, account, reviewed):
    mine = services.draft_create(author=trainee, account=account, text="Other")
    url = reverse("suggestion_accept", args=[mine.pk, reviewed.pk])
    assert signed_in(client, trainee).post(url).status_code == 404


@pytest.mark.parametrize("url_name", ["suggestion_accept", "review_claim_renew"])
def test_new_actions_refuse_get(client, coach, trainee, reviewed, url_name):
    args = (
        [reviewed.draft_id, reviewed.pk] if url_name == "suggestion_accept" else [reviewed.draft_id]
    )
    signed_in(client, trainee if url_name == "suggestion_accept" else coach)
    assert client.get(reverse(url_name, args=args)).status_code == 405


def test_the_draft_page_queries_do_not_grow_with_reviews_and_notes(client, trainee, coach, account):
    draft = services.draft_create(author=trainee, account=account, text=TEXT)
    client = signed_in(client, trainee)

    def review_round(n: int) -> None:
        coaching.draft_submit(draft=draft, by=trainee)
        coaching.review_request_changes(
            draft=draft,
            by=coach,
            note=f"Round {n}",
            scores=SCORES,
            tags=["tone"],
            anchored_notes=[
                AnchoredNote(body="a", quote="Ward"),
                AnchoredNote(body="b", quote="card"),
            ],
            suggestion=[f"{TEXT} {n}"],
        )
        services.draft_edit(draft=draft, by=trainee, text=f"{TEXT} (take {n})")

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert client.get(reverse("draft_detail", args=[draft.pk])).status_code == 200
        return len(captured)

    review_round(1)
    few = queries()
    for n in range(2, 6):
        review_round(n)
    assert queries() == few
