"""The notifications and preferences pages, and the unread count in the header: each
person reaches only their own notices, and the list costs the same queries at any size."""

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from coaching.models import Notification, NotificationPreference
from tests.factories import signed_in

pytestmark = pytest.mark.django_db

Kind = Notification.Kind


def notices(user, count: int, *, url: str = "/timeline/") -> list[Notification]:
    return Notification.objects.bulk_create(
        Notification(user=user, kind=Kind.REVIEWED, message=f"Notice {n}", url=url)
        for n in range(count)
    )


def header_badge(html: str) -> str | None:
    found = re.search(
        r'<span class="sp-badge">(\d+)<span class="nhsuk-u-visually-hidden"> unread', html
    )
    return found.group(1) if found else None


# The header ---------------------------------------------------------------------------------


def test_the_header_shows_the_unread_count_with_words_for_screen_readers(client, trainee):
    notices(trainee, 3)
    Notification.objects.filter(message="Notice 0").update(read_at="2026-01-01T00:00Z")
    html = signed_in(client, trainee).get(reverse("timeline")).content.decode()
    assert header_badge(html) == "2"
    assert f'href="{reverse("notifications")}"' in html


def test_no_badge_when_everything_is_read(client, trainee):
    html = signed_in(client, trainee).get(reverse("timeline")).content.decode()
    assert header_badge(html) is None
    assert ">Notifications</a>" in html


def test_htmx_fragments_do_not_pay_for_the_count(client, coach, organisation):
    notices(coach, 2)
    client = signed_in(client, coach)
    with CaptureQueriesContext(connection) as fragment:
        response = client.get(reverse("queue"), headers={"HX-Request": "true"})
    assert response.status_code == 200
    assert not [q for q in fragment.captured_queries if "coaching_notification" in q["sql"]]
    with CaptureQueriesContext(connection) as page:
        client.get(reverse("queue"))
    counted = [q for q in page.captured_queries if "coaching_notification" in q["sql"]]
    assert len(counted) == 1, "one query for the count on a full page"


# The list -----------------------------------------------------------------------------------


def test_the_list_shows_only_my_notices_newest_first(client, trainee, other_trainee):
    notices(trainee, 2)
    Notification.objects.create(user=other_trainee, kind=Kind.REVIEWED, message="Otto's secret")
    html = signed_in(client, trainee).get(reverse("notifications")).content.decode()
    assert "Otto&#x27;s secret" not in html and "Otto's secret" not in html
    assert html.index("Notice 1") < html.index("Notice 0")
    assert reverse("notification_preferences") in html
    assert "Mark all as read" in html


def test_the_list_is_paginated(client, trainee):
    notices(trainee, 30)
    client = signed_in(client, trainee)
    first = client.get(reverse("notifications")).content.decode()
    assert "Page 1 of 2" in first and "Notice 29" in first and "Notice 4<" not in first
    second = client.get(reverse("notifications") + "?page=2").content.decode()
    assert "Notice 4<" in second and "Notice 5<" not in second
    # A page number that is not one shows the nearest page rather than an error.
    assert client.get(reverse("notifications") + "?page=zebra").status_code == 200
    assert "Page 2 of 2" in client.get(reverse("notifications") + "?page=99").content.decode()


def test_the_list_costs_the_same_queries_with_more_notices(client, trainee):
    client = signed_in(client, trainee)
    notices(trainee, 3)
    with CaptureQueriesContext(connection) as few:
        assert client.get(reverse("notifications")).status_code == 200
    notices(trainee, 60)
    with CaptureQueriesContext(connection) as many:
        assert client.get(reverse("notifications")).status_code == 200
    assert len(few) == len(many)


def test_an_empty_list_says_so(client, coach, organisation):
    html = signed_in(client, coach).get(reverse("notifications")).content.decode()
    assert "Nothing yet." in html and "Mark all as read" not in html


# Opening and marking read ----------------------------------------------------------------------


def test_opening_a_notice_marks_it_read_and_goes_to_the_post(client, trainee):
    notice = notices(trainee, 1, url="/drafts/7/")[0]
    response = signed_in(client, trainee).post(reverse("notification_open", args=[notice.pk]))
    assert response.status_code == 302 and response["Location"] == "/drafts/7/"
    notice.refresh_from_db()
    assert notice.read_at is not None


def test_a_notice_pointing_off_site_goes_to_the_list_instead(client, trainee):
    notice = notices(trainee, 1, url="https://evil.example/phish")[0]
    response = signed_in(client, trainee).post(reverse("notification_open", args=[notice.pk]))
    assert response["Location"] == reverse("notifications")


@pytest.mark.parametrize("who", ["other_trainee", "coach", "outside_coach"])
def test_nobody_opens_someone_elses_notice(request, client, trainee, who):
    notice = notices(trainee, 1)[0]
    response = signed_in(client, request.getfixturevalue(who)).post(
        reverse("notification_open", args=[notice.pk])
    )
    assert response.status_code == 404
    notice.refresh_from_db()
    assert notice.read_at is None


def test_mark_all_as_read_touches_only_my_notices(client, trainee, other_trainee):
    notices(trainee, 3)
    theirs = notices(other_trainee, 2)
    client = signed_in(client, trainee)
    response = client.post(reverse("notifications_mark_all_read"), follow=True)
    assert "Marked 3 notifications as read." in response.content.decode()
    assert not Notification.objects.filter(user=trainee, read_at__isnull=True).exists()
    assert Notification.objects.filter(pk__in=[n.pk for n in theirs], read_at=None).count() == 2
    assert header_badge(response.content.decode()) is None


@pytest.mark.parametrize(
    ("name", "args"), [("notification_open", [1]), ("notifications_mark_all_read", [])]
)
def test_state_changes_refuse_get(client, trainee, name, args):
    response = signed_in(client, trainee).get(reverse(name, args=args))
    assert response.status_code == 405


@pytest.mark.parametrize(
    ("method", "name", "args"),
    [
        ("get", "notifications", []),
        ("get", "notification_preferences", []),
        ("post", "notification_open", [1]),
        ("post", "notifications_mark_all_read", []),
        ("post", "notification_preferences", []),
    ],
)
def test_anonymous_is_sent_to_sign_in(client, method, name, args):
    response = getattr(client, method)(reverse(name, args=args))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("account_login"))


# Preferences -----------------------------------------------------------------------------------


def test_a_trainee_chooses_review_emails_only(client, trainee):
    client = signed_in(client, trainee)
    html = client.get(reverse("notification_preferences")).content.decode()
    assert 'name="email_reviews"' in html and "checked" in html
    assert 'name="daily_digest"' not in html
    # Unticked checkboxes are simply absent from the form data.
    response = client.post(reverse("notification_preferences"), {})
    assert response.status_code == 302
    saved = NotificationPreference.objects.get(user=trainee)
    assert saved.email_reviews is False
    assert saved.daily_digest is True, "a field the trainee never saw keeps its value"


def test_a_coach_sets_all_four(client, coach, organisation):
    client = signed_in(client, coach)
    html = client.get(reverse("notification_preferences")).content.decode()
    for name in ("email_reviews", "email_submissions", "email_past_target", "daily_digest"):
        assert f'name="{name}"' in html
    assert "<legend" in html
    response = client.post(
        reverse("notification_preferences"),
        {"email_submissions": "on", "email_reviews": "on"},
        follow=True,
    )
    assert "Your email choices are saved." in response.content.decode()
    saved = NotificationPreference.objects.get(user=coach)
    assert (
        saved.email_reviews,
        saved.email_submissions,
        saved.email_past_target,
        saved.daily_digest,
    ) == (True, True, False, False)
    html = response.content.decode()
    assert re.search(r'id="id_email_submissions" name="email_submissions" [^>]*checked', html)
    assert not re.search(r'id="id_daily_digest" name="daily_digest" [^>]*checked', html)


def test_preferences_are_per_person(client, coach, second_coach, organisation):
    NotificationPreference.objects.create(user=second_coach, email_submissions=True)
    signed_in(client, coach).post(reverse("notification_preferences"), {})
    assert NotificationPreference.objects.get(user=second_coach).email_submissions is True
