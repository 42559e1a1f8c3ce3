"""Whose queue a trainee's submission lands in: named coach, cover, or the pool."""

import datetime as dt

import pytest

from coaching.selectors import responsible_coaches
from sandbox.models import Membership

pytestmark = pytest.mark.django_db

TODAY = dt.date(2026, 11, 24)


def _membership(user, organisation):
    return Membership.objects.get(user=user, organisation=organisation)


def _route(trainee, organisation):
    return responsible_coaches(trainee_id=trainee.pk, organisation_id=organisation.id, on=TODAY)


def test_a_trainee_with_a_named_coach_goes_to_that_coach(trainee, coach, organisation):
    Membership.objects.filter(user=trainee, organisation=organisation).update(coach=coach)
    coaches, why = _route(trainee, organisation)
    assert coaches == [coach]
    assert why == (coach.get_full_name() or coach.username)


def test_while_the_coach_is_away_their_cover_coach_takes_over(
    trainee, coach, second_coach, organisation
):
    Membership.objects.filter(user=trainee, organisation=organisation).update(coach=coach)
    Membership.objects.filter(user=coach, organisation=organisation).update(
        away_from=TODAY, away_until=TODAY + dt.timedelta(days=3), cover_coach=second_coach
    )
    coaches, why = _route(trainee, organisation)
    assert coaches == [second_coach]
    assert "covering for" in why


def test_away_without_cover_falls_to_the_pool_of_coaches_who_are_in(
    trainee, coach, second_coach, organisation
):
    Membership.objects.filter(user=trainee, organisation=organisation).update(coach=coach)
    Membership.objects.filter(user=coach, organisation=organisation).update(
        away_from=TODAY - dt.timedelta(days=1), away_until=None
    )
    coaches, why = _route(trainee, organisation)
    assert coaches == [second_coach]
    assert why.startswith("Coach pool, while")


def test_a_coach_back_from_leave_gets_their_trainees_again(trainee, coach, organisation):
    Membership.objects.filter(user=trainee, organisation=organisation).update(coach=coach)
    Membership.objects.filter(user=coach, organisation=organisation).update(
        away_from=TODAY - dt.timedelta(days=7), away_until=TODAY - dt.timedelta(days=1)
    )
    assert _route(trainee, organisation)[0] == [coach]


def test_an_unassigned_trainee_goes_to_every_coach_of_their_organisation_only(
    trainee, coach, second_coach, outside_coach, organisation
):
    coaches, why = _route(trainee, organisation)
    assert set(coaches) == {coach, second_coach}
    assert outside_coach not in coaches
    assert why == "Coach pool"
