"""coaching/publishing/bluesky.py: the Bluesky publisher, driving the real atproto SDK against
the Bluesky double over real HTTP, maps every outcome to its error class and keeps its
session. (The double's own contract is in tests/doubles/.)"""

import datetime as dt
import socket
from collections.abc import Iterator

import httpx
import pytest

from coaching.publishing import bluesky as bluesky_module
from coaching.publishing.base import (
    AuthFailed,
    Media,
    NotSent,
    OutcomeUnknown,
    PublishError,
    RateLimited,
    Rejected,
)
from coaching.publishing.bluesky import BlueskyPublisher, record_key_for
from doubles import bluesky as bluesky_double
from doubles.bluesky import (
    INVALID_CREDENTIALS,
    TOO_LONG,
    BlueskyDouble,
    image_too_big,
)
from tests.doubles.bluesky_client import (
    CREATE_SESSION,
    HANDLE,
    OTHER_HANDLE,
    OTHER_PASSWORD,
    PASSWORD,
    REFRESH_SESSION,
    TID_CHARS,
    log_in,
    oversized_png,
    stored_texts,
)


@pytest.fixture
def double() -> Iterator[BlueskyDouble]:
    double = BlueskyDouble(hang_seconds=1.0).start()
    double.add_account(HANDLE, app_password=PASSWORD, display_name="NHS Demo Board")
    double.add_account(OTHER_HANDLE, app_password=OTHER_PASSWORD)
    yield double
    double.stop()


@pytest.fixture
def session(double: BlueskyDouble) -> dict:
    return log_in(double)


def make_publisher(
    double: BlueskyDouble,
    *,
    password: str = PASSWORD,
    session: str | None = None,
    timeout: float = 5.0,
) -> BlueskyPublisher:
    return BlueskyPublisher(
        service_url=double.base_url,
        handle=HANDLE,
        app_password=password,
        session=session,
        public_base_url=double.base_url,
        timeout=timeout,
    )


@pytest.fixture
def publisher(double: BlueskyDouble) -> BlueskyPublisher:
    return make_publisher(double)


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


# The publisher: publishing ----------------------------------------------------------------


def test_publish_returns_the_at_uri_and_public_url(
    double: BlueskyDouble, publisher: BlueskyPublisher
) -> None:
    published = publisher.publish(text="Clinics open as usual today.", idempotency_key="k1")

    [post] = double.posts_for(HANDLE)
    assert published.remote_id == post.uri
    assert published.remote_url == f"{double.base_url}/profile/{HANDLE}/post/{post.rkey}"
    assert published.status_code == 200
    assert post.text == "Clinics open as usual today."
    assert post.record["$type"] == "app.bsky.feed.post"
    assert dt.datetime.fromisoformat(post.record["createdAt"]).tzinfo is not None
    page = httpx.get(published.remote_url)
    assert page.status_code == 200
    assert "Clinics open as usual today." in page.text


def test_public_url_defaults_to_bsky_app(double: BlueskyDouble) -> None:
    publisher = BlueskyPublisher(service_url=double.base_url, handle=HANDLE, app_password=PASSWORD)

    published = publisher.publish(text="Hello", idempotency_key="k1")

    rkey = published.remote_id.rsplit("/", 1)[1]
    assert published.remote_url == f"https://bsky.app/profile/{HANDLE}/post/{rkey}"


def test_links_and_hashtags_become_facets(
    double: BlueskyDouble, publisher: BlueskyPublisher
) -> None:
    publisher.publish(text="Book at https://example.org/flu #FluJab", idempotency_key="k1")

    facets = double.posts_for(HANDLE)[0].record["facets"]
    features = {(f["$type"], f.get("uri") or f.get("tag")) for x in facets for f in x["features"]}
    assert features == {
        ("app.bsky.richtext.facet#link", "https://example.org/flu"),
        ("app.bsky.richtext.facet#tag", "FluJab"),
    }


def test_publish_a_reply_chain(double: BlueskyDouble, publisher: BlueskyPublisher) -> None:
    first = publisher.publish(text="Thread 1/3", idempotency_key="k1")
    second = publisher.publish(text="Thread 2/3", idempotency_key="k2", reply_to=first.remote_id)
    third = publisher.publish(text="Thread 3/3", idempotency_key="k3", reply_to=second.remote_id)

    posts = {p.uri: p for p in double.posts_for(HANDLE)}
    assert "reply" not in posts[first.remote_id].record
    second_reply = posts[second.remote_id].record["reply"]
    third_reply = posts[third.remote_id].record["reply"]
    first_ref = {"uri": first.remote_id, "cid": posts[first.remote_id].cid}
    second_ref = {"uri": second.remote_id, "cid": posts[second.remote_id].cid}
    assert {k: second_reply["root"][k] for k in ("uri", "cid")} == first_ref
    assert {k: second_reply["parent"][k] for k in ("uri", "cid")} == first_ref
    assert {k: third_reply["root"][k] for k in ("uri", "cid")} == first_ref
    assert {k: third_reply["parent"][k] for k in ("uri", "cid")} == second_ref


def test_same_idempotency_key_twice_makes_one_post(
    double: BlueskyDouble, publisher: BlueskyPublisher
) -> None:
    first = publisher.publish(text="Only once", idempotency_key="sandpit-publication-7")

    again = make_publisher(double).publish(
        text="Only once", idempotency_key="sandpit-publication-7"
    )

    assert again.remote_id == first.remote_id
    assert first.remote_id.endswith("/" + record_key_for("sandpit-publication-7"))
    assert stored_texts(double) == ["Only once"]


def test_after_a_lost_answer_the_same_key_finds_the_post(
    double: BlueskyDouble, publisher: BlueskyPublisher
) -> None:
    double.inject("5xx-after")
    with pytest.raises(OutcomeUnknown):
        publisher.publish(text="Did it go?", idempotency_key="sandpit-publication-8")

    published = publisher.publish(text="Did it go?", idempotency_key="sandpit-publication-8")

    assert [p.uri for p in double.posts_for(HANDLE)] == [published.remote_id]


def test_record_keys_are_valid_tids_from_2023() -> None:
    keys = {record_key_for(f"sandpit-publication-{n}") for n in range(200)}

    assert len(keys) == 200
    assert record_key_for("sandpit-publication-1") == record_key_for("sandpit-publication-1")
    for key in keys:
        assert len(key) == 13 and set(key) <= TID_CHARS and key[0] in "234567abcdefghij"
        value = 0
        for char in key:
            value = value * 32 + "234567abcdefghijklmnopqrstuvwxyz".index(char)
        written = dt.datetime.fromtimestamp((value >> 10) / 1_000_000, dt.UTC)
        assert written.year == 2023


# The publisher: sessions ------------------------------------------------------------------


def test_a_saved_session_is_reused_without_logging_in(double: BlueskyDouble) -> None:
    first = make_publisher(double)
    assert first.session is None
    first.publish(text="First", idempotency_key="k1")
    saved = first.session
    assert saved is not None

    second = make_publisher(double, session=saved, password="not-needed")
    second.publish(text="Second", idempotency_key="k2")

    assert double.calls()[CREATE_SESSION] == 1
    assert stored_texts(double) == ["Second", "First"]
    assert second.session == saved  # nothing was refreshed


def test_a_session_near_expiry_is_refreshed_and_the_new_one_exposed(
    double: BlueskyDouble,
) -> None:
    double.access_seconds = 60
    first = make_publisher(double)
    first.publish(text="First", idempotency_key="k1")
    saved = first.session

    second = make_publisher(double, session=saved)
    second.publish(text="Second", idempotency_key="k2")

    assert double.calls()[CREATE_SESSION] == 1
    assert double.calls()[REFRESH_SESSION] >= 1
    assert second.session != saved
    # The rotated session is the one that works now; the saved one's refresh token is spent.
    third = make_publisher(double, session=second.session)
    third.publish(text="Third", idempotency_key="k3")
    assert double.calls()[CREATE_SESSION] == 1


def test_a_revoked_session_falls_back_to_the_app_password(double: BlueskyDouble) -> None:
    double.access_seconds = 60  # so the SDK must refresh, and the refresh is refused
    first = make_publisher(double)
    first.publish(text="First", idempotency_key="k1")
    saved = first.session
    double.revoke_sessions(HANDLE)

    second = make_publisher(double, session=saved)
    second.publish(text="Second", idempotency_key="k2")

    assert double.calls()[CREATE_SESSION] == 2
    assert second.session != saved
    assert stored_texts(double) == ["Second", "First"]


def test_a_revoked_session_and_a_wrong_password_is_auth_failed(double: BlueskyDouble) -> None:
    double.access_seconds = 60
    first = make_publisher(double)
    first.publish(text="First", idempotency_key="k1")
    double.revoke_sessions(HANDLE)

    second = make_publisher(double, session=first.session, password="revoked-app-pass")
    with pytest.raises(AuthFailed, match=INVALID_CREDENTIALS):
        second.publish(text="Second", idempotency_key="k2")

    assert stored_texts(double) == ["First"]


@pytest.mark.parametrize(
    "saved",
    [
        "garbage",
        f"{HANDLE}:::did:plc:x:::not-a-jwt:::nor-this:::http://127.0.0.1:9",
        "other.bsky.social:::did:plc:x:::a:::b:::http://x",
    ],
)
def test_an_unusable_or_someone_elses_session_is_ignored(double: BlueskyDouble, saved: str) -> None:
    publisher = make_publisher(double, session=saved)

    publisher.publish(text="Hello", idempotency_key="k1")

    assert double.calls()[CREATE_SESSION] == 1
    assert publisher.session != saved


# The publisher: surely not sent -----------------------------------------------------------


def test_nothing_listening_is_not_sent() -> None:
    publisher = BlueskyPublisher(
        service_url=f"http://127.0.0.1:{closed_port()}", handle=HANDLE, app_password=PASSWORD
    )

    with pytest.raises(NotSent, match="Could not reach Bluesky"):
        publisher.publish(text="Hello", idempotency_key="k1")


def test_unresolvable_host_is_not_sent() -> None:
    publisher = BlueskyPublisher(
        service_url="http://no-such-host.invalid", handle=HANDLE, app_password=PASSWORD
    )

    with pytest.raises(NotSent):
        publisher.publish(text="Hello", idempotency_key="k1")


def test_a_refused_look_up_stops_before_the_create(
    monkeypatch: pytest.MonkeyPatch, double: BlueskyDouble, publisher: BlueskyPublisher
) -> None:
    publisher.publish(text="Logged in", idempotency_key="k0")
    monkeypatch.setitem(bluesky_double.RATE_LIMITS, "global", (0, 300))

    with pytest.raises(RateLimited):  # the look-up for the key is refused
        publisher.publish(text="Hello", idempotency_key="k1")

    assert double.calls()["com.atproto.repo.createRecord"] == 1


# The publisher: the platform said no ------------------------------------------------------


def test_rate_limit_carries_reset_at(double: BlueskyDouble, publisher: BlueskyPublisher) -> None:
    double.inject("429")
    before = dt.datetime.now(dt.UTC)

    with pytest.raises(RateLimited) as caught:
        publisher.publish(text="Hello", idempotency_key="k1")

    reset_at = caught.value.reset_at
    assert reset_at is not None
    assert dt.timedelta(seconds=55) < reset_at - before < dt.timedelta(seconds=65)
    assert caught.value.status_code == 429
    assert str(caught.value) == "Rate Limit Exceeded"
    assert stored_texts(double) == []


def test_rate_limited_login_is_rate_limited(
    monkeypatch: pytest.MonkeyPatch, double: BlueskyDouble
) -> None:
    monkeypatch.setitem(bluesky_double.RATE_LIMITS, "session", (0, 300))

    with pytest.raises(RateLimited) as caught:
        make_publisher(double).publish(text="Hello", idempotency_key="k1")

    assert caught.value.reset_at is not None


def test_wrong_app_password_is_auth_failed_in_the_pds_words(double: BlueskyDouble) -> None:
    with pytest.raises(AuthFailed) as caught:
        make_publisher(double, password="wrong").publish(text="Hello", idempotency_key="k1")

    assert str(caught.value) == INVALID_CREDENTIALS
    assert caught.value.status_code == 401
    assert "AuthenticationRequired" in caught.value.body


def test_fault_401_is_auth_failed(double: BlueskyDouble, publisher: BlueskyPublisher) -> None:
    double.inject("401")

    with pytest.raises(AuthFailed):
        publisher.publish(text="Hello", idempotency_key="k1")

    assert double.calls()[CREATE_SESSION] == 1  # a fresh login is not retried


def test_too_long_is_rejected_in_the_pds_words(
    double: BlueskyDouble, publisher: BlueskyPublisher
) -> None:
    with pytest.raises(Rejected) as caught:
        publisher.publish(text="a" * 301, idempotency_key="k1")

    assert str(caught.value) == TOO_LONG
    assert caught.value.status_code == 400
    assert stored_texts(double) == []


def test_an_image_over_a_megabyte_is_rejected_in_the_pds_words(
    double: BlueskyDouble, publisher: BlueskyPublisher
) -> None:
    big = Media(data=oversized_png(), content_type="image/png", alt="Noise")

    with pytest.raises(Rejected) as caught:
        publisher.publish(text="Too big", idempotency_key="k1", media=[big])

    assert str(caught.value) == image_too_big(len(big.data))
    assert caught.value.status_code == 400
    assert stored_texts(double) == []


def test_fault_400_is_rejected(double: BlueskyDouble, publisher: BlueskyPublisher) -> None:
    double.inject("400")

    with pytest.raises(Rejected, match="grapheme too big"):
        publisher.publish(text="Hello", idempotency_key="k1")


def test_reply_to_a_missing_post_is_rejected(
    double: BlueskyDouble, publisher: BlueskyPublisher
) -> None:
    did = log_in(double)["did"]
    missing = f"at://{did}/app.bsky.feed.post/3jzfcijpj2z2a"

    with pytest.raises(Rejected, match="Could not locate record"):
        publisher.publish(text="Child", idempotency_key="k1", reply_to=missing)


def test_reply_to_something_that_is_not_a_post_uri_is_rejected(
    publisher: BlueskyPublisher,
) -> None:
    with pytest.raises(Rejected, match="Not the at:// URI"):
        publisher.publish(text="Child", idempotency_key="k1", reply_to="12345")


# The publisher: outcome unknown, never re-send --------------------------------------------


@pytest.mark.parametrize(
    ("fault", "status", "stored"),
    [("5xx-before", 500, False), ("5xx-after", 500, True), ("5xx-after", 502, True)],
)
def test_5xx_on_create_is_outcome_unknown(
    double: BlueskyDouble, publisher: BlueskyPublisher, fault: str, status: int, stored: bool
) -> None:
    # 502 matters: the SDK raises it as NetworkError, the class of a refused connection.
    double.configure_faults({"server_error_status": status, "queue": [fault]})

    with pytest.raises(OutcomeUnknown) as caught:
        publisher.publish(text="Hello", idempotency_key="k1")

    assert caught.value.status_code == status
    assert stored_texts(double) == (["Hello"] if stored else [])


def test_hang_after_is_outcome_unknown(double: BlueskyDouble) -> None:
    publisher = make_publisher(double, timeout=0.3)
    double.inject("hang-after")

    with pytest.raises(OutcomeUnknown, match="ReadTimeout"):
        publisher.publish(text="Hello", idempotency_key="k1")

    assert stored_texts(double) == ["Hello"]


def test_connection_reset_is_outcome_unknown(
    double: BlueskyDouble, publisher: BlueskyPublisher
) -> None:
    double.inject("reset")

    with pytest.raises(OutcomeUnknown):
        publisher.publish(text="Hello", idempotency_key="k1")

    assert stored_texts(double) == ["Hello"]


def test_every_failure_is_a_publish_error(
    double: BlueskyDouble, publisher: BlueskyPublisher
) -> None:
    for fault in ("429", "401", "400", "5xx-before", "5xx-after", "reset"):
        double.inject(fault)
        with pytest.raises(PublishError):
            publisher.publish(text=f"Hello {fault}", idempotency_key=fault)


# The publisher: reading back and deleting -------------------------------------------------


def test_recent_posts_finds_created_posts(
    double: BlueskyDouble, publisher: BlueskyPublisher
) -> None:
    older = publisher.publish(text="Older", idempotency_key="k1")
    newer = publisher.publish(text="Newer\nwith <b>two</b> lines", idempotency_key="k2")

    posts = publisher.recent_posts()

    assert [(p.remote_id, p.text) for p in posts] == [
        (newer.remote_id, "Newer\nwith <b>two</b> lines"),
        (older.remote_id, "Older"),
    ]
    assert posts[0].remote_url == newer.remote_url


def test_recent_posts_finds_a_post_whose_answer_was_lost(
    double: BlueskyDouble, publisher: BlueskyPublisher
) -> None:
    double.inject("hang-after")
    with pytest.raises(OutcomeUnknown):
        make_publisher(double, timeout=0.3).publish(text="Did it go?", idempotency_key="k1")

    assert [p.text for p in publisher.recent_posts()] == ["Did it go?"]


def test_recent_posts_pages_up_to_the_limit(
    monkeypatch: pytest.MonkeyPatch, double: BlueskyDouble, publisher: BlueskyPublisher
) -> None:
    monkeypatch.setattr(bluesky_module, "_FEED_MAX", 5)
    for n in range(12):
        publisher.publish(text=f"post {n}", idempotency_key=str(n))

    assert [p.text for p in publisher.recent_posts(limit=3)] == ["post 11", "post 10", "post 9"]
    assert len(publisher.recent_posts(limit=11)) == 11
    assert len(publisher.recent_posts(limit=50)) == 12


def test_recent_posts_with_a_wrong_password_is_auth_failed(double: BlueskyDouble) -> None:
    with pytest.raises(AuthFailed):
        make_publisher(double, password="wrong").recent_posts()


def test_delete_removes_the_post(double: BlueskyDouble, publisher: BlueskyPublisher) -> None:
    published = publisher.publish(text="Withdrawn", idempotency_key="k1")

    publisher.delete(remote_id=published.remote_id)

    assert stored_texts(double) == []
    assert publisher.recent_posts() == []


def test_delete_of_a_post_already_gone_is_fine(
    double: BlueskyDouble, publisher: BlueskyPublisher
) -> None:
    published = publisher.publish(text="Withdrawn", idempotency_key="k1")
    publisher.delete(remote_id=published.remote_id)

    publisher.delete(remote_id=published.remote_id)


def test_delete_with_a_wrong_password_is_auth_failed(
    double: BlueskyDouble, publisher: BlueskyPublisher
) -> None:
    published = publisher.publish(text="Stays", idempotency_key="k1")

    with pytest.raises(AuthFailed):
        make_publisher(double, password="wrong").delete(remote_id=published.remote_id)

    assert stored_texts(double) == ["Stays"]
