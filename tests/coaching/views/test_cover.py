"""The cover pages (coaching/views/cover.py): a coach marks themselves away; admins name
coaches for unassigned trainees; with who may open them. (The availability service itself
is tested in tests/sandbox/test_services.py.)"""

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from sandbox.models import Cohort, Membership
from tests import factories
from tests.factories import client_for

pytestmark = pytest.mark.django_db

TODAY = timezone.localdate()
NEXT_WEEK = TODAY + dt.timedelta(days=7)


def membership(user, organisation):
    return Membership.objects.get(user=user, organisation=organisation)


@pytest.fixture
def other_admin(other_organisation):
    return factories.member(other_organisation, "admin", username="oscar")


# Availability: the page -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("who", "status"),
    [("anonymous", 302), ("trainee", 403), ("coach", 200), ("admin", 200), ("outside_coach", 200)],
)
def test_who_can_open_my_availability(client, request, who, status, organisation):
    response = client_for(request, client, who).get(reverse("availability"))
    assert response.status_code == status


def test_the_cover_choices_are_my_organisations_coaches_but_not_me(
    client, coach, second_coach, outside_coach, admin
):
    client.force_login(coach)
    body = client.get(reverse("availability")).content.decode()
    assert f'<option value="{second_coach.pk}">Colin</option>' in body
    assert f'<option value="{admin.pk}">' in body
    assert f'value="{coach.pk}"' not in body and "Olga" not in body


def test_another_organisations_coach_cannot_set_it_for_ours(client, outside_coach, organisation):
    client.force_login(outside_coach)
    url = f"{reverse('availability')}?organisation={organisation.pk}"
    assert client.get(url).status_code == 404
    data = {"organisation": organisation.pk, "away_from": TODAY.isoformat()}
    assert client.post(reverse("availability"), data).status_code == 404


def test_setting_availability_on_the_page_and_coming_back(
    client, coach, second_coach, organisation
):
    client.force_login(coach)
    data = {
        "organisation": organisation.pk,
        "away_from": TODAY.isoformat(),
        "away_until": NEXT_WEEK.isoformat(),
        "cover_coach": second_coach.pk,
    }
    response = client.post(reverse("availability"), data, follow=True)
    assert "your trainees&#x27; posts go to your cover coach" in response.content.decode()
    assert membership(coach, organisation).cover_coach == second_coach
    assert "Colin covers for you." in response.content.decode()
    client.post(reverse("availability"), {"organisation": organisation.pk, "back": "1"})
    assert membership(coach, organisation).away_from is None


def test_bad_dates_on_the_page_keep_what_was_typed(client, coach, organisation):
    client.force_login(coach)
    data = {"organisation": organisation.pk, "away_from": "2026-13-45", "away_until": "soon"}
    response = client.post(reverse("availability"), data)
    body = response.content.decode()
    assert response.status_code == 422
    assert "Enter the first day away as a date" in body and 'value="2026-13-45"' in body
    later = {
        "organisation": organisation.pk,
        "away_from": NEXT_WEEK.isoformat(),
        "away_until": TODAY.isoformat(),
    }
    response = client.post(reverse("availability"), later)
    assert response.status_code == 422
    assert "same as or after the first day away" in response.content.decode()


def test_availability_refuses_other_methods(client, coach):
    client.force_login(coach)
    assert client.put(reverse("availability")).status_code == 405


# Unassigned trainees ----------------------------------------------------------------------------


def test_unassigned_lists_trainees_without_a_coach_or_whose_coach_left(
    client, admin, trainee, other_trainee, coach, second_coach, organisation, other_admin
):
    newcomer = factories.member(organisation, "trainee", username="una")
    Membership.objects.filter(user=trainee, organisation=organisation).update(coach=coach)
    Membership.objects.filter(user=other_trainee, organisation=organisation).update(
        coach=second_coach
    )
    Membership.objects.filter(user=second_coach, organisation=organisation).delete()  # left
    client.force_login(admin)
    body = client.get(reverse("unassigned_trainees")).content.decode()
    assert "Otto" in body and "Was coached by Colin" in body
    assert f"{newcomer.first_name}\n" in body
    assert "Tara" not in body
    # An admin of another organisation sees none of ours.
    client.force_login(other_admin)
    theirs = client.get(reverse("unassigned_trainees")).content.decode()
    assert "Every trainee has a coach." in theirs
    assert "Otto" not in theirs and "Una\n" not in theirs


@pytest.mark.parametrize(
    ("who", "status"),
    [("anonymous", 302), ("trainee", 403), ("coach", 403), ("outside_coach", 403), ("admin", 200)],
)
def test_who_can_open_unassigned_trainees(client, request, who, status, organisation):
    response = client_for(request, client, who).get(reverse("unassigned_trainees"))
    assert response.status_code == status


def test_an_admin_assigns_a_coach_and_a_cohort(client, admin, trainee, coach, organisation):
    cohort = Cohort.objects.create(organisation=organisation, name="Ward 7")
    client.force_login(admin)
    url = reverse("trainee_assign", args=[membership(trainee, organisation).pk])
    response = client.post(url, {"coach": coach.pk, "cohort": cohort.pk}, follow=True)
    assert "Tara&#x27;s posts now go to Cora." in response.content.decode()
    assigned = membership(trainee, organisation)
    assert (assigned.coach, assigned.cohort) == (coach, cohort)
    assert "Tara" not in client.get(reverse("unassigned_trainees")).content.decode()


@pytest.mark.parametrize(
    ("who", "status"),
    [
        ("anonymous", 302),
        ("trainee", 403),
        ("coach", 403),
        ("outside_coach", 403),
        ("other_admin", 404),
        ("admin", 302),
    ],
)
def test_who_can_assign(client, request, who, status, trainee, coach, organisation):
    url = reverse("trainee_assign", args=[membership(trainee, organisation).pk])
    response = client_for(request, client, who).post(url, {"coach": coach.pk})
    assert response.status_code == status
    assigned = membership(trainee, organisation).coach
    assert assigned == (coach if who == "admin" else None)


def test_assigning_refuses_get(client, admin, trainee, organisation):
    client.force_login(admin)
    url = reverse("trainee_assign", args=[membership(trainee, organisation).pk])
    assert client.get(url).status_code == 405


@pytest.mark.parametrize(
    ("coach_of", "cohort_of", "words"),
    [
        (None, None, "Choose a coach."),
        ("outside_coach", None, "Choose a coach of Test Health Board for Tara."),
        ("trainee", None, "Choose a coach of Test Health Board for Tara."),
        ("coach", "other_organisation", "Choose one of Test Health Board&#x27;s cohorts."),
    ],
)
def test_a_bad_assignment_gets_a_clear_message(
    client, request, admin, trainee, coach, organisation, coach_of, cohort_of, words
):
    data = {}
    if coach_of:
        data["coach"] = request.getfixturevalue(coach_of).pk
    if cohort_of:
        elsewhere = request.getfixturevalue(cohort_of)
        data["cohort"] = Cohort.objects.create(organisation=elsewhere, name="Theirs").pk
    client.force_login(admin)
    url = reverse("trainee_assign", args=[membership(trainee, organisation).pk])
    response = client.post(url, data, follow=True)
    assert words in response.content.decode()
    assert membership(trainee, organisation).coach is None


def test_unassigned_queries_do_not_grow_with_the_trainees(
    client, django_assert_num_queries, admin, organisation
):
    Cohort.objects.create(organisation=organisation, name="Ward 7")
    client.force_login(admin)

    def count() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert client.get(reverse("unassigned_trainees")).status_code == 200
        return len(captured)

    for n in range(2):
        factories.member(organisation, "trainee", username=f"few{n}")
    few = count()
    for n in range(25):
        factories.member(organisation, "trainee", username=f"many{n}")
    with django_assert_num_queries(few):
        client.get(reverse("unassigned_trainees"))
