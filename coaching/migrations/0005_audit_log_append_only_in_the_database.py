"""The audit log is append-only in the database itself, not only through the ORM.

On PostgreSQL a trigger refuses to delete an audit event, and refuses any change to one
except clearing a link to something that was deleted (Django sets those to NULL when an
account, draft, revision or publication goes): who, what, when, which trainee and the
detail never change. So an organisation with a history cannot be deleted either. SQLite,
used only by `make run`'s embedded default, relies on the model's own refusals.
"""

from django.db import migrations

FUNCTION = "coaching_auditevent_append_only"

CREATE = f"""
CREATE FUNCTION {FUNCTION}() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        RAISE EXCEPTION 'The audit log is append-only: its events are never deleted.';
    END IF;
    IF NEW.id <> OLD.id
        OR NEW.organisation_id <> OLD.organisation_id
        OR NEW.actor_id IS DISTINCT FROM OLD.actor_id
        OR NEW.trainee_id IS DISTINCT FROM OLD.trainee_id
        OR NEW.action <> OLD.action
        OR NEW.detail <> OLD.detail
        OR NEW.created_at <> OLD.created_at
        OR (NEW.account_id IS NOT NULL AND NEW.account_id IS DISTINCT FROM OLD.account_id)
        OR (NEW.draft_id IS NOT NULL AND NEW.draft_id IS DISTINCT FROM OLD.draft_id)
        OR (NEW.revision_id IS NOT NULL AND NEW.revision_id IS DISTINCT FROM OLD.revision_id)
        OR (NEW.publication_id IS NOT NULL
            AND NEW.publication_id IS DISTINCT FROM OLD.publication_id)
    THEN
        RAISE EXCEPTION 'The audit log is append-only: its events are never changed.';
    END IF;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER coaching_auditevent_append_only
BEFORE UPDATE OR DELETE ON coaching_auditevent
FOR EACH ROW EXECUTE FUNCTION {FUNCTION}();
"""

DROP = f"""
DROP TRIGGER IF EXISTS coaching_auditevent_append_only ON coaching_auditevent;
DROP FUNCTION IF EXISTS {FUNCTION}();
"""


def _run(sql: str):
    def run(apps, schema_editor):
        if schema_editor.connection.vendor == "postgresql":
            schema_editor.execute(sql)

    return run


class Migration(migrations.Migration):
    dependencies = [("coaching", "0004_past_target_notice_per_wait")]

    operations = [migrations.RunPython(_run(CREATE), _run(DROP))]
