"""X's OAuth 2.0 Authorization Code flow with PKCE, and refreshing its tokens.

Pure HTTP with explicit timeouts, like the publisher: the services decide what to store.
X's access tokens last two hours; with the ``offline.access`` scope a refresh token comes
too, and each refresh returns a new refresh token (the old one stops working).
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import secrets
from dataclasses import dataclass
from urllib.parse import urlencode

import httpx

from coaching.publishing.base import AuthFailed, NotSent, PublishError

# media.write: uploading a post's images needs it; a token granted without it gets a
# 403 from the media upload (reconnecting the account grants it).
SCOPES = "tweet.read tweet.write users.read media.write offline.access"


@dataclass(frozen=True)
class TokenSet:
    access_token: str
    refresh_token: str
    expires_at: dt.datetime | None


@dataclass(frozen=True)
class XIdentity:
    user_id: str
    username: str
    name: str


def new_pkce_verifier() -> str:
    # 43-128 characters from the unreserved set (RFC 7636); 64 random bytes give 86.
    return secrets.token_urlsafe(64)


def pkce_challenge(verifier: str) -> str:
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def authorization_url(
    *, authorize_url: str, client_id: str, redirect_uri: str, state: str, verifier: str
) -> str:
    query = {
        "response_type": "code",
        "client_id": client_id,
        "redirect_uri": redirect_uri,
        "scope": SCOPES,
        "state": state,
        "code_challenge": pkce_challenge(verifier),
        "code_challenge_method": "S256",
    }
    return f"{authorize_url}?{urlencode(query)}"


def _token_request(
    *,
    base_url: str,
    client_id: str,
    client_secret: str,
    form: dict[str, str],
    timeout: httpx.Timeout,
) -> TokenSet:
    auth = (client_id, client_secret) if client_secret else None
    try:
        response = httpx.post(
            f"{base_url.rstrip('/')}/2/oauth2/token",
            data={**form, "client_id": client_id},
            auth=auth,
            timeout=timeout,
        )
    except (httpx.ConnectError, httpx.ConnectTimeout) as exc:
        raise NotSent(f"Could not reach X to sign in: {exc}") from exc
    except httpx.HTTPError as exc:
        raise PublishError(f"X did not answer the sign-in request: {exc}") from exc
    if response.status_code in (400, 401):
        # invalid_grant and friends: the code or refresh token is spent, expired or revoked.
        try:
            detail = response.json().get("error_description") or response.text
        except ValueError:
            detail = response.text
        raise AuthFailed(detail, status_code=response.status_code, body=response.text)
    if response.status_code != 200:
        raise PublishError(
            f"X answered {response.status_code} to the sign-in request.",
            status_code=response.status_code,
            body=response.text,
        )
    payload = response.json()
    expires_in = payload.get("expires_in")
    return TokenSet(
        access_token=payload["access_token"],
        refresh_token=payload.get("refresh_token", ""),
        expires_at=(
            dt.datetime.now(dt.UTC) + dt.timedelta(seconds=int(expires_in)) if expires_in else None
        ),
    )


def exchange_code(
    *,
    base_url: str,
    client_id: str,
    client_secret: str,
    code: str,
    verifier: str,
    redirect_uri: str,
    timeout: httpx.Timeout,
) -> TokenSet:
    return _token_request(
        base_url=base_url,
        client_id=client_id,
        client_secret=client_secret,
        form={
            "grant_type": "authorization_code",
            "code": code,
            "code_verifier": verifier,
            "redirect_uri": redirect_uri,
        },
        timeout=timeout,
    )


def refresh(
    *, base_url: str, client_id: str, client_secret: str, refresh_token: str, timeout: httpx.Timeout
) -> TokenSet:
    return _token_request(
        base_url=base_url,
        client_id=client_id,
        client_secret=client_secret,
        form={"grant_type": "refresh_token", "refresh_token": refresh_token},
        timeout=timeout,
    )


def who_am_i(*, base_url: str, access_token: str, timeout: httpx.Timeout) -> XIdentity:
    try:
        response = httpx.get(
            f"{base_url.rstrip('/')}/2/users/me",
            headers={"Authorization": f"Bearer {access_token}"},
            timeout=timeout,
        )
    except httpx.HTTPError as exc:
        raise NotSent(f"Could not reach X: {exc}") from exc
    if response.status_code == 401:
        raise AuthFailed("X did not accept the new token.", status_code=401, body=response.text)
    if response.status_code != 200:
        raise PublishError(f"X answered {response.status_code}.", status_code=response.status_code)
    data = response.json()["data"]
    return XIdentity(user_id=data["id"], username=data["username"], name=data.get("name", ""))
