"""The check settings page (coaching/views/check_settings.py): an admin sees and changes
their organisation's severities, local words, identifiers and pre-election periods; a
rejected form keeps what was typed; no one reaches another organisation's settings."""

import pytest
from django.urls import reverse

from sandbox.models import CheckSeverity, LocalIdentifierPattern, LocalWord
from tests.factories import client_for

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("who", "status"),
    [
        ("anonymous", 302),
        ("trainee", 403),
        ("coach", 403),
        ("outside_coach", 403),
        ("outside_staff_admin", 200),
        ("admin", 200),
    ],
)
def test_who_can_open_the_check_settings(client, request, who, status, organisation):
    response = client_for(request, client, who).get(reverse("check_settings"))
    assert response.status_code == status


def test_the_page_shows_every_check_and_this_organisations_settings(
    client, admin, organisation, other_organisation
):
    LocalWord.objects.create(organisation=organisation, word="numpty")
    LocalWord.objects.create(organisation=other_organisation, word="theirword")
    client.force_login(admin)
    body = client.get(reverse("check_settings")).content.decode()
    assert "Patient identifier" in body and "Phone number" in body
    assert "numpty" in body and "theirword" not in body


def test_saving_severities(client, admin, organisation):
    client.force_login(admin)
    response = client.post(
        reverse("check_settings"),
        {"form": "severities", "phone-number": "off", "postcode": "block"},
        follow=True,
    )
    assert "Saved 2 change(s)" in response.content.decode()
    assert dict(CheckSeverity.objects.values_list("code", "severity")) == {
        "phone-number": "off",
        "postcode": "block",
    }


def test_a_bad_pattern_is_refused_and_kept(client, admin, organisation):
    client.force_login(admin)
    response = client.post(
        reverse("check_settings"),
        {"form": "pattern", "pattern-label": "hospital number", "pattern-pattern": "RX(\\d"},
    )
    assert response.status_code == 422
    body = response.content.decode()
    assert "This is not a valid pattern" in body
    assert 'value="RX(\\d"' in body and 'value="hospital number"' in body
    assert not LocalIdentifierPattern.objects.exists()


def test_a_backwards_period_is_refused(client, admin, organisation):
    client.force_login(admin)
    response = client.post(
        reverse("check_settings"),
        {
            "form": "period",
            "period-name": "Backwards",
            "period-starts_on": "2027-05-07",
            "period-ends_on": "2027-04-01",
        },
    )
    assert response.status_code == 422
    assert 'value="Backwards"' in response.content.decode()


def test_adding_and_removing_a_word(client, admin, organisation):
    client.force_login(admin)
    client.post(reverse("check_settings"), {"form": "word", "word-word": "numpty"})
    word = LocalWord.objects.get(organisation=organisation)
    response = client.post(reverse("check_setting_remove", args=["word", word.pk]), follow=True)
    assert "Removed local word." in response.content.decode()
    assert not LocalWord.objects.exists()


def test_another_organisations_setting_cannot_be_removed(client, admin, other_organisation):
    theirs = LocalWord.objects.create(organisation=other_organisation, word="theirword")
    client.force_login(admin)
    assert client.post(reverse("check_setting_remove", args=["word", theirs.pk])).status_code == 404
    assert client.post(reverse("check_setting_remove", args=["shoe", theirs.pk])).status_code == 404
    assert LocalWord.objects.filter(pk=theirs.pk).exists()


def test_an_unknown_form_is_not_found(client, admin):
    client.force_login(admin)
    assert client.post(reverse("check_settings"), {"form": "nonsense"}).status_code == 404
