"""A refused role check is a 403 with its message, and a signed-in person's pages are
kept by no cache."""

import pytest
from django.urls import reverse
from django.utils.html import escape

from sandbox.access import REVIEWER_ONLY
from tests.factories import signed_in

pytestmark = pytest.mark.django_db


def test_a_signed_in_persons_pages_are_not_kept_by_any_cache(client, trainee):
    response = signed_in(client, trainee).get(reverse("timeline"))
    assert response.status_code == 200
    assert response["Cache-Control"] == "private, no-store"


def test_a_refused_role_check_is_a_403_with_its_message(client, trainee):
    response = signed_in(client, trainee).get(reverse("queue"))
    assert response.status_code == 403
    assert escape(REVIEWER_ONLY) in response.content.decode()
