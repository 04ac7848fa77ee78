"""The one way the bot reads a URL someone else controls: the feed, link-card pages and their thumbnails.

Every fetch is bounded and, unless the caller allows it, public:

* a total deadline that holds against slow headers and slow bodies alike: every socket operation gets at most
  the time left, so a server dripping one byte a second cannot stretch a fetch past its deadline;
* a size cap enforced while streaming (a declared Content-Length over the cap is refused before reading);
* at most ``max_redirects`` redirects, each one checked again; only ``http`` and ``https``;
* no private, loopback, link-local, multicast or reserved address (the feed may be given loopback and private
  ranges by settings, never the rest): the host name is resolved once, every
  address is checked (IPv4, IPv6, IPv4-mapped and NAT64 forms, whatever spelling the URL used) and the
  connection goes to the checked address, so a refused address is never connected to and DNS cannot change
  its answer in between. Proxies from the environment are ignored for the same reason.

httpx does the HTTP; this module only plugs a guarded network backend into its connection pool.
"""

from __future__ import annotations

import ipaddress
import socket
import ssl
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from types import TracebackType
from typing import Any
from urllib.parse import urljoin, urlsplit

import httpcore
import httpx

from bot import __version__

USER_AGENT = f"aasr-bot/{__version__} (+https://endseclusion.org)"
_CHUNK = 64 * 1024
_REDIRECTS = frozenset({301, 302, 303, 307, 308})
_NAT64 = ipaddress.ip_network("64:ff9b::/96")


class FetchError(Exception):
    """Why a fetch gave up; ``kind`` is one of timeout, too_large, redirects, blocked, url, network."""

    def __init__(self, message: str, kind: str, cause: Exception | None = None) -> None:
        super().__init__(message)
        self.kind = kind
        self.cause = cause
        """The httpx exception behind a network failure, for callers that explain it in plain words."""


class BlockedAddress(FetchError):
    """The URL's host is (or resolves to) an address the bot must not fetch from."""

    def __init__(self, message: str) -> None:
        super().__init__(message, "blocked")


@dataclass(frozen=True, slots=True)
class Fetched:
    """A finished fetch: the final URL (after redirects), status, headers and the (capped) body."""

    url: str
    status: int
    reason: str
    headers: httpx.Headers
    body: bytes

    @property
    def media_type(self) -> str:
        return str(self.headers.get("content-type", "")).split(";", 1)[0].strip().lower()

    @property
    def charset(self) -> str | None:
        for part in str(self.headers.get("content-type", "")).split(";")[1:]:
            name, _, value = part.partition("=")
            if name.strip().lower() == "charset" and value.strip():
                return value.strip().strip("\"'")
        return None


def blocked_reason(address: str, *, allow_private: bool = False) -> str | None:
    """Why ``address`` (an IP literal) may not be fetched from, or None if it may.

    ``allow_private`` lifts loopback and private ranges only: link-local (cloud metadata at 169.254.169.254),
    multicast, reserved and unspecified addresses stay refused whatever the settings.
    """
    try:
        ip = ipaddress.ip_address(address.split("%", 1)[0])
    except ValueError:
        return "not an IP address"
    if isinstance(ip, ipaddress.IPv6Address):
        mapped = ip.ipv4_mapped
        if mapped is None and ip in _NAT64:
            mapped = ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
        if mapped is not None:
            inner = blocked_reason(str(mapped), allow_private=allow_private)
            return f"{inner} (written as {ip})" if inner else None
    for flag in ("link_local", "multicast", "unspecified"):
        if getattr(ip, f"is_{flag}"):
            return f"{flag.replace('_', '-')} address {ip}"
    if ip.is_loopback:
        return None if allow_private else f"loopback address {ip}"
    if ip.is_reserved:
        return f"reserved address {ip}"
    if ip.is_private:
        return None if allow_private else f"private address {ip}"
    if not ip.is_global:
        return f"non-public address {ip}"
    return None


Resolver = Callable[[str, int], list[tuple[Any, ...]]]
"""``socket.getaddrinfo``'s shape: (host, port) -> [(family, type, proto, canonname, sockaddr), ...]."""


def _getaddrinfo(host: str, port: int) -> list[tuple[Any, ...]]:
    return list(socket.getaddrinfo(host, port, type=socket.SOCK_STREAM))


def resolve(host: str, port: int, resolver: Resolver = _getaddrinfo) -> list[str]:
    """Every address ``host`` resolves to (literals, including decimal and octal IPv4 forms, resolve locally)."""
    try:
        infos = resolver(host, port)
    except (socket.gaierror, UnicodeError, OSError) as exc:
        raise httpcore.ConnectError(f"cannot resolve {host}: {exc}") from None
    seen: list[str] = []
    for info in infos:
        address = str(info[4][0])
        if address not in seen:
            seen.append(address)
    if not seen:
        raise httpcore.ConnectError(f"{host} has no address")
    return seen


class _DeadlineStream(httpcore.NetworkStream):
    """A socket stream whose every read and write gets at most the time left before the deadline."""

    def __init__(self, inner: httpcore.NetworkStream, deadline: float) -> None:
        self._inner = inner
        self._deadline = deadline

    def _bounded(self, timeout: float | None, error: type[Exception]) -> float:
        remaining = self._deadline - time.monotonic()
        if remaining <= 0:
            raise error("total deadline passed")
        return remaining if timeout is None else min(timeout, remaining)

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return self._inner.read(max_bytes, self._bounded(timeout, httpcore.ReadTimeout))

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        self._inner.write(buffer, self._bounded(timeout, httpcore.WriteTimeout))

    def close(self) -> None:
        self._inner.close()

    def start_tls(
        self, ssl_context: ssl.SSLContext, server_hostname: str | None = None, timeout: float | None = None
    ) -> httpcore.NetworkStream:
        wrapped = self._inner.start_tls(
            ssl_context, server_hostname, self._bounded(timeout, httpcore.ConnectTimeout)
        )
        return _DeadlineStream(wrapped, self._deadline)

    def get_extra_info(self, info: str) -> Any:
        return self._inner.get_extra_info(info)


class _GuardedBackend(httpcore.NetworkBackend):
    """Resolves, checks and connects to the checked address; TLS still verifies the URL's host name."""

    def __init__(
        self,
        deadline: float,
        allow_private: bool,
        allow_addresses: frozenset[tuple[str, int]],
        resolver: Resolver,
    ) -> None:
        self._resolver = resolver
        self._inner = httpcore.SyncBackend()
        self._deadline = deadline
        self._allow_private = allow_private
        self._allow_addresses = allow_addresses

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.NetworkStream:
        addresses = resolve(host, port, self._resolver)
        for address in addresses:
            if (address, port) in self._allow_addresses:
                continue
            why = blocked_reason(address, allow_private=self._allow_private)
            if why:
                raise BlockedAddress(f"refused to fetch from {host}: {why}")
        last: Exception | None = None
        for address in addresses:
            remaining = self._deadline - time.monotonic()
            if remaining <= 0:
                raise httpcore.ConnectTimeout("total deadline passed")
            try:
                stream = self._inner.connect_tcp(
                    address,
                    port,
                    remaining if timeout is None else min(timeout, remaining),
                    local_address,
                    socket_options,
                )
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as exc:
                last = exc
                continue
            return _DeadlineStream(stream, self._deadline)
        assert last is not None
        raise last

    def connect_unix_socket(
        self, path: str, timeout: float | None = None, socket_options: Iterable[Any] | None = None
    ) -> httpcore.NetworkStream:
        raise httpcore.ConnectError("unix sockets are not fetched")

    def sleep(self, seconds: float) -> None:
        time.sleep(seconds)


class _GuardedTransport(httpx.HTTPTransport):
    """httpx's own transport (request mapping, exception mapping) over a pool that uses the guarded backend."""

    def __init__(self, ssl_context: ssl.SSLContext, backend: _GuardedBackend) -> None:
        # Not calling super().__init__: it would build a second pool (and load the CA bundle again).
        self._pool = httpcore.ConnectionPool(
            ssl_context=ssl_context, max_connections=4, network_backend=backend
        )


class Fetcher:
    """Fetches with the rules in the module docstring. ``allow_private`` (loopback and private ranges, never
    link-local) is for the configured feed URL only (settings ``feed.allow_private_address``) and for tests; link
    cards never get it. ``allow_addresses`` lets tests reach exactly one local server, (ip, port) pairs."""

    def __init__(
        self,
        *,
        allow_private: bool = False,
        allow_addresses: frozenset[tuple[str, int]] = frozenset(),
        resolver: Resolver = _getaddrinfo,
        timeout: float = 15.0,
        max_redirects: int = 5,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        self.allow_private = allow_private
        self.allow_addresses = allow_addresses
        self.resolver = resolver
        """How host names become addresses (``socket.getaddrinfo``); tests inject DNS failures here."""
        self.timeout = timeout
        self.max_redirects = max_redirects
        self._headers = {"User-Agent": USER_AGENT, **(headers or {})}
        self._ssl: ssl.SSLContext | None = None

    def __enter__(self) -> Fetcher:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, value: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def close(self) -> None:
        """Nothing is pooled between fetches (each has its own deadline); kept for the client-like shape."""

    def get(
        self,
        url: str,
        *,
        max_bytes: int,
        deadline: float | None = None,
        headers: Mapping[str, str] | None = None,
        accept: Callable[[httpx.Response], None] | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> Fetched:
        """GET ``url`` within ``deadline`` seconds in total (default: 4x the per-operation timeout), following at most
        ``max_redirects`` redirects and reading at most ``max_bytes``.

        ``accept`` may look at the final response's status and headers before the body is read and raise to
        refuse it (a 304, a wrong content type). ``clock`` is only consulted between chunks, for tests; the
        real deadline is enforced on the socket. Raises ``FetchError``.
        """
        budget = 4 * self.timeout if deadline is None else deadline
        real_deadline = time.monotonic() + budget
        soft_deadline = clock() + budget
        if self._ssl is None:
            self._ssl = httpx.create_ssl_context()
        backend = _GuardedBackend(real_deadline, self.allow_private, self.allow_addresses, self.resolver)
        transport = _GuardedTransport(self._ssl, backend)
        request_headers = {**self._headers, **(headers or {})}
        try:
            with httpx.Client(
                transport=transport,
                trust_env=False,
                follow_redirects=False,
                timeout=httpx.Timeout(min(self.timeout, budget)),
                headers=request_headers,
            ) as client:
                for _ in range(self.max_redirects + 1):
                    _check_url(url)
                    with client.stream("GET", url) as response:
                        if response.status_code in _REDIRECTS and "location" in response.headers:
                            url = urljoin(str(response.url), response.headers["location"].strip())
                            continue
                        if accept is not None:
                            accept(response)
                        body = _read_capped(response, max_bytes, soft_deadline, clock)
                        return Fetched(
                            str(response.url),
                            response.status_code,
                            response.reason_phrase,
                            response.headers,
                            body,
                        )
                raise FetchError(
                    f"more than {self.max_redirects} redirects (or a redirect loop)", "redirects"
                )
        except FetchError:
            raise
        except httpx.TimeoutException as exc:
            raise FetchError(f"timed out ({type(exc).__name__})", "timeout", exc) from None
        except httpx.InvalidURL as exc:
            raise FetchError(f"not a usable URL: {_one_line(str(exc))}", "url", exc) from None
        except (httpx.HTTPError, httpx.StreamError) as exc:
            raise FetchError(
                f"{type(exc).__name__}: {_one_line(str(exc)) or 'no details'}", "network", exc
            ) from None


def _check_url(url: str) -> None:
    try:
        parts = urlsplit(url)
        host = parts.hostname
        parts.port  # noqa: B018 (parsing the port raises on a bad one)
    except ValueError as exc:
        raise FetchError(f"not a usable URL: {exc}", "url") from None
    if parts.scheme.lower() not in ("http", "https"):
        raise FetchError(f"only http and https are fetched, not {parts.scheme or 'a bare path'!r}", "url")
    if not host:
        raise FetchError("the URL has no host", "url")


def _read_capped(
    response: httpx.Response, max_bytes: int, deadline: float, clock: Callable[[], float]
) -> bytes:
    declared = response.headers.get("content-length", "").strip()
    if declared.isdigit() and int(declared) > max_bytes:
        raise FetchError(f"response too large ({int(declared)} bytes, limit {max_bytes})", "too_large")
    buffer = bytearray()
    for chunk in response.iter_bytes(_CHUNK):
        buffer += chunk
        if len(buffer) > max_bytes:
            raise FetchError(f"response larger than {max_bytes} bytes; stopped reading", "too_large")
        if clock() > deadline:
            raise FetchError("download took too long; stopped reading", "timeout")
    return bytes(buffer)


def _one_line(text: str) -> str:
    return " ".join(text.split())[:300]
