"""A real local HTTP server standing in for endseclusion.org's feed, programmable per test.

Reusable by end-to-end tests: ``with FeedServer() as server: server.set_feed(xml); fetch(server.url)``, or the
``feed_server`` fixture (register with ``pytest_plugins = ["tests.feed_fixtures"]`` in conftest.py).
Each path can answer with a status, headers and a body (bytes, or a function producing chunks lazily), stall
until the server closes, or reset the connection. With ``conditional=True`` (the default of ``set_feed``) it
answers 304 to a matching If-None-Match / If-Modified-Since, as WordPress does.
"""

from __future__ import annotations

import socket
import struct
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import TracebackType
from typing import Any

import pytest

FEEDS_DIR = Path(__file__).parent / "data" / "feeds"
RSS_TYPE = "application/rss+xml; charset=UTF-8"

Body = bytes | Callable[[], Iterable[bytes]]


@dataclass(frozen=True, slots=True)
class Reply:
    """How the server answers one path."""

    status: int = 200
    body: Body = b""
    headers: Mapping[str, str] = field(default_factory=dict)
    conditional: bool = False
    """Answer 304 when the request's validators match this reply's ETag / Last-Modified."""
    stall: bool = False
    """Send nothing and hold the connection until the server closes (for timeouts)."""
    reset: bool = False
    """Abort the connection with a TCP reset instead of answering."""


@dataclass(frozen=True, slots=True)
class Request:
    """A request the server received."""

    method: str
    path: str
    headers: Mapping[str, str]
    """Header names lowercased."""


class FeedServer:
    """ThreadingHTTPServer on 127.0.0.1 with a random port, in a background thread."""

    FEED_PATH = "/feed/"

    def __init__(self) -> None:
        self.requests: list[Request] = []
        self.bytes_sent: dict[str, int] = {}
        """Body bytes written per path (lazy bodies stop when the client hangs up)."""
        self.finished = threading.Event()
        """Set whenever a handler returns; clear it before the request you want to wait for."""
        self._replies: dict[str, Reply] = {}
        self._release = threading.Event()
        self._lock = threading.Lock()
        self._httpd = _Server(("127.0.0.1", 0), _Handler)
        self._httpd.owner = self
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.02}, name="feed-server", daemon=True
        )

    @property
    def port(self) -> int:
        return int(self._httpd.server_address[1])

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def url(self) -> str:
        """The feed's URL."""
        return self.base + self.FEED_PATH

    def set_feed(
        self,
        body: bytes,
        headers: Mapping[str, str] | None = None,
        *,
        status: int = 200,
        conditional: bool = True,
    ) -> None:
        """Serve ``body`` at ``url``; Content-Type defaults to RSS."""
        merged = {"Content-Type": RSS_TYPE, **(headers or {})}
        self.set_reply(
            self.FEED_PATH, Reply(status=status, body=body, headers=merged, conditional=conditional)
        )

    def set_reply(self, path: str, reply: Reply) -> None:
        with self._lock:
            self._replies[path] = reply

    def reply_for(self, path: str) -> Reply | None:
        with self._lock:
            return self._replies.get(path)

    def record(self, request: Request) -> None:
        with self._lock:
            self.requests.append(request)

    def count_sent(self, path: str, n: int) -> None:
        with self._lock:
            self.bytes_sent[path] = self.bytes_sent.get(path, 0) + n

    def wait_released(self, limit: float = 30.0) -> None:
        self._release.wait(limit)

    def start(self) -> FeedServer:
        self._thread.start()
        return self

    def close(self) -> None:
        self._release.set()
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join(10)

    def __enter__(self) -> FeedServer:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()


class _Server(ThreadingHTTPServer):
    owner: FeedServer
    daemon_threads = False  # so server_close() joins handlers and no socket outlives the test

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # clients hanging up mid-body are expected here; tests assert on what was sent instead


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.1"
    timeout = 5  # an idle keep-alive connection must not hold up server_close() for long

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_GET(self) -> None:
        owner = self.server.owner
        path = self.path.split("?", 1)[0]
        owner.record(Request("GET", self.path, {k.lower(): v for k, v in self.headers.items()}))
        try:
            self._answer(owner, path)
        finally:
            owner.finished.set()

    def _answer(self, owner: FeedServer, path: str) -> None:
        reply = owner.reply_for(path)
        if reply is None:
            self._send(404, {"Content-Type": "text/plain"}, b"not found")
            return
        if reply.stall:
            owner.wait_released()
            self.close_connection = True
            return
        if reply.reset:
            self.close_connection = True
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self.connection.close()
            return
        headers = {k.lower(): v for k, v in reply.headers.items()}
        if reply.conditional and _matches(self.headers, headers):
            kept = {k: v for k, v in reply.headers.items() if k.lower() in ("etag", "last-modified")}
            self._send(304, kept, b"")
            return
        if callable(reply.body):
            self._send_lazy(owner, path, reply, reply.body)
        else:
            self._send(reply.status, reply.headers, reply.body)
            owner.count_sent(path, len(reply.body))

    def _send(self, status: int, headers: Mapping[str, str], body: bytes) -> None:
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        if status != 304:
            self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _send_lazy(
        self, owner: FeedServer, path: str, reply: Reply, make: Callable[[], Iterable[bytes]]
    ) -> None:
        """No Content-Length: the body ends when the connection closes, so its size is unknown up front."""
        self.close_connection = True
        self.send_response(reply.status)
        for name, value in reply.headers.items():
            self.send_header(name, value)
        self.send_header("Connection", "close")
        self.end_headers()
        for chunk in make():
            self.wfile.write(chunk)
            owner.count_sent(path, len(chunk))


def _matches(request_headers: Any, reply_headers: Mapping[str, str]) -> bool:
    etag = reply_headers.get("etag")
    if etag and request_headers.get("If-None-Match"):
        return bool(request_headers.get("If-None-Match") == etag)
    modified = reply_headers.get("last-modified")
    return bool(modified and request_headers.get("If-Modified-Since") == modified)


def chunks(total: int, size: int = 64 * 1024, fill: bytes = b"x") -> Callable[[], Iterator[bytes]]:
    """A lazy body of ``total`` bytes, produced chunk by chunk only as the client reads."""

    def produce() -> Iterator[bytes]:
        sent = 0
        while sent < total:
            n = min(size, total - sent)
            sent += n
            yield fill * n

    return produce


def feed_file(name: str) -> bytes:
    return (FEEDS_DIR / name).read_bytes()


@pytest.fixture
def feed_server() -> Iterator[FeedServer]:
    """A running FeedServer, closed after the test."""
    with FeedServer() as server:
        yield server
