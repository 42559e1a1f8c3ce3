"""The draft lifecycle (TRANSITIONS) and the one way to move a draft along it.

Each change is a conditional UPDATE ("move from these states to that one"): when two people
act at once, exactly one update matches and the other gets a clear message instead of a
double effect. A live claim (see claims.py) is part of that condition. Every step records
itself in the audit log through ``_audit``.
"""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.contrib.auth.models import User
from django.db.models import Q
from django.utils import timezone

from coaching import notifications
from coaching.models import (
    AuditEvent,
    Publication,
)
from sandbox.errors import InvalidInput, InvalidState
from sandbox.models import Draft, DraftRevision, WorkplaceAccount
from sandbox.selectors import display_name

S = Draft.Status


P = Publication.Status


# The draft lifecycle: action -> (states it may start from, state it ends in).
TRANSITIONS: dict[str, tuple[frozenset[str], str]] = {
    "submit": (frozenset({S.DRAFT}), S.SUBMITTED),
    "claim": (frozenset({S.SUBMITTED}), S.IN_REVIEW),
    "approve": (frozenset({S.SUBMITTED, S.IN_REVIEW}), S.APPROVED),
    "request_changes": (frozenset({S.SUBMITTED, S.IN_REVIEW}), S.CHANGES_REQUESTED),
    "reject": (frozenset({S.SUBMITTED, S.IN_REVIEW}), S.REJECTED),
    # An edit after changes were requested puts the draft back on the trainee's desk.
    "revise": (frozenset({S.CHANGES_REQUESTED}), S.DRAFT),
    # An edit after approval voids it: the new text goes back to the queue.
    "void_approval": (frozenset({S.APPROVED}), S.SUBMITTED),
    # A coach steps in during a spot-check pass's delay: the post goes to the queue.
    "hold": (frozenset({S.APPROVED}), S.SUBMITTED),
    "withdraw": (
        frozenset({S.DRAFT, S.SUBMITTED, S.IN_REVIEW, S.CHANGES_REQUESTED, S.APPROVED}),
        S.WITHDRAWN,
    ),
}


_ACTION_WORDS = {
    "submit": "submitted",
    "claim": "picked up for review",
    "approve": "approved",
    "request_changes": "sent back for changes",
    "reject": "rejected",
    "revise": "revised",
    "void_approval": "re-queued",
    "hold": "held for review",
    "withdraw": "withdrawn",
}


def _move(
    draft: Draft,
    action: str,
    *,
    revision_id: int | None = None,
    claim_for: User | None = None,
    **fields: object,
) -> None:
    """Apply one lifecycle action with a conditional update, or explain why not. With
    ``claim_for``, only if no other coach holds a live claim on the draft."""
    allowed_from, target = TRANSITIONS[action]
    rows = Draft.objects.filter(pk=draft.pk, status__in=allowed_from)
    if revision_id is not None:
        rows = rows.filter(current_revision_id=revision_id)
    now = timezone.now()
    if claim_for is not None:
        # In the same UPDATE, so a takeover cannot land between a check and the write.
        rows = rows.filter(_claim_free_for(claim_for, now))
    if rows.update(status=target, updated_at=now, **fields) != 1:
        draft.refresh_from_db()
        if revision_id is not None and draft.current_revision_id != revision_id:
            raise InvalidState(
                "The trainee changed this draft while you were looking at it. "
                "Read the new text before deciding."
            )
        if claim_for is not None and draft.status in allowed_from:
            raise _claim_refusal(draft, outcome="Your decision was not recorded")
        raise InvalidState(
            f"This draft cannot be {_ACTION_WORDS[action]}: it is "
            f"{draft.get_status_display().lower()}."
        )
    draft.status = target
    draft.updated_at = now
    for name, value in fields.items():
        setattr(draft, name, value)
    # In the same transaction as the move: the notices it deals with read as done.
    notifications.notices_resolved(draft_id=draft.pk, event=action)


REASON_MAX_LENGTH = 500


def clean_reason(reason: str, *, missing: str, field: str = "reason") -> str:
    """A reason that goes in the audit log: required (``missing`` says why it is asked
    for) and at most REASON_MAX_LENGTH characters. The one rule for every reason."""
    reason = (reason or "").strip()
    if not reason:
        raise InvalidInput(missing, field=field)
    if len(reason) > REASON_MAX_LENGTH:
        raise InvalidInput(f"Keep the reason under {REASON_MAX_LENGTH} characters.", field=field)
    return reason


#
# A claim says who is reviewing a draft. It lives CLAIM_STALE_AFTER from its last sign
# of life (``claimed_at``, renewed by the open review page); after that another coach may
# take it over. While a claim is live, only its holder can decide.


def _clock(moment: dt.datetime | None) -> str:
    return timezone.localtime(moment).strftime("%H:%M") if moment else "earlier"


def _claim_free_for(by: User, now: dt.datetime) -> Q:
    """Rows where no other coach holds a live claim: unclaimed, ``by``'s, or stale (the
    rule of selectors.claim_is_live, as a condition for a conditional UPDATE)."""
    return (
        Q(claimed_by__isnull=True)
        | Q(claimed_by=by)
        | Q(claimed_at__lt=now - settings.CLAIM_STALE_AFTER)
    )


def _claim_refusal(draft: Draft, *, outcome: str) -> InvalidState:
    holder = draft.claimed_by
    taken = (
        AuditEvent.objects.filter(
            draft=draft, action=AuditEvent.Action.CLAIM_TAKEN_OVER, actor=holder
        )
        .order_by("-created_at")
        .first()
    )
    # Only a claimed draft is refused, so there is a holder to name.
    name = display_name(holder) if holder else "Another coach"
    if taken is not None:
        who = f"{name} took over this review at {_clock(taken.created_at)}"
    else:
        who = f"{name} is reviewing this post (last active at {_clock(draft.claimed_at)})"
    minutes = int(settings.CLAIM_STALE_AFTER.total_seconds() // 60)
    return InvalidState(
        f"{who}. {outcome}. You can take the review over if they are inactive for "
        f"{minutes} minute{'s' if minutes != 1 else ''}."
    )


def _seconds(value: int) -> dt.timedelta:
    return dt.timedelta(seconds=value)


def _audit(
    action: str,
    *,
    organisation_id: int,
    actor: User | None = None,
    account: WorkplaceAccount | None = None,
    publication: Publication | None = None,
    revision: DraftRevision | None = None,
    trainee: User | None = None,
    detail: str = "",
) -> None:
    revision_id = revision.pk if revision else publication.revision_id if publication else None
    draft_id = revision.draft_id if revision else publication.draft_id if publication else None
    AuditEvent.objects.create(
        organisation_id=organisation_id,
        actor=actor,
        action=action,
        account=account or (publication.account if publication else None),
        draft_id=draft_id,
        revision_id=revision_id,
        publication=publication,
        trainee=trainee,
        detail=detail,
    )
