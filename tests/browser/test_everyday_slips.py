"""In Chromium, the small things people tripped over (issue 17): the sign-in page's grey
meets the footer, the queue never breaks a handle or a wait inside a word, and a post
with one image shows one box to describe it."""

import pytest
from playwright.sync_api import expect

from tests import builders
from tests.browser.test_accessibility import signed_in
from tests.browser.test_images import phone_photo

pytestmark = pytest.mark.browser


@pytest.fixture(autouse=True)
def private_media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.mark.django_db(transaction=True)
def test_the_sign_in_pages_grey_runs_on_into_the_footer(new_page, live_server):
    page = new_page(viewport={"width": 1280, "height": 2000})
    page.goto(f"{live_server.url}/accounts/login/")
    below, footer, footer_bottom, window = page.evaluate(
        """() => {
            const footer = document.querySelector("footer");
            return [getComputedStyle(document.documentElement).backgroundColor,
                    getComputedStyle(footer).backgroundColor,
                    footer.getBoundingClientRect().bottom, innerHeight];
        }"""
    )
    assert footer_bottom < window  # a short page: the window shows what is below it
    assert footer == below  # and that is the footer's own grey, with no band between


@pytest.mark.django_db(transaction=True)
def test_the_queue_keeps_a_handle_and_a_wait_on_one_line_on_a_phone(
    new_page, live_server, trainee, coach, account
):
    account.handle = "NHSDemoBoard"
    account.save()
    builders.submitted(trainee, account, "https://example.org/" + "a-very-long-link-" * 8)
    page = signed_in(new_page, live_server, coach)
    for width in (375, 1280):
        page.set_viewport_size({"width": width, "height": 900})
        page.goto(f"{live_server.url}/queue/")
        row = page.locator("tbody tr").first
        for cell in (row.get_by_text("@NHSDemoBoard"), row.locator("[data-queue-waiting] time")):
            expect(cell).to_be_visible()
            lines = cell.evaluate(
                "el => { const r = document.createRange(); r.selectNodeContents(el);"
                " return r.getClientRects().length; }"
            )
            assert lines == 1, f"{cell} wraps at {width} px"


@pytest.mark.django_db(transaction=True)
def test_one_image_has_one_box_to_describe_it(new_page, live_server, trainee, account):
    page = signed_in(new_page, live_server, trainee)
    page.goto(f"{live_server.url}/timeline/")
    alt_boxes = page.locator("textarea[data-alt-text]:visible")
    expect(alt_boxes).to_have_count(0)  # no image, nothing to describe
    page.get_by_label("What do you want to post?").fill("Our new ward")
    page.get_by_label("Add an image").set_input_files(
        {"name": "ward.jpg", "mimeType": "image/jpeg", "buffer": phone_photo()}
    )
    expect(alt_boxes).to_have_count(1)
    page.get_by_label("Describe the new image (alt text)").fill("The ward's front desk")
    page.get_by_role("button", name="Preview it as it will appear on X").click()
    # Attached: its own box, and no second one for an image not yet chosen.
    expect(page.get_by_label("Describe image 1 (alt text)")).to_have_value("The ward's front desk")
    expect(alt_boxes).to_have_count(1)
