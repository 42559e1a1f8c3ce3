"""The people pages (coaching/views/people.py): the list with its search, filters and
pages, one person's page (role, coach, cohort), deactivation; with who may open them.
(The rules themselves are in tests/coaching/services/test_people.py.)"""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from coaching.services import people as people_services
from sandbox.models import Cohort, Membership
from tests import factories
from tests.factories import PASSWORD, client_for

pytestmark = pytest.mark.django_db


def membership_of(user, organisation):
    return Membership.objects.get(user=user, organisation=organisation)


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
def test_who_can_open_the_people_list(client, request, who, status, organisation):
    response = client_for(request, client, who).get(reverse("people"))
    assert response.status_code == status


def test_the_list_shows_only_the_admins_organisation(
    client, admin, trainee, outside_coach, organisation
):
    body = client_for_admin(client, admin).get(reverse("people")).content.decode()
    assert "Tara" in body and "Test Health Board" in body
    assert outside_coach.first_name not in body


def client_for_admin(client, admin):
    client.force_login(admin)
    return client


def test_another_organisation_cannot_be_asked_for(client, admin, other_organisation):
    response = client_for_admin(client, admin).get(
        reverse("people"), {"organisation": other_organisation.pk}
    )
    assert response.status_code == 404


@pytest.fixture
def crowd(organisation, coach):
    ward = Cohort.objects.create(organisation=organisation, name="Ward 5")
    people = []
    for n in range(12):
        user = factories.member(
            organisation,
            "trainee",
            username=f"person{n}",
            first_name=f"Person{n}",
            email=f"person{n}@example.org",
        )
        Membership.objects.filter(user=user).update(
            cohort=ward if n % 2 else None, coach=coach if n % 3 == 0 else None
        )
        people.append(user)
    return ward, people


def names_in(response) -> set[str]:
    body = response.content.decode()
    return {f"Person{n}" for n in range(12) if f">Person{n}<" in body}


def test_search_finds_by_name_or_email(client, admin, crowd):
    client = client_for_admin(client, admin)
    assert names_in(client.get(reverse("people"), {"q": "person1"})) == {
        "Person1",
        "Person10",
        "Person11",
    }
    assert names_in(client.get(reverse("people"), {"q": "person7@example"})) == {"Person7"}


def test_filters_by_cohort_coach_role_and_status(client, admin, coach, crowd, organisation):
    ward, people = crowd
    client = client_for_admin(client, admin)
    odd = {f"Person{n}" for n in range(1, 12, 2)}
    assert names_in(client.get(reverse("people"), {"cohort": ward.pk})) == odd
    coached = {f"Person{n}" for n in range(0, 12, 3)}
    assert names_in(client.get(reverse("people"), {"coach": coach.pk})) == coached
    assert names_in(client.get(reverse("people"), {"role": "coach"})) == set()
    people_services.person_deactivate(by=admin, membership=membership_of(people[4], organisation))
    assert names_in(client.get(reverse("people"), {"status": "deactivated"})) == {"Person4"}
    assert "Person4" not in names_in(client.get(reverse("people"), {"status": "active"}))


def test_a_bad_filter_is_reported_and_ignored(client, admin, crowd):
    response = client_for_admin(client, admin).get(reverse("people"), {"cohort": "999999"})
    assert response.status_code == 200
    assert "There is a problem with the filters" in response.content.decode()
    assert len(names_in(response)) == 12


def test_the_htmx_search_gets_only_the_rows(client, admin, crowd):
    response = client_for_admin(client, admin).get(
        reverse("people"), {"q": "person3"}, headers={"HX-Request": "true"}
    )
    body = response.content.decode()
    assert body.lstrip().startswith('<div id="people-rows"')
    assert "<html" not in body and names_in(response) == {"Person3"}


def test_the_lists_queries_do_not_grow_with_the_number_of_people(
    client, admin, organisation, coach
):
    client = client_for_admin(client, admin)
    ward = Cohort.objects.create(organisation=organisation, name="Ward 5")

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert client.get(reverse("people")).status_code == 200
        return len(captured)

    for n in range(3):
        user = factories.member(organisation, "trainee", username=f"few{n}")
        Membership.objects.filter(user=user).update(cohort=ward, coach=coach)
    few = queries()
    for n in range(40):
        user = factories.member(organisation, "trainee", username=f"many{n}")
        Membership.objects.filter(user=user).update(cohort=ward, coach=coach)
        people_services.person_invite(
            by=admin, organisation_id=organisation.pk, email=f"invited{n}@example.org"
        )
    assert queries() == few


def test_the_list_is_paginated(client, admin, organisation):
    for n in range(55):
        factories.member(organisation, "trainee", username=f"p{n:02d}")
    client = client_for_admin(client, admin)
    body = client.get(reverse("people")).content.decode()
    assert "Page 1 of 2" in body
    assert "Page 2 of 2" in client.get(reverse("people"), {"page": 2}).content.decode()


# One person ---------------------------------------------------------------------------------


def test_a_person_of_another_organisation_is_not_found(
    client, admin, outside_coach, other_organisation
):
    theirs = membership_of(outside_coach, other_organisation)
    assert (
        client_for_admin(client, admin).get(reverse("person", args=[theirs.pk])).status_code == 404
    )


def test_changing_role_coach_and_cohort(client, admin, trainee, coach, organisation):
    ward = Cohort.objects.create(organisation=organisation, name="Ward 5")
    mine = membership_of(trainee, organisation)
    response = client_for_admin(client, admin).post(
        reverse("person", args=[mine.pk]),
        {"role": "trainee", "coach": coach.pk, "cohort": ward.pk},
        follow=True,
    )
    assert "Saved." in response.content.decode()
    mine.refresh_from_db()
    assert (mine.coach, mine.cohort) == (coach, ward)


def test_the_last_admin_is_told_plainly_and_the_form_keeps_the_choice(client, admin, organisation):
    mine = membership_of(admin, organisation)
    response = client_for_admin(client, admin).post(
        reverse("person", args=[mine.pk]), {"role": "coach", "coach": "", "cohort": ""}
    )
    assert response.status_code == 422
    body = response.content.decode()
    assert "is the only admin of Test Health Board" in body
    assert '<option value="coach" selected>' in body


def test_a_choice_from_another_organisation_is_refused_on_the_field(
    client, admin, trainee, outside_coach, organisation
):
    mine = membership_of(trainee, organisation)
    response = client_for_admin(client, admin).post(
        reverse("person", args=[mine.pk]),
        {"role": "trainee", "coach": outside_coach.pk, "cohort": ""},
    )
    assert response.status_code == 422
    assert "Choose a coach of your organisation from the list." in response.content.decode()


def test_deactivating_signs_the_person_out_and_keeps_them_out(client, admin, coach, organisation):
    from django.test import Client

    theirs = Client()
    factories.signed_in(theirs, coach)
    response = client_for_admin(client, admin).post(
        reverse("person_deactivate", args=[membership_of(coach, organisation).pk]), follow=True
    )
    assert "is deactivated" in response.content.decode()
    # Their session no longer works, and their password no longer signs them in.
    assert theirs.get(reverse("queue")).status_code == 302
    assert not theirs.login(username=coach.username, password=PASSWORD)
    client.post(reverse("person_reactivate", args=[membership_of(coach, organisation).pk]))
    assert theirs.login(username=coach.username, password=PASSWORD)


def test_an_admin_deactivating_themselves_is_told_why_not(client, admin, organisation):
    response = client_for_admin(client, admin).post(
        reverse("person_deactivate", args=[membership_of(admin, organisation).pk]), follow=True
    )
    assert "You cannot deactivate yourself" in response.content.decode()
    assert membership_of(admin, organisation).is_active


def test_adding_a_cohort(client, admin, organisation):
    from coaching.models import AuditEvent

    client = client_for_admin(client, admin)
    response = client.post(reverse("cohort_create"), {"name": "  May   intake "}, follow=True)
    assert "Cohort &#x27;May intake&#x27; created." in response.content.decode()
    assert list(Cohort.objects.values_list("name", flat=True)) == ["May intake"]
    assert AuditEvent.objects.filter(action="cohort_created").count() == 1
    again = client.post(reverse("cohort_create"), {"name": "May intake"}, follow=True)
    assert "There is already a cohort called" in again.content.decode()
    empty = client.post(reverse("cohort_create"), {"name": ""}, follow=True)
    assert "Enter a name for the cohort" in empty.content.decode()
    assert Cohort.objects.count() == 1


def test_a_cohort_cannot_be_added_to_another_organisation(client, admin, other_organisation):
    response = client_for_admin(client, admin).post(
        reverse("cohort_create"), {"name": "Theirs", "organisation": other_organisation.pk}
    )
    assert response.status_code == 404
    assert not Cohort.objects.exists()


def test_a_coach_is_not_offered_as_their_own_coach(
    client, admin, coach, second_coach, organisation
):
    body = (
        client_for_admin(client, admin)
        .get(reverse("person", args=[membership_of(coach, organisation).pk]))
        .content.decode()
    )
    coach_select = body.split('name="coach"', 1)[1].split("</select>", 1)[0]
    assert f'value="{second_coach.pk}"' in coach_select
    assert f'value="{coach.pk}"' not in coach_select


def test_a_persons_page_offers_the_lost_device_reset(client, admin, coach, organisation):
    mine = membership_of(coach, organisation)
    page = client_for_admin(client, admin).get(reverse("person", args=[mine.pk])).content.decode()
    assert reverse("second_factors_reset", args=[mine.pk]) in page
