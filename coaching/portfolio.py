"""The trainee's record: what their reviews add up to, for them, their coaches and an
appraisal. Reads only.

Every figure comes from a fixed number of queries however many drafts a trainee has
written, and is aggregated in the database, so the portfolio and the cohort overview
stay fast as records grow.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import itertools
import statistics
from collections import Counter
from collections.abc import Iterator
from typing import Any

from django.contrib.auth.models import User
from django.core.paginator import Page, Paginator
from django.db import models
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.models import Avg, Count, F, OuterRef, Q, QuerySet, Subquery
from django.db.models.sql.compiler import SQLCompiler

from coaching.models import RUBRIC, RUBRIC_SCORES, Review
from sandbox.models import Draft, Membership
from sandbox.selectors import reviewer_organisation_ids

REVIEWS_PER_PAGE = 25
# The chart shows the most recent scored reviews; the table below it has the same points.
CHART_POINTS = 20


# Median, in the database -------------------------------------------------------------------


class Median(models.Aggregate):
    """The median of an expression. PostgreSQL has it as an ordered-set aggregate; for
    SQLite (the embedded default) ``register_sqlite_median`` adds a MEDIAN function."""

    function = "percentile_cont"
    name = "Median"
    template = "%(function)s(0.5) WITHIN GROUP (ORDER BY %(expressions)s)"

    def as_sqlite(
        self, compiler: SQLCompiler, connection: BaseDatabaseWrapper, **extra_context: Any
    ) -> tuple[str, Any]:
        return self.as_sql(
            compiler, connection, function="MEDIAN", template="%(function)s(%(expressions)s)"
        )


class _SQLiteMedian:
    def __init__(self) -> None:
        self.values: list[float] = []

    def step(self, value: float | None) -> None:
        if value is not None:
            self.values.append(value)

    def finalize(self) -> float | None:
        return statistics.median(self.values) if self.values else None


def register_sqlite_median(sender: object, connection: BaseDatabaseWrapper, **kwargs: Any) -> None:
    """Connected to ``connection_created`` (see apps.py)."""
    if connection.vendor == "sqlite":
        connection.connection.create_aggregate("MEDIAN", 1, _SQLiteMedian)


# The figures ----------------------------------------------------------------------------------


def describe_duration(duration: dt.timedelta | None) -> str:
    """A duration in plain words, to the nearest minute, hour or day."""
    if duration is None:
        return "No approvals yet"
    minutes = round(duration.total_seconds() / 60)
    if minutes < 60:
        return f"{minutes} minute{'s' if minutes != 1 else ''}"
    hours = round(minutes / 60)
    if hours < 48:
        return f"{hours} hour{'s' if hours != 1 else ''}"
    days = round(hours / 24)
    return f"{days} days"


@dataclasses.dataclass(frozen=True)
class Figures:
    """One trainee's summary figures in one organisation."""

    drafts_reviewed: int = 0
    first_pass: int = 0
    median_to_approval: dt.timedelta | None = None
    mean_scores: dict[str, float | None] = dataclasses.field(
        default_factory=lambda: dict.fromkeys(RUBRIC)
    )

    @property
    def first_pass_rate(self) -> float | None:
        return self.first_pass / self.drafts_reviewed if self.drafts_reviewed else None

    @property
    def first_pass_words(self) -> str:
        rate = self.first_pass_rate
        if rate is None:
            return "No reviews yet"
        return f"{rate:.0%} ({self.first_pass} of {self.drafts_reviewed})"

    @property
    def median_words(self) -> str:
        return describe_duration(self.median_to_approval)

    @property
    def mean_score_list(self) -> list[tuple[str, float | None]]:
        return [(RUBRIC[name][0], self.mean_scores.get(name)) for name in RUBRIC]


def figures_by_trainee(drafts: QuerySet[Draft]) -> dict[tuple[int, int], Figures]:
    """Figures for every (author, organisation) among ``drafts``. Two queries.

    This is the one place these rules live:

    - First-pass approval rate: of the drafts a coach has reviewed at least once, the
      share whose first coach review was an approval. A spot-check pass (no reviewer) is
      not a coach review: a draft only ever passed by spot-check counts neither way.
    - Median time to approval: over the approved drafts, the median time from the
      draft's first submission to its first approval (a coach's, or a spot-check pass).
    - Mean scores: the mean of each rubric score over the coach reviews that gave one.
    """
    first_decision = Subquery(
        Review.objects.filter(draft=OuterRef("pk"), reviewer__isnull=False)
        .order_by("created_at", "pk")
        .values("decision")[:1]
    )
    approved_at = Subquery(
        Review.objects.filter(draft=OuterRef("pk"), decision=Review.Decision.APPROVE)
        .order_by("created_at", "pk")
        .values("created_at")[:1]
    )
    key = ("author_id", "account__organisation_id")
    rows = (
        drafts.filter(first_submitted_at__isnull=False)
        .annotate(first_decision=first_decision, approved_at=approved_at)
        .values(*key)
        .annotate(
            drafts_reviewed=Count("pk", filter=Q(first_decision__isnull=False)),
            first_pass=Count("pk", filter=Q(first_decision=Review.Decision.APPROVE)),
            median=Median(
                F("approved_at") - F("first_submitted_at"), output_field=models.DurationField()
            ),
        )
        .order_by()
    )
    scores = (
        Review.objects.filter(draft__in=drafts.values("pk"), reviewer__isnull=False)
        .values("draft__author_id", "draft__account__organisation_id")
        .annotate(**{name: Avg(name) for name in RUBRIC})
        .order_by()
    )
    means = {
        (row["draft__author_id"], row["draft__account__organisation_id"]): {
            name: row[name] for name in RUBRIC
        }
        for row in scores
    }
    return {
        (row["author_id"], row["account__organisation_id"]): Figures(
            drafts_reviewed=row["drafts_reviewed"],
            first_pass=row["first_pass"],
            median_to_approval=row["median"],
            mean_scores=means.get(
                (row["author_id"], row["account__organisation_id"]), dict.fromkeys(RUBRIC)
            ),
        )
        for row in rows
    }


# One trainee's portfolio ----------------------------------------------------------------------


def _with_people(memberships: QuerySet[Membership]) -> QuerySet[Membership]:
    return memberships.select_related("user", "organisation", "cohort", "coach").order_by(
        "organisation_id"
    )


def own_membership(user: User, organisation_id: int | None = None) -> Membership | None:
    """Whose record the portfolio page shows: the user's own, in the organisation asked
    for or their first."""
    memberships = Membership.objects.filter(user=user)
    if organisation_id is not None:
        memberships = memberships.filter(organisation_id=organisation_id)
    return _with_people(memberships).first()


def other_memberships(membership: Membership) -> QuerySet[Membership]:
    """The user's other organisations, each with a record of its own."""
    return _with_people(
        Membership.objects.filter(user_id=membership.user_id).exclude(pk=membership.pk)
    )


def trainee_membership_for(
    viewer: User, trainee_id: int, organisation_id: int | None = None
) -> Membership | None:
    """A trainee of an organisation the viewer coaches or administers; None for anyone
    else, so a coach never sees another organisation's trainees."""
    organisation_ids = reviewer_organisation_ids(viewer)
    if organisation_id is not None:
        organisation_ids = [o for o in organisation_ids if o == organisation_id]
    return _with_people(
        Membership.objects.filter(
            user_id=trainee_id, organisation_id__in=organisation_ids, role=Membership.Role.TRAINEE
        )
    ).first()


def _drafts_of(membership: Membership) -> QuerySet[Draft]:
    return Draft.objects.filter(
        author_id=membership.user_id, account__organisation_id=membership.organisation_id
    )


def reviews_of(membership: Membership) -> QuerySet[Review]:
    """All reviews of the trainee's drafts in the organisation, newest first."""
    return (
        Review.objects.filter(
            draft__author_id=membership.user_id,
            draft__account__organisation_id=membership.organisation_id,
        )
        .select_related("draft", "revision", "reviewer")
        .order_by("-created_at", "-pk")
    )


def review_page(membership: Membership, page_number: str | None) -> Page[Review]:
    """One page of the reviews list, each with its number of notes."""
    reviews: QuerySet[Review] = reviews_of(membership).annotate(notes_count=Count("notes"))
    return Paginator(reviews, REVIEWS_PER_PAGE).get_page(page_number)


def tag_labels(tags: list[str]) -> list[str]:
    """The tags' names as coaches chose them; a tag no longer offered keeps its stored
    name, so nothing a coach said drops out of a record."""
    labels = dict(Review.Tag.choices)
    return [labels.get(tag, tag) for tag in tags or []]


def tag_counts(membership: Membership) -> list[tuple[str, int]]:
    """How often coaches tagged each theme, most often first. Tags are a short JSON list
    per review, counted here rather than with database-specific JSON functions."""
    counts: Counter[str] = Counter()
    for tags in reviews_of(membership).values_list("tags", flat=True):
        counts.update(tags or [])
    return [(tag_labels([tag])[0], n) for tag, n in counts.most_common()]


@dataclasses.dataclass(frozen=True)
class ScorePoint:
    created_at: dt.datetime
    draft_id: int
    scores: dict[str, int | None]


def score_history(membership: Membership, *, limit: int = CHART_POINTS) -> list[ScorePoint]:
    """The rubric scores of the most recent coach reviews that gave any, oldest first."""
    any_score = Q()
    for name in RUBRIC:
        any_score |= Q(**{f"{name}__isnull": False})
    rows = (
        reviews_of(membership)
        .filter(any_score, reviewer__isnull=False)
        .values("created_at", "draft_id", *RUBRIC)[:limit]
    )
    return [
        ScorePoint(row["created_at"], row["draft_id"], {name: row[name] for name in RUBRIC})
        for row in reversed(rows)
    ]


# The chart, drawn on the server as SVG --------------------------------------------------------

CHART_WIDTH, CHART_HEIGHT = 640, 240
_LEFT, _RIGHT, _TOP, _BOTTOM = 48, 16, 16, 24
_LOWEST, _HIGHEST = min(RUBRIC_SCORES), max(RUBRIC_SCORES)


@dataclasses.dataclass(frozen=True)
class ChartLine:
    name: str
    title: str
    points: str  # the polyline's "x,y x,y ..."
    dots: list[tuple[float, float, int]]  # x, y and the score shown


@dataclasses.dataclass(frozen=True)
class Chart:
    width: int
    height: int
    lines: list[ChartLine]
    grid: list[tuple[float, int]]  # y of each score level, and the level
    left: int
    right: float


def _y(score: int) -> float:
    plot = CHART_HEIGHT - _TOP - _BOTTOM
    return round(_TOP + (_HIGHEST - score) * plot / (_HIGHEST - _LOWEST), 1)


def chart(history: list[ScorePoint]) -> Chart:
    """Geometry for the rubric-over-time chart: one line per rubric heading, scores 1 to
    4 up the side, reviews in order along the bottom."""
    plot_width = CHART_WIDTH - _LEFT - _RIGHT
    step = plot_width / (len(history) - 1) if len(history) > 1 else 0

    def x(index: int) -> float:
        return round(_LEFT + index * step if step else _LEFT + plot_width / 2, 1)

    lines = []
    for name, (title, _levels) in RUBRIC.items():
        dots = [
            (x(index), _y(score), score)
            for index, point in enumerate(history)
            if (score := point.scores[name]) is not None
        ]
        lines.append(ChartLine(name, title, " ".join(f"{dx},{dy}" for dx, dy, _ in dots), dots))
    return Chart(
        width=CHART_WIDTH,
        height=CHART_HEIGHT,
        lines=lines,
        grid=[(_y(level), level) for level in RUBRIC_SCORES],
        left=_LEFT,
        right=CHART_WIDTH - _RIGHT,
    )


@dataclasses.dataclass(frozen=True)
class Portfolio:
    membership: Membership
    figures: Figures
    tags: list[tuple[str, int]]
    history: list[ScorePoint]

    @property
    def trainee(self) -> User:
        return self.membership.user

    @property
    def chart(self) -> Chart:
        return chart(self.history)

    @property
    def rubric_titles(self) -> list[str]:
        return [title for title, _levels in RUBRIC.values()]


def portfolio_for(membership: Membership) -> Portfolio:
    """The summary of one trainee's record in one organisation: four queries."""
    figures = figures_by_trainee(_drafts_of(membership)).get(
        (membership.user_id, membership.organisation_id), Figures()
    )
    return Portfolio(
        membership=membership,
        figures=figures,
        tags=tag_counts(membership),
        history=score_history(membership),
    )


def reviews_for_export(membership: Membership) -> Iterator[Review]:
    """Every review, newest first, with its notes, read in chunks (a long record need
    not sit in memory at once)."""
    return reviews_of(membership).prefetch_related("notes").iterator(chunk_size=500)


# The cohort overview --------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class CohortRow:
    membership: Membership
    figures: Figures


@dataclasses.dataclass(frozen=True)
class CohortGroup:
    organisation_name: str
    name: str
    rows: list[CohortRow]


def cohort_overview(viewer: User) -> list[CohortGroup]:
    """Each trainee of the organisations the viewer coaches, grouped by cohort (those in
    none last, as "No cohort"), with their figures. Four queries, whatever the size."""
    organisation_ids = reviewer_organisation_ids(viewer)
    memberships = (
        Membership.objects.filter(
            organisation_id__in=organisation_ids, role=Membership.Role.TRAINEE
        )
        .select_related("user", "organisation", "cohort")
        .order_by(
            "organisation__name",
            F("cohort__name").asc(nulls_last=True),
            "user__first_name",
            "user__username",
        )
    )
    figures = figures_by_trainee(
        Draft.objects.filter(account__organisation_id__in=organisation_ids)
    )

    def group_key(membership: Membership) -> tuple[str, str]:
        return membership.organisation.name, membership.cohort.name if membership.cohort else ""

    return [
        CohortGroup(
            organisation_name=organisation_name,
            name=cohort_name or "No cohort",
            rows=[
                CohortRow(m, figures.get((m.user_id, m.organisation_id), Figures()))
                for m in members
            ],
        )
        for (organisation_name, cohort_name), members in itertools.groupby(
            memberships, key=group_key
        )
    ]
