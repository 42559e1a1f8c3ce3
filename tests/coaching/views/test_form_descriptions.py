"""Hints and error messages are tied to their fields with aria-describedby (WCAG 1.3.1,
3.3.1), on the availability, scenarios, queue-filter and audit-log forms: a screen reader
reads them when the field gets focus, not only when someone happens to read past them."""

import datetime as dt
from html.parser import HTMLParser

import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db


class _Descriptions(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.ids: set[str] = set()
        self.described: dict[str, str] = {}  # the describing id -> the element it describes
        self.messages: list[tuple[str, str | None]] = []  # class, id of hints and errors

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        if found.get("id"):
            self.ids.add(str(found["id"]))
        for describing in (found.get("aria-describedby") or "").split():
            self.described[describing] = str(found.get("id") or tag)
        classes = (found.get("class") or "").split()
        for kind in ("nhsuk-hint", "nhsuk-error-message"):
            if kind in classes:
                self.messages.append((kind, found.get("id")))


def descriptions(body: str) -> _Descriptions:
    parsed = _Descriptions()
    parsed.feed(body)
    # Every hint and error describes something, and everything referred to is there.
    unlinked = [(kind, id_) for kind, id_ in parsed.messages if id_ not in parsed.described]
    assert unlinked == []
    assert set(parsed.described) <= parsed.ids
    return parsed


def test_the_availability_hints_and_errors_describe_their_fields(client, coach, organisation):
    client.force_login(coach)
    page = descriptions(client.get(reverse("availability")).content.decode())
    assert page.described["id_away_until_helptext"] == "id_away_until"
    assert page.described["id_cover_coach_helptext"] == "id_cover_coach"
    data = {"organisation": organisation.pk, "away_from": "2026-13-45", "away_until": "soon"}
    response = client.post(reverse("availability"), data)
    assert response.status_code == 422
    page = descriptions(response.content.decode())
    assert page.described["id_away_from_error"] == "id_away_from"
    assert page.described["id_away_until_error"] == "id_away_until"
    assert page.described["id_away_until_helptext"] == "id_away_until"


def test_a_refusal_from_the_service_describes_its_field(client, coach, organisation):
    client.force_login(coach)
    yesterday = dt.date.today() - dt.timedelta(days=30)
    data = {"organisation": organisation.pk, "away_from": yesterday, "away_until": yesterday}
    response = client.post(reverse("availability"), data)
    assert response.status_code == 422
    page = descriptions(response.content.decode())
    assert any(id_.endswith("_error") for id_ in page.described)


def test_the_scenario_hint_and_errors_describe_their_fields(client, coach):
    client.force_login(coach)
    page = descriptions(client.get(reverse("scenarios")).content.decode())
    assert page.described["id_script_helptext"] == "id_script"
    body = client.post(reverse("scenarios"), {"title": "", "script": ""}).content.decode()
    page = descriptions(body)
    assert page.described["id_title_error"] == "id_title"
    assert page.described["id_script_error"] == "id_script"
    assert page.described["id_script_helptext"] == "id_script"


def test_the_queue_filter_errors_describe_their_fields(client, coach):
    client.force_login(coach)
    params = {"trainee": "x" * 101, "age": "forever", "scope": "nobody"}  # too long a search
    body = client.get(reverse("queue"), params).content.decode()
    page = descriptions(body)
    assert page.described["id_trainee_error"] == "id_trainee"
    assert page.described["id_age_error"] == "id_age"
    assert page.described["id_scope_error"] == "fieldset"
    # The error summary's links land on a real field, the first radio for the scope.
    assert 'href="#id_scope"' in body and 'id="id_scope"' in body
    assert 'href="#id_trainee"' in body


def test_the_audit_log_filter_errors_describe_their_fields(client, admin):
    client.force_login(admin)
    params = {"date_from": "2026-12-01", "date_to": "2026-11-01", "draft": "0"}
    page = descriptions(client.get(reverse("audit_log"), params).content.decode())
    assert page.described["id_date_to_error"] == "id_date_to"
    assert page.described["id_draft_error"] == "id_draft"
