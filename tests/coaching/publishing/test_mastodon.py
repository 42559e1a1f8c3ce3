"""coaching/publishing/mastodon.py: the Mastodon publisher, driving the real Mastodon.py
against the Mastodon double over real HTTP, maps every outcome to its error class and reads
back and deletes what it posted. (The double's own contract is in tests/doubles/.)"""

import datetime as dt
import socket
from collections.abc import Iterator

import httpx
import pytest

from coaching.publishing import mastodon as mastodon_module
from coaching.publishing.base import (
    AuthFailed,
    NotSent,
    OutcomeUnknown,
    PublishError,
    RateLimited,
    Rejected,
    TargetGone,
)
from coaching.publishing.mastodon import MastodonPublisher, plain_text
from doubles import mastodon as mastodon_double
from doubles.mastodon import (
    BLANK_TEXT,
    INVALID_TOKEN,
    REPLY_NOT_FOUND,
    TOO_LONG,
    MastodonDouble,
)

TOKEN = "mastodon-token-nhs"


OTHER_TOKEN = "mastodon-token-other"


USERNAME = "nhsdemoboard"


@pytest.fixture
def double() -> Iterator[MastodonDouble]:
    double = MastodonDouble(hang_seconds=1.0).start()
    double.add_account(USERNAME, token=TOKEN, display_name="NHS Demo Board")
    double.add_account("otherboard", token=OTHER_TOKEN)
    yield double
    double.stop()


def stored_texts(double: MastodonDouble) -> list[str]:
    return [status.text for status in double.statuses_for(USERNAME)]


def make_publisher(
    double: MastodonDouble, *, token: str = TOKEN, timeout: float = 5.0
) -> MastodonPublisher:
    return MastodonPublisher(api_base_url=double.base_url, access_token=token, timeout=timeout)


@pytest.fixture
def publisher(double: MastodonDouble) -> MastodonPublisher:
    return make_publisher(double)


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_the_publisher_asks_nothing_at_construction(double: MastodonDouble) -> None:
    make_publisher(double)

    assert double.calls() == {}


# The publisher: publishing ----------------------------------------------------------------


def test_publish_returns_the_id_and_public_url(
    double: MastodonDouble, publisher: MastodonPublisher
) -> None:
    published = publisher.publish(text="Clinics open as usual today.", idempotency_key="k1")

    assert published.status_code == 200
    assert published.remote_url == f"{double.base_url}/@{USERNAME}/{published.remote_id}"
    [status] = double.statuses_for(USERNAME)
    assert (status.id, status.text) == (published.remote_id, "Clinics open as usual today.")
    page = httpx.get(published.remote_url)
    assert page.status_code == 200
    assert "Clinics open as usual today." in page.text


def test_publish_a_reply_chain(double: MastodonDouble, publisher: MastodonPublisher) -> None:
    first = publisher.publish(text="Thread 1/3", idempotency_key="k1")
    second = publisher.publish(text="Thread 2/3", idempotency_key="k2", reply_to=first.remote_id)
    third = publisher.publish(text="Thread 3/3", idempotency_key="k3", reply_to=second.remote_id)

    by_id = {s.id: s for s in double.statuses_for(USERNAME)}
    assert by_id[first.remote_id].in_reply_to_id is None
    assert by_id[second.remote_id].in_reply_to_id == first.remote_id
    assert by_id[third.remote_id].in_reply_to_id == second.remote_id


def test_same_idempotency_key_twice_makes_one_post(
    double: MastodonDouble, publisher: MastodonPublisher
) -> None:
    first = publisher.publish(text="Only once", idempotency_key="publication-7")

    again = publisher.publish(text="Only once", idempotency_key="publication-7")

    assert again.remote_id == first.remote_id
    assert stored_texts(double) == ["Only once"]


def test_after_a_lost_answer_the_same_key_finds_the_post(
    double: MastodonDouble, publisher: MastodonPublisher
) -> None:
    double.inject("5xx-after")
    with pytest.raises(OutcomeUnknown):
        publisher.publish(text="Did it go?", idempotency_key="publication-8")

    published = publisher.publish(text="Did it go?", idempotency_key="publication-8")

    assert [s.id for s in double.statuses_for(USERNAME)] == [published.remote_id]


# The publisher: surely not sent -----------------------------------------------------------


def test_nothing_listening_is_not_sent() -> None:
    publisher = MastodonPublisher(
        api_base_url=f"http://127.0.0.1:{closed_port()}", access_token=TOKEN
    )

    with pytest.raises(NotSent, match="Could not reach Mastodon"):
        publisher.publish(text="Hello", idempotency_key="k1")


def test_unresolvable_host_is_not_sent() -> None:
    publisher = MastodonPublisher(api_base_url="http://no-such-host.invalid", access_token=TOKEN)

    with pytest.raises(NotSent):
        publisher.publish(text="Hello", idempotency_key="k1")


# The publisher: the platform said no ------------------------------------------------------


def test_rate_limit_carries_reset_at(double: MastodonDouble, publisher: MastodonPublisher) -> None:
    double.inject("429")
    before = dt.datetime.now(dt.UTC)

    with pytest.raises(RateLimited) as caught:
        publisher.publish(text="Hello", idempotency_key="k1")

    reset_at = caught.value.reset_at
    assert reset_at is not None
    assert reset_at.tzinfo is not None
    assert dt.timedelta(seconds=55) < reset_at - before < dt.timedelta(seconds=65)
    assert caught.value.status_code == 429
    assert str(caught.value) == "Too many requests"
    assert stored_texts(double) == []


def test_wrong_token_is_auth_failed_in_mastodons_words(double: MastodonDouble) -> None:
    with pytest.raises(AuthFailed) as caught:
        make_publisher(double, token="revoked").publish(text="Hello", idempotency_key="k1")

    assert str(caught.value) == INVALID_TOKEN
    assert caught.value.status_code == 401
    assert INVALID_TOKEN in caught.value.body


def test_fault_401_is_auth_failed(double: MastodonDouble, publisher: MastodonPublisher) -> None:
    double.inject("401")

    with pytest.raises(AuthFailed):
        publisher.publish(text="Hello", idempotency_key="k1")


@pytest.mark.parametrize(("text", "words"), [("a" * 501, TOO_LONG), ("   ", BLANK_TEXT)])
def test_invalid_text_is_rejected_in_mastodons_words(
    publisher: MastodonPublisher, text: str, words: str
) -> None:
    with pytest.raises(Rejected) as caught:
        publisher.publish(text=text, idempotency_key="k1")

    assert str(caught.value) == words
    assert caught.value.status_code == 422


def test_fault_422_is_rejected(double: MastodonDouble, publisher: MastodonPublisher) -> None:
    double.inject("422")

    with pytest.raises(Rejected, match="character limit"):
        publisher.publish(text="Hello", idempotency_key="k1")


def test_reply_to_a_missing_post_is_rejected(publisher: MastodonPublisher) -> None:
    with pytest.raises(Rejected) as caught:
        publisher.publish(text="Child", idempotency_key="k1", reply_to="12345")

    assert str(caught.value) == REPLY_NOT_FOUND
    assert caught.value.status_code == 404


# The publisher: outcome unknown, never re-send --------------------------------------------


@pytest.mark.parametrize(("fault", "stored"), [("5xx-before", False), ("5xx-after", True)])
def test_5xx_on_create_is_outcome_unknown(
    double: MastodonDouble, publisher: MastodonPublisher, fault: str, stored: bool
) -> None:
    double.inject(fault)

    with pytest.raises(OutcomeUnknown) as caught:
        publisher.publish(text="Hello", idempotency_key="k1")

    assert caught.value.status_code == 503
    assert str(caught.value) == mastodon_double.TEMPORARY_FAILURE
    assert stored_texts(double) == (["Hello"] if stored else [])


def test_hang_after_is_outcome_unknown(double: MastodonDouble) -> None:
    publisher = make_publisher(double, timeout=0.3)
    double.inject("hang-after")

    with pytest.raises(OutcomeUnknown, match="Read timed out"):
        publisher.publish(text="Hello", idempotency_key="k1")

    assert stored_texts(double) == ["Hello"]


def test_connection_reset_is_outcome_unknown(
    double: MastodonDouble, publisher: MastodonPublisher
) -> None:
    double.inject("reset")

    with pytest.raises(OutcomeUnknown, match="reset"):
        publisher.publish(text="Hello", idempotency_key="k1")

    assert stored_texts(double) == ["Hello"]


def test_every_failure_is_a_publish_error(
    double: MastodonDouble, publisher: MastodonPublisher
) -> None:
    for fault in ("429", "401", "422", "5xx-before", "5xx-after", "reset"):
        double.inject(fault)
        with pytest.raises(PublishError):
            publisher.publish(text=f"Hello {fault}", idempotency_key=fault)


# The publisher: reading back and deleting -------------------------------------------------


def test_recent_posts_finds_created_posts_as_text(
    double: MastodonDouble, publisher: MastodonPublisher
) -> None:
    older = publisher.publish(text="Older", idempotency_key="k1")
    text = "Newer <b>&</b> 'quoted'\nline two\n\nParagraph https://example.org/a?b=1&c=2"
    newer = publisher.publish(text=text, idempotency_key="k2")

    posts = publisher.recent_posts()

    assert [(p.remote_id, p.text) for p in posts] == [
        (newer.remote_id, text),
        (older.remote_id, "Older"),
    ]
    assert posts[0].remote_url == newer.remote_url


def test_recent_posts_finds_a_post_whose_answer_was_lost(
    double: MastodonDouble, publisher: MastodonPublisher
) -> None:
    double.inject("5xx-after")
    with pytest.raises(OutcomeUnknown):
        publisher.publish(text="Did it go?", idempotency_key="k1")

    assert [p.text for p in publisher.recent_posts()] == ["Did it go?"]


def test_recent_posts_pages_up_to_the_limit(
    monkeypatch: pytest.MonkeyPatch, double: MastodonDouble, publisher: MastodonPublisher
) -> None:
    monkeypatch.setattr(mastodon_module, "_PAGE_MAX", 5)
    for n in range(12):
        publisher.publish(text=f"post {n}", idempotency_key=str(n))

    assert [p.text for p in publisher.recent_posts(limit=3)] == ["post 11", "post 10", "post 9"]
    assert len(publisher.recent_posts(limit=11)) == 11
    assert len(publisher.recent_posts(limit=50)) == 12
    assert double.calls()["GET /api/v1/accounts/verify_credentials"] == 1  # asked once


def test_recent_posts_with_a_bad_token_is_auth_failed(double: MastodonDouble) -> None:
    with pytest.raises(AuthFailed):
        make_publisher(double, token="revoked").recent_posts()


def test_delete_removes_the_post(double: MastodonDouble, publisher: MastodonPublisher) -> None:
    published = publisher.publish(text="Withdrawn", idempotency_key="k1")

    publisher.delete(remote_id=published.remote_id)

    assert stored_texts(double) == []
    assert publisher.recent_posts() == []


def test_delete_of_a_post_already_gone_is_fine(publisher: MastodonPublisher) -> None:
    publisher.delete(remote_id="12345")


def test_delete_with_a_bad_token_is_auth_failed(
    double: MastodonDouble, publisher: MastodonPublisher
) -> None:
    published = publisher.publish(text="Stays", idempotency_key="k1")

    with pytest.raises(AuthFailed):
        make_publisher(double, token="revoked").delete(remote_id=published.remote_id)

    assert stored_texts(double) == ["Stays"]


@pytest.mark.parametrize(
    ("content", "text"),
    [
        ("<p>One</p>", "One"),
        ("<p>a<br />b</p><p>c</p>", "a\nb\n\nc"),
        ("<p>&lt;b&gt; &amp; &#39;x&#39;</p>", "<b> & 'x'"),
        (
            '<p>See <a href="https://example.org/long/path" rel="nofollow noopener" '
            'target="_blank"><span class="invisible">https://</span>'
            '<span class="ellipsis">example.org/lo</span>'
            '<span class="invisible">ng/path</span></a></p>',
            "See https://example.org/long/path",
        ),
        ("", ""),
    ],
)
def test_plain_text_undoes_mastodons_formatting(content: str, text: str) -> None:
    assert plain_text(content) == text


# Answers: a reply to or quote of someone else's status -----------------------------------


def test_quote_of_sends_quoted_status_id(
    double: MastodonDouble, publisher: MastodonPublisher
) -> None:
    theirs = make_publisher(double, token=OTHER_TOKEN).publish(text="Theirs", idempotency_key="t")

    published = publisher.publish(text="Ours", idempotency_key="o", quote_of=theirs.remote_id)

    [status] = double.statuses_for(USERNAME)
    assert status.id == published.remote_id
    assert status.quoted_status_id == theirs.remote_id and status.in_reply_to_id is None


@pytest.mark.parametrize("answer", ["reply_to", "quote_of"])
def test_an_answer_to_a_deleted_status_is_target_gone(
    double: MastodonDouble, publisher: MastodonPublisher, answer: str
) -> None:
    other = make_publisher(double, token=OTHER_TOKEN)
    gone = other.publish(text="Soon deleted", idempotency_key="g").remote_id
    other.delete(remote_id=gone)

    with pytest.raises(TargetGone, match="does not appear to exist") as raised:
        publisher.publish(text="Answer", idempotency_key="a", **{answer: gone})

    assert raised.value.status_code == 404
    assert stored_texts(double) == []
