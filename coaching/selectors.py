import datetime as dt
from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth.models import User
from django.db.models import Count, Q, QuerySet
from django.utils import timezone

from coaching.models import AuditEvent, Notification, Publication, PublishingStop
from sandbox.checks import CHECKS
from sandbox.models import Cohort, Draft, DraftRevision, Membership, WorkplaceAccount
from sandbox.selectors import (
    admin_organisation_ids,
    check_context,
    findings_for_posts,
    reviewer_organisation_ids,
)

STUCK_WARNING_AFTER = dt.timedelta(minutes=1)

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
    """A claim lives CLAIM_STALE_AFTER from its last sign of life (``claimed_at``)."""
    if draft.claimed_by_id is None or draft.claimed_at is None:
        return False
    return draft.claimed_at >= (now or timezone.now()) - settings.CLAIM_STALE_AFTER


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


def responsible_coaches(
    *, trainee_id: int, organisation_id: int, on: dt.date | None = None
) -> tuple[list[User], str]:
    """Who a trainee's submissions go to today, and why, in words for the queue.

    The trainee's named coach; while that coach is away, their named cover coach; when
    there is neither (or the cover is away too), the organisation's coach pool: every
    coach who is not away. Any coach of the organisation may still review any draft;
    this decides whose queue it is in and who is told.
    """
    on = on or timezone.localdate()
    coaches = {
        membership.user_id: membership
        for membership in Membership.objects.filter(
            organisation_id=organisation_id, role__in=(Membership.Role.COACH, Membership.Role.ADMIN)
        ).select_related("user")
    }
    trainee = Membership.objects.filter(user_id=trainee_id, organisation_id=organisation_id).first()
    named = coaches.get(trainee.coach_id) if trainee and trainee.coach_id else None
    if named is not None and not is_away(named, on):
        return [named.user], f"{named.user.get_full_name() or named.user.username}"
    if named is not None and named.cover_coach_id in coaches:
        cover = coaches[named.cover_coach_id]
        if not is_away(cover, on):
            return [cover.user], (
                f"{cover.user.get_full_name() or cover.user.username}, covering for "
                f"{named.user.get_full_name() or named.user.username}"
            )
    pool = [
        membership.user
        for membership in coaches.values()
        if membership.role == Membership.Role.COACH
        and not is_away(membership, on)
        and membership.user_id != trainee_id
    ]
    reason = "Coach pool"
    if named is not None:
        reason = f"Coach pool, while {named.user.get_full_name() or named.user.username} is away"
    return sorted(pool, key=lambda user: user.pk), reason


def publications_for(user: User, *, limit: int = 50) -> QuerySet[Publication]:
    return (
        Publication.objects.filter(account__organisation_id__in=reviewer_organisation_ids(user))
        .select_related("account", "draft__author")
        .order_by("-updated_at")[:limit]
    )


def stuck_publications(user: User) -> QuerySet[Publication]:
    """Posts in flight for longer than a publish can take: shown to coaches as a warning."""
    return Publication.objects.filter(
        account__organisation_id__in=reviewer_organisation_ids(user),
        status=Publication.Status.SENDING,
        updated_at__lte=timezone.now() - STUCK_WARNING_AFTER,
    ).select_related("account")


def stuck_publication_count() -> int:
    return Publication.objects.filter(
        status=Publication.Status.SENDING,
        updated_at__lte=timezone.now() - STUCK_WARNING_AFTER,
    ).count()


def standing_stops_for(user: User) -> QuerySet[PublishingStop]:
    return PublishingStop.objects.filter(
        organisation__memberships__user=user, ended_at__isnull=True
    ).select_related("account", "started_by", "organisation")


def accounts_for_reviewer(user: User) -> QuerySet[WorkplaceAccount]:
    return WorkplaceAccount.objects.filter(
        organisation_id__in=reviewer_organisation_ids(user)
    ).select_related("organisation")


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


def check_titles(codes: list[str]) -> str:
    titles = {check.code: check.title.lower() for check in CHECKS}
    names = [titles.get(code, code) for code in codes]
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


# Notifications ------------------------------------------------------------------------------


def notifications_for(user: User) -> QuerySet[Notification]:
    """The user's own notices, newest first (only ever the user's: callers pass request.user)."""
    return Notification.objects.filter(user=user).order_by("-created_at", "-pk")


def unread_notification_count(user: User) -> int:
    # Served by the (user, read_at) index: one cheap query per full page.
    return Notification.objects.filter(user=user, read_at__isnull=True).count()


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
