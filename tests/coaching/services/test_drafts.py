"""coaching/services/drafts.py: sending a draft to a coach (refused while the checks
block it), withdrawing it, and what a new revision does to an approval or a publication."""

import pytest

from coaching import services as coaching
from coaching.models import Publication
from sandbox import services
from sandbox.errors import InvalidState
from sandbox.models import (
    CheckSeverity,
    Draft,
    LocalIdentifierPattern,
    TimelineItem,
)
from tests.builders import approved, submitted_response
from tests.factories import (
    NHS_NUMBER_POST,
)

pytestmark = pytest.mark.django_db

P = Publication.Status


# Sending to a coach: refused while the checks block it ------------------------------------


def test_a_blocking_finding_stops_submission_with_the_reason(risky, trainee):
    with pytest.raises(InvalidState, match="patient identifier"):
        coaching.draft_submit(draft=risky, by=trainee)
    risky.refresh_from_db()
    assert risky.status == Draft.Status.DRAFT
    assert risky.text == NHS_NUMBER_POST  # nothing lost


def test_the_text_a_coach_sent_back_is_not_sent_again_unchanged(submitted, trainee, coach):
    coaching.review_request_changes(draft=submitted, by=coach, note="Say which ward.")
    with pytest.raises(InvalidState, match="Your coach asked for changes to this post"):
        coaching.draft_submit(draft=submitted, by=trainee)
    services.draft_edit(draft=submitted, by=trainee, text="Clinic on Ward 4 open 9-5")
    assert coaching.draft_submit(draft=submitted, by=trainee).status == Draft.Status.SUBMITTED


def test_an_organisation_can_switch_a_check_off(risky, trainee, account):
    CheckSeverity.objects.create(
        organisation=account.organisation, code="patient-identifier", severity="off"
    )
    coaching.draft_submit(draft=risky, by=trainee)
    assert risky.status == Draft.Status.SUBMITTED


def test_local_identifier_patterns_block_too(trainee, account):
    LocalIdentifierPattern.objects.create(
        organisation=account.organisation, label="hospital number", pattern=r"\bRX\d{7}\b"
    )
    draft = services.draft_create(author=trainee, account=account, text="Patient RX1234567 is home")
    with pytest.raises(InvalidState, match="patient identifier"):
        coaching.draft_submit(draft=draft, by=trainee)


# A half-published thread is never quietly cancelled ---------------------------------------------


def test_a_thread_with_a_live_post_cannot_be_edited_or_withdrawn(trainee, coach, account, x_double):
    publication = approved(trainee, coach, account, "Part one", ["Part two"])
    parts = publication.parts
    parts[0].update(remote_id="1", remote_url="http://x/1")
    Publication.objects.filter(pk=publication.pk).update(parts=parts, remote_id="1")
    draft = Draft.objects.get(pk=publication.draft_id)
    with pytest.raises(InvalidState, match="part of it is live"):
        services.draft_edit(draft=draft, by=trainee, text="Part one, changed")
    with pytest.raises(InvalidState, match="part of it is live"):
        coaching.draft_withdraw(draft=draft, by=trainee)
    publication.refresh_from_db()
    assert publication.status == P.QUEUED


def test_withdraw_uses_the_current_status_not_a_stale_copy(trainee, coach, account):
    draft = services.draft_create(author=trainee, account=account, text="Changing my mind")
    coaching.draft_submit(draft=draft, by=trainee)
    stale = Draft.objects.get(pk=draft.pk)  # the trainee's page, loaded before approval
    coaching.review_approve(draft=draft, by=coach)
    coaching.draft_withdraw(draft=stale, by=trainee)
    assert Publication.objects.get(draft=draft).status == P.CANCELLED


# Withdrawing a practice response ----------------------------------------------------------


def test_a_response_posted_in_the_practice_timeline_cannot_be_withdrawn(
    trainee, coach, account, inject
):
    draft = submitted_response(trainee, account, inject)
    coaching.review_approve(draft=draft, by=coach)
    with pytest.raises(InvalidState, match="already posted in your practice timeline"):
        coaching.draft_withdraw(draft=draft, by=trainee)
    draft.refresh_from_db()
    assert draft.status == Draft.Status.APPROVED
    assert TimelineItem.objects.filter(draft=draft).exists()
