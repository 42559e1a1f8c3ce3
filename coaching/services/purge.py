"""Purge on request: a coach or admin removes a draft's revisions that held a patient's
details (the checks in coaching.selectors.retention.PATIENT_DETAIL_CHECKS blocked them).

The revision rows stay, so the draft's history keeps its shape, but everything they said
goes: text, thread, alt text and the images only they used, and every copy Sandpit made of
those words (a coach's suggestion and notes on them, a publication's text, what a platform
answered, notifications quoting the draft, the practice post it became). A tombstone
(RevisionPurge) says who purged, when and why; the audit event names the revisions and
checks, never the words, and not the reason either, since a reason can quote the detail
and the audit log can never be changed.
"""

from __future__ import annotations

from django.contrib.auth.models import User
from django.db import transaction
from django.utils import timezone

from coaching.models import (
    AuditEvent,
    DraftComment,
    FeedbackNote,
    Notification,
    Publication,
    PublishAttempt,
    Review,
    RevisionPurge,
)
from coaching.selectors import check_titles
from coaching.selectors.retention import practice_tree_of, purgeable_revisions, responses_to
from coaching.services.lifecycle import _audit, _move, clean_reason
from coaching.services.retention import drafts_delete
from sandbox import access
from sandbox.errors import InvalidState
from sandbox.models import Draft, DraftRevision, PostImage

# What a purged revision, note or publication says instead (a revision's text may not be
# empty).
PURGED_TEXT = "Removed: this revision held a patient's details."
PURGED_NOTE = "Removed with the revision it was about."

# A publication in one of these is on its way to, or on, the real account: a purge cannot
# take it off the platform, so it is retracted or cancelled first.
_ON_THE_ACCOUNT = (
    Publication.Status.QUEUED,
    Publication.Status.SENDING,
    Publication.Status.UNCONFIRMED,
    Publication.Status.PUBLISHED,
)


def revisions_purge(*, draft: Draft, by: User, reason: str) -> list[int]:
    """Purge every revision of the draft that held a patient's details. Returns their
    numbers. A draft still open whose latest text was purged is withdrawn: nothing can be
    approved or sent from a purged revision."""
    access.require_reviewer(by, draft.account.organisation_id)
    reason = clean_reason(
        reason, missing="Say why these revisions are being purged: the purge record keeps it."
    )
    with transaction.atomic():
        draft = Draft.objects.select_for_update().select_related("account").get(pk=draft.pk)
        due = purgeable_revisions(draft)
        if not due:
            raise InvalidState(
                "No revision of this draft holds a patient's details that the checks block, "
                "or they were purged already."
            )
        revisions = [revision for revision, _ in due]
        ids = [revision.pk for revision in revisions]
        if Publication.objects.filter(revision_id__in=ids, status__in=_ON_THE_ACCOUNT).exists():
            raise InvalidState(
                f"A revision with a patient's details is on its way to, or live on, "
                f"@{draft.account.handle}. Retract it or cancel it first: purging Sandpit's "
                "copy cannot take it off the platform."
            )
        _forget_images(draft, revisions)
        _forget_copies(draft, ids)
        purged_hash = DraftRevision.hash_text(PURGED_TEXT)
        DraftRevision.objects.filter(pk__in=ids).update(
            text=PURGED_TEXT, thread=[], images=[], content_hash=purged_hash
        )
        Review.objects.filter(revision_id__in=ids).update(suggestion=[], content_hash=purged_hash)
        RevisionPurge.objects.bulk_create(
            RevisionPurge(revision=revision, purged_by=by, codes=codes, reason=reason)
            for revision, codes in due
        )
        if draft.current_revision_id in ids and draft.status in Draft.EDITABLE_STATUSES:
            _move(draft, "withdraw", claimed_by=None, claimed_at=None)
        else:
            # The feed's cached entry for the draft is keyed by when it last changed.
            Draft.objects.filter(pk=draft.pk).update(updated_at=timezone.now())
        numbers = [revision.number for revision in revisions]
        codes = sorted({code for _, found in due for code in found})
        _audit(
            AuditEvent.Action.REVISIONS_PURGED,
            organisation_id=draft.account.organisation_id,
            actor=by,
            revision=revisions[-1],
            trainee=draft.author,
            detail=(
                f"Purged {_revision_words(numbers)} ({check_titles(codes)}). "
                "Who, when and why are on the purge record."
            ),
        )
    return numbers


def _forget_images(draft: Draft, revisions: list[DraftRevision]) -> None:
    """Remove the images only purged revisions used (their files go once this commits, by
    sandbox.models' post_delete receiver). An image a kept revision still shows belongs
    to that revision too, and stays with it."""
    purged_ids = {revision.pk for revision in revisions}

    def image_ids(revision: DraftRevision) -> set[int]:
        return {int(entry["id"]) for post in revision.images or [] for entry in post}

    used = set().union(*(image_ids(revision) for revision in revisions))
    kept = set().union(*(image_ids(r) for r in draft.revisions.exclude(pk__in=purged_ids)))
    PostImage.objects.filter(draft=draft, pk__in=used - kept).delete()


def _forget_copies(draft: Draft, revision_ids: list[int]) -> None:
    """Every other place Sandpit copied the purged revisions' words."""
    FeedbackNote.objects.filter(review__revision_id__in=revision_ids).update(
        body=PURGED_NOTE, quote="", anchor_start=None, anchor_end=None
    )
    # A thread written while a purged revision was on screen is about its words, and may
    # repeat them ("can I name Mrs Jones here?").
    DraftComment.objects.filter(draft=draft, revision_id__in=revision_ids).update(body=PURGED_NOTE)
    publications = Publication.objects.filter(revision_id__in=revision_ids)
    for publication in publications:
        publication.parts = [{**part, "text": ""} for part in publication.parts]
        publication.text = PURGED_TEXT
        publication.error = ""
        publication.content_hash = DraftRevision.hash_text(PURGED_TEXT)
        publication.save(update_fields=["parts", "text", "error", "content_hash", "updated_at"])
    PublishAttempt.objects.filter(publication__in=publications).update(error_body="")
    # In-app notices quote a draft's words (its latest text when they were sent).
    Notification.objects.filter(draft=draft).delete()
    # The practice post an approved practice response became, with what hangs under it.
    if draft.current_revision_id in revision_ids and hasattr(draft, "practice_item"):
        tree = practice_tree_of([draft.practice_item.pk])
        drafts_delete(responses_to(tree).exclude(pk=draft.pk))
        tree.delete()


def _revision_words(numbers: list[int]) -> str:
    if len(numbers) == 1:
        return f"revision {numbers[0]}"
    return "revisions " + ", ".join(map(str, numbers[:-1])) + f" and {numbers[-1]}"
