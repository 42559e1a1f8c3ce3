"""Nothing wipes the audit log on PostgreSQL: TRUNCATE, directly or by a cascade from the
tables it points at, meets the trigger of coaching/0007; and the app's database role of
docs/operations.md ("Database roles") may add events but has no privilege to remove or
rewrite them.

Every refusal runs in a savepoint, so the failed statement leaves the test's transaction
usable; the test's transaction itself is rolled back at the end, taking the role, its
grants and any session setting with it."""

import re
import uuid
from pathlib import Path

import pytest
from django.contrib.auth.models import User
from django.db import DatabaseError, connection, transaction

from coaching.models import AuditEvent
from sandbox.models import Organisation, WorkplaceAccount

OPERATIONS = Path(__file__).resolve().parent.parent / "docs" / "operations.md"

pytestmark = pytest.mark.django_db


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
