from django.contrib.auth.models import User
from django.db.models import QuerySet

from sandbox.models import Draft
from sandbox.selectors import reviewer_organisation_ids

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
