"""Where Sandpit may connect when a person types the address: the one rule, and the
transports that apply it to every connection the platform clients make.

An admin types a Mastodon or Bluesky server's address. Without this rule that field would
make the server call anything it can reach: its own loopback services, the cloud's metadata
address, the hospital's private network. So an address typed by a person must resolve only
to public addresses. The rule is applied twice: when the form is sent, for a clear message,
and again on every connection the client libraries open (redirects included), because DNS
can answer differently the second time (DNS rebinding).

The doubles this project tests against listen on 127.0.0.1. Only the explicit setting
``ALLOW_LOCAL_PLATFORM_ADDRESSES`` (``SANDPIT_ALLOW_LOCAL_PLATFORMS``) lets them through, and
production refuses to start with it on.
"""

from __future__ import annotations

import ipaddress
import socket
from typing import Any
from urllib.parse import urlsplit

import httpcore
import httpx
import requests
import urllib3
from django.conf import settings
from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool


class ForbiddenAddress(OSError):
    """The host is not on the public internet. An OSError, so the client libraries report it
    as a failed connection: nothing was sent."""


def _local_allowed() -> bool:
    return bool(settings.ALLOW_LOCAL_PLATFORM_ADDRESSES)


def is_public(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%", 1)[0])  # drop an IPv6 zone id
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped  # ::ffff:127.0.0.1 is loopback too
    # is_global excludes loopback, private, link-local (169.254/16, the metadata address),
    # shared (100.64/10), reserved and documentation ranges; multicast is never a server.
    return ip.is_global and not ip.is_multicast


def resolve(host: str, port: int) -> list[str]:
    """The addresses ``host`` resolves to, refused unless every one is public (a host with
    one private address among public ones could be steered to it)."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        raise ForbiddenAddress(f"{host} could not be found ({exc}).") from exc
    addresses = list(dict.fromkeys(str(info[4][0]) for info in infos))
    if not _local_allowed():
        refused = [address for address in addresses if not is_public(address)]
        if refused:
            raise ForbiddenAddress(
                f"{host} is not a public internet address ({', '.join(refused)})."
            )
    return addresses


def dial_address(host: str, port: int) -> str:
    """What to connect to for ``host``: its first checked address. Where local addresses
    are allowed (the doubles) there is nothing to pin, and the name lets the system try
    each of its addresses."""
    if _local_allowed():
        return host
    return resolve(host, port)[0]


def check_url(url: str) -> str:
    """The URL if a person may point Sandpit at it; ForbiddenAddress or ValueError if not."""
    parts = urlsplit(url)
    allowed_schemes = {"https"} if settings.PRODUCTION else {"https", "http"}
    if parts.scheme not in allowed_schemes or not parts.hostname:
        raise ValueError(f"{url!r} is not an {' or '.join(sorted(allowed_schemes))} address")
    if parts.username or parts.password:
        raise ValueError("an address must not carry a user name or password")
    port = parts.port or (443 if parts.scheme == "https" else 80)
    resolve(parts.hostname, port)
    return url


# httpx (the atproto SDK) ------------------------------------------------------------------


class _CheckedBackend(httpcore.SyncBackend):
    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Any = None,
    ) -> httpcore.NetworkStream:
        # Dial the address just checked, not the name: a second look-up could answer
        # differently. TLS still verifies the certificate against the name.
        try:
            address = dial_address(host, port)
        except ForbiddenAddress as exc:
            raise httpcore.ConnectError(str(exc)) from exc
        return super().connect_tcp(address, port, timeout, local_address, socket_options)


class CheckedTransport(httpx.HTTPTransport):
    """An httpx transport whose every connection obeys ``resolve``. No proxy, no .netrc:
    nothing from the environment decides where it goes."""

    def __init__(self, *, limits: httpx.Limits) -> None:
        super().__init__(limits=limits, trust_env=False)
        # httpx builds its connection pool without a way to pass the network backend, so
        # build the same pool with ours.
        self._pool = httpcore.ConnectionPool(
            ssl_context=httpx.create_ssl_context(trust_env=False),
            max_connections=limits.max_connections,
            max_keepalive_connections=limits.max_keepalive_connections,
            keepalive_expiry=limits.keepalive_expiry,
            network_backend=_CheckedBackend(),
        )


# requests (Mastodon.py) -------------------------------------------------------------------


class _CheckedHTTPConnection(HTTPConnection):
    def _new_conn(self) -> socket.socket:
        # Dial the address just checked, not the name: a second look-up could answer
        # differently. urllib3 reads the name to dial from _dns_host, which is also the
        # name TLS verifies, so swap it only while the socket is made.
        name = self._dns_host
        try:
            self._dns_host = dial_address(name, self.port)
        except ForbiddenAddress as exc:
            raise urllib3.exceptions.NewConnectionError(self, str(exc)) from exc
        try:
            return super()._new_conn()
        finally:
            self._dns_host = name


class _CheckedHTTPSConnection(_CheckedHTTPConnection, HTTPSConnection):
    pass


class _CheckedHTTPPool(HTTPConnectionPool):
    ConnectionCls = _CheckedHTTPConnection


class _CheckedHTTPSPool(HTTPSConnectionPool):
    ConnectionCls = _CheckedHTTPSConnection


class _CheckedAdapter(HTTPAdapter):
    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = {
            "http": _CheckedHTTPPool,
            "https": _CheckedHTTPSPool,
        }


def checked_session() -> requests.Session:
    """A requests session whose every connection obeys ``resolve``, ignoring proxies and
    .netrc from the environment."""
    session = requests.Session()
    session.trust_env = False
    adapter = _CheckedAdapter()
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    return session
