"""XPublisher against a running X API double: every outcome lands in the right error class."""

from __future__ import annotations

import datetime as dt
import socket
from collections.abc import Iterator

import httpx
import pytest

from coaching.publishing import x as x_module
from coaching.publishing.base import (
    AuthFailed,
    NotSent,
    OutcomeUnknown,
    PublishError,
    RateLimited,
    Rejected,
    TargetGone,
)
from coaching.publishing.x import XPublisher
from doubles.x import DUPLICATE_DETAIL, TOO_LONG_DETAIL, XDouble

TOKEN = "publisher-test-token"
USERNAME = "NHSDemoBoard"


@pytest.fixture
def double() -> Iterator[XDouble]:
    double = XDouble(port=0, hang_seconds=2.0).start()
    double.add_user(USERNAME, name="NHS Demo Board", token=TOKEN)
    yield double
    double.stop()


def make_publisher(
    double: XDouble, *, token: str = TOKEN, read_timeout: float = 5.0, **kwargs: str
) -> XPublisher:
    return XPublisher(
        base_url=double.base_url,
        public_base_url=double.base_url,
        access_token=token,
        username=USERNAME,
        timeout=httpx.Timeout(read_timeout, connect=5.0),
        **kwargs,
    )


@pytest.fixture
def publisher(double: XDouble) -> XPublisher:
    return make_publisher(double)


def stored_texts(double: XDouble) -> list[str]:
    return [post.text for post in double.posts_for(USERNAME)]


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


# Publishing ---------------------------------------------------------------------------


def test_publish_returns_the_id_and_public_url(double: XDouble, publisher: XPublisher) -> None:
    published = publisher.publish(text="Clinics open as usual today.", idempotency_key="k1")

    assert published.status_code == 201
    assert published.remote_url == f"{double.base_url}/{USERNAME}/status/{published.remote_id}"
    [post] = double.posts_for(USERNAME)
    assert (post.id, post.text) == (published.remote_id, "Clinics open as usual today.")
    assert httpx.get(published.remote_url).status_code == 200


def test_public_url_defaults_to_x_com(double: XDouble) -> None:
    publisher = XPublisher(base_url=double.base_url, access_token=TOKEN, username=USERNAME)

    published = publisher.publish(text="Hello", idempotency_key="k1")

    assert published.remote_url == f"https://x.com/{USERNAME}/status/{published.remote_id}"


def test_publish_a_reply(double: XDouble, publisher: XPublisher) -> None:
    parent = publisher.publish(text="Thread 1/2", idempotency_key="k1")

    publisher.publish(text="Thread 2/2", idempotency_key="k2", reply_to=parent.remote_id)

    assert double.posts_for(USERNAME)[0].in_reply_to_tweet_id == parent.remote_id


# Surely not sent ----------------------------------------------------------------------


def test_nothing_listening_is_not_sent() -> None:
    publisher = XPublisher(
        base_url=f"http://127.0.0.1:{closed_port()}", access_token=TOKEN, username=USERNAME
    )

    with pytest.raises(NotSent):
        publisher.publish(text="Hello", idempotency_key="k1")


def test_unresolvable_host_is_not_sent() -> None:
    publisher = XPublisher(
        base_url="http://no-such-host.invalid", access_token=TOKEN, username=USERNAME
    )

    with pytest.raises(NotSent):
        publisher.publish(text="Hello", idempotency_key="k1")


def test_connect_timeout_is_not_sent() -> None:
    # TEST-NET-1 never answers: a connect timeout (or, without a route, a connect error).
    publisher = XPublisher(
        base_url="http://192.0.2.1",
        access_token=TOKEN,
        username=USERNAME,
        timeout=httpx.Timeout(5.0, connect=0.2),
    )

    with pytest.raises(NotSent):
        publisher.publish(text="Hello", idempotency_key="k1")


# The platform said no -----------------------------------------------------------------


def test_rate_limit_carries_reset_at(double: XDouble, publisher: XPublisher) -> None:
    double.inject("429")
    before = dt.datetime.now(dt.UTC)

    with pytest.raises(RateLimited) as caught:
        publisher.publish(text="Hello", idempotency_key="k1")

    reset_at = caught.value.reset_at
    assert reset_at is not None
    assert reset_at.tzinfo is not None
    assert dt.timedelta(seconds=55) < reset_at - before < dt.timedelta(seconds=65)
    assert caught.value.status_code == 429
    assert stored_texts(double) == []


def test_wrong_token_is_auth_failed(double: XDouble) -> None:
    publisher = make_publisher(double, token="revoked")

    with pytest.raises(AuthFailed) as caught:
        publisher.publish(text="Hello", idempotency_key="k1")

    assert str(caught.value) == "Unauthorized"
    assert caught.value.status_code == 401


def test_fault_401_is_auth_failed(double: XDouble, publisher: XPublisher) -> None:
    double.inject("401")

    with pytest.raises(AuthFailed):
        publisher.publish(text="Hello", idempotency_key="k1")


def test_duplicate_is_rejected_in_xs_words(double: XDouble, publisher: XPublisher) -> None:
    publisher.publish(text="Same again", idempotency_key="k1")

    with pytest.raises(Rejected) as caught:
        publisher.publish(text="Same again", idempotency_key="k2")

    assert str(caught.value) == DUPLICATE_DETAIL
    assert caught.value.status_code == 403
    assert DUPLICATE_DETAIL in caught.value.body


def test_fault_403_duplicate_is_rejected(double: XDouble, publisher: XPublisher) -> None:
    double.inject("403-duplicate")

    with pytest.raises(Rejected, match="duplicate content"):
        publisher.publish(text="Hello", idempotency_key="k1")


def test_too_long_is_rejected_in_xs_words(publisher: XPublisher) -> None:
    with pytest.raises(Rejected) as caught:
        publisher.publish(text="a" * 281, idempotency_key="k1")

    assert str(caught.value) == TOO_LONG_DETAIL
    assert caught.value.status_code == 400


def test_empty_text_is_rejected_with_the_specific_reason(publisher: XPublisher) -> None:
    with pytest.raises(Rejected) as caught:
        publisher.publish(text="", idempotency_key="k1")

    assert "text is required" in str(caught.value)


# Outcome unknown: may have been accepted, never re-send -----------------------------------


@pytest.mark.parametrize(("fault", "stored"), [("5xx-before", False), ("5xx-after", True)])
def test_5xx_on_create_is_outcome_unknown(
    double: XDouble, publisher: XPublisher, fault: str, stored: bool
) -> None:
    double.inject(fault)

    with pytest.raises(OutcomeUnknown) as caught:
        publisher.publish(text="Hello", idempotency_key="k1")

    assert caught.value.status_code == 503
    assert stored_texts(double) == (["Hello"] if stored else [])


def test_hang_after_is_outcome_unknown(double: XDouble) -> None:
    publisher = make_publisher(double, read_timeout=0.3)
    double.inject("hang-after")

    with pytest.raises(OutcomeUnknown, match="ReadTimeout"):
        publisher.publish(text="Hello", idempotency_key="k1")

    assert stored_texts(double) == ["Hello"]


def test_connection_reset_is_outcome_unknown(double: XDouble, publisher: XPublisher) -> None:
    double.inject("reset")

    with pytest.raises(OutcomeUnknown):
        publisher.publish(text="Hello", idempotency_key="k1")

    assert stored_texts(double) == ["Hello"]


def test_every_failure_is_a_publish_error(double: XDouble, publisher: XPublisher) -> None:
    for fault in ("429", "401", "403-duplicate", "5xx-before", "5xx-after", "reset"):
        double.inject(fault)
        with pytest.raises(PublishError):
            publisher.publish(text=f"Hello {fault}", idempotency_key=fault)


# Reading back and deleting --------------------------------------------------------------


def test_recent_posts_finds_a_created_post(double: XDouble, publisher: XPublisher) -> None:
    older = publisher.publish(text="Older", idempotency_key="k1")
    newer = publisher.publish(text="Newer", idempotency_key="k2")

    posts = publisher.recent_posts()

    assert [(p.remote_id, p.text) for p in posts] == [
        (newer.remote_id, "Newer"),
        (older.remote_id, "Older"),
    ]
    assert posts[0].remote_url == newer.remote_url
    assert publisher.user_id == double.users()[0].id  # resolved once via /2/users/me


def test_recent_posts_finds_a_post_whose_answer_was_lost(
    double: XDouble, publisher: XPublisher
) -> None:
    double.inject("5xx-after")
    with pytest.raises(OutcomeUnknown):
        publisher.publish(text="Did it go?", idempotency_key="k1")

    assert [p.text for p in publisher.recent_posts()] == ["Did it go?"]


def test_recent_posts_with_a_known_user_id(double: XDouble) -> None:
    publisher = make_publisher(double, user_id=double.users()[0].id)
    publisher.publish(text="Hello", idempotency_key="k1")

    assert [p.text for p in publisher.recent_posts(limit=1)] == ["Hello"]


def test_recent_posts_pages_up_to_the_limit(
    monkeypatch: pytest.MonkeyPatch, publisher: XPublisher
) -> None:
    monkeypatch.setattr(x_module, "_PAGE_MAX", 5)
    for n in range(12):
        publisher.publish(text=f"post {n}", idempotency_key=str(n))

    assert [p.text for p in publisher.recent_posts(limit=3)] == ["post 11", "post 10", "post 9"]
    assert len(publisher.recent_posts(limit=11)) == 11
    assert len(publisher.recent_posts(limit=50)) == 12


def test_recent_posts_with_a_bad_token_is_auth_failed(double: XDouble) -> None:
    with pytest.raises(AuthFailed):
        make_publisher(double, token="revoked").recent_posts()


def test_delete_removes_the_post(double: XDouble, publisher: XPublisher) -> None:
    published = publisher.publish(text="Withdrawn", idempotency_key="k1")

    publisher.delete(remote_id=published.remote_id)

    assert stored_texts(double) == []
    assert publisher.recent_posts() == []


def test_delete_of_a_post_already_gone_is_fine(publisher: XPublisher) -> None:
    publisher.delete(remote_id="12345")


def test_delete_with_a_bad_token_is_auth_failed(double: XDouble, publisher: XPublisher) -> None:
    published = publisher.publish(text="Stays", idempotency_key="k1")

    with pytest.raises(AuthFailed):
        make_publisher(double, token="revoked").delete(remote_id=published.remote_id)

    assert stored_texts(double) == ["Stays"]


# Answers: a reply to or quote of someone else's post ------------------------------------


def test_quote_of_sends_quote_tweet_id(double: XDouble, publisher: XPublisher) -> None:
    quoted = publisher.publish(text="To be quoted", idempotency_key="q-0").remote_id

    published = publisher.publish(text="Quoting it", idempotency_key="q-1", quote_of=quoted)

    post = next(p for p in double.posts_for(USERNAME) if p.id == published.remote_id)
    assert post.quote_tweet_id == quoted and post.in_reply_to_tweet_id is None


@pytest.mark.parametrize("answer", ["reply_to", "quote_of"])
def test_an_answer_to_a_deleted_post_is_target_gone(
    double: XDouble, publisher: XPublisher, answer: str
) -> None:
    gone = publisher.publish(text="Soon deleted", idempotency_key="g-0").remote_id
    publisher.delete(remote_id=gone)

    with pytest.raises(TargetGone, match="deleted or not visible") as raised:
        publisher.publish(text="Answer", idempotency_key="g-1", **{answer: gone})

    assert isinstance(raised.value, Rejected) and raised.value.status_code == 403
    assert stored_texts(double) == []


def test_a_duplicate_reply_is_rejected_not_target_gone(
    double: XDouble, publisher: XPublisher
) -> None:
    parent = publisher.publish(text="Parent", idempotency_key="d-0").remote_id
    publisher.publish(text="Same words", idempotency_key="d-1")

    with pytest.raises(Rejected) as raised:
        publisher.publish(text="Same words", idempotency_key="d-2", reply_to=parent)

    assert not isinstance(raised.value, TargetGone)
