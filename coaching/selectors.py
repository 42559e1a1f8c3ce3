import datetime as dt

from django.contrib.auth.models import User
from django.db.models import QuerySet
from django.utils import timezone

from coaching.models import Publication, PublishingStop
from sandbox.checks import CHECKS
from sandbox.models import Draft, DraftRevision, WorkplaceAccount
from sandbox.selectors import check_context, findings_for_posts, reviewer_organisation_ids

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
        for findings in findings_for_posts(revision.posts, context)
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
