"""Who single sign-on lets in, and who must use it (coaching/services/single_sign_on.py),
with the allauth adapters that apply the rule to every way of signing in."""

import pytest
from django.contrib.auth.models import User
from django.contrib.sessions.backends.cache import SessionStore
from django.test import RequestFactory
from django.urls import reverse

from coaching.models import AuditEvent
from coaching.services import single_sign_on as rules
from coaching.single_sign_on import AccountAdapter
from sandbox.models import Membership, SingleSignOn
from tests import factories
from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db


@pytest.fixture
def sign_on(organisation):
    return SingleSignOn.objects.create(
        organisation=organisation,
        enabled=True,
        provider_name="NHSmail",
        issuer="https://login.example.test/tenant/v2.0",
        client_id="client",
        client_secret="secret",
        email_domains=["nhs.net"],
    )


def identity(email, verified=True):
    return rules.Identity(email=email, email_verified=verified)


# Matching ------------------------------------------------------------------------------------


def test_a_member_is_matched_by_verified_email_in_any_case(sign_on, organisation):
    member = factories.member(organisation, "trainee", username="tara", email="Tara@nhs.net")
    assert rules.match_member(sign_on=sign_on, identity=identity("tara@NHS.NET")) == member


@pytest.mark.parametrize(
    ("setup", "email", "verified", "message"),
    [
        ("member", "tara@nhs.net", False, "did not confirm"),
        ("member", "", True, "did not confirm"),
        ("member_elsewhere", "tara@nhs.net", True, "There is no Sandpit account"),
        ("inactive_member", "tara@nhs.net", True, "There is no Sandpit account"),
        ("deactivated_membership", "tara@nhs.net", True, "There is no Sandpit account"),
        ("two_members", "tara@nhs.net", True, "There is no Sandpit account"),
        ("member", "tara@nhs.net.evil.example", True, "is not an address"),
        ("nobody", "tara@nhs.net", True, "There is no Sandpit account"),
    ],
)
def test_anyone_else_is_refused_and_no_one_is_created(
    sign_on, organisation, other_organisation, setup, email, verified, message
):
    if setup in {"member", "two_members"}:
        factories.member(organisation, "trainee", username="tara", email="tara@nhs.net")
    if setup == "two_members":
        factories.member(organisation, "coach", username="tara2", email="TARA@nhs.net")
    if setup == "inactive_member":
        factories.member(
            organisation, "trainee", username="tara", email="tara@nhs.net", is_active=False
        )
    if setup == "deactivated_membership":
        # Still active in another organisation, but has left this one.
        tara = factories.member(other_organisation, "coach", username="tara", email="tara@nhs.net")
        Membership.objects.create(
            user=tara, organisation=organisation, role="trainee", is_active=False
        )
    if setup == "member_elsewhere":
        factories.member(other_organisation, "admin", username="tara", email="tara@nhs.net")
    users_before = set(User.objects.values_list("pk", flat=True))

    with pytest.raises(rules.SignOnRefused) as refusal:
        rules.match_member(sign_on=sign_on, identity=identity(email, verified))

    assert message in refusal.value.message
    assert set(User.objects.values_list("pk", flat=True)) == (users_before)


@pytest.mark.parametrize(
    ("userinfo", "id_token", "verified"),
    [
        ({"email": "a@nhs.net", "email_verified": True}, {}, True),
        ({"email": "a@nhs.net", "email_verified": "true"}, {}, True),
        ({"email": "a@nhs.net", "email_verified": False}, {"xms_edov": True}, False),
        ({"email": "a@nhs.net"}, {"xms_edov": True}, True),
        ({"email": "a@nhs.net"}, {"xms_edov": "1"}, False),
        ({"email": "a@nhs.net"}, {}, False),
        ({}, {"email": "a@nhs.net", "email_verified": True}, True),
    ],
)
def test_what_counts_as_a_verified_email(userinfo, id_token, verified):
    found = rules.Identity.from_claims(userinfo, id_token)
    assert (found.email, found.email_verified) == ("a@nhs.net", verified)


# "The only way in" -----------------------------------------------------------------------------


def password_sign_in(client, username):
    return client.post(reverse("account_login"), {"login": username, "password": PASSWORD})


def test_a_member_of_an_sso_only_organisation_cannot_use_their_password(client, sign_on, trainee):
    SingleSignOn.objects.update(required=True)
    response = password_sign_in(client, trainee.username)

    assert response.status_code == 200
    assert "Test Health Board signs in with NHSmail only" in response.content.decode()
    assert "_auth_user_id" not in client.session
    event = AuditEvent.objects.get(action=AuditEvent.Action.SSO_PASSWORD_REFUSED)
    assert event.actor == trainee


def test_a_wrong_password_does_not_reveal_the_rule(client, sign_on, trainee):
    SingleSignOn.objects.update(required=True)
    response = client.post(
        reverse("account_login"), {"login": trainee.username, "password": "wrong"}
    )
    assert "signs in with NHSmail only" not in response.content.decode()
    # The wrong password is logged as one (sign-in's own audit), never as the rule's refusal.
    assert not AuditEvent.objects.filter(action=AuditEvent.Action.SSO_PASSWORD_REFUSED).exists()


@pytest.mark.parametrize(
    ("required", "enabled"), [(False, True), (True, False)], ids=["optional", "turned off"]
)
def test_passwords_work_while_single_sign_on_is_optional_or_off(
    client, sign_on, trainee, required, enabled
):
    SingleSignOn.objects.update(required=required, enabled=enabled)
    assert password_sign_in(client, trainee.username).status_code == 302
    assert client.session["_auth_user_id"] == str(trainee.pk)


def test_someone_in_several_organisations_is_bound_by_any_that_requires_it(
    client, sign_on, other_organisation
):
    person = factories.member(other_organisation, "admin", username="maya")
    Membership.objects.create(user=person, organisation=sign_on.organisation, role="trainee")
    SingleSignOn.objects.update(required=True)

    assert "signs in with NHSmail only" in password_sign_in(client, "maya").content.decode()


def test_a_deactivated_membership_binds_no_one(sign_on, organisation, other_organisation):
    SingleSignOn.objects.update(required=True)
    tara = factories.member(other_organisation, "coach", username="tara", email="tara@nhs.net")
    membership = Membership.objects.create(user=tara, organisation=organisation, role="trainee")
    assert rules.binding_sign_ons(tara) == [sign_on]

    Membership.objects.filter(pk=membership.pk).update(is_active=False)

    assert rules.binding_sign_ons(tara) == []


def test_the_installations_operators_keep_their_password(client, sign_on, superuser):
    Membership.objects.create(user=superuser, organisation=sign_on.organisation, role="admin")
    SingleSignOn.objects.update(required=True)
    assert password_sign_in(client, superuser.username).status_code == 302


def test_no_other_way_in_gets_past_the_rule(sign_on, trainee):
    # A sign-in that did not come through the provider (a sign-in code, or signing in
    # straight after a password reset) reaches pre_login without a single sign-on record.
    SingleSignOn.objects.update(required=True)
    request = RequestFactory().get("/")
    request.session = SessionStore()

    response = AccountAdapter().pre_login(
        request,
        trainee,
        email_verification="none",
        signal_kwargs=None,
        email=None,
        signup=False,
        redirect_url=None,
    )

    assert response is not None and response.status_code == 403
    assert "signs in with NHSmail only" in response.content.decode()


def test_a_provider_opens_only_accounts_of_its_own_organisation(
    sign_on, organisation, other_organisation, superuser
):
    # One organisation's admin chooses its provider and its domains, so the provider may
    # not link to someone whose account also works for another organisation.
    only_here = factories.member(organisation, "coach", username="olu", email="olu@nhs.net")
    assert rules.link_refusal(sign_on=sign_on, user=only_here) is None

    both = factories.member(other_organisation, "admin", username="bea", email="bea@nhs.net")
    Membership.objects.create(user=both, organisation=organisation, role="trainee")
    refusal = rules.link_refusal(sign_on=sign_on, user=both)
    assert refusal is not None and "another organisation" in refusal.message

    Membership.objects.create(user=superuser, organisation=organisation, role="admin")
    assert rules.link_refusal(sign_on=sign_on, user=superuser) is not None
