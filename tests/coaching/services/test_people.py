"""People, managed by their organisation's admins (coaching/services/people.py): the rules
of invitations, role changes, the last admin, deactivation and the CSV import's rows."""

import datetime as dt

import pytest
from django.contrib.auth.models import User
from django.core import mail
from django.utils import timezone

from coaching.models import AuditEvent, Invitation, PeopleImport
from coaching.selectors.people import invitation_for_token
from coaching.services import people
from sandbox.errors import InvalidInput, InvalidState, NotAllowed
from sandbox.models import Cohort, Membership
from sandbox.selectors import admin_organisation_ids, role_in
from tests import factories

pytestmark = pytest.mark.django_db
Action = AuditEvent.Action


def token_from(message) -> str:
    return message.body.split("/invitations/", 1)[1].split("/", 1)[0]


def test_an_invitation_creates_the_user_and_membership_up_front(
    admin, organisation, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        invited = people.person_invite(
            by=admin,
            organisation_id=organisation.pk,
            email=" Sam.Jones@Example.NHS.uk ",
            first_name="Sam",
            last_name="Jones",
            role="coach",
        )
    user = invited.membership.user
    assert invited.new_account
    assert (user.email, user.username, user.has_usable_password()) == (
        "sam.jones@example.nhs.uk",
        "sam.jones",
        False,
    )
    assert role_in(user, organisation.pk) == "coach"
    [message] = mail.outbox
    assert message.to == ["sam.jones@example.nhs.uk"]
    token = token_from(message)
    # Only a hash of the token is stored: the table cannot be used to sign in.
    assert not Invitation.objects.filter(token_hash=token).exists()
    assert invitation_for_token(token).membership == invited.membership
    event = AuditEvent.objects.get(action=Action.PERSON_INVITED)
    assert event.actor == admin and "sam.jones@example.nhs.uk" in event.detail


def test_the_email_goes_only_when_the_invitation_commits(admin, organisation):
    # Without running the on-commit callbacks (the transaction never committed), no mail.
    people.person_invite(by=admin, organisation_id=organisation.pk, email="a@example.org")
    assert mail.outbox == []


def test_inviting_someone_from_another_organisation_adds_them(
    admin, organisation, other_organisation, django_capture_on_commit_callbacks
):
    existing = factories.member(other_organisation, "coach", email="olive@example.org")
    with django_capture_on_commit_callbacks(execute=True):
        invited = people.person_invite(
            by=admin, organisation_id=organisation.pk, email="OLIVE@example.org"
        )
    assert not invited.new_account
    assert invited.membership.user == existing
    assert User.objects.filter(email__iexact="olive@example.org").count() == 1
    assert not Invitation.objects.exists()
    [message] = mail.outbox
    assert "You've been added" in message.subject


def test_inviting_someone_already_here_is_refused(admin, organisation, trainee):
    trainee.email = "tara@example.org"
    trainee.save()
    with pytest.raises(InvalidInput, match="already in Test Health Board") as refused:
        people.person_invite(by=admin, organisation_id=organisation.pk, email="Tara@example.org")
    assert refused.value.field == "email"


def test_every_problem_of_an_invitation_is_reported_together(admin, organisation):
    with pytest.raises(InvalidInput) as refused:
        people.person_invite(
            by=admin,
            organisation_id=organisation.pk,
            email="nope",
            role="boss",
            first_name="x" * 200,
        )
    assert [problem.field for problem in refused.value] == ["email", "role", "first_name"]


@pytest.mark.parametrize("email", ["", "not-an-email", "a@b", "x" * 250 + "@example.org"])
def test_a_bad_email_is_refused_in_plain_words(admin, organisation, email):
    with pytest.raises(InvalidInput, match=r"Enter an email address|at most 254"):
        people.person_invite(by=admin, organisation_id=organisation.pk, email=email)


def test_only_an_admin_of_the_organisation_may_invite(coach, outside_staff_admin, organisation):
    for who in (coach, outside_staff_admin):
        with pytest.raises(NotAllowed):
            people.person_invite(by=who, organisation_id=organisation.pk, email="a@example.org")


def test_a_coach_from_another_organisation_cannot_be_named(admin, organisation, outside_coach):
    with pytest.raises(InvalidInput, match="Choose a coach"):
        people.person_invite(
            by=admin,
            organisation_id=organisation.pk,
            email="a@example.org",
            coach_id=outside_coach.pk,
        )


@pytest.fixture
def invitation(admin, organisation, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        people.person_invite(by=admin, organisation_id=organisation.pk, email="new@example.org")
    token = token_from(mail.outbox[-1])
    return invitation_for_token(token), token


def test_accepting_sets_the_password_once(invitation):
    found, _token = invitation
    user = people.invitation_accept(invitation=found, password="a long new password 42")
    assert user.check_password("a long new password 42")
    assert AuditEvent.objects.filter(action=Action.INVITATION_ACCEPTED, actor=user).exists()
    with pytest.raises(InvalidState, match="already been used"):
        people.invitation_accept(invitation=found, password="another password 43")


def test_an_expired_invitation_says_so(invitation, settings):
    found, _ = invitation
    Invitation.objects.filter(pk=found.pk).update(
        expires_at=timezone.now() - dt.timedelta(seconds=1)
    )
    found.refresh_from_db()
    with pytest.raises(InvalidState, match="expired"):
        people.invitation_check(found)


def test_the_expiry_is_configurable(admin, organisation, settings):
    settings.INVITATION_DAYS = 2
    people.person_invite(by=admin, organisation_id=organisation.pk, email="b@example.org")
    left = Invitation.objects.get().expires_at - timezone.now()
    assert dt.timedelta(days=1, hours=23) < left <= dt.timedelta(days=2)


def test_sending_again_replaces_the_old_link(invitation, admin, django_capture_on_commit_callbacks):
    old, old_token = invitation
    with django_capture_on_commit_callbacks(execute=True):
        people.invitation_send_again(by=admin, membership=old.membership)
    new_token = token_from(mail.outbox[-1])
    assert new_token != old_token
    with pytest.raises(InvalidState, match="replaced"):
        people.invitation_check(invitation_for_token(old_token))
    assert people.invitation_check(invitation_for_token(new_token))
    assert AuditEvent.objects.filter(action=Action.INVITATION_SENT_AGAIN).count() == 1


# Roles, coach, cohort ---------------------------------------------------------------------


def membership_of(user, organisation):
    return Membership.objects.select_related("user", "organisation").get(
        user=user, organisation=organisation
    )


def test_changes_are_audited_one_event_each(admin, trainee, coach, organisation):
    cohort = Cohort.objects.create(organisation=organisation, name="Ward 5")
    changes = people.person_change(
        by=admin,
        membership=membership_of(trainee, organisation),
        role="coach",
        coach_id=coach.pk,
        cohort_id=cohort.pk,
    )
    assert len(changes) == 3
    actions = set(AuditEvent.objects.values_list("action", flat=True))
    assert actions == {Action.ROLE_CHANGED, Action.COACH_CHANGED, Action.COHORT_CHANGED}
    assert role_in(trainee, organisation.pk) == "coach"


def test_a_change_reports_every_wrong_choice_at_once(admin, trainee, organisation):
    with pytest.raises(InvalidInput) as refused:
        people.person_change(
            by=admin,
            membership=membership_of(trainee, organisation),
            role="emperor",
            coach_id=trainee.pk,  # not a coach, and themself
            cohort_id=999_999,
        )
    assert {problem.field for problem in refused.value} == {"role", "coach", "cohort"}
    assert role_in(trainee, organisation.pk) == "trainee"


def test_the_last_admin_cannot_step_down(admin, organisation):
    with pytest.raises(InvalidInput, match="only admin") as refused:
        people.person_change(
            by=admin,
            membership=membership_of(admin, organisation),
            role="coach",
            coach_id=None,
            cohort_id=None,
        )
    assert refused.value.field == "role"
    assert role_in(admin, organisation.pk) == "admin"


def test_an_admin_may_step_down_when_another_remains(admin, organisation):
    factories.member(organisation, "admin", username="second-admin")
    people.person_change(
        by=admin,
        membership=membership_of(admin, organisation),
        role="coach",
        coach_id=None,
        cohort_id=None,
    )
    assert role_in(admin, organisation.pk) == "coach"


def test_another_organisations_cohort_is_refused(admin, trainee, organisation, other_organisation):
    theirs = Cohort.objects.create(organisation=other_organisation, name="Theirs")
    with pytest.raises(InvalidInput, match="cohorts"):
        people.person_change(
            by=admin,
            membership=membership_of(trainee, organisation),
            role="trainee",
            coach_id=None,
            cohort_id=theirs.pk,
        )


# Deactivation ----------------------------------------------------------------------------


def test_deactivation_removes_the_role_and_the_sign_in(admin, coach, organisation):
    people.person_deactivate(by=admin, membership=membership_of(coach, organisation))
    coach.refresh_from_db()
    assert role_in(coach, organisation.pk) is None
    assert not coach.is_active
    people.person_reactivate(by=admin, membership=membership_of(coach, organisation))
    coach.refresh_from_db()
    assert role_in(coach, organisation.pk) == "coach" and coach.is_active
    assert list(AuditEvent.objects.order_by("pk").values_list("action", flat=True)) == [
        Action.PERSON_DEACTIVATED,
        Action.PERSON_REACTIVATED,
    ]


def test_deactivation_in_one_organisation_leaves_the_other(admin, organisation, other_organisation):
    both = factories.member(organisation, "coach", username="bea")
    Membership.objects.create(user=both, organisation=other_organisation, role="admin")
    people.person_deactivate(by=admin, membership=membership_of(both, organisation))
    both.refresh_from_db()
    assert both.is_active
    assert admin_organisation_ids(both) == [other_organisation.pk]


def test_an_admin_cannot_deactivate_themselves(admin, organisation):
    with pytest.raises(InvalidInput, match="cannot deactivate yourself"):
        people.person_deactivate(by=admin, membership=membership_of(admin, organisation))


def test_the_last_admin_cannot_be_deactivated(admin, organisation):
    other = factories.member(organisation, "admin", username="second-admin")
    people.person_deactivate(by=admin, membership=membership_of(other, organisation))
    # Now only ``admin`` is an active admin; a reactivated colleague could not remove them.
    people.person_reactivate(by=admin, membership=membership_of(other, organisation))
    people.person_change(
        by=admin,
        membership=membership_of(other, organisation),
        role="coach",
        coach_id=None,
        cohort_id=None,
    )
    factories.member(organisation, "admin", username="third-admin")
    third = User.objects.get(username="third-admin")
    people.person_deactivate(by=third, membership=membership_of(admin, organisation))
    with pytest.raises(NotAllowed):
        # Deactivated, ``admin`` is no longer an admin at all.
        people.person_deactivate(by=admin, membership=membership_of(third, organisation))
    with pytest.raises(InvalidInput, match="yourself"):
        people.person_deactivate(by=third, membership=membership_of(third, organisation))


def test_a_deactivated_coach_is_not_a_named_coachs_choice(admin, coach, trainee, organisation):
    people.person_deactivate(by=admin, membership=membership_of(coach, organisation))
    with pytest.raises(InvalidInput, match="Choose a coach"):
        people.person_change(
            by=admin,
            membership=membership_of(trainee, organisation),
            role="trainee",
            coach_id=coach.pk,
            cohort_id=None,
        )


# The CSV file ---------------------------------------------------------------------------


def csv_bytes(*lines: str) -> bytes:
    return ("\n".join(lines) + "\n").encode()


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("people.xlsx", b"email\na@example.org\n", "CSV file"),
        ("people.csv", b"", "empty"),
        ("people.csv", b"email\n", "no people"),
        ("people.csv", b"name,role\nSam,trainee\n", "no 'email' column"),
        ("people.csv", b"email,shoe size\na@example.org,9\n", "'shoe size' is not a column"),
        ("people.csv", "email\nzoë@example.org\n".encode("latin-1"), "UTF-8"),
        ("people.csv", b"PK\x03\x04\x00\x00binary", "binary|UTF-8"),
        ("people.csv", b'email\n"unterminated\n', "read as CSV"),
    ],
)
def test_a_bad_file_gets_a_plain_reason(name, content, message):
    with pytest.raises(InvalidInput, match=message):
        people.read_people_csv(file_name=name, content=content)


def test_a_file_over_the_limits_is_refused(settings):
    settings.PEOPLE_IMPORT_MAX_BYTES = 100
    with pytest.raises(InvalidInput, match="too big"):
        people.read_people_csv(file_name="p.csv", content=b"email\n" + b"a@example.org\n" * 20)
    settings.PEOPLE_IMPORT_MAX_BYTES = 10_000
    settings.PEOPLE_IMPORT_MAX_ROWS = 3
    with pytest.raises(InvalidInput, match="at most 3"):
        people.read_people_csv(file_name="p.csv", content=b"email\n" + b"a@example.org\n" * 4)


def test_columns_are_read_by_name_in_any_order_and_case(admin):
    rows = people.read_people_csv(
        file_name="P.CSV",
        content=csv_bytes("\ufeffRole,Coach_Email,EMAIL", "coach,c@example.org,a@example.org"),
    )
    assert rows == [{"role": "coach", "coach email": "c@example.org", "email": "a@example.org"}]


def test_each_row_is_created_skipped_or_refused_with_a_reason(admin, coach, organisation):
    coach.email = "colin@example.org"
    coach.save()
    content = csv_bytes(
        "email,name,role,cohort,coach email",
        "sam@example.org,Sam Jones,trainee,Ward 5,colin@example.org",
        "SAM@example.org,Sam Again,,,",
        "not-an-email,Nobody,,,",
        "pat@example.org,Pat,pilot,,",
        "lee@example.org,Lee,,,nobody@example.org",
        ",No email,,,",
    )
    started = people.people_import_start(
        by=admin, organisation_id=organisation.pk, file_name="people.csv", content=content
    )
    done = people.people_import_run(import_id=started.pk)
    outcomes = [(r["line"], r["outcome"]) for r in done.results]
    assert outcomes == [
        (2, "created"),
        (3, "skipped"),
        (4, "refused"),
        (5, "refused"),
        (6, "refused"),
        (7, "refused"),
    ]
    reasons = [r["reason"] for r in done.results]
    assert "Choose trainee, coach or admin." in reasons
    assert "nobody@example.org is not a coach or admin here." in reasons
    assert (done.status, done.created_count, done.skipped_count, done.refused_count) == (
        "done",
        1,
        1,
        4,
    )
    sam = Membership.objects.get(user__email="sam@example.org")
    assert (sam.coach, sam.cohort.name, sam.user.get_full_name()) == (coach, "Ward 5", "Sam Jones")
    assert AuditEvent.objects.filter(action=Action.PEOPLE_IMPORTED).count() == 1


def test_running_the_same_file_again_changes_nothing(admin, organisation):
    content = csv_bytes("email,name", "a@example.org,A", "b@example.org,B")
    for _ in range(2):
        started = people.people_import_start(
            by=admin, organisation_id=organisation.pk, file_name="p.csv", content=content
        )
        last = people.people_import_run(import_id=started.pk)
    assert [r["outcome"] for r in last.results] == ["skipped", "skipped"]
    assert (
        Membership.objects.filter(
            organisation=organisation, user__email__in=["a@example.org", "b@example.org"]
        ).count()
        == 2
    )
    # A redelivered task for a finished import does nothing either.
    again = people.people_import_run(import_id=last.pk)
    assert again.results == last.results and PeopleImport.objects.count() == 2


def test_a_deactivated_coach_gets_no_posts_and_no_pages(admin, coach, second_coach, organisation):
    from coaching.selectors import CoachDirectory
    from sandbox.selectors import reviewer_organisation_ids

    people.person_deactivate(by=admin, membership=membership_of(coach, organisation))
    assert coach.pk not in CoachDirectory([organisation.pk]).coach_ids(organisation.pk)
    assert second_coach.pk in CoachDirectory([organisation.pk]).coach_ids(organisation.pk)
    assert reviewer_organisation_ids(coach) == []


@pytest.mark.django_db(transaction=True)
def test_two_admins_demoting_each_other_at_once_leave_one_admin(organisation, monkeypatch):
    import threading
    import time

    from django.db import connection

    # Each change waits a moment between its check and its commit, so the two overlap.
    audit = people._audit

    def slow_audit(*args, **kwargs):
        time.sleep(0.5)
        audit(*args, **kwargs)

    monkeypatch.setattr(people, "_audit", slow_audit)

    first = factories.member(organisation, "admin", username="first-admin")
    second = factories.member(organisation, "admin", username="second-admin")
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def demote(by, whom):
        try:
            barrier.wait()
            people.person_change(
                by=by,
                membership=membership_of(whom, organisation),
                role="coach",
                coach_id=None,
                cohort_id=None,
            )
            outcomes.append("demoted")
        except (InvalidInput, NotAllowed) as error:
            outcomes.append(type(error).__name__)
        finally:
            connection.close()

    threads = [
        threading.Thread(target=demote, args=(first, second)),
        threading.Thread(target=demote, args=(second, first)),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    # The second is refused: as the last admin (InvalidInput), or, if the first had already
    # committed, as no longer an admin at all (NotAllowed).
    assert sorted(outcomes) in (["InvalidInput", "demoted"], ["NotAllowed", "demoted"])
    assert Membership.objects.filter(organisation=organisation, role="admin").count() == 1
