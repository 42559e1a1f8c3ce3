"""Looking after an account (coaching/services/account_cover.py and the one rule for who
is on, coaching.selectors.inbox.on_duty): the owner, the cover rota across its dates,
overlaps refused, bad dates explained, the handover and handback notes."""

import datetime as dt

import pytest
from django.utils import timezone

from coaching.models import AccountCover, AuditEvent, Notification
from coaching.selectors.inbox import covering_lines, on_duty, on_duty_for
from coaching.services import account_cover
from sandbox.errors import InvalidInput, InvalidState, NotAllowed
from sandbox.models import WorkplaceAccount

pytestmark = pytest.mark.django_db

TODAY = timezone.localdate()
DAY = dt.timedelta(days=1)


@pytest.fixture
def owned(account, coach):
    account_cover.account_owner_set(by=_admin(account), account=account, owner=coach)
    return account


def _admin(account):
    from sandbox.models import Membership

    return Membership.objects.filter(organisation=account.organisation, role="admin").first().user


@pytest.fixture(autouse=True)
def _an_admin(admin):
    return admin


def add(account, person, starts, ends, by=None, note=""):
    return account_cover.cover_add(
        by=by or _admin(account),
        account=account,
        person=person,
        starts_on=starts,
        ends_on=ends,
        handover_note=note,
    )


# The owner ---------------------------------------------------------------------------------


def test_an_admin_names_the_owner_audited(account, admin, coach):
    account_cover.account_owner_set(by=admin, account=account, owner=coach)
    assert WorkplaceAccount.objects.get(pk=account.pk).owner == coach
    (event,) = AuditEvent.objects.filter(action=AuditEvent.Action.ACCOUNT_OWNER_SET)
    assert event.actor == admin and "Cora" in event.detail


@pytest.mark.parametrize("who", ["coach", "trainee", "outside_coach"])
def test_only_an_admin_names_the_owner(request, account, who, coach):
    with pytest.raises(NotAllowed):
        account_cover.account_owner_set(
            by=request.getfixturevalue(who), account=account, owner=coach
        )
    assert WorkplaceAccount.objects.get(pk=account.pk).owner is None


def test_the_owner_is_someone_of_the_organisation(account, admin, outside_coach):
    with pytest.raises(InvalidInput, match="from the organisation"):
        account_cover.account_owner_set(by=admin, account=account, owner=outside_coach)


# Who is on, across the rota's dates --------------------------------------------------------


def test_who_is_on_follows_the_rota_and_falls_back_to_the_owner(
    owned, coach, trainee, second_coach
):
    add(owned, trainee, TODAY + 2 * DAY, TODAY + 4 * DAY)
    add(owned, second_coach, TODAY + 5 * DAY, TODAY + 5 * DAY)
    assert on_duty(owned, TODAY + DAY).person == coach  # before: the owner
    assert on_duty(owned, TODAY + DAY).cover is None
    assert on_duty(owned, TODAY + 2 * DAY).person == trainee  # first day included
    assert on_duty(owned, TODAY + 4 * DAY).person == trainee  # last day included
    assert on_duty(owned, TODAY + 5 * DAY).person == second_coach  # the next period
    assert on_duty(owned, TODAY + 6 * DAY).person == coach  # after: the owner again


def test_nobody_is_on_for_an_account_with_no_owner_and_no_cover(account):
    assert on_duty(account).person is None


def test_who_is_on_for_many_accounts_is_one_query(
    owned, other_account, trainee, django_assert_num_queries
):
    add(owned, trainee, TODAY, TODAY)
    accounts = list(WorkplaceAccount.objects.select_related("owner"))
    with django_assert_num_queries(1):
        duty = on_duty_for(accounts)
    assert duty[owned.pk].person == trainee and duty[other_account.pk].person is None


# The rota's rules -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("starts", "ends"),
    [
        (TODAY + 3 * DAY, TODAY + 3 * DAY),  # inside
        (TODAY, TODAY + 2 * DAY),  # over the start
        (TODAY + 5 * DAY, TODAY + 9 * DAY),  # over the end
        (TODAY, TODAY + 9 * DAY),  # around it
    ],
)
def test_overlapping_periods_are_refused_with_who_and_when(
    owned, trainee, second_coach, starts, ends
):
    add(owned, trainee, TODAY + 2 * DAY, TODAY + 5 * DAY)
    with pytest.raises(InvalidInput) as refused:
        add(owned, second_coach, starts, ends)
    assert "Tara already covers @TestBoard" in refused.value.message
    assert refused.value.field == "starts_on"
    assert AccountCover.objects.count() == 1


def test_periods_side_by_side_are_fine(owned, trainee, second_coach):
    add(owned, trainee, TODAY, TODAY + DAY)
    add(owned, second_coach, TODAY + 2 * DAY, TODAY + 3 * DAY)
    assert AccountCover.objects.count() == 2


def test_bad_dates_are_all_explained_at_once(owned, coach):
    with pytest.raises(InvalidInput) as refused:
        add(owned, coach, TODAY - DAY, TODAY - 2 * DAY)
    fields = {problem.field: problem.message for problem in refused.value}
    assert fields == {
        "person": "The owner cannot cover for themselves: choose someone else.",
        "starts_on": "Cover cannot start in the past: start today or later.",
        "ends_on": "The last day of cover must be on or after the first day.",
    }


def test_missing_dates_and_an_outsider_are_refused(owned, outside_coach):
    with pytest.raises(InvalidInput) as refused:
        add(owned, outside_coach, None, None)
    assert {problem.field for problem in refused.value} == {"person", "starts_on", "ends_on"}


def test_cover_longer_than_a_year_is_refused(owned, trainee):
    with pytest.raises(InvalidInput, match="a year at most"):
        add(owned, trainee, TODAY, TODAY + 400 * DAY)


@pytest.mark.parametrize("who", ["trainee", "coach", "admin"])
def test_the_owner_coaches_and_admins_keep_the_rota(request, account, admin, trainee, who):
    # The owner here is a trainee, who arranges their own cover as staff can.
    account_cover.account_owner_set(by=admin, account=account, owner=trainee)
    by = request.getfixturevalue(who)
    cover = add(account, request.getfixturevalue("second_coach"), TODAY, TODAY, by=by)
    assert cover.created_by == by
    assert on_duty(account).person == cover.person
    (event,) = AuditEvent.objects.filter(action=AuditEvent.Action.COVER_ADDED)
    assert event.actor == by and "Colin" in event.detail


@pytest.mark.parametrize("who", ["trainee", "outside_coach"])
def test_others_cannot_arrange_cover(request, owned, who, second_coach):
    with pytest.raises(NotAllowed):
        add(owned, second_coach, TODAY, TODAY, by=request.getfixturevalue(who))
    assert not AccountCover.objects.exists()


def test_removing_cover_is_audited_and_an_ended_one_stays(owned, trainee, admin):
    cover = add(owned, trainee, TODAY, TODAY)
    account_cover.cover_remove(by=admin, cover=cover)
    assert not AccountCover.objects.exists()
    assert AuditEvent.objects.filter(action=AuditEvent.Action.COVER_REMOVED).count() == 1
    ended = AccountCover.objects.create(
        account=owned, person=trainee, starts_on=TODAY - 3 * DAY, ends_on=TODAY - DAY
    )
    with pytest.raises(InvalidState, match="already ended"):
        account_cover.cover_remove(by=admin, cover=ended)


# Handover and handback ----------------------------------------------------------------------


def test_cover_starting_today_hears_the_handover_note_at_once_and_only_once(owned, trainee):
    add(owned, trainee, TODAY, TODAY + DAY, note="The flu clinic thread needs watching.")
    (notice,) = Notification.objects.filter(user=trainee)
    assert notice.kind == Notification.Kind.HANDOVER
    assert "The flu clinic thread needs watching." in notice.message
    assert account_cover.handovers_due() == 0
    assert Notification.objects.filter(user=trainee).count() == 1


def test_cover_starting_later_hears_it_when_it_starts(owned, trainee):
    add(owned, trainee, TODAY + 2 * DAY, TODAY + 3 * DAY, note="Ask Cora about the strike.")
    assert not Notification.objects.filter(user=trainee).exists()
    assert account_cover.handovers_due(today=TODAY + DAY) == 0
    assert account_cover.handovers_due(today=TODAY + 2 * DAY) == 1
    assert "Ask Cora" in Notification.objects.get(user=trainee).message


def test_the_cover_leaves_a_handback_note_for_the_owner(
    owned, trainee, coach, django_capture_on_commit_callbacks
):
    cover = add(owned, trainee, TODAY, TODAY)
    with django_capture_on_commit_callbacks(execute=True):
        account_cover.cover_handback(by=trainee, cover=cover, note="Two complaints, both answered.")
    assert AccountCover.objects.get(pk=cover.pk).handback_note == "Two complaints, both answered."
    notice = Notification.objects.get(user=coach, kind=Notification.Kind.HANDOVER)
    assert "Two complaints" in notice.message
    assert AuditEvent.objects.filter(action=AuditEvent.Action.HANDBACK_LEFT).count() == 1


def test_only_the_cover_leaves_the_handback_and_not_before_it_starts(owned, trainee, coach):
    cover = add(owned, trainee, TODAY + DAY, TODAY + DAY)
    with pytest.raises(NotAllowed):
        account_cover.cover_handback(by=coach, cover=cover, note="Hello")
    with pytest.raises(InvalidState, match="not started"):
        account_cover.cover_handback(by=trainee, cover=cover, note="Hello")
    with pytest.raises(InvalidInput, match="Write the note"):
        account_cover.cover_handback(by=trainee, cover=cover, note="  ", today=TODAY + DAY)


# The header's line ----------------------------------------------------------------------------


def test_the_covering_line_names_cover_end_and_owner_in_one_query(
    owned, trainee, coach, django_assert_num_queries
):
    add(owned, trainee, TODAY, TODAY + 3 * DAY)
    end = TODAY + 3 * DAY
    expected = [f"@TestBoard: Tara is covering until {end.day} {end:%b} (owner: Cora)"]
    coach = type(coach).objects.get(pk=coach.pk)  # no standings kept from earlier
    with django_assert_num_queries(2):  # the person's standings (kept for the request), the rota
        assert covering_lines(coach) == expected


def test_the_covering_line_changes_when_the_rota_does(owned, trainee, admin, coach):
    cover = add(owned, trainee, TODAY, TODAY)
    assert covering_lines(coach)
    account_cover.cover_remove(by=admin, cover=cover)
    assert covering_lines(type(coach).objects.get(pk=coach.pk)) == []


def test_trainees_see_no_covering_line(owned, trainee, other_trainee):
    add(owned, other_trainee, TODAY, TODAY)
    assert covering_lines(trainee) == []


def test_removing_a_cover_already_running_ends_it_yesterday_and_keeps_its_notes(
    owned, trainee, admin
):
    cover = AccountCover.objects.create(
        account=owned,
        person=trainee,
        starts_on=TODAY - 2 * DAY,
        ends_on=TODAY + 2 * DAY,
        handback_note="Two complaints answered.",
    )
    account_cover.cover_remove(by=admin, cover=cover)
    cover.refresh_from_db()
    assert cover.ends_on == TODAY - DAY and cover.handback_note == "Two complaints answered."
    assert on_duty(owned).person == owned.owner


def test_someone_who_leaves_stops_owning_covering_and_holding_posts(
    owned, coach, trainee, admin, organisation
):
    from coaching.services import people
    from sandbox.models import Membership
    from tests.factories import inbox_item

    running = AccountCover.objects.create(
        account=owned, person=trainee, starts_on=TODAY - DAY, ends_on=TODAY + DAY
    )
    later = AccountCover.objects.create(
        account=owned, person=trainee, starts_on=TODAY + 5 * DAY, ends_on=TODAY + 6 * DAY
    )
    mine = inbox_item(owned, assigned_to=trainee)
    done = inbox_item(owned, assigned_to=trainee, state="done")
    owned_by_coach = WorkplaceAccount.objects.get(pk=owned.pk)
    assert owned_by_coach.owner == coach

    people.person_deactivate(
        by=admin, membership=Membership.objects.get(user=trainee, organisation=organisation)
    )
    running.refresh_from_db()
    assert running.ends_on == TODAY - DAY, "a running period ends, and stays as the record"
    assert not AccountCover.objects.filter(pk=later.pk).exists()
    mine.refresh_from_db()
    done.refresh_from_db()
    assert mine.assigned_to is None and done.assigned_to == trainee
    assert on_duty(WorkplaceAccount.objects.get(pk=owned.pk)).person == coach

    people.person_deactivate(
        by=admin, membership=Membership.objects.get(user=coach, organisation=organisation)
    )
    assert WorkplaceAccount.objects.get(pk=owned.pk).owner is None
