"""The publishing page (coaching/views/publishing.py): a coach stops and resumes an
account's publishing there, and a coach elsewhere cannot."""

import pytest
from django.urls import reverse

from coaching import services as coaching
from coaching.models import PublishingStop
from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db


def test_a_coach_stops_and_resumes_from_the_publishing_page(client, coach, account):
    client.login(username=coach.username, password=PASSWORD)
    client.post(reverse("publishing_stop"), {"account": account.pk, "reason": "Purdah"})
    stop = PublishingStop.objects.get()
    assert stop.account == account and stop.started_by == coach
    client.post(reverse("publishing_resume", args=[stop.pk]))
    stop.refresh_from_db()
    assert stop.ended_by == coach


def test_a_coach_elsewhere_cannot_stop_or_resume_our_account(client, coach, outside_coach, account):
    stop = coaching.publishing_stop(by=coach, organisation_id=account.organisation_id, reason="x")
    client.login(username=outside_coach.username, password=PASSWORD)
    assert (
        client.post(reverse("publishing_stop"), {"account": account.pk, "reason": "y"}).status_code
        == 404
    )
    assert client.post(reverse("publishing_resume", args=[stop.pk])).status_code == 404
