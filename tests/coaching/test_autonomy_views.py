"""Earned autonomy in the pages: the trainee sees their mode and its history, a coach sees
the rule and can hold a passed post or switch a trainee back, and nobody else can."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from coaching import services as coaching
from coaching.models import Publication
from sandbox import services
from sandbox.models import Draft, Membership, Organisation
from tests import builders
from tests.factories import signed_in

pytestmark = pytest.mark.django_db

Mode = Membership.ReviewMode


@pytest.fixture
def spot_checked(organisation, trainee, coach):  # type: ignore[no-untyped-def]
    """A trainee in spot-check mode, put there as the rule does it (the streak itself is
    tested in test_autonomy.py)."""
    Organisation.objects.filter(pk=organisation.pk).update(
        autonomy_streak=5, spot_check_every=5, spot_check_delay_minutes=60
    )
    membership = Membership.objects.get(user=trainee)
    coaching._change_review_mode(
        membership, to=Mode.SPOT_CHECK, by=None, reason="5 first-pass approvals in a row."
    )
    return trainee


@pytest.fixture
def passed(spot_checked, account) -> Draft:  # type: ignore[no-untyped-def]
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
