"""Reads. Every query that decides what a user may see lives here, so a permission
rule is written once and the views only ask."""

import dataclasses
import datetime as dt
from collections.abc import Iterable, Mapping, Sequence

from django.contrib.auth.models import User
from django.db.models import Q, QuerySet
from django.utils import timezone

from sandbox.checks import CheckContext, Finding, MediaInfo, run_checks
from sandbox.models import (
    CheckSeverity,
    Draft,
    DraftRevision,
    LocalIdentifierPattern,
    LocalWord,
    Membership,
    PostImage,
    PreElectionPeriod,
    ScenarioRun,
    TimelineItem,
    WorkplaceAccount,
)

Role = Membership.Role
REVIEWER_ROLES = (Role.COACH, Role.ADMIN)
STANDINGS = "_sandpit_standings"


def display_name(user: User) -> str:
    """How a person is named everywhere (pages, messages, emails, exports): their full
    name, or their username when they have not given one."""
    return name_of(user.first_name, user.last_name, user.username)


def name_of(first_name: str, last_name: str, username: str) -> str:
    """display_name from the columns, for pages that read them without a User."""
    return f"{first_name} {last_name}".strip() or username


def active_memberships() -> QuerySet[Membership]:
    """Memberships that count: a deactivated one grants nothing (the one rule for it)."""
    return Membership.objects.filter(is_active=True)


def role_in(user: User, organisation_id: int) -> str | None:
    return (
        active_memberships()
        .filter(user=user, organisation_id=organisation_id)
        .values_list("role", flat=True)
        .first()
    )


@dataclasses.dataclass(frozen=True)
class Standing:
    """One of a person's active memberships, as the access rules read it."""

    organisation_id: int
    role: str
    second_factor_required: bool


def standings(user: User) -> list[Standing]:
    """The person's active memberships, ordered by organisation (so pages that act for "the
    coach's organisation" pick the same one each time).

    Every page asks (the sign-in middleware, access checks, the header, the queue's
    routing), so they are read once and kept on the user object, as Django keeps its
    permission cache: request.user is made afresh for every request, so no answer outlives
    the request. setattr reaches through request.user's lazy wrapper to the user."""
    known = getattr(user, STANDINGS, None)
    if known is None:
        known = [
            Standing(*row)
            for row in active_memberships()
            .filter(user_id=user.pk)
            .order_by("organisation_id")
            .values_list("organisation_id", "role", "organisation__second_factor_required")
        ]
        setattr(user, STANDINGS, known)
    return known


def roles_of(user: User) -> set[str]:
    return {standing.role for standing in standings(user)}


def reviewer_organisation_ids(user: User) -> list[int]:
    """The organisations the user coaches or administers."""
    return [s.organisation_id for s in standings(user) if s.role in REVIEWER_ROLES]


def accounts_for_author(user: User) -> QuerySet[WorkplaceAccount]:
    """The workplace accounts a user may draft for: those of their organisations."""
    return WorkplaceAccount.objects.filter(
        organisation__memberships__user=user, organisation__memberships__is_active=True
    ).select_related("organisation")


def admin_organisation_ids(user: User) -> list[int]:
    return list(
        active_memberships()
        .filter(user=user, role=Role.ADMIN)
        .order_by("organisation_id")
        .values_list("organisation_id", flat=True)
    )


def check_context(organisation_id: int, *, media: Sequence[MediaInfo] = ()) -> CheckContext:
    """The organisation's tuning of the risk checks, as the pure engine takes it."""
    return dataclasses.replace(
        check_contexts([organisation_id])[organisation_id], media=tuple(media)
    )


def check_contexts(organisation_ids: Iterable[int]) -> dict[int, CheckContext]:
    """Each organisation's tuning of the risk checks, in four queries however many
    organisations (a page that checks posts of several, like the queue). Ordered, so the
    same settings make an equal context with the same repr (a cache key's part)."""
    ids = sorted(set(organisation_ids))
    severities: dict[int, dict[str, str]] = {pk: {} for pk in ids}
    words: dict[int, list[str]] = {pk: [] for pk in ids}
    patterns: dict[int, list[tuple[str, str]]] = {pk: [] for pk in ids}
    periods: dict[int, list[tuple[dt.date, dt.date]]] = {pk: [] for pk in ids}
    for pk, code, severity in (
        CheckSeverity.objects.filter(organisation_id__in=ids)
        .order_by("organisation_id", "code")
        .values_list("organisation_id", "code", "severity")
    ):
        severities[pk][code] = severity
    for pk, word in (
        LocalWord.objects.filter(organisation_id__in=ids)
        .order_by("organisation_id", "word", "pk")
        .values_list("organisation_id", "word")
    ):
        words[pk].append(word)
    for pk, label, pattern in (
        LocalIdentifierPattern.objects.filter(organisation_id__in=ids)
        .order_by("organisation_id", "pk")
        .values_list("organisation_id", "label", "pattern")
    ):
        patterns[pk].append((label, pattern))
    for pk, starts_on, ends_on in (
        PreElectionPeriod.objects.filter(organisation_id__in=ids)
        .order_by("organisation_id", "starts_on", "pk")
        .values_list("organisation_id", "starts_on", "ends_on")
    ):
        periods[pk].append((starts_on, ends_on))
    today = timezone.localdate()
    return {
        pk: CheckContext(
            severity_overrides=severities[pk],
            extra_profanity=tuple(words[pk]),
            local_identifier_patterns=tuple(patterns[pk]),
            pre_election_periods=tuple(periods[pk]),
            today=today,
        )
        for pk in ids
    }


def findings_for_posts(
    posts: Sequence[str],
    context: CheckContext,
    *,
    images: Sequence[Sequence[Mapping[str, object]]] = (),
) -> list[list[Finding]]:
    """Findings for each post of a thread, in order. ``images`` holds each post's
    {"id", "alt"} entries (DraftRevision.images): their descriptions are checked with the
    post (images without one are found too), and every other post and description of the
    thread is passed along, for the checks that join details across a thread."""
    alts = image_descriptions(posts, images)
    found = []
    for position, post in enumerate(posts):
        media = tuple(MediaInfo(alt_text=alt) for alt in alts[position])
        thread = tuple(
            part
            for other, text in enumerate(posts)
            if other != position
            for part in (text, *alts[other])
        )
        found.append(
            run_checks(post, context=dataclasses.replace(context, media=media, thread=thread))
        )
    return found


def image_descriptions(
    posts: Sequence[str], images: Sequence[Sequence[Mapping[str, object]]] = ()
) -> list[list[str]]:
    """Each post's images' descriptions, in order (to quote findings in them)."""
    return [
        [str(entry.get("alt", "")) for entry in (images[i] if i < len(images) else ())]
        for i in range(len(posts))
    ]


def visible_drafts(user: User) -> QuerySet[Draft]:
    """The drafts a user may see: their own, and those of the organisations they coach or
    administer."""
    return Draft.objects.filter(
        Q(author=user) | Q(account__organisation_id__in=reviewer_organisation_ids(user))
    )


def post_image_visible_to(user: User, pk: int) -> PostImage | None:
    """An image is seen by whoever may see its draft; before it has a draft (a new post
    still in the composer), only by the person who uploaded it."""
    image = PostImage.objects.filter(pk=pk).first()
    if image is None:
        return None
    if image.draft_id is None:
        return image if image.uploaded_by_id == user.pk else None
    return image if visible_drafts(user).filter(pk=image.draft_id).exists() else None


def last_reviewed_revision(draft: Draft) -> DraftRevision | None:
    """The latest earlier revision a coach decided on: what the trainee's changes answer."""
    return (
        draft.revisions.filter(reviews__isnull=False)
        .exclude(pk=draft.current_revision_id or 0)
        .order_by("-number")
        .first()
    )


# The private timeline ---------------------------------------------------------------------


def can_see_timeline_of(user: User, owner_id: int) -> bool:
    """A trainee sees only their own timeline; coaches and admins see their trainees'."""
    if user.pk == owner_id:
        return True
    return Membership.objects.filter(
        user_id=owner_id, organisation_id__in=reviewer_organisation_ids(user)
    ).exists()


def in_organisations(organisation_ids: Sequence[int]) -> Q:
    """Timeline items that belong to these organisations: practice posts made as their
    accounts, and the injects of their scenarios."""
    return Q(account__organisation_id__in=organisation_ids) | Q(
        scenario_run__scenario__organisation_id__in=organisation_ids
    )


def timeline_item_for(user: User, pk: int) -> TimelineItem | None:
    item = (
        TimelineItem.objects.select_related("account", "owner", "quote_of__account")
        .filter(pk=pk)
        .first()
    )
    if item is None or not can_see_timeline_of(user, item.owner_id):
        return None
    if (
        user.pk != item.owner_id
        and not TimelineItem.objects.filter(
            in_organisations(reviewer_organisation_ids(user)), pk=pk
        ).exists()
    ):
        return None  # the trainee's, but from an organisation this coach does not coach
    if item.appear_at > timezone.now():
        return None  # it has not arrived yet
    return item


def conversation(item: TimelineItem) -> QuerySet[TimelineItem]:
    """Replies and quotes that have arrived, oldest first, as X shows a thread: the
    personas' reactions and the trainee's own replies and quote posts."""
    return (
        TimelineItem.objects.filter(
            Q(parent=item) | Q(quote_of=item), owner_id=item.owner_id, appear_at__lte=timezone.now()
        )
        .select_related("account", "parent", "quote_of__account")
        .order_by("appear_at", "pk")
    )


def organisation_of_item(item: TimelineItem) -> int | None:
    """The organisation a timeline item belongs to: the account it was posted as, or the
    scenario it came from. A persona's reaction belongs to the post it reacts to."""
    current: TimelineItem | None = item
    while current is not None:
        if current.account_id is not None:
            return (
                WorkplaceAccount.objects.filter(pk=current.account_id)
                .values_list("organisation_id", flat=True)
                .first()
            )
        if current.scenario_run_id is not None:
            return (
                ScenarioRun.objects.filter(pk=current.scenario_run_id)
                .values_list("scenario__organisation_id", flat=True)
                .first()
            )
        current = current.parent
    return None


def account_for_response(user: User, item: TimelineItem) -> WorkplaceAccount | None:
    """The account a trainee answers a timeline item as: one of the organisation the
    item belongs to (a scenario's, say), or simply their first."""
    accounts = accounts_for_author(user)
    organisation_id = organisation_of_item(item)
    if organisation_id is not None:
        accounts = accounts.filter(organisation_id=organisation_id)
    return accounts.first()


# Scenario runs and their debrief ----------------------------------------------------------


def scenario_run_visible_to(user: User, pk: int) -> ScenarioRun | None:
    """A run its trainee can see, and so can the coaches and admins of the scenario's
    organisation."""
    return (
        ScenarioRun.objects.filter(
            Q(trainee=user) | Q(scenario__organisation_id__in=reviewer_organisation_ids(user)),
            pk=pk,
        )
        .select_related("scenario", "trainee", "cohort", "started_by")
        .first()
    )


def scenario_runs_for(
    *, organisation_ids: Sequence[int], trainee_id: int | None = None, limit: int = 50
) -> QuerySet[ScenarioRun]:
    """Recent runs of these organisations' scenarios, newest first (optionally one
    trainee's), for the scenarios page and a trainee's timeline."""
    runs = ScenarioRun.objects.filter(scenario__organisation_id__in=organisation_ids)
    if trainee_id is not None:
        runs = runs.filter(trainee_id=trainee_id)
    return runs.select_related("scenario", "trainee", "cohort").order_by("-started_at")[:limit]


def members_of(organisation_id: int, role: str) -> QuerySet[User]:
    return User.objects.filter(
        memberships__organisation_id=organisation_id,
        memberships__role=role,
        memberships__is_active=True,
    ).order_by("first_name", "username")
