"""coaching/publishing/bluesky.py against Bluesky's own server: the reference PDS from npm
(tests/pds/), with the unmodified atproto SDK, proving what the double can only imitate.

The PDS has no AppView, as a PDS cut off from Bluesky's: the publisher must publish, find,
check and delete with the PDS's own com.atproto methods. Faults the real server cannot be
made to show (timeouts, resets, 5xx) stay with the double, in test_bluesky.py.
"""

from __future__ import annotations

import datetime as dt
import io
from typing import Any

import pytest
from PIL import Image

from coaching.publishing.base import AuthFailed, Media, OutcomeUnknown, RateLimited, Rejected
from coaching.publishing.bluesky import BlueskyPublisher, record_key_for
from doubles.bluesky import INVALID_CREDENTIALS, image_too_big, too_long
from tests.doubles.bluesky_client import oversized_png
from tests.pds import PDSAccount, ReferencePDS


def publisher_for(
    pds: ReferencePDS, account: PDSAccount, app_password: str, session: str | None = None
) -> BlueskyPublisher:
    return BlueskyPublisher(
        service_url=pds.url, handle=account.handle, app_password=app_password, session=session
    )


@pytest.fixture
def account(reference_pds: ReferencePDS) -> PDSAccount:
    return reference_pds.new_account()


@pytest.fixture
def app_password(reference_pds: ReferencePDS, account: PDSAccount) -> str:
    return reference_pds.app_password(account)


@pytest.fixture
def publisher(
    reference_pds: ReferencePDS, account: PDSAccount, app_password: str
) -> BlueskyPublisher:
    return publisher_for(reference_pds, account, app_password)


def picture(size: tuple[int, int] = (40, 30)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, "teal").save(out, "PNG")
    return out.getvalue()


def features(record: dict[str, Any], text: str) -> set[tuple[str, str, str]]:
    """(type, value, the text the facet's byte range covers) of each facet."""
    raw = text.encode()
    return {
        (
            feature["$type"],
            feature.get("uri") or feature.get("tag") or "",
            raw[facet["index"]["byteStart"] : facet["index"]["byteEnd"]].decode(),
        )
        for facet in record["facets"]
        for feature in facet["features"]
    }


# Publishing -------------------------------------------------------------------------------


def test_a_plain_post_lands_in_the_repository_under_its_key(
    reference_pds: ReferencePDS, account: PDSAccount, publisher: BlueskyPublisher
) -> None:
    published = publisher.publish(text="Clinics open as usual today.", idempotency_key="p-1")

    rkey = record_key_for("p-1")
    assert published.remote_id == f"at://{account.did}/app.bsky.feed.post/{rkey}"
    assert published.remote_url == f"https://bsky.app/profile/{account.handle}/post/{rkey}"
    stored = reference_pds.record(published.remote_id)
    assert stored is not None
    assert stored["value"]["text"] == "Clinics open as usual today."
    assert stored["value"]["$type"] == "app.bsky.feed.post"
    assert stored["value"]["createdAt"].endswith("Z")
    assert reference_pds.texts(account) == ["Clinics open as usual today."]


def test_links_and_tags_become_facets_over_the_right_bytes(
    reference_pds: ReferencePDS, publisher: BlueskyPublisher
) -> None:
    # A non-ASCII character first: facet ranges count UTF-8 bytes, not characters.
    text = "Flu jabs \N{EN DASH} book at https://example.org/flu #FluJab #NHS"

    published = publisher.publish(text=text, idempotency_key="p-1")

    stored = reference_pds.record(published.remote_id)
    assert stored is not None
    assert features(stored["value"], text) == {
        ("app.bsky.richtext.facet#link", "https://example.org/flu", "https://example.org/flu"),
        ("app.bsky.richtext.facet#tag", "FluJab", "#FluJab"),
        ("app.bsky.richtext.facet#tag", "NHS", "#NHS"),
    }


def test_a_thread_is_a_chain_of_replies_to_its_first_post(
    reference_pds: ReferencePDS, publisher: BlueskyPublisher
) -> None:
    first = publisher.publish(text="Thread 1/3", idempotency_key="t-0")
    second = publisher.publish(text="Thread 2/3", idempotency_key="t-1", reply_to=first.remote_id)
    third = publisher.publish(text="Thread 3/3", idempotency_key="t-2", reply_to=second.remote_id)

    def reply_of(uri: str) -> dict[str, dict[str, str]] | None:
        stored = reference_pds.record(uri)
        assert stored is not None
        reply = stored["value"].get("reply")
        if reply is None:
            return None
        return {end: {k: reply[end][k] for k in ("uri", "cid")} for end in ("root", "parent")}

    def ref(uri: str) -> dict[str, str]:
        stored = reference_pds.record(uri)
        assert stored is not None
        return {"uri": uri, "cid": stored["cid"]}

    assert reply_of(first.remote_id) is None
    assert reply_of(second.remote_id) == {
        "root": ref(first.remote_id),
        "parent": ref(first.remote_id),
    }
    assert reply_of(third.remote_id) == {
        "root": ref(first.remote_id),
        "parent": ref(second.remote_id),
    }


def test_images_go_up_as_blobs_with_their_alt_text(
    reference_pds: ReferencePDS, account: PDSAccount, publisher: BlueskyPublisher
) -> None:
    data = picture((40, 30))
    media = [
        Media(data=data, content_type="image/png", alt="A teal square", width=40, height=30),
        Media(data=picture((10, 10)), content_type="image/png", alt="A smaller one"),
    ]

    published = publisher.publish(text="With pictures", idempotency_key="p-1", media=media)

    stored = reference_pds.record(published.remote_id)
    assert stored is not None
    embed = stored["value"]["embed"]
    assert embed["$type"] == "app.bsky.embed.images"
    assert [image["alt"] for image in embed["images"]] == ["A teal square", "A smaller one"]
    ratio = embed["images"][0]["aspectRatio"]
    assert (ratio["width"], ratio["height"]) == (40, 30)
    assert "aspectRatio" not in embed["images"][1]
    blob = embed["images"][0]["image"]
    assert blob["mimeType"] == "image/png"
    assert blob["size"] == len(data)
    served = reference_pds.blob(account.did, blob["ref"]["$link"])
    assert served.status_code == 200
    assert served.content == data


def test_an_image_over_the_lexicons_limit_is_rejected_in_the_pds_words(
    reference_pds: ReferencePDS, account: PDSAccount, publisher: BlueskyPublisher
) -> None:
    big = Media(data=oversized_png(), content_type="image/png", alt="Noise")

    with pytest.raises(Rejected) as caught:
        publisher.publish(text="Too big", idempotency_key="p-1", media=[big])

    assert caught.value.status_code == 400
    # The double says exactly what the reference PDS says.
    assert str(caught.value) == image_too_big(len(big.data))
    assert reference_pds.texts(account) == []


def test_too_long_is_rejected_in_the_pds_words(
    reference_pds: ReferencePDS, account: PDSAccount, publisher: BlueskyPublisher
) -> None:
    with pytest.raises(Rejected) as caught:
        publisher.publish(text="a" * 301, idempotency_key="p-1")

    # The double says exactly what the reference PDS says.
    assert str(caught.value) == too_long(301)
    assert reference_pds.texts(account) == []


# Exactly once ------------------------------------------------------------------------------


def test_a_retry_with_the_same_key_finds_the_post_and_makes_no_second(
    reference_pds: ReferencePDS, account: PDSAccount, app_password: str
) -> None:
    first = publisher_for(reference_pds, account, app_password).publish(
        text="Only once", idempotency_key="sandpit-publication-7-0"
    )

    again = publisher_for(reference_pds, account, app_password).publish(
        text="Only once", idempotency_key="sandpit-publication-7-0"
    )

    assert again.remote_id == first.remote_id
    assert reference_pds.texts(account) == ["Only once"]


def test_a_racing_create_under_a_key_in_use_is_refused_not_doubled(
    monkeypatch: pytest.MonkeyPatch,
    reference_pds: ReferencePDS,
    account: PDSAccount,
    publisher: BlueskyPublisher,
) -> None:
    publisher.publish(text="Only once", idempotency_key="k")
    # Another attempt that looked before the first one's record existed.
    monkeypatch.setattr(publisher, "_find_post", lambda client, rkey: None)

    with pytest.raises(OutcomeUnknown) as caught:
        publisher.publish(text="Only once", idempotency_key="k")

    assert caught.value.status_code == 500
    assert reference_pds.texts(account) == ["Only once"]


def test_find_published_looks_the_key_up_on_the_pds(
    reference_pds: ReferencePDS, publisher: BlueskyPublisher
) -> None:
    published = publisher.publish(text="Is it there?", idempotency_key="sandpit-publication-9-0")

    assert publisher.find_published(idempotency_key="sandpit-publication-9-0") == published
    assert publisher.find_published(idempotency_key="sandpit-publication-9-1") is None


def test_identity_is_the_account_the_pds_knows(
    account: PDSAccount, publisher: BlueskyPublisher
) -> None:
    assert publisher.identity() == (account.did, account.handle)


def test_too_many_logins_are_rate_limited_until_the_pds_reset_time(
    reference_pds: ReferencePDS, account: PDSAccount, app_password: str
) -> None:
    # createSession allows 30 logins per account in 5 minutes: why the session is kept.
    for _ in range(30):
        publisher_for(reference_pds, account, app_password).identity()
    before = dt.datetime.now(dt.UTC)

    with pytest.raises(RateLimited) as caught:
        publisher_for(reference_pds, account, app_password).identity()

    assert caught.value.status_code == 429
    assert str(caught.value) == "Rate Limit Exceeded"
    assert caught.value.reset_at is not None
    assert dt.timedelta(0) < caught.value.reset_at - before <= dt.timedelta(minutes=5)


# Taking a post down ------------------------------------------------------------------------


def test_delete_removes_the_post_and_again_is_fine(
    reference_pds: ReferencePDS, account: PDSAccount, publisher: BlueskyPublisher
) -> None:
    kept = publisher.publish(text="Stays", idempotency_key="p-0")
    gone = publisher.publish(text="Withdrawn", idempotency_key="p-1")

    publisher.delete(remote_id=gone.remote_id)
    publisher.delete(remote_id=gone.remote_id)

    assert reference_pds.record(gone.remote_id) is None
    assert reference_pds.record(kept.remote_id) is not None
    assert publisher.find_published(idempotency_key="p-1") is None


# Credentials -------------------------------------------------------------------------------


def test_a_wrong_app_password_is_auth_failed_in_the_pds_words(
    reference_pds: ReferencePDS, account: PDSAccount
) -> None:
    publisher = publisher_for(reference_pds, account, "abcd-efgh-ijkl-mnop")

    with pytest.raises(AuthFailed) as caught:
        publisher.publish(text="Hello", idempotency_key="p-1")

    assert str(caught.value) == INVALID_CREDENTIALS
    assert caught.value.status_code == 401
    assert "AuthenticationRequired" in caught.value.body
    with pytest.raises(AuthFailed):
        publisher.identity()
    assert reference_pds.texts(account) == []


def test_a_revoked_app_password_cannot_log_in(
    reference_pds: ReferencePDS, account: PDSAccount, app_password: str
) -> None:
    publisher_for(reference_pds, account, app_password).publish(text="Before", idempotency_key="a")
    reference_pds.revoke_app_password(account)

    with pytest.raises(AuthFailed, match=INVALID_CREDENTIALS):
        publisher_for(reference_pds, account, app_password).publish(
            text="After", idempotency_key="b"
        )

    assert reference_pds.texts(account) == ["Before"]


def test_a_revoked_app_password_cannot_refresh_its_session(
    reference_pds: ReferencePDS, account: PDSAccount, app_password: str
) -> None:
    first = publisher_for(reference_pds, account, app_password)
    first.publish(text="Before", idempotency_key="a")
    reference_pds.revoke_app_password(account)
    refresh_jwt = first.session.split(":::")[3]  # type: ignore[union-attr]

    refused = reference_pds.xrpc(
        "com.atproto.server.refreshSession", token=refresh_jwt, method="POST"
    )

    # What the publisher treats as a stale session, so it falls back to the (revoked) app
    # password, which the test above shows is refused.
    assert refused.status_code == 400
    assert refused.json() == {"error": "ExpiredToken", "message": "Token has been revoked"}


def test_a_revoked_app_passwords_access_token_lives_on_until_it_expires(
    reference_pds: ReferencePDS, account: PDSAccount, app_password: str
) -> None:
    first = publisher_for(reference_pds, account, app_password)
    first.publish(text="Before", idempotency_key="a")
    reference_pds.revoke_app_password(account)

    # The reference PDS does not end the access tokens already given out (they last two
    # hours): revoking an app password stops new sessions and refreshes only. A lockdown
    # must also forget the stored session, as Sandpit cannot make the PDS forget it.
    publisher_for(reference_pds, account, "", session=first.session).publish(
        text="After", idempotency_key="b"
    )

    # (Listed by record key, which the idempotency key fixes: not by time.)
    assert sorted(reference_pds.texts(account)) == ["After", "Before"]
