"""coaching/services/claims.py: a coach claims a submitted draft while reviewing it; a claim
left stale can be taken over, and the old holder is told. Races between two coaches run on
the real PostgreSQL."""

import datetime as dt
import threading

import pytest
from django.db import connection
from django.utils import timezone

from coaching import services as coaching
from coaching.models import AuditEvent, Review
from sandbox.errors import InvalidState
from sandbox.models import Draft
from tests.factories import SCORES

pytestmark = pytest.mark.django_db


def go_stale(draft: Draft) -> None:
    Draft.objects.filter(pk=draft.pk).update(claimed_at=timezone.now() - dt.timedelta(minutes=16))


# Claims ------------------------------------------------------------------------------------------


def test_a_live_claim_keeps_other_coaches_out(submitted, coach, second_coach):
    coaching.review_claim(draft=submitted, by=coach)
    with pytest.raises(InvalidState) as refused:
        coaching.review_claim(draft=submitted, by=second_coach)
    assert "Cora is reviewing this post (last active at" in refused.value.message
    with pytest.raises(InvalidState) as refused:
        coaching.review_approve(draft=submitted, by=second_coach, scores=SCORES)
    assert "Your decision was not recorded" in refused.value.message
    assert not Review.objects.exists()


def test_a_stale_claim_can_be_taken_over_and_the_old_holder_is_told(submitted, coach, second_coach):
    coaching.review_claim(draft=submitted, by=coach)
    go_stale(submitted)
    coaching.review_claim(draft=submitted, by=second_coach)
    submitted.refresh_from_db()
    assert submitted.claimed_by == second_coach
    event = AuditEvent.objects.get(action=AuditEvent.Action.CLAIM_TAKEN_OVER)
    assert event.actor == second_coach and "From Cora" in event.detail
    with pytest.raises(InvalidState, match="Colin took over this review at"):
        coaching.review_claim_renew(draft=submitted, by=coach)
    with pytest.raises(InvalidState, match="Colin took over this review at") as refused:
        coaching.review_request_changes(draft=submitted, by=coach, note="Mine", scores=SCORES)
    assert "Your decision was not recorded" in refused.value.message


def test_renewing_keeps_a_claim_live(submitted, coach, second_coach):
    coaching.review_claim(draft=submitted, by=coach)
    go_stale(submitted)
    coaching.review_claim_renew(draft=submitted, by=coach)
    with pytest.raises(InvalidState, match="Cora is reviewing"):
        coaching.review_claim(draft=submitted, by=second_coach)


def test_a_stale_claim_does_not_block_a_decision(submitted, coach, second_coach):
    coaching.review_claim(draft=submitted, by=coach)
    go_stale(submitted)
    review = coaching.review_approve(draft=submitted, by=second_coach, scores=SCORES)
    assert review.reviewer == second_coach
    submitted.refresh_from_db()
    assert submitted.claimed_by is None


def test_renewing_an_unclaimed_draft_says_so(submitted, coach):
    with pytest.raises(InvalidState, match="Nobody is reviewing this post now"):
        coaching.review_claim_renew(draft=submitted, by=coach)


def test_claiming_a_decided_draft_is_refused(submitted, coach):
    coaching.review_approve(draft=submitted, by=coach, scores=SCORES)
    with pytest.raises(InvalidState, match="cannot be picked up for review: it is approved"):
        coaching.review_claim(draft=submitted, by=coach)


# Races: two coaches at once, on PostgreSQL ---------------------------------------------------


def at_once(*actions):
    """Run each action in its own thread and connection, released together."""
    barrier = threading.Barrier(len(actions))
    outcomes: list[str] = [""] * len(actions)

    def run(index, action):
        try:
            barrier.wait()
            action()
            outcomes[index] = "done"
        except InvalidState as error:
            outcomes[index] = error.message
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=pair) for pair in enumerate(actions)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return outcomes


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("attempt", range(3))
def test_two_coaches_claiming_at_once_leave_one_holder(submitted, coach, second_coach, attempt):
    outcomes = at_once(
        lambda: coaching.review_claim(draft=Draft.objects.get(pk=submitted.pk), by=coach),
        lambda: coaching.review_claim(draft=Draft.objects.get(pk=submitted.pk), by=second_coach),
    )
    assert sorted(outcome == "done" for outcome in outcomes) == [False, True]
    refused = next(outcome for outcome in outcomes if outcome != "done")
    assert "is reviewing this post" in refused
    submitted.refresh_from_db()
    winner = coach if outcomes[0] == "done" else second_coach
    assert submitted.claimed_by == winner


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("attempt", range(3))
def test_two_coaches_taking_over_at_once_leave_one_holder_and_one_audit(
    submitted, trainee, coach, second_coach, organisation, attempt
):
    from tests.factories import member

    third = member(organisation, "coach", username="cath")
    coaching.review_claim(draft=submitted, by=coach)
    go_stale(submitted)
    outcomes = at_once(
        lambda: coaching.review_claim(draft=Draft.objects.get(pk=submitted.pk), by=second_coach),
        lambda: coaching.review_claim(draft=Draft.objects.get(pk=submitted.pk), by=third),
    )
    assert sorted(outcome == "done" for outcome in outcomes) == [False, True]
    assert AuditEvent.objects.filter(action=AuditEvent.Action.CLAIM_TAKEN_OVER).count() == 1
    submitted.refresh_from_db()
    assert submitted.claimed_by == (second_coach if outcomes[0] == "done" else third)


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("attempt", range(3))
def test_a_takeover_racing_the_old_holders_decision_lets_exactly_one_through(
    submitted, coach, second_coach, attempt
):
    coaching.review_claim(draft=submitted, by=coach)
    go_stale(submitted)
    outcomes = at_once(
        lambda: coaching.review_request_changes(
            draft=Draft.objects.get(pk=submitted.pk), by=coach, note="Mine", scores=SCORES
        ),
        lambda: coaching.review_claim(draft=Draft.objects.get(pk=submitted.pk), by=second_coach),
    )
    submitted.refresh_from_db()
    decided, taken = outcomes
    if decided == "done":
        assert taken != "done"
        assert submitted.status == Draft.Status.CHANGES_REQUESTED
        assert not AuditEvent.objects.filter(action=AuditEvent.Action.CLAIM_TAKEN_OVER).exists()
    else:
        assert taken == "done" and "took over this review" in decided
        assert submitted.status == Draft.Status.IN_REVIEW
        assert submitted.claimed_by == second_coach
        assert not Review.objects.exists()
