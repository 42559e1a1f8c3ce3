"""Reads. Every query that decides what a user may see lives here, so a permission
rule is written once and the views only ask."""

import dataclasses
import datetime as dt
from collections.abc import Mapping, Sequence

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
    TimelineItem,
    WorkplaceAccount,
)

Role = Membership.Role
REVIEWER_ROLES = (Role.COACH, Role.ADMIN)


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

    return drafts.select_related("current_revision", "account", "author").prefetch_related(
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
    items = list(items_q.select_related("account").order_by("-appear_at")[:FEED_LENGTH])
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
    item = TimelineItem.objects.select_related("account", "owner").filter(pk=pk).first()
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
    """Replies and quotes that have arrived, oldest first, as X shows a thread."""
    return (
        item.children.filter(appear_at__lte=timezone.now())
        .select_related("account")
        .order_by("appear_at", "pk")
    )


def members_of(organisation_id: int, role: str) -> QuerySet[User]:
    return User.objects.filter(
        memberships__organisation_id=organisation_id, memberships__role=role
    ).order_by("first_name", "username")
