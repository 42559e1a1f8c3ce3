"""The retention page (coaching/views/retention.py) and the purge page
(coaching/views/purge.py): what an admin and a coach see, a rejected form keeping what was
typed with a clear message, and the dry run as an htmx fragment."""

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from coaching.services.purge import PURGED_TEXT
from sandbox import services
from sandbox.models import Draft, Organisation, TimelineItem
from tests import builders

pytestmark = pytest.mark.django_db

PERIODS = {
    "keep_practice_months": "12",
    "keep_notifications_days": "90",
    "keep_attempt_bodies_months": "12",
    "keep_scenario_runs_months": "12",
    "keep_inbox_months": "12",
}


def test_the_page_shows_the_periods_and_what_the_next_run_removes(
    client, admin, trainee, account, organisation
):
    post = services.practice_post(author=trainee, account=account, text="Old practice")
    TimelineItem.objects.filter(pk=post.pk).update(
        appear_at=timezone.now() - dt.timedelta(days=400)
    )
    client.force_login(admin)
    response = client.get(reverse("retention"))
    body = response.content.decode()
    assert response.status_code == 200
    assert 'value="90"' in body and "What the next run will remove" in body
    assert '<th scope="row" class="nhsuk-table__cell">Practice posts</th>' in body
    assert 'nhsuk-table__cell--numeric">1</td>' in body
    # The fragment: the dry run alone, for "Count again".
    fragment = client.get(reverse("retention"), headers={"HX-Request": "true"}).content.decode()
    assert fragment.lstrip().startswith('<section class="sp-panel" id="dry-run"')
    assert "<h1" not in fragment
    assert "Legal hold" not in body


def test_the_page_says_a_legal_hold_stops_the_nightly_run(client, admin, organisation):
    Organisation.objects.filter(pk=organisation.pk).update(
        records_on_hold=True, records_on_hold_reason="an inquiry"
    )
    client.force_login(admin)
    body = client.get(reverse("retention")).content.decode()
    assert "records are on hold (an inquiry), so the nightly run removes nothing" in body


def test_a_rejected_period_keeps_what_was_typed_with_a_clear_message(client, admin, organisation):
    client.force_login(admin)
    data = {
        **PERIODS,
        "keep_notifications_days": "3",
        "keep_practice_months": "twelve",
        "organisation": organisation.pk,
    }
    response = client.post(reverse("retention"), data)
    body = response.content.decode()
    assert response.status_code == 422
    assert "Enter a number of days from 7 to 3650." in body
    assert "Enter a whole number of months" in body
    assert 'value="twelve"' in body and 'value="3"' in body
    assert Organisation.objects.get(pk=organisation.pk).keep_notifications_days == 90


def test_saving_changes_the_periods(client, admin, organisation):
    client.force_login(admin)
    data = {**PERIODS, "keep_practice_months": "6", "organisation": organisation.pk}
    response = client.post(reverse("retention"), data, follow=True)
    assert "Retention saved." in response.content.decode()
    assert Organisation.objects.get(pk=organisation.pk).keep_practice_months == 6


def test_the_purge_page_lists_the_revisions_and_asks_why(client, coach, risky):
    client.force_login(coach)
    body = client.get(reverse("draft_purge", args=[risky.pk])).content.decode()
    assert "Patient identifier" in body and "Purge 1 revision" in body
    response = client.post(reverse("draft_purge", args=[risky.pk]), {"reason": " "})
    assert response.status_code == 422
    assert "Say why these revisions are being purged" in response.content.decode()
    assert risky.revisions.get().text != PURGED_TEXT


def test_purging_from_the_page(client, coach, risky):
    client.force_login(coach)
    response = client.post(
        reverse("draft_purge", args=[risky.pk]), {"reason": "Named a patient"}, follow=True
    )
    assert response.redirect_chain[-1][0] == reverse("review", args=[risky.pk])
    assert "Purged 1 revision(s)." in response.content.decode()
    assert risky.revisions.get().text == PURGED_TEXT
    assert Draft.objects.get(pk=risky.pk).status == Draft.Status.WITHDRAWN
    # The page now says there is nothing left, and who purged what, when and why.
    body = client.get(reverse("draft_purge", args=[risky.pk])).content.decode()
    assert "There is nothing to purge" in body and "Named a patient" in body


def test_the_review_page_links_to_the_purge(client, coach, trainee, account):
    submitted = builders.submitted(trainee, account)
    client.force_login(coach)
    body = client.get(reverse("review", args=[submitted.pk])).content.decode()
    assert reverse("draft_purge", args=[submitted.pk]) in body


def test_a_refused_purge_says_why_and_keeps_the_reason(client, coach, trainee, account):
    from coaching import services as coaching

    draft = builders.draft(trainee, account, "Mrs Brown, NHS no 999 200 2972, went home")
    coaching.check_override(draft=draft, by=coach, reason="A published case study")
    coaching.draft_submit(draft=draft, by=trainee)
    coaching.review_approve(draft=draft, by=coach)
    client.force_login(coach)
    response = client.post(reverse("draft_purge", args=[draft.pk]), {"reason": "Named her"})
    body = response.content.decode()
    assert response.status_code == 422
    assert "Retract it or cancel it first" in body
    assert "Named her</textarea>" in body
