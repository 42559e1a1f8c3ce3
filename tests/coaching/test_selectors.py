"""coaching/selectors.py: whose queue a trainee's submission lands in (named coach, cover, or
the pool), for one trainee (responsible_coaches) and in bulk (CoachDirectory), one rule."""

import datetime as dt

import pytest
from django.utils import timezone

from coaching.selectors import CoachDirectory, QueueFilters, queue_page, responsible_coaches
from sandbox.models import Membership
from tests import factories
from tests.builders import submitted

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


# Routing, in bulk and for one trainee, is one rule -----------------------------------------


def name_coach(trainee, coach, organisation):
    Membership.objects.filter(user=trainee, organisation=organisation).update(coach=coach)


def go_away(coach, organisation, *, cover=None, days: int = 3):
    today = timezone.localdate()
    Membership.objects.filter(user=coach, organisation=organisation).update(
        away_from=today, away_until=today + dt.timedelta(days=days), cover_coach=cover
    )


def test_the_directory_routes_as_responsible_coaches_does(
    trainee, other_trainee, coach, second_coach, admin, organisation
):
    name_coach(trainee, second_coach, organisation)
    go_away(second_coach, organisation, cover=coach)
    directory = CoachDirectory([organisation.pk])
    for person, named in ((trainee, second_coach.pk), (other_trainee, None)):
        route = directory.route(organisation.pk, named, trainee_id=person.pk)
        assert (route.coaches, route.reason) == responsible_coaches(
            trainee_id=person.pk, organisation_id=organisation.pk
        )
    assert directory.route(organisation.pk, second_coach.pk).cover == coach
    [absence] = directory.absences()
    assert (absence.coach, absence.cover) == (second_coach, coach)


def test_mine_holds_my_trainees_those_i_cover_and_the_pool(
    trainee, other_trainee, coach, second_coach, admin, account, organisation
):
    third = factories.member(organisation, "trainee", username="theo")
    name_coach(trainee, coach, organisation)  # Cora's own
    name_coach(other_trainee, second_coach, organisation)  # Colin's, covered by Cora
    go_away(second_coach, organisation, cover=coach)
    own = submitted(trainee, account, "Own trainee")
    covered = submitted(other_trainee, account, "Covered trainee")
    pooled = submitted(third, account, "Unassigned trainee")

    def mine(user):
        return {row.draft_id for row in queue_page(user, QueueFilters(scope="mine")).rows}

    assert mine(coach) == {own.pk, covered.pk, pooled.pk}
    assert mine(second_coach) == set()  # away: nothing routed to them
    assert mine(admin) == set()  # admins are not in the pool
    everything = queue_page(second_coach, QueueFilters(scope="all")).rows
    assert {row.draft_id for row in everything} == {own.pk, covered.pk, pooled.pk}


def test_a_coach_whose_cover_is_away_too_hands_to_the_pool(
    trainee, coach, second_coach, account, organisation
):
    name_coach(trainee, second_coach, organisation)
    go_away(second_coach, organisation, cover=coach)
    go_away(coach, organisation)
    draft = submitted(trainee, account, "Nobody in")
    [row] = queue_page(coach, QueueFilters(scope="all")).rows
    assert row.draft_id == draft.pk
    assert row.route.reason == "Coach pool, while Colin is away"
