"""Lockdown drills: the recovery checklist of a real lockdown, run as a timed exercise for a
cohort.

A coach starts a drill on one of the organisation's accounts for a cohort; each trainee in
it gets a run (and a notice). A trainee starts their run (the clock starts), presses a
"Lock down" button that does nothing real, then ticks the same steps as a real lockdown's
checklist (``LockdownStep.Step``). Every action is timed from the start and audited.

A drill never touches the account: no stop, no revoke, no token forgotten. The account's
handle is used only in the incident's words, and its audit trail is left alone (drill
events name the trainee, not the account).
"""

from __future__ import annotations

import datetime as dt

from django.contrib.auth.models import User
from django.db import transaction
from django.utils import timezone

from coaching import notifications
from coaching.models import AuditEvent, DrillRun, DrillStep, LockdownDrill, LockdownStep
from coaching.services.lifecycle import _audit
from sandbox import access, scenario_scripts
from sandbox.errors import InvalidInput, InvalidState, NotAllowed
from sandbox.models import Cohort, Membership, WorkplaceAccount

INCIDENT_MAX_LENGTH = 500
DEFAULT_INCIDENT = (
    f"It is 02:10 on a Sunday. Posts promising £500 shopping vouchers to anyone who replies "
    f"with their bank details are going out from {scenario_scripts.ACCOUNT}. Nobody in the "
    "team wrote them, and the on-call manager has just rung you."
)

# The made-up posts the drill's checklist lists for deleting (there is no real account to
# read them from, and none is read).
ROGUE_POSTS = [
    {
        "text": "NHS staff appreciation: £500 shopping vouchers for everyone who replies "
        "with their bank details today!"
    },
    {"text": "Last chance for your £500 voucher. DM us your card number to claim."},
]


def drill_start(
    *, by: User, account: WorkplaceAccount, cohort: Cohort, incident: str
) -> LockdownDrill:
    """A drill for every active trainee in the cohort, each with their own run and checklist,
    each told in the app."""
    access.require_reviewer(by, account.organisation_id)
    if cohort.organisation_id != account.organisation_id:
        raise NotAllowed("That cohort is not in the account's organisation.")
    incident = " ".join(incident.split())
    if not incident:
        raise InvalidInput("Say what is happening in the made-up incident.", field="incident")
    incident = scenario_scripts.addressed_to(incident, account.handle)
    if len(incident) > INCIDENT_MAX_LENGTH:
        raise InvalidInput(
            f"Keep the incident to {INCIDENT_MAX_LENGTH} characters.", field="incident"
        )
    with transaction.atomic():
        trainees = list(
            User.objects.filter(
                memberships__cohort=cohort,
                memberships__organisation_id=account.organisation_id,
                memberships__role=Membership.Role.TRAINEE,
                memberships__is_active=True,
                is_active=True,
            ).order_by("pk")
        )
        if not trainees:
            raise InvalidInput(
                f"There are no trainees in {cohort.name} yet. Add them to the cohort on the "
                "people pages first.",
                field="cohort",
            )
        drill = LockdownDrill.objects.create(
            organisation_id=account.organisation_id,
            account=account,
            cohort=cohort,
            incident=incident,
            started_by=by,
        )
        runs = DrillRun.objects.bulk_create(
            DrillRun(drill=drill, trainee=trainee) for trainee in trainees
        )
        DrillStep.objects.bulk_create(
            DrillStep(run=run, step=step, position=position)
            for run in runs
            for position, step in enumerate(LockdownStep.Step.values)
        )
        _audit(
            AuditEvent.Action.DRILL_STARTED,
            organisation_id=drill.organisation_id,
            actor=by,
            detail=f"Lockdown drill on @{account.handle} for {cohort.name} "
            f"({len(trainees)} trainee{'s' if len(trainees) != 1 else ''})",
        )
        notifications.drill_started(drill=drill, trainees=trainees)
    return drill


def drill_end(*, by: User, drill: LockdownDrill) -> LockdownDrill:
    """No more starting or ticking; the debrief keeps what each trainee did."""
    access.require_reviewer(by, drill.organisation_id)
    now = timezone.now()
    with transaction.atomic():
        ended = LockdownDrill.objects.filter(pk=drill.pk, ended_at__isnull=True).update(
            ended_at=now, ended_by=by
        )
        if not ended:
            raise InvalidState("That drill has already ended.")
        drill.ended_at, drill.ended_by = now, by
        _audit(
            AuditEvent.Action.DRILL_ENDED,
            organisation_id=drill.organisation_id,
            actor=by,
            detail=f"Lockdown drill on @{drill.account.handle} for {drill.cohort.name}",
        )
        notifications.drill_notices_resolved(drill=drill)
    return drill


def _require_own_open_run(by: User, run: DrillRun) -> None:
    if run.trainee_id != by.pk:
        raise NotAllowed("Only the trainee whose drill this is can do that.")
    if run.drill.ended_at is not None:
        raise InvalidState("Your coach has ended this drill, so it can no longer be changed.")


def drill_run_begin(*, by: User, run: DrillRun) -> DrillRun:
    """The clock starts. Pressing Start again (a double click) keeps the first start."""
    _require_own_open_run(by, run)
    now = timezone.now()
    with transaction.atomic():
        begun = DrillRun.objects.filter(pk=run.pk, started_at__isnull=True).update(started_at=now)
        if not begun:
            run.refresh_from_db(fields=["started_at"])
            return run
        run.started_at = now
        _audit(
            AuditEvent.Action.DRILL_RUN_STARTED,
            organisation_id=run.drill.organisation_id,
            actor=by,
            trainee=by,
            detail=f"Lockdown drill on @{run.drill.account.handle}",
        )
    return run


def drill_lock_down(*, by: User, run: DrillRun) -> DrillRun:
    """The pretend lockdown: its time is recorded and nothing else happens."""
    _require_own_open_run(by, run)
    if run.started_at is None:
        raise InvalidState("Start the drill first.")
    now = timezone.now()
    with transaction.atomic():
        pressed = DrillRun.objects.filter(pk=run.pk, locked_down_at__isnull=True).update(
            locked_down_at=now
        )
        if not pressed:
            raise InvalidState("You have already locked the account down in this drill.")
        run.locked_down_at = now
        _audit(
            AuditEvent.Action.DRILL_LOCKED_DOWN,
            organisation_id=run.drill.organisation_id,
            actor=by,
            trainee=by,
            detail=f"Pretend lockdown of @{run.drill.account.handle}, "
            f"{stopwatch_words(now - run.started_at)} after starting; nothing real was done",
        )
    return run


def drill_step_done(*, by: User, step: DrillStep) -> DrillStep:
    run = step.run
    _require_own_open_run(by, run)
    if run.started_at is None or run.locked_down_at is None:
        raise InvalidState("Lock the account down first; then work through the checklist.")
    now = timezone.now()
    with transaction.atomic():
        # The run's row lock makes two ticks at once take turns, so the one that ticks the
        # last step sees every other step done and finishes the run.
        DrillRun.objects.select_for_update().filter(pk=run.pk).first()
        ticked = DrillStep.objects.filter(pk=step.pk, done_at__isnull=True).update(done_at=now)
        if not ticked:
            raise InvalidState("That step is already ticked.")
        step.done_at = now
        _audit(
            AuditEvent.Action.DRILL_STEP_DONE,
            organisation_id=run.drill.organisation_id,
            actor=by,
            trainee=by,
            detail=f"{step.get_step_display()}, {stopwatch_words(now - run.started_at)} after "
            "starting the drill",
        )
        if not DrillStep.objects.filter(run=run, done_at__isnull=True).exists():
            DrillRun.objects.filter(pk=run.pk, finished_at__isnull=True).update(finished_at=now)
            run.finished_at = now
            notifications.drill_notices_resolved(drill=run.drill, user=by)
    return step


def stopwatch_words(elapsed: dt.timedelta | None) -> str:
    """A drill's time to the second, as people say it: "45 s", "2 min 05 s", "1 h 02 min"."""
    if elapsed is None:
        return ""
    seconds = max(0, int(elapsed.total_seconds()))
    minutes, seconds = divmod(seconds, 60)
    hours, minutes = divmod(minutes, 60)
    if hours:
        return f"{hours} h {minutes:02d} min"
    if minutes:
        return f"{minutes} min {seconds:02d} s"
    return f"{seconds} s"
