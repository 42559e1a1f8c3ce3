"""Erasure may replace a person's name, email and username in the audit log with their
pseudonymous reference, and nothing else.

The trigger of 0005 keeps refusing every other change. It now lets ``detail`` change only
inside ``coaching_auditevent_pseudonymise(terms, reference)``, which sets the
transaction-local flag ``sandpit.audit_pseudonymise`` while it runs. The function is
SECURITY DEFINER (it runs as the tables' owner, who may UPDATE the column), so the app's
role needs no UPDATE on ``detail``: it gets EXECUTE on this one function (docs/operations.md,
"Database roles"), which can do only this: put a reference of the form
``former-member-<12 hex digits>`` where a term of at least three characters stood as a
whole word. Who, what, when and which trainee never change; the link to the person stays
(their User row is kept, renamed to the reference).

SQLite, used only by `make run`'s embedded default, has no triggers here: erasure uses the
model's own path there (coaching.services.erasure).
"""

from django.db import migrations

TRIGGER_FUNCTION = "coaching_auditevent_append_only"
PSEUDONYMISE = "coaching_auditevent_pseudonymise"

# 0005's function, with the one exception for detail.
TRIGGER = r"""
CREATE OR REPLACE FUNCTION coaching_auditevent_append_only() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        RAISE EXCEPTION 'The audit log is append-only: its events are never deleted.';
    END IF;
    IF NEW.id <> OLD.id
        OR NEW.organisation_id <> OLD.organisation_id
        OR NEW.actor_id IS DISTINCT FROM OLD.actor_id
        OR NEW.trainee_id IS DISTINCT FROM OLD.trainee_id
        OR NEW.action <> OLD.action
        OR __DETAIL_CHANGED__
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
"""

DETAIL_PSEUDONYMISED_ONLY = (
    "(NEW.detail <> OLD.detail "
    "AND current_setting('sandpit.audit_pseudonymise', true) IS DISTINCT FROM 'on')"
)

FUNCTION = r"""
CREATE FUNCTION coaching_auditevent_pseudonymise(terms text[], reference text)
RETURNS integer AS $$
DECLARE
    term text;
    pattern text;
    changed integer := 0;
    touched integer;
BEGIN
    IF reference !~ '^former-member-[0-9a-f]{12}$' THEN
        RAISE EXCEPTION 'Not a pseudonymous reference.';
    END IF;
    PERFORM set_config('sandpit.audit_pseudonymise', 'on', true);
    FOREACH term IN ARRAY terms LOOP
        CONTINUE WHEN term IS NULL OR length(term) < 3;
        -- The term as literal text, standing as a whole word (not inside a longer name
        -- or address), in any case.
        pattern := '(?<![[:alnum:]_.@+-])'
            || regexp_replace(term, '([][\\.^$*+?(){}|-])', '\\\1', 'g')
            || '(?![[:alnum:]_@+-])';
        UPDATE coaching_auditevent
            SET detail = regexp_replace(detail, pattern, reference, 'gi')
            WHERE detail ~* pattern;
        GET DIAGNOSTICS touched = ROW_COUNT;
        changed := changed + touched;
    END LOOP;
    PERFORM set_config('sandpit.audit_pseudonymise', 'off', true);
    RETURN changed;
END;
$$ LANGUAGE plpgsql SECURITY DEFINER SET search_path FROM CURRENT;

REVOKE ALL ON FUNCTION coaching_auditevent_pseudonymise(text[], text) FROM PUBLIC;
"""

CREATE = TRIGGER.replace("__DETAIL_CHANGED__", DETAIL_PSEUDONYMISED_ONLY) + FUNCTION
DROP = (
    "DROP FUNCTION IF EXISTS coaching_auditevent_pseudonymise(text[], text);\n"
    + TRIGGER.replace("__DETAIL_CHANGED__", "NEW.detail <> OLD.detail")
)


def _run(sql: str):
    def run(apps, schema_editor):
        if schema_editor.connection.vendor == "postgresql":
            schema_editor.execute(sql)

    return run


class Migration(migrations.Migration):
    dependencies = [("coaching", "0011_subject_access_exports")]

    operations = [migrations.RunPython(_run(CREATE), _run(DROP))]
