"""An organisation's tuning of the risk checks (severities, local words, local identifier
patterns, pre-election periods), changed by its admins and audited.

Each rule about a value (a pattern must compile, a period must end after it starts) lives
on its model in sandbox.models and is applied with ``full_clean``, as the Django admin
applies it: one place for each rule.
"""

from __future__ import annotations

from collections.abc import Mapping

from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db import models, transaction

from coaching.models import AuditEvent
from coaching.services.lifecycle import _audit
from sandbox import access
from sandbox.checks import CHECKS
from sandbox.errors import InvalidInput, InvalidState
from sandbox.models import CheckSeverity, LocalIdentifierPattern, LocalWord, PreElectionPeriod

# The settings kept as a list an admin adds to and removes from, by the name pages use.
LISTS: dict[str, type[models.Model]] = {
    "word": LocalWord,
    "pattern": LocalIdentifierPattern,
    "period": PreElectionPeriod,
}
WHAT = {"word": "local word", "pattern": "local identifier", "period": "pre-election period"}


def _audit_change(by: User, organisation_id: int, detail: str) -> None:
    _audit(
        AuditEvent.Action.CHECK_SETTINGS_CHANGED,
        organisation_id=organisation_id,
        actor=by,
        detail=detail,
    )


def check_severities_set(
    *, by: User, organisation_id: int, severities: Mapping[str, str]
) -> list[str]:
    """Each check's severity for the organisation ("" keeps the check's default). Returns
    the checks whose setting changed."""
    access.require_admin(by, organisation_id)
    titles = {check.code: check.title for check in CHECKS}
    allowed = set(CheckSeverity.Level.values)
    for code, severity in severities.items():
        if code not in titles:
            raise InvalidInput("That check does not exist. Reload the page and try again.")
        if severity and severity not in allowed:
            raise InvalidInput(f"Choose a severity for '{titles[code]}' from the list.")
    changed = []
    with transaction.atomic():
        current = dict(
            CheckSeverity.objects.select_for_update()
            .filter(organisation_id=organisation_id)
            .values_list("code", "severity")
        )
        for code, severity in severities.items():
            before = current.get(code, "")
            if severity == before:
                continue
            if severity:
                CheckSeverity.objects.update_or_create(
                    organisation_id=organisation_id, code=code, defaults={"severity": severity}
                )
            else:
                CheckSeverity.objects.filter(organisation_id=organisation_id, code=code).delete()
            changed.append(f"'{titles[code]}': {before or 'default'} → {severity or 'default'}")
        if changed:
            _audit_change(by, organisation_id, "Severities: " + "; ".join(changed))
    return changed


def check_setting_add(
    *, by: User, organisation_id: int, kind: str, values: Mapping[str, object]
) -> models.Model:
    """Add a local word, identifier pattern or pre-election period, validated by its
    model (the same rules the Django admin applies)."""
    access.require_admin(by, organisation_id)
    model = LISTS[kind]
    item = model(organisation_id=organisation_id, **values)
    try:
        item.full_clean()
    except ValidationError as exc:
        # Every field's problem at once, each beside its field.
        raise InvalidInput.together(
            [
                InvalidInput(" ".join(errors), field=None if field == "__all__" else field)
                for field, errors in exc.message_dict.items()
            ]
        ) from exc
    with transaction.atomic():
        item.save()
        _audit_change(by, organisation_id, f"Added {WHAT[kind]}: {_describe(item)}")
    return item


def check_setting_remove(*, by: User, item: models.Model) -> None:
    organisation_id = item.organisation_id  # type: ignore[attr-defined]
    access.require_admin(by, organisation_id)
    kind = next(name for name, model in LISTS.items() if isinstance(item, model))
    with transaction.atomic():
        deleted, _ = type(item).objects.filter(pk=item.pk).delete()  # type: ignore[attr-defined]
        if not deleted:
            raise InvalidState(f"That {WHAT[kind]} was already removed.")
        _audit_change(by, organisation_id, f"Removed {WHAT[kind]}: {_describe(item)}")


def _describe(item: models.Model) -> str:
    if isinstance(item, LocalIdentifierPattern):
        return f"{item.label} ({item.pattern})"
    if isinstance(item, PreElectionPeriod):
        return f"{item.name}, {item.starts_on:%-d %b %Y} to {item.ends_on:%-d %b %Y}"
    return str(item)
