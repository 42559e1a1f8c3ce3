"""What a person does in the browser, shared by the browser tests."""

from playwright.sync_api import Page

from tests.factories import PASSWORD


def sign_in(page: Page, base_url: str, username: str) -> None:
    page.goto(f"{base_url}/accounts/login/")
    page.get_by_label("Username or email address").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in", exact=True).click()


def score_the_rubric(page: Page, score: int = 3) -> None:
    """A coach scores safe, person-centred and effective, as the review form requires."""
    # By name and value: the first radio of each group has no number in its id.
    for quality in ("safe", "person_centred", "effective"):
        page.locator(f'input[name="{quality}"][value="{score}"]').check()
