"""Claims: who is reviewing a draft. A claim lives CLAIM_STALE_AFTER from its last sign of life
(``claimed_at``, renewed by the open review page); after that another coach may take it
over. While a claim is live, only its holder can decide.
"""

from __future__ import annotations

from django.contrib.auth.models import User
from django.db import transaction
from django.utils import timezone

from coaching.models import (
    AuditEvent,
)
from coaching.selectors import claim_is_live
from coaching.services.lifecycle import S, _audit, _claim_refusal, _clock, _move
from sandbox import access
from sandbox.errors import InvalidState
from sandbox.models import Draft
from sandbox.selectors import display_name


def review_claim(*, draft: Draft, by: User) -> Draft:
    """Start reviewing a waiting draft, or take over a review whose claim went stale."""
    access.require_reviewer_of(draft, by)
    now = timezone.now()
    draft.refresh_from_db(fields=["status", "claimed_by", "claimed_at"])
    if draft.status == S.SUBMITTED:
        try:
            _move(draft, "claim", claimed_by=by, claimed_at=now)
            return draft
        except InvalidState:
            pass  # another coach claimed it a moment ago (draft is re-read): say who, below
    if draft.status != S.IN_REVIEW:
        raise InvalidState(
            f"This draft cannot be picked up for review: it is "
            f"{draft.get_status_display().lower()}."
        )
    holder_id, held_since = draft.claimed_by_id, draft.claimed_at
    if holder_id not in (None, by.pk) and claim_is_live(draft, now):
        raise _claim_refusal(draft, outcome="Only they can decide on it for now")
    previous = draft.claimed_by
    with transaction.atomic():
        # Compare and set on the claim as read: of two coaches taking over at once, and
        # of a takeover racing the holder's decision, exactly one UPDATE matches.
        taken = Draft.objects.filter(
            pk=draft.pk, status=S.IN_REVIEW, claimed_by_id=holder_id, claimed_at=held_since
        ).update(claimed_by=by, claimed_at=now)
        if taken != 1:
            draft.refresh_from_db()
            if draft.status != S.IN_REVIEW:
                raise InvalidState(
                    f"This draft was {draft.get_status_display().lower()} a moment ago."
                )
            raise _claim_refusal(draft, outcome="Only they can decide on it for now")
        if previous is not None and previous.pk != by.pk:
            _audit(
                AuditEvent.Action.CLAIM_TAKEN_OVER,
                organisation_id=draft.account.organisation_id,
                actor=by,
                account=draft.account,
                revision=draft.current_revision,
                detail=f"From {display_name(previous)}, inactive since {_clock(held_since)}.",
            )
    draft.claimed_by, draft.claimed_at = by, now
    return draft


def review_claim_renew(*, draft: Draft, by: User) -> Draft:
    """The open review page's sign of life: keeps its coach's claim from going stale.
    Never takes a claim back; a coach whose review was taken over is told so."""
    access.require_reviewer_of(draft, by)
    now = timezone.now()
    renewed = Draft.objects.filter(pk=draft.pk, status=S.IN_REVIEW, claimed_by=by).update(
        claimed_at=now
    )
    draft.refresh_from_db()
    if renewed:
        return draft
    if draft.status != S.IN_REVIEW or draft.claimed_by_id is None:
        raise InvalidState(
            f"Nobody is reviewing this post now: it is {draft.get_status_display().lower()}."
        )
    raise _claim_refusal(draft, outcome="Your decision will not be recorded while they are")
