"""The Django admin (sandbox/admin.py, sandbox/admin_site.py) for cohorts: an organisation's
admin cannot open them, and an operator's membership inline offers only the organisation's
own cohorts and coaches."""

import pytest

from sandbox.models import Cohort
from tests import factories
from tests.factories import PASSWORD, signed_in

pytestmark = pytest.mark.django_db


# Cohorts in the Django admin --------------------------------------------------------------


def test_an_organisation_admin_cannot_open_the_cohorts_in_the_django_admin(
    client, admin, organisation, other_organisation
):
    # The Django admin is for the installation's operators: even with the cohort
    # permissions, an organisation's admin is sent to its sign-in and sees no cohort.
    from django.contrib.auth.models import Permission

    admin.user_permissions.add(*Permission.objects.filter(codename__endswith="_cohort"))
    Cohort.objects.create(organisation=organisation, name="Our ward")
    Cohort.objects.create(organisation=other_organisation, name="Their ward")
    response = signed_in(client, admin).get("/admin/sandbox/cohort/", follow=True)
    body = response.content.decode()
    assert response.redirect_chain[0][0].startswith("/admin/login/")
    assert "Our ward" not in body and "Their ward" not in body


def test_the_membership_inline_offers_only_this_organisations_cohorts_and_coaches(
    client, organisation, other_organisation, coach, outside_coach
):
    Cohort.objects.create(organisation=organisation, name="Our ward")
    Cohort.objects.create(organisation=other_organisation, name="Their ward")
    factories.UserFactory(username="root", is_staff=True, is_superuser=True)
    client.login(username="root", password=PASSWORD)
    body = client.get(f"/admin/sandbox/organisation/{organisation.pk}/change/").content.decode()
    assert "Our ward" in body and "Their ward" not in body
    assert ">cora<" in body and ">olga<" not in body
