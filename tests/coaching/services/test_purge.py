"""Purge on request: a draft's revisions that held a patient's details lose their text,
alt text and images, and every copy of them; a tombstone says who, when and why; the audit
keeps no copy of the text. Proved by searching every text column of every table."""

import pytest
from django.db import connection

from coaching import services as coaching
from coaching.models import (
    AuditEvent,
    FeedbackNote,
    Notification,
    Publication,
    PublishAttempt,
    Review,
    RevisionPurge,
)
from coaching.services import comments
from coaching.services.purge import PURGED_NOTE, PURGED_TEXT, revisions_purge
from coaching.services.reviews import AnchoredNote
from sandbox import services
from sandbox.errors import InvalidInput, InvalidState, NotAllowed
from sandbox.models import Draft, PostImage
from tests import builders
from tests.factories import make_post_image

pytestmark = pytest.mark.django_db

# Words that appear nowhere else: the patient's surname, and a valid NHS number.
SURNAME = "Featherstonehaugh"
NHS_NUMBER = "943 476 5919"
PATIENT_POST = f"Mr {SURNAME} on ward 4 had his knee surgery today"
PATIENT_ALT = f"Mr {SURNAME} in his hospital bed after surgery"
CLEAN_POST = "Our knee clinic is open on Saturdays"
REASON = "The trainee named a patient and their surgery."


def traces(*words: str) -> list[str]:
    """Every table and text column (text, varchar, json) holding any of the words."""
    found = []
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT table_name, column_name FROM information_schema.columns "
            "WHERE table_schema = 'public' AND data_type IN "
            "('text', 'character varying', 'json', 'jsonb', 'character')"
        )
        for table, column in cursor.fetchall():
            for word in words:
                cursor.execute(
                    f'SELECT count(*) FROM "{table}" WHERE "{column}"::text ILIKE %s',  # noqa: S608 - names from the catalogue
                    [f"%{word}%"],
                )
                if cursor.fetchone()[0]:
                    found.append(f"{table}.{column}: {word}")
    return found


@pytest.fixture
def patient_draft(trainee, coach, account, private_media):
    """A draft whose first revision named a patient (text, alt text and an image), which a
    coach let through, reviewed with a suggestion and a note quoting it, and published
    once before it was retracted; then the trainee wrote a clean second revision."""
    draft = builders.draft(trainee, account, PATIENT_POST, thread=[f"NHS no {NHS_NUMBER}"])
    image = make_post_image(draft)
    draft = services.draft_edit(
        draft=draft,
        by=trainee,
        text=PATIENT_POST,
        thread=[f"NHS no {NHS_NUMBER}"],
        images=[[{"id": image.pk, "alt": PATIENT_ALT}], []],
    )
    coaching.check_override(draft=draft, by=coach, reason="Let me look at it properly")
    coaching.draft_submit(draft=draft, by=trainee)
    coaching.review_request_changes(
        draft=draft,
        by=coach,
        note="Please take out his name",
        suggestion=[f"Mr {SURNAME} is recovering well", "Thanks to the team"],
        anchored_notes=[AnchoredNote(body="This names him", quote=f"Mr {SURNAME}")],
    )
    # The trainee asked in the draft's thread, with the patient's details on screen.
    comments.comment_add(draft=draft, by=trainee, body=f"Is it fine to thank Mr {SURNAME}?")
    # A publication of the first revision that reached the account and was taken down.
    revision = draft.revisions.get(number=2)
    review = Review.objects.filter(draft=draft).first()
    publication = Publication.objects.create(
        draft=draft,
        revision=revision,
        approval=review,
        account=account,
        text=PATIENT_POST,
        parts=[{"text": PATIENT_POST, "remote_id": "99", "remote_url": "https://x.test/99"}],
        content_hash=revision.content_hash,
        status=Publication.Status.RETRACTED,
        error=f"Duplicate of: {PATIENT_POST}",
    )
    PublishAttempt.objects.create(
        publication=publication,
        request="POST /2/tweets",
        outcome="rejected",
        error_body=f'{{"detail": "{PATIENT_POST}"}}',
    )
    clean_image = make_post_image(draft, colour="navy")
    draft = services.draft_edit(
        draft=draft,
        by=trainee,
        text=CLEAN_POST,
        images=[[{"id": clean_image.pk, "alt": "The clinic's front door"}]],
    )
    Notification.objects.create(
        user=coach, kind="submitted", message=f"A post: “{PATIENT_POST[:60]}”", draft=draft
    )
    return draft, image, clean_image


def test_a_purge_leaves_no_trace_of_the_patient_in_any_table(
    patient_draft, coach, django_capture_on_commit_callbacks
):
    draft, image, clean_image = patient_draft
    assert traces(SURNAME, NHS_NUMBER), "the search finds the words before the purge"
    image_name = image.file.name
    assert image.file.storage.exists(image_name)

    with django_capture_on_commit_callbacks(execute=True):
        numbers = revisions_purge(draft=draft, by=coach, reason=REASON)

    assert numbers == [1, 2]
    assert traces(SURNAME, NHS_NUMBER) == []
    assert not PostImage.objects.filter(pk=image.pk).exists()
    assert not image.file.storage.exists(image_name), "the image's file is gone too"
    # The clean revision and its image are untouched.
    draft.refresh_from_db()
    assert draft.current_revision.text == CLEAN_POST
    assert PostImage.objects.filter(pk=clean_image.pk).exists()
    assert draft.status == Draft.Status.DRAFT
    for revision in draft.revisions.filter(number__in=numbers):
        assert (revision.text, revision.thread, revision.images) == (PURGED_TEXT, [], [])
        # The tombstone: who, when and why.
        assert revision.purge.purged_by == coach
        assert revision.purge.reason == REASON
        assert revision.purge.purged_at is not None
        assert set(revision.purge.codes) >= {"patient-details"}
    # The coach's notes on the purged revision go with it (they discuss the details).
    notes = FeedbackNote.objects.filter(review__draft=draft)
    assert {(note.body, note.quote) for note in notes} == {(PURGED_NOTE, "")}
    # The audit: who and which revisions, never the words, nor the reason.
    event = AuditEvent.objects.get(action=AuditEvent.Action.REVISIONS_PURGED)
    assert event.actor == coach and event.draft_id == draft.pk
    assert "revisions 1 and 2" in event.detail
    assert REASON not in event.detail
    assert RevisionPurge.objects.filter(revision__draft=draft).count() == 2


def test_purging_the_latest_text_withdraws_an_open_draft(risky, coach):
    revisions_purge(draft=risky, by=coach, reason=REASON)
    risky.refresh_from_db()
    assert risky.status == Draft.Status.WITHDRAWN
    assert risky.text == PURGED_TEXT


def test_a_post_on_the_account_is_retracted_before_it_is_purged(trainee, coach, account):
    draft = builders.draft(trainee, account, PATIENT_POST)
    coaching.check_override(draft=draft, by=coach, reason="A published case study")
    coaching.draft_submit(draft=draft, by=trainee)
    coaching.review_approve(draft=draft, by=coach)
    with pytest.raises(InvalidState, match="Retract it or cancel it first"):
        revisions_purge(draft=draft, by=coach, reason=REASON)
    assert draft.revisions.get().text == PATIENT_POST


def test_only_a_coach_or_admin_of_the_organisation_purges(
    risky, trainee, other_trainee, outside_coach, admin
):
    for person in (trainee, other_trainee, outside_coach):
        with pytest.raises(NotAllowed):
            revisions_purge(draft=risky, by=person, reason=REASON)
    assert not RevisionPurge.objects.exists()
    assert revisions_purge(draft=risky, by=admin, reason=REASON) == [1]


def test_a_purge_needs_a_reason_and_something_to_purge(risky, draft, coach):
    with pytest.raises(InvalidInput, match="Say why"):
        revisions_purge(draft=risky, by=coach, reason="  ")
    with pytest.raises(InvalidState, match="No revision of this draft"):
        revisions_purge(draft=draft, by=coach, reason=REASON)
    revisions_purge(draft=risky, by=coach, reason=REASON)
    with pytest.raises(InvalidState, match="purged already"):
        revisions_purge(draft=risky, by=coach, reason=REASON)
    assert AuditEvent.objects.filter(action=AuditEvent.Action.REVISIONS_PURGED).count() == 1
