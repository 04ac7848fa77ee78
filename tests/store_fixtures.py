"""Fixtures for the ledger tests: a fresh SQLite file or a fresh PostgreSQL schema per test.

PostgreSQL comes from ``BOT_TEST_DATABASE_URL`` (see ``.ci/postgres.sh``); when that is unset, a throwaway
cluster is started with the same script for this session and removed afterwards. Only if PostgreSQL is not
installed at all do the PostgreSQL cases skip.
"""

from __future__ import annotations

import os
import secrets
import shutil
import socket
import sqlite3
import subprocess
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

import psycopg
import pytest

from bot.store import Ledger

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = ROOT / ".ci" / "postgres.sh"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="session")
def pg_server_url() -> Iterator[str]:
    """URL of a PostgreSQL database whose user may create schemas."""
    url = os.environ.get("BOT_TEST_DATABASE_URL")
    if url:
        yield url
        return
    data = Path(f"/tmp/aasr-bot-pg-{secrets.token_hex(4)}")
    env = {**os.environ, "BOT_PG_DATA": str(data), "BOT_PG_PORT": str(_free_port()), "BOT_PG_NO_INSTALL": "1"}
    done = subprocess.run(["bash", str(SCRIPT)], env=env, capture_output=True, text=True, timeout=120)
    if done.returncode == 3:
        pytest.skip(
            f"PostgreSQL is not installed ({done.stderr.strip()});"
            " set BOT_TEST_DATABASE_URL or run .ci/postgres.sh"
        )
    if done.returncode != 0:
        pytest.fail(f".ci/postgres.sh failed ({done.returncode}):\n{done.stderr}")
    line = done.stdout.strip().splitlines()[-1]
    try:
        yield line.split("=", 1)[1]
    finally:
        subprocess.run(["bash", str(SCRIPT), "stop"], env=env, capture_output=True, timeout=120, check=False)
        shutil.rmtree(data, ignore_errors=True)
        Path(f"{data}.log").unlink(missing_ok=True)


def with_search_path(url: str, schema: str) -> str:
    return f"{url}{'&' if '?' in url else '?'}options=-csearch_path%3D{schema}"


@pytest.fixture(params=["sqlite", "postgres"])
def ledger_target(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """Where a fresh, empty ledger lives: a file path (in a directory not yet created) or a Postgres URL."""
    if request.param == "sqlite":
        yield str(tmp_path / "state" / "ledger.db")
        return
    with fresh_schema(request.getfixturevalue("pg_server_url")) as url:
        yield url


@contextmanager
def fresh_schema(base: str) -> Iterator[str]:
    """A URL whose connections use a new, empty schema of ``base``'s database (dropped afterwards)."""
    schema = f"t_{secrets.token_hex(6)}"
    with psycopg.connect(base, autocommit=True) as conn:
        conn.execute(f"CREATE SCHEMA {schema}")
    try:
        yield with_search_path(base, schema)
    finally:
        with psycopg.connect(base, autocommit=True) as conn:
            conn.execute(f"DROP SCHEMA {schema} CASCADE")


@pytest.fixture
def ledger(ledger_target: str) -> Iterator[Ledger]:
    with Ledger.open(ledger_target) as opened:
        yield opened


def is_postgres(target: str) -> bool:
    return target.startswith(("postgresql://", "postgres://"))


def raw(target: str, sql: str) -> list[tuple[Any, ...]]:
    """Run SQL on the ledger's database behind the ledger's back (to inspect or to corrupt)."""
    if is_postgres(target):
        with psycopg.connect(target, autocommit=True) as conn:
            cur = conn.execute(sql)
            return cur.fetchall() if cur.description else []
    lite = sqlite3.connect(target, isolation_level=None)
    try:
        return lite.execute(sql).fetchall()
    finally:
        lite.close()


WORKER = """
import sys
from datetime import datetime
from bot.store import Ledger

target, owner, now_text, ensure, *keys = sys.argv[1:]
now = datetime.fromisoformat(now_text)
with Ledger.open(target) as ledger:
    print("ready", flush=True)
    sys.stdin.readline()
    for key in keys:
        if ensure == "1":
            ledger.ensure(key, "x", dry_run=False, source="q", name=key, due_at=now, payload="{}", now=now)
        if ledger.claim(key, "x", dry_run=False, owner=owner, now=now) is not None:
            print("claimed", key, flush=True)
            ledger.mark_sent(key, "x", dry_run=False, remote_id=owner, url="u", cost=0.0, now=now)
            print("sent", key, flush=True)
print("done", flush=True)
"""


def start_worker(
    target: str, owner: str, now: datetime, keys: Sequence[str], *, ensure: bool
) -> subprocess.Popen[str]:
    """A separate OS process running claim -> mark_sent over ``keys``; it starts when sent a line on stdin."""
    proc = subprocess.Popen(
        [sys.executable, "-c", WORKER, target, owner, now.isoformat(), "1" if ensure else "0", *keys],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    assert proc.stdout.readline().strip() == "ready"
    return proc
