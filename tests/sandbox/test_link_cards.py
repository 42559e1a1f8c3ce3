"""sandbox/link_cards.py: the card of a post's last link, read from the page's Open Graph
tags by the worker under the outbound address rule, kept in the cache, and shown in the
preview once it is there."""

import http.server
import socket
import threading
from unittest import mock

import pytest
from django.core.cache import cache
from django.urls import reverse

from sandbox import link_cards, services
from tests.factories import wait_for

pytestmark = pytest.mark.django_db

PAGE = (
    b"""<!doctype html><html><head><title>Fallback title</title>
<meta property="og:title" content="Flu jabs &amp; you">
<meta property="og:description" content="Who can have   a free
flu jab this winter.">
<meta property="og:site_name" content="NHS inform">
</head><body>"""
    + b"x" * 2000
    + b"</body></html>"
)


@pytest.fixture
def site():
    """A web page on 127.0.0.1 (local addresses are allowed in tests, as for the doubles)."""
    pages = {"/flu": (200, "text/html; charset=utf-8", PAGE)}

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            status, kind, body = pages.get(self.path, (404, "text/plain", b"no"))
            self.send_response(status)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    # A name a post can link to (twitter-text links no bare IP address), which this
    # machine's look-ups answer with the server's loopback address.
    real = socket.getaddrinfo

    def getaddrinfo(host, *args, **kwargs):
        return real("127.0.0.1" if host == "flu.example.org" else host, *args, **kwargs)

    with mock.patch("socket.getaddrinfo", getaddrinfo):
        yield f"http://flu.example.org:{server.server_address[1]}", pages
    server.shutdown()


@pytest.fixture(autouse=True)
def forget_cards():
    """No card kept from an earlier test or run (the cache outlives the test database)."""
    client = cache._cache.get_client(None, write=True)  # type: ignore[attr-defined]
    for key in client.scan_iter(match="*link-card:*"):
        client.delete(key)


def test_the_card_is_the_posts_last_link_with_a_scheme():
    assert link_cards.card_url("See nhs.uk and https://www.nhsinform.scot/flu now") == (
        "https://www.nhsinform.scot/flu"
    )
    assert link_cards.card_url("See nhs.uk/flu") == "https://nhs.uk/flu"
    assert link_cards.card_url("No link here") is None


def test_open_graph_tags_are_read_and_cleaned():
    tags = link_cards.read_open_graph(PAGE.decode())
    assert tags["og:title"] == "Flu jabs & you"
    assert tags["og:description"] == "Who can have a free flu jab this winter."
    assert tags["og:site_name"] == "NHS inform"
    assert tags["title"] == "Fallback title"
    assert link_cards.read_open_graph("<meta property=og:title content='" + "a" * 500) == {}
    long = link_cards.read_open_graph(f'<meta property="og:title" content="{"a" * 500}">')
    assert len(long["og:title"]) == 200 and long["og:title"].endswith("…")
    assert link_cards.read_open_graph("<<<>>>\x00<title>Only\x00 a title") == {
        "title": "Only a title"
    }


def test_the_worker_fetches_and_keeps_the_card(site):
    base, _ = site
    card = link_cards.link_card_fetch(url=f"{base}/flu")
    assert card == link_cards.LinkCard(
        url=f"{base}/flu",
        title="Flu jabs & you",
        description="Who can have a free flu jab this winter.",
        site="NHS inform",
    )
    assert link_cards.card_for(f"Read {base}/flu") == card


def test_a_page_without_a_card_is_remembered_as_none(site):
    base, pages = site
    pages["/plain"] = (200, "text/plain", b"just text")
    assert link_cards.link_card_fetch(url=f"{base}/missing") is None
    assert link_cards.link_card_fetch(url=f"{base}/plain") is None
    with mock.patch("sandbox.tasks.link_card_fetch.delay") as fetch:
        assert link_cards.card_for(f"Read {base}/missing") is None
    fetch.assert_not_called()  # known to have none: not fetched again for an hour


def test_a_local_address_is_never_fetched_when_only_the_public_internet_is_allowed(site, settings):
    settings.ALLOW_LOCAL_PLATFORM_ADDRESSES = False
    base, _ = site
    with mock.patch("http.server.BaseHTTPRequestHandler.handle") as served:
        assert link_cards.link_card_fetch(url=f"{base}/flu") is None
        assert link_cards.link_card_fetch(url="http://169.254.169.254/latest/meta-data") is None
    served.assert_not_called()


def test_a_missing_card_is_asked_of_the_worker_once(django_capture_on_commit_callbacks):
    with (
        mock.patch("sandbox.tasks.link_card_fetch.delay") as fetch,
        django_capture_on_commit_callbacks(execute=True),
    ):
        assert link_cards.card_for("See https://example.org/a") is None
        assert link_cards.card_for("And again https://example.org/a") is None
    fetch.assert_called_once_with("https://example.org/a")


def test_the_preview_shows_the_card_once_fetched(client, trainee, account, site):
    base, _ = site
    draft = services.draft_create(author=trainee, account=account, text=f"Flu jabs: {base}/flu")
    client.force_login(trainee)
    url = reverse("draft_detail", args=[draft.pk])
    with mock.patch("sandbox.tasks.link_card_fetch.delay"):
        assert "sp-link-card" not in client.get(url).content.decode()
    link_cards.link_card_fetch(url=f"{base}/flu")
    body = client.get(url).content.decode()
    assert 'class="sp-link-card"' in body and "Flu jabs &amp; you" in body
    assert "NHS inform" in body


@pytest.mark.django_db(transaction=True)
def test_a_real_worker_fetches_the_card_a_preview_asked_for(celery_worker, site):
    base, _ = site
    text = f"Flu jabs: {base}/flu"
    assert link_cards.card_for(text) is None  # asks the worker, after commit (now)
    assert wait_for(lambda: link_cards.card_for(text) is not None, timeout=10)
    assert link_cards.card_for(text).title == "Flu jabs & you"
