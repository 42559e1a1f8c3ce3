"""The single sign-on settings page (an organisation's admins) and finding one's
organisation's sign-in button by work email."""

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from coaching.models import AuditEvent
from sandbox import crypto
from sandbox.models import SingleSignOn
from tests import factories
from tests.factories import signed_in

pytestmark = pytest.mark.django_db

ISSUER = "http://127.0.0.1:8443/tenant/v2.0"
FORM = {
    "enabled": "on",
    "provider_name": "NHSmail",
    "issuer": ISSUER,
    "client_id": "00000000-aaaa-bbbb-cccc-000000000000",
    "client_secret": "a-very-secret-value~123",
    "email_domains": "NHS.net\n@board.nhs.uk, nhs.net",
}


def save(client, **changes):
    return client.post(reverse("single_sign_on"), {**FORM, **changes})


def test_an_admin_saves_the_settings_with_the_secret_encrypted(client, admin, organisation):
    response = save(signed_in(client, admin))

    assert response.status_code == 302
    sign_on = SingleSignOn.objects.get(organisation=organisation)
    assert sign_on.email_domains == ["board.nhs.uk", "nhs.net"]
    assert (sign_on.enabled, sign_on.required, sign_on.issuer) == (True, False, ISSUER)
    assert sign_on.client_secret == FORM["client_secret"]
    with connection.cursor() as cursor:
        cursor.execute("SELECT client_secret FROM sandbox_singlesignon WHERE id = %s", [sign_on.pk])
        (stored,) = cursor.fetchone()
    assert FORM["client_secret"] not in stored
    assert crypto.decrypt(stored) == FORM["client_secret"]
    event = AuditEvent.objects.get(action=AuditEvent.Action.SSO_SETTINGS_CHANGED)
    assert event.actor == admin and "board.nhs.uk, nhs.net" in event.detail
    assert FORM["client_secret"] not in event.detail


def test_an_operator_saves_an_organisations_settings(client, superuser, organisation):
    client.force_login(superuser)
    response = client.post(f"{reverse('single_sign_on')}?organisation={organisation.pk}", FORM)
    assert response.status_code == 302
    assert SingleSignOn.objects.get(organisation=organisation).client_id == FORM["client_id"]
    assert AuditEvent.objects.get().actor == superuser


def test_the_page_never_shows_the_secret_and_an_empty_one_keeps_it(client, admin, organisation):
    client = signed_in(client, admin)
    save(client)
    page = client.get(reverse("single_sign_on")).content.decode()
    assert FORM["client_secret"] not in page
    assert "A client secret is saved" in page
    # The redirect URI to register with the provider names the organisation.
    assert f"/accounts/oidc/{organisation.slug}/login/callback/" in page

    assert save(client, client_secret="", required="on").status_code == 302
    sign_on = SingleSignOn.objects.get(organisation=organisation)
    assert sign_on.client_secret == FORM["client_secret"] and sign_on.required


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"issuer": "login.microsoftonline.com"}, "Enter the issuer&#x27;s full address"),
        ({"email_domains": "nhs net"}, "is not an email domain"),
        ({"email_domains": " "}, "Enter at least one email domain"),
        ({"client_secret": ""}, "Enter the client secret"),
        ({"enabled": "", "required": "on"}, "Turn single sign-on on before making it"),
    ],
)
def test_bad_settings_are_refused_and_what_was_typed_is_kept(
    client, admin, organisation, changes, message
):
    response = save(signed_in(client, admin), **changes)

    assert response.status_code == 422
    page = response.content.decode()
    assert message in page
    assert FORM["client_id"] in page and "NHSmail" in page
    assert FORM["client_secret"] not in page
    assert not SingleSignOn.objects.exists()
    assert not AuditEvent.objects.exists()


@pytest.mark.parametrize(
    "issuer",
    ["http://127.0.0.1/v2.0", "http://169.254.169.254/latest", "http://10.0.0.8/", "http://[::1]/"],
)
def test_an_issuer_off_the_public_internet_is_refused(client, admin, settings, issuer):
    settings.ALLOW_LOCAL_PLATFORM_ADDRESSES = False
    response = save(signed_in(client, admin), issuer=issuer)
    assert response.status_code == 422
    assert "only to identity providers on the public internet" in response.content.decode()
    assert not SingleSignOn.objects.exists()


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


def test_a_work_email_finds_the_organisations_button(client, sign_on):
    response = client.get(reverse("sign_on_choose"), {"email": "Someone@NHS.net"})

    assert response.status_code == 200
    page = response.content.decode()
    assert "Sign in with NHSmail for Test Health Board" in page
    assert f'action="/accounts/oidc/{sign_on.organisation.slug}/login/"' in page
    # Its form leads, through Sandpit's redirect, to the provider: the policy allows it.
    assert "form-action 'self' https://login.example.test;" in response["Content-Security-Policy"]


@pytest.mark.parametrize(
    ("email", "message"),
    [
        ("someone@elsewhere.org", "No organisation signs in to Sandpit with an account at"),
        ("not an email", "Enter an email address like name@nhs.net."),
        ("", "Enter your work email address."),
    ],
)
def test_an_email_without_a_provider_is_told_so(client, sign_on, email, message):
    response = client.get(reverse("sign_on_choose"), {"email": email})
    assert response.status_code == 422
    assert message in response.content.decode()
    assert "Sign in with NHSmail" not in response.content.decode()
    assert "form-action 'self';" in response["Content-Security-Policy"]


def test_a_turned_off_provider_is_not_offered(client, sign_on):
    SingleSignOn.objects.update(enabled=False)
    assert client.get(reverse("sign_on_choose"), {"email": "a@nhs.net"}).status_code == 422
    page = client.get(reverse("account_login"), {"organisation": sign_on.organisation.slug})
    assert "Sign in with NHSmail" not in page.content.decode()


def test_the_sign_in_page_offers_the_organisations_button(client, sign_on):
    response = client.get(reverse("account_login"), {"organisation": sign_on.organisation.slug})
    assert "Sign in with NHSmail" in response.content.decode()
    assert "https://login.example.test" in response["Content-Security-Policy"]


def test_queries_stay_flat_as_organisations_using_single_sign_on_grow(client, admin, sign_on):
    def more_organisations(n):
        for _ in range(n):
            other = factories.OrganisationFactory()
            factories.member(other, "admin", username=f"admin-of-{other.slug}")
            SingleSignOn.objects.create(
                organisation=other,
                enabled=True,
                issuer="https://login.example.test/other/v2.0",
                client_id="c",
                client_secret="s",
                email_domains=["nhs.net"],
            )

    anonymous, admins = Client(), signed_in(client, admin)

    def count(who, url):
        with CaptureQueriesContext(connection) as captured:
            assert who.get(url).status_code == 200
        return len(captured)

    pages = [
        (admins, reverse("single_sign_on")),
        (anonymous, f"{reverse('sign_on_choose')}?email=a@nhs.net"),
        (anonymous, f"{reverse('account_login')}?organisation={sign_on.organisation.slug}"),
    ]
    more_organisations(1)
    for who, url in pages:
        who.get(url)  # a visitor's first page makes their session (it holds the CSRF secret)
    few = [count(who, url) for who, url in pages]
    more_organisations(20)
    assert [count(who, url) for who, url in pages] == few
