"""The doubles' media endpoints keep each platform's contract, over real HTTP: X's media
upload and alt text, Mastodon's media, Bluesky's uploadBlob and images embed."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator

import httpx
import pytest
from PIL import Image

from doubles.bluesky import BlueskyDouble
from doubles.mastodon import MastodonDouble
from doubles.media import image_size, sniff_image
from doubles.x import INVALID_MEDIA_IDS, INVALID_REQUEST_TYPE, XDouble


def picture(colour: str = "red", fmt: str = "PNG", size: tuple[int, int] = (32, 24)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, colour).save(buffer, fmt)
    return buffer.getvalue()


PDF = b"%PDF-1.4\n1 0 obj <<>> endobj\n"


def test_images_are_known_by_their_bytes_not_their_names() -> None:
    assert sniff_image(picture(fmt="PNG")) == "image/png"
    assert sniff_image(picture(fmt="JPEG")) == "image/jpeg"
    assert sniff_image(picture(fmt="GIF")) == "image/gif"
    assert sniff_image(PDF) is None
    assert image_size(picture(size=(40, 30))) == (40, 30)
    assert image_size(picture(fmt="JPEG", size=(41, 29))) == (41, 29)


# X -------------------------------------------------------------------------------------


@pytest.fixture
def x() -> Iterator[XDouble]:
    double = XDouble(hang_seconds=1.0).start()
    double.add_user("Board", token="tok")
    double.add_user("NoMedia", token="old-tok", scope="tweet.read tweet.write users.read")
    yield double
    double.stop()


@pytest.fixture
def x_api(x: XDouble) -> Iterator[httpx.Client]:
    with httpx.Client(
        base_url=x.base_url, headers={"Authorization": "Bearer tok"}, timeout=5
    ) as client:
        yield client


def x_upload(api: httpx.Client, data: bytes, **fields: str) -> httpx.Response:
    form = {"media_category": "tweet_image"} | fields
    return api.post("/2/media/upload", data=form, files={"media": ("p.png", data, "image/png")})


def test_x_upload_then_alt_text_then_a_post_holds_the_media(
    x: XDouble, x_api: httpx.Client
) -> None:
    uploaded = x_upload(x_api, picture())
    assert uploaded.status_code == 200
    media_id = uploaded.json()["data"]["id"]
    assert uploaded.json()["data"]["media_key"] == f"3_{media_id}"

    alt = x_api.post(
        "/2/media/metadata",
        json={"id": media_id, "metadata": {"alt_text": {"text": "A red square"}}},
    )
    assert alt.status_code == 200
    assert alt.json()["data"]["associated_metadata"]["alt_text"]["text"] == "A red square"

    created = x_api.post("/2/tweets", json={"text": "Look", "media": {"media_ids": [media_id]}})
    assert created.status_code == 201
    [post] = x.posts_for("Board")
    assert [m.alt_text for m in x.media_of(post)] == ["A red square"]
    assert x.media_bytes(media_id) == picture()
    # X shows a post with media with a t.co link to it appended.
    assert created.json()["data"]["text"].startswith("Look https://t.co/")


def test_x_listing_carries_the_media_when_asked(x: XDouble, x_api: httpx.Client) -> None:
    media_id = x_upload(x_api, picture()).json()["data"]["id"]
    x_api.post(
        "/2/media/metadata", json={"id": media_id, "metadata": {"alt_text": {"text": "Alt"}}}
    )
    x_api.post("/2/tweets", json={"text": "With media", "media": {"media_ids": [media_id]}})
    user_id = x_api.get("/2/users/me").json()["data"]["id"]

    plain = x_api.get(f"/2/users/{user_id}/tweets").json()
    assert "attachments" not in plain["data"][0] and "includes" not in plain

    expanded = x_api.get(
        f"/2/users/{user_id}/tweets",
        params={"expansions": "attachments.media_keys", "media.fields": "alt_text,width"},
    ).json()
    assert expanded["data"][0]["attachments"] == {"media_keys": [f"3_{media_id}"]}
    assert expanded["includes"]["media"] == [
        {"media_key": f"3_{media_id}", "type": "photo", "alt_text": "Alt", "width": 32}
    ]


def test_x_refuses_unknown_media_ids_in_its_own_shape(x: XDouble, x_api: httpx.Client) -> None:
    response = x_api.post("/2/tweets", json={"text": "Hi", "media": {"media_ids": ["12345"]}})
    assert response.status_code == 400
    assert response.json() == {
        "errors": [{"parameters": {"media.media_ids": ["12345"]}, "message": INVALID_MEDIA_IDS}],
        "title": "Invalid Request",
        "detail": "One or more parameters to your request was invalid.",
        "type": INVALID_REQUEST_TYPE,
    }
    assert x.posts_for("Board") == []


def test_x_media_of_another_user_is_unknown_too(x: XDouble, x_api: httpx.Client) -> None:
    media_id = x_upload(x_api, picture()).json()["data"]["id"]
    x.add_user("Other", token="other-tok")
    response = httpx.post(
        f"{x.base_url}/2/tweets",
        headers={"Authorization": "Bearer other-tok"},
        json={"text": "Hi", "media": {"media_ids": [media_id]}},
    )
    assert response.status_code == 400
    assert response.json()["errors"][0]["message"] == INVALID_MEDIA_IDS


def test_x_takes_at_most_four_media(x: XDouble, x_api: httpx.Client) -> None:
    ids = [
        x_upload(x_api, picture(c)).json()["data"]["id"]
        for c in ["red", "green", "blue", "black", "white"]
    ]
    response = x_api.post("/2/tweets", json={"text": "Five", "media": {"media_ids": ids}})
    assert response.status_code == 400
    assert x.posts_for("Board") == []
    assert x_api.post(
        "/2/tweets", json={"text": "Four", "media": {"media_ids": ids[:4]}}
    ).is_success


def test_x_refuses_a_file_that_is_not_an_image_and_alt_text_too_long(
    x: XDouble, x_api: httpx.Client
) -> None:
    assert x_upload(x_api, PDF).status_code == 400
    media_id = x_upload(x_api, picture()).json()["data"]["id"]
    too_long = x_api.post(
        "/2/media/metadata", json={"id": media_id, "metadata": {"alt_text": {"text": "a" * 1001}}}
    )
    assert too_long.status_code == 400


def test_x_upload_needs_the_media_write_scope(x: XDouble) -> None:
    response = httpx.post(
        f"{x.base_url}/2/media/upload",
        headers={"Authorization": "Bearer old-tok"},
        data={"media_category": "tweet_image"},
        files={"media": ("p.png", picture(), "image/png")},
    )
    assert response.status_code == 403


def test_x_upload_faults_strike_uploads_only(x: XDouble, x_api: httpx.Client) -> None:
    x.inject("5xx-before", "429", on="upload")
    assert x.faults()["upload_queue"] == ["5xx-before", "429"]
    assert x_api.post("/2/tweets", json={"text": "Text only"}).status_code == 201
    assert x_upload(x_api, picture()).status_code == 503
    limited = x_upload(x_api, picture())
    assert limited.status_code == 429 and "x-rate-limit-reset" in limited.headers
    assert x_upload(x_api, picture()).status_code == 200
    with pytest.raises(ValueError, match="unknown faults"):
        x.inject("403-duplicate", on="upload")


def test_x_upload_fault_after_storing_keeps_the_media_but_loses_the_answer(
    x: XDouble, x_api: httpx.Client
) -> None:
    x.inject("5xx-after", on="upload")
    assert x_upload(x_api, picture()).status_code == 503
    assert len(x.state()["media"]) == 1
    assert x.posts_for("Board") == []


def test_x_post_page_shows_the_image_with_its_alt_text(x: XDouble, x_api: httpx.Client) -> None:
    media_id = x_upload(x_api, picture()).json()["data"]["id"]
    x_api.post(
        "/2/media/metadata", json={"id": media_id, "metadata": {"alt_text": {"text": "<Alt>"}}}
    )
    post_id = x_api.post(
        "/2/tweets", json={"text": "Page", "media": {"media_ids": [media_id]}}
    ).json()["data"]["id"]
    page = httpx.get(f"{x.base_url}/Board/status/{post_id}")
    assert f'<img src="/_double/media/{media_id}" alt="&lt;Alt&gt;"' in page.text
    assert httpx.get(f"{x.base_url}/_double/media/{media_id}").content == picture()


# Mastodon ---------------------------------------------------------------------------------


@pytest.fixture
def mastodon() -> Iterator[MastodonDouble]:
    double = MastodonDouble(hang_seconds=1.0).start()
    double.add_account("board", token="tok")
    yield double
    double.stop()


@pytest.fixture
def m_api(mastodon: MastodonDouble) -> Iterator[httpx.Client]:
    with httpx.Client(
        base_url=mastodon.base_url, headers={"Authorization": "Bearer tok"}, timeout=5
    ) as client:
        yield client


def m_upload(api: httpx.Client, data: bytes, description: str = "") -> httpx.Response:
    return api.post(
        "/api/v2/media",
        data={"description": description},
        files={"file": ("p.png", data, "image/png")},
    )


def test_mastodon_media_then_status_attaches_with_description(
    mastodon: MastodonDouble, m_api: httpx.Client
) -> None:
    uploaded = m_upload(m_api, picture(), "A red square")
    assert uploaded.status_code == 200
    media = uploaded.json()
    assert media["type"] == "image" and media["description"] == "A red square"
    assert media["meta"]["original"]["width"] == 32
    assert httpx.get(media["url"]).content == picture()

    created = m_api.post("/api/v1/statuses", data={"status": "Look", "media_ids[]": [media["id"]]})
    assert created.status_code == 200
    assert [a["description"] for a in created.json()["media_attachments"]] == ["A red square"]
    [status] = mastodon.statuses_for("board")
    assert [m.description for m in mastodon.media_of(status)] == ["A red square"]


def test_mastodon_media_cannot_be_attached_twice_or_be_unknown(
    mastodon: MastodonDouble, m_api: httpx.Client
) -> None:
    media_id = m_upload(m_api, picture()).json()["id"]
    assert m_api.post(
        "/api/v1/statuses", data={"status": "One", "media_ids[]": [media_id]}
    ).is_success
    again = m_api.post("/api/v1/statuses", data={"status": "Two", "media_ids[]": [media_id]})
    assert again.status_code == 422 and media_id in again.json()["error"]
    unknown = m_api.post("/api/v1/statuses", json={"status": "Three", "media_ids": ["999"]})
    assert unknown.status_code == 422
    assert len(mastodon.statuses_for("board")) == 1


def test_mastodon_takes_at_most_four_images_and_only_images(
    mastodon: MastodonDouble, m_api: httpx.Client
) -> None:
    colours = ["red", "green", "blue", "black", "white"]
    ids = [m_upload(m_api, picture(c)).json()["id"] for c in colours]
    five = m_api.post("/api/v1/statuses", data={"status": "Five", "media_ids[]": ids})
    assert five.status_code == 422 and five.json()["error"] == "Cannot attach more than 4 files"
    assert m_upload(m_api, PDF).status_code == 422
    assert m_upload(m_api, picture(), "a" * 1501).status_code == 422


def test_mastodon_upload_faults(mastodon: MastodonDouble, m_api: httpx.Client) -> None:
    mastodon.inject("401", "429", on="upload")
    assert m_upload(m_api, picture()).status_code == 401
    assert m_upload(m_api, picture()).status_code == 429
    assert m_upload(m_api, picture()).status_code == 200


# Bluesky ----------------------------------------------------------------------------------


@pytest.fixture
def bluesky() -> Iterator[BlueskyDouble]:
    double = BlueskyDouble(hang_seconds=1.0).start()
    double.add_account("board.test", app_password="pw")
    yield double
    double.stop()


@pytest.fixture
def b_api(bluesky: BlueskyDouble) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=f"{bluesky.base_url}/xrpc", timeout=5) as client:
        session = client.post(
            "/com.atproto.server.createSession",
            json={"identifier": "board.test", "password": "pw"},
        ).json()
        client.headers["Authorization"] = f"Bearer {session['accessJwt']}"
        client.headers["X-Did"] = session["did"]
        yield client


def b_upload(api: httpx.Client, data: bytes, content_type: str = "*/*") -> httpx.Response:
    return api.post(
        "/com.atproto.repo.uploadBlob", content=data, headers={"Content-Type": content_type}
    )


def b_post(api: httpx.Client, images: list[dict[str, object]]) -> httpx.Response:
    record = {
        "text": "Images",
        "createdAt": "2025-01-01T00:00:00.000Z",
        "embed": {"$type": "app.bsky.embed.images", "images": images},
    }
    return api.post(
        "/com.atproto.repo.createRecord",
        json={"repo": api.headers["X-Did"], "collection": "app.bsky.feed.post", "record": record},
    )


def test_bluesky_blob_then_images_embed_is_stored_and_shown(
    bluesky: BlueskyDouble, b_api: httpx.Client
) -> None:
    uploaded = b_upload(b_api, picture())
    assert uploaded.status_code == 200
    blob = uploaded.json()["blob"]
    assert blob["mimeType"] == "image/png"  # sniffed: the SDK declares */*
    assert blob["ref"]["$link"].startswith("bafkrei")

    created = b_post(b_api, [{"alt": "A red square", "image": blob}])
    assert created.status_code == 200
    [post] = bluesky.posts_for("board.test")
    assert post.images[0]["alt"] == "A red square"

    feed = b_api.get("/app.bsky.feed.getAuthorFeed", params={"actor": "board.test"}).json()
    [view] = feed["feed"][0]["post"]["embed"]["images"]
    assert view["alt"] == "A red square"
    assert httpx.get(view["fullsize"]).content == picture()


def test_bluesky_refuses_unknown_blobs_too_many_images_and_missing_alt(
    bluesky: BlueskyDouble, b_api: httpx.Client
) -> None:
    blob = b_upload(b_api, picture()).json()["blob"]
    unknown = dict(blob, ref={"$link": "bafkreiunknown"})
    missing = b_post(b_api, [{"alt": "x", "image": unknown}])
    assert missing.status_code == 400 and missing.json()["error"] == "BlobNotFound"
    five = b_post(b_api, [{"alt": "x", "image": blob}] * 5)
    assert five.status_code == 400 and "array too big (maximum 4, got 5)" in five.json()["message"]
    no_alt = b_post(b_api, [{"image": blob}])
    assert no_alt.status_code == 400 and 'Missing required key "alt"' in no_alt.json()["message"]
    pdf = b_upload(b_api, PDF, "application/pdf").json()["blob"]
    wrong = b_post(b_api, [{"alt": "x", "image": pdf}])
    assert wrong.json() == {
        "error": "InvalidRequest",
        "message": 'Invalid app.bsky.feed.post record: Expected "image/*" (got "application/pdf") '
        "at $.record.embed.images[0].image.mimeType",
    }
    assert bluesky.posts_for("board.test") == []


def test_bluesky_upload_faults(bluesky: BlueskyDouble, b_api: httpx.Client) -> None:
    bluesky.inject("5xx-before", on="upload")
    assert b_upload(b_api, picture()).status_code == 500
    assert bluesky.blobs() == []
    bluesky.configure_faults({"upload_queue": ["5xx-after"]})
    assert b_upload(b_api, picture()).status_code == 500
    assert len(bluesky.blobs()) == 1
    assert json.loads(json.dumps(bluesky.state()["faults"]))["upload_queue"] == []
