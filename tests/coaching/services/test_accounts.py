"""coaching/services/accounts.py: connecting X (OAuth 2.0 with PKCE), Mastodon and Bluesky,
and the credentials it accepts. Secrets are values, never paths, and a typed server address
reaches only the public internet: a real listener on 127.0.0.1 records every connection, so
"reached nothing" is measured, not assumed. Mastodon and Bluesky are then published to with
the real client library against each double."""

import socket
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from django.urls import reverse

from coaching import services as coaching
from coaching.models import AuditEvent, Publication
from coaching.publishing import publisher_for
from coaching.publishing.base import PublishError
from sandbox import outbound
from sandbox.errors import InvalidInput, InvalidState
from sandbox.models import WorkplaceAccount
from tests import factories
from tests.builders import approved, sent
from tests.factories import (
    BLUESKY_APP_PASSWORD,
    BLUESKY_HANDLE,
    MASTODON_TOKEN,
    MASTODON_USER,
    PASSWORD,
    signed_in,
)

pytestmark = pytest.mark.django_db

P = Publication.Status


# Credentials: values, never paths; server addresses: the public internet only -------------


class Listener:
    """An HTTP server that answers every request 401 and remembers who called."""

    def __init__(self, body: bytes = b'{"error": "The access token is invalid"}') -> None:
        self.connections = 0
        self.authorizations: list[str | None] = []
        listener = self

        class Handler(BaseHTTPRequestHandler):
            def setup(self) -> None:
                listener.connections += 1
                super().setup()

            def do_GET(self) -> None:
                listener.authorizations.append(self.headers.get("Authorization"))
                self.send_response(401)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            do_POST = do_GET

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


@pytest.fixture
def listener() -> Iterator[Listener]:
    listening = Listener()
    yield listening
    listening.server.shutdown()
    listening.server.server_close()


@pytest.fixture
def public_only(settings):
    """Production's rule: no local doubles."""
    settings.ALLOW_LOCAL_PLATFORM_ADDRESSES = False


@pytest.mark.parametrize("path", ["/proc/self/environ", "/etc/passwd", "manage.py"])
def test_a_file_path_as_a_token_reaches_no_listener(client, admin, listener, path):
    signed_in(client, admin)
    response = client.post(
        reverse("account_connect_other", args=["mastodon"]),
        {"server": listener.url, "secret": path},
    )
    assert response.status_code == 400
    page = response.content.decode()
    assert "Paste the access token exactly as Mastodon shows it" in page
    assert f'value="{listener.url}"' in page  # the address typed is kept
    assert path not in page  # the secret is never echoed back
    assert listener.connections == 0
    assert not WorkplaceAccount.objects.filter(platform="mastodon").exists()


def test_a_token_that_names_a_file_is_sent_as_itself(
    admin, organisation, listener, tmp_path, monkeypatch
):
    # Shaped like a token and naming a file in the working directory: Mastodon.py alone
    # would send the file's first line. Sandpit sends the value typed.
    name = "Secrets_" + "x" * 35
    (tmp_path / name).write_text("DJANGO_SECRET_KEY=never-leaves-this-machine\n")
    monkeypatch.chdir(tmp_path)
    with pytest.raises(InvalidState, match="Mastodon did not accept that"):
        coaching.mastodon_connect(
            by=admin, organisation_id=organisation.pk, server=listener.url, access_token=name
        )
    assert listener.authorizations == [f"Bearer {name}"]


@pytest.mark.parametrize(
    ("platform", "fields"),
    [
        ("mastodon", {"secret": "short"}),
        ("mastodon", {"secret": "has spaces in it and is long enough"}),
        ("bluesky", {"handle": "board.test", "secret": "the account's real password"}),
        ("bluesky", {"handle": "../../etc/passwd", "secret": BLUESKY_APP_PASSWORD}),
    ],
)
def test_credentials_of_the_wrong_shape_are_refused_before_any_connection(
    client, admin, listener, platform, fields
):
    signed_in(client, admin)
    response = client.post(
        reverse("account_connect_other", args=[platform]), {"server": listener.url, **fields}
    )
    assert response.status_code == 400
    assert "nhsuk-error-summary" in response.content.decode()
    assert listener.connections == 0


@pytest.mark.parametrize(
    "server",
    [
        "http://127.0.0.1:{port}",
        "http://localhost:{port}",
        "http://[::1]:{port}",
        "http://[::ffff:127.0.0.1]:{port}",
        "http://0.0.0.0:{port}",
        "http://169.254.169.254",
    ],
)
def test_a_server_that_is_not_public_is_refused_before_any_connection(
    client, admin, listener, public_only, server
):
    port = listener.url.rsplit(":", 1)[1]
    signed_in(client, admin)
    response = client.post(
        reverse("account_connect_other", args=["mastodon"]),
        {"server": server.format(port=port), "secret": MASTODON_TOKEN},
    )
    assert response.status_code == 400
    assert "Sandpit connects only to servers on the public internet" in response.content.decode()
    assert listener.connections == 0


def test_production_takes_https_only(admin, organisation, settings, listener):
    settings.PRODUCTION = True
    with pytest.raises(InvalidInput, match="must start with https://"):
        coaching.mastodon_connect(
            by=admin,
            organisation_id=organisation.pk,
            server=listener.url,
            access_token=MASTODON_TOKEN,
        )
    assert listener.connections == 0


@pytest.fixture
def rebinding(monkeypatch, listener):
    """A name that resolves to a public address when checked and to this machine after
    (DNS rebinding). Only the loopback answer is ever dialled."""
    real = socket.getaddrinfo
    answers = iter(["93.184.215.14"])

    def getaddrinfo(host, port, *args, **kwargs):
        if host != "rebind.test":
            return real(host, port, *args, **kwargs)
        address = next(answers, "127.0.0.1")
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (address, port))]

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    port = listener.url.rsplit(":", 1)[1]
    return f"http://rebind.test:{port}"


def test_the_check_is_repeated_at_connect_time_for_mastodon(
    organisation, listener, public_only, rebinding
):
    outbound.check_url(rebinding)  # looks public now
    account = factories.AccountFactory.create(
        organisation=organisation,
        platform="mastodon",
        handle="board",
        api_base_url=rebinding,
        access_token=MASTODON_TOKEN,
    )
    with pytest.raises(PublishError, match="not a public internet address"):
        publisher_for(account).identity()
    assert listener.connections == 0


def test_the_check_is_repeated_at_connect_time_for_bluesky(
    organisation, listener, public_only, rebinding
):
    outbound.check_url(rebinding)
    account = factories.AccountFactory.create(
        organisation=organisation,
        platform="bluesky",
        handle="board.test",
        api_base_url=rebinding,
        access_token="",
        app_password=BLUESKY_APP_PASSWORD,
    )
    with pytest.raises(PublishError, match="not a public internet address"):
        publisher_for(account).identity()
    assert listener.connections == 0


@pytest.mark.parametrize(
    "body",
    [b'{"not": {"xrpc": [1, 2]}}', b"[1, 2, 3]", b'"just a string"', b'{"error": {"a": 1}}'],
)
def test_a_server_answering_json_that_is_not_xrpc_gets_a_clear_message(client, admin, body):
    answering = Listener(body)
    try:
        signed_in(client, admin)
        response = client.post(
            reverse("account_connect_other", args=["bluesky"]),
            {"server": answering.url, "handle": "board.test", "secret": BLUESKY_APP_PASSWORD},
        )
    finally:
        answering.server.shutdown()
        answering.server.server_close()
    assert response.status_code == 400
    assert "Bluesky did not accept that" in response.content.decode()
    assert answering.connections >= 1


def test_the_setting_is_refused_in_production(tmp_path):
    import os
    import subprocess
    import sys

    env = {
        **os.environ,
        "SANDPIT_ENV": "production",
        "DJANGO_DEBUG": "false",
        "DJANGO_SECRET_KEY": "k" * 60,
        "SANDPIT_ENCRYPTION_KEY": "x",
        "SANDPIT_ALLOW_LOCAL_PLATFORMS": "true",
        "DJANGO_SETTINGS_MODULE": "sandbox.settings",
    }
    result = subprocess.run(
        [sys.executable, "-c", "import django; django.setup()"],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode != 0
    assert "SANDPIT_ALLOW_LOCAL_PLATFORMS is for development only" in result.stderr


# Connecting an account in the browser's way (HTTP through the double's consent page) ----------


def test_an_admin_connects_an_x_account_with_oauth_pkce(
    client, admin, organisation, x_double, settings
):
    settings.X_AUTHORIZE_URL = f"{x_double.base_url}/i/oauth2/authorize"
    x_double.add_user("NewBoard", name="New Board", token="unused")
    client.login(username=admin.username, password=PASSWORD)
    start = client.post(reverse("account_connect_x"), {"organisation": organisation.pk})
    assert start.status_code == 302
    authorize = urlsplit(start["Location"])
    query = {k: v[0] for k, v in parse_qs(authorize.query).items()}
    assert query["code_challenge_method"] == "S256"
    assert set(query["scope"].split()) == {
        "tweet.read",
        "tweet.write",
        "users.read",
        "media.write",  # uploading a post's images
        "offline.access",
    }
    consent = httpx.get(start["Location"])
    assert "Authorize app as @NewBoard" in consent.text
    granted = httpx.post(
        f"{x_double.base_url}/i/oauth2/authorize",
        data={**query, "username": "NewBoard", "decision": "allow"},
    )
    callback = urlsplit(granted.headers["location"])
    done = client.get(f"{callback.path}?{callback.query}", follow=True)
    assert "Connected @NewBoard on X" in done.content.decode()
    account = WorkplaceAccount.objects.get(handle="NewBoard")
    assert account.organisation == organisation and account.access_token and account.refresh_token
    assert AuditEvent.objects.filter(action="account_connected", actor=admin).exists()


def test_a_tampered_oauth_callback_is_refused_clearly(
    client, admin, organisation, x_double, settings
):
    settings.X_AUTHORIZE_URL = f"{x_double.base_url}/i/oauth2/authorize"
    client.login(username=admin.username, password=PASSWORD)
    client.post(reverse("account_connect_x"), {"organisation": organisation.pk})
    response = client.get(
        reverse("account_connect_x_callback") + "?state=forged&code=abc", follow=True
    )
    assert "does not match one you started here" in response.content.decode()
    assert WorkplaceAccount.objects.count() == 1  # only the fixture's account
    assert "x_oauth_pending" not in client.session  # the pending flow is used up


def test_only_admins_connect_accounts(client, coach):
    client.login(username=coach.username, password=PASSWORD)
    assert client.get(reverse("accounts")).status_code == 403
    assert client.post(reverse("account_connect_x")).status_code == 403


# Mastodon and Bluesky: connected by an admin, then published to ---------------------------


def test_an_admin_connects_mastodon_and_a_thread_goes_out(
    client, admin, trainee, coach, organisation, mastodon_double
):
    client.login(username=admin.username, password=PASSWORD)
    response = client.post(
        reverse("account_connect_other", args=["mastodon"]),
        {"server": mastodon_double.base_url, "secret": MASTODON_TOKEN},
        follow=True,
    )
    assert f"Connected @{MASTODON_USER} on Mastodon" in response.content.decode()
    account = WorkplaceAccount.objects.get(platform="mastodon")
    assert account.access_token == MASTODON_TOKEN

    publication = sent(approved(trainee, coach, account, "Clinic news 1/2", ["Clinic news 2/2"]))
    assert publication.status == P.PUBLISHED
    statuses = {s.text: s for s in mastodon_double.statuses_for(MASTODON_USER)}
    assert statuses["Clinic news 2/2"].in_reply_to_id == statuses["Clinic news 1/2"].id
    assert publication.remote_url.startswith(mastodon_double.base_url)


def test_a_wrong_mastodon_token_is_refused_clearly(client, admin, mastodon_double):
    client.login(username=admin.username, password=PASSWORD)
    response = client.post(
        reverse("account_connect_other", args=["mastodon"]),
        {"server": mastodon_double.base_url, "secret": "W" * 43},
        follow=True,
    )
    assert "Mastodon did not accept that" in response.content.decode()
    assert not WorkplaceAccount.objects.filter(platform="mastodon").exists()


def test_a_mastodon_server_address_must_be_a_url(admin, organisation):
    with pytest.raises(Exception, match="full address"):
        coaching.mastodon_connect(
            by=admin, organisation_id=organisation.pk, server="not a url", access_token="x"
        )


def test_bluesky_connects_with_an_app_password_and_keeps_its_session(
    admin, trainee, coach, organisation, bluesky_double
):
    account = coaching.bluesky_connect(
        by=admin,
        organisation_id=organisation.pk,
        server=bluesky_double.base_url,
        handle=BLUESKY_HANDLE,
        app_password=BLUESKY_APP_PASSWORD,
    )
    assert account.platform_session  # saved, encrypted, so we do not log in every time
    sessions_before = bluesky_double.state()["calls"]["com.atproto.server.createSession"]
    assert sessions_before >= 1  # connecting logged in once
    publication = sent(approved(trainee, coach, account, "Bluesky clinic news"))
    assert publication.status == P.PUBLISHED
    [post] = bluesky_double.posts_for(BLUESKY_HANDLE)
    assert post.text == "Bluesky clinic news"
    assert publication.remote_id.startswith("at://")
    sessions_after = bluesky_double.state()["calls"].get("com.atproto.server.createSession", 0)
    assert sessions_after == sessions_before


def test_a_wrong_bluesky_app_password_is_refused(admin, organisation, bluesky_double):
    with pytest.raises(InvalidState, match="Bluesky did not accept that"):
        coaching.bluesky_connect(
            by=admin,
            organisation_id=organisation.pk,
            server=bluesky_double.base_url,
            handle=BLUESKY_HANDLE,
            app_password="zzzz-zzzz-zzzz-zzzz",
        )


def test_every_wrong_field_of_a_connection_is_reported_at_once(admin, organisation):
    with pytest.raises(InvalidInput) as refused:
        coaching.bluesky_connect(
            by=admin,
            organisation_id=organisation.pk,
            server="not an address",
            handle="not a handle!",
            app_password="my real password",
        )
    assert [problem.field for problem in refused.value] == ["server", "handle", "secret"]
    with pytest.raises(InvalidInput) as refused:
        coaching.mastodon_connect(
            by=admin, organisation_id=organisation.pk, server="nowhere", access_token="short"
        )
    assert [problem.field for problem in refused.value] == ["server", "secret"]


@pytest.mark.parametrize("platform", ["mastodon", "bluesky"])
def test_only_admins_connect_other_platforms(client, coach, platform):
    client.login(username=coach.username, password=PASSWORD)
    response = client.post(reverse("account_connect_other", args=[platform]), {"server": "x"})
    assert response.status_code == 403
