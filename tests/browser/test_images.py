"""In Chromium: a trainee composes a thread of two posts with an image and its alt text,
previews it as it will appear on the account, saves it, and sees the image, described,
in the preview and in their timeline. axe checks the pages with images on them."""

import io

import pytest
from PIL import Image
from playwright.sync_api import Page, expect

from tests.browser.test_accessibility import signed_in, violations
from tests.sandbox.test_media import revealing_exif

pytestmark = pytest.mark.browser

ALT = "Two nurses at the front desk of the new children's ward"


@pytest.fixture(autouse=True)
def private_media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


def phone_photo() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (320, 240), "teal").save(out, "JPEG", exif=revealing_exif())
    return out.getvalue()


def image_loaded(page: Page, selector: str) -> bool:
    """The image really arrived from the server (lazy images load once scrolled to)."""
    image = page.locator(selector).first
    image.scroll_into_view_if_needed()
    return image.evaluate(
        """img => img.complete && img.naturalWidth ? true : new Promise(done => {
            img.addEventListener("load", () => done(img.naturalWidth > 0));
            img.addEventListener("error", () => done(false));
        })"""
    )


@pytest.mark.django_db(transaction=True)
def test_compose_a_thread_with_an_image_and_alt_text(new_page, live_server, trainee, account):
    page = signed_in(new_page, live_server, trainee)
    page.goto(f"{live_server.url}/timeline/")
    page.get_by_label("What do you want to post?").fill("Our new children's ward opens today")
    page.get_by_role("button", name="Add another post to make a thread").click()
    page.get_by_label("Post 2 of the thread").fill("Visiting is 10am to 8pm #NHS")

    post_one = page.get_by_role("group", name="Images for post 1 (up to 4)")
    post_one.get_by_label("Add an image").set_input_files(
        {"name": "IMG_0042.jpg", "mimeType": "image/jpeg", "buffer": phone_photo()}
    )
    alt_box = post_one.get_by_label("Describe the new image (alt text)")
    alt_box.fill(ALT)
    expect(post_one.locator("[data-alt-count-for]")).to_have_text(f"{len(ALT)} of 1,000 characters")

    # The preview: the account's name and handle, the thread joined up, the image described.
    page.get_by_role("button", name="Preview it as it will appear on X").click()
    preview = page.get_by_role("region", name=f"Preview: how it will look on @{account.handle}")
    expect(preview).to_be_visible()
    expect(
        preview.get_by_role("list", name="Thread of 2 posts as it will appear on X")
    ).to_be_visible()
    expect(preview.get_by_text(account.display_name).first).to_be_visible()
    expect(preview.get_by_role("img", name=ALT)).to_be_visible()
    assert image_loaded(page, ".sp-preview img")
    # The image stays attached, its description in its own box, the thread text kept.
    expect(page.get_by_label("Describe image 1 (alt text)")).to_have_value(ALT)
    expect(page.get_by_label("Post 2 of the thread")).to_have_value("Visiting is 10am to 8pm #NHS")

    # The live risk hints hear about the alt text too: an image without one is flagged.
    described = page.get_by_label("Describe image 1 (alt text)")
    described.fill("")
    described.blur()
    hints = page.locator("#findings-id_text")
    expect(hints).to_contain_text("no description (alt text)")
    described.fill(ALT)
    described.blur()
    expect(hints).not_to_contain_text("no description (alt text)")

    page.get_by_role("button", name="Save as draft").click()
    expect(page.get_by_text("Saved to your timeline.")).to_be_visible()
    draft_preview = page.get_by_role(
        "region", name=f"Preview: how it will look on @{account.handle}"
    )
    expect(draft_preview.get_by_role("img", name=ALT)).to_be_visible()
    expect(draft_preview.get_by_text("35 of 280 characters · 1 image")).to_be_visible()
    assert image_loaded(page, ".sp-preview img")
    draft_url = page.url

    page.goto(f"{live_server.url}/timeline/")
    card = page.locator("article.sp-post").filter(has_text="Our new children's ward")
    expect(card.get_by_role("img", name=ALT)).to_be_visible()
    assert image_loaded(page, "article.sp-post img")

    # The pages with images and previews on them pass axe too.
    assert violations(page) == []
    page.goto(draft_url)
    assert violations(page) == []


@pytest.mark.django_db(transaction=True)
def test_a_fake_image_gets_a_clear_message_in_the_browser(new_page, live_server, trainee, account):
    page = signed_in(new_page, live_server, trainee)
    page.goto(f"{live_server.url}/timeline/")
    page.get_by_label("What do you want to post?").fill("Our leaflet")
    page.get_by_label("Add an image").set_input_files(
        {"name": "leaflet.png", "mimeType": "image/png", "buffer": b"%PDF-1.7\n%%EOF\n"}
    )
    page.get_by_label("Describe the new image (alt text)").fill("The leaflet's cover")
    page.get_by_role("button", name="Save as draft").click()
    summary = page.get_by_role("alert")
    expect(summary).to_contain_text("PDF")
    expect(page.get_by_label("What do you want to post?")).to_have_value("Our leaflet")
    expect(page.get_by_label("Describe the new image (alt text)")).to_have_value(
        "The leaflet's cover"
    )
