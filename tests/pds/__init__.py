"""Bluesky's reference PDS (``@atproto/pds`` from npm) with a PLC directory
(``@did-plc/server``), run by Node on free ports of 127.0.0.1 for the Bluesky publishing
tests: see server.mjs.

``make test`` installs its packages (``npm ci --prefix tests/pds``; the SQLite driver is
built from source, so a C++ compiler, make and python3 are needed). A missing Node,
package or driver fails the test with that command; nothing is skipped.

One PDS serves a whole pytest session (per xdist worker): it takes seconds to start, so
each test makes its own account with a unique handle instead.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

HERE = Path(__file__).resolve().parent
INSTALL = (
    "apt-get install -y nodejs npm build-essential python3 && "
    "npm ci --prefix tests/pds   (make test does it too)"
)
RATE_LIMIT_BYPASS = {"x-ratelimit-bypass": "sandpit-tests"}  # server.mjs's too
START_SECONDS = 90  # the PDS loads a lot of JavaScript; a busy CI machine is slow at it
POST_COLLECTION = "app.bsky.feed.post"


@dataclass(frozen=True)
class PDSAccount:
    handle: str
    did: str
    password: str  # the account's own password, which Sandpit never sees
    access_jwt: str  # a session made with the account's own password


class ReferencePDS:
    """The running PDS, and what a person would do at bsky.app: make accounts and app
    passwords, and look at what is in a repository."""

    def __init__(self, url: str) -> None:
        self.url = url
        # What the tests do themselves passes the PDS's rate limits; Sandpit's requests count.
        self.http = httpx.Client(base_url=url, timeout=30, headers=RATE_LIMIT_BYPASS)

    def xrpc(
        self, nsid: str, *, token: str | None = None, method: str = "", **kwargs: Any
    ) -> httpx.Response:
        method = method or ("POST" if "json" in kwargs or "content" in kwargs else "GET")
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        return self.http.request(method, f"/xrpc/{nsid}", headers=headers, **kwargs)

    def call(self, nsid: str, *, token: str | None = None, **kwargs: Any) -> Any:
        response = self.xrpc(nsid, token=token, **kwargs)
        assert response.status_code == 200, f"{nsid}: {response.status_code} {response.text}"
        return response.json() if response.content else None

    def new_account(self, name: str = "nhs") -> PDSAccount:
        # Handles are unique for the life of the PDS, which the whole session shares.
        handle = f"{name}-{uuid.uuid4().hex[:10]}.test"
        password = uuid.uuid4().hex
        made = self.call(
            "com.atproto.server.createAccount",
            json={"handle": handle, "email": f"{handle}@example.org", "password": password},
        )
        return PDSAccount(handle, made["did"], password, made["accessJwt"])

    def app_password(self, account: PDSAccount, name: str = "Sandpit") -> str:
        made = self.call(
            "com.atproto.server.createAppPassword", token=account.access_jwt, json={"name": name}
        )
        return str(made["password"])

    def revoke_app_password(self, account: PDSAccount, name: str = "Sandpit") -> None:
        self.call(
            "com.atproto.server.revokeAppPassword", token=account.access_jwt, json={"name": name}
        )

    def record(self, uri: str) -> dict[str, Any] | None:
        """The record at an at:// URI, or None if the repository has none there."""
        did, collection, rkey = uri.removeprefix("at://").split("/")
        response = self.xrpc(
            "com.atproto.repo.getRecord",
            params={"repo": did, "collection": collection, "rkey": rkey},
        )
        if response.status_code == 400 and response.json()["error"] == "RecordNotFound":
            return None
        assert response.status_code == 200, response.text
        found: dict[str, Any] = response.json()
        return found

    def posts(self, account: PDSAccount) -> list[dict[str, Any]]:
        """Every post in the account's repository, newest record key first."""
        listed = self.call(
            "com.atproto.repo.listRecords",
            params={"repo": account.did, "collection": POST_COLLECTION, "limit": 100},
        )
        return list(listed["records"])

    def texts(self, account: PDSAccount) -> list[str]:
        return [post["value"]["text"] for post in self.posts(account)]

    def blob(self, did: str, cid: str) -> httpx.Response:
        return self.xrpc("com.atproto.sync.getBlob", params={"did": did, "cid": cid})


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def running_pds() -> Iterator[ReferencePDS]:
    """Start the PLC directory and the PDS; stop them and remove their data afterwards."""
    node = shutil.which("node")
    if node is None:
        pytest.fail(f"Node.js is needed for the reference PDS. Install it: {INSTALL}")
    for package in ("@atproto/pds", "@did-plc/server"):
        if not (HERE / "node_modules" / package / "package.json").exists():
            pytest.fail(f"The {package} npm package is not installed. Install it with: {INSTALL}")
    driver = HERE / "node_modules" / "better-sqlite3" / "build" / "Release" / "better_sqlite3.node"
    if not driver.exists():
        pytest.fail(f"The PDS's SQLite driver was not built (is g++ there?). Install: {INSTALL}")
    plc_port, pds_port = _free_port(), _free_port()
    with (
        tempfile.TemporaryDirectory(prefix="sandpit-pds-") as data,
        open(Path(data) / "server.log", "w+") as log,
    ):
        process = subprocess.Popen(
            [node, str(HERE / "server.mjs"), str(plc_port), str(pds_port), data],
            stdout=log,
            stderr=subprocess.STDOUT,
            text=True,
        )

        def output() -> str:
            log.seek(0)
            return log.read()

        try:
            started = time.monotonic()
            while "pds ready" not in output():
                if process.poll() is not None:
                    pytest.fail(f"The reference PDS stopped:\n{output()}\nInstall: {INSTALL}")
                if time.monotonic() - started > START_SECONDS:
                    pytest.fail(
                        f"The reference PDS did not start in {START_SECONDS} s:\n{output()}"
                    )
                time.sleep(0.1)
            yield ReferencePDS(f"http://127.0.0.1:{pds_port}")
        finally:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
