"""Where the server may POST a push: checked when a browser subscribes, and when connecting.

A subscription's endpoint is a URL a user hands the server; the server then connects to it for
every message. So:

- it is parsed by urllib3's `parse_url`, the parser `requests` (pywebpush's HTTP client) uses,
  never by a second parser that could read it differently (`https://127.0.0.1\\@push.test/`
  was one host to `urlsplit` and another to the client);
- https only, the default port, no user-info, no backslash, a host name on the allow-list
  (PUSH_ENDPOINT_HOSTS plus PUSH_EXTRA_ENDPOINT_HOSTS, a host or any subdomain of it);
- the name must resolve to public addresses only: private, loopback, link-local, multicast,
  reserved and unspecified ones are refused; and the same check runs again when the socket is
  opened (`guarded_session`): the connection goes to the address that was checked, so DNS that
  changes its answer in between (rebinding) gains nothing, and redirects are not followed.

PUSH_ALLOW_HTTP_ENDPOINTS (development and tests only, with a local push-service stand-in)
lifts the scheme, port, IP-literal and address rules; the host allow-list still holds.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
import threading
from dataclasses import dataclass
from typing import Any

import requests
from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool
from urllib3.exceptions import LocationParseError, NameResolutionError, NewConnectionError
from urllib3.poolmanager import PoolManager
from urllib3.util import Url, connection, parse_url

from backend.config import Settings


class BadEndpoint(ValueError):
    """An endpoint the server will not POST to; the message says why (safe to show)."""


@dataclass(frozen=True)
class EndpointPolicy:
    hosts: tuple[str, ...]
    development: bool  # PUSH_ALLOW_HTTP_ENDPOINTS

    @classmethod
    def from_settings(cls, settings: Settings) -> EndpointPolicy:
        hosts = [*settings.push_endpoint_hosts, *settings.push_extra_endpoint_hosts]
        allowed = tuple(h.lower().strip(".") for h in hosts if h.strip("."))
        return cls(allowed, settings.push_allow_http_endpoints)


def parse(endpoint: str, policy: EndpointPolicy) -> Url:
    """The endpoint as the HTTP client will read it, or BadEndpoint (no network involved)."""
    if "\\" in endpoint or any(ord(c) < 0x21 or ord(c) == 0x7F for c in endpoint):
        raise BadEndpoint("the endpoint must not contain backslashes, spaces or controls")
    try:
        url = parse_url(endpoint)
    except (LocationParseError, ValueError):
        raise BadEndpoint("the endpoint is not a valid URL") from None
    schemes = ("https", "http") if policy.development else ("https",)
    if url.scheme not in schemes or not url.host:
        raise BadEndpoint("the endpoint must be an https:// URL of a push service")
    if url.auth is not None:
        raise BadEndpoint("the endpoint must not carry user information")
    host = url.host.lower().strip("[]")
    if not policy.development:
        if url.port not in (None, 443):
            raise BadEndpoint("the endpoint must use the default https port")
        if _is_ip(host):
            raise BadEndpoint("the endpoint must name a push service, not an address")
    if not any(host == h or host.endswith("." + h) for h in policy.hosts):
        raise BadEndpoint("this push service is not allowed here (PUSH_ENDPOINT_HOSTS)")
    return url


def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


def public(address: str) -> bool:
    """A globally routable unicast address (IPv4-mapped IPv6 judged by its IPv4)."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_global and not ip.is_multicast and not ip.is_reserved


def vetted(infos: list[Any], host: str) -> tuple[str, int]:  # getaddrinfo's answers
    """The first resolved address, when *every* address of the name is public."""
    addresses = [str(info[4][0]) for info in infos]
    if not addresses:
        raise BadEndpoint(f"{host} does not resolve")
    if not all(public(a) for a in addresses):
        raise BadEndpoint("the push service resolves to a private or reserved address")
    return addresses[0], infos[0][0]


async def check(endpoint: str, policy: EndpointPolicy) -> None:
    """Registration time: the rules above, DNS included. BadEndpoint when refused."""
    url = parse(endpoint, policy)
    if policy.development:
        return
    assert url.host is not None
    try:
        infos = await asyncio.get_running_loop().getaddrinfo(
            url.host, url.port or 443, type=socket.SOCK_STREAM
        )
    except OSError:
        raise BadEndpoint(f"{url.host} does not resolve") from None
    vetted(infos, url.host)


def _guarded(base: type[HTTPConnection], allow_private: bool) -> type[HTTPConnection]:
    class Guarded(base):  # type: ignore[valid-type, misc]
        """Resolves, checks every address, and connects to the checked one."""

        def _new_conn(self) -> socket.socket:
            try:
                infos = socket.getaddrinfo(self._dns_host, self.port, type=socket.SOCK_STREAM)
            except socket.gaierror as exc:
                raise NameResolutionError(self.host, self, exc) from exc
            try:
                if allow_private:
                    address = str(infos[0][4][0])
                else:
                    address, _ = vetted(infos, self.host)
            except (BadEndpoint, IndexError) as exc:
                raise NewConnectionError(self, f"refused: {exc}") from None
            return connection.create_connection(
                (address, self.port),
                self.timeout,
                source_address=self.source_address,
                socket_options=self.socket_options,
            )

    return Guarded


class GuardedAdapter(HTTPAdapter):
    """requests' adapter whose connections pass `_guarded`, for http and https alike."""

    def __init__(self, allow_private: bool) -> None:
        self.allow_private = allow_private
        super().__init__(max_retries=0)

    def init_poolmanager(
        self, connections: int, maxsize: int, block: bool = False, **kwargs: Any
    ) -> None:
        private = self.allow_private

        class HttpPool(HTTPConnectionPool):
            ConnectionCls = _guarded(HTTPConnection, private)

        class HttpsPool(HTTPSConnectionPool):
            ConnectionCls = _guarded(HTTPSConnection, private)  # type: ignore[assignment]

        self.poolmanager = PoolManager(
            num_pools=connections, maxsize=maxsize, block=block, **kwargs
        )
        self.poolmanager.pool_classes_by_scheme = {"http": HttpPool, "https": HttpsPool}


_local = threading.local()


def guarded_session(allow_private: bool) -> requests.Session:
    """A requests session for push threads (one per thread): guarded connections, no
    redirects (a push service answers; it does not send us elsewhere), no proxies from the
    environment (a proxy would connect on our behalf, past the address check)."""
    key = f"session_{allow_private}"
    session: requests.Session | None = getattr(_local, key, None)
    if session is None:
        session = requests.Session()
        session.trust_env = False
        session.max_redirects = 0
        adapter = GuardedAdapter(allow_private)
        session.mount("http://", adapter)
        session.mount("https://", adapter)
        setattr(_local, key, session)
    return session
