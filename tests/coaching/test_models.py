"""The audit log (coaching/models.py, and the triggers of coaching/migrations 0005 and 0007)
cannot be changed or deleted, by the ORM or by the database itself. Nothing wipes it on
PostgreSQL: TRUNCATE, directly or by a cascade from the tables it points at, meets the
trigger of 0007; and the app's database role of docs/operations.md ("Database roles") may
add events but has no privilege to remove or rewrite them.

Every refusal runs in a savepoint, so the failed statement leaves the test's transaction
usable; the test's transaction itself is rolled back at the end, taking the role, its
grants and any session setting with it."""

import re
import uuid
from pathlib import Path

import pytest
from django.contrib.auth.models import User
from django.db import DatabaseError, connection, transaction

from coaching.models import AuditEvent, AuditLogIsAppendOnly
from sandbox.models import Organisation, WorkplaceAccount
from tests.factories import AccountFactory

OPERATIONS = Path(__file__).resolve().parents[2] / "docs" / "operations.md"

pytestmark = pytest.mark.django_db


# TRUNCATE, and the app's database role ----------------------------------------------------


@pytest.fixture
def event(account, admin):
    event = AuditEvent.objects.create(
        organisation=account.organisation,
        actor=admin,
        action=AuditEvent.Action.PUBLISHING_STOPPED,
        account=account,
        detail="Stopped for the test.",
    )
    with connection.cursor() as cursor:
        # Django's foreign keys are checked at commit; TRUNCATE refuses a table with checks
        # still pending ("pending trigger events"), so run them now.
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
    return event


def truncate_opt_in(cursor, value: str) -> None:
    """The session setting the trigger honours (tests/settings.py turns it on for the test
    runner), set for this test's transaction only."""
    cursor.execute("SELECT set_config('sandpit.allow_audit_log_truncate', %s, true)", [value])


class RollBack(Exception):
    pass


def test_truncating_the_audit_log_is_refused(event):
    with connection.cursor() as cursor:
        truncate_opt_in(cursor, "off")
        with pytest.raises(DatabaseError, match="audit log is append-only"), transaction.atomic():
            cursor.execute("TRUNCATE coaching_auditevent")
    assert AuditEvent.objects.filter(pk=event.pk).exists()


@pytest.mark.parametrize("parent", [Organisation, WorkplaceAccount, User])
def test_a_cascade_from_a_table_it_points_at_is_refused(event, parent):
    with connection.cursor() as cursor:
        truncate_opt_in(cursor, "off")
        with pytest.raises(DatabaseError, match="audit log is append-only"), transaction.atomic():
            cursor.execute(f"TRUNCATE {parent._meta.db_table} CASCADE")
    assert AuditEvent.objects.filter(pk=event.pk).exists()
    assert parent.objects.exists()


def test_with_the_opt_in_the_cascade_does_reach_the_audit_log(event):
    """The other side of the tests above: the cascade really empties the audit log, and the
    opt-in the test runner relies on lets it."""
    with connection.cursor() as cursor, pytest.raises(RollBack), transaction.atomic():
        truncate_opt_in(cursor, "on")
        cursor.execute(f"TRUNCATE {Organisation._meta.db_table} CASCADE")
        assert not AuditEvent.objects.exists()
        raise RollBack
    assert AuditEvent.objects.filter(pk=event.pk).exists()


def documented_grants(role: str) -> str:
    """The SQL block of docs/operations.md that grants the app its rows, for this role."""
    blocks = re.findall(r"```sql\n(.*?)```", OPERATIONS.read_text(), re.S)
    (grants,) = [block for block in blocks if "ALTER DEFAULT PRIVILEGES" in block]
    assert "sandpit_app" in grants
    return grants.replace("sandpit_app", role)


def test_the_documented_app_role_may_append_to_the_audit_log_but_never_wipe_or_rewrite_it(
    event, organisation
):
    # Unique, so parallel test runs (one cluster, many databases) never share a role.
    role = f"sandpit_app_test_{uuid.uuid4().hex[:12]}"
    with connection.cursor() as cursor:
        cursor.execute(f"CREATE ROLE {role} NOLOGIN")
        cursor.execute(documented_grants(role))
        # The trigger would let TRUNCATE through: what refuses it below is the privilege.
        truncate_opt_in(cursor, "on")
        cursor.execute(f"SET ROLE {role}")
        try:
            added = AuditEvent.objects.create(
                organisation=organisation, action=AuditEvent.Action.PUBLISHING_RESUMED
            )
            assert AuditEvent.objects.filter(pk=added.pk).exists()
            for statement in (
                "TRUNCATE coaching_auditevent",
                "DELETE FROM coaching_auditevent",
                "UPDATE coaching_auditevent SET detail = 'rewritten'",
                "UPDATE coaching_auditevent SET action = 'review_approved'",
            ):
                refused = pytest.raises(DatabaseError, match="permission denied for table")
                with refused, transaction.atomic():
                    cursor.execute(statement)
            # The one change it may make: deleting an account clears the event's link to
            # it (SET_NULL), and the event stays.
            event.account.delete()
        finally:
            cursor.execute("RESET ROLE")
    event.refresh_from_db()
    assert event.account_id is None
    assert event.detail == "Stopped for the test."
    assert AuditEvent.objects.count() == 2


# Changing or deleting an event, through the ORM and in the database ---------------------


def audit(organisation, action, **fields):
    return AuditEvent.objects.create(organisation=organisation, action=action, **fields)


def test_audit_events_cannot_be_changed_or_deleted(organisation):
    event = audit(organisation, AuditEvent.Action.PUBLISHING_STOPPED, detail="Stopped")
    event.detail = "Nothing happened"
    with pytest.raises(AuditLogIsAppendOnly):
        event.save()
    with pytest.raises(AuditLogIsAppendOnly):
        event.delete()
    with pytest.raises(AuditLogIsAppendOnly):
        AuditEvent.objects.filter(pk=event.pk).update(detail="Nothing happened")
    with pytest.raises(AuditLogIsAppendOnly):
        AuditEvent.objects.all().delete()
    assert AuditEvent.objects.get(pk=event.pk).detail == "Stopped"
    # Last: bulk_update fails inside its own atomic block, which spoils the transaction.
    with pytest.raises(AuditLogIsAppendOnly):
        AuditEvent.objects.bulk_update([event], ["detail"])


def test_the_database_itself_refuses_to_change_or_delete_an_audit_event(organisation, coach):
    from django.db import DatabaseError, connection, transaction

    event = audit(organisation, AuditEvent.Action.PUBLISHING_STOPPED, actor=coach, detail="Stopped")
    for sql in (
        "UPDATE coaching_auditevent SET detail = 'Nothing happened' WHERE id = %s",
        "UPDATE coaching_auditevent SET actor_id = NULL WHERE id = %s",
        "DELETE FROM coaching_auditevent WHERE id = %s",
    ):
        with (
            pytest.raises(DatabaseError, match="append-only"),
            transaction.atomic(),
            connection.cursor() as cursor,
        ):
            cursor.execute(sql, [event.pk])
    assert AuditEvent.objects.get(pk=event.pk).detail == "Stopped"


def test_an_organisation_with_a_history_cannot_be_deleted(organisation):
    from django.db import DatabaseError, transaction

    audit(organisation, AuditEvent.Action.PUBLISHING_STOPPED, detail="Stopped")
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        organisation.delete()
    assert AuditEvent.objects.filter(organisation=organisation).exists()


def test_removing_an_account_keeps_its_audit_events(organisation):
    account = AccountFactory(organisation=organisation, handle="GoneSoon", access_token="")
    event = audit(organisation, AuditEvent.Action.ACCOUNT_CONNECTED, account=account)
    account.delete()
    assert AuditEvent.objects.get(pk=event.pk).account_id is None
