import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import F, Q
from django.utils import timezone

from sandbox.models import Draft, DraftRevision, WorkplaceAccount

NOTE_MAX_LENGTH = 2000

# NHSScotland's quality ambitions, the rubric every review scores (1 to 4).
RUBRIC: dict[str, tuple[str, dict[int, str]]] = {
    "safe": (
        "Safe",
        {
            1: "Puts someone at risk: a patient detail, a pledge, or advice that could harm.",
            2: "A risk a reader could spot: hints at identity, or an unchecked claim.",
            3: "Safe as written; small things a careful reader might question.",
            4: "Clearly safe: nothing identifies anyone and every claim stands up.",
        },
    ),
    "person_centred": (
        "Person-centred",
        {
            1: "Talks at people, or could hurt or exclude the people it is about.",
            2: "Written for the service, not the reader; the tone may jar.",
            3: "Respectful and about what matters to the reader.",
            4: "Warm, inclusive and accessible; the reader feels heard.",
        },
    ),
    "effective": (
        "Effective",
        {
            1: "The point is lost or wrong; nobody would know what to do.",
            2: "The point is there but buried, long-winded or unclear.",
            3: "Clear, with one point and what to do next.",
            4: "Clear, concise and timely; plain English and a clear next step.",
        },
    ),
}
RUBRIC_SCORES = range(1, 5)


class Review(models.Model):
    """A decision on one exact revision of a draft: a coach's, or (for a trainee who has
    earned spot-check mode) the automatic pass that lets a post go after its delay."""

    class Decision(models.TextChoices):
        APPROVE = "approve", "Approved"
        REQUEST_CHANGES = "request_changes", "Changes requested"
        REJECT = "reject", "Rejected"

    class Tag(models.TextChoices):
        TONE = "tone", "Tone"
        ACCURACY = "accuracy", "Accuracy"
        CONFIDENTIALITY = "confidentiality", "Confidentiality"
        ACCESSIBILITY = "accessibility", "Accessibility"
        PLAIN_ENGLISH = "plain_english", "Plain English"
        TIMING = "timing", "Timing"

    draft = models.ForeignKey(Draft, on_delete=models.CASCADE, related_name="reviews")
    revision = models.ForeignKey(DraftRevision, on_delete=models.PROTECT, related_name="reviews")
    # Empty only for a spot-check pass, which no coach made.
    reviewer = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="reviews",
    )
    decision = models.CharField(max_length=20, choices=Decision.choices)
    # The hash of the text that was decided on: an approval covers this text and no other.
    content_hash = models.CharField(max_length=64)
    safe = models.PositiveSmallIntegerField(
        null=True, blank=True, validators=[MinValueValidator(1), MaxValueValidator(4)]
    )
    person_centred = models.PositiveSmallIntegerField(
        null=True, blank=True, validators=[MinValueValidator(1), MaxValueValidator(4)]
    )
    effective = models.PositiveSmallIntegerField(
        null=True, blank=True, validators=[MinValueValidator(1), MaxValueValidator(4)]
    )
    tags = models.JSONField(default=list, blank=True)
    # A coach's rewrite, one entry per post of the thread; the trainee can accept it as a
    # new revision in one click. Empty when the coach offered none.
    suggestion = models.JSONField(default=list, blank=True)
    suggestion_accepted_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(safe__isnull=True) | Q(safe__gte=1, safe__lte=4),
                name="review_safe_score_range",
            ),
            models.CheckConstraint(
                condition=Q(person_centred__isnull=True)
                | Q(person_centred__gte=1, person_centred__lte=4),
                name="review_person_centred_score_range",
            ),
            models.CheckConstraint(
                condition=Q(effective__isnull=True) | Q(effective__gte=1, effective__lte=4),
                name="review_effective_score_range",
            ),
        ]
        indexes = [models.Index(fields=["draft", "created_at"], name="review_draft_idx")]

    def __str__(self) -> str:
        by = self.reviewer or "spot-check"
        return f"{self.get_decision_display()} by {by} on draft {self.draft_id}"

    @property
    def scores(self) -> dict[str, int | None]:
        return {name: getattr(self, name) for name in RUBRIC}


class FeedbackNote(models.Model):
    review = models.ForeignKey(Review, on_delete=models.CASCADE, related_name="notes")
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="feedback_notes"
    )
    body = models.TextField(max_length=NOTE_MAX_LENGTH)
    # An anchored note points at a span of one post of the reviewed revision: characters
    # [anchor_start, anchor_end) of post ``post_index``. ``quote`` keeps the words, so the
    # note still reads right if the text is later revised.
    post_index = models.PositiveSmallIntegerField(default=0)
    anchor_start = models.PositiveIntegerField(null=True, blank=True)
    anchor_end = models.PositiveIntegerField(null=True, blank=True)
    quote = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(anchor_start__isnull=True, anchor_end__isnull=True)
                | Q(anchor_start__lt=F("anchor_end")),
                name="note_anchor_in_order",
            )
        ]

    def __str__(self) -> str:
        return f"Note on review {self.review_id}"


@dataclass(frozen=True)
class Phase:
    """Where a publication is on its way to the account, as people are told it: ``code`` for
    templates to choose their sentence by, ``label`` and ``colour`` for its NHS.UK tag."""

    code: str
    label: str
    colour: str


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
    # The dispatch lease. ``enqueued_at``: when the latest task message was sent to the
    # broker. ``lease_until``: set while a message is outstanding (sent, not yet taken by a
    # worker); the sweep re-sends only when the lease has run out and the message is not
    # among those still waiting in the broker (outbox.publication_sweep). Empty: no message
    # is on its way, so the sweep sends one once the post is due and the account can take it.
    enqueued_at = models.DateTimeField(null=True, blank=True)
    lease_until = models.DateTimeField(null=True, blank=True)
    # When people were told it settled (published or failed). Empty until then, and again
    # once a coach sends it again: notifications.tell_settled tells every untold one,
    # many per task message.
    told_at = models.DateTimeField(null=True, blank=True)
    # An answer's target, copied at approval: the first post replies to
    # ``reply_to_remote_id`` or quotes ``quote_of_remote_id`` (both empty for a post).
    reply_to_remote_id = models.CharField(max_length=300, blank=True)
    quote_of_remote_id = models.CharField(max_length=300, blank=True)
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
        indexes = [
            models.Index(fields=["status", "not_before"], name="publication_due_idx"),
            models.Index(
                fields=["id"],
                condition=Q(told_at__isnull=True, status__in=["published", "failed"]),
                name="publication_untold_idx",
            ),
        ]

    def __str__(self) -> str:
        return f"Publication {self.pk} ({self.status})"

    @property
    def phase(self) -> Phase:
        """The one rule for naming a publication's state on every page. A queued post with
        an error is waiting (stopped, rate limited, held, needing its account reconnected)
        whatever its planned time, so a past-due scheduled post held by a stop says so."""
        status = self.status
        if status == self.Status.QUEUED:
            if self.error:
                return Phase("waiting", "Waiting", "yellow")
            if self.publish_at and not self.approval.reviewer_id:
                return Phase("spot_check", "Passed by spot-check", "purple")
            if self.publish_at:
                return Phase("scheduled", "Scheduled", "purple")
            return Phase("queued", "Approved, queued", "blue")
        return {
            self.Status.SENDING: Phase("sending", "Publishing", "blue"),
            self.Status.PUBLISHED: Phase("published", "Live", "green"),
            self.Status.FAILED: Phase("failed", "Publishing failed", "red"),
            self.Status.UNCONFIRMED: Phase("unconfirmed", "Not confirmed", "orange"),
            self.Status.CANCELLED: Phase("cancelled", "Cancelled", "grey"),
            self.Status.RETRACTED: Phase("retracted", "Retracted", "grey"),
        }[self.Status(status)]

    @property
    def is_answer(self) -> bool:
        """Whether the first post replies to or quotes a post of the public's (an inbox
        item's answer), as copied at approval."""
        return bool(self.reply_to_remote_id or self.quote_of_remote_id)

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


class InboxItem(models.Model):
    """A post by someone else that mentions or answers the organisation's real account,
    fetched from the platform by the inbox beat task (coaching.services.fetching). Staff
    answer it through review (a draft with an ``Answer``), or mark it done or as needing
    no reply. Fetched once: ``remote_id`` is unique per account."""

    class Kind(models.TextChoices):
        MENTION = "mention", "Mention"
        REPLY = "reply", "Reply"
        QUOTE = "quote", "Quote"

    class State(models.TextChoices):
        OPEN = "open", "Needs an answer"
        DONE = "done", "Done"
        NO_REPLY = "no_reply", "Needs no reply"

    account = models.ForeignKey(
        WorkplaceAccount, on_delete=models.CASCADE, related_name="inbox_items"
    )
    # The platform's id of the post (X's tweet id, Mastodon's status id on the account's
    # instance, Bluesky's at:// URI), what an answer replies to or quotes.
    remote_id = models.CharField(max_length=300)
    remote_url = models.URLField(max_length=500, blank=True)
    kind = models.CharField(max_length=10, choices=Kind.choices, default=Kind.MENTION)
    author_handle = models.CharField(max_length=200)
    author_name = models.CharField(max_length=200, blank=True)
    text = models.TextField()
    # The post it answers (empty for a plain mention), and the first post of its
    # conversation, so the page can show the conversation around it.
    in_reply_to_remote_id = models.CharField(max_length=300, blank=True)
    conversation_id = models.CharField(max_length=300, blank=True)
    posted_at = models.DateTimeField()
    fetched_at = models.DateTimeField(default=timezone.now)
    # When the platform said the post is gone (deleted by its author, or removed): it
    # can no longer be answered, but what it said stays for the record.
    gone_at = models.DateTimeField(null=True, blank=True)
    # What the risk checks found in it, [{"code", "message"}]: a patient's details in a
    # public post must never be quoted back.
    risks = models.JSONField(default=list, blank=True)
    state = models.CharField(max_length=10, choices=State.choices, default=State.OPEN)
    assigned_to = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="inbox_items",
    )
    handled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    handled_at = models.DateTimeField(null=True, blank=True)
    # When whoever was covering was told it is past the organisation's response target:
    # once per item.
    overdue_told_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-posted_at", "-pk"]
        constraints = [
            models.UniqueConstraint(fields=["account", "remote_id"], name="one_inbox_item_per_post")
        ]
        indexes = [
            models.Index(fields=["account", "state", "-posted_at"], name="inbox_state_idx"),
            models.Index(fields=["posted_at"], condition=Q(state="open"), name="inbox_open_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} from @{self.author_handle}"

    @property
    def is_answerable(self) -> bool:
        return self.gone_at is None


class InboxCursor(models.Model):
    """Where fetching an account's inbox has got to: the newest item seen (the platform's
    since-id), when to fetch next (a rate limit's reset), and what the last fetch said."""

    account = models.OneToOneField(
        WorkplaceAccount, on_delete=models.CASCADE, related_name="inbox_cursor"
    )
    since_id = models.CharField(max_length=300, blank=True)
    fetched_at = models.DateTimeField(null=True, blank=True)
    not_before = models.DateTimeField(null=True, blank=True)
    error = models.TextField(blank=True)
    # Running totals, for the closing figures and the operations page: items stored, and
    # items the platform handed back that were already stored.
    fetched_total = models.PositiveIntegerField(default=0)
    duplicates_total = models.PositiveIntegerField(default=0)

    def __str__(self) -> str:
        return f"Inbox cursor of {self.account}"


class Answer(models.Model):
    """A draft written to answer an inbox item: a reply to it, or a quote of it. It goes
    through review as any draft does, and publishes as a real reply or quote on the
    account (the publication keeps the target's id from the approved moment)."""

    class Kind(models.TextChoices):
        REPLY = "reply", "Reply"
        QUOTE = "quote", "Quote"

    draft = models.OneToOneField(Draft, on_delete=models.CASCADE, related_name="answer")
    item = models.ForeignKey(InboxItem, on_delete=models.PROTECT, related_name="answers")
    kind = models.CharField(max_length=8, choices=Kind.choices, default=Kind.REPLY)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"{self.get_kind_display()} to {self.item}"


class AccountCover(models.Model):
    """Someone looking after an account while its owner is away, from ``starts_on`` to
    ``ends_on`` (both days included). Periods of one account never overlap
    (coaching.services.account_cover). The owner's handover note goes to the cover when
    the period starts; the cover's handback note comes back to the owner when it ends."""

    account = models.ForeignKey(WorkplaceAccount, on_delete=models.CASCADE, related_name="covers")
    person = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="account_covers"
    )
    starts_on = models.DateField()
    ends_on = models.DateField()
    handover_note = models.TextField(blank=True)
    handback_note = models.TextField(blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    # When the cover was sent the handover note (the day the period started): once.
    handover_told_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["starts_on", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_on__gte=F("starts_on")), name="cover_ends_after_it_starts"
            )
        ]
        indexes = [models.Index(fields=["account", "ends_on"], name="cover_account_end_idx")]

    def __str__(self) -> str:
        return f"Cover of {self.account} from {self.starts_on} to {self.ends_on}"


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


class Lockdown(models.Model):
    """An account locked down because it may be in someone else's hands: publishing to it
    stopped, its tokens revoked at the platform (where it offers a way) and forgotten,
    every coach and admin told, and a recovery checklist (``steps``) to work through.

    Open until every step is ticked. The stop it stands on is the ordinary emergency stop,
    resumed on the Publishing page as any other."""

    organisation = models.ForeignKey(
        "sandbox.Organisation", on_delete=models.CASCADE, related_name="lockdowns"
    )
    account = models.ForeignKey(
        WorkplaceAccount, on_delete=models.CASCADE, related_name="lockdowns"
    )
    reason = models.CharField(max_length=500)
    started_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    started_at = models.DateTimeField(auto_now_add=True)
    # What the platform said to the revoke: what it ended, or why it could not.
    revoked = models.BooleanField(default=False)
    revoke_outcome = models.TextField(blank=True)
    # The account's recent posts that Sandpit never published, read before the revoke
    # (afterwards the token no longer works): [{"remote_id", "text", "url"}].
    rogue_posts = models.JSONField(default=list, blank=True)
    rogue_posts_error = models.TextField(blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-started_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["account"],
                condition=Q(closed_at__isnull=True),
                name="one_open_lockdown_per_account",
            )
        ]

    def __str__(self) -> str:
        return f"Lockdown of @{self.account.handle}"


class LockdownStep(models.Model):
    """One step of a lockdown's recovery checklist: ticked once, by whom and when."""

    class Step(models.TextChoices):
        PASSWORD = "password", "Change the password and second factor at the platform"
        CONNECTED_APPS = "connected_apps", "Review the connected apps and sessions"
        REPORT = "report", "Report the compromise to the platform"
        GOVERNANCE = "governance", "Tell information governance"
        ROGUE_POSTS = "rogue_posts", "Delete the posts Sandpit did not publish"
        RECONNECT = "reconnect", "Reconnect the account in Sandpit"
        HOLDING_MESSAGE = "holding_message", "Post a holding message through review"

    lockdown = models.ForeignKey(Lockdown, on_delete=models.CASCADE, related_name="steps")
    step = models.CharField(max_length=20, choices=Step.choices)
    position = models.PositiveSmallIntegerField()
    done_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    done_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["position"]
        constraints = [
            models.UniqueConstraint(fields=["lockdown", "step"], name="one_of_each_lockdown_step")
        ]

    def __str__(self) -> str:
        return self.get_step_display()

    @property
    def after(self) -> dt.timedelta | None:
        """How long after the lockdown began the step was done."""
        return self.done_at - self.lockdown.started_at if self.done_at else None


class LockdownDrill(models.Model):
    """A practice lockdown for a cohort: each trainee gets a made-up incident on one of the
    organisation's accounts, a "Lock down" button that does nothing real, and the recovery
    checklist (``LockdownStep.Step``), each of their steps timed from when they started.

    Nothing real is touched: no stop, no revoke, no token forgotten. The account is named
    only so the incident reads like the real thing. Open until its coach ends it."""

    organisation = models.ForeignKey(
        "sandbox.Organisation", on_delete=models.CASCADE, related_name="lockdown_drills"
    )
    account = models.ForeignKey(
        WorkplaceAccount, on_delete=models.CASCADE, related_name="lockdown_drills"
    )
    cohort = models.ForeignKey(
        "sandbox.Cohort", on_delete=models.CASCADE, related_name="lockdown_drills"
    )
    incident = models.CharField(max_length=500)
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

    def __str__(self) -> str:
        return f"Lockdown drill of @{self.account.handle} for {self.cohort.name}"


class DrillRun(models.Model):
    """One trainee's go at a drill. The clock starts when they press Start (``started_at``);
    the lockdown and every step are timed from then."""

    drill = models.ForeignKey(LockdownDrill, on_delete=models.CASCADE, related_name="runs")
    trainee = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="drill_runs"
    )
    started_at = models.DateTimeField(null=True, blank=True)
    locked_down_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["drill", "trainee__first_name", "trainee__username"]
        constraints = [
            models.UniqueConstraint(fields=["drill", "trainee"], name="one_drill_run_per_trainee")
        ]

    def __str__(self) -> str:
        return f"{self.drill} run by {self.trainee}"

    @property
    def to_lock_down(self) -> dt.timedelta | None:
        if self.started_at and self.locked_down_at:
            return self.locked_down_at - self.started_at
        return None

    @property
    def total(self) -> dt.timedelta | None:
        if self.started_at and self.finished_at:
            return self.finished_at - self.started_at
        return None


class DrillStep(models.Model):
    """One step of a trainee's drill checklist: the same steps as a real lockdown's."""

    run = models.ForeignKey(DrillRun, on_delete=models.CASCADE, related_name="steps")
    step = models.CharField(max_length=20, choices=LockdownStep.Step.choices)
    position = models.PositiveSmallIntegerField()
    done_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["position"]
        constraints = [
            models.UniqueConstraint(fields=["run", "step"], name="one_of_each_drill_step")
        ]

    def __str__(self) -> str:
        return self.get_step_display()

    @property
    def after(self) -> dt.timedelta | None:
        """How long after the trainee started the drill the step was done."""
        if self.done_at and self.run.started_at:
            return self.done_at - self.run.started_at
        return None


class AuditLogIsAppendOnly(Exception):
    """Raised by any attempt to change or remove an audit event through the model."""


_APPEND_ONLY = "The audit log is append-only: its events are never changed or deleted."


class AuditEventQuerySet(models.QuerySet["AuditEvent"]):
    def update(self, **kwargs: object) -> int:
        raise AuditLogIsAppendOnly(_APPEND_ONLY)

    def delete(self) -> tuple[int, dict[str, int]]:
        raise AuditLogIsAppendOnly(_APPEND_ONLY)


class AuditEvent(models.Model):
    """Append-only record of actions that matter afterwards: who, when, what, on which
    revision. Written only by services; never changed or deleted.

    The default manager refuses update() and delete(), and so does the instance for an
    existing row; on PostgreSQL a trigger refuses them too (migration 0005), so an
    organisation with a history cannot be deleted. Deleting a draft or account only
    clears the link to it: the event itself stays.
    """

    class Action(models.TextChoices):
        PUBLISHING_STOPPED = "publishing_stopped", "Publishing stopped"
        PUBLISHING_RESUMED = "publishing_resumed", "Publishing resumed"
        PUBLICATION_RETRACTED = "publication_retracted", "Post retracted"
        PUBLICATION_RECONCILED = "publication_reconciled", "Publication reconciled"
        PUBLICATION_FORCED = "publication_forced", "Published anyway"
        PUBLICATION_RESUMED = "publication_resumed", "Sent again after failing"
        ACCOUNT_CONNECTED = "account_connected", "Account connected"
        ACCOUNT_NEEDS_RECONNECT = "account_needs_reconnect", "Account needs reconnecting"
        CHECK_OVERRIDDEN = "check_overridden", "Risk check overridden"
        REVIEW_APPROVED = "review_approved", "Approved"
        REVIEW_CHANGES_REQUESTED = "review_changes_requested", "Changes requested"
        REVIEW_REJECTED = "review_rejected", "Rejected"
        SPOT_CHECK_PASSED = "spot_check_passed", "Passed by spot-check"
        CLAIM_TAKEN_OVER = "claim_taken_over", "Review taken over"
        MODE_CHANGED = "mode_changed", "Review mode changed"
        # Who got in (coaching/services/sign_in.py), one event in each of the person's
        # organisations. Actor: the person whose account it is.
        SIGNED_IN = "signed_in", "Signed in"
        SIGN_IN_FAILED = "sign_in_failed", "Sign-in failed"
        SIGN_IN_LOCKED = "sign_in_locked", "Sign-in locked"
        SECOND_FACTOR_ADDED = "second_factor_added", "Second factor added"
        SECOND_FACTOR_REMOVED = "second_factor_removed", "Second factor removed"
        RECOVERY_CODES_RENEWED = "recovery_codes_renewed", "Recovery codes renewed"
        SECOND_FACTORS_RESET = "second_factors_reset", "Second factors reset by an admin"
        # Single sign-on (coaching/services/single_sign_on.py).
        SSO_SIGNED_IN = "sso_signed_in", "Signed in with single sign-on"
        SSO_REFUSED = "sso_refused", "Single sign-on refused"
        SSO_PASSWORD_REFUSED = (
            "sso_password_refused",
            "Password sign-in refused: single sign-on only",
        )
        SSO_SETTINGS_CHANGED = "sso_settings_changed", "Single sign-on settings changed"
        # People, managed by their organisation's admins (coaching.services.people).
        PERSON_INVITED = "person_invited", "Person invited"
        INVITATION_SENT_AGAIN = "invitation_sent_again", "Invitation sent again"
        INVITATION_ACCEPTED = "invitation_accepted", "Invitation accepted"
        ROLE_CHANGED = "role_changed", "Role changed"
        COACH_CHANGED = "coach_changed", "Named coach changed"
        COHORT_CHANGED = "cohort_changed", "Cohort changed"
        COHORT_CREATED = "cohort_created", "Cohort created"
        PERSON_DEACTIVATED = "person_deactivated", "Person deactivated"
        PERSON_REACTIVATED = "person_reactivated", "Person reactivated"
        PEOPLE_IMPORTED = "people_imported", "People imported from a file"
        CHECK_SETTINGS_CHANGED = "check_settings_changed", "Check settings changed"
        # Data protection (coaching.services.subject_access, coaching.services.erasure).
        SUBJECT_ACCESS_REQUESTED = "subject_access_requested", "Subject access export started"
        SUBJECT_ACCESS_DOWNLOADED = "subject_access_downloaded", "Subject access export downloaded"
        PERSON_ERASED = "person_erased", "Person erased"
        # Data protection (coaching/services/retention.py). A retention run has no actor.
        RETENTION_CHANGED = "retention_changed", "Retention changed"
        RETENTION_APPLIED = "retention_applied", "Retention applied"
        REVISIONS_PURGED = "revisions_purged", "Patient details purged"
        COMMENTED = "commented", "Commented on a draft"
        # Lockdown of a compromised account (coaching/services/lockdown.py).
        LOCKDOWN_STARTED = "lockdown_started", "Account locked down"
        LOCKDOWN_REVOKED = "lockdown_revoked", "Tokens revoked at the platform"
        LOCKDOWN_REVOKE_FAILED = "lockdown_revoke_failed", "Tokens not revoked at the platform"
        LOCKDOWN_STEP_DONE = "lockdown_step_done", "Recovery step done"
        LOCKDOWN_CLOSED = "lockdown_closed", "Lockdown closed"
        # Only a failure is audited, once until it changes: a fetch every minute would
        # drown the log.
        INBOX_FETCH_FAILED = "inbox_fetch_failed", "Inbox could not be read"
        # Lockdown drills (coaching/services/drills.py): practice, nothing real touched.
        DRILL_STARTED = "drill_started", "Lockdown drill started"
        DRILL_RUN_STARTED = "drill_run_started", "Lockdown drill begun by a trainee"
        DRILL_LOCKED_DOWN = "drill_locked_down", "Drill: pretend lockdown pressed"
        DRILL_STEP_DONE = "drill_step_done", "Drill: recovery step done"
        DRILL_ENDED = "drill_ended", "Lockdown drill ended"
        # The inbox and the account's cover (coaching/services/inbox.py, account_cover.py).
        INBOX_ASSIGNED = "inbox_assigned", "Inbox item assigned"
        INBOX_DONE = "inbox_done", "Inbox item marked done"
        INBOX_NO_REPLY = "inbox_no_reply", "Inbox item marked as needing no reply"
        INBOX_REOPENED = "inbox_reopened", "Inbox item reopened"
        ACCOUNT_OWNER_SET = "account_owner_set", "Account owner set"
        COVER_ADDED = "cover_added", "Cover added to the rota"
        COVER_REMOVED = "cover_removed", "Cover removed from the rota"
        HANDBACK_LEFT = "handback_left", "Handback note left for the owner"

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
    # The trainee an event is about, when it is about one (a change of review mode), so
    # their own page can show them their history.
    trainee = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    detail = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    objects = AuditEventQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.get_action_display()} at {self.created_at:%Y-%m-%d %H:%M}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self._state.adding:
            raise AuditLogIsAppendOnly(_APPEND_ONLY)
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        raise AuditLogIsAppendOnly(_APPEND_ONLY)


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


class Notification(models.Model):
    """Something a user should hear about, shown in the header until read. Email, when
    the user's preferences ask for it, goes after the transaction commits."""

    class Kind(models.TextChoices):
        REVIEWED = "reviewed", "Your post was reviewed"
        SUBMITTED = "submitted", "A post is waiting for review"
        PAST_TARGET = "past_target", "A post is past the review target"
        MODE_CHANGED = "mode_changed", "Your review mode changed"
        PUBLICATION = "publication", "Publication news"
        COMMENT = "comment", "A comment on a post"
        LOCKDOWN = "lockdown", "An account was locked down"
        DRILL = "drill", "A lockdown drill for you"
        INBOX = "inbox", "A post on the account needs an answer"
        INBOX_OVERDUE = "inbox_overdue", "A post is past the response target"
        HANDOVER = "handover", "Looking after an account"

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications"
    )
    kind = models.CharField(max_length=20, choices=Kind.choices)
    message = models.CharField(max_length=300)
    url = models.CharField(max_length=300, blank=True)
    draft = models.ForeignKey(
        Draft, on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    # For "past the target": the submission it is about. A draft that comes back to the
    # queue (edited after approval, held, resubmitted) is a new wait, told of anew.
    submitted_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    read_at = models.DateTimeField(null=True, blank=True)
    # When what the notice is about was dealt with (the post was decided, resent, went
    # live): it reads as done and no longer counts in the header's badge. Set only by
    # coaching.notifications.notices_resolved.
    resolved_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["user", "read_at"], name="notification_unread_idx")]
        constraints = [
            # "Past the target" is said once per wait and coach, however often the
            # sweep looks.
            models.UniqueConstraint(
                fields=["user", "draft", "submitted_at"],
                condition=Q(kind="past_target"),
                name="one_past_target_notice_per_wait",
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} for {self.user}"

    @property
    def is_unread(self) -> bool:
        """Still asking for the user's attention: neither opened nor dealt with."""
        return self.read_at is None and self.resolved_at is None


class DraftComment(models.Model):
    """One message in a draft's thread between its trainee and the coaches of its
    organisation: a question, an answer to feedback, a request to let a post through."""

    draft = models.ForeignKey(Draft, on_delete=models.CASCADE, related_name="comments")
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="draft_comments"
    )
    # The revision on the page when it was written, so the thread reads against the text.
    revision = models.ForeignKey(
        DraftRevision, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    body = models.TextField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "pk"]
        indexes = [models.Index(fields=["draft", "created_at"], name="draft_comment_thread_idx")]

    def __str__(self) -> str:
        return f"Comment by {self.author} on draft {self.draft_id}"


class NotificationPreference(models.Model):
    """What a user wants by email; in-app notices are always on."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notification_preference"
    )
    email_reviews = models.BooleanField("Email me when my post is reviewed", default=True)
    email_submissions = models.BooleanField(
        "Email me when a post is waiting for my review", default=False
    )
    email_past_target = models.BooleanField(
        "Email me when a post is past the review target", default=True
    )
    daily_digest = models.BooleanField("Send me a daily digest of my queue", default=True)
    digest_sent_on = models.DateField(null=True, blank=True)

    def __str__(self) -> str:
        return f"Notification preferences of {self.user}"


class Invitation(models.Model):
    """A link emailed to a person an admin invited. The User and Membership exist from the
    start (single sign-on matches on them); the link lets the person choose a password.
    Only a SHA-256 of the token is stored, so the table cannot be used to sign in."""

    membership = models.ForeignKey(
        "sandbox.Membership", on_delete=models.CASCADE, related_name="invitations"
    )
    token_hash = models.CharField(max_length=64, unique=True)
    invited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    expires_at = models.DateTimeField()
    accepted_at = models.DateTimeField(null=True, blank=True)
    # A newer link replaces this one (sent again): the old one stops working.
    replaced_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"Invitation {self.pk} to membership {self.membership_id}"

    @property
    def is_expired(self) -> bool:
        from django.utils import timezone

        return self.expires_at <= timezone.now()


class PeopleImport(models.Model):
    """A CSV of people an admin uploaded, worked through by a Celery task. The parsed rows
    are kept so the task needs no file, and ``results`` (one entry per row: line, email,
    outcome, reason) so the report outlives the page."""

    class Status(models.TextChoices):
        QUEUED = "queued", "Waiting to start"
        RUNNING = "running", "Importing"
        DONE = "done", "Finished"
        FAILED = "failed", "Stopped by an error"

    class Outcome(models.TextChoices):
        CREATED = "created", "Created"
        ADDED = "added", "Added (already had an account)"
        SKIPPED = "skipped", "Skipped"
        REFUSED = "refused", "Refused"

    organisation = models.ForeignKey(
        "sandbox.Organisation", on_delete=models.CASCADE, related_name="people_imports"
    )
    started_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    file_name = models.CharField(max_length=200)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED)
    rows = models.JSONField(default=list)
    results = models.JSONField(default=list)
    total = models.PositiveIntegerField(default=0)
    processed = models.PositiveIntegerField(default=0)
    created_count = models.PositiveIntegerField(default=0)
    skipped_count = models.PositiveIntegerField(default=0)
    refused_count = models.PositiveIntegerField(default=0)
    error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"Import of {self.file_name}"

    @property
    def percent(self) -> int:
        return 100 if not self.total else int(100 * self.processed / self.total)

    @property
    def finished(self) -> bool:
        return self.status in (self.Status.DONE, self.Status.FAILED)


class SubjectAccessExport(models.Model):
    """Everything Sandpit holds about one person, for the organisations an admin runs, as
    one zip (coaching.services.subject_access) built by a Celery task. The file is in
    private media storage; it can be downloaded until ``expires_at``, and is deleted then.
    ``organisation_ids``: every organisation whose records it holds; only someone who
    administers all of them may download it."""

    class Status(models.TextChoices):
        QUEUED = "queued", "Waiting to start"
        RUNNING = "running", "Gathering"
        DONE = "done", "Ready to download"
        FAILED = "failed", "Stopped by an error"
        EXPIRED = "expired", "Expired and deleted"

    # The organisation it was asked for from (its people page); its audit log records it.
    organisation = models.ForeignKey(
        "sandbox.Organisation", on_delete=models.CASCADE, related_name="subject_access_exports"
    )
    organisation_ids = models.JSONField(default=list)
    person = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="subject_access_exports"
    )
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED)
    total = models.PositiveIntegerField(default=0)
    processed = models.PositiveIntegerField(default=0)
    file = models.FileField(upload_to="subject-access/", blank=True)
    size = models.PositiveIntegerField(default=0)
    error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["status", "expires_at"], name="export_expiry_idx")]

    def __str__(self) -> str:
        return f"Subject access export {self.pk}"

    @property
    def percent(self) -> int:
        return 100 if not self.total else int(100 * self.processed / self.total)

    @property
    def finished(self) -> bool:
        return self.status in (self.Status.DONE, self.Status.FAILED, self.Status.EXPIRED)


class RevisionPurge(models.Model):
    """The tombstone of a revision whose text, alt text and images were purged because it
    held a patient's details (coaching.services.retention.revisions_purge): who, when and
    why. The revision row stays, so the draft's history keeps its shape, with a fixed
    sentence for its text; nothing of what it said is kept here or in the audit log."""

    revision = models.OneToOneField(DraftRevision, on_delete=models.CASCADE, related_name="purge")
    purged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    # The checks that found the patient's details (codes), not what they found.
    codes = models.JSONField(default=list)
    reason = models.CharField(max_length=500)
    purged_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-purged_at"]

    def __str__(self) -> str:
        return f"Purge of revision {self.revision_id}"
