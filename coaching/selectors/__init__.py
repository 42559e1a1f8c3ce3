import dataclasses
import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from django.conf import settings
from django.contrib.auth.models import User
from django.core.paginator import Page, Paginator
from django.db.models import (
    BooleanField,
    Case,
    Count,
    DateTimeField,
    Exists,
    ExpressionWrapper,
    F,
    FilteredRelation,
    Min,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Value,
    When,
)
from django.utils import timezone

from coaching.models import (
    AuditEvent,
    DraftComment,
    Lockdown,
    Notification,
    Publication,
    PublishingStop,
    Review,
)
from sandbox import page_cache
from sandbox.checks import CHECKS, CheckContext
from sandbox.models import (
    Cohort,
    Draft,
    DraftRevision,
    Membership,
    Organisation,
    WorkplaceAccount,
)
from sandbox.selectors import (
    REVIEWER_ROLES,
    admin_organisation_ids,
    check_context,
    check_contexts,
    display_name,
    findings_for_posts,
    name_of,
    reviewer_organisation_ids,
)

WAITING = (Draft.Status.SUBMITTED, Draft.Status.IN_REVIEW)


def queue_for(user: User) -> QuerySet[Draft]:
    """Drafts waiting for a coach's decision, oldest first. Excludes the coach's own."""
    return (
        Draft.objects.filter(
            status__in=WAITING,
            account__organisation_id__in=reviewer_organisation_ids(user),
        )
        .exclude(author_id=user.pk)
        .select_related("current_revision", "author", "account", "claimed_by")
        .defer(*WorkplaceAccount.secrets_of("account"))
        .order_by("submitted_at", "pk")
    )


@dataclass(frozen=True)
class Claim:
    """Who is reviewing a draft, as the page shows it."""

    holder: User
    last_active: dt.datetime
    live: bool
    mine: bool


def claim_is_live(draft: Draft, now: dt.datetime | None = None) -> bool:
    if draft.claimed_by_id is None:
        return False
    return claim_live_at(draft.claimed_at, now or timezone.now())


def claim_live_at(claimed_at: dt.datetime | None, now: dt.datetime) -> bool:
    """A claim lives CLAIM_STALE_AFTER from its last sign of life (``claimed_at``)."""
    return claimed_at is not None and claimed_at >= now - settings.CLAIM_STALE_AFTER


def claim_of(draft: Draft, viewer: User) -> Claim | None:
    if draft.status != Draft.Status.IN_REVIEW or draft.claimed_by is None:
        return None
    assert draft.claimed_at is not None
    return Claim(
        holder=draft.claimed_by,
        last_active=draft.claimed_at,
        live=claim_is_live(draft),
        mine=draft.claimed_by_id == viewer.pk,
    )


def is_away(membership: Membership, on: dt.date) -> bool:
    if membership.away_from is None:
        return False
    return membership.away_from <= on and (
        membership.away_until is None or on <= membership.away_until
    )


def actor_name(event: AuditEvent) -> str:
    """Who did what an audit event records; Sandpit itself (the beat, the autonomy rule)
    when no person did. The same in the log page and its CSV."""
    return display_name(event.actor) if event.actor else "Sandpit"


def reviewer_name(review: Review) -> str:
    """Who decided a review. A spot-check pass has no reviewer: it is named one way
    wherever reviews are listed (pages, exports, notifications)."""
    return display_name(review.reviewer) if review.reviewer else "Spot-check (no coach)"


@dataclass(frozen=True)
class Route:
    """Whose queue a trainee's submissions are in, and why, in words for the queue."""

    coaches: list[User]
    reason: str
    cover: User | None = None  # set while a cover coach stands in for the named coach


@dataclass(frozen=True)
class Absence:
    """A coach who is away today, for the queue's "who is covering" line."""

    coach: User
    until: dt.date | None
    cover: User | None  # None: their trainees go to the coach pool


class CoachDirectory:
    """The coaches and admins of some organisations, loaded in one query, and the routing
    rule over them. Built once per request, so a page routes any number of drafts
    without a query per row; responsible_coaches uses it for a single trainee."""

    def __init__(self, organisation_ids: Sequence[int], *, on: dt.date | None = None) -> None:
        self.on = on or timezone.localdate()
        self.by_organisation: dict[int, dict[int, Membership]] = {
            organisation_id: {} for organisation_id in organisation_ids
        }
        self.review_targets: dict[int, int] = {}
        self._routes: dict[tuple[int, int | None, int | None], Route] = {}
        # A deactivated coach is nobody's coach: their trainees go to the pool.
        for membership in Membership.objects.filter(
            organisation_id__in=organisation_ids, role__in=REVIEWER_ROLES, is_active=True
        ).select_related("user", "cover_coach", "organisation"):
            self.by_organisation[membership.organisation_id][membership.user_id] = membership
            self.review_targets[membership.organisation_id] = (
                membership.organisation.review_target_hours
            )

    def default_scope(self, user: User) -> str:
        """Coaches start on the items routed to them; admins, who are in no pool, on all."""
        is_coach = any(
            coaches.get(user.pk) is not None and coaches[user.pk].role == Membership.Role.COACH
            for coaches in self.by_organisation.values()
        )
        return "mine" if is_coach else "all"

    def target_hours(self) -> set[int]:
        """The review targets of these organisations (for _with_routing_data)."""
        return set(self.review_targets.values())

    def coach_ids(self, organisation_id: int) -> list[int]:
        return sorted(self.by_organisation[organisation_id])

    def route(
        self, organisation_id: int, named_coach_id: int | None, *, trainee_id: int | None = None
    ) -> Route:
        """The trainee's named coach; while that coach is away, their named cover coach;
        when there is neither (or the cover is away too), the organisation's coach pool:
        every coach who is not away. Any coach of the organisation may still review any
        draft; this decides whose queue it is in and who is told."""
        coaches = self.by_organisation[organisation_id]
        # The same for every trainee of a coach (a page routes dozens): worked out once.
        # The trainee matters only if they are a coach here, kept out of their own pool.
        key = (organisation_id, named_coach_id, trainee_id if trainee_id in coaches else None)
        if key not in self._routes:
            self._routes[key] = self._route(coaches, named_coach_id, trainee_id)
        return self._routes[key]

    def _route(
        self, coaches: dict[int, Membership], named_coach_id: int | None, trainee_id: int | None
    ) -> Route:
        named = coaches.get(named_coach_id) if named_coach_id else None
        if named is not None and not is_away(named, self.on):
            return Route([named.user], display_name(named.user))
        if named is not None and named.cover_coach_id in coaches:
            cover = coaches[named.cover_coach_id]
            if not is_away(cover, self.on):
                return Route(
                    [cover.user],
                    f"{display_name(cover.user)}, covering for {display_name(named.user)}",
                    cover=cover.user,
                )
        pool = [
            membership.user
            for membership in coaches.values()
            if membership.role == Membership.Role.COACH
            and not is_away(membership, self.on)
            and membership.user_id != trainee_id
        ]
        reason = "Coach pool"
        if named is not None:
            reason = f"Coach pool, while {display_name(named.user)} is away"
        return Route(sorted(pool, key=lambda user: user.pk), reason)

    def routed_to(self, user: User) -> Q:
        """Drafts (annotated with ``named_coach_id``, see queue_for) whose route today
        includes ``user``: their own trainees, those they cover for, and the pool's."""
        mine = Q(pk__in=[])
        for organisation_id, coaches in self.by_organisation.items():
            named = [
                coach_id
                for coach_id in coaches
                if user in self.route(organisation_id, coach_id).coaches
            ]
            here = Q(account__organisation_id=organisation_id)
            mine |= here & Q(named_coach_id__in=named)
            if user in self.route(organisation_id, None).coaches:
                # No named coach, or one who is no longer a coach here: the pool's.
                mine |= here & (
                    Q(named_coach_id__isnull=True) | ~Q(named_coach_id__in=list(coaches))
                )
        return mine

    def absences(self) -> list[Absence]:
        """Coaches away today, with who has their trainees (None: the coach pool)."""
        return [
            Absence(
                membership.user, membership.away_until, self.route(organisation_id, coach_id).cover
            )
            for organisation_id, coaches in self.by_organisation.items()
            for coach_id, membership in coaches.items()
            if is_away(membership, self.on)
        ]


def responsible_coaches(
    *, trainee_id: int, organisation_id: int, on: dt.date | None = None
) -> tuple[list[User], str]:
    """Who a trainee's submissions go to today, and why (CoachDirectory.route)."""
    named_coach_id = (
        Membership.objects.filter(user_id=trainee_id, organisation_id=organisation_id)
        .values_list("coach_id", flat=True)
        .first()
    )
    route = CoachDirectory([organisation_id], on=on).route(
        organisation_id, named_coach_id, trainee_id=trainee_id
    )
    return route.coaches, route.reason


def publications_for(user: User, *, limit: int = 50) -> QuerySet[Publication]:
    return (
        Publication.objects.filter(account__organisation_id__in=reviewer_organisation_ids(user))
        .select_related("account", "draft__author")
        .order_by("-updated_at")[:limit]
    )


def stuck(now: dt.datetime | None = None) -> QuerySet[Publication]:
    """Posts "publishing" for longer than a publish can take (SANDPIT_STUCK_SENDING_SECONDS,
    which exceeds the publish timeouts): their worker died. The one rule, for the sweep that
    settles them, the coaches' warning and /health/."""
    since = (now or timezone.now()) - dt.timedelta(seconds=settings.STUCK_SENDING_SECONDS)
    return Publication.objects.filter(status=Publication.Status.SENDING, updated_at__lte=since)


def stuck_publications(user: User) -> QuerySet[Publication]:
    """The stuck posts of the organisations the user coaches, as a warning on their page."""
    return (
        stuck()
        .filter(account__organisation_id__in=reviewer_organisation_ids(user))
        .select_related("account")
    )


def stuck_publication_count() -> int:
    return stuck().count()


def standing_stops_for(user: User) -> QuerySet[PublishingStop]:
    return PublishingStop.objects.filter(
        organisation__memberships__user=user,
        organisation__memberships__is_active=True,
        ended_at__isnull=True,
    ).select_related("account", "started_by", "organisation")


def accounts_for_reviewer(user: User) -> QuerySet[WorkplaceAccount]:
    return WorkplaceAccount.objects.filter(
        organisation_id__in=reviewer_organisation_ids(user)
    ).select_related("organisation")


def with_open_lockdown(accounts: QuerySet[WorkplaceAccount]) -> QuerySet[WorkplaceAccount]:
    """Each account with ``open_lockdown_id``: its lockdown still being recovered from,
    which the account and publishing pages link to."""
    open_lockdown = Lockdown.objects.filter(account=OuterRef("pk"), closed_at__isnull=True)
    return accounts.annotate(open_lockdown_id=Subquery(open_lockdown.values("pk")[:1]))


def lockdowns_for_reviewer(user: User) -> QuerySet[Lockdown]:
    """The lockdowns of the organisations the user coaches or administers."""
    return Lockdown.objects.filter(
        organisation_id__in=reviewer_organisation_ids(user)
    ).select_related("account", "started_by")


# The queue page: filters, routing and the review target, in a fixed number of queries ----------

QUEUE_PAGE_SIZE = 50
# Waiting at least this long; "overdue" is past the organisation's own review target.
AGE_FILTERS = {"1h": dt.timedelta(hours=1), "4h": dt.timedelta(hours=4)}
OVERDUE = "overdue"


@dataclass(frozen=True)
class QueueFilters:
    # "mine": routed to me today; "all": everything in my organisations; "": the person's
    # default (CoachDirectory.default_scope), so the page and the digest start alike.
    scope: str = ""
    trainee: str = ""  # words of a trainee's name or username
    cohort_id: int | None = None
    account_id: int | None = None
    age: str = ""  # "", a key of AGE_FILTERS, or OVERDUE


@dataclass(frozen=True)
class QueueRow:
    """One waiting draft as the queue shows it: plain values from the page's one query
    (a page of model instances, each with its author, account, revision and reviewer, cost
    more than the rest of the page together)."""

    draft_id: int
    text: str
    sandbox_only: bool
    trainee: str
    cohort: str | None
    handle: str
    submitted_at: dt.datetime
    overdue: bool
    route: Route
    reviewer: str | None = None  # who holds the claim, if anyone
    claimed_at: dt.datetime | None = None
    claim_live: bool = False
    # The revision the row shows, which approving it from the queue is bound to, and what
    # the risk checks read of it (is_clean: only a clean post may be approved there).
    organisation_id: int = 0
    revision_id: int | None = None
    thread: tuple[str, ...] = ()
    images: tuple[Any, ...] = ()
    held_by_other: bool = False  # another coach's live claim: only they may decide
    # An answer to the public (coaching.Answer): "reply" or "quote", whose post, its words.
    answer_kind: str | None = None
    answering: str = ""
    answered_text: str = ""

    @property
    def posts(self) -> list[str]:
        return [self.text, *self.thread]


# What a queue row reads, named as the query annotates them.
QUEUE_ROW_COLUMNS = (
    "pk",
    "current_revision__text",
    "sandbox_only",
    "author_id",
    "author__first_name",
    "author__last_name",
    "author__username",
    "cohort_name",
    "account__handle",
    "account__organisation_id",
    "named_coach_id",
    "submitted_at",
    "due_at",
    "claimed_by__first_name",
    "claimed_by__last_name",
    "claimed_by__username",
    "claimed_at",
    "claimed_by_id",
    "current_revision_id",
    "current_revision__thread",
    "current_revision__images",
    "answer__kind",
    "answer__item__author_handle",
    "answer__item__text",
)


def _queue_row(
    values: Sequence[Any], directory: "CoachDirectory", now: dt.datetime, viewer: User
) -> QueueRow:
    row = dict(zip(QUEUE_ROW_COLUMNS, values, strict=True))
    reviewer = row["claimed_by__username"] and name_of(
        row["claimed_by__first_name"], row["claimed_by__last_name"], row["claimed_by__username"]
    )
    claim_live = bool(reviewer) and claim_live_at(row["claimed_at"], now)
    if claim_live:
        # When it lapses, the row shows the post as free to review or tick.
        page_cache.changes_at((row["claimed_at"] + settings.CLAIM_STALE_AFTER).timestamp())
    return QueueRow(
        draft_id=row["pk"],
        text=row["current_revision__text"] or "",
        sandbox_only=row["sandbox_only"],
        trainee=name_of(
            row["author__first_name"], row["author__last_name"], row["author__username"]
        ),
        cohort=row["cohort_name"],
        handle=row["account__handle"],
        submitted_at=row["submitted_at"],
        overdue=row["due_at"] < now,
        route=directory.route(
            row["account__organisation_id"], row["named_coach_id"], trainee_id=row["author_id"]
        ),
        reviewer=reviewer or None,
        claimed_at=row["claimed_at"],
        claim_live=claim_live,
        organisation_id=row["account__organisation_id"],
        revision_id=row["current_revision_id"],
        thread=tuple(row["current_revision__thread"] or ()),
        images=tuple(row["current_revision__images"] or ()),
        held_by_other=claim_live and row["claimed_by_id"] != viewer.pk,
        answer_kind=row["answer__kind"],
        answering=row["answer__item__author_handle"] or "",
        answered_text=row["answer__item__text"] or "",
    )


@dataclass
class Queue:
    filters: QueueFilters
    page: Page[Draft]  # where the rows are in the whole list, for the page links
    rows: list[QueueRow]
    waiting: int  # in the chosen scope, before the other filters
    overdue: int  # of those, waiting past their organisation's review target
    absences: list[Absence] = field(default_factory=list)
    # The risk checks' settings of each organisation on the page, for is_clean.
    check_contexts: dict[int, CheckContext] = field(default_factory=dict)


def _with_routing_data(
    drafts: QuerySet[Draft], *, target_hours: Iterable[int] | None = None
) -> QuerySet[Draft]:
    """The author's named coach and cohort in the draft's organisation, and when the
    review target falls due, as columns of the one query (a join, not a subquery per
    row: the queue can hold thousands).

    The due time is one CASE branch per distinct target (organisations share a handful),
    because SQLite, the embedded default, cannot multiply a column by a duration.
    ``target_hours`` are the targets that can occur; by default, every organisation's."""
    if target_hours is None:
        target_hours = Organisation.objects.values_list("review_target_hours", flat=True)
    due_at = Case(
        *[
            When(
                account__organisation__review_target_hours=hours,
                then=F("submitted_at") + Value(dt.timedelta(hours=hours)),
            )
            for hours in sorted(set(target_hours))
        ],
        output_field=DateTimeField(),
    )
    return drafts.annotate(
        trainee=FilteredRelation(
            "author__memberships",
            condition=Q(author__memberships__organisation_id=F("account__organisation_id")),
        ),
        named_coach_id=F("trainee__coach_id"),
        trainee_cohort_id=F("trainee__cohort_id"),
        cohort_name=F("trainee__cohort__name"),
        due_at=due_at,
    )


def _overdue(now: dt.datetime) -> Q:
    """Past the organisation's review target (drafts annotated by _with_routing_data): the
    one definition, for the queue, the past-target notices and the digest."""
    return Q(due_at__lt=now)


def past_target(drafts: QuerySet[Draft], *, now: dt.datetime) -> QuerySet[Draft]:
    return _with_routing_data(drafts).filter(_overdue(now))


def _trainee_matches(search: str) -> Q:
    """Drafts whose author's name or username contains every word searched for."""
    matches = Q()
    for word in search.split():
        matches &= (
            Q(author__first_name__icontains=word)
            | Q(author__last_name__icontains=word)
            | Q(author__username__icontains=word)
        )
    return matches


def queue_page(
    user: User, filters: QueueFilters, *, page_number: int | str = 1, now: dt.datetime | None = None
) -> Queue:
    now = now or timezone.now()
    directory = CoachDirectory(reviewer_organisation_ids(user), on=timezone.localdate(now))
    drafts = _with_routing_data(queue_for(user), target_hours=directory.target_hours())
    if not filters.scope:
        filters = dataclasses.replace(filters, scope=directory.default_scope(user))
    if filters.scope == "mine":
        drafts = drafts.filter(directory.routed_to(user))
    narrowed = Q()
    older: dict[str, Min] = {}
    if filters.trainee:
        narrowed &= _trainee_matches(filters.trainee)
    if filters.cohort_id:
        narrowed &= Q(trainee_cohort_id=filters.cohort_id)
    if filters.account_id:
        narrowed &= Q(account_id=filters.account_id)
    if filters.age == OVERDUE:
        narrowed &= _overdue(now)
    elif filters.age in AGE_FILTERS:
        old_enough = now - AGE_FILTERS[filters.age]
        # The next draft to become old enough to show, of those the other filters show.
        younger = narrowed & Q(submitted_at__gt=old_enough)
        older = {"next_older": Min("submitted_at", filter=younger)}
        narrowed &= Q(submitted_at__lte=old_enough)
    # One pass over the waiting drafts for all three numbers: the scope's waiting and
    # overdue, and how many the filters leave (the paginator's count, which it would
    # otherwise ask for with a query of its own).
    counts = drafts.aggregate(
        waiting=Count("pk"),
        overdue=Count("pk", filter=_overdue(now)),
        shown=Count("pk", filter=narrowed) if narrowed else Count("pk"),
        next_overdue=Min("due_at", filter=Q(due_at__gte=now)),
        **older,
    )
    # The queue changes by itself when the next draft passes its target, and, filtered
    # by age, when the next one becomes old enough to show.
    if counts["next_overdue"] is not None:
        page_cache.changes_at(counts["next_overdue"].timestamp())
    if counts.get("next_older") is not None:
        page_cache.changes_at((counts["next_older"] + AGE_FILTERS[filters.age]).timestamp())
    shown = drafts.filter(narrowed).annotate(
        sandbox_only=ExpressionWrapper(Draft.SANDBOX_ONLY, output_field=BooleanField())
    )
    paginator = Paginator(shown.values_list(*QUEUE_ROW_COLUMNS), QUEUE_PAGE_SIZE)
    paginator.count = counts["shown"]
    page = paginator.get_page(page_number)
    rows = [_queue_row(values, directory, now, user) for values in page.object_list]
    return Queue(
        filters=filters,
        page=page,
        rows=rows,
        waiting=counts["waiting"],
        overdue=counts["overdue"],
        absences=directory.absences(),
        check_contexts=check_contexts({row.organisation_id for row in rows}) if rows else {},
    )


class QueueChoices:
    """What the queue's filters offer: only the reviewer's own organisations'. Read only
    when asked: the rows, polled every 15 seconds, never show the form, and a cohort or
    account is checked against these only when one is chosen."""

    def __init__(self, user: User) -> None:
        self.user = user

    @cached_property
    def cohorts(self) -> list[Cohort]:
        organisation_ids = reviewer_organisation_ids(self.user)
        return list(Cohort.objects.filter(organisation_id__in=organisation_ids))

    @cached_property
    def accounts(self) -> list[WorkplaceAccount]:
        return list(accounts_for_reviewer(self.user))


def queue_choices(user: User) -> QueueChoices:
    # No list of trainees: an organisation has hundreds, so the filter searches by name.
    return QueueChoices(user)


# Cover and assignment ---------------------------------------------------------------------------


def unassigned_trainees(organisation_ids: Sequence[int]) -> QuerySet[Membership]:
    """Trainees with no named coach, or whose named coach is no longer a coach or admin
    there: their posts go to the coach pool (CoachDirectory.route)."""
    coach_here = Membership.objects.filter(
        organisation_id=OuterRef("organisation_id"),
        user_id=OuterRef("coach_id"),
        role__in=REVIEWER_ROLES,
        is_active=True,
    )
    return (
        Membership.objects.filter(
            organisation_id__in=organisation_ids, role=Membership.Role.TRAINEE
        )
        .filter(Q(coach__isnull=True) | ~Exists(coach_here))
        .select_related("user", "organisation", "cohort", "coach")
        .order_by("organisation__name", "user__first_name", "user__username")
    )


def coach_memberships(organisation_ids: Sequence[int]) -> QuerySet[Membership]:
    """Coaches and admins of these organisations: who may be named coach or cover."""
    return (
        Membership.objects.filter(
            organisation_id__in=organisation_ids, role__in=REVIEWER_ROLES, is_active=True
        )
        .select_related("user")
        .order_by("user__first_name", "user__username")
    )


def blocking_codes(revision: DraftRevision) -> list[str]:
    """Block-severity check codes found in any post of the revision that no coach has
    overridden for this revision. Empty means it may be submitted and approved."""
    context = check_context(revision.draft.account.organisation_id)
    found = {
        finding.code
        for findings in findings_for_posts(revision.posts, context, images=revision.images)
        for finding in findings
        if finding.severity == "block"
    }
    for codes in revision.check_overrides.values_list("codes", flat=True):
        found -= set(codes)
    return sorted(found)


def is_clean(
    posts: Sequence[str], context: CheckContext, *, images: Sequence[Sequence[Any]] = ()
) -> bool:
    """No risk finding of any severity (block, warning or tip) in any post or image
    description: the one rule for which posts a coach may approve with others from the
    queue without opening them. Anything the checks point out asks for a review of its own."""
    return not any(findings_for_posts(posts, context, images=images))


def check_titles(codes: list[str]) -> str:
    """The checks' titles as a list in a sentence ("phone number and swearing"). Not for
    "a …": the titles are not all countable nouns, so messages put them after a colon."""
    titles = {check.code: check.title.lower() for check in CHECKS}
    names = [titles.get(code, code) for code in codes]
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


# Notifications ------------------------------------------------------------------------------


def notifications_for(user: User) -> QuerySet[Notification]:
    """The user's own notices, newest first (only ever the user's: callers pass request.user)."""
    return Notification.objects.filter(user=user).order_by("-created_at", "-pk")


def comments_on(draft: Draft) -> QuerySet[DraftComment]:
    """A draft's comment thread, oldest first (callers have checked who may see it)."""
    return draft.comments.select_related("author", "revision").order_by("created_at", "pk")


def in_conversation(draft: Draft) -> list[User]:
    """Who hears of a comment on the draft: its trainee, the coaches its posts are routed
    to, and every coach of its organisation who has written in its thread or reviewed it."""
    organisation_id = draft.account.organisation_id
    routed, _ = responsible_coaches(trainee_id=draft.author_id, organisation_id=organisation_id)
    took_part = User.objects.filter(
        Q(draft_comments__draft=draft) | Q(reviews__draft=draft),
        is_active=True,
        memberships__organisation_id=organisation_id,
        memberships__role__in=REVIEWER_ROLES,
        memberships__is_active=True,
    ).distinct()
    people = {draft.author_id: draft.author, **{coach.pk: coach for coach in routed}}
    people.update({coach.pk: coach for coach in took_part})
    return list(people.values())


def unread_notification_count(user: User) -> int:
    # Served by the (user, read_at) index: one cheap query per full page. A notice about
    # something already dealt with (resolved) is not waiting for anyone.
    return Notification.objects.filter(
        user=user, read_at__isnull=True, resolved_at__isnull=True
    ).count()


def cohorts_of(organisation_id: int) -> QuerySet[Cohort]:
    """An organisation's cohorts, each with its number of trainees."""
    return Cohort.objects.filter(organisation_id=organisation_id).annotate(
        trainee_count=Count("memberships", filter=Q(memberships__role=Membership.Role.TRAINEE))
    )


def audit_log_for(
    user: User,
    *,
    date_from: dt.date | None = None,
    date_to: dt.date | None = None,
    action: str | None = None,
    actor: User | None = None,
    trainee: User | None = None,
    draft: int | None = None,
    account: WorkplaceAccount | None = None,
) -> QuerySet[AuditEvent]:
    """The audit events of the organisations the user administers (none for anyone else),
    newest first, narrowed by whichever filters are given. Dates are whole local days."""
    events = AuditEvent.objects.filter(organisation_id__in=admin_organisation_ids(user))
    if date_from:
        events = events.filter(created_at__gte=_start_of(date_from))
    if date_to:
        events = events.filter(created_at__lt=_start_of(date_to + dt.timedelta(days=1)))
    if action:
        events = events.filter(action=action)
    if actor:
        events = events.filter(actor=actor)
    if trainee:
        # Mode changes name the trainee and no draft; everything else is on their draft.
        events = events.filter(Q(trainee=trainee) | Q(draft__author=trainee))
    if draft:
        events = events.filter(draft_id=draft)
    if account:
        events = events.filter(account=account)
    return events.select_related(
        "actor", "account", "draft__author", "revision", "organisation"
    ).order_by("-created_at", "-pk")


def _start_of(day: dt.date) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time.min))
