import hashlib
import json
from collections.abc import Mapping, Sequence
from functools import partial
from typing import Any

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models, transaction
from django.db.models import F, Q
from django.db.models.signals import post_delete
from django.dispatch import receiver
from django.urls import reverse

from sandbox.crypto import EncryptedTextField


def _kept_for(low: int, high: int, unit: str) -> list[MinValueValidator | MaxValueValidator]:
    """A retention period's bounds, with the message an admin reads when outside them."""
    message = f"Enter a number of {unit} from {low} to {high}."
    return [MinValueValidator(low, message), MaxValueValidator(high, message)]


class Organisation(models.Model):
    name = models.CharField(max_length=200, unique=True)
    slug = models.SlugField(max_length=80, unique=True)
    # The review target (SLA): submissions waiting longer are flagged to coaches.
    review_target_hours = models.PositiveSmallIntegerField(
        default=24, validators=[MinValueValidator(1), MaxValueValidator(24 * 14)]
    )
    # Earned autonomy. After ``autonomy_streak`` consecutive first-pass approvals, each with
    # every rubric score at least ``autonomy_min_score`` and no blocking finding, a trainee
    # moves to spot-check mode: their posts publish ``spot_check_delay_minutes`` after they
    # submit unless a coach steps in, and every ``spot_check_every``-th post is still
    # reviewed. A streak of 0 turns the rule off.
    autonomy_streak = models.PositiveSmallIntegerField(
        default=0, validators=[MaxValueValidator(100)]
    )
    autonomy_min_score = models.PositiveSmallIntegerField(
        default=3, validators=[MinValueValidator(1), MaxValueValidator(4)]
    )
    spot_check_every = models.PositiveSmallIntegerField(
        default=5, validators=[MinValueValidator(1), MaxValueValidator(100)]
    )
    spot_check_delay_minutes = models.PositiveSmallIntegerField(
        default=60, validators=[MinValueValidator(5), MaxValueValidator(24 * 60)]
    )
    # Coaches and admins can publish to the organisation's real account: unless this is
    # turned off (the demo), they reach no page until they have a passkey or an
    # authenticator app (sandbox.signin.SecondFactorRequiredMiddleware).
    second_factor_required = models.BooleanField(
        "Coaches and admins must use a second factor", default=True
    )
    # A legal hold (litigation, an inquiry, a complaint under investigation): while it is
    # on, nobody in the organisation can be erased (coaching.services.erasure), because
    # their records must be kept as they are. Set by the operators with the reason given.
    records_on_hold = models.BooleanField(
        "Keep everyone's records (legal hold): refuse erasure", default=False
    )
    records_on_hold_reason = models.CharField(
        "Why the records are on hold", max_length=300, blank=True
    )
    # Retention, applied every night by coaching.services.retention and set by the
    # organisation's admins. Only what never reached the real account expires: a published
    # post and its reviews are the organisation's record and are kept. The defaults are the
    # ones docs/data-protection.md gives an NHS board.
    keep_practice_months = models.PositiveSmallIntegerField(
        "Practice posts and drafts never sent for review (months)",
        default=12,
        validators=_kept_for(1, 120, "months"),
    )
    keep_notifications_days = models.PositiveSmallIntegerField(
        "Notifications (days)",
        default=90,
        validators=_kept_for(7, 3650, "days"),
    )
    keep_attempt_bodies_months = models.PositiveSmallIntegerField(
        "What the platforms answered to failed publishing attempts (months)",
        default=12,
        validators=_kept_for(1, 120, "months"),
    )
    keep_scenario_runs_months = models.PositiveSmallIntegerField(
        "Scenario runs, after their last post appeared (months)",
        default=12,
        validators=_kept_for(1, 120, "months"),
    )
    keep_inbox_months = models.PositiveSmallIntegerField(
        "Posts by the public in the inbox, once dealt with (months)",
        default=12,
        validators=_kept_for(1, 120, "months"),
    )
    # The inbox's response target: an item still needing an answer this long after it was
    # posted alerts whoever is looking after the account (coaching.services.inbox).
    response_target_hours = models.PositiveSmallIntegerField(
        "Response target for the inbox (hours)",
        default=4,
        validators=[MinValueValidator(1), MaxValueValidator(24 * 14)],
    )
    created_at = models.DateTimeField(auto_now_add=True)

    RETENTION_FIELDS = (
        "keep_practice_months",
        "keep_notifications_days",
        "keep_attempt_bodies_months",
        "keep_scenario_runs_months",
        "keep_inbox_months",
    )

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class SingleSignOn(models.Model):
    """An organisation's OpenID Connect identity provider (e.g. Microsoft Entra ID).

    The one place its sign-in settings live: allauth's providers are made from these rows
    (coaching.single_sign_on), so the client secret is stored encrypted, unlike allauth's
    own SocialApp table. Single sign-on only lets in people already invited: a verified
    email from the provider, in one of ``email_domains``, must belong to a member.
    """

    organisation = models.OneToOneField(
        Organisation, on_delete=models.CASCADE, related_name="single_sign_on"
    )
    enabled = models.BooleanField(default=False)
    # Shown on the button: "Sign in with NHSmail".
    provider_name = models.CharField(max_length=60, default="Microsoft Entra ID")
    issuer = models.URLField(max_length=300)
    client_id = models.CharField(max_length=200)
    client_secret = EncryptedTextField()
    # Lower-case domains, e.g. ["nhs.net"]; an email at any other domain is refused.
    email_domains = models.JSONField(default=list)
    # "The only way in": members of this organisation may not sign in with a password.
    required = models.BooleanField(default=False)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"Single sign-on for {self.organisation}"


class Membership(models.Model):
    class Role(models.TextChoices):
        TRAINEE = "trainee", "Trainee"
        COACH = "coach", "Coach"
        ADMIN = "admin", "Admin"

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships"
    )
    organisation = models.ForeignKey(
        Organisation, on_delete=models.CASCADE, related_name="memberships"
    )

    class ReviewMode(models.TextChoices):
        FULL = "full", "Full review"
        SPOT_CHECK = "spot_check", "Spot-check"

    role = models.CharField(max_length=16, choices=Role.choices, default=Role.TRAINEE)
    # For a trainee: their group, their named coach, and how their posts are reviewed.
    cohort = models.ForeignKey(
        "Cohort", on_delete=models.SET_NULL, null=True, blank=True, related_name="memberships"
    )
    coach = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="coached_memberships",
    )
    # Written only by coaching.services (earned autonomy), which audits every change.
    review_mode = models.CharField(
        max_length=12, choices=ReviewMode.choices, default=ReviewMode.FULL
    )
    # Posts submitted since the trainee entered spot-check mode: every Nth is reviewed.
    spot_check_count = models.PositiveIntegerField(default=0)
    # For a coach: when they are away, and who covers (empty: the organisation's coach pool).
    away_from = models.DateField(null=True, blank=True)
    away_until = models.DateField(null=True, blank=True)
    cover_coach = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="covering_memberships",
    )
    # Deactivated by an admin (coaching.services.people): the role no longer counts anywhere
    # (sandbox.selectors reads only active memberships), and a person left with no active
    # membership cannot sign in (User.is_active). Kept, not deleted, so history stays whole.
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["user", "organisation"], name="one_role_per_organisation"
            ),
            models.CheckConstraint(
                condition=Q(away_from__isnull=True)
                | Q(away_until__isnull=True)
                | Q(away_from__lte=F("away_until")),
                name="away_dates_in_order",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user} — {self.get_role_display()} at {self.organisation}"


class Cohort(models.Model):
    """A group of trainees who learn together (a ward, a team, an intake)."""

    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="cohorts")
    name = models.CharField(max_length=100)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["organisation", "name"], name="cohort_names_unique")
        ]

    def __str__(self) -> str:
        return self.name


class WorkplaceAccount(models.Model):
    """The organisation's real account on a platform, where approved posts go."""

    class Platform(models.TextChoices):
        X = "x", "X"
        MASTODON = "mastodon", "Mastodon"
        BLUESKY = "bluesky", "Bluesky"

    class Status(models.TextChoices):
        ACTIVE = "active", "Connected"
        NEEDS_RECONNECT = "needs_reconnect", "Needs reconnecting"

    organisation = models.ForeignKey(
        Organisation, on_delete=models.CASCADE, related_name="accounts"
    )
    platform = models.CharField(max_length=16, choices=Platform.choices, default=Platform.X)
    handle = models.CharField(max_length=50, help_text="Without the @, e.g. NHSDemoBoard.")
    display_name = models.CharField(max_length=100)
    remote_user_id = models.CharField(max_length=64, blank=True)
    # Empty means the platform's usual server (X_API_BASE_URL for X). Mastodon needs
    # the instance, e.g. https://mastodon.social; Bluesky its PDS, e.g. https://bsky.social.
    api_base_url = models.URLField(blank=True)
    # Credentials, all encrypted at rest. X and Mastodon use an OAuth access token (X's
    # expires and is refreshed with a rotating refresh token); Bluesky an app password,
    # with the session the SDK hands back kept so we do not log in for every post.
    access_token = EncryptedTextField(blank=True)
    refresh_token = EncryptedTextField(blank=True)
    token_expires_at = models.DateTimeField(null=True, blank=True)
    app_password = EncryptedTextField(blank=True)
    platform_session = EncryptedTextField(blank=True)
    # Mastodon's application key and secret (Preferences > Development shows them beside
    # the token): Mastodon revokes a token only when its application asks, as a lockdown does.
    client_id = models.CharField(max_length=200, blank=True)
    client_secret = EncryptedTextField(blank=True)
    connected_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    connected_at = models.DateTimeField(null=True, blank=True)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.ACTIVE)
    status_detail = models.TextField(blank=True)
    rate_limited_until = models.DateTimeField(null=True, blank=True)
    # Who looks after the account day to day: its inbox comes to them unless someone is
    # covering for them on the rota (coaching.selectors.inbox.on_duty).
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="owned_accounts",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["organisation__name", "handle"]
        constraints = [
            models.UniqueConstraint(fields=["platform", "handle"], name="one_account_per_handle")
        ]

    def __str__(self) -> str:
        return f"@{self.handle} ({self.get_platform_display()})"

    # The encrypted columns. Pages that only show an account's name defer them (as
    # ``<relation>__<field>``): each one loaded is a decryption, per row, per request.
    SECRETS = ("access_token", "refresh_token", "app_password", "platform_session", "client_secret")

    @classmethod
    def secrets_of(cls, *relations: str) -> list[str]:
        return [f"{relation}__{name}" for relation in relations for name in cls.SECRETS]

    @property
    def has_credentials(self) -> bool:
        if self.platform == self.Platform.BLUESKY:
            return bool(self.app_password)
        return bool(self.access_token)


class Draft(models.Model):
    """A post a trainee is working on. Its text lives in revisions; status moves only
    through sandbox.services (authoring) and coaching.services (everything after)."""

    class Status(models.TextChoices):
        DRAFT = "draft", "Draft"
        SUBMITTED = "submitted", "Waiting for review"
        IN_REVIEW = "in_review", "In review"
        CHANGES_REQUESTED = "changes_requested", "Changes requested"
        APPROVED = "approved", "Approved"
        REJECTED = "rejected", "Rejected"
        WITHDRAWN = "withdrawn", "Withdrawn"

    # Once finished with (rejected, withdrawn) a draft takes no more revisions.
    EDITABLE_STATUSES = frozenset(
        {
            Status.DRAFT,
            Status.SUBMITTED,
            Status.IN_REVIEW,
            Status.CHANGES_REQUESTED,
            Status.APPROVED,
        }
    )

    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="drafts"
    )
    account = models.ForeignKey(WorkplaceAccount, on_delete=models.PROTECT, related_name="drafts")
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.DRAFT)
    # Denormalised pointer so lists can show the latest text with one join, not N queries.
    current_revision = models.ForeignKey(
        "DraftRevision", on_delete=models.PROTECT, null=True, related_name="+"
    )
    claimed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="claimed_drafts",
    )
    claimed_at = models.DateTimeField(null=True, blank=True)
    # A response to an item in the trainee's private timeline (a scenario's hostile reply,
    # say): it goes through review like any draft, but it can only ever be posted in the
    # sandbox, because the post it answers does not exist on the real account.
    # RESTRICT, not SET_NULL: losing the link would turn a practice response into an
    # ordinary draft, which an approval would publish to the real account. Deleting the
    # trainee (which deletes their drafts too) is still allowed.
    in_reply_to = models.ForeignKey(
        "TimelineItem", on_delete=models.RESTRICT, null=True, blank=True, related_name="+"
    )
    quote_of = models.ForeignKey(
        "TimelineItem", on_delete=models.RESTRICT, null=True, blank=True, related_name="+"
    )
    submitted_at = models.DateTimeField(null=True, blank=True)
    # ``submitted_at`` moves on each resubmission (the queue orders by it); this one is set
    # once, so the trainee's record can measure time to approval from the first try.
    first_submitted_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["status", "submitted_at"], name="draft_queue_idx"),
            # The queue's order over the waiting drafts only (a fifth of them, or less), so
            # its first page is read in order instead of sorting every waiting row.
            models.Index(
                fields=["submitted_at", "id"],
                condition=Q(status__in=["submitted", "in_review"]),
                name="draft_waiting_idx",
            ),
            # The timeline lists a trainee's drafts by when they last changed.
            models.Index(fields=["author", "-updated_at"], name="draft_author_idx"),
            # "Routed to me" is a set of trainees: their waiting drafts, not all of theirs.
            models.Index(
                fields=["author"],
                condition=Q(status__in=["submitted", "in_review"]),
                name="draft_waiting_author_idx",
            ),
        ]

    def __str__(self) -> str:
        return f"Draft {self.pk} by {self.author}"

    def get_absolute_url(self) -> str:
        return reverse("draft_detail", args=[self.pk])

    @property
    def is_editable(self) -> bool:
        """Whether the author may still change it: not finished with, and not already on
        its way to (or on) the real account."""
        publication = self.latest_publication
        on_its_way = publication is not None and (
            publication.status in ("sending", "published", "unconfirmed")
            or bool(publication.remote_id)
        )
        # An approved practice response is already posted in the sandbox: it is final too.
        posted_in_sandbox = self.is_sandbox_only and self.status == self.Status.APPROVED
        return self.status in self.EDITABLE_STATUSES and not on_its_way and not posted_in_sandbox

    @property
    def text(self) -> str:
        return self.current_revision.text if self.current_revision else ""

    # A reply to or quote of a simulated post: approval never reaches the account. The one
    # rule, as a query (SANDBOX_ONLY) and for one draft (is_sandbox_only).
    SANDBOX_ONLY = Q(in_reply_to__isnull=False) | Q(quote_of__isnull=False)

    @property
    def is_sandbox_only(self) -> bool:
        return self.in_reply_to_id is not None or self.quote_of_id is not None

    @property
    def latest_publication(self) -> Any:
        """The newest of the publications coaching keeps for this draft (coaching builds on
        sandbox, so this model knows them only through the ORM's reverse relation). Uses the
        ``publication_list`` prefetch of coaching.draft_display when it is there."""
        publications = getattr(self, "publication_list", None)
        if publications is None:
            publications = list(self.publications.order_by("-created_at")[:1])
        return publications[0] if publications else None


class DraftRevision(models.Model):
    draft = models.ForeignKey(Draft, on_delete=models.CASCADE, related_name="revisions")
    number = models.PositiveIntegerField()
    # The first post. A thread's further posts, in order, are in ``thread``.
    text = models.TextField()
    thread = models.JSONField(default=list, blank=True)
    # The images of each post, in order: one list per post (``posts``), each entry
    # {"id": PostImage id, "alt": alt text}. Part of the content hash, so an approval
    # covers the exact images and alt text too.
    images = models.JSONField(default=list, blank=True)
    content_hash = models.CharField(max_length=64)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["draft", "number"]
        constraints = [
            models.UniqueConstraint(fields=["draft", "number"], name="revision_numbers_unique"),
            models.CheckConstraint(condition=~Q(text=""), name="revision_text_not_empty"),
        ]

    def __str__(self) -> str:
        return f"Revision {self.number} of draft {self.draft_id}"

    @property
    def posts(self) -> list[str]:
        return [self.text, *self.thread]

    @property
    def images_by_post(self) -> list[list[dict[str, object]]]:
        """One list of {"id", "alt"} per post, in order, empty for a post without images."""
        images = list(self.images or [])
        return [list(images[n]) if n < len(images) else [] for n in range(len(self.posts))]

    @staticmethod
    def hash_posts(posts: list[str], images: Sequence[Sequence[Mapping[str, object]]] = ()) -> str:
        # The record separator cannot be typed into a post, so no two threads share a hash.
        joined = "\x1e".join(posts)
        if any(images):
            # Only posts with images add to the hash, so every hash made before images
            # existed stays valid. JSON escapes control characters, so the group separator
            # cannot occur inside it.
            attached = [[[entry["id"], entry["alt"]] for entry in post] for post in images]
            joined += "\x1d" + json.dumps(attached, ensure_ascii=False)
        return hashlib.sha256(joined.encode("utf-8", "surrogatepass")).hexdigest()

    @classmethod
    def hash_text(cls, text: str) -> str:
        return cls.hash_posts([text])


# How an organisation tunes the risk checks (sandbox.checks). Its admins edit them on the
# check settings page (coaching.views.check_settings); operators also in the Django admin.


class CheckSeverity(models.Model):
    """An organisation's choice of severity for one check, or "off"."""

    class Level(models.TextChoices):
        BLOCK = "block", "Block (cannot be submitted without a coach's override)"
        WARN = "warn", "Warn (shown to the trainee and the coach)"
        TIP = "tip", "Tip"
        OFF = "off", "Off"

    organisation = models.ForeignKey(
        Organisation, on_delete=models.CASCADE, related_name="check_severities"
    )
    code = models.CharField(max_length=40)
    severity = models.CharField(max_length=8, choices=Level.choices)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["organisation", "code"], name="one_severity_per_check")
        ]

    def __str__(self) -> str:
        return f"{self.code}: {self.severity}"


class LocalWord(models.Model):
    """A word the organisation adds to the profanity check."""

    organisation = models.ForeignKey(
        Organisation, on_delete=models.CASCADE, related_name="local_words"
    )
    word = models.CharField(max_length=60)

    def __str__(self) -> str:
        return self.word


class LocalIdentifierPattern(models.Model):
    """An organisation's own patient identifier, e.g. hospital numbers like RX1234567."""

    organisation = models.ForeignKey(
        Organisation, on_delete=models.CASCADE, related_name="local_identifier_patterns"
    )
    label = models.CharField(max_length=80, help_text="What it is, e.g. 'hospital number'.")
    pattern = models.CharField(max_length=200, help_text=r"A regular expression, e.g. \bRX\d{7}\b")

    def __str__(self) -> str:
        return self.label

    def clean(self) -> None:
        # The same engine the checks use (sandbox.checks compiles with ``regex``).
        import regex
        from django.core.exceptions import ValidationError

        try:
            regex.compile(self.pattern)
        except regex.error as exc:
            raise ValidationError({"pattern": f"This is not a valid pattern: {exc}."}) from exc


class PreElectionPeriod(models.Model):
    """Dates when political content is flagged (the pre-election period, or purdah)."""

    organisation = models.ForeignKey(
        Organisation, on_delete=models.CASCADE, related_name="pre_election_periods"
    )
    name = models.CharField(max_length=100, help_text="e.g. 'Local elections May 2027'.")
    starts_on = models.DateField()
    ends_on = models.DateField()

    class Meta:
        ordering = ["starts_on"]
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_on__gte=models.F("starts_on")), name="period_ends_after_start"
            )
        ]

    def __str__(self) -> str:
        return self.name


# The private simulated timeline ------------------------------------------------------------


class Scenario(models.Model):
    """A scripted exercise a coach or admin writes: timeline items at set offsets (a hostile
    reply, a misinformation post, an outage). ``items`` is a list of
    {"offset_seconds", "persona", "kind", "text"}, validated by sandbox.audience."""

    organisation = models.ForeignKey(
        Organisation, on_delete=models.CASCADE, related_name="scenarios"
    )
    title = models.CharField(max_length=120)
    description = models.TextField(blank=True)
    items = models.JSONField(default=list)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["title"]

    def __str__(self) -> str:
        return self.title


class ScenarioRun(models.Model):
    """One trainee working through a scenario, from ``started_at``."""

    scenario = models.ForeignKey(Scenario, on_delete=models.CASCADE, related_name="runs")
    trainee = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="scenario_runs"
    )
    # Set when the run came from assigning the scenario to a whole cohort.
    cohort = models.ForeignKey(
        Cohort, on_delete=models.SET_NULL, null=True, blank=True, related_name="scenario_runs"
    )
    started_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    started_at = models.DateTimeField()

    class Meta:
        ordering = ["-started_at"]

    def __str__(self) -> str:
        return f"{self.scenario} for {self.trainee}"


class TimelineItem(models.Model):
    """One post in a trainee's private timeline: their own practice post, a simulated
    persona's post or reaction, or a scenario's inject. Only the owner and their coaches
    see it; it never leaves Sandpit. Items whose ``appear_at`` is still in the future
    have not "arrived" yet."""

    class Kind(models.TextChoices):
        POST = "post", "Post"
        REPLY = "reply", "Reply"
        QUOTE = "quote", "Quote"

    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="timeline_items"
    )
    # A persona's slug (sandbox.personas.PERSONAS); empty for the trainee's own posts,
    # which show as ``account``.
    persona = models.CharField(max_length=40, blank=True)
    account = models.ForeignKey(
        WorkplaceAccount, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    kind = models.CharField(max_length=8, choices=Kind.choices, default=Kind.POST)
    text = models.TextField()
    parent = models.ForeignKey(
        "self", on_delete=models.CASCADE, null=True, blank=True, related_name="children"
    )
    # The trainee's quote post: a post of its own in their timeline (no parent), showing
    # the quoted item embedded. (A persona's quote, a reaction, hangs under ``parent``.)
    quote_of = models.ForeignKey(
        "self", on_delete=models.SET_NULL, null=True, blank=True, related_name="quotes"
    )
    # The approved response draft this practice post came from: at most one post each.
    draft = models.OneToOneField(
        Draft, on_delete=models.SET_NULL, null=True, blank=True, related_name="practice_item"
    )
    appear_at = models.DateTimeField()
    # For a practice post: the audience plan (sandbox.audience.AudiencePlan.as_dict()),
    # stored so that later changes to the rules never rewrite what a trainee saw.
    audience = models.JSONField(null=True, blank=True)
    # For a simulated reaction: the audience rule that produced it (shown to coaches).
    rule = models.CharField(max_length=40, blank=True)
    scenario_run = models.ForeignKey(
        ScenarioRun, on_delete=models.CASCADE, null=True, blank=True, related_name="items"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-appear_at"]
        indexes = [
            models.Index(fields=["owner", "parent", "-appear_at"], name="timeline_feed_idx"),
            # The feed's query: an owner's top-level posts, newest first. PostgreSQL cannot
            # use the index above for ``parent IS NULL`` ordered by time; this one it reads
            # in order and stops after a page, however long the timeline.
            models.Index(
                fields=["owner", "-appear_at"],
                condition=Q(parent__isnull=True),
                name="timeline_top_level_idx",
            ),
            # When an owner's next post or reply is due to appear (coaching.feed).
            models.Index(fields=["owner", "appear_at"], name="timeline_due_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} in {self.owner}'s timeline"


class PostImage(models.Model):
    """An image a trainee uploaded for a post, already checked and stripped of metadata
    by sandbox.media. Stored privately and served only to those who may see the draft.
    Revisions refer to it by id (``DraftRevision.images``), with their own alt text."""

    # Empty while the trainee is still writing a new post in the composer (the draft does
    # not exist until it is saved); the upload then belongs to uploaded_by alone.
    draft = models.ForeignKey(
        Draft, on_delete=models.CASCADE, null=True, blank=True, related_name="images"
    )
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+"
    )
    file = models.FileField(upload_to="post-images/%Y/%m/")
    content_type = models.CharField(max_length=40)
    width = models.PositiveIntegerField()
    height = models.PositiveIntegerField()
    size = models.PositiveIntegerField(help_text="Bytes, after metadata was stripped.")
    sha256 = models.CharField(max_length=64)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at"]

    def __str__(self) -> str:
        return f"Image {self.pk} on draft {self.draft_id}"


@receiver(post_delete, sender=PostImage)
def _delete_image_file(sender: type[PostImage], instance: PostImage, **kwargs: object) -> None:
    # However the row goes (a deleted draft or user, or never being saved with a draft),
    # the file goes too, once the deletion has committed: it may show a patient.
    transaction.on_commit(partial(instance.file.storage.delete, instance.file.name))
