"""The doubles' inbox endpoints keep their platforms' contracts over raw HTTP (X's mentions
timeline, Mastodon's notifications, Bluesky's listNotifications): shapes, paging, rate-limit
headers, read faults; and their control endpoints add and delete posts by the public. The
X double's generator mentions the account by itself."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Iterator

import httpx
import pytest

from doubles.bluesky import BlueskyDouble
from doubles.inbound import SAYINGS, VOICES
from doubles.mastodon import MastodonDouble
from doubles.x import XDouble
from tests.factories import wait_for

TOKEN = "inbound-test-token"
FIELDS = "created_at,conversation_id,author_id,referenced_tweets,in_reply_to_user_id"


@pytest.fixture
def x() -> Iterator[XDouble]:
    with XDouble() as double:
        double.add_user("NHSDemoBoard", token=TOKEN)
        yield double


def mentions(double: XDouble, **params: str) -> httpx.Response:
    user_id = double.add_user("NHSDemoBoard", token=TOKEN)
    return httpx.get(
        f"{double.base_url}/2/users/{user_id}/mentions",
        params={"tweet.fields": FIELDS, "expansions": "author_id", **params},
        headers={"Authorization": f"Bearer {TOKEN}"},
    )


def test_x_control_endpoint_adds_a_mention_and_the_timeline_shows_it(x):
    added = httpx.post(
        f"{x.base_url}/_double/mentions",
        json={"to": "NHSDemoBoard", "author": "sam_in_leeds", "name": "Sam", "text": "Hi"},
    )
    assert added.status_code == 201
    post_id = added.json()["id"]

    response = mentions(x, max_results="5")

    assert response.status_code == 200
    assert int(response.headers["x-rate-limit-limit"]) == 300
    assert int(response.headers["x-rate-limit-remaining"]) == 299
    body = response.json()
    (post,) = body["data"]
    assert post["id"] == post_id and post["text"] == "@NHSDemoBoard Hi"
    assert post["conversation_id"] == post_id and post["created_at"].endswith("Z")
    assert body["includes"]["users"] == [
        {"id": post["author_id"], "username": "sam_in_leeds", "name": "Sam"}
    ]
    assert body["meta"] == {"result_count": 1, "newest_id": post_id, "oldest_id": post_id}


def test_x_mentions_page_with_since_id_and_pagination_token(x):
    ids = [x.add_mention("NHSDemoBoard", author="sam_in_leeds", text=f"n{n}") for n in range(12)]

    first = mentions(x, max_results="5", since_id=ids[1]).json()
    second = mentions(
        x, max_results="5", since_id=ids[1], pagination_token=first["meta"]["next_token"]
    ).json()

    assert [p["id"] for p in first["data"]] == ids[:6:-1]
    assert [p["id"] for p in second["data"]] == ids[6:1:-1]
    assert "next_token" not in second["meta"]
    assert mentions(x, max_results="5", since_id=ids[-1]).json() == {"meta": {"result_count": 0}}


def test_x_mentions_refuse_a_bad_max_results_and_since_id(x):
    assert mentions(x, max_results="101").status_code == 400
    assert mentions(x, max_results="5", since_id="nope").status_code == 400


def test_x_reply_to_a_deleted_post_still_names_it_and_the_deleted_post_goes(x):
    root = x.add_mention("NHSDemoBoard", author="sam_in_leeds", text="Question")
    answer = x.add_mention("NHSDemoBoard", author="fionacares", text="Same", in_reply_to=root)
    assert httpx.delete(f"{x.base_url}/_double/posts/{root}").json() == {"deleted": True}

    (post,) = mentions(x, max_results="5").json()["data"]

    assert post["id"] == answer
    assert post["referenced_tweets"] == [{"type": "replied_to", "id": root}]
    assert post["conversation_id"] == root


def test_x_read_faults_answer_instead(x):
    httpx.post(f"{x.base_url}/_double/faults", json={"read_queue": ["429", "401"]})

    limited = mentions(x, max_results="5")
    refused = mentions(x, max_results="5")

    assert limited.status_code == 429
    assert int(limited.headers["x-rate-limit-reset"]) > time.time()
    assert limited.headers["x-rate-limit-remaining"] == "0"
    assert refused.status_code == 401
    assert mentions(x, max_results="5").status_code == 200
    with pytest.raises(ValueError):
        x.inject("403-duplicate", on="read")


def test_x_generates_mentions_of_the_account_by_itself():
    with XDouble() as double:
        double.add_user("NHSDemoBoard", token=TOKEN)
        double.generate_mentions("NHSDemoBoard", every=0.05)
        wait_for(lambda: len(mentions(double, max_results="5").json().get("data", [])) >= 4, 10)
    posts = [p for p in double.state()["posts"] if p["username"] != "NHSDemoBoard"]
    texts = [p["text"] for p in posts]
    assert texts[:4] == [s.format(account="NHSDemoBoard") for s in SAYINGS[:4]]
    assert [p["username"] for p in posts[:2]] == [VOICES[0].username, VOICES[1].username]


# Mastodon --------------------------------------------------------------------------------


def test_mastodon_notifications_page_with_links_and_a_deleted_status():
    with MastodonDouble() as double:
        double.add_account("nhsdemo", token=TOKEN)
        added = httpx.post(
            f"{double.base_url}/_double/mentions",
            json={"to": "nhsdemo", "author": "sam", "display_name": "Sam", "text": "Hello"},
        ).json()
        for n in range(4):
            double.add_mention("nhsdemo", author="fiona", text=f"n{n}")
        httpx.delete(f"{double.base_url}/_double/statuses/{added['id']}")
        url = f"{double.base_url}/api/v1/notifications"
        headers = {"Authorization": f"Bearer {TOKEN}"}

        first = httpx.get(url, params={"types[]": "mention", "limit": "3"}, headers=headers)
        following = first.links["next"]["url"]
        second = httpx.get(following, headers=headers)
        unauthorised = httpx.get(url)

    assert first.status_code == 200 and "X-RateLimit-Reset" in first.headers
    assert [n["type"] for n in first.json()] == ["mention"] * 3
    assert first.json()[0]["status"]["content"] == "<p>@nhsdemo n3</p>"
    assert "types%5B%5D=mention" in following and "max_id=" in following
    (older, oldest) = second.json()
    assert oldest["id"] == added["notification_id"] and oldest["status"] is None
    assert oldest["account"]["display_name"] == "Sam"
    assert older["status"]["account"]["username"] == "fiona"
    assert unauthorised.status_code == 401


# Bluesky ---------------------------------------------------------------------------------


def test_bluesky_list_notifications_pages_by_cursor_and_filters_by_reason():
    with BlueskyDouble() as double:
        double.add_account("nhsdemo.test", app_password="abcd-efgh-ijkl-mnop")
        session = httpx.post(
            f"{double.base_url}/xrpc/com.atproto.server.createSession",
            json={"identifier": "nhsdemo.test", "password": "abcd-efgh-ijkl-mnop"},
        ).json()
        first = httpx.post(
            f"{double.base_url}/_double/mentions",
            json={"to": "nhsdemo.test", "author": "sam.test", "text": "Hello"},
        ).json()["uri"]
        for n in range(3):
            double.add_mention("nhsdemo.test", author="fiona.test", text=f"n{n}")
        url = f"{double.base_url}/xrpc/app.bsky.notification.listNotifications"
        headers = {"Authorization": f"Bearer {session['accessJwt']}"}

        page = httpx.get(url, params={"limit": 3}, headers=headers).json()
        rest = httpx.get(url, params={"limit": 3, "cursor": page["cursor"]}, headers=headers)
        replies_only = httpx.get(url, params={"reasons": "reply"}, headers=headers).json()
        httpx.post(f"{double.base_url}/_double/delete", json={"uri": first})
        after_delete = httpx.get(url, headers=headers).json()
        anonymous = httpx.get(url)

    assert [n["reason"] for n in page["notifications"]] == ["mention", "mention", "mention"]
    (oldest,) = [n for n in rest.json()["notifications"] if n["uri"] == first]
    assert oldest["record"]["text"] == "@nhsdemo.test Hello"
    assert oldest["author"]["handle"] == "sam.test" and oldest["indexedAt"].endswith("Z")
    facet = oldest["record"]["facets"][0]
    assert facet["index"] == {"byteStart": 0, "byteEnd": len("@nhsdemo.test")}
    assert "cursor" not in rest.json() and "ratelimit-limit" in rest.headers
    assert replies_only["notifications"] == []
    # A deleted post's notification goes with it, as on the AppView.
    assert first not in {n["uri"] for n in after_delete["notifications"]}
    assert len(after_delete["notifications"]) == 3
    assert anonymous.status_code == 401


def test_make_runs_x_double_generates_mentions_from_the_command_line():
    """The Procfile's xdouble line: ``python -m doubles --generate-mentions SECONDS``."""
    process = subprocess.Popen(
        [sys.executable, "-m", "doubles", "--port", "0", "--quiet", "--generate-mentions", "0.1"],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        first_line = process.stdout.readline()
        base_url = first_line.rsplit(" ", 1)[-1].strip()
        assert base_url.startswith("http://127.0.0.1:")

        def mentions_posted() -> list[dict]:
            posts = httpx.get(f"{base_url}/_double/state").json()["posts"]
            return [p for p in posts if p["text"].startswith("@NHSDemoBoard ")]

        assert len(wait_for(lambda: len(mentions_posted()) >= 2 and mentions_posted(), 15)) >= 2
    finally:
        process.terminate()
        process.wait(timeout=10)
