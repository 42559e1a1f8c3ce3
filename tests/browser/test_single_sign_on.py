"""Single sign-on end to end: Chromium, Sandpit's live server and a real OpenID Provider
(oidc-provider from npm, tests/oidc) on 127.0.0.1. Each person signs in at the provider's
own pages; Sandpit must let in only the invited member whose verified email it is."""

from collections.abc import Iterator

import pytest
from allauth.socialaccount.models import SocialAccount
from django.contrib.auth.models import User
from playwright.sync_api import Page, expect

from coaching.models import AuditEvent
from sandbox.models import Organisation, SingleSignOn
from tests import factories
from tests.browser.people import sign_in
from tests.browser.test_accessibility import violations
from tests.oidc import OpenIDProvider, running_provider

pytestmark = pytest.mark.browser

SLUG = "sso-board"
PEOPLE = {
    "ada": {"email": "Ada.Lovelace@sso.example", "email_verified": True, "name": "Ada"},
    "una": {"email": "una@sso.example", "email_verified": False, "name": "Una"},
    "oscar": {"email": "oscar@elsewhere.example", "email_verified": True, "name": "Oscar"},
    "ulric": {"email": "ulric@sso.example", "email_verified": True, "name": "Ulric"},
    # As Microsoft Entra ID sends work accounts: no email_verified; with and without its
    # optional claim that the tenant owns the email's domain.
    "eve": {"email": "eve@sso.example", "xms_edov": True, "name": "Eve"},
    "ned": {"email": "ned@sso.example", "name": "Ned"},
}


@pytest.fixture(scope="session")
def provider(live_server) -> Iterator[OpenIDProvider]:
    with running_provider(
        redirect_uris=[f"{live_server.url}/accounts/oidc/{SLUG}/login/callback/"],
        accounts=PEOPLE,
    ) as running:
        yield running


@pytest.fixture
def board(transactional_db, provider) -> Organisation:
    organisation = factories.OrganisationFactory(name="SSO Board", slug=SLUG)
    SingleSignOn.objects.create(
        organisation=organisation,
        enabled=True,
        provider_name="Test NHSmail",
        issuer=provider.issuer,
        client_id=provider.client_id,
        client_secret=provider.client_secret,
        email_domains=["sso.example"],
    )
    return organisation


@pytest.fixture
def ada(board):
    # Invited as a coach: her address in Sandpit differs from the provider's only in case.
    return factories.member(board, "coach", username="ada", email="ada.lovelace@SSO.example")


def sign_in_at_provider(page: Page, base_url: str, login: str) -> None:
    page.goto(f"{base_url}/accounts/login/?organisation={SLUG}")
    page.get_by_role("button", name="Sign in with Test NHSmail").click()
    at_the_provider(page, login)


def at_the_provider(page: Page, login: str) -> None:
    """The provider's own sign-in and consent pages (oidc-provider's devInteractions)."""
    page.wait_for_url("http://127.0.0.1:*/interaction/**")
    page.locator('input[name="login"]').fill(login)
    page.locator('input[name="password"]').fill("anything")
    page.get_by_role("button", name="Sign-in").click()
    page.get_by_role("button", name="Continue").click()


def test_an_invited_member_signs_in_and_lands_on_their_home(new_page, live_server, ada):
    page = new_page()
    sign_in_at_provider(page, live_server.url, "ada")

    expect(page).to_have_url(f"{live_server.url}/queue/")
    expect(page.get_by_role("button", name="Sign out")).to_be_visible()
    account = SocialAccount.objects.get(user=ada)
    assert (account.provider, account.uid) == (SLUG, "ada")
    event = AuditEvent.objects.get(action=AuditEvent.Action.SSO_SIGNED_IN)
    assert (event.actor, event.organisation.slug) == (ada, SLUG)

    # Signing in again uses the link made the first time.
    page.get_by_role("button", name="Sign out").click()
    sign_in_at_provider_again = new_page()
    sign_in_at_provider(sign_in_at_provider_again, live_server.url, "ada")
    expect(sign_in_at_provider_again).to_have_url(f"{live_server.url}/queue/")
    assert SocialAccount.objects.filter(user=ada).count() == 1


@pytest.mark.parametrize(
    ("login", "message"),
    [
        ("una", "did not confirm that una@sso.example is your email address"),
        ("oscar", "oscar@elsewhere.example is not an address SSO Board uses for Sandpit"),
        ("ulric", "There is no Sandpit account for ulric@sso.example at SSO Board"),
        ("ned", "did not confirm that ned@sso.example is your email address"),
    ],
    ids=["unverified email", "other domain", "not invited", "no verification at all"],
)
def test_anyone_else_is_refused_with_what_to_do(new_page, live_server, board, ada, login, message):
    # Una and Ned are members, but their provider has not verified their addresses.
    factories.member(board, "trainee", username="una", email="una@sso.example")
    factories.member(board, "trainee", username="ned", email="ned@sso.example")
    users_before = User.objects.count()
    page = new_page()
    sign_in_at_provider(page, live_server.url, login)

    expect(page.get_by_role("heading", name="You are not signed in")).to_be_visible()
    expect(page.locator(".sp-sso-refusal")).to_contain_text(message)
    expect(page.get_by_role("button", name="Sign out")).to_have_count(0)
    assert not SocialAccount.objects.exists()
    assert User.objects.count() == users_before
    refusal = AuditEvent.objects.get(action=AuditEvent.Action.SSO_REFUSED)
    assert str(PEOPLE[login]["email"]).lower() in refusal.detail.lower()


def test_entra_ids_verified_domain_claim_counts_as_verified(new_page, live_server, board):
    eve = factories.member(board, "trainee", username="eve", email="eve@sso.example")
    page = new_page()
    sign_in_at_provider(page, live_server.url, "eve")
    expect(page).to_have_url(f"{live_server.url}/timeline/")
    assert SocialAccount.objects.get().user == eve


def test_single_sign_on_only_refuses_a_right_password(new_page, live_server, board, ada):
    SingleSignOn.objects.filter(organisation=board).update(required=True)
    page = new_page()
    sign_in(page, live_server.url, "ada")

    expect(page.get_by_role("alert")).to_contain_text("SSO Board signs in with Test NHSmail only")
    expect(page.get_by_label("Username")).to_have_value("ada")
    expect(page.get_by_role("button", name="Sign out")).to_have_count(0)
    assert AuditEvent.objects.filter(
        action=AuditEvent.Action.SSO_PASSWORD_REFUSED, actor=ada
    ).exists()

    # The provider is still the way in.
    sign_in_at_provider(page, live_server.url, "ada")
    expect(page).to_have_url(f"{live_server.url}/queue/")


def test_finding_the_button_by_work_email(new_page, live_server, ada):
    page = new_page()
    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_label("Work email address").fill("someone@elsewhere.example")
    page.get_by_role("button", name="Continue with my organisation's account").click()
    expect(page.get_by_role("alert")).to_contain_text("No organisation signs in to Sandpit")
    expect(page.get_by_label("Work email address")).to_have_value("someone@elsewhere.example")

    page.get_by_label("Work email address").fill("ada.lovelace@sso.example")
    page.get_by_role("button", name="Continue").click()
    page.get_by_role("button", name="Sign in with Test NHSmail for SSO Board").click()
    at_the_provider(page, "ada")
    expect(page).to_have_url(f"{live_server.url}/queue/")


def test_cancelling_at_the_provider_says_so(new_page, live_server, ada):
    page = new_page()
    page.goto(f"{live_server.url}/accounts/login/?organisation={SLUG}")
    page.get_by_role("button", name="Sign in with Test NHSmail").click()
    page.wait_for_url("http://127.0.0.1:*/interaction/**")
    page.get_by_role("link", name="[ Cancel ]").click()

    expect(page.get_by_role("heading", name="You are not signed in")).to_be_visible()
    expect(page.locator(".sp-sso-refusal")).to_contain_text("You cancelled signing in")
    assert not SocialAccount.objects.exists()


@pytest.mark.parametrize("width", [1280, 375], ids=["desktop", "phone"])
def test_the_single_sign_on_pages_have_no_serious_accessibility_problems(
    new_page, live_server, board, width
):
    admin = factories.member(board, "admin", username="adam")
    page = new_page(bypass_csp=True, viewport={"width": width, "height": 800})
    urls = [
        f"/accounts/login/?organisation={SLUG}",
        "/accounts/sso/?email=someone%40sso.example",
        "/accounts/sso/?email=someone%40elsewhere.example",
    ]
    problems = {}
    for url in urls:
        page.goto(f"{live_server.url}{url}")
        problems[url] = violations(page)
    sign_in_at_provider(page, live_server.url, "ulric")  # refused: not invited
    expect(page.get_by_role("heading", name="You are not signed in")).to_be_visible()
    problems["refused"] = violations(page)
    sign_in(page, live_server.url, admin.username)
    page.goto(f"{live_server.url}/single-sign-on/")
    problems["settings"] = violations(page)
    page.get_by_label("Issuer").fill("not an address")
    page.get_by_role("button", name="Save single sign-on settings").click()
    expect(page.get_by_role("alert")).to_contain_text("Enter the issuer's full address")
    expect(page.get_by_label("Client ID")).to_have_value(board.single_sign_on.client_id)
    problems["settings with errors"] = violations(page)
    # Nothing wider than the screen.
    assert page.evaluate("document.documentElement.scrollWidth") <= width

    assert {url: found for url, found in problems.items() if found} == {}
