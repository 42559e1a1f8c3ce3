from django.conf import settings
from django.db import models
from django.db.models import Q

from sandbox.models import Draft, DraftRevision, WorkplaceAccount

NOTE_MAX_LENGTH = 2000


class Review(models.Model):
    """A coach's decision on one exact revision of a draft."""

    class Decision(models.TextChoices):
        APPROVE = "approve", "Approved"
        REQUEST_CHANGES = "request_changes", "Changes requested"
        REJECT = "reject", "Rejected"

    draft = models.ForeignKey(Draft, on_delete=models.CASCADE, related_name="reviews")
    revision = models.ForeignKey(DraftRevision, on_delete=models.PROTECT, related_name="reviews")
    reviewer = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="reviews"
    )
    decision = models.CharField(max_length=20, choices=Decision.choices)
    # The hash of the text that was decided on: an approval covers this text and no other.
    content_hash = models.CharField(max_length=64)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at"]

    def __str__(self) -> str:
        return f"{self.get_decision_display()} by {self.reviewer} on draft {self.draft_id}"


class FeedbackNote(models.Model):
    review = models.ForeignKey(Review, on_delete=models.CASCADE, related_name="notes")
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="feedback_notes"
    )
    body = models.TextField(max_length=NOTE_MAX_LENGTH)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at"]

    def __str__(self) -> str:
        return f"Note on review {self.review_id}"


class Publication(models.Model):
    """The outbox row: one approved text on its way to the real account.

    Written in the same transaction as the approval; the worker claims it with a
    conditional update (queued -> sending) so a redelivered task can never send twice.
    """

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        SENDING = "sending", "Publishing"
        PUBLISHED = "published", "Live"
        FAILED = "failed", "Failed"
        UNCONFIRMED = "unconfirmed", "Not confirmed"
        CANCELLED = "cancelled", "Cancelled"

    ACTIVE_STATUSES = (Status.QUEUED, Status.SENDING, Status.UNCONFIRMED, Status.PUBLISHED)

    draft = models.ForeignKey(Draft, on_delete=models.CASCADE, related_name="publications")
    revision = models.ForeignKey(
        DraftRevision, on_delete=models.PROTECT, related_name="publications"
    )
    approval = models.OneToOneField(Review, on_delete=models.PROTECT, related_name="publication")
    account = models.ForeignKey(
        WorkplaceAccount, on_delete=models.PROTECT, related_name="publications"
    )
    text = models.TextField()
    content_hash = models.CharField(max_length=64)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.QUEUED)
    publish_at = models.DateTimeField(null=True, blank=True)
    # Earliest time the next try may start (backoff after a failure, or a rate-limit reset).
    not_before = models.DateTimeField(null=True, blank=True)
    enqueued_at = models.DateTimeField(null=True, blank=True)
    remote_id = models.CharField(max_length=64, blank=True)
    remote_url = models.URLField(blank=True)
    error = models.TextField(blank=True)
    published_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            # Belt and braces behind the conditional updates: a draft can never have two
            # publications that might both reach the account.
            models.UniqueConstraint(
                fields=["draft"],
                condition=Q(status__in=["queued", "sending", "unconfirmed", "published"]),
                name="one_active_publication_per_draft",
            )
        ]
        indexes = [models.Index(fields=["status", "not_before"], name="publication_due_idx")]

    def __str__(self) -> str:
        return f"Publication {self.pk} ({self.status})"


class PublishAttempt(models.Model):
    """One try at the network. Written before the request leaves, finished after, so
    a worker killed mid-request leaves evidence that the outcome is unknown."""

    class Outcome(models.TextChoices):
        PENDING = "pending", "In progress"
        PUBLISHED = "published", "Published"
        NOT_SENT = "not_sent", "Not sent (will retry)"
        RATE_LIMITED = "rate_limited", "Rate limited"
        AUTH_FAILED = "auth_failed", "Account needs reconnecting"
        REJECTED = "rejected", "Rejected by the platform"
        UNKNOWN = "unknown", "Outcome unknown"

    publication = models.ForeignKey(Publication, on_delete=models.CASCADE, related_name="attempts")
    request = models.CharField(max_length=200)
    outcome = models.CharField(max_length=20, choices=Outcome.choices, default=Outcome.PENDING)
    status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    error_body = models.TextField(blank=True)
    started_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    duration_ms = models.PositiveIntegerField(null=True, blank=True)

    class Meta:
        ordering = ["started_at"]

    def __str__(self) -> str:
        return f"Attempt on publication {self.publication_id}: {self.outcome}"
