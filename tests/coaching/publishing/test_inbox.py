"""Each publisher's inbox read (``inbox_since``) against its platform's double over real
HTTP: what it maps each post to, where the next read starts, and the error classes of a
refusal. The fetch service's rules (storing once, the cursor) are in
tests/coaching/services/test_fetching.py."""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Iterator

import httpx
import pytest

from coaching.publishing.base import AuthFailed, PublishError, RateLimited
from coaching.publishing.bluesky import BlueskyPublisher, stop_mark
from coaching.publishing.mastodon import MastodonPublisher
from coaching.publishing.x import XPublisher
from doubles.bluesky import BlueskyDouble
from doubles.mastodon import MastodonDouble
from doubles.x import XDouble

TOKEN = "inbox-test-token"
BLUESKY_PASSWORD = "abcd-efgh-ijkl-mnop"


@pytest.fixture
def x() -> Iterator[XDouble]:
    with XDouble(rate_limit_reset_seconds=90) as double:
        double.add_user("NHSDemoBoard", token=TOKEN)
        yield double


@pytest.fixture
def x_publisher(x: XDouble) -> XPublisher:
    return XPublisher(
        base_url=x.base_url,
        public_base_url=x.base_url,
        access_token=TOKEN,
        username="NHSDemoBoard",
    )


@pytest.fixture
def mastodon() -> Iterator[MastodonDouble]:
    with MastodonDouble() as double:
        double.add_account("nhsdemo", token=TOKEN)
        yield double


@pytest.fixture
def bluesky() -> Iterator[BlueskyDouble]:
    with BlueskyDouble() as double:
        double.add_account("nhsdemo.test", app_password=BLUESKY_PASSWORD)
        yield double


def bluesky_publisher(double: BlueskyDouble) -> BlueskyPublisher:
    return BlueskyPublisher(
        service_url=double.base_url, handle="nhsdemo.test", app_password=BLUESKY_PASSWORD
    )


# X ---------------------------------------------------------------------------------------


def test_x_reads_mentions_replies_and_quotes_with_their_authors(x, x_publisher):
    root = x.add_mention("NHSDemoBoard", author="sam_in_leeds", name="Sam", text="Open today?")
    reply = x.add_mention("NHSDemoBoard", author="fionacares", text="Me too", in_reply_to=root)
    quoted = x.add_mention("NHSDemoBoard", author="localnewsdesk", text="See", quote_of=root)

    page = x_publisher.inbox_since()

    assert [p.remote_id for p in page.items] == [quoted, reply, root]
    assert page.newest_id == quoted
    first = page.items[2]
    assert (first.kind, first.author_handle, first.author_name) == (
        "mention",
        "sam_in_leeds",
        "Sam",
    )
    assert first.text == "@NHSDemoBoard Open today?"
    assert first.remote_url == f"{x.base_url}/sam_in_leeds/status/{root}"
    assert first.posted_at.tzinfo is not None
    assert abs(first.posted_at - dt.datetime.now(dt.UTC)) < dt.timedelta(minutes=1)
    assert (page.items[1].kind, page.items[1].in_reply_to_id) == ("reply", root)
    assert page.items[1].conversation_id == root
    assert page.items[0].kind == "quote"


def test_x_pages_back_to_the_since_id_and_the_first_read_takes_one_page(x, x_publisher):
    ids = [x.add_mention("NHSDemoBoard", author="sam_in_leeds", text=f"n{n}") for n in range(250)]

    first = x_publisher.inbox_since()
    rest = x_publisher.inbox_since(since_id=ids[9])

    assert len(first.items) == 100 and first.newest_id == ids[-1]
    assert [p.remote_id for p in rest.items] == list(reversed(ids[10:]))
    assert rest.newest_id == ids[-1]
    assert x_publisher.inbox_since(since_id=ids[-1]).items == ()
    assert x_publisher.inbox_since(since_id=ids[-1]).newest_id == ids[-1]


def test_x_rate_limit_carries_the_reset_from_its_headers(x, x_publisher):
    x.inject("429", on="read")
    before = time.time()

    with pytest.raises(RateLimited) as caught:
        x_publisher.inbox_since(since_id="1")

    assert caught.value.reset_at is not None
    assert before + 85 <= caught.value.reset_at.timestamp() <= time.time() + 91


def test_x_revoked_token_is_auth_failed(x, x_publisher):
    revoked = httpx.post(
        f"{x.base_url}/2/oauth2/revoke", data={"token": TOKEN, "client_id": "sandpit"}
    )
    assert revoked.json() == {"revoked": True}

    with pytest.raises(AuthFailed):
        x_publisher.inbox_since(since_id="1")


# Mastodon --------------------------------------------------------------------------------


def test_mastodon_follows_its_pagination_back_to_the_since_id(mastodon):
    made = [mastodon.add_mention("nhsdemo", author="sam", text=f"n{n}") for n in range(200)]
    publisher = MastodonPublisher(api_base_url=mastodon.base_url, access_token=TOKEN)

    first = publisher.inbox_since()
    rest = publisher.inbox_since(since_id=made[19][1])  # a notification id

    assert len(first.items) == 80 and first.newest_id == made[-1][1]
    assert [p.remote_id for p in rest.items] == [status for status, _ in reversed(made[20:])]
    assert rest.newest_id == made[-1][1]
    assert rest.items[0].author_handle == "sam" and rest.items[0].text == "@nhsdemo n199"


def test_mastodon_skips_a_deleted_status_and_counts_it(mastodon):
    own = MastodonPublisher(api_base_url=mastodon.base_url, access_token=TOKEN)
    kept, _ = mastodon.add_mention("nhsdemo", author="sam", text="Kept")
    gone, gone_notification = mastodon.add_mention("nhsdemo", author="sam", text="Gone")
    mastodon.delete_status(gone)

    page = own.inbox_since()

    assert [p.remote_id for p in page.items] == [kept]
    assert page.skipped == 1
    # The deleted status's notification still moves the since-id on.
    assert page.newest_id == gone_notification


def test_mastodon_reply_names_the_status_it_answers(mastodon):
    publisher = MastodonPublisher(api_base_url=mastodon.base_url, access_token=TOKEN)
    root, _ = mastodon.add_mention("nhsdemo", author="sam", text="Question")
    answer, _ = mastodon.add_mention("nhsdemo", author="fiona", text="Same", in_reply_to=root)

    (newest, _older) = publisher.inbox_since().items

    assert (newest.remote_id, newest.kind, newest.in_reply_to_id) == (answer, "reply", root)


def test_mastodon_rate_limit_and_refused_token(mastodon):
    publisher = MastodonPublisher(api_base_url=mastodon.base_url, access_token=TOKEN)
    mastodon.inject("429", "401", "5xx-before", on="read")

    with pytest.raises(RateLimited) as limited:
        publisher.inbox_since()
    with pytest.raises(AuthFailed):
        publisher.inbox_since()
    with pytest.raises(PublishError):
        publisher.inbox_since()

    assert limited.value.reset_at is not None
    assert limited.value.reset_at > dt.datetime.now(dt.UTC) + dt.timedelta(seconds=50)


# Bluesky ---------------------------------------------------------------------------------


def test_bluesky_reads_mentions_replies_and_quotes_down_to_the_stop_mark(bluesky):
    publisher = bluesky_publisher(bluesky)
    publisher.publish(text="Clinics open as usual", idempotency_key="ours-1")
    (ours,) = bluesky.posts_for("nhsdemo.test")
    early = [
        bluesky.add_mention("nhsdemo.test", author="sam.test", text=f"n{n}") for n in range(150)
    ]
    first = publisher.inbox_since()
    assert len(first.items) == 100 and first.items[0].remote_id == early[-1]
    assert first.newest_id.endswith(f" {early[-1]}")

    reply = bluesky.add_mention(
        "nhsdemo.test", author="fiona.test", text="Thanks!", reply_to=ours.uri
    )
    quote = bluesky.add_mention(
        "nhsdemo.test", author="news.test", text="Worth reading", quote_of=ours.uri
    )
    later = [
        bluesky.add_mention("nhsdemo.test", author="sam.test", text=f"m{n}") for n in range(110)
    ]

    rest = publisher.inbox_since(since_id=first.newest_id)

    assert [p.remote_id for p in rest.items] == [*reversed(later), quote, reply]
    by_id = {p.remote_id: p for p in rest.items}
    assert (by_id[reply].kind, by_id[reply].in_reply_to_id) == ("reply", ours.uri)
    assert by_id[reply].conversation_id == ours.uri
    assert by_id[quote].kind == "quote"
    assert by_id[later[0]].author_handle == "sam.test"
    assert by_id[later[0]].remote_url.endswith(f"/profile/sam.test/post/{later[0].rsplit('/')[-1]}")
    assert rest.newest_id.endswith(f" {later[-1]}")
    assert publisher.inbox_since(since_id=rest.newest_id).items == ()


def test_bluesky_stop_mark_of_a_deleted_post_stops_by_time(bluesky):
    publisher = bluesky_publisher(bluesky)
    uris = []
    for n in range(3):
        uris.append(bluesky.add_mention("nhsdemo.test", author="sam.test", text=f"n{n}"))
        time.sleep(0.002)  # each indexed at its own millisecond (those sharing the mark's
        # moment are read again, and the fetch counts them as duplicates)
    mark = publisher.inbox_since().newest_id
    bluesky.delete_post(uris[-1])  # the post the mark names is gone
    time.sleep(0.002)  # so the next post is indexed later than the mark
    newer = bluesky.add_mention("nhsdemo.test", author="sam.test", text="newer")

    page = publisher.inbox_since(since_id=mark)

    assert [p.remote_id for p in page.items] == [newer]


def test_bluesky_stop_mark_reads_back():
    mark = stop_mark("2026-12-07T01:00:00.000Z", "at://did:plc:abc/app.bsky.feed.post/3k")
    assert mark == "2026-12-07T01:00:00.000Z at://did:plc:abc/app.bsky.feed.post/3k"


def test_bluesky_rate_limit_and_refused_session(bluesky):
    publisher = bluesky_publisher(bluesky)
    bluesky.inject("429", "401", on="read")

    with pytest.raises(RateLimited) as limited:
        publisher.inbox_since()
    with pytest.raises(AuthFailed):
        publisher.inbox_since()

    assert limited.value.reset_at is not None
    assert limited.value.reset_at > dt.datetime.now(dt.UTC) + dt.timedelta(seconds=50)
