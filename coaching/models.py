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
        RETRACTED = "retracted", "Retracted"

    ACTIVE_STATUSES = (Status.QUEUED, Status.SENDING, Status.UNCONFIRMED, Status.PUBLISHED)

    draft = models.ForeignKey(Draft, on_delete=models.CASCADE, related_name="publications")
    revision = models.ForeignKey(
        DraftRevision, on_delete=models.PROTECT, related_name="publications"
    )
    approval = models.OneToOneField(Review, on_delete=models.PROTECT, related_name="publication")
    account = models.ForeignKey(
        WorkplaceAccount, on_delete=models.PROTECT, related_name="publications"
    )
    # The first post's text; ``parts`` holds every post of a thread (one for a single post)
    # as {"text", "remote_id", "remote_url"}. A part with a remote_id is live and is never
    # sent again, which is what lets a half-published thread resume where it stopped.
    text = models.TextField()
    parts = models.JSONField(default=list)
    content_hash = models.CharField(max_length=64)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.QUEUED)
    publish_at = models.DateTimeField(null=True, blank=True)
    # Earliest time the next try may start (backoff after a failure, or a rate-limit reset).
    not_before = models.DateTimeField(null=True, blank=True)
    enqueued_at = models.DateTimeField(null=True, blank=True)
    # The first post's id and public link (the head of a thread).
    remote_id = models.CharField(max_length=300, blank=True)
    remote_url = models.URLField(max_length=500, blank=True)
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

    @property
    def live_parts(self) -> int:
        return sum(1 for part in self.parts if part.get("remote_id"))

    @property
    def next_part(self) -> int | None:
        """The index of the first post of the thread not yet live, or None when all are."""
        for index, part in enumerate(self.parts):
            if not part.get("remote_id"):
                return index
        return None


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
    part = models.PositiveSmallIntegerField(default=0)
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


class PublishingStop(models.Model):
    """An emergency stop: while it stands, nothing publishes to the account (or to every
    account of the organisation when ``account`` is empty). Queued posts wait."""

    organisation = models.ForeignKey(
        "sandbox.Organisation", on_delete=models.CASCADE, related_name="publishing_stops"
    )
    account = models.ForeignKey(
        WorkplaceAccount,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="publishing_stops",
    )
    reason = models.CharField(max_length=500)
    started_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    started_at = models.DateTimeField(auto_now_add=True)
    ended_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    ended_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-started_at"]
        # One standing stop per scope, so "resume" has exactly one thing to end. Two partial
        # indexes rather than one with NULLS NOT DISTINCT, which SQLite cannot enforce.
        constraints = [
            models.UniqueConstraint(
                fields=["organisation"],
                condition=Q(ended_at__isnull=True, account__isnull=True),
                name="one_standing_organisation_stop",
            ),
            models.UniqueConstraint(
                fields=["account"],
                condition=Q(ended_at__isnull=True, account__isnull=False),
                name="one_standing_account_stop",
            ),
        ]

    def __str__(self) -> str:
        scope = f"@{self.account.handle}" if self.account else "all accounts"
        return f"Publishing stopped for {scope}"


class AuditEvent(models.Model):
    """Append-only record of actions that matter afterwards: who, when, what, on which
    revision. Written only by services; never changed or deleted."""

    class Action(models.TextChoices):
        PUBLISHING_STOPPED = "publishing_stopped", "Publishing stopped"
        PUBLISHING_RESUMED = "publishing_resumed", "Publishing resumed"
        PUBLICATION_RETRACTED = "publication_retracted", "Post retracted"
        PUBLICATION_RECONCILED = "publication_reconciled", "Publication reconciled"
        PUBLICATION_FORCED = "publication_forced", "Published anyway"
        PUBLICATION_RESUMED = "publication_resumed", "Thread resumed"
        ACCOUNT_CONNECTED = "account_connected", "Account connected"
        ACCOUNT_NEEDS_RECONNECT = "account_needs_reconnect", "Account needs reconnecting"
        CHECK_OVERRIDDEN = "check_overridden", "Risk check overridden"

    organisation = models.ForeignKey(
        "sandbox.Organisation", on_delete=models.CASCADE, related_name="audit_events"
    )
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    action = models.CharField(max_length=40, choices=Action.choices)
    account = models.ForeignKey(
        WorkplaceAccount, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    draft = models.ForeignKey(
        Draft, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    revision = models.ForeignKey(
        DraftRevision, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    publication = models.ForeignKey(
        Publication, on_delete=models.SET_NULL, null=True, blank=True, related_name="audit_events"
    )
    detail = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.get_action_display()} at {self.created_at:%Y-%m-%d %H:%M}"


class CheckOverride(models.Model):
    """A coach lets a revision through despite a blocking risk finding, and says why."""

    revision = models.ForeignKey(
        DraftRevision, on_delete=models.CASCADE, related_name="check_overrides"
    )
    coach = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    codes = models.JSONField(help_text="The blocking check codes this override covers.")
    reason = models.CharField(max_length=500)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"Override of {', '.join(self.codes)} on revision {self.revision_id}"
