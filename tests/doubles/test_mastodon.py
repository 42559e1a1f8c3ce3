"""The Mastodon double (doubles/mastodon.py) keeps Mastodon's contract over real HTTP, its
faults do what they say, and the real Mastodon.py works against it. (The publisher that
drives it is tested in tests/coaching/publishing/test_mastodon.py.)"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from mastodon import Mastodon

from doubles import mastodon as mastodon_double
from doubles.mastodon import (
    BLANK_TEXT,
    INVALID_TOKEN,
    QUOTE_NOT_FOUND,
    RECORD_NOT_FOUND,
    REPLY_NOT_FOUND,
    TOO_LONG,
    MastodonDouble,
)

TOKEN = "mastodon-token-nhs"
OTHER_TOKEN = "mastodon-token-other"
USERNAME = "nhsdemoboard"
RATE_HEADERS = ("x-ratelimit-limit", "x-ratelimit-remaining", "x-ratelimit-reset")


@pytest.fixture
def double() -> Iterator[MastodonDouble]:
    double = MastodonDouble(hang_seconds=1.0).start()
    double.add_account(USERNAME, token=TOKEN, display_name="NHS Demo Board")
    double.add_account("otherboard", token=OTHER_TOKEN)
    yield double
    double.stop()


@pytest.fixture
def api(double: MastodonDouble) -> Iterator[httpx.Client]:
    headers = {"Authorization": f"Bearer {TOKEN}"}
    with httpx.Client(base_url=double.base_url, headers=headers, timeout=5) as client:
        yield client


def create(api: httpx.Client, text: str, **kwargs: Any) -> httpx.Response:
    return api.post("/api/v1/statuses", data={"status": text}, **kwargs)


def stored_texts(double: MastodonDouble) -> list[str]:
    return [status.text for status in double.statuses_for(USERNAME)]


def reset_time(response: httpx.Response) -> float:
    return dt.datetime.fromisoformat(response.headers["x-ratelimit-reset"]).timestamp()


# The double: statuses ---------------------------------------------------------------------


def test_create_answers_200_with_a_mastodon_status(
    double: MastodonDouble, api: httpx.Client
) -> None:
    response = create(api, "Flu jabs at all sites this week.")

    assert response.status_code == 200
    status = response.json()
    assert status["id"].isdigit()
    assert status["url"] == f"{double.base_url}/@{USERNAME}/{status['id']}"
    assert status["uri"] == f"{double.base_url}/users/{USERNAME}/statuses/{status['id']}"
    assert status["content"] == "<p>Flu jabs at all sites this week.</p>"
    assert status["in_reply_to_id"] is None
    assert status["visibility"] == "public"
    assert status["account"]["username"] == USERNAME
    assert dt.datetime.fromisoformat(status["created_at"]).tzinfo is not None
    assert stored_texts(double) == ["Flu jabs at all sites this week."]


def test_create_takes_json_too(double: MastodonDouble, api: httpx.Client) -> None:
    response = api.post("/api/v1/statuses", json={"status": "As JSON", "visibility": "unlisted"})

    assert response.status_code == 200
    assert response.json()["visibility"] == "unlisted"
    assert stored_texts(double) == ["As JSON"]


def test_content_is_escaped_html_with_paragraphs_and_line_breaks(api: httpx.Client) -> None:
    text = "<b>Bold</b> & 'quoted'\nnext line\n\nNew paragraph"

    content = create(api, text).json()["content"]

    assert content == (
        "<p>&lt;b&gt;Bold&lt;/b&gt; &amp; &#39;quoted&#39;<br />next line</p><p>New paragraph</p>"
    )


def test_status_ids_are_increasing(api: httpx.Client) -> None:
    ids = [int(create(api, f"post {n}").json()["id"]) for n in range(5)]

    assert ids == sorted(ids)
    assert len(set(ids)) == 5


def test_reply_names_its_parent_and_parent_account(
    double: MastodonDouble, api: httpx.Client
) -> None:
    parent = create(api, "Parent").json()

    reply = api.post(
        "/api/v1/statuses", data={"status": "Child", "in_reply_to_id": parent["id"]}
    ).json()

    assert reply["in_reply_to_id"] == parent["id"]
    assert reply["in_reply_to_account_id"] == parent["account"]["id"]
    assert api.get(f"/api/v1/statuses/{parent['id']}").json()["replies_count"] == 1


def test_reply_to_a_missing_status_is_404(double: MastodonDouble, api: httpx.Client) -> None:
    response = api.post("/api/v1/statuses", data={"status": "Child", "in_reply_to_id": "1"})

    assert response.status_code == 404
    assert response.json() == {"error": REPLY_NOT_FOUND}
    assert stored_texts(double) == []


def png() -> bytes:
    import io

    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (8, 8), "teal").save(out, "PNG")
    return out.getvalue()


def test_a_quote_names_the_quoted_status_as_mastodon_4_5_does(
    double: MastodonDouble, api: httpx.Client
) -> None:
    other = {"Authorization": f"Bearer {OTHER_TOKEN}"}
    quoted = api.post("/api/v1/statuses", data={"status": "Theirs"}, headers=other).json()

    response = api.post(
        "/api/v1/statuses", data={"status": "Ours", "quoted_status_id": quoted["id"]}
    )

    assert response.status_code == 200
    body = response.json()
    assert body["quote"]["state"] == "accepted"
    assert body["quote"]["quoted_status"]["id"] == quoted["id"]
    assert double.statuses_for(USERNAME)[0].quoted_status_id == quoted["id"]
    page = httpx.get(f"{double.base_url}/@{USERNAME}/{body['id']}").text
    assert f"Quoting post {quoted['id']}." in page


def test_a_quote_of_a_missing_status_is_404_and_of_nothing_with_media(
    double: MastodonDouble, api: httpx.Client
) -> None:
    missing = api.post("/api/v1/statuses", data={"status": "Ours", "quoted_status_id": "1"})
    assert missing.status_code == 404
    assert missing.json() == {"error": QUOTE_NOT_FOUND}
    quoted = create(api, "Theirs").json()["id"]
    media = api.post("/api/v1/media", files={"file": ("a.png", png(), "image/png")}).json()["id"]
    with_media = api.post(
        "/api/v1/statuses",
        data={"status": "Ours", "quoted_status_id": quoted, "media_ids[]": media},
    )
    assert with_media.status_code == 422
    assert stored_texts(double) == ["Theirs"]


@pytest.mark.parametrize("data", [{"status": ""}, {"status": "  \n "}, {}])
def test_blank_text_is_422(double: MastodonDouble, api: httpx.Client, data: dict[str, str]) -> None:
    response = api.post("/api/v1/statuses", data=data)

    assert response.status_code == 422
    assert response.json() == {"error": BLANK_TEXT}
    assert stored_texts(double) == []


@pytest.mark.parametrize(
    ("text", "accepted"),
    [
        ("a" * 500, True),
        ("a" * 501, False),
        ("👍🏽" * 500, True),  # an emoji with a skin tone is one character
        ("https://example.org/" + "x" * 600 + " " + "a" * 476, True),  # any URL counts 23
        ("@someone@example.social " + "a" * 476, True),  # a remote mention counts its user
    ],
)
def test_text_is_limited_to_500_characters(api: httpx.Client, text: str, accepted: bool) -> None:
    response = create(api, text)

    if accepted:
        assert response.status_code == 200
    else:
        assert response.status_code == 422
        assert response.json() == {"error": TOO_LONG}


def test_unknown_visibility_is_422(api: httpx.Client) -> None:
    response = api.post("/api/v1/statuses", data={"status": "Hi", "visibility": "everyone"})

    assert response.status_code == 422


def test_verify_credentials_has_the_account_and_its_source(api: httpx.Client) -> None:
    create(api, "One")

    account = api.get("/api/v1/accounts/verify_credentials").json()

    assert account["username"] == USERNAME
    assert account["acct"] == USERNAME
    assert account["display_name"] == "NHS Demo Board"
    assert account["statuses_count"] == 1
    assert account["source"]["privacy"] == "public"


def test_account_statuses_are_newest_first_and_page_with_max_id(api: httpx.Client) -> None:
    ids = [create(api, f"post {n}").json()["id"] for n in range(7)]
    account_id = api.get("/api/v1/accounts/verify_credentials").json()["id"]

    first = api.get(f"/api/v1/accounts/{account_id}/statuses", params={"limit": 5})
    rest = api.get(f"/api/v1/accounts/{account_id}/statuses", params={"limit": 5, "max_id": ids[2]})

    assert [s["id"] for s in first.json()] == ids[::-1][:5]
    assert f"max_id={ids[2]}" in first.headers["link"]
    assert 'rel="next"' in first.headers["link"]
    assert [s["id"] for s in rest.json()] == [ids[1], ids[0]]


def test_account_statuses_with_min_id_give_the_next_newer(api: httpx.Client) -> None:
    ids = [create(api, f"post {n}").json()["id"] for n in range(5)]
    account_id = api.get("/api/v1/accounts/verify_credentials").json()["id"]

    newer = api.get(
        f"/api/v1/accounts/{account_id}/statuses", params={"limit": 2, "min_id": ids[1]}
    ).json()

    assert [s["id"] for s in newer] == [ids[3], ids[2]]


def test_account_statuses_limit_is_capped_at_40(api: httpx.Client) -> None:
    for n in range(45):
        create(api, f"post {n}")
    account_id = api.get("/api/v1/accounts/verify_credentials").json()["id"]

    page = api.get(f"/api/v1/accounts/{account_id}/statuses", params={"limit": 100}).json()

    assert len(page) == 40


def test_account_statuses_of_an_unknown_account_is_404(api: httpx.Client) -> None:
    response = api.get("/api/v1/accounts/42/statuses")

    assert response.status_code == 404
    assert response.json() == {"error": RECORD_NOT_FOUND}


def test_delete_answers_with_the_status_and_its_source_text(
    double: MastodonDouble, api: httpx.Client
) -> None:
    status_id = create(api, "Oops <b>").json()["id"]

    response = api.delete(f"/api/v1/statuses/{status_id}")

    assert response.status_code == 200
    assert response.json()["id"] == status_id
    assert response.json()["text"] == "Oops <b>"
    assert stored_texts(double) == []


def test_delete_of_a_missing_or_someone_elses_status_is_404(
    double: MastodonDouble, api: httpx.Client
) -> None:
    status_id = create(api, "Mine").json()["id"]

    missing = api.delete("/api/v1/statuses/12345")
    theirs = api.delete(
        f"/api/v1/statuses/{status_id}", headers={"Authorization": f"Bearer {OTHER_TOKEN}"}
    )

    assert (missing.status_code, missing.json()) == (404, {"error": RECORD_NOT_FOUND})
    assert theirs.status_code == 404
    assert stored_texts(double) == ["Mine"]


@pytest.mark.parametrize("authorization", [None, "Bearer wrong-token", f"Basic {TOKEN}"])
@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("POST", "/api/v1/statuses"),
        ("GET", "/api/v1/accounts/verify_credentials"),
        ("DELETE", "/api/v1/statuses/1"),
    ],
)
def test_missing_or_unknown_token_is_401(
    double: MastodonDouble, method: str, path: str, authorization: str | None
) -> None:
    headers = {"Authorization": authorization} if authorization else {}

    response = httpx.request(
        method, f"{double.base_url}{path}", headers=headers, data={"status": "hi"}
    )

    assert response.status_code == 401
    assert response.json() == {"error": INVALID_TOKEN}
    assert 'error="invalid_token"' in response.headers["www-authenticate"]
    assert stored_texts(double) == []


def test_instance_endpoints_report_the_version(double: MastodonDouble) -> None:
    v1 = httpx.get(f"{double.base_url}/api/v1/instance").json()
    v2 = httpx.get(f"{double.base_url}/api/v2/instance/").json()

    assert v1["version"] == v2["version"] == "4.3.0"
    assert v2["api_versions"] == {"mastodon": 2}
    assert v2["configuration"]["statuses"]["max_characters"] == 500


# The double: idempotency ------------------------------------------------------------------


def test_same_idempotency_key_returns_the_original_status(
    double: MastodonDouble, api: httpx.Client
) -> None:
    headers = {"Idempotency-Key": "publication-1"}

    first = create(api, "Only once", headers=headers)
    second = create(api, "Only once, edited", headers=headers)

    assert first.status_code == second.status_code == 200
    assert second.json()["id"] == first.json()["id"]
    assert second.json()["content"] == "<p>Only once</p>"
    assert stored_texts(double) == ["Only once"]


def test_idempotency_keys_are_per_account(double: MastodonDouble, api: httpx.Client) -> None:
    headers = {"Idempotency-Key": "same-key"}
    create(api, "Mine", headers=headers)

    create(api, "Theirs", headers=headers | {"Authorization": f"Bearer {OTHER_TOKEN}"})

    assert stored_texts(double) == ["Mine"]
    assert [s.text for s in double.statuses_for("otherboard")] == ["Theirs"]


def test_idempotency_keys_last_an_hour(
    monkeypatch: pytest.MonkeyPatch, double: MastodonDouble, api: httpx.Client
) -> None:
    headers = {"Idempotency-Key": "key"}
    create(api, "First", headers=headers)
    monkeypatch.setattr(mastodon_double, "IDEMPOTENCY_SECONDS", 0)

    create(api, "Second", headers=headers)

    assert stored_texts(double) == ["Second", "First"]


def test_repeating_the_key_of_a_deleted_status_is_404(api: httpx.Client) -> None:
    headers = {"Idempotency-Key": "key"}
    status_id = create(api, "Gone", headers=headers).json()["id"]
    api.delete(f"/api/v1/statuses/{status_id}")

    response = create(api, "Gone", headers=headers)

    assert (response.status_code, response.json()) == (404, {"error": RECORD_NOT_FOUND})


def test_a_failed_create_does_not_keep_the_key(double: MastodonDouble, api: httpx.Client) -> None:
    headers = {"Idempotency-Key": "key"}
    assert create(api, "", headers=headers).status_code == 422

    assert create(api, "Now with words", headers=headers).status_code == 200
    assert stored_texts(double) == ["Now with words"]


# The double: rate limits ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path", "authorized"),
    [
        ("POST", "/api/v1/statuses", True),
        ("POST", "/api/v1/statuses", False),
        ("GET", "/api/v1/accounts/verify_credentials", True),
        ("GET", "/api/v1/accounts/verify_credentials", False),
        ("GET", "/api/v1/accounts/1/statuses", False),
        ("DELETE", "/api/v1/statuses/1", True),
        ("GET", "/api/v1/instance", False),
        ("GET", "/api/v1/unknown", True),
    ],
)
def test_every_api_response_has_rate_limit_headers(
    double: MastodonDouble, method: str, path: str, authorized: bool
) -> None:
    headers = {"Authorization": f"Bearer {TOKEN}"} if authorized else {}

    response = httpx.request(
        method, f"{double.base_url}{path}", headers=headers, data={"status": "x"}
    )

    assert all(name in response.headers for name in RATE_HEADERS), response.headers
    assert response.headers["x-ratelimit-reset"].endswith("Z")
    assert reset_time(response) > time.time()


def test_remaining_counts_down_and_runs_out(
    monkeypatch: pytest.MonkeyPatch, api: httpx.Client
) -> None:
    monkeypatch.setitem(mastodon_double.RATE_LIMITS, "api", (2, 300))

    responses = [api.get("/api/v1/accounts/verify_credentials") for _ in range(3)]

    assert [r.status_code for r in responses] == [200, 200, 429]
    assert [r.headers["x-ratelimit-remaining"] for r in responses] == ["1", "0", "0"]
    assert responses[2].json() == {"error": "Too many requests"}


# The double: faults -----------------------------------------------------------------------


def test_fault_429_says_when_to_come_back_and_stores_nothing(
    double: MastodonDouble, api: httpx.Client
) -> None:
    double.inject("429")

    response = create(api, "Hello")

    assert response.status_code == 429
    assert response.json() == {"error": "Too many requests"}
    assert response.headers["x-ratelimit-remaining"] == "0"
    assert abs(reset_time(response) - (time.time() + 60)) < 5
    assert stored_texts(double) == []


@pytest.mark.parametrize(
    ("fault", "status", "body"),
    [
        ("401", 401, {"error": INVALID_TOKEN}),
        ("422", 422, {"error": TOO_LONG}),
        ("5xx-before", 503, {"error": mastodon_double.TEMPORARY_FAILURE}),
    ],
)
def test_faults_before_storing(
    double: MastodonDouble, api: httpx.Client, fault: str, status: int, body: dict[str, str]
) -> None:
    double.inject(fault)

    response = create(api, "Hello")

    assert (response.status_code, response.json()) == (status, body)
    assert stored_texts(double) == []


def test_fault_5xx_after_stores_then_fails(double: MastodonDouble, api: httpx.Client) -> None:
    double.inject("5xx-after")

    response = create(api, "Hello")

    assert response.status_code == 503
    assert all(name in response.headers for name in RATE_HEADERS)
    assert stored_texts(double) == ["Hello"]


def test_fault_hang_after_stores_and_outlasts_the_client_timeout(
    double: MastodonDouble, api: httpx.Client
) -> None:
    double.inject("hang-after")

    with pytest.raises(httpx.ReadTimeout):
        create(api, "Hello", timeout=0.2)

    assert stored_texts(double) == ["Hello"]


def test_fault_hang_after_answers_once_the_hang_is_over(
    double: MastodonDouble, api: httpx.Client
) -> None:
    double.hang_seconds = 0.5
    double.inject("hang-after")
    started = time.monotonic()

    response = create(api, "Hello")

    assert time.monotonic() - started >= 0.5
    assert response.status_code == 200


def test_fault_reset_closes_the_socket_after_storing(
    double: MastodonDouble, api: httpx.Client
) -> None:
    double.inject("reset")

    with pytest.raises((httpx.ReadError, httpx.RemoteProtocolError)):
        create(api, "Hello")

    assert stored_texts(double) == ["Hello"]
    assert create(api, "Still up").status_code == 200


def test_post_faults_do_not_hide_a_real_error(double: MastodonDouble, api: httpx.Client) -> None:
    double.inject("5xx-after")

    response = create(api, "")

    assert response.status_code == 422
    assert stored_texts(double) == []


def test_queued_faults_are_taken_one_per_create_in_order(
    double: MastodonDouble, api: httpx.Client
) -> None:
    double.inject("5xx-before", "422")

    api.get("/api/v1/accounts/verify_credentials")  # not a create: takes no fault
    statuses = [create(api, f"post {n}").status_code for n in range(3)]

    assert statuses == [503, 422, 200]
    assert double.faults()["queue"] == []


def test_probabilities_are_reproducible_with_a_seed(
    double: MastodonDouble, api: httpx.Client
) -> None:
    def run() -> list[int]:
        double.reset()
        double.set_probabilities({"5xx-before": 0.3, "429": 0.2}, seed=7)
        return [create(api, f"post {n}").status_code for n in range(30)]

    first = run()

    assert first == run()
    assert {503, 429, 200} <= set(first)


def test_queue_comes_before_probabilities(double: MastodonDouble, api: httpx.Client) -> None:
    double.set_probabilities({"5xx-before": 1.0})
    double.inject("401")

    assert [create(api, f"x{n}").status_code for n in range(2)] == [401, 503]


@pytest.mark.parametrize("bad", [{"teapot": 0.5}, {"429": 1.5}, {"429": 0.6, "401": 0.6}])
def test_bad_probabilities_are_refused(double: MastodonDouble, bad: dict[str, float]) -> None:
    with pytest.raises(ValueError):
        double.set_probabilities(bad)


def test_unknown_fault_is_refused(double: MastodonDouble) -> None:
    with pytest.raises(ValueError, match="unknown faults"):
        double.inject("403-duplicate")


# The double: control over HTTP, and the public pages --------------------------------------


def test_faults_can_be_switched_over_http(double: MastodonDouble, api: httpx.Client) -> None:
    response = api.post("/_double/faults", json={"queue": ["5xx-before"], "hang_seconds": 2})

    assert response.json()["queue"] == ["5xx-before"]
    assert double.hang_seconds == 2
    assert create(api, "Hello").status_code == 503

    api.post("/_double/faults", json={"queue": ["5xx-before"]})
    assert api.delete("/_double/faults").json()["queue"] == []
    assert create(api, "Hello").status_code == 200


def test_bad_fault_over_http_is_400(api: httpx.Client) -> None:
    response = api.post("/_double/faults", json={"queue": ["gremlins"]})

    assert response.status_code == 400
    assert "unknown faults" in response.json()["error"]


def test_state_and_reset_over_http(api: httpx.Client) -> None:
    create(api, "Hello")

    state = api.get("/_double/state").json()

    assert {a["username"] for a in state["accounts"]} == {USERNAME, "otherboard"}
    assert [(s["username"], s["text"]) for s in state["statuses"]] == [(USERNAME, "Hello")]
    assert state["calls"] == {"POST /api/v1/statuses": 1}

    after = api.post("/_double/reset").json()
    assert after["statuses"] == []
    assert after["calls"] == {}
    assert api.get("/api/v1/accounts/verify_credentials").status_code == 200


def test_accounts_can_be_added_over_http(double: MastodonDouble) -> None:
    response = httpx.post(
        f"{double.base_url}/_double/accounts", json={"username": "newtrust", "token": "new"}
    )

    assert response.status_code == 201
    me = httpx.get(
        f"{double.base_url}/api/v1/accounts/verify_credentials",
        headers={"Authorization": "Bearer new"},
    )
    assert me.json()["username"] == "newtrust"


def test_profile_lists_posts_newest_first_with_text_escaped(
    double: MastodonDouble, api: httpx.Client
) -> None:
    first = create(api, "First post").json()["id"]
    second = create(api, 'Hi <script>alert("x")</script> & bye').json()["id"]

    response = httpx.get(double.profile_url(USERNAME))

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert response.headers["content-security-policy"] == "default-src 'none'; img-src 'self'"
    page = response.text
    assert '<html lang="en">' in page
    assert "<h1>NHS Demo Board (@nhsdemoboard)</h1>" in page
    assert "Hi &lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; bye" in page
    assert "<script" not in page
    assert "style" not in page
    assert page.index(second) < page.index(first)
    assert f'href="/@{USERNAME}/{first}"' in page


def test_status_page_shows_one_post_at_its_url(double: MastodonDouble, api: httpx.Client) -> None:
    status = create(api, "Just this one").json()
    create(api, "Not this one")

    response = httpx.get(status["url"])

    assert response.status_code == 200
    assert "Just this one" in response.text
    assert "Not this one" not in response.text


@pytest.mark.parametrize("path", ["/@nobody", f"/@{USERNAME}/1", "/@otherboard/{id}", "/a/b"])
def test_missing_pages_are_404(double: MastodonDouble, api: httpx.Client, path: str) -> None:
    status_id = create(api, "Mine").json()["id"]

    response = httpx.get(double.base_url + path.format(id=status_id))

    assert response.status_code == 404
    assert '<html lang="en">' in response.text


# Mastodon.py against the double -----------------------------------------------------------


def test_mastodon_py_with_a_version_check_reads_both_instance_endpoints(
    double: MastodonDouble,
) -> None:
    api = Mastodon(access_token=TOKEN, api_base_url=double.base_url, version_check_mode="created")

    assert double.calls() == {"GET /api/v1/instance": 1, "GET /api/v2/instance": 1}
    assert (api.mastodon_major, api.mastodon_minor, api.mastodon_api_version) == (4, 3, 2)
    assert api.app_verify_credentials()["name"] == "Sandpit"
