"""A real OpenID Provider (panva's certified ``oidc-provider`` from npm) for the single
sign-on tests, run by Node on a free port of 127.0.0.1: see provider.mjs.

Install its packages with ``make install`` (which runs ``npm ci --prefix tests/oidc``).
A missing Node or package fails the test with that command; nothing is skipped.
"""

from __future__ import annotations

import json
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests

HERE = Path(__file__).resolve().parent
INSTALL = "npm ci --prefix tests/oidc   (or: make install)"
CLIENT_ID = "sandpit-test-client"
CLIENT_SECRET = "sandpit-test-client-secret-0123456789"


@dataclass(frozen=True)
class OpenIDProvider:
    issuer: str
    client_id: str
    client_secret: str


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def running_provider(
    *, redirect_uris: list[str], accounts: dict[str, dict[str, object]]
) -> Iterator[OpenIDProvider]:
    """Start the provider with one client and these people (login -> claims); stop it
    afterwards."""
    node = shutil.which("node")
    if node is None:
        pytest.fail(
            "Node.js is needed for the OpenID Provider. Install it (apt-get install -y "
            f"nodejs npm), then: {INSTALL}"
        )
    if not (HERE / "node_modules" / "oidc-provider" / "package.json").exists():
        pytest.fail(f"The oidc-provider npm package is not installed. Install it with: {INSTALL}")
    port = _free_port()
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as fixture:
        json.dump(
            {
                "client_id": CLIENT_ID,
                "client_secret": CLIENT_SECRET,
                "redirect_uris": redirect_uris,
                "accounts": accounts,
            },
            fixture,
        )
    process = subprocess.Popen(
        [node, str(HERE / "provider.mjs"), str(port), fixture.name],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    issuer = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 20
        while True:
            if process.poll() is not None:
                output = process.stdout.read() if process.stdout else ""
                pytest.fail(
                    f"The OpenID Provider stopped at once:\n{output}\nReinstall with: {INSTALL}"
                )
            try:
                if requests.get(f"{issuer}/.well-known/openid-configuration", timeout=1).ok:
                    break
            except requests.ConnectionError:
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"The OpenID Provider did not answer on {issuer} within 20 s.")
            time.sleep(0.1)
        yield OpenIDProvider(issuer=issuer, client_id=CLIENT_ID, client_secret=CLIENT_SECRET)
    finally:
        process.terminate()
        try:
            process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            process.kill()
        Path(fixture.name).unlink(missing_ok=True)
