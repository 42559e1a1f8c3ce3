"""Erasure: an admin erases a person from Sandpit (the right to erasure).

What goes: their name, email and username; every way they sign in (password, second
factors, sessions, single sign-on links, email addresses); what they wrote that never went
live (drafts and their revisions, images, practice timeline, notices) and what they wrote
about others' drafts (their notes, suggested rewrites and comments in drafts' threads,
replaced by a placeholder).

What stays, as the organisation's record: posts that went live on the real account (the
published text and images, and their reviews), every decision (reviews, overrides,
emergency stops) and the audit log. The person's User row stays too, so every record that
points at them still does: renamed to a pseudonymous reference (``former-member-<12 hex>``)
and named "A former member of staff". Their name, email and username in the audit log's
details become that reference, through the one rewrite the database allows
(coaching/migrations/0012).

Refused (each with its reason, coaching.selectors.erasure.refusals): erasing yourself or an
operator; a person who belongs to an organisation the admin does not administer; a person
in an organisation whose records are on legal hold; the only admin of an organisation; a
person with a post on its way to the account.
"""

from __future__ import annotations

import secrets

from allauth.account.models import EmailAddress
from allauth.mfa.models import Authenticator
from allauth.socialaccount.models import SocialAccount
from allauth.usersessions.models import UserSession
from django.contrib.admin.models import LogEntry
from django.contrib.auth.models import User
from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone

from coaching.models import (
    AuditEvent,
    DraftComment,
    DrillRun,
    FeedbackNote,
    Invitation,
    Notification,
    NotificationPreference,
    PeopleImport,
    Publication,
    Review,
)
from coaching.selectors import erasure as erasure_selectors
from coaching.services.account_cover import cover_person_left
from coaching.services.lifecycle import _audit
from coaching.services.subject_access import exports_delete_of
from sandbox import access
from sandbox.errors import InvalidInput, InvalidState
from sandbox.models import Draft, DraftRevision, Membership, PostImage, ScenarioRun, TimelineItem

FORMER_MEMBER = erasure_selectors.FORMER_MEMBER
# What replaces free text the person wrote that must go but whose row stays.
REMOVED = "(Removed when its author's data was erased.)"


def new_reference() -> str:
    return f"{erasure_selectors.REFERENCE_PREFIX}{secrets.token_hex(6)}"


def person_erase(*, by: User, membership: Membership, confirmation: str) -> str:
    """Erase the person of this membership; returns their pseudonymous reference."""
    access.require_admin(by, membership.organisation_id)
    person = membership.user
    expected = erasure_selectors.confirmation_words(person)
    if " ".join(confirmation.split()).casefold() != expected.casefold():
        raise InvalidInput(
            f"Type {expected} exactly as shown, to confirm whom you are erasing.",
            field="confirmation",
        )
    with transaction.atomic():
        # One erasure at a time per person, and the refusals read under the same lock.
        person = User.objects.select_for_update().get(pk=person.pk)
        if erasure_selectors.is_erased(person):
            raise InvalidState("This person has already been erased.")
        reasons = erasure_selectors.refusals(by=by, person=person)
        if reasons:
            raise InvalidState(" ".join(reasons))
        reference = new_reference()
        terms = erasure_selectors.identifying_terms(person)
        organisation_ids = list(
            Membership.objects.filter(user=person).values_list("organisation_id", flat=True)
        )
        counts = _erase_work(person)
        _erase_sign_in(person)
        _scrub_imports(person, reference)
        exports_delete_of(person)
        _pseudonymise_audit_log(terms, reference, organisation_ids)
        _rename_in_notices(terms, organisation_ids)
        _rename_in_admin_history(person, terms, reference)
        person.groups.clear()
        person.user_permissions.clear()
        person.username = reference
        person.first_name = FORMER_MEMBER
        person.last_name = ""
        person.email = ""
        person.set_unusable_password()
        person.is_active = False
        person.is_staff = False
        person.save()
        summary = (
            f"{reference} erased: {counts['drafts_removed']} drafts removed, "
            f"{counts['drafts_kept']} kept as posts that went live, "
            f"{counts['notes']} notes, {counts['suggestions']} suggested rewrites and "
            f"{counts['comments']} comments replaced; sign-in, timeline and notices removed"
        )
        for organisation_id in sorted(organisation_ids):
            _audit(
                AuditEvent.Action.PERSON_ERASED,
                organisation_id=organisation_id,
                actor=by,
                trainee=person,
                detail=summary,
            )
    return reference


def _erase_work(person: User) -> dict[str, int]:
    """Drafts, practice and what they wrote about others' work."""
    kept_ids = set(erasure_selectors.drafts_that_went_live(person).values_list("pk", flat=True))
    # The drafts before their practice timeline: a practice response points at the item it
    # answers (RESTRICT).
    removed = Draft.objects.filter(author=person).exclude(pk__in=kept_ids)
    drafts_removed = removed.count()
    # A draft's pointer to its latest revision is PROTECT (a revision in use is never
    # deleted alone): cleared first, so the draft and its revisions go together.
    removed.update(current_revision=None)
    removed.delete()
    TimelineItem.objects.filter(owner=person).delete()
    ScenarioRun.objects.filter(trainee=person).delete()
    DrillRun.objects.filter(trainee=person).delete()  # practice too, as scenario runs are
    # A draft that went live keeps the published text (the organisation's record); every
    # other version, and any other text sent for publishing, is replaced.
    published = Publication.objects.filter(draft_id__in=kept_ids).filter(
        erasure_selectors.WENT_LIVE
    )
    published_revisions = set(published.values_list("revision_id", flat=True))
    kept_image_ids = {
        int(str(entry["id"]))
        for revision in DraftRevision.objects.filter(pk__in=published_revisions)
        for post in revision.images_by_post
        for entry in post
    }
    scrubbed = DraftRevision.objects.filter(draft_id__in=kept_ids).exclude(
        pk__in=published_revisions
    )
    scrubbed.update(text=REMOVED, thread=[], images=[])
    Publication.objects.filter(draft_id__in=kept_ids).exclude(pk__in=published.values("pk")).update(
        text=REMOVED, parts=[], error=""
    )
    FeedbackNote.objects.filter(review__revision__in=scrubbed).update(quote="")
    # Another coach's rewrite of a scrubbed version is the person's words, reworked.
    Review.objects.filter(revision__in=scrubbed).update(suggestion=[])
    # The feed's cached entries are keyed by when a draft last changed (coaching.feed).
    Draft.objects.filter(pk__in=kept_ids).update(updated_at=timezone.now())
    for image in PostImage.objects.filter(
        Q(draft_id__in=kept_ids) | Q(draft__isnull=True), uploaded_by=person
    ).exclude(pk__in=kept_image_ids):
        image.delete()
    # As a coach: their words about others' drafts go; the decisions stay.
    notes = FeedbackNote.objects.filter(author=person).update(body=REMOVED)
    # What they said in drafts' threads (their own drafts' threads went with the drafts).
    comments = DraftComment.objects.filter(author=person).update(body=REMOVED)
    suggestions = (
        Review.objects.filter(reviewer=person).exclude(suggestion=[]).update(suggestion=[])
    )
    Draft.objects.filter(claimed_by=person).update(claimed_by=None, claimed_at=None)
    Membership.objects.filter(coach=person).update(coach=None)
    Membership.objects.filter(cover_coach=person).update(cover_coach=None)
    for organisation_id in Membership.objects.filter(user=person).values_list(
        "organisation_id", flat=True
    ):
        cover_person_left(person=person, organisation_id=organisation_id)
    Membership.objects.filter(user=person).update(
        is_active=False,
        coach=None,
        cohort=None,
        cover_coach=None,
        away_from=None,
        away_until=None,
    )
    # Their notices, everyone's notices about their drafts, and notices of their comments
    # (all of which quote them): notices are passing news, not the record.
    Notification.objects.filter(
        Q(user=person)
        | Q(draft__author=person)
        | Q(kind=Notification.Kind.COMMENT, draft__comments__author=person)
    ).delete()
    NotificationPreference.objects.filter(user=person).delete()
    Invitation.objects.filter(membership__user=person).delete()
    return {
        "drafts_removed": drafts_removed,
        "drafts_kept": len(kept_ids),
        "notes": notes,
        "suggestions": suggestions,
        "comments": comments,
    }


def _rename_in_admin_history(person: User, terms: list[str], reference: str) -> None:
    """The Django admin's history of operators' changes names what was changed as it was
    called then (a user by username, a membership by its user): that name becomes the
    reference. Who changed what, and when, stays."""
    for term in {*terms, person.username}:
        pattern = erasure_selectors.whole_word(term)
        for entry in LogEntry.objects.filter(object_repr__icontains=term):
            entry.object_repr = pattern.sub(reference, entry.object_repr)[:200]
            entry.save(update_fields=["object_repr"])


def _erase_sign_in(person: User) -> None:
    for session in UserSession.objects.filter(user=person):
        session.end()
    UserSession.objects.filter(user=person).delete()
    Authenticator.objects.filter(user=person).delete()
    SocialAccount.objects.filter(user=person).delete()  # and its tokens (CASCADE)
    EmailAddress.objects.filter(user=person).delete()


def _scrub_imports(person: User, reference: str) -> None:
    """A file of people an admin imported keeps its report, with the person's line
    naming the reference instead of their email and name."""
    email = person.email.casefold()
    if not email:
        return
    for people_import in PeopleImport.objects.filter(
        Q(rows__icontains=email) | Q(results__icontains=email)
    ):
        rows = [
            {**row, "email": reference, "name": ""}
            if str(row.get("email", "")).strip().casefold() == email
            else row
            for row in people_import.rows
        ]
        results = [
            {**result, "email": reference}
            if str(result.get("email", "")).strip().casefold() == email
            else result
            for result in people_import.results
        ]
        people_import.rows = rows
        people_import.results = results
        people_import.save(update_fields=["rows", "results"])


def _rename_in_notices(terms: list[str], organisation_ids: list[int]) -> None:
    """Notices to other people of the person's organisations that name the person (a coach
    told "Tina Tester sent a post") keep their sense, naming a former member of staff
    instead. Another organisation's people, and their namesakes, are not theirs to touch."""
    members = Membership.objects.filter(organisation_id__in=organisation_ids)
    for term in terms:
        pattern = erasure_selectors.whole_word(term)
        notices = Notification.objects.filter(
            message__icontains=term, user_id__in=members.values("user_id")
        )
        for notice in notices:
            notice.message = pattern.sub(FORMER_MEMBER, notice.message)[:300]
            notice.save(update_fields=["message"])


def _pseudonymise_audit_log(terms: list[str], reference: str, organisation_ids: list[int]) -> None:
    """The person's name, email and username in their organisations' audit logs become
    the reference; other organisations' logs are never touched."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT coaching_auditevent_pseudonymise(%s, %s, %s)",
                [terms, reference, organisation_ids],
            )
        return
    # SQLite (make run's embedded default) has no trigger: the same rewrite, row by row,
    # past the model's own refusal.
    for term in terms:
        if len(term) < 3:
            continue
        pattern = erasure_selectors.whole_word(term)
        events = AuditEvent.objects.filter(
            organisation_id__in=organisation_ids, detail__icontains=term
        ).values_list("pk", "detail")
        for pk, detail in events:
            with connection.cursor() as cursor:
                cursor.execute(
                    "UPDATE coaching_auditevent SET detail = %s WHERE id = %s",
                    [pattern.sub(reference, detail), pk],
                )
