"""Earned autonomy: the one place for the rule. Pure functions over review history, and
the reads that feed them. The writes (changing a trainee's mode, the automatic pass, a
coach holding a post) are in coaching.services, which calls these.

The organisation's rule (``Organisation.autonomy_*`` and ``spot_check_*``, set by its
admins in the Django admin; ``autonomy_streak`` 0 turns it off):

**First-pass approval.** A draft counts as one when
  - a coach has decided on it, and every coach decision on it was an approval (no request
    for changes, no rejection, before or after an edit);
  - every one of those approvals scored safe, person-centred and effective each at least
    ``autonomy_min_score`` (an approval without rubric scores does not count: the rule
    rewards scored quality, not just a yes);
  - no revision of it needed a coach to override a blocking risk finding (a post with a
    ``block`` finding cannot be submitted without one, so "no override" is "no block
    finding at submission", judged from the record rather than by re-running checks whose
    settings may have changed since).

**The streak** is the number of consecutive first-pass approvals, most recent first, among
the trainee's drafts in that organisation, ordered by when a coach first decided on each.
Any other coach-reviewed draft ends it. Only drafts first decided on since the trainee last
entered full review count, so a trainee returned to full review earns spot-check again from
zero. Spot-check passes (a Review with no reviewer) neither count nor break it: nobody read
those posts, so they are no evidence either way, and counting them would let autonomy keep
itself going.

**Practice responses** (replies to and quotes of simulated posts, which never leave
Sandpit) never earn autonomy: trust to publish to the real account is earned on real
posts. They can still end it, like any post: a coach's request for changes or a blocking
finding is a sign of risk wherever it shows.

**Full review -> spot-check** after a coach's decision, when the rule is on and the streak
has reached ``autonomy_streak``. The rule is the actor (no person).

**Spot-check -> full review** when
  - a coach requests changes to, or rejects, one of the trainee's posts;
  - a coach holds a spot-check-passed post for review during its delay ("Hold for review");
  - a coach overrides a blocking finding on one of the trainee's posts, or the trainee
    tries to send a post that has one (the send is refused either way);
  - a coach switches them back by hand (with a reason);
  - they send a post after the organisation turned the rule off.

**In spot-check mode** each submission (sandbox-only replies to simulated posts aside:
those never publish, so they are reviewed as usual and not counted) adds one to
``Membership.spot_check_count``; every ``spot_check_every``-th goes to the queue as usual,
and the others are passed automatically: an approval with no reviewer, bound to the exact
revision, and a publication due ``spot_check_delay_minutes`` later, which the beat sweep
starts unless a coach holds it first. An edit during the delay voids the pass like any
approval, and the new text goes to the queue for a coach.

Every change of mode is audited (``AuditEvent.Action.MODE_CHANGED``, with the trainee, the
actor and the reason in words) and shown to the trainee on their timeline.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections import defaultdict
from collections.abc import Sequence

from django.contrib.auth.models import User
from django.db.models import Exists, Min, OuterRef, Q, QuerySet

from coaching.models import RUBRIC, AuditEvent, CheckOverride, Review
from sandbox.models import Draft, Membership, Organisation

Mode = Membership.ReviewMode


@dataclasses.dataclass(frozen=True)
class Decision:
    """One coach's decision on a draft, as the rule sees it."""

    decision: str
    scores: tuple[int | None, ...]


@dataclasses.dataclass(frozen=True)
class ReviewedDraft:
    """A draft a coach has decided on: every coach decision, and whether a blocking
    finding on any of its revisions was overridden."""

    decisions: tuple[Decision, ...]
    overridden: bool


def is_first_pass(draft: ReviewedDraft, *, min_score: int) -> bool:
    return (
        bool(draft.decisions)
        and not draft.overridden
        and all(
            d.decision == Review.Decision.APPROVE
            and all(score is not None and score >= min_score for score in d.scores)
            for d in draft.decisions
        )
    )


def streak(drafts: Sequence[ReviewedDraft], *, min_score: int) -> int:
    """Consecutive first-pass approvals from the start of ``drafts`` (most recent first)."""
    count = 0
    for draft in drafts:
        if not is_first_pass(draft, min_score=min_score):
            break
        count += 1
    return count


def rule_is_on(organisation: Organisation) -> bool:
    return organisation.autonomy_streak > 0


def has_earned_spot_check(organisation: Organisation, current_streak: int) -> bool:
    return rule_is_on(organisation) and current_streak >= organisation.autonomy_streak


def is_sampled(count: int, *, every: int) -> bool:
    """Whether the ``count``-th submission in spot-check mode goes to a coach (1 in N)."""
    return count % max(every, 1) == 0


# Reads -------------------------------------------------------------------------------------


def mode_changes(trainee_id: int, organisation_id: int) -> QuerySet[AuditEvent]:
    """The trainee's changes of review mode in one organisation, newest first."""
    return AuditEvent.objects.filter(
        action=AuditEvent.Action.MODE_CHANGED,
        trainee_id=trainee_id,
        organisation_id=organisation_id,
    ).order_by("-created_at", "-pk")


def mode_since(membership: Membership) -> dt.datetime | None:
    """When the trainee entered their current mode (None: full review from the start)."""
    latest = mode_changes(membership.user_id, membership.organisation_id).first()
    return latest.created_at if latest else None


def reviewed_drafts(
    *, trainee_id: int, organisation_id: int, since: dt.datetime | None, limit: int
) -> list[ReviewedDraft]:
    """The trainee's most recent ``limit`` coach-reviewed drafts first decided on after
    ``since``, most recent first. Two queries, however long the history."""
    by_coach = Q(reviews__reviewer__isnull=False)
    drafts = (
        Draft.objects.filter(author_id=trainee_id, account__organisation_id=organisation_id)
        # Practice responses never earn autonomy (see the rule above).
        .exclude(Draft.SANDBOX_ONLY)
        .annotate(
            first_decided=Min("reviews__created_at", filter=by_coach),
            overridden=Exists(CheckOverride.objects.filter(revision__draft=OuterRef("pk"))),
        )
        .filter(first_decided__isnull=False)
    )
    if since is not None:
        drafts = drafts.filter(first_decided__gt=since)
    rows = list(drafts.order_by("-first_decided", "-pk").values_list("pk", "overridden")[:limit])
    decisions: dict[int, list[Decision]] = defaultdict(list)
    for draft_id, decision, *scores in (
        Review.objects.filter(draft_id__in=[pk for pk, _ in rows], reviewer__isnull=False)
        .order_by("created_at", "pk")
        .values_list("draft_id", "decision", *RUBRIC)
    ):
        decisions[draft_id].append(Decision(decision, tuple(scores)))
    return [ReviewedDraft(tuple(decisions[pk]), overridden) for pk, overridden in rows]


def current_streak(membership: Membership) -> int:
    organisation = membership.organisation
    if not rule_is_on(organisation):
        return 0
    drafts = reviewed_drafts(
        trainee_id=membership.user_id,
        organisation_id=membership.organisation_id,
        since=mode_since(membership),
        limit=organisation.autonomy_streak,
    )
    return streak(drafts, min_score=organisation.autonomy_min_score)


@dataclasses.dataclass(frozen=True)
class ModePanel:
    """What the trainee (and their coaches) see about their review mode in one organisation."""

    membership: Membership
    organisation: Organisation
    since: dt.datetime | None
    streak: int
    history: list[AuditEvent]

    @property
    def in_spot_check(self) -> bool:
        return self.membership.review_mode == Mode.SPOT_CHECK

    @property
    def rule_is_on(self) -> bool:
        return rule_is_on(self.organisation)


HISTORY_SHOWN = 20


def mode_panels(trainee: User, organisation_ids: Sequence[int] | None = None) -> list[ModePanel]:
    """One panel per organisation the trainee drafts for (limited to ``organisation_ids``,
    the viewer's, when a coach looks). Shown only where the rule is on or has been used."""
    memberships = Membership.objects.filter(user=trainee, role=Membership.Role.TRAINEE)
    if organisation_ids is not None:
        memberships = memberships.filter(organisation_id__in=organisation_ids)
    panels = []
    for membership in memberships.select_related("organisation").order_by("organisation_id"):
        in_spot_check = membership.review_mode == Mode.SPOT_CHECK
        history = list(
            mode_changes(trainee.pk, membership.organisation_id).select_related("actor")[
                :HISTORY_SHOWN
            ]
        )
        if not rule_is_on(membership.organisation) and not history:
            continue
        panels.append(
            ModePanel(
                membership=membership,
                organisation=membership.organisation,
                since=history[0].created_at if history else None,
                streak=0 if in_spot_check else current_streak(membership),
                history=history,
            )
        )
    return panels
