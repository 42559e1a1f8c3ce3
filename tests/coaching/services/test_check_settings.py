"""The organisation's check settings (coaching/services/check_settings.py): each change is
audited, only the organisation's admins may make it, and every value is judged by its
model's own rule (the one the Django admin applies)."""

import datetime as dt

import pytest

from coaching.models import AuditEvent
from coaching.services import check_settings
from sandbox.errors import InvalidInput, NotAllowed
from sandbox.models import CheckSeverity, LocalIdentifierPattern, LocalWord, PreElectionPeriod
from sandbox.selectors import check_context

pytestmark = pytest.mark.django_db


def test_severities_change_the_checks_and_are_audited(admin, organisation):
    changed = check_settings.check_severities_set(
        by=admin, organisation_id=organisation.pk, severities={"phone-number": "block"}
    )
    assert changed == ["'Phone number': default → block"]
    assert check_context(organisation.pk).severity_overrides == {"phone-number": "block"}
    # Back to the default removes the organisation's own setting.
    check_settings.check_severities_set(
        by=admin, organisation_id=organisation.pk, severities={"phone-number": ""}
    )
    assert not CheckSeverity.objects.exists()
    details = list(
        AuditEvent.objects.filter(action=AuditEvent.Action.CHECK_SETTINGS_CHANGED)
        .order_by("pk")
        .values_list("detail", flat=True)
    )
    assert details == [
        "Severities: 'Phone number': default → block",
        "Severities: 'Phone number': block → default",
    ]


def test_nothing_changed_is_not_audited(admin, organisation):
    assert (
        check_settings.check_severities_set(
            by=admin, organisation_id=organisation.pk, severities={"phone-number": ""}
        )
        == []
    )
    assert not AuditEvent.objects.exists()


@pytest.mark.parametrize("severities", [{"no-such-check": "block"}, {"phone-number": "explode"}])
def test_unknown_checks_and_severities_are_refused(admin, organisation, severities):
    with pytest.raises(InvalidInput):
        check_settings.check_severities_set(
            by=admin, organisation_id=organisation.pk, severities=severities
        )


def test_a_local_pattern_must_compile_as_the_admin_requires(admin, organisation):
    with pytest.raises(InvalidInput, match="not a valid pattern") as refused:
        check_settings.check_setting_add(
            by=admin,
            organisation_id=organisation.pk,
            kind="pattern",
            values={"label": "hospital number", "pattern": r"\bRX(\d{7}"},
        )
    assert refused.value.field == "pattern"
    item = check_settings.check_setting_add(
        by=admin,
        organisation_id=organisation.pk,
        kind="pattern",
        values={"label": "hospital number", "pattern": r"\bRX\d{7}\b"},
    )
    assert check_context(organisation.pk).local_identifier_patterns == (
        ("hospital number", r"\bRX\d{7}\b"),
    )
    check_settings.check_setting_remove(by=admin, item=item)
    assert not LocalIdentifierPattern.objects.exists()
    assert AuditEvent.objects.filter(detail__startswith="Removed local identifier").exists()


def test_every_field_that_is_wrong_is_reported_at_once(admin, organisation):
    with pytest.raises(InvalidInput) as refused:
        check_settings.check_setting_add(
            by=admin,
            organisation_id=organisation.pk,
            kind="pattern",
            values={"label": "", "pattern": r"\bRX(\d{7}"},
        )
    assert {problem.field for problem in refused.value} == {"label", "pattern"}


def test_a_period_must_end_after_it_starts(admin, organisation):
    with pytest.raises(InvalidInput):
        check_settings.check_setting_add(
            by=admin,
            organisation_id=organisation.pk,
            kind="period",
            values={
                "name": "Backwards",
                "starts_on": dt.date(2027, 5, 7),
                "ends_on": dt.date(2027, 4, 1),
            },
        )
    assert not PreElectionPeriod.objects.exists()


def test_only_the_organisations_admins_may_change_them(
    coach, outside_staff_admin, organisation, admin
):
    word = check_settings.check_setting_add(
        by=admin, organisation_id=organisation.pk, kind="word", values={"word": "numpty"}
    )
    for who in (coach, outside_staff_admin):
        with pytest.raises(NotAllowed):
            check_settings.check_setting_add(
                by=who, organisation_id=organisation.pk, kind="word", values={"word": "x"}
            )
        with pytest.raises(NotAllowed):
            check_settings.check_setting_remove(by=who, item=word)
        with pytest.raises(NotAllowed):
            check_settings.check_severities_set(
                by=who, organisation_id=organisation.pk, severities={"phone-number": "off"}
            )
    assert list(LocalWord.objects.values_list("word", flat=True)) == ["numpty"]
