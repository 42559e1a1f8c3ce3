"""Images through the pages: a multipart composer that works without JavaScript, clear
messages that lose nothing, private serving, and the preview."""

import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from coaching import services as coaching
from sandbox import services
from sandbox.models import Draft, PostImage
from tests.factories import signed_in
from tests.sandbox.test_media import photo, png_declaring

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("private_media")]


@pytest.fixture
def as_trainee(client, trainee):
    return signed_in(client, trainee)


def compose(client: Client, account, **fields: object):
    return client.post(
        reverse("timeline"), {"text": "Our new ward", "account": account.pk, **fields}
    )


def test_a_post_with_an_image_and_alt_text_saves_in_one_go(as_trainee, account):
    response = compose(as_trainee, account, **{"upload-0": photo(), "upload-alt-0": "The desk"})
    draft = Draft.objects.get()
    assert response.status_code == 302
    image = PostImage.objects.get()
    assert image.draft == draft
    assert draft.current_revision.images == [[{"id": image.pk, "alt": "The desk"}]]
    timeline = as_trainee.get(reverse("timeline")).content.decode()
    url = reverse("post_image", args=[image.pk])
    assert f'src="{url}" alt="The desk"' in timeline


def test_attach_shows_the_image_with_its_alt_box_and_saves_nothing(as_trainee, account):
    response = compose(as_trainee, account, attach="0", **{"upload-0": photo()})
    assert response.status_code == 200
    assert not Draft.objects.exists()
    image = PostImage.objects.get()
    page = response.content.decode()
    assert f'name="image-0" value="{image.pk}"' in page
    assert f'name="alt-0-{image.pk}"' in page
    assert "Our new ward" in page
    # Saving without describing it: a clear message beside the box, text and image kept.
    response = compose(as_trainee, account, **{"image-0": image.pk, f"alt-0-{image.pk}": ""})
    assert response.status_code == 422
    page = response.content.decode()
    assert "Describe this image (alt text)" in page
    assert f'href="#alt-0-{image.pk}"' in page  # in the error summary
    assert "Our new ward" in page and f'value="{image.pk}"' in page
    assert not Draft.objects.exists()
    compose(as_trainee, account, **{"image-0": image.pk, f"alt-0-{image.pk}": "The desk"})
    assert Draft.objects.get().current_revision.images == [[{"id": image.pk, "alt": "The desk"}]]


@pytest.mark.parametrize(
    ("upload", "message"),
    [
        (SimpleUploadedFile("scan.png", b"%PDF-1.7\n%%EOF\n"), "PDF"),
        (SimpleUploadedFile("bomb.png", png_declaring(50_000, 50_000)), "too large to open safely"),
    ],
)
def test_a_bad_file_gets_a_clear_message_and_loses_nothing(
    as_trainee, trainee, account, upload, message
):
    kept = services.post_image_add(by=trainee, draft=None, upload=photo())
    response = compose(
        as_trainee,
        account,
        **{
            "thread-1": "Second post",
            "image-0": kept.pk,
            f"alt-0-{kept.pk}": "The desk",
            "upload-0": upload,
            "upload-alt-0": "What I typed",
        },
    )
    assert response.status_code == 422
    page = response.content.decode()
    assert message in page
    assert 'href="#upload-0"' in page
    assert "Our new ward" in page and "Second post" in page and "What I typed" in page
    assert f'name="image-0" value="{kept.pk}"' in page and "The desk" in page
    assert not Draft.objects.exists()
    assert PostImage.objects.count() == 1


def test_a_fifth_image_is_refused_beside_the_field(as_trainee, trainee, account):
    images = [services.post_image_add(by=trainee, draft=None, upload=photo()) for _ in range(4)]
    fields: dict[str, object] = {"image-0": [i.pk for i in images]}
    fields.update({f"alt-0-{i.pk}": "A" for i in images})
    response = compose(as_trainee, account, **fields, **{"upload-0": photo()})
    assert response.status_code == 422
    assert "already has 4 images" in response.content.decode()
    assert PostImage.objects.count() == 4


def test_removing_an_image_and_a_post_keeps_the_rest_in_place(as_trainee, trainee, account):
    one, two = (services.post_image_add(by=trainee, draft=None, upload=photo()) for _ in range(2))
    fields = {
        "thread-1": "Second",
        "thread-2": "Third",
        "image-1": one.pk,
        f"alt-1-{one.pk}": "On two",
        "image-2": two.pk,
        f"alt-2-{two.pk}": "On three",
    }
    page = compose(as_trainee, account, remove_post="1", **fields).content.decode()
    # Post 3 is now post 2, and its image moved with it.
    assert f'name="image-1" value="{two.pk}"' in page and f'name="alt-1-{two.pk}"' in page
    assert f'value="{one.pk}"' not in page
    page = compose(as_trainee, account, remove_image=f"1-{one.pk}", **fields).content.decode()
    assert f'value="{one.pk}"' not in page and f'name="image-2" value="{two.pk}"' in page


def test_an_image_on_an_empty_thread_post_is_refused_not_dropped(as_trainee, trainee, account):
    image = services.post_image_add(by=trainee, draft=None, upload=photo())
    response = compose(
        as_trainee, account, **{"thread-1": " ", "image-1": image.pk, f"alt-1-{image.pk}": "A"}
    )
    assert response.status_code == 422
    assert "has an image but no text" in response.content.decode()


def test_practice_posts_say_images_are_not_supported(as_trainee, trainee, account):
    image = services.post_image_add(by=trainee, draft=None, upload=photo())
    response = compose(
        as_trainee, account, practise="1", **{"image-0": image.pk, f"alt-0-{image.pk}": "A"}
    )
    assert response.status_code == 422
    assert "Practice posts cannot have images yet" in response.content.decode()


def test_editing_a_draft_changes_only_the_alt_text(as_trainee, trainee, account):
    image = services.post_image_add(by=trainee, draft=None, upload=photo())
    draft = services.draft_create(
        author=trainee, account=account, text="Hi", images=[[{"id": image.pk, "alt": "Old"}]]
    )
    page = as_trainee.get(reverse("draft_detail", args=[draft.pk])).content.decode()
    assert 'enctype="multipart/form-data"' in page and ">Old</textarea>" in page
    response = as_trainee.post(
        reverse("draft_edit", args=[draft.pk]),
        {"text": "Hi", "image-0": image.pk, f"alt-0-{image.pk}": "New"},
    )
    assert response.status_code == 302
    draft.refresh_from_db()
    assert draft.current_revision.number == 2
    assert draft.current_revision.images == [[{"id": image.pk, "alt": "New"}]]


def test_an_upload_on_the_draft_page_belongs_to_the_draft(as_trainee, trainee, account):
    draft = services.draft_create(author=trainee, account=account, text="Hi")
    as_trainee.post(
        reverse("draft_edit", args=[draft.pk]),
        {"text": "Hi", "upload-0": photo(), "upload-alt-0": "The desk"},
    )
    image = PostImage.objects.get()
    assert image.draft == draft
    draft.refresh_from_db()
    assert draft.current_revision.images == [[{"id": image.pk, "alt": "The desk"}]]


def test_the_draft_page_previews_the_thread_as_on_the_account(as_trainee, trainee, account):
    image = services.post_image_add(by=trainee, draft=None, upload=photo())
    draft = services.draft_create(
        author=trainee,
        account=account,
        text="Visit #NHS",
        thread=["Second"],
        images=[[], [{"id": image.pk, "alt": "The desk"}]],
    )
    page = as_trainee.get(reverse("draft_detail", args=[draft.pk])).content.decode()
    preview = page[page.index('id="preview-title"') :]
    assert f"how it will look on @{account.handle}" in preview
    assert account.display_name in preview and "sp-entity--hashtag" in preview
    assert "Thread of 2 posts" in preview and "10 of 280 characters" in preview
    assert 'alt="The desk"' in preview
    assert "Image 1, described as: “The desk”" in page  # in the revision history


def test_the_composer_previews_without_saving(as_trainee, account):
    response = compose(as_trainee, account, preview="1", **{"thread-1": "And more"})
    assert response.status_code == 200
    page = response.content.decode()
    assert "how it will look on @" in page and "not saved yet" not in page
    assert "Thread of 2 posts" in page
    assert not Draft.objects.exists()


def test_the_coach_sees_the_images_on_the_review_page(client, trainee, coach, account):
    image = services.post_image_add(by=trainee, draft=None, upload=photo())
    draft = services.draft_create(
        author=trainee, account=account, text="Hi", images=[[{"id": image.pk, "alt": "The desk"}]]
    )
    coaching.draft_submit(draft=draft, by=trainee)
    page = signed_in(client, coach).get(reverse("review", args=[draft.pk])).content.decode()
    assert f'src="{reverse("post_image", args=[image.pk])}" alt="The desk"' in page


def test_live_hints_see_an_image_without_alt_text(as_trainee, trainee, account):
    data = {"field": "text", "text": "Our new ward", "image-0": "7", "alt-0-7": ""}
    response = as_trainee.post(reverse("draft_check"), data)
    assert "no description (alt text)" in response.content.decode()
    data["alt-0-7"] = "The front desk"
    assert "no description" not in as_trainee.post(reverse("draft_check"), data).content.decode()


def test_live_hints_check_the_alt_text_and_name_the_image(as_trainee, trainee, account):
    data = {
        "field": "text",
        "text": "Our clinic is closed today.",
        "image-0": ["7", "8"],
        "alt-0-7": "The front desk",
        "alt-0-8": "Label: NHS 640 206 7970 and mobile 07700 900777",
    }
    page = as_trainee.post(reverse("draft_check"), data).content.decode()
    # In the hints list, naming the image and quoting its words...
    assert "Image 2\u2019s description:" in page
    assert "“640 206 7970”" in page and "“07700 900777”" in page
    # ...and beside that image's description, swapped in by id; image 1 gets an empty box.
    assert '<div id="alt-0-8-findings" hx-swap-oob="innerHTML"><ul' in page
    assert '<div id="alt-0-7-findings" hx-swap-oob="innerHTML"></div>' in page
    assert "No risks found" not in page


def test_live_hints_join_a_thread(as_trainee, trainee, account):
    data = {
        "field": "text",
        "text": "Happy 90th birthday to Mr Albert Fox!",
        "thread-1": "He has been with us on Ward 4 since his stroke in March.",
    }
    page = as_trainee.post(reverse("draft_check"), data).content.decode()
    assert "Patient details in words" in page
    assert "in another post of this thread" in page


def test_the_composer_has_a_place_for_each_images_findings(as_trainee, trainee, account):
    image = services.post_image_add(by=trainee, draft=None, upload=photo())
    draft = services.draft_create(
        author=trainee, account=account, text="Hi", images=[[{"id": image.pk, "alt": "A"}]]
    )
    page = as_trainee.get(reverse("draft_detail", args=[draft.pk])).content.decode()
    assert f'id="alt-0-{image.pk}-findings"' in page


# Serving: only to those who may see the draft ----------------------------------------------


@pytest.fixture
def attached(trainee, account):
    image = services.post_image_add(by=trainee, draft=None, upload=photo())
    services.draft_create(
        author=trainee, account=account, text="Hi", images=[[{"id": image.pk, "alt": "A"}]]
    )
    image.refresh_from_db()
    return image


def test_the_author_gets_the_image_with_safe_headers(as_trainee, attached):
    response = as_trainee.get(reverse("post_image", args=[attached.pk]))
    assert response.status_code == 200
    assert response["Content-Type"] == "image/jpeg"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Content-Disposition"] == "inline"
    assert response["Cache-Control"] == "private, no-store"
    assert "sandbox" in response["Content-Security-Policy"]
    body = b"".join(response.streaming_content)
    assert body[:2] == b"\xff\xd8" and b"SANDPIT-DATUM" not in body


@pytest.mark.parametrize(("who", "status"), [("coach", 200), ("admin", 200)])
def test_the_organisations_coaches_see_it(client, request, attached, who, status):
    response = signed_in(client, request.getfixturevalue(who)).get(
        reverse("post_image", args=[attached.pk])
    )
    assert response.status_code == status


@pytest.mark.parametrize("who", ["other_trainee", "outside_coach"])
def test_outsiders_get_a_404(client, request, attached, who):
    response = signed_in(client, request.getfixturevalue(who)).get(
        reverse("post_image", args=[attached.pk])
    )
    assert response.status_code == 404


def test_anonymous_people_are_sent_to_log_in(client, attached):
    response = client.get(reverse("post_image", args=[attached.pk]))
    assert response.status_code == 302 and reverse("login") in response["Location"]


def test_an_image_not_yet_in_a_draft_is_seen_only_by_its_uploader(client, trainee, coach):
    image = services.post_image_add(by=trainee, draft=None, upload=photo())
    url = reverse("post_image", args=[image.pk])
    assert signed_in(client, coach).get(url).status_code == 404
    assert signed_in(client, trainee).get(url).status_code == 200


def test_serving_refuses_post(as_trainee, attached):
    assert as_trainee.post(reverse("post_image", args=[attached.pk])).status_code == 405


def test_there_is_no_public_media_url(client, attached, settings):
    assert not getattr(settings, "MEDIA_URL", "").strip("/")
    response = client.get("/" + attached.file.name)
    assert response.status_code == 404


def test_the_timeline_needs_no_extra_queries_for_images(as_trainee, trainee, account):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def count() -> int:
        with CaptureQueriesContext(connection) as queries:
            as_trainee.get(reverse("timeline"))
        return len(queries)

    services.draft_create(author=trainee, account=account, text="Plain")
    plain = count()
    for n in range(3):
        image = services.post_image_add(by=trainee, draft=None, upload=photo())
        services.draft_create(
            author=trainee,
            account=account,
            text=f"Pic {n}",
            images=[[{"id": image.pk, "alt": "A"}]],
        )
    assert count() == plain
    assert (
        len(
            re.findall(
                r'class="sp-media__image"', as_trainee.get(reverse("timeline")).content.decode()
            )
        )
        == 3
    )
