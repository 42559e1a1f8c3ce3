"""The review page (coaching/views/review.py): the coach's form, claims on the page,
decisions that keep what the coach typed, the checks' findings, images, and earned
autonomy's hold and switch-back (with what the trainee then sees)."""

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from coaching import services as coaching
from coaching.models import Publication, Review
from sandbox import services
from sandbox.models import (
    Draft,
    Membership,
    Organisation,
)
from tests import builders
from tests.factories import PASSWORD, SCORES, signed_in
from tests.sandbox.test_media import photo

pytestmark = pytest.mark.django_db

Mode = Membership.ReviewMode

TEXT = "Flu clinic opens Monday at Ward 4. Bring your card."
PEOPLE = ["anonymous", "trainee", "other_trainee", "coach", "outside_coach", "admin"]


@pytest.fixture
def post_text() -> str:
    return TEXT


def decide(client, draft, htmx=False, **data):
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
        assert response["Location"].startswith(reverse("account_login"))


# Decisions on the page ------------------------------------------------------------------


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


def test_a_note_and_scores_both_missing_are_both_in_the_error_summary(as_coach, submitted):
    response = as_coach.post(
        reverse("review_decide", args=[submitted.pk]),
        {"decision": "request_changes", "note": "", "revision": submitted.current_revision_id},
    )
    assert response.status_code == 422
    body = response.content.decode()
    summary = body[body.index("nhsuk-error-summary__list") :]
    summary = summary[: summary.index("</ul>")]
    assert "Write a note" in summary
    assert "Score the post for safe, person-centred and effective" in summary


def test_the_forms_own_errors_and_the_feedbacks_come_together(as_coach, submitted):
    response = as_coach.post(
        reverse("review_decide", args=[submitted.pk]),
        {"note": "", "revision": submitted.current_revision_id, "publish_at": "soon"},
    )
    assert response.status_code == 422
    body = response.content.decode()
    summary = body[body.index("nhsuk-error-summary__list") :]
    summary = summary[: summary.index("</ul>")]
    for said in ("Choose approve, request changes or reject.", "Enter a date and time", "Score"):
        assert said in summary
    assert summary.count("<li>") == 3


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


# What the coach sees: images and the checks' findings -------------------------------------


@pytest.mark.usefixtures("private_media")
def test_the_coach_sees_the_images_on_the_review_page(client, trainee, coach, account):
    image = services.post_image_add(by=trainee, draft=None, upload=photo())
    draft = services.draft_create(
        author=trainee, account=account, text="Hi", images=[[{"id": image.pk, "alt": "The desk"}]]
    )
    coaching.draft_submit(draft=draft, by=trainee)
    page = signed_in(client, coach).get(reverse("review", args=[draft.pk])).content.decode()
    assert f'src="{reverse("post_image", args=[image.pk])}" alt="The desk"' in page


def test_the_review_page_shows_the_findings_and_asks_for_a_reason(client, coach, risky):
    client.login(username=coach.username, password=PASSWORD)
    body = client.get(reverse("review", args=[risky.pk])).content.decode()
    assert "Patient identifier" in body
    assert "Let it through" in body


# Earned autonomy: holding a passed post, switching a trainee back -------------------------


@pytest.fixture
def spot_checked(organisation, trainee, coach):
    """A trainee in spot-check mode, put there as the rule does it (the streak itself is
    tested in services/test_review_modes.py)."""
    Organisation.objects.filter(pk=organisation.pk).update(
        autonomy_streak=5, spot_check_every=5, spot_check_delay_minutes=60
    )
    membership = Membership.objects.get(user=trainee)
    coaching._change_review_mode(
        membership, to=Mode.SPOT_CHECK, by=None, reason="5 first-pass approvals in a row."
    )
    return trainee


@pytest.fixture
def passed(spot_checked, account) -> Draft:
    return builders.passed(spot_checked, account, "Clinic at 2pm")


def test_the_trainee_sees_their_mode_and_its_history(client, spot_checked, passed):
    page = signed_in(client, spot_checked).get(reverse("timeline")).content.decode()
    today = timezone.localdate().strftime("%-d %b")
    assert "You are in spot-check mode since <time" in page
    assert today in page
    assert "most posts publish 60 minutes after they are sent unless a coach steps in; " in page
    assert "1 in 5 is reviewed" in page
    assert "Moved to spot-check: 5 first-pass approvals in a row. (the organisation's rule)" in page

    draft_page = client.get(reverse("draft_detail", args=[passed.pk])).content.decode()
    at = timezone.localtime(passed.publications.get().publish_at).strftime("%H:%M")
    assert f"{at}</time> unless a coach steps in" in draft_page
    assert "Passed by spot-check</strong> (no coach read it)" in draft_page
    assert "Hold for review" not in draft_page  # a coach's button


def test_the_trainee_sees_the_change_when_a_coach_holds_a_post(client, spot_checked, passed, coach):
    response = signed_in(client, coach).post(reverse("spot_check_hold", args=[passed.pk]))
    assert response.status_code == 302
    passed.refresh_from_db()
    assert passed.status == Draft.Status.SUBMITTED
    client.logout()
    page = signed_in(client, spot_checked).get(reverse("timeline")).content.decode()
    assert "Full review</strong> A coach reads every post" in page
    assert (
        "Back to full review: Cora held one of your posts for review before it published." in page
    )
    assert "First-pass approvals in a row: <strong>0 of 5</strong>" in page


def test_a_coach_sees_the_rule_and_the_hold_button(client, spot_checked, passed, coach):
    signed_in(client, coach)
    review_page = client.get(reverse("review", args=[passed.pk])).content.decode()
    assert "Hold for review" in review_page
    trainee_page = client.get(reverse("trainee_timeline", args=[spot_checked.pk])).content.decode()
    assert "Tara is in spot-check mode" in trainee_page
    assert "after 5 first-pass approvals in a row" in trainee_page
    assert "Switch to full review" in trainee_page


def test_hold_lost_to_the_worker_says_so(client, spot_checked, passed, coach):
    Publication.objects.filter(draft=passed).update(status=Publication.Status.SENDING)
    url = reverse("spot_check_hold", args=[passed.pk])
    response = signed_in(client, coach).post(url, follow=True)
    assert "Too late to hold this post" in response.content.decode()
    assert Membership.objects.get(user=spot_checked).review_mode == Mode.SPOT_CHECK


@pytest.mark.parametrize("who", ["outside_coach", "other_trainee", "trainee", None])
def test_only_a_coach_of_the_organisation_can_hold(client, passed, who, request):
    url = reverse("spot_check_hold", args=[passed.pk])
    if who is None:
        response = client.post(url)
        assert response.status_code == 302 and "/accounts/login/" in response["Location"]
    else:
        response = signed_in(client, request.getfixturevalue(who)).post(url)
        # Outside the organisation: 404; inside it but not a coach: 403.
        assert response.status_code == (404 if who == "outside_coach" else 403)
    assert passed.publications.get().status == Publication.Status.QUEUED


def test_hold_and_switch_refuse_get(client, passed, coach, spot_checked):
    signed_in(client, coach)
    assert client.get(reverse("spot_check_hold", args=[passed.pk])).status_code == 405
    assert client.get(reverse("review_mode_full", args=[spot_checked.pk])).status_code == 405


def test_a_coach_switches_a_trainee_back_with_a_reason(client, spot_checked, coach, organisation):
    signed_in(client, coach)
    url = reverse("review_mode_full", args=[spot_checked.pk])
    response = client.post(url, {"organisation": organisation.pk, "reason": ""}, follow=True)
    assert response.status_code == 200
    assert "Say why, so the trainee knows" in response.content.decode()
    assert Membership.objects.get(user=spot_checked).review_mode == Mode.SPOT_CHECK
    client.post(url, {"organisation": organisation.pk, "reason": "New service, new risks"})
    assert Membership.objects.get(user=spot_checked).review_mode == Mode.FULL


@pytest.mark.parametrize(
    ("who", "status"), [("trainee", 404), ("outside_coach", 404), ("other_trainee", 404)]
)
def test_nobody_else_can_switch_a_trainee(client, spot_checked, organisation, who, status, request):
    signed_in(client, request.getfixturevalue(who))
    response = client.post(
        reverse("review_mode_full", args=[spot_checked.pk]),
        {"organisation": organisation.pk, "reason": "I would rather"},
    )
    assert response.status_code == status
    assert Membership.objects.get(user=spot_checked).review_mode == Mode.SPOT_CHECK


def test_the_timeline_panel_costs_the_same_however_long_the_history(
    client, spot_checked, coach, organisation
):
    signed_in(client, spot_checked)

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert client.get(reverse("timeline")).status_code == 200
        return len(captured)

    before = queries()
    for n in range(6):
        coaching.review_mode_set_full(
            trainee=spot_checked, organisation_id=organisation.pk, by=coach, reason=f"Round {n}"
        )
        coaching._change_review_mode(
            Membership.objects.get(user=spot_checked),
            to=Mode.SPOT_CHECK,
            by=None,
            reason="Earned again.",
        )
    assert queries() == before


def test_a_post_passed_by_spot_check_says_when_it_publishes(client, spot_checked, account):
    draft = services.draft_create(author=spot_checked, account=account, text="Clinic at 3pm")
    response = signed_in(client, spot_checked).post(
        reverse("draft_submit", args=[draft.pk]), follow=True
    )
    assert "Passed by spot-check: it publishes at " in response.content.decode()
    assert "unless a coach holds it for review first" in response.content.decode()
