"""sandbox/views.py: live hints for the composer, private images served only to those who
may see the draft, and liveness."""

import pytest
from django.urls import reverse

from sandbox import services
from sandbox.models import LocalWord
from tests.factories import PASSWORD, signed_in
from tests.sandbox.test_media import photo

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("private_media")]


# Live hints for the composer --------------------------------------------------------------


def test_live_hints_with_a_junk_account_id_still_answer(as_trainee):
    response = as_trainee.post(reverse("draft_check"), {"text": "Hello", "account": "abc"})
    assert response.status_code == 200


def test_the_composer_gets_live_hints_with_the_organisations_rules(client, trainee, account):
    LocalWord.objects.create(organisation=account.organisation, word="flippin")
    client.login(username=trainee.username, password=PASSWORD)
    response = client.post(
        reverse("draft_check"),
        {"text": "£1 for every retweet, flippin brilliant", "account": account.pk},
        headers={"HX-Request": "true"},
    )
    body = response.content.decode()
    assert response.status_code == 200
    assert "Engagement pledge" in body and "Swearing" in body
    assert '<mark class="sp-finding sp-finding--block"' in body


def test_live_hints_escape_the_text(client, trainee, account):
    client.login(username=trainee.username, password=PASSWORD)
    body = client.post(
        reverse("draft_check"), {"text": "<img src=x onerror=alert(1)> £1 for every retweet"}
    ).content.decode()
    assert "<img" not in body and "&lt;img src=x onerror=alert(1)&gt;" in body


def test_live_hints_need_a_login_and_a_post(client, trainee):
    assert client.post(reverse("draft_check"), {"text": "x"}).status_code == 302
    client.login(username=trainee.username, password=PASSWORD)
    assert client.get(reverse("draft_check")).status_code == 405


def test_live_hints_survive_junk(client, trainee):
    client.login(username=trainee.username, password=PASSWORD)
    junk = "\x00\x07" + "💩" * 5000 + "\u202e" * 300 + "e\u0301" * 500
    assert client.post(reverse("draft_check"), {"text": junk}).status_code == 200


def test_live_hints_see_an_image_without_alt_text(as_trainee, trainee, account):
    data = {"field": "text", "text": "Our new ward", "image-0": "7", "alt-0-7": ""}
    response = as_trainee.post(reverse("draft_check"), data)
    assert "no description (alt text)" in response.content.decode()
    data["alt-0-7"] = "The front desk"
    assert "no description" not in as_trainee.post(reverse("draft_check"), data).content.decode()


# Private images: served only to those who may see the draft -------------------------------


@pytest.fixture
def attached(trainee, account):
    image = services.post_image_add(by=trainee, draft=None, upload=photo())
    services.draft_create(
        author=trainee, account=account, text="Hi", images=[[{"id": image.pk, "alt": "A"}]]
    )
    image.refresh_from_db()
    return image


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
    assert response.status_code == 302 and reverse("account_login") in response["Location"]


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


# Liveness ---------------------------------------------------------------------------------


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_liveness_needs_only_the_database(transactional_db, client):
    response = client.get("/health/live/")
    assert response.status_code == 200 and response.json() == {"status": "ok"}


@pytest.mark.django_db
def test_the_benchmarks_bare_view_is_not_routed_unless_asked_for(client, trainee):
    # bench/pages.py turns it on with SANDPIT_BENCH_BARE_VIEW; nothing else serves it.
    client.force_login(trainee)
    assert client.get("/bench/bare/").status_code == 404
