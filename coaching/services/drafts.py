"""The author's steps after writing: send to a coach, withdraw, and what a new revision does to
a draft under review or approved.
"""

from __future__ import annotations

from django.contrib.auth.models import User
from django.db import transaction
from django.utils import timezone

from coaching import notifications
from coaching.models import (
    Publication,
)
from coaching.selectors import blocking_codes, check_titles
from coaching.services.answers import answers_flagged_post
from coaching.services.lifecycle import P, S, _move
from coaching.services.review_modes import _return_to_full_review, _spot_check
from sandbox import access
from sandbox.errors import InvalidState
from sandbox.models import Draft, DraftRevision


def draft_submit(*, draft: Draft, by: User) -> Draft:
    access.require_author(draft, by)
    # Check the revision in the database, not the caller's copy, and submit only if it is
    # still the current one: an edit in another tab cannot slip past the checks.
    draft.refresh_from_db(fields=["current_revision", "status"])
    if draft.status == S.CHANGES_REQUESTED:
        # Sending the very text the coach sent back would only bring it back to them.
        raise InvalidState(
            "Your coach asked for changes to this post. Change it (their feedback is at "
            "the top of the page), then send it again."
        )
    revision = draft.current_revision
    assert revision is not None
    blocked = blocking_codes(revision)
    if blocked:
        # Any block finding ends spot-check mode, even on a send that is refused.
        _return_to_full_review(
            trainee_id=draft.author_id,
            organisation_id=draft.account.organisation_id,
            by=None,
            reason=f"The risk checks blocked a post you tried to send: {check_titles(blocked)}.",
            revision=revision,
        )
        raise InvalidState(
            f"This post cannot go for review yet. The risk checks blocked it: "
            f"{check_titles(blocked)}. Fix it (the highlights show where), or ask your coach "
            "in the comments below to let it through with a reason."
        )
    with transaction.atomic():
        _move(
            draft,
            "submit",
            revision_id=revision.pk,
            submitted_at=timezone.now(),
            claimed_by=None,
            claimed_at=None,
        )
        # Set once: the trainee's record measures time to approval from the first try.
        if Draft.objects.filter(pk=draft.pk, first_submitted_at__isnull=True).update(
            first_submitted_at=draft.submitted_at
        ):
            draft.first_submitted_at = draft.submitted_at
        # Sandbox-only replies never publish, so there is nothing to pass: a coach reads
        # them. So does an answer to a public post that holds a patient's details: the
        # one answer that must not echo them goes out only once a coach has read it.
        if not draft.is_sandbox_only and not answers_flagged_post(draft):
            _spot_check(draft, revision)
        notifications.submission_received(draft=draft)
    return draft


def draft_withdraw(*, draft: Draft, by: User) -> Draft:
    """The trainee abandons the draft. A queued publication is cancelled with it."""
    access.require_author(draft, by)
    with transaction.atomic():
        # Decide from the status now, not the page's: a coach may have approved since.
        current = Draft.objects.select_for_update().get(pk=draft.pk)
        if current.status == S.APPROVED and current.is_sandbox_only:
            raise InvalidState(
                "This response is already posted in your practice timeline, so it cannot be "
                "withdrawn. Your coach can still see it in the debrief."
            )
        if current.status == S.APPROVED:
            _cancel_queued_publication(draft, reason="The trainee withdrew the post.")
        _move(draft, "withdraw", claimed_by=None, claimed_at=None)
    return draft


def draft_revised(*, draft: Draft, revision: DraftRevision) -> None:
    """What a new revision does to a draft already sent: sandbox.services.draft_edit announces
    it (sandbox.signals.draft_revised) inside its transaction, with the draft locked."""
    if draft.status == S.CHANGES_REQUESTED:
        _move(draft, "revise", current_revision=revision)
    elif draft.status == S.APPROVED and draft.is_sandbox_only:
        raise InvalidState(
            "This response is already posted in your practice timeline, so it cannot be "
            "changed. Write a new response to the post instead."
        )
    elif draft.status == S.APPROVED:
        _cancel_queued_publication(draft, reason="The draft was edited after approval.")
        _move(
            draft,
            "void_approval",
            current_revision=revision,
            submitted_at=timezone.now(),
            claimed_by=None,
            claimed_at=None,
        )
        # Back in the queue with new text: the coaches hear of it as of a new submission.
        notifications.submission_received(draft=draft)
    else:
        Draft.objects.filter(pk=draft.pk).update(
            current_revision=revision, updated_at=timezone.now()
        )


def on_draft_revised(
    sender: object, *, draft: Draft, revision: DraftRevision, **kwargs: object
) -> None:
    """The receiver of sandbox.signals.draft_revised: authoring announces, coaching decides."""
    draft_revised(draft=draft, revision=revision)


def _cancel_queued_publication(draft: Draft, *, reason: str) -> None:
    # Races with the worker's claim (queued -> sending): whichever update lands first
    # wins, so either the post is cancelled or it is already on its way and we refuse.
    # Only a publication with nothing live yet: parts go out in order, so an empty
    # remote_id means no post of the thread is on the account.
    Publication.objects.filter(draft=draft, status=P.QUEUED, remote_id="").update(
        status=P.CANCELLED, error=reason, updated_at=timezone.now()
    )
    if Publication.objects.filter(draft=draft, status__in=Publication.ACTIVE_STATUSES).exists():
        raise InvalidState(
            "This post is already being published (or part of it is live), so it can no "
            "longer be changed. Ask your coach to retract it, or start a new draft."
        )
