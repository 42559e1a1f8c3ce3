"""Earned autonomy in action: moving a trainee between full review and spot-check (the rule
itself is coaching.autonomy), spot-check passes and holds.
"""

from __future__ import annotations

import contextlib
import datetime as dt

from django.contrib.auth.models import User
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from coaching import autonomy, notifications
from coaching.models import (
    AuditEvent,
    Publication,
    Review,
)
from coaching.services.lifecycle import P, _audit, _move, clean_reason
from coaching.services.outbox import _outbox
from sandbox import access
from sandbox.errors import InvalidState, NotAllowed
from sandbox.models import Draft, DraftRevision, Membership
from sandbox.selectors import display_name

Mode = Membership.ReviewMode


def _membership(trainee_id: int, organisation_id: int) -> Membership | None:
    return (
        Membership.objects.select_related("organisation", "user")
        .filter(user_id=trainee_id, organisation_id=organisation_id)
        .first()
    )


def _change_review_mode(
    membership: Membership,
    *,
    to: str,
    by: User | None,
    reason: str,
    revision: DraftRevision | None = None,
) -> bool:
    """Move the trainee to ``to`` if they are not already there, and audit it. False when
    someone else moved them first (the conditional update matched nothing)."""
    with transaction.atomic():
        changed = (
            Membership.objects.filter(pk=membership.pk)
            .exclude(review_mode=to)
            .update(review_mode=to, spot_check_count=0)
        )
        if not changed:
            return False
        membership.review_mode = to
        membership.spot_check_count = 0
        heading = "Moved to spot-check" if to == Mode.SPOT_CHECK else "Back to full review"
        _audit(
            AuditEvent.Action.MODE_CHANGED,
            organisation_id=membership.organisation_id,
            actor=by,
            trainee=membership.user,
            revision=revision,
            detail=f"{heading}: {reason}",
        )
        notifications.review_mode_changed(trainee=membership.user, heading=heading, reason=reason)
    return True


def _return_to_full_review(
    *,
    trainee_id: int,
    organisation_id: int,
    by: User | None,
    reason: str,
    revision: DraftRevision | None = None,
) -> None:
    """Spot-check -> full review. Posts passed by spot-check and still waiting are held
    too, so a coach reads them: whatever ended the trust may be in them as well."""
    membership = _membership(trainee_id, organisation_id)
    if membership is None or membership.review_mode != Mode.SPOT_CHECK:
        return
    if not _change_review_mode(membership, to=Mode.FULL, by=by, reason=reason, revision=revision):
        return
    waiting = Publication.objects.filter(
        draft__author_id=trainee_id,
        account__organisation_id=organisation_id,
        status=P.QUEUED,
        approval__reviewer__isnull=True,
    ).select_related("draft")
    for publication in waiting:
        # Losing the race to the worker leaves that one post going out, as it would have;
        # a draft edited meanwhile has had its pass voided already.
        with contextlib.suppress(InvalidState):
            _hold(publication, reason="Held for review: the trainee is back in full review.")


def _hold(publication: Publication, *, reason: str) -> bool:
    """Cancel a spot-check pass's publication and put its draft back in the queue, unless
    the worker has claimed it (queued -> sending) first."""
    with transaction.atomic():
        cancelled = Publication.objects.filter(
            pk=publication.pk, status=P.QUEUED, remote_id=""
        ).update(status=P.CANCELLED, error=reason, updated_at=timezone.now())
        if not cancelled:
            return False
        _move(
            publication.draft,
            "hold",
            revision_id=publication.revision_id,
            submitted_at=timezone.now(),
            claimed_by=None,
            claimed_at=None,
        )
        # It is in the queue now: the coaches who were told it would publish hear of it.
        notifications.submission_received(draft=publication.draft)
    return True


def _review_mode_after_decision(review: Review, *, by: User) -> None:
    """A coach has decided on a trainee's post: a request for changes or a rejection ends
    spot-check mode; an approval may complete the streak that earns it."""
    draft = review.draft
    membership = _membership(draft.author_id, draft.account.organisation_id)
    if membership is None:
        return
    if membership.review_mode == Mode.SPOT_CHECK:
        if review.decision != Review.Decision.APPROVE:
            rejected = review.decision == Review.Decision.REJECT
            did = "rejected" if rejected else "asked for changes to"
            _return_to_full_review(
                trainee_id=draft.author_id,
                organisation_id=membership.organisation_id,
                by=by,
                reason=f"{display_name(by)} {did} one of your posts.",
                revision=review.revision,
            )
        return
    organisation = membership.organisation
    if review.decision != Review.Decision.APPROVE or not autonomy.rule_is_on(organisation):
        return
    earned = autonomy.current_streak(membership)
    if autonomy.has_earned_spot_check(organisation, earned):
        _change_review_mode(
            membership,
            to=Mode.SPOT_CHECK,
            by=None,
            reason=(
                f"{earned} first-pass approvals in a row, each scored "
                f"{organisation.autonomy_min_score} or more for safe, person-centred and "
                "effective, with no blocking findings."
            ),
            revision=review.revision,
        )


def _spot_check(draft: Draft, revision: DraftRevision) -> None:
    """A submission in spot-check mode: 1 in N goes to the queue as usual; the others are
    passed now and publish after the delay unless a coach holds them."""
    membership = _membership(draft.author_id, draft.account.organisation_id)
    if membership is None or membership.review_mode != Mode.SPOT_CHECK:
        return
    organisation = membership.organisation
    if not autonomy.rule_is_on(organisation):
        _change_review_mode(
            membership,
            to=Mode.FULL,
            by=None,
            reason="your organisation turned earned autonomy off, so a coach reads every post.",
            revision=revision,
        )
        return
    # A conditional increment: two posts sent at once get different numbers, and none is
    # counted if a coach returned the trainee to full review a moment ago.
    counted = Membership.objects.filter(pk=membership.pk, review_mode=Mode.SPOT_CHECK).update(
        spot_check_count=F("spot_check_count") + 1
    )
    if not counted:
        return
    # Our update holds the row's lock until commit, so this reads our own number.
    count = Membership.objects.values_list("spot_check_count", flat=True).get(pk=membership.pk)
    if autonomy.is_sampled(count, every=organisation.spot_check_every):
        return
    publish_at = timezone.now() + dt.timedelta(minutes=organisation.spot_check_delay_minutes)
    _move(draft, "approve", revision_id=revision.pk)
    review = Review.objects.create(
        draft=draft,
        revision=revision,
        reviewer=None,
        decision=Review.Decision.APPROVE,
        content_hash=revision.content_hash,
    )
    publication = _outbox(review, publish_at=publish_at)
    _audit(
        AuditEvent.Action.SPOT_CHECK_PASSED,
        organisation_id=organisation.pk,
        publication=publication,
        trainee=draft.author,
        detail=(
            f"Post {count} in spot-check mode; publishes at "
            f"{timezone.localtime(publish_at):%H:%M} unless a coach steps in."
        ),
    )


def spot_check_hold(*, draft: Draft, by: User) -> Draft:
    """A coach steps in during a spot-check pass's delay: the post goes to the queue
    instead of publishing, and the trainee returns to full review."""
    access.require_reviewer_of(draft, by)
    publication = (
        Publication.objects.filter(draft=draft, approval__reviewer__isnull=True)
        .select_related("draft")
        .order_by("-created_at")
        .first()
    )
    if publication is None or publication.status not in Publication.ACTIVE_STATUSES:
        raise InvalidState(
            "Only a post passed by spot-check and still waiting to publish can be held."
        )
    with transaction.atomic():
        # The worker may claim it between our read and this update: the update decides.
        if publication.status != P.QUEUED or not _hold(
            publication, reason=f"Held for review by {display_name(by)}."
        ):
            raise InvalidState(
                "Too late to hold this post: it started publishing before you pressed the "
                "button. If it must come down, retract it once it is live."
            )
        draft.refresh_from_db()
        _return_to_full_review(
            trainee_id=draft.author_id,
            organisation_id=draft.account.organisation_id,
            by=by,
            reason=f"{display_name(by)} held one of your posts for review before it published.",
            revision=draft.current_revision,
        )
    return draft


def review_mode_set_full(*, trainee: User, organisation_id: int, by: User, reason: str) -> None:
    """A coach returns a trainee to full review by hand."""
    if by.pk == trainee.pk:
        raise NotAllowed("You cannot change how your own posts are reviewed. Ask your coach.")
    access.require_reviewer(by, organisation_id)
    reason = clean_reason(
        reason, missing="Say why, so the trainee knows; it goes in the audit log."
    )
    membership = _membership(trainee.pk, organisation_id)
    if membership is None or membership.review_mode != Mode.SPOT_CHECK:
        raise InvalidState(f"{display_name(trainee)} is already in full review.")
    _return_to_full_review(
        trainee_id=trainee.pk,
        organisation_id=organisation_id,
        by=by,
        reason=f"{display_name(by)} switched you back: {reason}",
    )
