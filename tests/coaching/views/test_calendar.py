"""An account's calendar (coaching/views/calendar.py): each post on the day it went live,
is planned for, or was approved; week and month views with today marked and the periods
either side; a clear message for a bad date; the same queries however busy the period."""

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from coaching.models import Publication
from coaching.selectors import calendar
from tests import factories
from tests.builders import approved

pytestmark = pytest.mark.django_db

TODAY = timezone.localdate()


def at(day: dt.date, hour: int) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour), tzinfo=timezone.get_current_timezone())


def place(publication: Publication, **moments) -> Publication:
    Publication.objects.filter(pk=publication.pk).update(**moments)
    return publication


def page(client, user, account, **params) -> str:
    client.force_login(user)
    response = client.get(reverse("account_calendar", args=[account.pk]), params)
    assert response.status_code == 200
    return response.content.decode()


def test_each_post_is_on_the_day_it_went_live_is_planned_for_or_was_approved(
    client, trainee, coach, account
):
    monday = calendar.period_start(calendar.WEEK, TODAY)
    live = place(
        approved(trainee, coach, account, "Live on Monday"),
        status=Publication.Status.PUBLISHED,
        published_at=at(monday, 9),
        created_at=at(monday - dt.timedelta(days=3), 9),
    )
    scheduled = place(
        approved(trainee, coach, account, "Planned for Friday"),
        publish_at=at(monday + dt.timedelta(days=4), 14),
        created_at=at(monday, 8),
    )
    queued = place(
        approved(trainee, coach, account, "Approved on Wednesday"),
        created_at=at(monday + dt.timedelta(days=2), 11),
    )
    place(
        approved(trainee, coach, account, "Last week"),
        created_at=at(monday, 0) - dt.timedelta(hours=1),
    )
    body = page(client, coach, account)
    cells = body.split('class="nhsuk-table__cell sp-calendar__day')[1:]
    assert len(cells) == 7
    assert "Live on Monday" in cells[0] and "09:00" in cells[0] and ">Live<" in cells[0]
    assert "Approved on Wednesday" in cells[2] and "Approved, queued" in cells[2]
    assert "Planned for Friday" in cells[4] and "14:00" in cells[4] and ">Scheduled<" in cells[4]
    assert "Last week" not in body
    for publication in (live, scheduled, queued):
        assert reverse("review", args=[publication.draft_id]) in body
    assert f"Week of {monday:%A} {monday.day} {monday:%B %Y}: 3 posts</caption>" in body
    today = cells[TODAY.weekday()]
    assert today.startswith(' sp-calendar__day--today" aria-current="date">')
    assert ">Today</strong>" in today
    assert body.count('aria-current="date"') == 1


def test_the_month_view_is_whole_weeks_with_the_neighbouring_days_set_apart(
    client, trainee, coach, account
):
    body = page(client, coach, account, view="month", date="2026-02-10")
    assert "February 2026: 0 posts</caption>" in body
    # February 2026 starts on a Sunday and ends on a Saturday: five weeks, Monday to Sunday.
    assert body.count('<tr class="nhsuk-table__row">') == 6  # the header and five weeks
    assert body.count("sp-calendar__day--outside") == 6 + 1
    assert '<th scope="col" class="nhsuk-table__header">Monday</th>' in body
    assert 'href="?view=month&amp;date=2026-01-01">Previous month' in body
    assert 'href="?view=month&amp;date=2026-03-01">Next month' in body
    assert '<strong aria-current="page">Month</strong>' in body
    assert "No posts in this month." in body


def test_the_week_view_links_the_weeks_either_side(client, coach, account):
    body = page(client, coach, account, view="week", date="2026-12-09")
    assert 'href="?view=week&amp;date=2026-11-30">Previous week' in body
    assert 'href="?view=week&amp;date=2026-12-14">Next week' in body
    assert '<th scope="col" class="nhsuk-table__header">Monday 7 December</th>' in body


@pytest.mark.parametrize(
    ("date", "message"),
    [
        ("yesterday", "Enter a date like 2026-12-07"),
        ("9999-12-31", "The calendar shows 2000 to 2100."),
        ("2026-02-30", "Enter a date like 2026-12-07"),
        ("\x00", "Enter a date like 2026-12-07"),
    ],
)
def test_a_bad_date_gets_a_clear_message_and_this_week(client, coach, account, date, message):
    body = page(client, coach, account, date=date, view="month")
    assert "There is a problem with the date" in body and message in body
    assert 'aria-current="date"' in body  # this week, with today in it


def test_the_calendar_stops_at_the_ends_of_its_range(client, coach, account):
    assert "Next month" not in page(client, coach, account, view="month", date="2100-12-05")
    assert "Previous week" not in page(client, coach, account, view="week", date="2000-01-04")


def test_the_publishing_page_and_the_accounts_page_link_to_it(client, coach, admin, account):
    link = reverse("account_calendar", args=[account.pk])
    client.force_login(coach)
    assert link in client.get(reverse("publishing")).content.decode()
    client.force_login(admin)
    assert link in client.get(reverse("accounts")).content.decode()


@pytest.mark.parametrize("view", [calendar.WEEK, calendar.MONTH])
def test_the_calendar_costs_the_same_queries_however_busy(
    client, django_assert_num_queries, trainee, coach, account, organisation, view
):
    monday = calendar.period_start(calendar.WEEK, TODAY)

    def fill(n):
        for i in range(n):
            author = factories.member(organisation, "trainee", username=f"cal{view}{i}{n}")
            publication = approved(author, coach, account, f"Post {i} of {n}")
            place(publication, created_at=at(monday + dt.timedelta(days=i % 7), 10))

    fill(2)
    client.force_login(coach)
    url = reverse("account_calendar", args=[account.pk])
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as captured:
        client.get(url, {"view": view})
    fill(15)
    with django_assert_num_queries(len(captured)):
        body = client.get(url, {"view": view}).content.decode()
    assert "Post 14 of 15" in body


def test_only_this_accounts_posts_and_only_get(client, trainee, coach, account, organisation):
    other = factories.AccountFactory(organisation=organisation, handle="OtherBoard")
    approved(trainee, coach, other, "On the other account")
    approved(trainee, coach, account, "On this account")
    body = page(client, coach, account)
    assert "On this account" in body and "On the other account" not in body
    url = reverse("account_calendar", args=[account.pk])
    assert client.post(url).status_code == 405
