"""The delivery ledger: the bot's only state, on SQLite (a file path) or PostgreSQL (a URL).

Owns the schema and its migrations, and every row the bot keeps:

* ``deliveries``: one row per (item key, network, dry_run) moving ``pending -> sending -> sent`` (or
  ``failed`` / ``skipped``). ``claim`` is a single conditional UPDATE, so of two processes on one database
  exactly one wins, and a row left in ``sending`` by a killed process is handed out again, flagged
  ``recovering``, once its lease has expired: a post is published at most once and never silently lost.
* feed state (entries seen by guid or URL, HTTP validators), login sessions, and small flags (paused etc.).

Each public method is one short transaction, committed before it returns, so a ``kill -9`` at any instant
loses nothing that a method reported as done. The SQL is shared by both databases; ``_Sqlite`` and
``_Postgres`` only differ in placeholders, column types, how they lock for migrations and how they store
instants (ISO text in SQLite, timestamptz in PostgreSQL; always aware UTC in Python).
"""

from __future__ import annotations

import logging
import re
import sqlite3
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import TracebackType
from typing import Any
from urllib.parse import unquote, urlsplit

import psycopg
import stamina

from bot.errors import StoreError

log = logging.getLogger(__name__)

STATUSES: tuple[str, ...] = ("pending", "sending", "sent", "failed", "skipped")
DEFAULT_LEASE = timedelta(minutes=10)
"""How long a claim may stay in ``sending`` before another process may take it over as crashed."""

_MIGRATION_LOCK = 0x41415352_4C454447  # "AASRLEDG": the pg_advisory_xact_lock key serialising migrations
_MAX_ERROR = 2000

Rows = list[tuple[Any, ...]]
Run = Callable[..., Rows]
"""``run(sql, params=())`` inside a transaction: executes one statement, returns its rows."""


@dataclass(frozen=True, slots=True)
class Delivery:
    """One (item, network) row of the ledger."""

    key: str
    """Item key: awareness/<id>/<year>/<n>, queue/<id>, recurring/<id>/<stamp>, feed/<id>."""
    network: str
    status: str
    """pending | sending | sent | failed | skipped."""
    dry_run: bool
    """Dry-run rows live beside real ones and never count as real sends."""
    source: str
    name: str
    due_at: datetime
    payload: str
    """The composed post as opaque JSON text, so a retry never depends on files still matching."""
    attempts: int
    last_error: str | None
    next_attempt_at: datetime | None
    """For ``failed``: when it may be retried; None means permanently failed (a maintainer must act)."""
    remote_id: str | None
    url: str | None
    cost: float
    claimed_by: str | None
    claimed_at: datetime | None
    created_at: datetime
    updated_at: datetime
    sent_at: datetime | None
    recovering: bool = False
    """True when this claim took over a ``sending`` row whose owner died: ask the network before posting."""
    cid: str | None = None
    """The content id the network answered (Bluesky), kept so a thread's next part can reply to it."""


_COLUMNS = (
    "key, network, status, dry_run, source, name, due_at, payload, attempts, last_error, next_attempt_at,"
    " remote_id, url, cost, claimed_by, claimed_at, created_at, updated_at, sent_at, recovering, cid"
)
_ROW = "key = ? AND network = ? AND dry_run = ?"

# Each migration is a tuple of statements; {ts}, {bool}, {real} are the dialect's column types.
_MIGRATIONS: tuple[tuple[str, ...], ...] = (
    (
        """CREATE TABLE deliveries (
            key TEXT NOT NULL,
            network TEXT NOT NULL,
            dry_run {bool} NOT NULL,
            status TEXT NOT NULL CHECK (status IN ('pending', 'sending', 'sent', 'failed', 'skipped')),
            source TEXT NOT NULL,
            name TEXT NOT NULL,
            due_at {ts} NOT NULL,
            payload TEXT NOT NULL,
            attempts INTEGER NOT NULL,
            last_error TEXT,
            next_attempt_at {ts},
            remote_id TEXT,
            url TEXT,
            cost {real} NOT NULL,
            claimed_by TEXT,
            claimed_at {ts},
            recovering {bool} NOT NULL,
            created_at {ts} NOT NULL,
            updated_at {ts} NOT NULL,
            sent_at {ts},
            PRIMARY KEY (key, network, dry_run)
        )""",
        "CREATE INDEX deliveries_by_status ON deliveries (status, dry_run, due_at)",
        "CREATE INDEX deliveries_by_sent ON deliveries (network, dry_run, sent_at)",
        """CREATE TABLE feed_seen (
            kind TEXT NOT NULL,
            value TEXT NOT NULL,
            seen_at {ts} NOT NULL,
            PRIMARY KEY (kind, value)
        )""",
        "CREATE TABLE feed_validators (url TEXT PRIMARY KEY, etag TEXT, last_modified TEXT)",
        "CREATE TABLE sessions (name TEXT PRIMARY KEY, value TEXT NOT NULL)",
        "CREATE TABLE flags (name TEXT PRIMARY KEY, value TEXT NOT NULL)",
    ),
    # 2: a sent post's content id (Bluesky), so the next part of a thread can reply to it.
    ("ALTER TABLE deliveries ADD COLUMN cid TEXT",),
)
SCHEMA_VERSION = len(_MIGRATIONS)
FEED_SEEDED_FLAG = "feed_seeded"


def redact(target: str) -> str:
    """``target`` with any password replaced by ``***``, for messages and logs."""
    text = re.sub(r"(://[^:/@\s]*:)[^@\s]*@", r"\1***@", target)
    return re.sub(r"(?i)(password=)[^&\s]*", r"\1***", text)


def _secrets_of(target: str) -> list[str]:
    """The password in a database URL, raw and decoded, so it can be scrubbed from driver messages."""
    found: list[str] = []
    match = re.search(r"://[^:/@\s]*:([^@\s]*)@", target)
    if match and match.group(1):
        found.append(match.group(1))
    found += [m.group(1) for m in re.finditer(r"(?i)password=([^&\s]*)", target) if m.group(1)]
    try:
        password = urlsplit(target).password
    except ValueError:
        password = None
    if password:
        found.append(password)
    found += [unquote(s) for s in found]
    return sorted({s for s in found if s}, key=len, reverse=True)


def _utc(value: datetime, what: str = "time") -> datetime:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"the ledger needs aware datetimes, got a naive {what}: {value!r}")
    return value.astimezone(UTC)


class _Sqlite:
    """SQLite in WAL mode; BEGIN IMMEDIATE takes the write lock up front, busy_timeout makes others wait."""

    types: Mapping[str, str] = {"ts": "TEXT", "bool": "INTEGER", "real": "REAL"}
    errors = (sqlite3.Error,)

    def __init__(self, path: Path, *, busy_timeout: float = 30.0) -> None:
        self.conn = sqlite3.connect(path, timeout=busy_timeout, isolation_level=None, check_same_thread=False)
        try:
            self.conn.execute(f"PRAGMA busy_timeout = {int(busy_timeout * 1000)}")
            mode = self.conn.execute("PRAGMA journal_mode = WAL").fetchone()[0]
            if str(mode).lower() != "wal":
                log.warning(
                    "ledger %s: SQLite refused WAL mode (%s); concurrent access will be slower", path, mode
                )
            self.conn.execute("PRAGMA synchronous = FULL")
        except BaseException:
            self.conn.close()
            raise

    def _run(self, sql: str, params: Sequence[object] = ()) -> Rows:
        return self.conn.execute(sql, tuple(params)).fetchall()

    @contextmanager
    def transaction(self, *, write: bool) -> Iterator[Run]:
        self.conn.execute("BEGIN IMMEDIATE" if write else "BEGIN")
        try:
            yield self._run
            self.conn.execute("COMMIT")
        except BaseException:
            if self.conn.in_transaction:
                self.conn.execute("ROLLBACK")
            raise

    def lock_for_migration(self, run: Run) -> None:
        """BEGIN IMMEDIATE already holds the database's only write lock."""

    def ts(self, value: datetime) -> object:
        # Fixed width, always +00:00, so text order is time order and SQL can compare them.
        return _utc(value).isoformat(timespec="microseconds")

    def from_ts(self, value: Any) -> datetime:
        return datetime.fromisoformat(value).astimezone(UTC)

    def close(self) -> None:
        self.conn.close()


def _is_busy(exc: Exception) -> bool:
    return isinstance(exc, sqlite3.OperationalError) and ("locked" in str(exc) or "busy" in str(exc))


def _open_sqlite(path: Path) -> _Sqlite:
    """Open with a few quick retries: two processes creating the same new database at once (an overlapping
    deploy, two cron ticks) can get SQLITE_BUSY while one of them sets up WAL mode, and SQLite's busy timeout
    does not cover that moment."""
    for attempt in stamina.retry_context(on=_is_busy, attempts=6, timeout=10.0, wait_initial=0.05):
        with attempt:
            return _Sqlite(path)
    raise AssertionError("unreachable")  # pragma: no cover


class _Postgres:
    """PostgreSQL through psycopg 3, autocommit between calls, reconnecting after a dropped connection."""

    types: Mapping[str, str] = {"ts": "TIMESTAMPTZ", "bool": "BOOLEAN", "real": "DOUBLE PRECISION"}
    errors = (psycopg.Error,)

    def __init__(self, url: str, *, connect_timeout: int = 10) -> None:
        self.url = url
        self.connect_timeout = connect_timeout
        self.conn: psycopg.Connection[tuple[Any, ...]] | None = None
        self._connect()

    def _connect(self) -> psycopg.Connection[tuple[Any, ...]]:
        if self.conn is not None and not self.conn.closed:
            self.conn.close()
        self.conn = None
        self.conn = psycopg.connect(
            self.url,
            autocommit=True,
            connect_timeout=self.connect_timeout,
            fallback_application_name="aasr-bot",
        )
        return self.conn

    def _connection(self) -> psycopg.Connection[tuple[Any, ...]]:
        if self.conn is None or self.conn.closed or self.conn.broken:
            log.info("ledger: reconnecting to %s", redact(self.url))
            return self._connect()
        return self.conn

    @contextmanager
    def transaction(self, *, write: bool) -> Iterator[Run]:
        conn = self._connection()

        def run(sql: str, params: Sequence[object] = ()) -> Rows:
            cur = conn.execute(sql.replace("%", "%%").replace("?", "%s"), tuple(params))
            return cur.fetchall() if cur.description is not None else []

        with conn.transaction():
            yield run

    def lock_for_migration(self, run: Run) -> None:
        run("SELECT pg_advisory_xact_lock(?)", (_MIGRATION_LOCK,))

    def ts(self, value: datetime) -> object:
        return _utc(value)

    def from_ts(self, value: Any) -> datetime:
        if not isinstance(value, datetime):
            raise TypeError(f"expected a timestamptz, got {value!r}")
        return value.astimezone(UTC)

    def close(self) -> None:
        if self.conn is not None:
            self.conn.close()


class Ledger:
    """The delivery ledger; see the module docstring. Safe to share between threads (one lock per object)."""

    def __init__(self, db: _Sqlite | _Postgres, where: str, secrets: Sequence[str] = ()) -> None:
        self._db = db
        self._where = where
        self._secrets = tuple(secrets)
        self._lock = threading.RLock()
        self._closed = False

    # ----------------------------------------------------------------------------------------- life cycle

    @classmethod
    def open(cls, target: str | Path) -> Ledger:
        """Open, create or migrate the ledger: a ``postgresql://``/``postgres://`` URL, else a file path."""
        text = str(target)
        if isinstance(target, str) and re.match(r"(?i)postgres(ql)?://", text):
            where = redact(text)
            secrets = _secrets_of(text)
            try:
                db: _Sqlite | _Postgres = _Postgres(text)
            except (psycopg.Error, ValueError) as exc:
                raise StoreError(
                    f"cannot connect to the ledger database {where}: {_plain(exc, secrets)}",
                    hint="check DATABASE_URL and that the database accepts connections",
                ) from None
            ledger = cls(db, where, secrets)
        else:
            path = Path(target).expanduser()
            try:
                if str(path) != ":memory:":
                    path.parent.mkdir(parents=True, exist_ok=True)
                db = _open_sqlite(path)
            except (OSError, sqlite3.Error) as exc:
                raise StoreError(
                    f"cannot open the ledger at {path}: {_plain(exc, ())}",
                    hint="check that the directory exists and is writable",
                ) from exc
            ledger = cls(db, str(path))
        try:
            ledger._migrate()
        except BaseException:
            ledger.close()
            raise
        return ledger

    def close(self) -> None:
        with self._lock:
            if not self._closed:
                self._closed = True
                try:
                    self._db.close()
                except self._db.errors as exc:
                    log.warning("ledger %s: error while closing: %s", self._where, _plain(exc, self._secrets))

    def __enter__(self) -> Ledger:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"Ledger({self._where!r})"

    @contextmanager
    def _tx(self, *, write: bool = True) -> Iterator[Run]:
        """One transaction under the object's lock; database errors become StoreError without secrets."""
        with self._lock:
            if self._closed:
                raise StoreError(f"the ledger {self._where} is closed")
            try:
                with self._db.transaction(write=write) as run:
                    yield run
            except self._db.errors as exc:
                cause = None if self._secrets else exc  # a driver's message might quote the URL
                raise StoreError(f"ledger {self._where}: {_plain(exc, self._secrets)}") from cause

    def _migrate(self) -> None:
        """Apply the migrations this database lacks, under a lock so two starting processes take turns."""
        with self._tx() as run:
            self._db.lock_for_migration(run)
            run("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER PRIMARY KEY)")
            current = run("SELECT MAX(version) FROM schema_version")[0][0] or 0
            if current > SCHEMA_VERSION:
                raise StoreError(
                    f"the ledger {self._where} has schema version {current}, newer than this bot's "
                    f"{SCHEMA_VERSION}",
                    hint="deploy the newer bot version, or point this one at another database",
                )
            for version in range(current + 1, SCHEMA_VERSION + 1):
                for statement in _MIGRATIONS[version - 1]:
                    run(statement.format(**self._db.types))
                run("INSERT INTO schema_version (version) VALUES (?)", (version,))
                log.info("ledger %s: migrated to schema version %d", self._where, version)

    def schema_version(self) -> int:
        """The schema version recorded in the database."""
        with self._tx(write=False) as run:
            return int(run("SELECT MAX(version) FROM schema_version")[0][0] or 0)

    # ----------------------------------------------------------------------------------------- deliveries

    def _delivery(self, row: tuple[Any, ...]) -> Delivery:
        ts = self._db.from_ts

        def opt(value: Any) -> datetime | None:
            return None if value is None else ts(value)

        return Delivery(
            key=row[0],
            network=row[1],
            status=row[2],
            dry_run=bool(row[3]),
            source=row[4],
            name=row[5],
            due_at=ts(row[6]),
            payload=row[7],
            attempts=int(row[8]),
            last_error=row[9],
            next_attempt_at=opt(row[10]),
            remote_id=row[11],
            url=row[12],
            cost=float(row[13]),
            claimed_by=row[14],
            claimed_at=opt(row[15]),
            created_at=ts(row[16]),
            updated_at=ts(row[17]),
            sent_at=opt(row[18]),
            recovering=bool(row[19]),
            cid=row[20],
        )

    def _one(self, run: Run, key: str, network: str, dry_run: bool) -> Delivery | None:
        rows = run(f"SELECT {_COLUMNS} FROM deliveries WHERE {_ROW}", (key, network, dry_run))
        return self._delivery(rows[0]) if rows else None

    def ensure(
        self,
        key: str,
        network: str,
        *,
        dry_run: bool,
        source: str,
        name: str,
        due_at: datetime,
        payload: str,
        now: datetime,
        refresh: bool = False,
    ) -> Delivery:
        """Insert a ``pending`` row unless one exists; return the current row.

        ``refresh=True`` also updates payload, due time and names of a row that is still ``pending`` (never
        sent, so a maintainer's later edit wins); rows in any other state keep what they were attempted with.
        """
        ts = self._db.ts
        with self._tx() as run:
            run(
                "INSERT INTO deliveries (key, network, dry_run, status, source, name, due_at, payload,"
                " attempts, cost, recovering, created_at, updated_at)"
                " VALUES (?, ?, ?, 'pending', ?, ?, ?, ?, 0, 0, ?, ?, ?)"
                " ON CONFLICT (key, network, dry_run) DO NOTHING",
                (key, network, dry_run, source, name, ts(due_at), payload, False, ts(now), ts(now)),
            )
            if refresh:
                changed = (source, name, ts(due_at), payload)
                run(
                    "UPDATE deliveries SET source = ?, name = ?, due_at = ?, payload = ?, updated_at = ?"
                    f" WHERE {_ROW} AND status = 'pending'"
                    " AND (source <> ? OR name <> ? OR due_at <> ? OR payload <> ?)",
                    (source, name, ts(due_at), payload, ts(now), key, network, dry_run, *changed),
                )
            found = self._one(run, key, network, dry_run)
        if found is None:  # pragma: no cover - the row was inserted in this very transaction
            raise StoreError(f"ledger {self._where}: {key} {network} vanished after insert")
        return found

    def claim(
        self,
        key: str,
        network: str,
        *,
        dry_run: bool,
        owner: str,
        now: datetime,
        lease: timedelta = DEFAULT_LEASE,
    ) -> Delivery | None:
        """Take the row for sending: ``pending``, ``failed`` and due for retry, or ``sending`` past its lease.

        One conditional UPDATE, so of any number of concurrent callers exactly one gets the row. A stale
        ``sending`` row comes back with ``recovering=True``: the previous owner may have posted before dying,
        so the caller asks the network first. None when the row is missing, sent, skipped, permanently failed,
        not yet due for retry, or held by a live claim.
        """
        ts = self._db.ts
        with self._tx() as run:
            rows = run(
                "UPDATE deliveries SET recovering = (status = 'sending'), status = 'sending',"
                " attempts = attempts + 1, claimed_by = ?, claimed_at = ?, updated_at = ?,"
                " next_attempt_at = NULL"
                f" WHERE {_ROW} AND (status = 'pending'"
                " OR (status = 'failed' AND next_attempt_at IS NOT NULL AND next_attempt_at <= ?)"
                " OR (status = 'sending' AND claimed_at < ?))"
                f" RETURNING {_COLUMNS}",
                (owner, ts(now), ts(now), key, network, dry_run, ts(now), ts(now - lease)),
            )
        if not rows:
            return None
        delivery = self._delivery(rows[0])
        if delivery.recovering:
            log.warning(
                "ledger: %s on %s was left sending by a stopped process; %s takes it over",
                key,
                network,
                owner,
            )
        return delivery

    def _transition(
        self,
        run: Run,
        key: str,
        network: str,
        dry_run: bool,
        sets: str,
        params: Sequence[object],
        allowed: str,
    ) -> bool:
        rows = run(
            f"UPDATE deliveries SET {sets} WHERE {_ROW} AND status IN ({allowed}) RETURNING status",
            (*params, key, network, dry_run),
        )
        if rows:
            return True
        current = self._one(run, key, network, dry_run)
        if current is None:
            kind = "dry-run " if dry_run else ""
            raise StoreError(f"ledger {self._where}: no {kind}delivery {key} on {network}")
        return False

    def mark_sent(
        self,
        key: str,
        network: str,
        *,
        dry_run: bool,
        remote_id: str,
        url: str | None,
        cost: float,
        now: datetime,
        cid: str | None = None,
    ) -> None:
        """Record a confirmed post, from any state (the network's word is the truth). First receipt wins."""
        ts = self._db.ts
        with self._tx() as run:
            done = self._transition(
                run,
                key,
                network,
                dry_run,
                "status = 'sent', remote_id = ?, url = ?, cost = ?, cid = ?, sent_at = ?, updated_at = ?,"
                " next_attempt_at = NULL",
                (remote_id, url, cost, cid, ts(now), ts(now)),
                "'pending', 'sending', 'failed', 'skipped'",
            )
        if not done:
            log.warning(
                "ledger: %s on %s was already recorded as sent; keeping the first receipt", key, network
            )

    def mark_failed(
        self, key: str, network: str, *, dry_run: bool, error: str, retry_at: datetime | None, now: datetime
    ) -> None:
        """Record a failed attempt; ``retry_at`` None means permanent (a maintainer must retry or skip it)."""
        ts = self._db.ts
        with self._tx() as run:
            done = self._transition(
                run,
                key,
                network,
                dry_run,
                "status = 'failed', last_error = ?, next_attempt_at = ?, updated_at = ?",
                (error[:_MAX_ERROR], None if retry_at is None else ts(retry_at), ts(now)),
                "'pending', 'sending', 'failed'",
            )
        if not done:
            log.warning("ledger: not marking %s on %s failed: it is already sent or skipped", key, network)

    def mark_skipped(self, key: str, network: str, *, dry_run: bool, reason: str, now: datetime) -> None:
        """Give up on a row on purpose (too late, blackout, network off); ``reason`` is kept as last_error."""
        with self._tx() as run:
            done = self._transition(
                run,
                key,
                network,
                dry_run,
                "status = 'skipped', last_error = ?, next_attempt_at = NULL, updated_at = ?",
                (reason[:_MAX_ERROR], self._db.ts(now)),
                "'pending', 'sending', 'failed'",
            )
        if not done:
            log.warning("ledger: not skipping %s on %s: it is already sent or skipped", key, network)

    def release(self, key: str, network: str, *, dry_run: bool, now: datetime) -> None:
        """Hand a claimed row back as ``pending`` without an attempt (deferred by a budget or a pause).

        Undoes the claim's attempt count, so deferrals never use up retries.
        """
        with self._tx() as run:
            done = self._transition(
                run,
                key,
                network,
                dry_run,
                "status = 'pending', attempts = CASE WHEN attempts > 0 THEN attempts - 1 ELSE 0 END,"
                " claimed_by = NULL, claimed_at = NULL, recovering = ?, updated_at = ?",
                (False, self._db.ts(now)),
                "'sending'",
            )
        if not done:
            log.warning("ledger: not releasing %s on %s: it is not being sent", key, network)

    def retry(self, key: str, network: str | None = None, *, now: datetime | None = None) -> int:
        """Maintainer: ``failed``/``skipped`` rows (real and dry-run) back to ``pending``, attempts reset."""
        when = self._db.ts(now or datetime.now(UTC))
        where, params = _key_filter(key, network)
        with self._tx() as run:
            rows = run(
                "UPDATE deliveries SET status = 'pending', attempts = 0, next_attempt_at = NULL,"
                f" claimed_by = NULL, claimed_at = NULL, recovering = ?, updated_at = ? WHERE {where}"
                " AND status IN ('failed', 'skipped') RETURNING key",
                (False, when, *params),
            )
        return len(rows)

    def skip(self, key: str, network: str | None = None, *, reason: str, now: datetime) -> int:
        """Maintainer: ``pending``/``failed`` rows (real and dry-run) to ``skipped``; returns rows changed."""
        where, params = _key_filter(key, network)
        with self._tx() as run:
            rows = run(
                "UPDATE deliveries SET status = 'skipped', last_error = ?, next_attempt_at = NULL,"
                f" updated_at = ? WHERE {where} AND status IN ('pending', 'failed') RETURNING key",
                (reason[:_MAX_ERROR], self._db.ts(now), *params),
            )
        return len(rows)

    def get(self, key: str, network: str, *, dry_run: bool) -> Delivery | None:
        with self._tx(write=False) as run:
            return self._one(run, key, network, dry_run)

    def deliveries(
        self,
        *,
        status: str | None = None,
        network: str | None = None,
        dry_run: bool | None = None,
        key: str | None = None,
        limit: int = 50,
        newest_first: bool = True,
    ) -> list[Delivery]:
        """Rows for reports, by last change (``updated_at``); every filter is optional."""
        clauses: list[str] = []
        params: list[object] = []
        for column, value in (("status", status), ("network", network), ("dry_run", dry_run)):
            if value is not None:
                clauses.append(f"{column} = ?")
                params.append(value)
        if key is not None:
            clauses.append(_KEY_OR_PARTS)
            params.extend(_key_params(key))
        where = " WHERE " + " AND ".join(clauses) if clauses else ""
        order = "DESC" if newest_first else "ASC"
        with self._tx(write=False) as run:
            rows = run(
                f"SELECT {_COLUMNS} FROM deliveries{where}"
                f" ORDER BY updated_at {order}, key {order}, network {order} LIMIT ?",
                (*params, int(limit)),
            )
        return [self._delivery(row) for row in rows]

    def due(self, *, now: datetime, dry_run: bool, lease: timedelta = DEFAULT_LEASE) -> list[Delivery]:
        """Rows a pass should try to claim: due ``pending``, retryable ``failed``, and stale ``sending``."""
        ts = self._db.ts
        with self._tx(write=False) as run:
            rows = run(
                f"SELECT {_COLUMNS} FROM deliveries WHERE dry_run = ? AND ("
                "(status = 'pending' AND due_at <= ?)"
                " OR (status = 'failed' AND next_attempt_at IS NOT NULL AND next_attempt_at <= ?)"
                " OR (status = 'sending' AND claimed_at < ?)) ORDER BY due_at, key, network",
                (dry_run, ts(now), ts(now), ts(now - lease)),
            )
        return [self._delivery(row) for row in rows]

    def pending_due(self, source: str) -> list[datetime]:
        """When each item of ``source`` still waiting to be sent is due (the earliest of its rows), in order."""
        with self._tx(write=False) as run:
            rows = run(
                "SELECT MIN(due_at) FROM deliveries WHERE source = ? AND status = 'pending' GROUP BY key"
                " ORDER BY MIN(due_at)",
                (source,),
            )
        return [self._db.from_ts(row[0]) for row in rows]

    def counts(self, *, dry_run: bool | None = None) -> dict[str, int]:
        """Number of rows in each status (every status present, zero included)."""
        where, params = ("WHERE dry_run = ?", (dry_run,)) if dry_run is not None else ("", ())
        with self._tx(write=False) as run:
            rows = run(f"SELECT status, COUNT(*) FROM deliveries {where} GROUP BY status", params)
        result = dict.fromkeys(STATUSES, 0)
        result.update({str(status): int(count) for status, count in rows})
        return result

    def sent_count(self, network: str, *, since: datetime, dry_run: bool = False) -> int:
        """Posts recorded as sent on ``network`` at or after ``since`` (for daily caps)."""
        with self._tx(write=False) as run:
            rows = run(
                "SELECT COUNT(*) FROM deliveries WHERE network = ? AND dry_run = ? AND status = 'sent'"
                " AND sent_at >= ?",
                (network, dry_run, self._db.ts(since)),
            )
        return int(rows[0][0])

    def spend(self, network: str, *, since: datetime, dry_run: bool = False) -> float:
        """Estimated dollars spent on ``network`` at or after ``since`` (for monthly budgets)."""
        with self._tx(write=False) as run:
            rows = run(
                "SELECT COALESCE(SUM(cost), 0) FROM deliveries WHERE network = ? AND dry_run = ?"
                " AND status = 'sent' AND sent_at >= ?",
                (network, dry_run, self._db.ts(since)),
            )
        return float(rows[0][0])

    # ----------------------------------------------------------------------------------------- feed state

    def feed_seen(self, guid: str, normalised_url: str) -> bool:
        """True if the entry's guid OR its URL was recorded: sites change one or the other on re-publish."""
        pairs = [(kind, value) for kind, value in (("guid", guid), ("url", normalised_url)) if value]
        if not pairs:
            return False
        condition = " OR ".join("(kind = ? AND value = ?)" for _ in pairs)
        with self._tx(write=False) as run:
            rows = run(
                f"SELECT 1 FROM feed_seen WHERE {condition} LIMIT 1", [v for pair in pairs for v in pair]
            )
        return bool(rows)

    def mark_feed_seen(self, guid: str, normalised_url: str, *, now: datetime) -> None:
        self.mark_feed_seen_many([(guid, normalised_url)], now=now)

    def mark_feed_seen_many(
        self, entries: Sequence[tuple[str, str]], *, now: datetime, seeded: bool = False
    ) -> None:
        """Record (guid, normalised URL) pairs as seen in ONE transaction; ``seeded`` also records, in that same
        transaction, that the first poll's seeding is done. A crash or a full disk half-way leaves nothing, so
        the next poll seeds again instead of taking a half-seeded ledger for history and announcing the archive.
        """
        with self._tx() as run:
            for guid, normalised_url in entries:
                for kind, value in (("guid", guid), ("url", normalised_url)):
                    if value:
                        run(
                            "INSERT INTO feed_seen (kind, value, seen_at) VALUES (?, ?, ?)"
                            " ON CONFLICT (kind, value) DO NOTHING",
                            (kind, value, self._db.ts(now)),
                        )
            if seeded:
                run(
                    "INSERT INTO flags (name, value) VALUES (?, ?)"
                    " ON CONFLICT (name) DO UPDATE SET value = excluded.value",
                    (FEED_SEEDED_FLAG, "1"),
                )

    def feed_seeded(self) -> bool:
        """True once a first poll's seeding committed: the first poll must not announce the whole back catalogue.

        Ledgers written before the flag existed count as seeded once a poll finished (it saved the validators
        last); seen marks alone prove nothing, since an interrupted first poll leaves some behind.
        """
        with self._tx(write=False) as run:
            if run("SELECT 1 FROM flags WHERE name = ?", (FEED_SEEDED_FLAG,)):
                return True
            return bool(run("SELECT 1 FROM feed_validators LIMIT 1"))

    def feed_has_history(self) -> bool:
        """Whether any entry was ever recorded as seen (``feed_seeded`` decides the first run)."""
        with self._tx(write=False) as run:
            return bool(run("SELECT 1 FROM feed_seen LIMIT 1"))

    def feed_validators(self, url: str) -> tuple[str | None, str | None]:
        """(ETag, Last-Modified) from the last successful fetch of ``url``, for a conditional GET."""
        with self._tx(write=False) as run:
            rows = run("SELECT etag, last_modified FROM feed_validators WHERE url = ?", (url,))
        return (rows[0][0], rows[0][1]) if rows else (None, None)

    def save_feed_validators(self, url: str, etag: str | None, last_modified: str | None) -> None:
        with self._tx() as run:
            run(
                "INSERT INTO feed_validators (url, etag, last_modified) VALUES (?, ?, ?) ON CONFLICT (url)"
                " DO UPDATE SET etag = excluded.etag, last_modified = excluded.last_modified",
                (url, etag, last_modified),
            )

    # ------------------------------------------------------------------------------------- sessions, flags

    def load_session(self, name: str) -> str | None:
        """A saved login session (secret: never logged)."""
        with self._tx(write=False) as run:
            rows = run("SELECT value FROM sessions WHERE name = ?", (name,))
        return str(rows[0][0]) if rows else None

    def save_session(self, name: str, value: str) -> None:
        with self._tx() as run:
            run(
                "INSERT INTO sessions (name, value) VALUES (?, ?)"
                " ON CONFLICT (name) DO UPDATE SET value = excluded.value",
                (name, value),
            )

    def get_flag(self, name: str) -> str | None:
        with self._tx(write=False) as run:
            rows = run("SELECT value FROM flags WHERE name = ?", (name,))
        return str(rows[0][0]) if rows else None

    def set_flag(self, name: str, value: str | None) -> None:
        """Set a flag; None removes it."""
        with self._tx() as run:
            if value is None:
                run("DELETE FROM flags WHERE name = ?", (name,))
            else:
                run(
                    "INSERT INTO flags (name, value) VALUES (?, ?)"
                    " ON CONFLICT (name) DO UPDATE SET value = excluded.value",
                    (name, value),
                )


_KEY_OR_PARTS = "(key = ? OR substr(key, 1, ?) = ?)"
"""An item's own row, or the rows of its thread's parts (``<key>#1``, ``<key>#2``, ...)."""


def _key_params(key: str) -> tuple[object, ...]:
    return (key, len(key) + 1, key + "#")


def _key_filter(key: str, network: str | None) -> tuple[str, tuple[object, ...]]:
    """Rows of ``key``: the item itself, or every part when ``key`` is a thread's item key."""
    if network is None:
        return _KEY_OR_PARTS, _key_params(key)
    return f"{_KEY_OR_PARTS} AND network = ?", (*_key_params(key), network)


def _plain(exc: BaseException, secrets: Sequence[str]) -> str:
    """A driver's message on one line, with any password scrubbed out."""
    text = " ".join(str(exc).split()) or type(exc).__name__
    for secret in secrets:
        text = text.replace(secret, "***")
    return redact(text)
