"""What every coaching page shares: htmx fragments vary on HX-Request, and query counts
stay flat as the data grows."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from coaching import services as coaching
from tests import builders
from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db


# Query counts stay flat as the data grows ---------------------------------------------------


def count_queries(client, url):
    with CaptureQueriesContext(connection) as captured:
        assert client.get(url).status_code == 200
    return len(captured)


def make_posts(trainee, account, coach, n):
    for i in range(n):
        draft = builders.submitted(trainee, account, f"Post {i}")
        if i % 3 == 0:
            coaching.review_approve(draft=draft, by=coach)


@pytest.mark.parametrize("page", ["timeline", "queue"])
def test_page_queries_do_not_grow_with_the_number_of_posts(client, trainee, coach, account, page):
    user = trainee if page == "timeline" else coach
    client.login(username=user.username, password=PASSWORD)
    make_posts(trainee, account, coach, 2)
    few = count_queries(client, reverse(page))
    make_posts(trainee, account, coach, 30)
    assert count_queries(client, reverse(page)) == few


@pytest.mark.parametrize(
    "name", ["timeline", "queue", "publishing", "notifications", "people", "inbox"]
)
def test_every_page_that_serves_a_fragment_varies_on_htmx(client, coach, admin, name):
    # Otherwise the Back button can show a cached fragment, bare, in place of the page.
    client.force_login(admin if name == "people" else coach)
    response = client.get(reverse(name))
    assert "HX-Request" in response["Vary"]
