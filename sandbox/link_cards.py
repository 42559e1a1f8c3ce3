"""Link preview cards: the title, description and site name of the page a post links to,
from its Open Graph tags, shown under the post in the preview as X shows a card.

The page is fetched by the worker, never while a page is drawn (a slow or hostile site
cannot hold anyone's page up), under the same rule as every address a person types
(sandbox.outbound: the public internet only, checked again on every connection and
redirect), and the card is kept in the cache: a preview shows it once the worker has
fetched it, and shows none until then or when there is none to show.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import asdict, dataclass
from functools import partial
from html.parser import HTMLParser
from urllib.parse import urlsplit

import requests
from django.core.cache import cache
from django.db import transaction
from redis.exceptions import RedisError

from sandbox import outbound
from sandbox.tweet_text import extract_urls_with_indices

logger = logging.getLogger(__name__)

CARD_SECONDS = 24 * 60 * 60  # a page's card is kept a day
NONE_SECONDS = 60 * 60  # a page with no card, or that could not be fetched: an hour
PENDING_SECONDS = 5 * 60  # one fetch at a time per address
TIMEOUT_SECONDS = 5
MAX_BYTES = 512 * 1024  # the <head> is near the start; nobody's card needs more
MAX_REDIRECTS = 3
NONE = ""  # kept for an address with no card, so it is not fetched on every view


@dataclass(frozen=True)
class LinkCard:
    url: str
    title: str
    description: str = ""
    site: str = ""

    @property
    def domain(self) -> str:
        host = urlsplit(self.url).hostname or ""
        return host.removeprefix("www.")


def card_url(text: str) -> str | None:
    """The address X makes a card of: the post's last link."""
    urls = extract_urls_with_indices(text)
    if not urls:
        return None
    url = urls[-1].value
    return url if "://" in url else f"https://{url}"


def _key(url: str) -> str:
    return "link-card:" + hashlib.sha256(url.encode()).hexdigest()


def card_for(text: str) -> LinkCard | None:
    """The card for the post's link if the worker has fetched it; otherwise None, and the
    worker is asked to fetch it (once, however many pages ask meanwhile)."""
    url = card_url(text)
    if url is None:
        return None
    try:
        kept = cache.get(_key(url))
        if kept is None and cache.add(_key(url) + ":pending", 1, PENDING_SECONDS):
            from sandbox import tasks

            transaction.on_commit(partial(tasks.link_card_fetch.delay, url), robust=True)
    except RedisError:
        logger.warning("The cache is unreachable; no link card.")
        return None
    return LinkCard(**kept) if kept else None


def link_card_fetch(*, url: str) -> LinkCard | None:
    """Fetch the page and keep its card (or that it has none) in the cache."""
    card = _fetched_card(url)
    cache.set(
        _key(url),
        asdict(card) if card else NONE,
        CARD_SECONDS if card else NONE_SECONDS,
    )
    cache.delete(_key(url) + ":pending")
    return card


def _fetched_card(url: str) -> LinkCard | None:
    try:
        outbound.check_url(url)
        session = outbound.checked_session()
        session.max_redirects = MAX_REDIRECTS
        with session.get(
            url,
            timeout=TIMEOUT_SECONDS,
            stream=True,
            headers={"User-Agent": "Sandpit link preview", "Accept": "text/html"},
        ) as response:
            if response.status_code != 200:
                return None
            if "html" not in response.headers.get("Content-Type", "text/html").lower():
                return None
            body = b""
            for chunk in response.iter_content(chunk_size=16 * 1024):
                body += chunk
                if len(body) >= MAX_BYTES:
                    break
            page = body[:MAX_BYTES].decode(response.encoding or "utf-8", errors="replace")
            final_url = response.url
    except (OSError, ValueError, requests.RequestException) as exc:
        # ForbiddenAddress is an OSError: a local or private address is simply no card.
        logger.info("No link card for %s: %s", url, exc)
        return None
    tags = read_open_graph(page)
    title = tags.get("og:title") or tags.get("title")
    if not title:
        return None
    return LinkCard(
        url=final_url if final_url.startswith(("https://", "http://")) else url,
        title=title,
        description=tags.get("og:description") or tags.get("description", ""),
        site=tags.get("og:site_name", ""),
    )


class _OpenGraphReader(HTMLParser):
    """The Open Graph <meta> tags and the <title> of a page's head."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: dict[str, str] = {}
        self._in_title = False
        self._title: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "meta":
            values = {name: value or "" for name, value in attrs}
            name = (values.get("property") or values.get("name") or "").strip().lower()
            if name in ("og:title", "og:description", "og:site_name", "description"):
                self.tags.setdefault(name, values.get("content", ""))
        elif tag == "title":
            self._in_title = True

    def handle_endtag(self, tag: str) -> None:
        if tag == "title":
            self._in_title = False

    def handle_data(self, data: str) -> None:
        if self._in_title:
            self._title.append(data)


def read_open_graph(page: str) -> dict[str, str]:
    """og:title, og:description, og:site_name, description and title, cleaned: spaces
    collapsed, cut to a card's length. Broken HTML gives what could be read."""
    reader = _OpenGraphReader()
    try:
        reader.feed(page)
        reader.close()
    except (AssertionError, ValueError):  # the parser's complaints about broken markup
        pass
    tags = dict(reader.tags)
    if reader._title:
        tags["title"] = "".join(reader._title)
    limits = {"og:title": 200, "title": 200, "og:site_name": 100}
    cleaned = {}
    for name, value in tags.items():
        value = " ".join(value.replace("\x00", "").split())
        limit = limits.get(name, 300)
        cleaned[name] = value if len(value) <= limit else value[: limit - 1] + "…"
    return {name: value for name, value in cleaned.items() if value}
