"""The Bluesky double (doubles/bluesky.py) keeps the PDS's XRPC contract over real HTTP, its
faults do what they say, and the real atproto SDK works against it. (The publisher that
drives it is tested in tests/coaching/publishing/test_bluesky.py.)"""

from __future__ import annotations

import base64
import datetime as dt
import json
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from atproto_client import Client

from doubles import bluesky as bluesky_double
from doubles.bluesky import (
    INVALID_CREDENTIALS,
    BlueskyDouble,
    tid,
    too_long,
)
from doubles.mastodon import grapheme_count
from tests.doubles.bluesky_client import (
    CREATE_SESSION,
    HANDLE,
    OTHER_HANDLE,
    OTHER_PASSWORD,
    PASSWORD,
    REFRESH_SESSION,
    TID_CHARS,
    log_in,
    stored_texts,
    xrpc,
)

RATE_HEADERS = ("ratelimit-limit", "ratelimit-remaining", "ratelimit-reset", "ratelimit-policy")


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


def create(double: BlueskyDouble, session: dict, text: str, **extra: Any) -> httpx.Response:
    record = {"$type": "app.bsky.feed.post", "text": text, "createdAt": now_iso()} | extra.pop(
        "record", {}
    )
    body = {"repo": session["did"], "collection": "app.bsky.feed.post", "record": record} | extra
    return xrpc(double, "com.atproto.repo.createRecord", token=session["accessJwt"], json=body)


def now_iso() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def jwt_parts(token: str) -> tuple[dict, dict]:
    header, payload, _ = token.split(".")
    return b64_json(header), b64_json(payload)


def b64_json(part: str) -> dict:
    decoded: dict = json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))
    return decoded


# The double: sessions ---------------------------------------------------------------------


def test_create_session_gives_jwts_the_sdk_can_read(double: BlueskyDouble) -> None:
    session = log_in(double)

    assert session["handle"] == HANDLE
    assert session["did"].startswith("did:plc:")
    access_header, access = jwt_parts(session["accessJwt"])
    refresh_header, refresh = jwt_parts(session["refreshJwt"])
    assert (access_header["typ"], access_header["alg"]) == ("at+jwt", "HS256")
    assert access["sub"] == session["did"]
    assert access["scope"] == "com.atproto.appPass"
    assert access["exp"] - time.time() == pytest.approx(2 * 3600, abs=5)
    assert refresh_header["typ"] == "refresh+jwt"
    assert refresh["scope"] == "com.atproto.refresh"
    [service] = session["didDoc"]["service"]
    assert service == {
        "id": "#atproto_pds",
        "type": "AtprotoPersonalDataServer",
        "serviceEndpoint": double.base_url,
    }


def test_create_session_by_did_and_case_insensitive_handle(double: BlueskyDouble) -> None:
    did = log_in(double)["did"]

    assert log_in(double, did)["did"] == did
    assert log_in(double, HANDLE.upper())["did"] == did


@pytest.mark.parametrize(
    "body",
    [
        {"identifier": HANDLE, "password": "wrong-pass-word-here"},
        {"identifier": "nobody.bsky.social", "password": PASSWORD},
        {"identifier": HANDLE, "password": OTHER_PASSWORD},
    ],
)
def test_wrong_credentials_are_401(double: BlueskyDouble, body: dict[str, str]) -> None:
    response = xrpc(double, CREATE_SESSION, json=body)

    assert response.status_code == 401
    assert response.json() == {"error": "AuthenticationRequired", "message": INVALID_CREDENTIALS}


def test_create_session_needs_both_properties(double: BlueskyDouble) -> None:
    response = xrpc(double, CREATE_SESSION, json={"identifier": HANDLE})

    assert response.status_code == 400
    assert response.json() == {
        "error": "InvalidRequest",
        "message": 'Input must have the property "password"',
    }


def test_get_session(double: BlueskyDouble, session: dict) -> None:
    response = xrpc(double, "com.atproto.server.getSession", token=session["accessJwt"])

    assert response.status_code == 200
    assert (response.json()["did"], response.json()["handle"]) == (session["did"], HANDLE)


def test_refresh_rotates_and_a_spent_refresh_token_is_revoked(
    double: BlueskyDouble, session: dict
) -> None:
    refreshed = xrpc(double, REFRESH_SESSION, token=session["refreshJwt"], json={})
    replayed = xrpc(double, REFRESH_SESSION, token=session["refreshJwt"], json={})

    assert refreshed.status_code == 200
    assert refreshed.json()["refreshJwt"] != session["refreshJwt"]
    assert refreshed.json()["did"] == session["did"]
    assert replayed.status_code == 400
    assert replayed.json() == {"error": "ExpiredToken", "message": "Token has been revoked"}
    again = xrpc(double, REFRESH_SESSION, token=refreshed.json()["refreshJwt"], json={})
    assert again.status_code == 200


def test_tokens_are_checked(double: BlueskyDouble, session: dict) -> None:
    get_session = "com.atproto.server.getSession"
    tampered = session["accessJwt"][:-4] + "AAAA"

    missing = xrpc(double, get_session)
    forged = xrpc(double, get_session, token=tampered)
    refresh_as_access = xrpc(double, get_session, token=session["refreshJwt"])
    access_as_refresh = xrpc(double, REFRESH_SESSION, token=session["accessJwt"], json={})

    assert (missing.status_code, missing.json()["error"]) == (401, "AuthMissing")
    assert (forged.status_code, forged.json()["error"]) == (400, "InvalidToken")
    assert (refresh_as_access.status_code, refresh_as_access.json()["error"]) == (
        400,
        "InvalidToken",
    )
    assert access_as_refresh.json()["error"] == "InvalidToken"


def test_an_expired_access_token_is_400_expired_token(double: BlueskyDouble) -> None:
    double.access_seconds = -1
    session = log_in(double)

    response = xrpc(double, "com.atproto.server.getSession", token=session["accessJwt"])

    assert response.status_code == 400
    assert response.json() == {"error": "ExpiredToken", "message": "Token has expired"}


def test_revoking_sessions_kills_refresh_tokens(double: BlueskyDouble, session: dict) -> None:
    double.revoke_sessions(HANDLE)

    response = xrpc(double, REFRESH_SESSION, token=session["refreshJwt"], json={})

    assert response.json()["error"] == "ExpiredToken"


# The double: records ----------------------------------------------------------------------


def test_create_record_answers_with_uri_and_cid(double: BlueskyDouble, session: dict) -> None:
    response = create(double, session, "Flu jabs at all sites this week.")

    assert response.status_code == 200
    body = response.json()
    prefix = f"at://{session['did']}/app.bsky.feed.post/"
    assert body["uri"].startswith(prefix)
    rkey = body["uri"].removeprefix(prefix)
    assert len(rkey) == 13 and set(rkey) <= TID_CHARS
    assert body["cid"].startswith("bafyrei")
    assert body["validationStatus"] == "valid"
    assert set(body["commit"]) == {"cid", "rev"}
    assert stored_texts(double) == ["Flu jabs at all sites this week."]


def test_a_quote_is_a_record_embed_and_shown_so(double: BlueskyDouble, session: dict) -> None:
    quoted = create(double, session, "Theirs").json()
    ref = {"uri": quoted["uri"], "cid": quoted["cid"]}

    response = create(
        double,
        session,
        "Ours",
        record={"embed": {"$type": "app.bsky.embed.record", "record": ref}},
    )

    assert response.status_code == 200
    [post] = [p for p in double.posts_for(HANDLE) if p.text == "Ours"]
    assert post.quoted == quoted["uri"] and post.reply_parent is None
    rkey = post.rkey
    page = httpx.get(f"{double.base_url}/profile/{HANDLE}/post/{rkey}").text
    assert f"Quoting {quoted['uri']}." in page


@pytest.mark.parametrize(
    "embed",
    [
        {
            "$type": "app.bsky.embed.record",
            "record": {"uri": "at://did:plc:x/app.bsky.feed.post/1"},
        },
        {"$type": "app.bsky.embed.record"},
        {"$type": "app.bsky.embed.recordWithMedia", "record": {"record": {"uri": "u", "cid": "c"}}},
        {"$type": "app.bsky.embed.external"},
    ],
)
def test_a_malformed_quote_embed_is_refused(double: BlueskyDouble, session: dict, embed) -> None:
    response = create(double, session, "Ours", record={"embed": embed})

    assert response.status_code == 400
    assert response.json()["error"] == "InvalidRequest"
    assert double.posts_for(HANDLE) == []


def test_record_keys_the_pds_picks_increase(double: BlueskyDouble, session: dict) -> None:
    keys = [create(double, session, f"post {n}").json()["uri"][-13:] for n in range(5)]

    assert keys == sorted(keys)
    assert len(set(keys)) == 5


def test_a_client_chosen_record_key_is_kept(double: BlueskyDouble, session: dict) -> None:
    rkey = tid(1_700_000_000_000_000, 7)

    response = create(double, session, "Chosen key", rkey=rkey)

    assert response.json()["uri"].endswith(f"/app.bsky.feed.post/{rkey}")


def test_a_record_key_in_use_is_refused_as_the_pds_does(
    double: BlueskyDouble, session: dict
) -> None:
    rkey = tid(1_700_000_000_000_000, 7)
    create(double, session, "First", rkey=rkey)

    response = create(double, session, "Second", rkey=rkey)

    assert response.status_code == 500
    assert response.json() == {"error": "InternalServerError", "message": "Internal Server Error"}
    assert stored_texts(double) == ["First"]


@pytest.mark.parametrize("rkey", ["not-a-tid", "3jzfcijpj2z2aa", "k"])
def test_post_record_keys_must_be_tids(double: BlueskyDouble, session: dict, rkey: str) -> None:
    response = create(double, session, "Hello", rkey=rkey)

    assert response.status_code == 400
    assert response.json()["error"] == "InvalidRequest"
    assert stored_texts(double) == []


@pytest.mark.parametrize(
    ("text", "accepted"),
    [
        ("a" * 300, True),
        ("a" * 301, False),
        ("👍🏽" * 300, True),  # a thumb with a skin tone is one grapheme
        ("👨‍👩‍👧" * 150, True),  # so is a family joined by zero-width joiners (18 bytes)
        ("🇬🇧" * 301, False),  # a flag is a pair of regional indicators
        ("", True),  # the lexicon allows empty text (posts with only an image)
    ],
)
def test_text_is_limited_to_300_graphemes(
    double: BlueskyDouble, session: dict, text: str, accepted: bool
) -> None:
    response = create(double, session, text)

    if accepted:
        assert response.status_code == 200
    else:
        assert response.status_code == 400
        assert response.json() == {
            "error": "InvalidRequest",
            "message": too_long(grapheme_count(text)),
        }


def test_text_is_limited_to_3000_bytes(double: BlueskyDouble, session: dict) -> None:
    # Each "a" with five accents is one grapheme of 11 bytes: 300 graphemes, 3300 bytes.
    response = create(double, session, "a\u0301\u0302\u0303\u0304\u0305" * 300)

    assert response.status_code == 400
    assert response.json()["message"] == (
        "Invalid app.bsky.feed.post record: string too big (maximum 3000, got 3300) "
        "at $.record.text"
    )


@pytest.mark.parametrize(
    ("record", "words"),
    [
        ({"text": 7}, "Expected string value type (got 7) at $.record.text"),
        ({"createdAt": "yesterday"}, 'Invalid datetime (got "yesterday") at $.record.createdAt'),
        ({"$type": "app.bsky.feed.like"}, "Invalid $type"),
        (
            {"reply": {"root": {"uri": "at://x"}}},
            'Missing required key "cid" at $.record.reply.root',
        ),
    ],
)
def test_invalid_records_are_400(
    double: BlueskyDouble, session: dict, record: dict, words: str
) -> None:
    response = create(double, session, "Hello", record=record)

    assert response.status_code == 400
    assert response.json()["error"] == "InvalidRequest"
    assert words in response.json()["message"]


def test_writing_to_someone_elses_repo_is_401(double: BlueskyDouble, session: dict) -> None:
    other_did = log_in(double, OTHER_HANDLE, OTHER_PASSWORD)["did"]

    response = create(double, session, "Not yours", repo=other_did)

    assert response.status_code == 401
    assert response.json()["error"] == "AuthenticationRequired"


def test_create_without_a_token_is_401(double: BlueskyDouble, session: dict) -> None:
    response = create(double, session | {"accessJwt": None}, "Hello")

    assert response.status_code == 401
    assert response.json() == {"error": "AuthMissing", "message": "Authentication Required"}
    assert stored_texts(double) == []


def test_get_record_has_the_value_and_cid(double: BlueskyDouble, session: dict) -> None:
    created = create(double, session, "Look me up").json()
    rkey = created["uri"].rsplit("/", 1)[1]
    params = {"repo": HANDLE, "collection": "app.bsky.feed.post", "rkey": rkey}

    response = xrpc(double, "com.atproto.repo.getRecord", params=params)

    assert response.status_code == 200
    assert response.json()["uri"] == created["uri"]
    assert response.json()["cid"] == created["cid"]
    assert response.json()["value"]["text"] == "Look me up"


def test_get_record_of_a_missing_record_is_400_record_not_found(
    double: BlueskyDouble, session: dict
) -> None:
    params = {"repo": session["did"], "collection": "app.bsky.feed.post", "rkey": "3jzfcijpj2z2a"}
    uri = f"at://{session['did']}/app.bsky.feed.post/3jzfcijpj2z2a"

    response = xrpc(double, "com.atproto.repo.getRecord", params=params)

    assert response.status_code == 400
    assert response.json() == {
        "error": "RecordNotFound",
        "message": f"Could not locate record: {uri}",
    }


def test_delete_record_removes_it_and_a_missing_one_is_fine(
    double: BlueskyDouble, session: dict
) -> None:
    rkey = create(double, session, "Oops").json()["uri"].rsplit("/", 1)[1]
    body = {"repo": session["did"], "collection": "app.bsky.feed.post", "rkey": rkey}

    deleted = xrpc(double, "com.atproto.repo.deleteRecord", token=session["accessJwt"], json=body)
    again = xrpc(double, "com.atproto.repo.deleteRecord", token=session["accessJwt"], json=body)

    assert deleted.status_code == 200
    assert "commit" in deleted.json()
    assert (again.status_code, again.json()) == (200, {})
    assert stored_texts(double) == []


def test_author_feed_is_newest_first_and_pages_with_a_cursor(
    double: BlueskyDouble, session: dict
) -> None:
    uris = [create(double, session, f"post {n}").json()["uri"] for n in range(5)]
    feed = "app.bsky.feed.getAuthorFeed"

    first = xrpc(double, feed, params={"actor": HANDLE, "limit": 3}).json()
    rest = xrpc(double, feed, params={"actor": HANDLE, "limit": 3, "cursor": first["cursor"]})

    assert [item["post"]["uri"] for item in first["feed"]] == uris[::-1][:3]
    assert first["feed"][0]["post"]["record"]["text"] == "post 4"
    assert first["feed"][0]["post"]["author"]["handle"] == HANDLE
    assert [item["post"]["uri"] for item in rest.json()["feed"]] == [uris[1], uris[0]]
    assert "cursor" not in rest.json()


def test_author_feed_shows_reply_refs_and_can_leave_replies_out(
    double: BlueskyDouble, session: dict
) -> None:
    parent = create(double, session, "Parent").json()
    ref = {"uri": parent["uri"], "cid": parent["cid"]}
    create(double, session, "Child", record={"reply": {"root": ref, "parent": ref}})
    feed = "app.bsky.feed.getAuthorFeed"

    everything = xrpc(double, feed, params={"actor": session["did"]}).json()["feed"]
    no_replies = xrpc(
        double, feed, params={"actor": session["did"], "filter": "posts_no_replies"}
    ).json()["feed"]

    assert everything[0]["reply"]["parent"]["uri"] == parent["uri"]
    assert everything[0]["reply"]["root"]["$type"] == "app.bsky.feed.defs#postView"
    assert [item["post"]["record"]["text"] for item in no_replies] == ["Parent"]


@pytest.mark.parametrize(
    "params", [{"actor": HANDLE, "limit": 101}, {"actor": "nobody.bsky.social"}, {}]
)
def test_bad_author_feed_requests_are_400(double: BlueskyDouble, params: dict) -> None:
    response = xrpc(double, "app.bsky.feed.getAuthorFeed", params=params)

    assert response.status_code == 400
    assert response.json()["error"] == "InvalidRequest"


def test_get_profile(double: BlueskyDouble) -> None:
    profile = xrpc(double, "app.bsky.actor.getProfile", params={"actor": HANDLE}).json()

    assert (profile["handle"], profile["displayName"]) == (HANDLE, "NHS Demo Board")


def test_unknown_method_is_501_and_a_wrong_http_method_is_400(double: BlueskyDouble) -> None:
    unknown = xrpc(double, "app.bsky.feed.getTimeline")
    wrong = xrpc(double, "com.atproto.repo.createRecord")

    assert unknown.status_code == 501
    assert unknown.json()["error"] == "MethodNotImplemented"
    assert wrong.status_code == 400
    assert "expected POST" in wrong.json()["message"]


# The double: rate limits ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("nsid", "authorized", "body"),
    [
        (CREATE_SESSION, False, {"identifier": HANDLE, "password": PASSWORD}),
        (CREATE_SESSION, False, {"identifier": HANDLE, "password": "wrong"}),
        ("com.atproto.repo.createRecord", True, {}),
        ("com.atproto.repo.createRecord", False, {}),
        ("com.atproto.repo.getRecord", False, None),
        ("app.bsky.feed.getAuthorFeed", False, None),
        ("com.atproto.server.getSession", True, None),
        ("app.bsky.feed.getTimeline", False, None),
    ],
)
def test_every_xrpc_response_has_rate_limit_headers(
    double: BlueskyDouble, session: dict, nsid: str, authorized: bool, body: dict | None
) -> None:
    token = session["accessJwt"] if authorized else None
    kwargs: dict[str, Any] = {"json": body} if body is not None else {}

    response = xrpc(double, nsid, token=token, **kwargs)

    assert all(name in response.headers for name in RATE_HEADERS), response.headers
    assert int(response.headers["ratelimit-reset"]) > time.time()
    assert ";w=" in response.headers["ratelimit-policy"]


def test_create_session_is_limited_per_account(
    monkeypatch: pytest.MonkeyPatch, double: BlueskyDouble
) -> None:
    monkeypatch.setitem(bluesky_double.RATE_LIMITS, "session", (2, 300))
    body = {"identifier": HANDLE, "password": PASSWORD}

    responses = [xrpc(double, CREATE_SESSION, json=body) for _ in range(3)]
    other = xrpc(
        double, CREATE_SESSION, json={"identifier": OTHER_HANDLE, "password": OTHER_PASSWORD}
    )

    assert [r.status_code for r in responses] == [200, 200, 429]
    assert [r.headers["ratelimit-remaining"] for r in responses] == ["1", "0", "0"]
    assert responses[2].headers["ratelimit-policy"] == "2;w=300"
    assert responses[2].json() == {"error": "RateLimitExceeded", "message": "Rate Limit Exceeded"}
    assert other.status_code == 200


def test_writes_cost_points(
    monkeypatch: pytest.MonkeyPatch, double: BlueskyDouble, session: dict
) -> None:
    monkeypatch.setitem(bluesky_double.RATE_LIMITS, "write", (7, 3600))

    responses = [create(double, session, f"post {n}") for n in range(3)]

    assert [r.status_code for r in responses] == [200, 200, 429]
    assert [r.headers["ratelimit-remaining"] for r in responses] == ["4", "1", "1"]


# The double: faults -----------------------------------------------------------------------


def test_fault_429_says_when_to_come_back_and_stores_nothing(
    double: BlueskyDouble, session: dict
) -> None:
    double.inject("429")

    response = create(double, session, "Hello")

    assert response.status_code == 429
    assert response.json()["error"] == "RateLimitExceeded"
    assert response.headers["ratelimit-remaining"] == "0"
    assert abs(int(response.headers["ratelimit-reset"]) - (time.time() + 60)) < 5
    assert stored_texts(double) == []


@pytest.mark.parametrize(
    ("fault", "status", "error"),
    [
        ("401", 401, "AuthenticationRequired"),
        ("400", 400, "InvalidRequest"),
        ("5xx-before", 500, "InternalServerError"),
    ],
)
def test_faults_before_storing(
    double: BlueskyDouble, session: dict, fault: str, status: int, error: str
) -> None:
    double.inject(fault)

    response = create(double, session, "Hello")

    assert (response.status_code, response.json()["error"]) == (status, error)
    assert stored_texts(double) == []


def test_fault_5xx_after_stores_then_fails(double: BlueskyDouble, session: dict) -> None:
    double.inject("5xx-after")

    response = create(double, session, "Hello")

    assert response.status_code == 500
    assert all(name in response.headers for name in RATE_HEADERS)
    assert stored_texts(double) == ["Hello"]


def test_the_5xx_status_can_be_chosen(double: BlueskyDouble, session: dict) -> None:
    httpx.post(f"{double.base_url}/_double/faults", json={"server_error_status": 502})
    double.inject("5xx-before")

    response = create(double, session, "Hello")

    assert response.status_code == 502
    assert response.json()["error"] == "UpstreamFailure"


def test_fault_hang_after_stores_and_outlasts_the_client_timeout(
    double: BlueskyDouble, session: dict
) -> None:
    double.inject("hang-after")

    with pytest.raises(httpx.ReadTimeout):
        httpx.post(
            f"{double.base_url}/xrpc/com.atproto.repo.createRecord",
            headers={"Authorization": f"Bearer {session['accessJwt']}"},
            json={
                "repo": session["did"],
                "collection": "app.bsky.feed.post",
                "record": {"text": "Hello", "createdAt": now_iso()},
            },
            timeout=0.2,
        )

    assert stored_texts(double) == ["Hello"]


def test_fault_reset_closes_the_socket_after_storing(double: BlueskyDouble, session: dict) -> None:
    double.inject("reset")

    with pytest.raises((httpx.ReadError, httpx.RemoteProtocolError)):
        create(double, session, "Hello")

    assert stored_texts(double) == ["Hello"]
    assert create(double, session, "Still up").status_code == 200


def test_queued_faults_are_taken_one_per_create_in_order(
    double: BlueskyDouble, session: dict
) -> None:
    double.inject("5xx-before", "400")

    xrpc(double, "app.bsky.feed.getAuthorFeed", params={"actor": HANDLE})  # takes no fault
    statuses = [create(double, session, f"post {n}").status_code for n in range(3)]

    assert statuses == [500, 400, 200]
    assert double.faults()["queue"] == []


def test_probabilities_are_reproducible_with_a_seed(double: BlueskyDouble, session: dict) -> None:
    def run() -> list[int]:
        double.reset()
        double.set_probabilities({"5xx-before": 0.3, "429": 0.2}, seed=7)
        return [create(double, session, f"post {n}").status_code for n in range(30)]

    first = run()

    assert first == run()
    assert {500, 429, 200} <= set(first)


def test_unknown_fault_is_refused(double: BlueskyDouble) -> None:
    with pytest.raises(ValueError, match="unknown faults"):
        double.inject("422")


# The double: control and pages ------------------------------------------------------------


def test_state_counts_calls_and_reset_keeps_accounts(double: BlueskyDouble, session: dict) -> None:
    create(double, session, "Hello")

    state = httpx.get(f"{double.base_url}/_double/state").json()

    assert [(p["did"], p["text"]) for p in state["posts"]] == [(session["did"], "Hello")]
    assert state["calls"] == {CREATE_SESSION: 1, "com.atproto.repo.createRecord": 1}
    after = httpx.post(f"{double.base_url}/_double/reset").json()
    assert after["posts"] == []
    assert len(after["accounts"]) == 2
    log_in(double)


def test_accounts_can_be_added_over_http(double: BlueskyDouble) -> None:
    response = httpx.post(
        f"{double.base_url}/_double/accounts", json={"handle": "new-trust.bsky.social"}
    )

    assert response.status_code == 201
    password = response.json()["app_password"]
    assert len(password) == 19
    assert log_in(double, "new-trust.bsky.social", password)["did"] == response.json()["did"]


def test_profile_page_lists_posts_newest_first_with_text_escaped(
    double: BlueskyDouble, session: dict
) -> None:
    first = create(double, session, "First post").json()["uri"].rsplit("/", 1)[1]
    second = create(double, session, 'Hi <script>alert("x")</script> & bye').json()["uri"]

    response = httpx.get(double.profile_url(HANDLE))

    assert response.status_code == 200
    assert response.headers["content-security-policy"] == "default-src 'none'; img-src 'self'"
    page = response.text
    assert "<h1>NHS Demo Board (@nhs-demo.bsky.social)</h1>" in page
    assert "Hi &lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; bye" in page
    assert "<script" not in page
    assert "style" not in page
    assert page.index(second.rsplit("/", 1)[1]) < page.index(first)
    assert f'href="/profile/{HANDLE}/post/{first}"' in page


@pytest.mark.parametrize(
    "path", ["/profile/nobody.bsky.social", f"/profile/{HANDLE}/post/3jzfcijpj2z2a", "/a/b/c"]
)
def test_missing_pages_are_404(double: BlueskyDouble, path: str) -> None:
    response = httpx.get(double.base_url + path)

    assert response.status_code == 404
    assert '<html lang="en">' in response.text


# The SDK against the double ---------------------------------------------------------------


def test_the_sdks_own_login_and_send_post_work(double: BlueskyDouble) -> None:
    client = Client(base_url=double.base_url)

    profile = client.login(HANDLE, PASSWORD)
    sent = client.send_post("Sent the SDK's way")

    assert profile is not None
    assert profile.handle == HANDLE
    assert double.calls() == {
        CREATE_SESSION: 1,
        "app.bsky.actor.getProfile": 1,  # what login asks after logging in
        "com.atproto.repo.createRecord": 1,
    }
    assert sent.uri.startswith(f"at://{profile.did}/app.bsky.feed.post/")
    assert stored_texts(double) == ["Sent the SDK's way"]


def test_the_sdk_refreshes_a_session_near_expiry(double: BlueskyDouble) -> None:
    double.access_seconds = 60  # under the SDK's 15-minute margin
    client = Client(base_url=double.base_url)
    client.login(HANDLE, PASSWORD, fetch_bsky_profile=False)
    before = client.export_session_string()

    client.com.atproto.server.get_session()

    assert double.calls()[REFRESH_SESSION] == 1
    assert client.export_session_string() != before
