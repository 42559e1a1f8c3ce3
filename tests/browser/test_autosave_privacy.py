"""Unsent text kept in the browser belongs to the person who typed it. Ward computers are
shared, and a half-written post can hold a patient's details: the next person to sign in
on the same browser must never be offered it, and it must not outlive sign-out."""

import pytest
from playwright.sync_api import Page, expect

from tests.browser.people import sign_in

pytestmark = [pytest.mark.browser]

PATIENT_DETAIL = "Mr Jones NHS 943 476 5919 is doing well on Ward 4"


def kept(page: Page) -> dict[str, str]:
    """Everything this browser keeps in localStorage for the site."""
    return page.evaluate("() => Object.assign({}, window.localStorage)")


def type_in(page: Page, text: str) -> None:
    """Type into the composer once the page's scripts are in (sandpit.js keeps what is
    typed from then on; typed before, nothing would be kept and the test would prove
    nothing), and wait until it is kept."""
    page.wait_for_load_state("load")
    page.get_by_label("What do you want to post?").fill(text)
    page.wait_for_function(
        "text => Object.values(window.localStorage).some(value => value.includes(text))",
        arg=text,
    )


def holding(page: Page, text: str) -> list[str]:
    """The localStorage keys whose value holds the text."""
    return [key for key, value in kept(page).items() if text in value]


def test_unsent_text_goes_at_sign_out_and_is_never_offered_to_the_next_person(
    page, live_server, trainee, other_trainee, account
):
    sign_in(page, live_server.url, trainee.username)
    type_in(page, PATIENT_DETAIL)
    # It was kept (else the rest proves nothing), under a key that names nobody.
    [key] = holding(page, PATIENT_DETAIL)
    assert trainee.username not in key and f":{trainee.pk}:" not in key
    left_behind = {key: kept(page)[key]}

    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("heading", name="Sign in to Sandpit")).to_be_visible()
    assert holding(page, PATIENT_DETAIL) == []

    sign_in(page, live_server.url, other_trainee.username)
    box = page.get_by_label("What do you want to post?")
    expect(box).to_have_value("")
    expect(page.get_by_text("You have unsent text from earlier")).to_have_count(0)
    assert holding(page, PATIENT_DETAIL) == []

    # Even if the first trainee's text were still here (a tab of theirs left open writes
    # it back, say), it is under their key: the next person is not offered it, and their
    # page removes it.
    page.evaluate("(left) => Object.assign(window.localStorage, left)", left_behind)
    page.reload()
    expect(page.get_by_label("What do you want to post?")).to_have_value("")
    expect(page.get_by_text("You have unsent text from earlier")).to_have_count(0)
    assert holding(page, PATIENT_DETAIL) == []


def test_the_person_who_typed_it_is_still_offered_it_back(page, live_server, trainee, account):
    sign_in(page, live_server.url, trainee.username)
    box = page.get_by_label("What do you want to post?")
    box.fill(PATIENT_DETAIL)
    page.reload()  # no sign-out: the tab closed, or the page was reloaded by mistake

    expect(page.get_by_text("You have unsent text from earlier")).to_be_visible()
    page.get_by_role("button", name="Put my text back").click()
    expect(box).to_have_value(PATIENT_DETAIL)


def test_signing_out_forgets_it_even_if_the_sign_in_page_never_comes(
    page, live_server, trainee, account
):
    # The sign-in page forgets everything too; this proves the sign-out button does it on
    # its own, should the sign-in page not come (here the server answers "204 No Content",
    # so the browser stays on the page).
    sign_in(page, live_server.url, trainee.username)
    type_in(page, PATIENT_DETAIL)
    assert holding(page, PATIENT_DETAIL) != []
    page.route("**/accounts/logout/", lambda route: route.fulfill(status=204))

    with page.expect_request("**/accounts/logout/"):
        page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("button", name="Sign out")).to_be_visible()
    assert holding(page, PATIENT_DETAIL) == []
