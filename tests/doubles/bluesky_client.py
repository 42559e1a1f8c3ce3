"""Talking to the Bluesky double as a client does, for tests/doubles/test_bluesky.py and
tests/coaching/publishing/test_bluesky.py: its accounts, one shared HTTP client, XRPC
calls and a session; and an image too big for any PDS."""

import io
import os
from typing import Any

import httpx
from PIL import Image

from doubles.bluesky import BlueskyDouble

HANDLE = "nhs-demo.bsky.social"
PASSWORD = "abcd-efgh-ijkl-mnop"
OTHER_HANDLE = "other-board.bsky.social"
OTHER_PASSWORD = "qrst-uvwx-yz23-4567"
CREATE_SESSION = "com.atproto.server.createSession"
REFRESH_SESSION = "com.atproto.server.refreshSession"
TID_CHARS = set("234567abcdefghijklmnopqrstuvwxyz")


# One client for all the tests: building one per request (httpx.request) loads the CA
# bundle every time, which made this file several times slower.
HTTP = httpx.Client(timeout=5)


def xrpc(double: BlueskyDouble, nsid: str, *, token: str | None = None, **kwargs: Any) -> Any:
    method = "POST" if "json" in kwargs else "GET"
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return HTTP.request(method, f"{double.base_url}/xrpc/{nsid}", headers=headers, **kwargs)


def log_in(double: BlueskyDouble, handle: str = HANDLE, password: str = PASSWORD) -> dict:
    response = xrpc(double, CREATE_SESSION, json={"identifier": handle, "password": password})
    assert response.status_code == 200, response.text
    session: dict = response.json()
    return session


def stored_texts(double: BlueskyDouble) -> list[str]:
    return [post.text for post in double.posts_for(HANDLE)]


def oversized_png() -> bytes:
    """A PNG over the post lexicon's 1,000,000 bytes per image: noise does not compress."""
    out = io.BytesIO()
    Image.frombytes("RGB", (600, 600), os.urandom(600 * 600 * 3)).save(out, "PNG")
    return out.getvalue()
