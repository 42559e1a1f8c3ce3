"""Lockdown drills: started for a cohort (a run, a checklist and a notice each), begun,
the pretend lockdown (nothing real touched), each step timed from the start and audited,
the run finished by its last tick, the drill ended by a coach; and the debrief's times and
medians."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from coaching.models import (
    AuditEvent,
    DrillRun,
    DrillStep,
    Lockdown,
    LockdownStep,
    Notification,
    PublishingStop,
)
from coaching.selectors.drills import drill_debrief
from coaching.services import drills
from sandbox.errors import InvalidInput, InvalidState, NotAllowed
from sandbox.models import Cohort, Membership, WorkplaceAccount
from tests import factories

pytestmark = pytest.mark.django_db

A = AuditEvent.Action


def run_of(drill, trainee) -> DrillRun:
    return DrillRun.objects.select_related("drill__account").get(drill=drill, trainee=trainee)


def started_ago(run: DrillRun, seconds: int) -> DrillRun:
    """The run as if its trainee had pressed Start that many seconds ago."""
    DrillRun.objects.filter(pk=run.pk).update(
        started_at=timezone.now() - dt.timedelta(seconds=seconds)
    )
    run.refresh_from_db()
    return run


def test_a_drill_gives_each_trainee_of_the_cohort_a_run_a_checklist_and_a_notice(
    coach, account, ward, trainee, other_trainee, organisation
):
    # Not in the cohort, or not a trainee, or no longer active: not in the drill.
    outsider = factories.member(organisation, "trainee", username="ivy")
    left = factories.member(organisation, "trainee", username="lou")
    Membership.objects.filter(user=left).update(cohort=ward, is_active=False)
    coach_in_ward = factories.member(organisation, "coach", username="cyd")
    Membership.objects.filter(user=coach_in_ward).update(cohort=ward)

    drill = drills.drill_start(
        by=coach, account=account, cohort=ward, incident="Vouchers  from\n@{account} at 02:10"
    )

    assert drill.incident == f"Vouchers from @{account.handle} at 02:10"
    runs = DrillRun.objects.filter(drill=drill)
    assert {run.trainee for run in runs} == {trainee, other_trainee}
    assert all(run.started_at is None for run in runs)
    for run in runs:
        assert list(run.steps.values_list("step", flat=True)) == LockdownStep.Step.values
    notices = Notification.objects.filter(kind=Notification.Kind.DRILL)
    assert {n.user for n in notices} == {trainee, other_trainee}
    assert {n.url for n in notices} == {reverse("drill_run", args=[drill.pk])}
    assert not Notification.objects.filter(user__in=[outsider, left, coach_in_ward]).exists()
    event = AuditEvent.objects.get(action=A.DRILL_STARTED)
    assert event.actor == coach and "Ward 7 (2 trainees)" in event.detail


def test_only_a_coach_or_admin_of_the_organisation_starts_a_drill(
    trainee, outside_coach, admin, account, ward
):
    for person in (trainee, outside_coach):
        with pytest.raises(NotAllowed):
            drills.drill_start(by=person, account=account, cohort=ward, incident="Hacked")
    assert drills.drill_start(by=admin, account=account, cohort=ward, incident="Hacked")


def test_a_drill_refuses_another_organisations_cohort_an_empty_cohort_and_no_incident(
    coach, account, ward, organisation, other_organisation
):
    theirs = Cohort.objects.create(organisation=other_organisation, name="Theirs")
    with pytest.raises(NotAllowed):
        drills.drill_start(by=coach, account=account, cohort=theirs, incident="Hacked")
    empty = Cohort.objects.create(organisation=organisation, name="Empty")
    with pytest.raises(InvalidInput) as refused:
        drills.drill_start(by=coach, account=account, cohort=empty, incident="Hacked")
    assert refused.value.field == "cohort" and "no trainees in Empty" in refused.value.message
    with pytest.raises(InvalidInput) as refused:
        drills.drill_start(by=coach, account=account, cohort=ward, incident=" \n ")
    assert refused.value.field == "incident"
    assert not DrillRun.objects.exists()


def test_a_trainees_run_is_timed_from_their_start_audited_and_finished_by_the_last_tick(
    drill, trainee, account
):
    run = run_of(drill, trainee)
    with pytest.raises(InvalidState):
        drills.drill_lock_down(by=trainee, run=run)  # not started yet
    drills.drill_run_begin(by=trainee, run=run)
    first_start = run.started_at
    drills.drill_run_begin(by=trainee, run=run_of(drill, trainee))  # a double click
    assert run_of(drill, trainee).started_at == first_start

    run = started_ago(run_of(drill, trainee), 90)
    step = run.steps.get(step="password")
    with pytest.raises(InvalidState):
        drills.drill_step_done(by=trainee, step=step)  # the checklist comes after the lockdown
    drills.drill_lock_down(by=trainee, run=run)
    assert dt.timedelta(seconds=89) < run.to_lock_down < dt.timedelta(seconds=95)
    with pytest.raises(InvalidState):
        drills.drill_lock_down(by=trainee, run=run)

    for step in run.steps.all():
        step.run = run
        drills.drill_step_done(by=trainee, step=step)
    with pytest.raises(InvalidState):
        drills.drill_step_done(by=trainee, step=step)
    run.refresh_from_db()
    assert run.finished_at is not None
    assert dt.timedelta(seconds=89) < run.total < dt.timedelta(seconds=95)
    assert all(s.after >= run.to_lock_down for s in run.steps.select_related("run"))

    events = AuditEvent.objects.filter(trainee=trainee).order_by("pk")
    assert list(events.values_list("action", flat=True)) == [
        A.DRILL_RUN_STARTED,
        A.DRILL_LOCKED_DOWN,
        *[A.DRILL_STEP_DONE] * len(LockdownStep.Step.values),
    ]
    assert "1 min 3" in events[1].detail and "nothing real was done" in events[1].detail
    assert events.last().detail.startswith("Post a holding message through review, 1 min")
    # Drill events never land on the account's own audit trail.
    assert not AuditEvent.objects.filter(account=account).exists()
    # Their notice is dealt with; the other trainee's is still waiting.
    notices = Notification.objects.filter(kind=Notification.Kind.DRILL)
    assert notices.get(user=trainee).resolved_at is not None
    assert notices.exclude(user=trainee).get().resolved_at is None


def test_a_drill_never_touches_the_real_account(drill, trainee, account, x_double):
    calls_before = x_double.calls()
    token_before = WorkplaceAccount.objects.get(pk=account.pk).access_token
    run = run_of(drill, trainee)
    drills.drill_run_begin(by=trainee, run=run)
    drills.drill_lock_down(by=trainee, run=run)
    step = run.steps.get(step="connected_apps")
    step.run = run
    drills.drill_step_done(by=trainee, step=step)

    account.refresh_from_db()
    assert account.status == WorkplaceAccount.Status.ACTIVE
    assert account.access_token == token_before
    assert not PublishingStop.objects.exists() and not Lockdown.objects.exists()
    assert x_double.calls() == calls_before  # not a single request to the platform


def test_only_the_trainee_acts_on_their_own_run(drill, trainee, other_trainee, coach):
    run = run_of(drill, trainee)
    for person in (other_trainee, coach):
        with pytest.raises(NotAllowed):
            drills.drill_run_begin(by=person, run=run)
    drills.drill_run_begin(by=trainee, run=run)
    for person in (other_trainee, coach):
        with pytest.raises(NotAllowed):
            drills.drill_lock_down(by=person, run=run)
    drills.drill_lock_down(by=trainee, run=run)
    step = run.steps.first()
    step.run = run
    with pytest.raises(NotAllowed):
        drills.drill_step_done(by=other_trainee, step=step)
    assert not DrillStep.objects.filter(done_at__isnull=False).exists()


def test_an_ended_drill_takes_no_more_starts_or_ticks(
    drill, trainee, other_trainee, coach, outside_coach
):
    run = run_of(drill, trainee)
    drills.drill_run_begin(by=trainee, run=run)
    drills.drill_lock_down(by=trainee, run=run)
    with pytest.raises(NotAllowed):
        drills.drill_end(by=outside_coach, drill=drill)
    with pytest.raises(NotAllowed):
        drills.drill_end(by=trainee, drill=drill)
    drills.drill_end(by=coach, drill=drill)
    with pytest.raises(InvalidState):
        drills.drill_end(by=coach, drill=drill)

    step = run.steps.first()
    step.run = run_of(drill, trainee)
    with pytest.raises(InvalidState):
        drills.drill_step_done(by=trainee, step=step)
    with pytest.raises(InvalidState):
        drills.drill_run_begin(by=other_trainee, run=run_of(drill, other_trainee))
    assert AuditEvent.objects.filter(action=A.DRILL_ENDED, actor=coach).count() == 1
    # Nobody is asked to open a drill that has ended.
    assert not Notification.objects.filter(kind="drill", resolved_at__isnull=True).exists()


def test_the_debrief_gives_each_trainees_times_and_the_cohorts_medians(
    drill, trainee, other_trainee, organisation, ward
):
    late = factories.member(organisation, "trainee", username="nell")
    Membership.objects.filter(user=late).update(cohort=ward)  # joined after: not in it
    start = timezone.now() - dt.timedelta(minutes=10)
    times = {trainee: (30, [60, 120]), other_trainee: (90, [150])}
    for person, (lock_down, steps) in times.items():
        run = run_of(drill, person)
        DrillRun.objects.filter(pk=run.pk).update(
            started_at=start, locked_down_at=start + dt.timedelta(seconds=lock_down)
        )
        for seconds, step in zip(steps, LockdownStep.Step.values, strict=False):
            DrillStep.objects.filter(run=run, step=step).update(
                done_at=start + dt.timedelta(seconds=seconds)
            )

    debrief = drill_debrief(drill)

    rows = {row.trainee: row for row in debrief.rows}
    assert set(rows) == {trainee, other_trainee}
    assert rows[trainee].to_lock_down == dt.timedelta(seconds=30)
    assert rows[trainee].steps[:3] == [dt.timedelta(seconds=60), dt.timedelta(seconds=120), None]
    assert rows[trainee].state == rows[other_trainee].state == "unfinished"
    assert debrief.median_to_lock_down == dt.timedelta(seconds=60)
    assert debrief.median_steps[0] == dt.timedelta(seconds=105)
    assert debrief.median_steps[1] == dt.timedelta(seconds=120)  # only one did it
    assert debrief.median_steps[2] is None and debrief.median_total is None


def test_the_stopwatchs_words():
    words = drills.stopwatch_words
    assert [words(dt.timedelta(seconds=s)) for s in (0, 45, 125, 3720)] == [
        "0 s",
        "45 s",
        "2 min 05 s",
        "1 h 02 min",
    ]
    assert words(None) == ""
