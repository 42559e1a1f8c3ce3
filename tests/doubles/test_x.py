"""The X API double keeps X's contract, over real HTTP, and its faults do what they say."""

from __future__ import annotations

import base64
import hashlib
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from doubles import x as x_double
from doubles.x import DUPLICATE_DETAIL, TOO_LONG_DETAIL, XDouble

TOKEN = "test-token-nhs"
OTHER_TOKEN = "test-token-other"
UNAUTHORIZED = {
    "title": "Unauthorized",
    "type": "about:blank",
    "status": 401,
    "detail": "Unauthorized",
}
DUPLICATE = {"detail": DUPLICATE_DETAIL, "type": "about:blank", "title": "Forbidden", "status": 403}
RATE_HEADERS = ("x-rate-limit-limit", "x-rate-limit-remaining", "x-rate-limit-reset")


@pytest.fixture
def double() -> Iterator[XDouble]:
    double = XDouble(port=0, hang_seconds=1.0).start()
    double.add_user("NHSDemoBoard", name="NHS Demo Board", token=TOKEN)
    double.add_user("OtherBoard", token=OTHER_TOKEN)
    yield double
    double.stop()


@pytest.fixture
def api(double: XDouble) -> Iterator[httpx.Client]:
    headers = {"Authorization": f"Bearer {TOKEN}"}
    with httpx.Client(base_url=double.base_url, headers=headers, timeout=5) as client:
        yield client


def create(api: httpx.Client, text: str, **kwargs: Any) -> httpx.Response:
    return api.post("/2/tweets", json={"text": text}, **kwargs)


def stored_texts(double: XDouble) -> list[str]:
    return [post.text for post in double.posts_for("NHSDemoBoard")]


# The API contract -------------------------------------------------------------------


def test_create_returns_201_with_x_shaped_data_and_stores_the_post(
    double: XDouble, api: httpx.Client
) -> None:
    response = create(api, "Flu jabs available at all sites this week.")

    assert response.status_code == 201
    data = response.json()["data"]
    assert data["id"].isdigit()
    assert data == {
        "id": data["id"],
        "text": "Flu jabs available at all sites this week.",
        "edit_history_tweet_ids": [data["id"]],
    }
    assert stored_texts(double) == ["Flu jabs available at all sites this week."]


def test_post_ids_are_increasing_numeric_strings(api: httpx.Client) -> None:
    ids = [int(create(api, f"post {n}").json()["data"]["id"]) for n in range(5)]

    assert ids == sorted(ids)
    assert len(set(ids)) == 5


def test_reply_is_stored_with_its_parent(double: XDouble, api: httpx.Client) -> None:
    parent = create(api, "Parent").json()["data"]["id"]

    response = api.post(
        "/2/tweets", json={"text": "Child", "reply": {"in_reply_to_tweet_id": parent}}
    )

    assert response.status_code == 201
    assert double.posts_for("NHSDemoBoard")[0].in_reply_to_tweet_id == parent


def test_reply_to_a_missing_post_is_forbidden(api: httpx.Client) -> None:
    response = api.post("/2/tweets", json={"text": "Child", "reply": {"in_reply_to_tweet_id": "1"}})

    assert response.status_code == 403
    assert "deleted or not visible" in response.json()["detail"]


def test_a_quote_is_stored_with_the_post_it_quotes_and_shown_so(
    double: XDouble, api: httpx.Client
) -> None:
    other = {"Authorization": f"Bearer {OTHER_TOKEN}"}
    quoted = api.post("/2/tweets", json={"text": "Theirs"}, headers=other).json()["data"]["id"]

    response = api.post("/2/tweets", json={"text": "Ours", "quote_tweet_id": quoted})

    assert response.status_code == 201
    [post] = double.posts_for("NHSDemoBoard")
    assert post.quote_tweet_id == quoted and post.in_reply_to_tweet_id is None
    state = api.get("/_double/state").json()
    assert {"text": "Ours", "quote_tweet_id": quoted}.items() <= state["posts"][-1].items()
    page = httpx.get(f"{double.base_url}/NHSDemoBoard/status/{post.id}").text
    assert f"Quoting post {quoted}." in page


def test_a_reply_to_or_quote_of_a_deleted_post_is_forbidden_in_xs_words(
    double: XDouble, api: httpx.Client
) -> None:
    other = {"Authorization": f"Bearer {OTHER_TOKEN}"}
    gone = api.post("/2/tweets", json={"text": "Soon gone"}, headers=other).json()["data"]["id"]
    api.delete(f"/2/tweets/{gone}", headers=other)

    reply = api.post("/2/tweets", json={"text": "A", "reply": {"in_reply_to_tweet_id": gone}})
    quote = api.post("/2/tweets", json={"text": "B", "quote_tweet_id": gone})

    assert reply.status_code == quote.status_code == 403
    assert reply.json()["detail"] == x_double.REPLY_GONE_DETAIL
    assert quote.json()["detail"] == x_double.QUOTE_GONE_DETAIL
    assert stored_texts(double) == []


def test_a_quote_cannot_carry_media(double: XDouble, api: httpx.Client) -> None:
    quoted = create(api, "Theirs").json()["data"]["id"]

    response = api.post(
        "/2/tweets", json={"text": "Ours", "quote_tweet_id": quoted, "media": {"media_ids": ["1"]}}
    )

    assert response.status_code == 400
    assert "mutually exclusive" in response.json()["errors"][0]["message"]
    assert stored_texts(double) == ["Theirs"]


def test_users_me(double: XDouble, api: httpx.Client) -> None:
    response = api.get("/2/users/me")

    assert response.status_code == 200
    user_id = response.json()["data"]["id"]
    assert response.json() == {
        "data": {"id": user_id, "name": "NHS Demo Board", "username": "NHSDemoBoard"}
    }
    assert user_id == double.users()[0].id


def test_user_posts_are_newest_first_with_meta(api: httpx.Client) -> None:
    ids = [create(api, f"post {n}").json()["data"]["id"] for n in range(7)]
    user_id = api.get("/2/users/me").json()["data"]["id"]

    response = api.get(f"/2/users/{user_id}/tweets", params={"max_results": 5})

    assert response.status_code == 200
    body = response.json()
    assert [p["id"] for p in body["data"]] == ids[::-1][:5]
    assert body["data"][0] == {"id": ids[-1], "text": "post 6", "edit_history_tweet_ids": [ids[-1]]}
    assert body["meta"]["result_count"] == 5
    assert body["meta"]["newest_id"] == ids[-1]
    assert body["meta"]["oldest_id"] == ids[2]

    rest = api.get(
        f"/2/users/{user_id}/tweets",
        params={"max_results": 5, "pagination_token": body["meta"]["next_token"]},
    ).json()
    assert [p["id"] for p in rest["data"]] == [ids[1], ids[0]]
    assert "next_token" not in rest["meta"]


def test_user_posts_of_a_user_with_none(api: httpx.Client) -> None:
    user_id = api.get("/2/users/me").json()["data"]["id"]

    assert api.get(f"/2/users/{user_id}/tweets").json() == {"meta": {"result_count": 0}}


@pytest.mark.parametrize("max_results", ["4", "101", "ten"])
def test_user_posts_max_results_must_be_5_to_100(api: httpx.Client, max_results: str) -> None:
    user_id = api.get("/2/users/me").json()["data"]["id"]

    response = api.get(f"/2/users/{user_id}/tweets", params={"max_results": max_results})

    assert response.status_code == 400
    assert response.json()["title"] == "Invalid Request"
    assert "between 5 and 100" in response.json()["errors"][0]["message"]


def test_user_posts_of_an_unknown_user_is_a_partial_error(api: httpx.Client) -> None:
    body = api.get("/2/users/42/tweets").json()

    assert "data" not in body
    assert body["errors"][0]["detail"] == "Could not find user with id: [42]."


def test_delete_removes_the_post(double: XDouble, api: httpx.Client) -> None:
    post_id = create(api, "Oops").json()["data"]["id"]

    response = api.delete(f"/2/tweets/{post_id}")

    assert response.status_code == 200
    assert response.json() == {"data": {"deleted": True}}
    assert stored_texts(double) == []


def test_delete_of_nothing_reports_not_deleted(api: httpx.Client) -> None:
    assert api.delete("/2/tweets/12345").json() == {"data": {"deleted": False}}


def test_delete_of_someone_elses_post_is_forbidden(double: XDouble, api: httpx.Client) -> None:
    post_id = create(api, "Mine").json()["data"]["id"]

    response = api.delete(
        f"/2/tweets/{post_id}", headers={"Authorization": f"Bearer {OTHER_TOKEN}"}
    )

    assert response.status_code == 403
    assert stored_texts(double) == ["Mine"]


@pytest.mark.parametrize("authorization", [None, "Bearer wrong-token", f"Basic {TOKEN}"])
@pytest.mark.parametrize(
    ("method", "path"), [("POST", "/2/tweets"), ("GET", "/2/users/me"), ("DELETE", "/2/tweets/1")]
)
def test_missing_or_unknown_token_is_401(
    double: XDouble, method: str, path: str, authorization: str | None
) -> None:
    headers = {"Authorization": authorization} if authorization else {}

    response = httpx.request(
        method, f"{double.base_url}{path}", headers=headers, json={"text": "hi"}
    )

    assert response.status_code == 401
    assert response.json() == UNAUTHORIZED
    assert stored_texts(double) == []


def test_duplicate_text_is_403_with_xs_words(double: XDouble, api: httpx.Client) -> None:
    assert create(api, "Same words").status_code == 201

    response = create(api, "Same words")

    assert response.status_code == 403
    assert response.json() == DUPLICATE
    assert stored_texts(double) == ["Same words"]


def test_duplicate_is_per_user(api: httpx.Client) -> None:
    assert create(api, "Same words").status_code == 201

    response = create(api, "Same words", headers={"Authorization": f"Bearer {OTHER_TOKEN}"})

    assert response.status_code == 201


@pytest.mark.parametrize("body", [{"text": ""}, {"text": "   "}, {}, {"text": 7}])
def test_empty_text_is_400(double: XDouble, api: httpx.Client, body: dict[str, object]) -> None:
    response = api.post("/2/tweets", json=body)

    assert response.status_code == 400
    assert response.json()["title"] == "Invalid Request"
    assert response.json()["errors"][0]["message"]
    assert stored_texts(double) == []


def test_body_must_be_json(api: httpx.Client) -> None:
    response = api.post("/2/tweets", content=b"text=hi", headers={"Content-Type": "text/plain"})

    assert response.status_code == 400
    assert "content-type of application/json" in response.json()["errors"][0]["message"]


@pytest.mark.parametrize(
    ("text", "accepted"),
    [
        ("a" * 280, True),
        ("a" * 281, False),
        ("界" * 140, True),  # CJK weighs 2
        ("界" * 141, False),
        ("https://example.org/" + "x" * 300 + " " + "a" * 256, True),  # any URL weighs 23
    ],
)
def test_text_is_limited_to_280_weighted_characters(
    api: httpx.Client, text: str, accepted: bool
) -> None:
    response = create(api, text)

    if accepted:
        assert response.status_code == 201
    else:
        assert response.status_code == 400
        assert response.json() == {
            "detail": TOO_LONG_DETAIL,
            "type": "about:blank",
            "title": "Bad Request",
            "status": 400,
        }


def test_unknown_api_path_is_404(api: httpx.Client) -> None:
    response = api.get("/2/nothing-here")

    assert response.status_code == 404
    assert response.json()["errors"][0]["message"] == "Sorry, that page does not exist"


# Rate limits --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path", "authorized"),
    [
        ("POST", "/2/tweets", True),
        ("POST", "/2/tweets", False),
        ("GET", "/2/users/me", True),
        ("GET", "/2/users/me", False),
        ("GET", "/2/users/1/tweets", True),
        ("DELETE", "/2/tweets/1", True),
        ("POST", "/2/oauth2/token", False),
        ("GET", "/2/unknown", True),
    ],
)
def test_every_api_response_has_rate_limit_headers(
    double: XDouble, method: str, path: str, authorized: bool
) -> None:
    headers = {"Authorization": f"Bearer {TOKEN}"} if authorized else {}

    response = httpx.request(
        method, f"{double.base_url}{path}", headers=headers, json={"text": "x"}
    )

    assert all(name in response.headers for name in RATE_HEADERS), response.headers
    assert int(response.headers["x-rate-limit-reset"]) > time.time()


def test_remaining_counts_down_and_runs_out(
    monkeypatch: pytest.MonkeyPatch, api: httpx.Client
) -> None:
    monkeypatch.setitem(x_double.RATE_LIMITS, "me", 2)

    responses = [api.get("/2/users/me") for _ in range(3)]

    assert [r.status_code for r in responses] == [200, 200, 429]
    assert [r.headers["x-rate-limit-remaining"] for r in responses] == ["1", "0", "0"]
    assert responses[2].json()["title"] == "Too Many Requests"


# Faults -----------------------------------------------------------------------------


def test_fault_429_says_when_to_come_back_and_stores_nothing(
    double: XDouble, api: httpx.Client
) -> None:
    double.inject("429")

    response = create(api, "Hello")

    assert response.status_code == 429
    assert response.headers["x-rate-limit-remaining"] == "0"
    assert abs(int(response.headers["x-rate-limit-reset"]) - (time.time() + 60)) < 5
    assert stored_texts(double) == []


def test_fault_401(double: XDouble, api: httpx.Client) -> None:
    double.inject("401")

    response = create(api, "Hello")

    assert response.status_code == 401
    assert response.json() == UNAUTHORIZED
    assert stored_texts(double) == []


def test_fault_403_duplicate(double: XDouble, api: httpx.Client) -> None:
    double.inject("403-duplicate")

    response = create(api, "Never said before")

    assert response.status_code == 403
    assert response.json() == DUPLICATE
    assert stored_texts(double) == []


def test_fault_5xx_before_does_not_store(double: XDouble, api: httpx.Client) -> None:
    double.inject("5xx-before")

    response = create(api, "Hello")

    assert response.status_code == 503
    assert stored_texts(double) == []


def test_fault_5xx_after_stores_then_fails(double: XDouble, api: httpx.Client) -> None:
    double.inject("5xx-after")

    response = create(api, "Hello")

    assert response.status_code == 503
    assert all(name in response.headers for name in RATE_HEADERS)
    assert stored_texts(double) == ["Hello"]


def test_fault_hang_after_stores_and_outlasts_the_client_timeout(
    double: XDouble, api: httpx.Client
) -> None:
    double.inject("hang-after")

    with pytest.raises(httpx.ReadTimeout):
        create(api, "Hello", timeout=0.2)

    assert stored_texts(double) == ["Hello"]


def test_fault_hang_after_answers_201_once_the_hang_is_over(
    double: XDouble, api: httpx.Client
) -> None:
    double.hang_seconds = 0.5
    double.inject("hang-after")
    started = time.monotonic()

    response = create(api, "Hello")

    assert time.monotonic() - started >= 0.5
    assert response.status_code == 201


def test_fault_reset_closes_the_socket_after_storing(double: XDouble, api: httpx.Client) -> None:
    double.inject("reset")

    with pytest.raises((httpx.ReadError, httpx.RemoteProtocolError)):
        create(api, "Hello")

    assert stored_texts(double) == ["Hello"]
    assert create(api, "Still up").status_code == 201


def test_post_faults_do_not_hide_a_real_error(double: XDouble, api: httpx.Client) -> None:
    double.inject("5xx-after")

    response = create(api, "")

    assert response.status_code == 400
    assert stored_texts(double) == []


def test_queued_faults_are_taken_one_per_create_in_order(
    double: XDouble, api: httpx.Client
) -> None:
    double.inject("5xx-before", "403-duplicate")

    api.get("/2/users/me")  # not a create: takes no fault
    statuses = [create(api, f"post {n}").status_code for n in range(3)]

    assert statuses == [503, 403, 201]
    assert double.faults()["queue"] == []


def test_probabilities_are_reproducible_with_a_seed(double: XDouble, api: httpx.Client) -> None:
    def run() -> list[int]:
        double.reset()
        double.set_probabilities({"5xx-before": 0.3, "429": 0.2}, seed=7)
        return [create(api, f"post {n}").status_code for n in range(30)]

    first = run()

    assert first == run()
    assert {503, 429, 201} <= set(first)


def test_probability_one_always_faults(double: XDouble, api: httpx.Client) -> None:
    double.set_probabilities({"5xx-after": 1.0})

    assert [create(api, f"post {n}").status_code for n in range(3)] == [503, 503, 503]
    assert len(stored_texts(double)) == 3


def test_queue_comes_before_probabilities(double: XDouble, api: httpx.Client) -> None:
    double.set_probabilities({"5xx-before": 1.0})
    double.inject("401")

    assert [create(api, "x").status_code for _ in range(2)] == [401, 503]


@pytest.mark.parametrize("bad", [{"teapot": 0.5}, {"429": 1.5}, {"429": 0.6, "401": 0.6}])
def test_bad_probabilities_are_refused(double: XDouble, bad: dict[str, float]) -> None:
    with pytest.raises(ValueError):
        double.set_probabilities(bad)


def test_unknown_fault_is_refused(double: XDouble) -> None:
    with pytest.raises(ValueError, match="unknown faults"):
        double.inject("gremlins")


# Control over HTTP --------------------------------------------------------------------


def test_faults_can_be_switched_over_http(double: XDouble, api: httpx.Client) -> None:
    response = api.post(
        "/_double/faults",
        json={"queue": ["5xx-before"], "probabilities": {"429": 0.0}, "seed": 3, "hang_seconds": 2},
    )

    assert response.status_code == 200
    assert response.json()["queue"] == ["5xx-before"]
    assert double.hang_seconds == 2
    assert create(api, "Hello").status_code == 503

    api.post("/_double/faults", json={"queue": ["5xx-before"]})
    assert api.delete("/_double/faults").json()["queue"] == []
    assert create(api, "Hello").status_code == 201


def test_bad_fault_over_http_is_400(api: httpx.Client) -> None:
    response = api.post("/_double/faults", json={"queue": ["gremlins"]})

    assert response.status_code == 400
    assert "unknown faults" in response.json()["error"]


def test_state_and_reset_over_http(double: XDouble, api: httpx.Client) -> None:
    create(api, "Hello")

    state = api.get("/_double/state").json()

    assert {u["username"] for u in state["users"]} == {"NHSDemoBoard", "OtherBoard"}
    assert [(p["username"], p["text"]) for p in state["posts"]] == [("NHSDemoBoard", "Hello")]

    after = api.post("/_double/reset").json()
    assert after["posts"] == []
    assert len(after["users"]) == 2
    assert api.get("/2/users/me").status_code == 200


def test_users_can_be_added_over_http(double: XDouble) -> None:
    response = httpx.post(
        f"{double.base_url}/_double/users", json={"username": "NewTrust", "token": "new-token"}
    )

    assert response.status_code == 201
    me = httpx.get(f"{double.base_url}/2/users/me", headers={"Authorization": "Bearer new-token"})
    assert me.json()["data"]["username"] == "NewTrust"


# Public pages -----------------------------------------------------------------------


def test_profile_lists_posts_newest_first_with_text_escaped(
    double: XDouble, api: httpx.Client
) -> None:
    first = create(api, "First post").json()["data"]["id"]
    second = create(api, 'Hi <script>alert("x")</script> & bye').json()["data"]["id"]

    response = httpx.get(double.profile_url("NHSDemoBoard"))

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    page = response.text
    assert '<html lang="en">' in page
    assert "<title>NHS Demo Board (@NHSDemoBoard)" in page
    assert "<h1>NHS Demo Board (@NHSDemoBoard)</h1>" in page
    assert "Hi &lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; bye" in page
    assert "<script" not in page
    assert "style" not in page
    assert page.index(second) < page.index(first)
    assert f'href="/NHSDemoBoard/status/{first}"' in page


def test_profile_lookup_ignores_case(double: XDouble) -> None:
    assert httpx.get(f"{double.base_url}/nhsdemoboard").status_code == 200


def test_status_page_shows_one_post(double: XDouble, api: httpx.Client) -> None:
    post_id = create(api, "Just this one").json()["data"]["id"]
    create(api, "Not this one")

    response = httpx.get(f"{double.base_url}/NHSDemoBoard/status/{post_id}")

    assert response.status_code == 200
    assert "Just this one" in response.text
    assert "Not this one" not in response.text


@pytest.mark.parametrize(
    "path", ["/NoSuchUser", "/NHSDemoBoard/status/1", "/OtherBoard/status/{id}", "/a/b"]
)
def test_missing_pages_are_404(double: XDouble, api: httpx.Client, path: str) -> None:
    post_id = create(api, "Mine").json()["data"]["id"]

    response = httpx.get(double.base_url + path.format(id=post_id))

    assert response.status_code == 404
    assert '<html lang="en">' in response.text


def test_index_links_to_each_user(double: XDouble) -> None:
    page = httpx.get(double.base_url + "/").text

    assert '<a href="/NHSDemoBoard">' in page
    assert '<a href="/OtherBoard">' in page


# OAuth 2.0 token endpoint -------------------------------------------------------------


def pkce_pair() -> tuple[str, str]:
    verifier = "a-long-enough-code-verifier-for-pkce-0123456789"
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest())
    return verifier, challenge.rstrip(b"=").decode()


def token_request(double: XDouble, **form: str) -> httpx.Response:
    return httpx.post(f"{double.base_url}/2/oauth2/token", data=form)


def test_authorization_code_with_pkce_gives_working_tokens(double: XDouble) -> None:
    verifier, challenge = pkce_pair()
    code = double.issue_authorization_code(
        "NHSDemoBoard", code_challenge=challenge, client_id="sandpit", redirect_uri="http://cb"
    )

    response = token_request(
        double,
        grant_type="authorization_code",
        code=code,
        code_verifier=verifier,
        client_id="sandpit",
        redirect_uri="http://cb",
    )

    assert response.status_code == 200
    body = response.json()
    assert body["token_type"] == "bearer"
    assert body["expires_in"] == 7200
    assert "offline.access" in body["scope"]
    assert body["refresh_token"]
    me = httpx.get(
        f"{double.base_url}/2/users/me",
        headers={"Authorization": f"Bearer {body['access_token']}"},
    )
    assert me.json()["data"]["username"] == "NHSDemoBoard"


def test_code_needs_the_right_verifier_and_works_once(double: XDouble) -> None:
    verifier, challenge = pkce_pair()
    code = double.issue_authorization_code("NHSDemoBoard", code_challenge=challenge)

    wrong = token_request(
        double, grant_type="authorization_code", code=code, code_verifier="not-it"
    )
    again = token_request(
        double, grant_type="authorization_code", code=code, code_verifier=verifier
    )

    assert wrong.status_code == 400
    assert wrong.json() == {
        "error": "invalid_request",
        "error_description": "Value passed for the authorization code was invalid.",
    }
    assert again.status_code == 400


def test_refresh_tokens_rotate(double: XDouble) -> None:
    verifier, challenge = pkce_pair()
    code = double.issue_authorization_code("NHSDemoBoard", code_challenge=challenge)
    first = token_request(
        double, grant_type="authorization_code", code=code, code_verifier=verifier
    ).json()

    second = token_request(double, grant_type="refresh_token", refresh_token=first["refresh_token"])
    replayed = token_request(
        double, grant_type="refresh_token", refresh_token=first["refresh_token"]
    )

    assert second.status_code == 200
    assert second.json()["refresh_token"] != first["refresh_token"]
    assert second.json()["access_token"] != first["access_token"]
    assert replayed.status_code == 400
    assert replayed.json()["error_description"] == "Value passed for the token was invalid."
    third = token_request(
        double, grant_type="refresh_token", refresh_token=second.json()["refresh_token"]
    )
    assert third.status_code == 200


def test_unknown_grant_type_is_refused(double: XDouble) -> None:
    response = token_request(double, grant_type="password")

    assert response.status_code == 400
    assert response.json()["error"] == "invalid_request"


# Persistence ------------------------------------------------------------------------


def test_state_file_keeps_users_and_posts_across_restarts(tmp_path: Path) -> None:
    state_file = tmp_path / "xdouble.json"
    with XDouble(state_file=state_file) as first:
        first.add_user("NHSDemoBoard", token=TOKEN)
        httpx.post(
            f"{first.base_url}/2/tweets",
            json={"text": "Survives a restart"},
            headers={"Authorization": f"Bearer {TOKEN}"},
        )

    with XDouble(state_file=state_file) as second:
        assert [p.text for p in second.posts_for("NHSDemoBoard")] == ["Survives a restart"]
        me = httpx.get(
            f"{second.base_url}/2/users/me", headers={"Authorization": f"Bearer {TOKEN}"}
        )
        assert me.status_code == 200
