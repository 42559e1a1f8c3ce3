"""Erasure's rewrite of the audit log reaches only the erased person's organisations.

0012's ``coaching_auditevent_pseudonymise(terms, reference)`` rewrote every organisation's
events: erasing one board's "John Smith" renamed another board's John Smith in its
append-only log. The function now takes the organisations whose events it may touch
(those of the person, every one administered by the admin erasing them), and the two
argument form is dropped. The app role's EXECUTE grant follows the new signature
(docs/operations.md, "Database roles").
"""

import importlib

from django.db import migrations

# Back: 0012's function as it was.
_0012 = importlib.import_module("coaching.migrations.0012_audit_log_pseudonymise")

FUNCTION = r"""
DROP FUNCTION IF EXISTS coaching_auditevent_pseudonymise(text[], text);

CREATE FUNCTION coaching_auditevent_pseudonymise(
    terms text[], reference text, organisation_ids bigint[]
)
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
            WHERE organisation_id = ANY(organisation_ids) AND detail ~* pattern;
        GET DIAGNOSTICS touched = ROW_COUNT;
        changed := changed + touched;
    END LOOP;
    PERFORM set_config('sandpit.audit_pseudonymise', 'off', true);
    RETURN changed;
END;
$$ LANGUAGE plpgsql SECURITY DEFINER SET search_path FROM CURRENT;

REVOKE ALL ON FUNCTION coaching_auditevent_pseudonymise(text[], text, bigint[]) FROM PUBLIC;
"""

BACK = (
    "DROP FUNCTION IF EXISTS coaching_auditevent_pseudonymise(text[], text, bigint[]);\n"
    + _0012.FUNCTION
)


def _run(sql: str):
    def run(apps, schema_editor):
        if schema_editor.connection.vendor == "postgresql":
            schema_editor.execute(sql)

    return run


class Migration(migrations.Migration):
    dependencies = [("coaching", "0019_lockdown")]

    operations = [migrations.RunPython(_run(FUNCTION), _run(BACK))]
