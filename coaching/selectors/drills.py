"""Lockdown drills: who may see which, and the debrief's times (three queries however
large the cohort)."""

from __future__ import annotations

import datetime as dt
import statistics
from dataclasses import dataclass

from django.contrib.auth.models import User
from django.db.models import QuerySet

from coaching.models import DrillRun, DrillStep, LockdownDrill, LockdownStep
from sandbox.selectors import reviewer_organisation_ids, standings

# The debrief's column headings: the checklist's steps in a word or two, so seven of them
# and the times fit across a desk's screen (the full name is read out with each).
SHORT_NAMES = {
    LockdownStep.Step.PASSWORD: "Password",
    LockdownStep.Step.CONNECTED_APPS: "Connected apps",
    LockdownStep.Step.REPORT: "Reported",
    LockdownStep.Step.GOVERNANCE: "Information governance",
    LockdownStep.Step.ROGUE_POSTS: "Rogue posts",
    LockdownStep.Step.RECONNECT: "Reconnect",
    LockdownStep.Step.HOLDING_MESSAGE: "Holding message",
}


def drills_for_reviewer(user: User) -> QuerySet[LockdownDrill]:
    """The drills of the organisations the user coaches or administers."""
    return LockdownDrill.objects.filter(
        organisation_id__in=reviewer_organisation_ids(user)
    ).select_related("account", "cohort", "started_by", "ended_by")


def drill_run_of(user: User, drill_id: int) -> DrillRun | None:
    """The user's own run of a drill, in an organisation they are still active in; None
    for anyone else (a coach, another trainee, another organisation)."""
    organisation_ids = [standing.organisation_id for standing in standings(user)]
    return (
        DrillRun.objects.filter(
            drill_id=drill_id, trainee=user, drill__organisation_id__in=organisation_ids
        )
        .select_related("drill__account", "drill__cohort", "drill__started_by")
        .first()
    )


@dataclass(frozen=True)
class DebriefRow:
    trainee: User
    run: DrillRun
    to_lock_down: dt.timedelta | None
    steps: list[dt.timedelta | None]  # in the checklist's order; None: not ticked
    total: dt.timedelta | None

    @property
    def named_steps(self) -> list[tuple[str, dt.timedelta | None]]:
        return list(zip(LockdownStep.Step.labels, self.steps, strict=True))

    @property
    def state(self) -> str:
        if self.run.started_at is None:
            return "not started"
        if self.run.finished_at is None:
            return "unfinished"
        return "finished"


@dataclass(frozen=True)
class Debrief:
    rows: list[DebriefRow]
    # The cohort's median of those who did each thing (None when nobody did).
    median_to_lock_down: dt.timedelta | None
    median_steps: list[dt.timedelta | None]
    median_total: dt.timedelta | None

    @property
    def step_names(self) -> list[tuple[str, str]]:
        """Each step's short heading and its full name, in the checklist's order."""
        return [(SHORT_NAMES[step], step.label) for step in LockdownStep.Step]

    @property
    def named_medians(self) -> list[tuple[str, dt.timedelta | None]]:
        return list(zip(LockdownStep.Step.labels, self.median_steps, strict=True))


def _median(times: list[dt.timedelta | None]) -> dt.timedelta | None:
    seconds = [time.total_seconds() for time in times if time is not None]
    return dt.timedelta(seconds=statistics.median(seconds)) if seconds else None


def drill_debrief(drill: LockdownDrill) -> Debrief:
    """Each trainee's times from the moment they started: to the pretend lockdown, to each
    step, and in total; and the cohort's median of each."""
    runs = list(drill.runs.select_related("trainee"))
    order = {step: position for position, step in enumerate(LockdownStep.Step.values)}
    done: dict[int, list[dt.datetime | None]] = {run.pk: [None] * len(order) for run in runs}
    for run_id, step, done_at in DrillStep.objects.filter(run__drill=drill).values_list(
        "run_id", "step", "done_at"
    ):
        done[run_id][order[step]] = done_at
    rows = [
        DebriefRow(
            trainee=run.trainee,
            run=run,
            to_lock_down=run.to_lock_down,
            steps=[at - run.started_at if at and run.started_at else None for at in done[run.pk]],
            total=run.total,
        )
        for run in runs
    ]
    return Debrief(
        rows=rows,
        median_to_lock_down=_median([row.to_lock_down for row in rows]),
        median_steps=[
            _median([row.steps[position] for row in rows]) for position in range(len(order))
        ],
        median_total=_median([row.total for row in rows]),
    )
