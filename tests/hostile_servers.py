"""Hostile HTTP servers on 127.0.0.1, written on raw sockets so they can misbehave exactly as an attacker would.

* ``drip="headers"``: sends a status line, then one header byte at a time and never ends the headers;
* ``drip="body"``: proper headers (a large Content-Length), then the body one byte at a time;
* ``endless=True``: proper headers, then a chunked body that never ends, as fast as the client reads.

Each server records whether the client hung up before the server was done (``client_left``), how many bytes it
had sent by then, and calls ``on_request`` (if given) when a request arrives, so tests can ask what else had
already happened at that moment. A drip ends on its own after ``drip_for`` bytes, so a client without a deadline
finishes late (tests compare, they never wait on a timer).
"""

from __future__ import annotations

import socket
import threading
from collections.abc import Callable
from types import TracebackType


class HostileServer:
    def __init__(
        self,
        *,
        drip: str | None = None,
        endless: bool = False,
        interval: float = 0.02,
        drip_for: int = 1500,
        on_request: Callable[[], None] | None = None,
    ) -> None:
        self.drip = drip
        self.endless = endless
        self.interval = interval
        self.drip_for = drip_for
        self.on_request = on_request
        self.requests = 0
        self.sent = 0
        self.client_left = threading.Event()
        self.finished = threading.Event()
        self._stop = threading.Event()
        self._listener = socket.create_server(("127.0.0.1", 0))
        self._threads: list[threading.Thread] = []

    @property
    def port(self) -> int:
        return int(self._listener.getsockname()[1])

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/feed/"

    def __enter__(self) -> HostileServer:
        accept = threading.Thread(target=self._accept, daemon=True)
        accept.start()
        self._threads.append(accept)
        return self

    def __exit__(
        self, kind: type[BaseException] | None, value: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._stop.set()
        self._listener.close()
        for thread in self._threads:
            thread.join(timeout=5)

    def _accept(self) -> None:
        self._listener.settimeout(0.05)  # closing a socket does not wake a blocked accept() on Linux
        while not self._stop.is_set():
            try:
                conn, _ = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            worker = threading.Thread(target=self._serve, args=(conn,), daemon=True)
            worker.start()
            self._threads.append(worker)

    def _serve(self, conn: socket.socket) -> None:
        with conn:
            conn.settimeout(5)
            request = b""
            try:
                while b"\r\n\r\n" not in request:
                    part = conn.recv(4096)
                    if not part:
                        return
                    request += part
            except OSError:
                return
            self.requests += 1
            if self.on_request is not None:
                self.on_request()
            try:
                self._answer(conn)
            except OSError:
                self.client_left.set()
                return
            self.finished.set()

    def _send(self, conn: socket.socket, data: bytes) -> None:
        conn.sendall(data)
        self.sent += len(data)

    def _answer(self, conn: socket.socket) -> None:
        if self.drip == "headers":
            self._send(conn, b"HTTP/1.1 200 OK\r\nX-Drip: ")
            for _ in range(self.drip_for):
                if self._stop.wait(self.interval):
                    return
                self._send(conn, b"a")
                self._check_open(conn)
            self._send(conn, b"\r\nContent-Length: 0\r\n\r\n")
        elif self.drip == "body":
            self._send(
                conn,
                b"HTTP/1.1 200 OK\r\nContent-Type: application/rss+xml\r\n"
                + f"Content-Length: {self.drip_for}\r\n\r\n".encode(),
            )
            for _ in range(self.drip_for):
                if self._stop.wait(self.interval):
                    return
                self._send(conn, b"<")
                self._check_open(conn)
        elif self.endless:
            self._send(
                conn, b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nTransfer-Encoding: chunked\r\n\r\n"
            )
            chunk = b"x" * 65536
            framed = f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n"
            while not self._stop.is_set():
                self._send(conn, framed)

    @staticmethod
    def _check_open(conn: socket.socket) -> None:
        """Raise OSError once the client has closed its end (a read of 0 bytes without blocking)."""
        conn.setblocking(False)
        try:
            if conn.recv(1, socket.MSG_PEEK) == b"":
                raise OSError("client closed")
        except BlockingIOError:
            pass
        finally:
            conn.setblocking(True)
            conn.settimeout(5)
