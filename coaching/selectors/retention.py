"""What retention removes next: the one reading of "what is due" that both the admin's dry
run and the nightly run use (coaching.services.retention), so the two cannot disagree.

The rules, per organisation (the periods are fields of sandbox.Organisation):
  - practice posts (a trainee's own posts in their private timeline), with everything under
    them (simulated reactions, the rest of a thread, replies), after ``keep_practice_months``;
  - drafts never sent for review, with their images, after ``keep_practice_months`` since
    they last changed;
  - practice responses (drafts answering a post in the private timeline) go with the post
    they answer: they can only ever be posted there, and its removal would orphan them;
  - notifications after ``keep_notifications_days``;
  - what a platform answered to a publishing attempt (``error_body``) after
    ``keep_attempt_bodies_months``; the attempt itself (when, outcome, status) stays with
    its publication;
  - scenario runs, with their timeline posts, ``keep_scenario_runs_months`` after their last
    post appeared (the debrief is complete from then);
  - posts by the public in the inbox, once dealt with (done, or needing no reply),
    ``keep_inbox_months`` after they were posted: deleted, or, when Sandpit answered one,
    its words and its author's name removed (the answer's record keeps which post it
    answered, by the platform's id and handle). An item still needing an answer stays.

Nothing that reached the real account is due: a draft sent for review is never "never
sent", and publications, reviews and the audit log are not touched.
"""

from __future__ import annotations

import calendar
import datetime as dt
from dataclasses import dataclass

from django.db.models import Exists, OuterRef, Q, QuerySet

from coaching.models import InboxItem, Notification, Publication, PublishAttempt, Review
from sandbox.models import (
    Draft,
    DraftRevision,
    Membership,
    Organisation,
    PostImage,
    ScenarioRun,
    TimelineItem,
)
from sandbox.selectors import check_context, findings_for_posts

# Each kind as the dry run and the audit name it, in the order they are shown.
KINDS: dict[str, str] = {
    "practice_posts": "practice posts",
    "scenario_runs": "scenario runs",
    "drafts_never_sent": "drafts never sent for review",
    "practice_responses": "practice responses",
    "images": "images",
    "notifications": "notifications",
    "attempt_bodies": "publishing-attempt answers",
    "inbox_posts": "posts by the public in the inbox",
}


@dataclass(frozen=True)
class RetentionDue:
    """Everything one organisation's next retention run removes, as querysets."""

    practice_posts: QuerySet[TimelineItem]
    scenario_runs: QuerySet[ScenarioRun]
    # Every timeline item that goes: the practice posts and scenario runs' items, and
    # everything under them.
    timeline_items: QuerySet[TimelineItem]
    drafts_never_sent: QuerySet[Draft]
    practice_responses: QuerySet[Draft]
    images: QuerySet[PostImage]
    notifications: QuerySet[Notification]
    attempt_bodies: QuerySet[PublishAttempt]
    inbox_posts: QuerySet[InboxItem]

    def counts(self) -> dict[str, int]:
        """How many of each kind: what the dry run shows and the run records."""
        return {kind: getattr(self, kind).count() for kind in KINDS}


def retention_cutoffs(organisation: Organisation, now: dt.datetime) -> dict[str, dt.datetime]:
    """The moment before which each kind is due."""
    return {
        "practice": months_before(now, organisation.keep_practice_months),
        "notifications": now - dt.timedelta(days=organisation.keep_notifications_days),
        "attempt_bodies": months_before(now, organisation.keep_attempt_bodies_months),
        "scenario_runs": months_before(now, organisation.keep_scenario_runs_months),
        "inbox": months_before(now, organisation.keep_inbox_months),
    }


def months_before(moment: dt.datetime, months: int) -> dt.datetime:
    """The same day and time ``months`` calendar months earlier (the month's last day when
    that month is shorter: 31 May less 3 months is 28 or 29 February)."""
    year, month = divmod(moment.year * 12 + moment.month - 1 - months, 12)
    day = min(moment.day, calendar.monthrange(year, month + 1)[1])
    return moment.replace(year=year, month=month + 1, day=day)


def retention_due(organisation: Organisation, now: dt.datetime) -> RetentionDue:
    cutoff = retention_cutoffs(organisation, now)
    practice_posts = TimelineItem.objects.filter(
        account__organisation=organisation,
        persona="",
        parent__isnull=True,
        scenario_run__isnull=True,
        appear_at__lt=cutoff["practice"],
    )
    still_running = TimelineItem.objects.filter(
        scenario_run=OuterRef("pk"), appear_at__gte=cutoff["scenario_runs"]
    )
    scenario_runs = ScenarioRun.objects.filter(
        scenario__organisation=organisation, started_at__lt=cutoff["scenario_runs"]
    ).exclude(Exists(still_running))
    roots = list(practice_posts.values_list("pk", flat=True)) + list(
        TimelineItem.objects.filter(scenario_run__in=scenario_runs).values_list("pk", flat=True)
    )
    timeline_items = TimelineItem.objects.filter(pk__in=_with_descendants(roots))
    drafts_never_sent = (
        Draft.objects.filter(
            account__organisation=organisation,
            first_submitted_at__isnull=True,
            submitted_at__isnull=True,
            updated_at__lt=cutoff["practice"],
        )
        # Belt and braces: nothing reviewed or published is ever "never sent".
        .exclude(Exists(Publication.objects.filter(draft=OuterRef("pk"))))
        .exclude(Exists(Review.objects.filter(draft=OuterRef("pk"))))
    )
    practice_responses = responses_to(timeline_items).exclude(pk__in=drafts_never_sent)
    images = PostImage.objects.filter(
        Q(draft__in=drafts_never_sent) | Q(draft__in=practice_responses)
    )
    members = Membership.objects.filter(organisation=organisation, user=OuterRef("user"))
    notifications = Notification.objects.filter(
        # A notice about no draft (a change of review mode) belongs to each of its
        # person's organisations: the shortest of their periods applies.
        Q(draft__account__organisation=organisation) | (Q(draft__isnull=True) & Q(Exists(members))),
        created_at__lt=cutoff["notifications"],
    )
    attempt_bodies = PublishAttempt.objects.filter(
        publication__account__organisation=organisation,
        started_at__lt=cutoff["attempt_bodies"],
    ).exclude(error_body="")
    inbox_posts = (
        InboxItem.objects.filter(
            account__organisation=organisation,
            posted_at__lt=cutoff["inbox"],
            state__in=[InboxItem.State.DONE, InboxItem.State.NO_REPLY],
        )
        # Words already removed from an answered post are not due again.
        .exclude(text="")
    )
    return RetentionDue(
        practice_posts=practice_posts,
        scenario_runs=scenario_runs,
        timeline_items=timeline_items,
        drafts_never_sent=drafts_never_sent,
        practice_responses=practice_responses,
        images=images,
        notifications=notifications,
        attempt_bodies=attempt_bodies,
        inbox_posts=inbox_posts,
    )


def responses_to(items: QuerySet[TimelineItem]) -> QuerySet[Draft]:
    """Practice responses (drafts answering or quoting these items): they go with the items,
    which they hold on to (``Draft.in_reply_to`` restricts the items' deletion)."""
    return Draft.objects.filter(Q(in_reply_to__in=items) | Q(quote_of__in=items))


def _with_descendants(roots: list[int]) -> set[int]:
    """The items and everything under them (reactions, a thread's posts, replies to
    those), one level per query: a timeline is a few levels deep."""
    found = set(roots)
    frontier = set(roots)
    while frontier:
        frontier = (
            set(TimelineItem.objects.filter(parent__in=frontier).values_list("pk", flat=True))
            - found
        )
        found |= frontier
    return found


# Purge on request ---------------------------------------------------------------------------

# The checks whose block means a patient could be identified: an NHS, CHI or local patient
# number, a date of birth, or a person beside their health or care.
PATIENT_DETAIL_CHECKS = ("patient-identifier", "patient-details", "date-of-birth")


def purgeable_revisions(draft: Draft) -> list[tuple[DraftRevision, list[str]]]:
    """The draft's revisions, not yet purged, in which the organisation's checks block a
    patient's details (in a post or an image's description), each with those checks'
    codes. A coach's override does not matter here: the details were still written."""
    context = check_context(draft.account.organisation_id)
    found = []
    for revision in draft.revisions.filter(purge__isnull=True).order_by("number"):
        codes = sorted(
            {
                finding.code
                for findings in findings_for_posts(revision.posts, context, images=revision.images)
                for finding in findings
                if finding.severity == "block" and finding.code in PATIENT_DETAIL_CHECKS
            }
        )
        if codes:
            found.append((revision, codes))
    return found


def practice_tree_of(item_ids: list[int]) -> QuerySet[TimelineItem]:
    """Timeline items and everything under them."""
    return TimelineItem.objects.filter(pk__in=_with_descendants(item_ids))
