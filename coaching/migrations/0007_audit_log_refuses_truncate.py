"""The audit log cannot be emptied with TRUNCATE either.

The row triggers of 0005 refuse UPDATE and DELETE, but TRUNCATE fires no row triggers. A
statement-level BEFORE TRUNCATE trigger closes that gap, and covers `TRUNCATE <a parent>
CASCADE` too: PostgreSQL fires the TRUNCATE triggers of every table a cascade empties.

The one way past it is deliberate: a session that sets `sandpit.allow_audit_log_truncate`
to `on` (the test settings do, because the test runner empties every table between
tests). It adds no power: only the table's owner or a superuser may TRUNCATE at all, and
they can drop the trigger anyway; the app's role has no TRUNCATE privilege (see
docs/operations.md, "Database roles"). What it stops is the accident: a console's
`TRUNCATE ... CASCADE` or `manage.py flush` against the real database.

SQLite, used only by `make run`'s embedded default, has no TRUNCATE.
"""

from django.db import migrations

FUNCTION = "coaching_auditevent_no_truncate"

CREATE = f"""
CREATE FUNCTION {FUNCTION}() RETURNS trigger AS $$
BEGIN
    IF current_setting('sandpit.allow_audit_log_truncate', true) = 'on' THEN
        RETURN NULL;
    END IF;
    RAISE EXCEPTION 'The audit log is append-only: it is never truncated (nor by a cascade).';
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER coaching_auditevent_no_truncate
BEFORE TRUNCATE ON coaching_auditevent
FOR EACH STATEMENT EXECUTE FUNCTION {FUNCTION}();
"""

DROP = f"""
DROP TRIGGER IF EXISTS coaching_auditevent_no_truncate ON coaching_auditevent;
DROP FUNCTION IF EXISTS {FUNCTION}();
"""


def _run(sql: str):
    def run(apps, schema_editor):
        if schema_editor.connection.vendor == "postgresql":
            schema_editor.execute(sql)

    return run


class Migration(migrations.Migration):
    dependencies = [("coaching", "0006_audit_action_sent_again")]

    operations = [migrations.RunPython(_run(CREATE), _run(DROP))]
