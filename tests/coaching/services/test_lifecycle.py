"""The draft lifecycle (coaching/services/lifecycle.py) through the services: every
transition after authoring, and every wrong one, with the message the person sees."""

import datetime as dt

import pytest
from django.utils import timezone

from coaching import services as coaching
from coaching.models import FeedbackNote, Publication, Review
from sandbox import services
from sandbox.errors import InvalidInput, InvalidState, NotAllowed
from sandbox.models import (
    Draft,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def post_text() -> str:
    return "Flu clinics open Monday."


# Submitting -----------------------------------------------------------------------------


def test_submitting_puts_the_draft_in_the_queue(submitted):
    assert submitted.status == Draft.Status.SUBMITTED
    assert submitted.submitted_at is not None


def test_submitting_twice_is_refused_in_plain_words(submitted, trainee):
    with pytest.raises(InvalidState, match="cannot be submitted: it is waiting for review"):
        coaching.draft_submit(draft=submitted, by=trainee)


def test_only_the_author_submits(draft, other_trainee):
    with pytest.raises(NotAllowed):
        coaching.draft_submit(draft=draft, by=other_trainee)


# Reviewing ------------------------------------------------------------------------------


def test_a_coach_can_claim_a_submitted_draft(submitted, coach):
    coaching.review_claim(draft=submitted, by=coach)
    submitted.refresh_from_db()
    assert submitted.status == Draft.Status.IN_REVIEW
    assert submitted.claimed_by == coach


def test_request_changes_needs_a_note(submitted, coach):
    with pytest.raises(InvalidInput, match="Write a note"):
        coaching.review_request_changes(draft=submitted, by=coach, note="  ")
    submitted.refresh_from_db()
    assert submitted.status == Draft.Status.SUBMITTED


def test_reject_needs_a_note(submitted, coach):
    with pytest.raises(InvalidInput, match="Write a note"):
        coaching.review_reject(draft=submitted, by=coach, note="")


def test_a_note_over_the_limit_is_refused_and_says_the_limit(submitted, coach):
    with pytest.raises(InvalidInput, match="up to 2000 characters"):
        coaching.review_request_changes(draft=submitted, by=coach, note="x" * 2001)


def test_request_changes_records_the_note_against_that_revision(submitted, coach):
    review = coaching.review_request_changes(draft=submitted, by=coach, note="Say which clinic.")
    submitted.refresh_from_db()
    assert submitted.status == Draft.Status.CHANGES_REQUESTED
    assert review.revision == submitted.current_revision
    assert FeedbackNote.objects.get(review=review).body == "Say which clinic."


def test_revising_after_changes_returns_the_draft_to_the_trainee(submitted, coach, trainee):
    coaching.review_request_changes(draft=submitted, by=coach, note="Say which clinic.")
    services.draft_edit(draft=submitted, by=trainee, text="Flu clinic at Ward 4 opens Monday.")
    submitted.refresh_from_db()
    assert submitted.status == Draft.Status.DRAFT
    coaching.draft_submit(draft=submitted, by=trainee)
    assert submitted.status == Draft.Status.SUBMITTED


def test_reject_is_final_and_keeps_the_text(submitted, coach, trainee):
    coaching.review_reject(draft=submitted, by=coach, note="Not for the public account.")
    submitted.refresh_from_db()
    assert submitted.status == Draft.Status.REJECTED
    assert submitted.text == "Flu clinics open Monday."
    with pytest.raises(InvalidState, match="can no longer be edited"):
        services.draft_edit(draft=submitted, by=trainee, text="Try again")


def test_approval_binds_to_the_revision_and_writes_the_outbox_row(submitted, coach):
    review = coaching.review_approve(draft=submitted, by=coach, note="Good, clear post.")
    submitted.refresh_from_db()
    assert submitted.status == Draft.Status.APPROVED
    assert review.decision == Review.Decision.APPROVE
    assert review.content_hash == submitted.current_revision.content_hash
    publication = Publication.objects.get(draft=submitted)
    assert publication.status == Publication.Status.QUEUED
    assert publication.text == "Flu clinics open Monday."
    assert publication.approval == review


def test_approval_enqueues_only_after_commit(submitted, coach, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks() as callbacks:
        coaching.review_approve(draft=submitted, by=coach)
    assert len(callbacks) == 1


def test_a_scheduled_approval_is_not_enqueued_now(
    submitted, coach, django_capture_on_commit_callbacks
):

    later = timezone.now() + dt.timedelta(hours=2)
    with django_capture_on_commit_callbacks() as callbacks:
        coaching.review_approve(draft=submitted, by=coach, publish_at=later)
    assert callbacks == []
    assert Publication.objects.get(draft=submitted).publish_at == later


def test_a_schedule_in_the_past_is_refused(submitted, coach):

    with pytest.raises(InvalidInput, match="time in the future"):
        coaching.review_approve(
            draft=submitted, by=coach, publish_at=timezone.now() - dt.timedelta(minutes=1)
        )


def test_a_schedule_years_ahead_is_refused(submitted, coach):

    with pytest.raises(InvalidInput, match="within the next 90 days"):
        coaching.review_approve(
            draft=submitted, by=coach, publish_at=timezone.now() + dt.timedelta(days=3650)
        )
    submitted.refresh_from_db()
    assert submitted.status == "submitted"


def test_approving_a_stale_revision_is_refused(submitted, coach, trainee):
    shown = submitted.current_revision
    services.draft_edit(draft=submitted, by=trainee, text="Changed while the coach read it.")
    with pytest.raises(InvalidState, match="changed this draft while you were looking"):
        coaching.review_approve(draft=submitted, by=coach, revision=shown)
    assert not Publication.objects.exists()


def test_an_edit_after_approval_voids_it_and_cancels_the_publication(submitted, coach, trainee):
    coaching.review_approve(draft=submitted, by=coach)
    services.draft_edit(draft=submitted, by=trainee, text="Flu clinics open Monday at 9.")
    submitted.refresh_from_db()
    assert submitted.status == Draft.Status.SUBMITTED
    publication = Publication.objects.get(draft=submitted)
    assert publication.status == Publication.Status.CANCELLED
    assert "edited after approval" in publication.error


def test_an_edit_while_publishing_is_refused_and_nothing_changes(submitted, coach, trainee):
    coaching.review_approve(draft=submitted, by=coach)
    Publication.objects.filter(draft=submitted).update(status=Publication.Status.SENDING)
    with pytest.raises(InvalidState, match="already being published"):
        services.draft_edit(draft=submitted, by=trainee, text="Too late")
    submitted.refresh_from_db()
    assert submitted.revisions.count() == 1
    assert submitted.status == Draft.Status.APPROVED


@pytest.mark.parametrize("decide", ["approve", "request_changes", "reject"])
def test_a_trainee_cannot_decide(submitted, other_trainee, decide):
    with pytest.raises(NotAllowed, match="coaches and admins"):
        getattr(coaching, f"review_{decide}")(draft=submitted, by=other_trainee, note="n")


def test_a_coach_of_another_organisation_cannot_decide(submitted, outside_coach):
    with pytest.raises(NotAllowed):
        coaching.review_approve(draft=submitted, by=outside_coach)


def test_a_coach_cannot_approve_their_own_post(coach, account):
    own = services.draft_create(author=coach, account=account, text="My own post")
    coaching.draft_submit(draft=own, by=coach)
    with pytest.raises(NotAllowed, match="your own draft"):
        coaching.review_approve(draft=own, by=coach)


def test_an_admin_can_review(submitted, admin):
    coaching.review_approve(draft=submitted, by=admin)
    assert Publication.objects.filter(draft=submitted).exists()


@pytest.mark.parametrize("decide", ["approve", "request_changes", "reject"])
def test_deciding_on_an_unsubmitted_draft_is_refused(draft, coach, decide):
    with pytest.raises(InvalidState, match="it is draft"):
        getattr(coaching, f"review_{decide}")(draft=draft, by=coach, note="n")


def test_approving_twice_is_refused(submitted, coach, second_coach):
    coaching.review_approve(draft=submitted, by=coach)
    with pytest.raises(InvalidState, match="it is approved"):
        coaching.review_approve(draft=submitted, by=second_coach)
    assert Publication.objects.count() == 1


def test_withdrawing_an_approved_post_cancels_its_publication(submitted, coach, trainee):
    coaching.review_approve(draft=submitted, by=coach)
    coaching.draft_withdraw(draft=submitted, by=trainee)
    assert submitted.status == Draft.Status.WITHDRAWN
    assert Publication.objects.get(draft=submitted).status == Publication.Status.CANCELLED


def test_a_rejected_draft_cannot_be_withdrawn(submitted, coach, trainee):
    coaching.review_reject(draft=submitted, by=coach, note="No")
    with pytest.raises(InvalidState, match="cannot be withdrawn: it is rejected"):
        coaching.draft_withdraw(draft=submitted, by=trainee)
