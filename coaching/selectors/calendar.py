"""An account's calendar: its scheduled and recent posts, a week or a month at a time.

Each publication sits on the day it went live (``published_at``), else the day it is
planned for (``publish_at``: scheduled, or a spot-check pass's delay), else the day it was
approved (``created_at``: queued now, failed, cancelled). One query for the period, so a
busy month costs what a quiet one does.
"""

import calendar as calendar_module
import datetime as dt
from collections import defaultdict
from dataclasses import dataclass

from django.db.models import QuerySet
from django.db.models.functions import Coalesce
from django.utils import timezone

from coaching.models import Publication
from sandbox.models import WorkplaceAccount

WEEK, MONTH = "week", "month"
# The dates a calendar can show: far enough for any plan or record, and well inside what
# Python's dates can step through (a "next" from the year 9999 would not exist).
EARLIEST, LATEST = dt.date(2000, 1, 1), dt.date(2100, 12, 31)


@dataclass(frozen=True)
class CalendarDay:
    day: dt.date
    is_today: bool
    in_period: bool  # False for the neighbouring months' days that fill a month's weeks
    publications: list[Publication]


@dataclass(frozen=True)
class Calendar:
    account: WorkplaceAccount
    view: str  # WEEK or MONTH
    start: dt.date  # the Monday of the week, or the 1st of the month
    weeks: list[list[CalendarDay]]  # Monday to Sunday
    previous: dt.date | None  # the start of the period before, if it can be shown
    next: dt.date | None
    today: dt.date

    @property
    def count(self) -> int:
        return sum(len(day.publications) for week in self.weeks for day in week if day.in_period)


def period_start(view: str, day: dt.date) -> dt.date:
    """The first day of the week (Monday) or month that holds ``day``."""
    if view == MONTH:
        return day.replace(day=1)
    return day - dt.timedelta(days=day.weekday())


def _neighbours(view: str, start: dt.date) -> tuple[dt.date, dt.date]:
    if view == MONTH:
        before = (start - dt.timedelta(days=1)).replace(day=1)
        after = (start + dt.timedelta(days=32)).replace(day=1)
        return before, after
    return start - dt.timedelta(days=7), start + dt.timedelta(days=7)


def _days_shown(view: str, start: dt.date) -> tuple[dt.date, dt.date]:
    """The first and last day on the grid: whole weeks, Monday to Sunday."""
    if view == WEEK:
        return start, start + dt.timedelta(days=6)
    last = start.replace(day=calendar_module.monthrange(start.year, start.month)[1])
    return (
        start - dt.timedelta(days=start.weekday()),
        last + dt.timedelta(days=6 - last.weekday()),
    )


def calendar_publications(
    account: WorkplaceAccount, first: dt.date, last: dt.date
) -> QuerySet[Publication]:
    """The account's publications whose calendar moment falls on these days (local time)."""
    zone = timezone.get_current_timezone()
    since = dt.datetime.combine(first, dt.time.min, tzinfo=zone)
    until = dt.datetime.combine(last + dt.timedelta(days=1), dt.time.min, tzinfo=zone)
    return (
        Publication.objects.filter(account=account)
        .annotate(on_calendar_at=Coalesce("published_at", "publish_at", "created_at"))
        .filter(on_calendar_at__gte=since, on_calendar_at__lt=until)
        # The approval, for Publication.phase (a spot-check pass has no reviewer).
        .select_related("approval", "draft__author")
        .order_by("on_calendar_at", "pk")
    )


def account_calendar(
    account: WorkplaceAccount, view: str, day: dt.date, *, today: dt.date | None = None
) -> Calendar:
    today = today or timezone.localdate()
    start = period_start(view, day)
    first, last = _days_shown(view, start)
    by_day: dict[dt.date, list[Publication]] = defaultdict(list)
    for publication in calendar_publications(account, first, last):
        by_day[timezone.localtime(publication.on_calendar_at).date()].append(publication)  # type: ignore[attr-defined]
    days = [first + dt.timedelta(days=n) for n in range((last - first).days + 1)]
    cells = [
        CalendarDay(
            day=day,
            is_today=day == today,
            in_period=view == WEEK or day.month == start.month,
            publications=by_day.get(day, []),
        )
        for day in days
    ]
    before, after = _neighbours(view, start)
    return Calendar(
        account=account,
        view=view,
        start=start,
        weeks=[cells[n : n + 7] for n in range(0, len(cells), 7)],
        previous=before if before >= EARLIEST else None,
        next=after if after <= LATEST else None,
        today=today,
    )
