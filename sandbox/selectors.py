"""Reads. Every query that decides what a user may see lives here, so a permission
rule is written once and the views only ask."""

import dataclasses
import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from django.contrib.auth.models import User
from django.db.models import Count, Prefetch, Q, QuerySet
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


def display_name(user: User) -> str:
    """How a person is named everywhere (pages, messages, emails, exports): their full
    name, or their username when they have not given one."""
    return user.get_full_name() or user.username


def role_in(user: User, organisation_id: int) -> str | None:
    return (
        Membership.objects.filter(user=user, organisation_id=organisation_id)
        .values_list("role", flat=True)
        .first()
    )


def roles_of(user: User) -> set[str]:
    return set(Membership.objects.filter(user=user).values_list("role", flat=True))


def reviewer_organisation_ids(user: User) -> list[int]:
    # Ordered, so pages that act for "the coach's organisation" pick the same one each time.
    return list(
        Membership.objects.filter(user=user, role__in=REVIEWER_ROLES)
        .order_by("organisation_id")
        .values_list("organisation_id", flat=True)
    )


def accounts_for_author(user: User) -> QuerySet[WorkplaceAccount]:
    """The workplace accounts a user may draft for: those of their organisations."""
    return WorkplaceAccount.objects.filter(organisation__memberships__user=user).select_related(
        "organisation"
    )


def _with_display_data(drafts: QuerySet[Draft]) -> QuerySet[Draft]:
    # Imported here: coaching depends on sandbox, not the other way round.
    from coaching.models import Publication

    return drafts.select_related(
        "current_revision", "account", "author", "in_reply_to", "quote_of__account"
    ).prefetch_related(
        Prefetch(
            "publications",
            # The approval tells a spot-check pass (no reviewer) from a coach's.
            queryset=Publication.objects.select_related("approval").order_by("-created_at"),
            to_attr="publication_list",
        )
    )


def draft_for_display(pk: int) -> Draft:
    return _with_display_data(Draft.objects.filter(pk=pk)).get()


def draft_visible_to(user: User, pk: int) -> Draft | None:
    """A draft its author can see, and so can the coaches and admins of its organisation."""
    visible = Draft.objects.filter(
        Q(author=user) | Q(account__organisation_id__in=reviewer_organisation_ids(user)), pk=pk
    )
    return _with_display_data(visible).first()


def revisions_with_feedback(draft: Draft) -> QuerySet[DraftRevision]:
    from coaching.models import FeedbackNote, Review

    return draft.revisions.order_by("-number").prefetch_related(
        Prefetch(
            "reviews",
            queryset=Review.objects.select_related("reviewer").prefetch_related(
                Prefetch("notes", queryset=FeedbackNote.objects.select_related("author"))
            ),
        )
    )


def admin_organisation_ids(user: User) -> list[int]:
    return list(
        Membership.objects.filter(user=user, role=Role.ADMIN)
        .order_by("organisation_id")
        .values_list("organisation_id", flat=True)
    )


def check_context(organisation_id: int, *, media: Sequence[MediaInfo] = ()) -> CheckContext:
    """The organisation's tuning of the risk checks, as the pure engine takes it."""
    return CheckContext(
        media=tuple(media),
        severity_overrides=dict(
            CheckSeverity.objects.filter(organisation_id=organisation_id).values_list(
                "code", "severity"
            )
        ),
        extra_profanity=tuple(
            LocalWord.objects.filter(organisation_id=organisation_id).values_list("word", flat=True)
        ),
        local_identifier_patterns=tuple(
            LocalIdentifierPattern.objects.filter(organisation_id=organisation_id).values_list(
                "label", "pattern"
            )
        ),
        pre_election_periods=tuple(
            PreElectionPeriod.objects.filter(organisation_id=organisation_id).values_list(
                "starts_on", "ends_on"
            )
        ),
        today=timezone.localdate(),
    )


def findings_for_posts(
    posts: Sequence[str],
    context: CheckContext,
    *,
    images: Sequence[Sequence[Mapping[str, object]]] = (),
) -> list[list[Finding]]:
    """Findings for each post of a thread, in order. ``images`` holds each post's
    {"id", "alt"} entries (DraftRevision.images), so images without alt text are found."""
    found = []
    for position, post in enumerate(posts):
        entries = images[position] if position < len(images) else ()
        media = tuple(MediaInfo(alt_text=str(entry.get("alt", ""))) for entry in entries)
        found.append(run_checks(post, context=dataclasses.replace(context, media=media)))
    return found


def post_image_visible_to(user: User, pk: int) -> PostImage | None:
    """An image is seen by whoever may see its draft; before it has a draft (a new post
    still in the composer), only by the person who uploaded it."""
    image = PostImage.objects.filter(pk=pk).first()
    if image is None:
        return None
    if image.draft_id is None:
        return image if image.uploaded_by_id == user.pk else None
    return image if draft_visible_to(user, image.draft_id) is not None else None


def last_reviewed_revision(draft: Draft) -> DraftRevision | None:
    """The latest earlier revision a coach decided on: what the trainee's changes answer."""
    return (
        draft.revisions.filter(reviews__isnull=False)
        .exclude(pk=draft.current_revision_id or 0)
        .order_by("-number")
        .first()
    )


# The private timeline ---------------------------------------------------------------------

FEED_LENGTH = 50


def can_see_timeline_of(user: User, owner_id: int) -> bool:
    """A trainee sees only their own timeline; coaches and admins see their trainees'."""
    if user.pk == owner_id:
        return True
    return Membership.objects.filter(
        user_id=owner_id, organisation_id__in=reviewer_organisation_ids(user)
    ).exists()


def _in_organisations(organisation_ids: Sequence[int]) -> Q:
    """Timeline items that belong to these organisations: practice posts made as their
    accounts, and the injects of their scenarios."""
    return Q(account__organisation_id__in=organisation_ids) | Q(
        scenario_run__scenario__organisation_id__in=organisation_ids
    )


def feed_for(owner_id: int, *, viewer: User | None = None) -> list[Draft | TimelineItem]:
    """The owner's timeline, newest first: their drafts and the posts that have arrived
    (practice posts, personas, scenario injects). A coach (``viewer``) sees only what
    belongs to organisations they coach, should the trainee belong to several. Two
    queries and their prefetches, however long the timeline."""
    now = timezone.now()
    drafts_q = Draft.objects.filter(author_id=owner_id).exclude(status=Draft.Status.WITHDRAWN)
    items_q = TimelineItem.objects.filter(
        owner_id=owner_id, parent__isnull=True, appear_at__lte=now
    )
    if viewer is not None and viewer.pk != owner_id:
        coached = reviewer_organisation_ids(viewer)
        drafts_q = drafts_q.filter(account__organisation_id__in=coached)
        items_q = items_q.filter(_in_organisations(coached))
    drafts = list(_with_display_data(drafts_q).order_by("-updated_at")[:FEED_LENGTH])
    items = list(
        items_q.select_related("account", "quote_of__account").order_by("-appear_at")[:FEED_LENGTH]
    )
    # Count replies for the posts shown only, not for the whole timeline before sorting.
    replies = dict(
        TimelineItem.objects.filter(parent__in=items, appear_at__lte=now)
        .values("parent")
        .annotate(n=Count("pk"))
        .values_list("parent", "n")
    )
    for item in items:
        item.reply_count = replies.get(item.pk, 0)  # type: ignore[attr-defined]

    def moment(entry: Draft | TimelineItem) -> dt.datetime:
        return entry.updated_at if isinstance(entry, Draft) else entry.appear_at

    entries: list[Draft | TimelineItem] = [*drafts, *items]
    return sorted(entries, key=moment, reverse=True)[:FEED_LENGTH]


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
            _in_organisations(reviewer_organisation_ids(user)), pk=pk
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


def responses_to(item: TimelineItem, author: User) -> QuerySet[Draft]:
    """The author's drafts answering this item, newest first."""
    return _with_display_data(
        Draft.objects.filter(Q(in_reply_to=item) | Q(quote_of=item), author=author)
    ).order_by("-created_at")


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


@dataclass(frozen=True)
class DebriefEntry:
    """One line of a debrief: an inject, or the trainee's response to one."""

    at: dt.datetime
    seconds: int  # from the start of the run
    inject: TimelineItem | None = None
    practice: TimelineItem | None = None
    draft: Draft | None = None
    answers: TimelineItem | None = None
    arrived: bool = True


def debrief(run: ScenarioRun, *, viewer: User) -> list[DebriefEntry]:
    """The scenario's items in the order they arrive, each at its offset, interleaved
    with the trainee's answers to them: practice replies and quotes, and responses drafted
    for review (with their reviews and notes). The trainee sees only items that have
    arrived; coaches see what is still to come. A fixed number of queries."""
    from coaching.models import FeedbackNote, Review

    now = timezone.now()
    injects_q = run.items.select_related("parent")
    if viewer.pk == run.trainee_id:
        injects_q = injects_q.filter(appear_at__lte=now)
    injects = list(injects_q.order_by("appear_at", "pk"))
    by_pk = {item.pk: item for item in injects}
    practice = TimelineItem.objects.filter(
        Q(parent__in=injects) | Q(quote_of__in=injects),
        owner_id=run.trainee_id,
        persona="",
        draft__isnull=True,  # an approved response shows as its draft, with its review
        appear_at__lte=now,
    ).select_related("account")
    drafts = (
        _with_display_data(
            Draft.objects.filter(Q(in_reply_to__in=injects) | Q(quote_of__in=injects)).filter(
                author_id=run.trainee_id
            )
        )
        .select_related("practice_item")
        .prefetch_related(
            Prefetch(
                "reviews",
                queryset=Review.objects.select_related("reviewer").prefetch_related(
                    Prefetch("notes", queryset=FeedbackNote.objects.select_related("author"))
                ),
                to_attr="review_list",
            )
        )
    )
    start = run.started_at

    def entry(at: dt.datetime, **fields: object) -> DebriefEntry:
        seconds = max(0, int((at - start).total_seconds()))
        return DebriefEntry(at=at, seconds=seconds, **fields)  # type: ignore[arg-type]

    entries = [
        entry(item.appear_at, inject=item, arrived=item.appear_at <= now) for item in injects
    ]
    entries += [
        entry(
            item.appear_at,
            practice=item,
            answers=by_pk.get(item.parent_id or 0) or by_pk.get(item.quote_of_id or 0),
        )
        for item in practice
    ]
    entries += [
        entry(
            draft.created_at,
            draft=draft,
            answers=by_pk.get(draft.in_reply_to_id or 0) or by_pk.get(draft.quote_of_id or 0),
        )
        for draft in drafts
    ]
    # An inject sorts before the answers given in the same second.
    return sorted(entries, key=lambda e: (e.at, e.inject is None))


def members_of(organisation_id: int, role: str) -> QuerySet[User]:
    return User.objects.filter(
        memberships__organisation_id=organisation_id, memberships__role=role
    ).order_by("first_name", "username")
