"""Erasure (coaching/services/erasure.py): after it, no text column of any table holds the
person's name, email, username or the words they wrote, except the allowed record (what
went live); the audit log keeps every event, pointing at the same pseudonymous person;
and each refusal, with its reason."""

import uuid

import pytest
from allauth.account.models import EmailAddress
from allauth.mfa.models import Authenticator
from allauth.socialaccount.models import SocialAccount
from allauth.usersessions.models import UserSession
from django.contrib.admin.models import CHANGE, LogEntry
from django.contrib.auth.models import User
from django.contrib.contenttypes.models import ContentType
from django.db import connection

from coaching import services as coaching
from coaching.models import (
    AuditEvent,
    FeedbackNote,
    Notification,
    PeopleImport,
    Publication,
    Review,
)
from coaching.selectors import erasure as erasure_selectors
from coaching.services import comments, drills, erasure, people
from sandbox import services
from sandbox.errors import InvalidInput, InvalidState
from sandbox.models import Cohort, Draft, Membership, PostImage, TimelineItem
from tests import builders, factories
from tests.coaching.test_models import documented_grants

pytestmark = pytest.mark.django_db

NAME, EMAIL, USERNAME = "Tina Tester", "tina.tester@example.nhs.uk", "tina.t"
UNPUBLISHED = "Our team quiz raised 120 pounds for the ward garden"
EARLIER = "First go at the flu post, never published"
LIVE = "Flu jabs at Ward 4 today, walk in from 9"
PRACTICE = "Practising a post about the car park"
COMMENT = "Can I say which ward my friend works on?"
COACH_NOTE = "Cora here: do not name patients, ever"


@pytest.fixture
def person(organisation):
    return factories.member(
        organisation,
        "trainee",
        username=USERNAME,
        first_name="Tina",
        last_name="Tester",
        email=EMAIL,
    )


@pytest.fixture
def footprint(person, coach, admin, account, x_double, private_media, organisation):
    """Tina's life in Sandpit: a live post (revised once before it was approved), an
    unpublished draft with an image, a practice post, sign-in records, an audit trail that
    names her, and a file of people that listed her."""
    live = builders.submitted(person, account, EARLIER)
    coaching.review_request_changes(draft=live, by=coach, note="Say where")
    services.draft_edit(draft=live, by=person, text=LIVE)
    coaching.draft_submit(draft=live, by=person)
    coaching.review_approve(draft=live, by=coach)
    builders.sent(Publication.objects.get(draft=live, status="queued"))
    # Her question in the live post's thread: the post stays, her words do not.
    comments.comment_add(draft=live, by=person, body=COMMENT)
    unpublished = builders.submitted(person, account, UNPUBLISHED)
    image = factories.make_post_image(unpublished)
    practice = TimelineItem.objects.create(
        owner=person, account=account, text=PRACTICE, appear_at=live.created_at
    )
    membership = Membership.objects.get(user=person, organisation=organisation)
    people.person_deactivate(by=admin, membership=membership)
    people.person_reactivate(by=admin, membership=membership)
    EmailAddress.objects.create(user=person, email=EMAIL, verified=True, primary=True)
    Authenticator.objects.create(user=person, type=Authenticator.Type.RECOVERY_CODES, data={})
    SocialAccount.objects.create(
        user=person, provider="test-board", uid="sub-123", extra_data={"email": EMAIL}
    )
    UserSession.objects.create(user=person, ip="192.0.2.1", session_key="k" * 32, user_agent="UA")
    PeopleImport.objects.create(
        organisation=organisation,
        started_by=admin,
        file_name="staff.csv",
        rows=[{"email": EMAIL, "name": NAME}, {"email": "other@example.org", "name": "Al"}],
        results=[{"line": 2, "email": EMAIL, "outcome": "created", "reason": ""}],
    )
    # An operator once changed her in the Django admin: its history names her.
    LogEntry.objects.create(
        user=factories.UserFactory(username="operator", is_superuser=True),
        content_type=ContentType.objects.get_for_model(User),
        object_id=str(person.pk),
        object_repr=str(person),
        action_flag=CHANGE,
        change_message="[]",
    )
    return {"live": live, "unpublished": unpublished, "image": image, "practice": practice}


def text_columns() -> list[tuple[str, str]]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT table_name, column_name FROM information_schema.columns "
            "WHERE table_schema = current_schema() "
            "AND data_type IN ('text', 'character varying', 'json', 'jsonb')"
        )
        return cursor.fetchall()


def where_found(words: str) -> list[str]:
    """Every table.column holding these words anywhere (any case), across the database."""
    found = []
    with connection.cursor() as cursor:
        for table, column in text_columns():
            cursor.execute(
                # Names from information_schema, quoted: not input.
                f'SELECT count(*) FROM "{table}" WHERE "{column}"::text ILIKE %s',  # noqa: S608
                [f"%{words}%"],
            )
            if cursor.fetchone()[0]:
                found.append(f"{table}.{column}")
    return found


def erase(admin, person, organisation, confirmation=NAME):
    membership = Membership.objects.get(user=person, organisation=organisation)
    return erasure.person_erase(by=admin, membership=membership, confirmation=confirmation)


def test_the_scan_finds_the_person_before_erasure(footprint):
    """The scan below is honest: before erasure it finds every one of these."""
    assert "auth_user.email" in where_found(EMAIL)
    assert "coaching_auditevent.detail" in where_found(NAME)
    assert "sandbox_draftrevision.text" in where_found(UNPUBLISHED)
    assert "sandbox_timelineitem.text" in where_found(PRACTICE)
    assert "coaching_draftcomment.body" in where_found(COMMENT)
    assert "coaching_peopleimport.rows" in where_found(EMAIL)
    assert "django_admin_log.object_repr" in where_found(USERNAME)


def test_nothing_of_the_person_is_left_outside_the_allowed_record(
    admin, person, organisation, footprint, django_capture_on_commit_callbacks
):
    events_before = {e.pk: (e.actor_id, e.trainee_id, e.action) for e in AuditEvent.objects.all()}
    with django_capture_on_commit_callbacks(execute=True):
        reference = erase(admin, person, organisation)
    for words in (NAME, EMAIL, USERNAME, UNPUBLISHED, EARLIER, PRACTICE, COMMENT):
        assert where_found(words) == [], words
    # The allowed record: the post that went live, its text and its approval.
    assert sorted(where_found(LIVE)) == [
        "coaching_publication.parts",
        "coaching_publication.text",
        "sandbox_draftrevision.text",
    ]
    live = Draft.objects.get(pk=footprint["live"].pk)
    assert live.reviews.filter(decision=Review.Decision.APPROVE).exists()
    assert not Draft.objects.filter(pk=footprint["unpublished"].pk).exists()
    assert not PostImage.objects.filter(pk=footprint["image"].pk).exists()
    assert not footprint["image"].file.storage.exists(footprint["image"].file.name)
    # The audit log: every event kept, each still pointing at the same (renamed) person.
    for event in AuditEvent.objects.filter(pk__in=events_before):
        assert (event.actor_id, event.trainee_id, event.action) == events_before[event.pk]
    assert AuditEvent.objects.filter(detail__contains=reference).count() >= 2
    erased = User.objects.get(pk=person.pk)
    assert erased.username == reference and reference.startswith("former-member-")
    assert erasure_selectors.is_erased(erased) and not erased.is_active
    assert str(erased.get_full_name()) == "A former member of staff"
    for model in (EmailAddress, Authenticator, SocialAccount, UserSession):
        assert not model.objects.filter(user=erased).exists(), model
    event = AuditEvent.objects.get(action=AuditEvent.Action.PERSON_ERASED)
    assert (event.actor, event.trainee_id) == (admin, person.pk)
    assert "1 drafts removed, 1 kept as posts that went live" in event.detail


def test_their_lockdown_drill_runs_go_as_their_scenario_runs_do(
    admin, person, coach, account, organisation
):
    ward = Cohort.objects.create(organisation=organisation, name="Drill ward")
    Membership.objects.filter(user=person).update(cohort=ward)
    drill = drills.drill_start(by=coach, account=account, cohort=ward, incident="Hacked")
    assert drill.runs.filter(trainee=person).exists()
    erase(admin, person, organisation)
    assert not drill.runs.exists()


def test_another_organisations_namesake_is_left_alone(
    admin, person, organisation, other_organisation, django_capture_on_commit_callbacks
):
    # Another board's own Tina Tester, in its audit log and its people's notices.
    theirs = AuditEvent.objects.create(
        organisation=other_organisation,
        action=AuditEvent.Action.PERSON_DEACTIVATED,
        detail=f"{NAME} deactivated",
    )
    neighbour = factories.member(other_organisation, "coach", username="nell")
    notice = Notification.objects.create(
        user=neighbour, kind="submitted", message=f"{NAME} sent a post for review"
    )
    with django_capture_on_commit_callbacks(execute=True):
        erase(admin, person, organisation)
    theirs.refresh_from_db()
    notice.refresh_from_db()
    assert theirs.detail == f"{NAME} deactivated"
    assert notice.message == f"{NAME} sent a post for review"


def test_a_coachs_notes_and_rewrites_go_but_their_decisions_stay(
    admin, coach, trainee, account, organisation
):
    draft = builders.submitted(trainee, account)
    coaching.review_request_changes(
        draft=draft, by=coach, note=COACH_NOTE, suggestion=["Clinic open 9 to 5 today"]
    )
    erase(admin, coach, organisation, confirmation="Cora")
    review = Review.objects.get(draft=draft)
    assert review.reviewer_id == coach.pk and review.suggestion == []
    assert FeedbackNote.objects.get(review=review).body == erasure.REMOVED
    assert where_found(COACH_NOTE) == []
    assert where_found("Clinic open 9 to 5 today") == []


def test_the_wrong_name_is_refused_and_nothing_changes(admin, person, organisation):
    with pytest.raises(InvalidInput, match="Type Tina Tester exactly"):
        erase(admin, person, organisation, confirmation="Tina")
    assert User.objects.get(pk=person.pk).email == EMAIL


def test_the_name_is_matched_whatever_its_case_and_spacing(admin, person, organisation):
    erase(admin, person, organisation, confirmation="  tina   TESTER ")
    assert erasure_selectors.is_erased(User.objects.get(pk=person.pk))


# Refusals: each says why, and nothing changes -------------------------------------------


def refused(admin, person, organisation, match, confirmation=NAME):
    with pytest.raises(InvalidState, match=match):
        erase(admin, person, organisation, confirmation)
    assert User.objects.get(pk=person.pk).username == person.username
    assert not AuditEvent.objects.filter(action=AuditEvent.Action.PERSON_ERASED).exists()


def test_refused_under_a_legal_hold(admin, person, organisation):
    organisation.records_on_hold = True
    organisation.records_on_hold_reason = "Inquiry into ward 7"
    organisation.save()
    refused(admin, person, organisation, r"legal hold \(Inquiry into ward 7\)")


def test_refused_for_the_only_admin_of_an_organisation(
    admin, person, organisation, other_organisation
):
    # Only an admin of every organisation of theirs may erase someone, so the only admin
    # of one is always refused twice over; the other organisation is not named.
    Membership.objects.create(user=person, organisation=other_organisation, role="admin")
    reasons = erasure_selectors.refusals(by=admin, person=person)
    assert "Tina Tester is the only admin of another organisation." in " ".join(reasons)
    assert "Elsewhere Council" not in " ".join(reasons)
    refused(admin, person, organisation, "only admin of another organisation")


def test_refused_while_a_post_is_on_its_way(admin, person, coach, account, organisation):
    builders.approved(person, coach, account, "Queued for the account")
    refused(admin, person, organisation, "on the way to the real account")


def test_refused_when_they_belong_to_an_organisation_the_admin_does_not_run(
    admin, person, organisation, other_organisation
):
    Membership.objects.create(user=person, organisation=other_organisation, role="trainee")
    refused(admin, person, organisation, "belongs to an organisation you do not administer")


def test_refused_for_yourself_and_for_an_operator(admin, organisation):
    refused(admin, admin, organisation, "cannot erase yourself", confirmation="Ada")
    operator = factories.member(organisation, "trainee", username="op", is_superuser=True)
    refused(admin, operator, organisation, "runs this installation", confirmation="Op")


def test_erasing_twice_is_refused(admin, person, organisation):
    erase(admin, person, organisation)
    erased = User.objects.get(pk=person.pk)
    with pytest.raises(InvalidState, match="already been erased"):
        erase(admin, erased, organisation, confirmation="A former member of staff")


# The app's database role of docs/operations.md --------------------------------------------


def test_erasure_works_under_the_documented_app_role_which_still_cannot_rewrite_the_log(
    admin, person, organisation
):
    from django.db import DatabaseError, transaction

    people.person_deactivate(
        by=admin, membership=Membership.objects.get(user=person, organisation=organisation)
    )
    Membership.objects.filter(user=person).update(is_active=True)
    role = f"sandpit_app_test_{uuid.uuid4().hex[:12]}"
    with connection.cursor() as cursor:
        cursor.execute(f"CREATE ROLE {role} NOLOGIN")
        cursor.execute(documented_grants(role))
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        cursor.execute(f"SET ROLE {role}")
        try:
            reference = erase(admin, person, organisation)
            for statement in (
                "UPDATE coaching_auditevent SET detail = 'rewritten'",
                "SELECT set_config('sandpit.audit_pseudonymise', 'on', true); "
                "UPDATE coaching_auditevent SET detail = 'rewritten'",
            ):
                with (
                    pytest.raises(DatabaseError, match="permission denied"),
                    transaction.atomic(),
                ):
                    cursor.execute(statement)
            # Only a reference of the one shape: the function is no general rewrite.
            with (
                pytest.raises(DatabaseError, match="Not a pseudonymous reference"),
                transaction.atomic(),
            ):
                cursor.execute(
                    "SELECT coaching_auditevent_pseudonymise(%s, %s, %s)",
                    [["deactivated"], "anything at all", [organisation.pk]],
                )
        finally:
            cursor.execute("RESET ROLE")
    deactivated = AuditEvent.objects.get(action=AuditEvent.Action.PERSON_DEACTIVATED)
    assert deactivated.detail == f"{reference} ({reference}) deactivated"
