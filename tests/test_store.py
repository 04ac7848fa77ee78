"""The ledger on SQLite and PostgreSQL: lifecycle, exactly-once claims, crash recovery, feed state."""

from __future__ import annotations

import os
import signal
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import psycopg
import pytest

from bot.errors import StoreError
from bot.store import SCHEMA_VERSION, Delivery, Ledger, redact
from tests import store_fixtures
from tests.store_fixtures import fresh_schema, is_postgres, raw, start_worker

# The fixtures used here (harmless if conftest.py also registers tests.store_fixtures as a plugin).
ledger_target = store_fixtures.ledger_target
ledger = store_fixtures.ledger
pg_server_url = store_fixtures.pg_server_url

T0 = datetime(2026, 3, 1, 15, 0, tzinfo=UTC)
KEY = "queue/board-meeting"


def add(
    ledger: Ledger, key: str = KEY, network: str = "x", *, dry_run: bool = False, due_at: datetime = T0
) -> Delivery:
    return ledger.ensure(
        key, network, dry_run=dry_run, source="queue", name="Board", due_at=due_at, payload='{"t": 1}', now=T0
    )


# ------------------------------------------------------------------------------------------ schema


def test_open_creates_parent_directory_and_migrates_once(ledger_target: str) -> None:
    with Ledger.open(ledger_target) as first:
        assert first.schema_version() == SCHEMA_VERSION
        add(first)
    with Ledger.open(ledger_target) as second:  # migrating again is a no-op and keeps the data
        assert second.schema_version() == SCHEMA_VERSION
        assert second.get(KEY, "x", dry_run=False) is not None
    assert raw(ledger_target, "SELECT COUNT(*) FROM schema_version") == [(SCHEMA_VERSION,)]


def test_processes_starting_together_migrate_without_breaking(ledger_target: str) -> None:
    barrier = threading.Barrier(6)

    def start() -> int:
        barrier.wait()
        with Ledger.open(ledger_target) as ledger:
            return ledger.schema_version()

    with ThreadPoolExecutor(6) as pool:
        assert list(pool.map(lambda _: start(), range(6))) == [SCHEMA_VERSION] * 6
    assert raw(ledger_target, "SELECT COUNT(*) FROM schema_version") == [(SCHEMA_VERSION,)]


def test_a_newer_schema_is_refused(ledger_target: str) -> None:
    Ledger.open(ledger_target).close()
    raw(ledger_target, "INSERT INTO schema_version (version) VALUES (999)")
    with pytest.raises(StoreError, match="schema version 999, newer"):
        Ledger.open(ledger_target)


def test_sqlite_uses_wal(tmp_path: Path) -> None:
    Ledger.open(tmp_path / "l.db").close()
    assert raw(str(tmp_path / "l.db"), "PRAGMA journal_mode") == [("wal",)]


# ------------------------------------------------------------------------------------------ lifecycle


def test_ensure_inserts_once_and_returns_the_current_row(ledger: Ledger) -> None:
    first = add(ledger)
    assert (first.status, first.attempts, first.payload, first.due_at) == ("pending", 0, '{"t": 1}', T0)
    assert first.created_at == first.updated_at == T0
    assert first.recovering is False and first.claimed_by is None and first.cost == 0.0
    again = ledger.ensure(
        KEY, "x", dry_run=False, source="queue", name="New", due_at=T0, payload="{}", now=T0 + timedelta(1)
    )
    assert again == first


def test_ensure_refresh_updates_only_pending_rows(ledger: Ledger) -> None:
    add(ledger)
    later = T0 + timedelta(hours=2)
    fresh = ledger.ensure(
        KEY,
        "x",
        dry_run=False,
        source="queue",
        name="Edited",
        due_at=later,
        payload="{}",
        now=later,
        refresh=True,
    )
    assert (fresh.name, fresh.due_at, fresh.payload, fresh.updated_at) == ("Edited", later, "{}", later)
    ledger.claim(KEY, "x", dry_run=False, owner="a", now=T0)
    kept = ledger.ensure(
        KEY,
        "x",
        dry_run=False,
        source="queue",
        name="Again",
        due_at=T0,
        payload="[]",
        now=later,
        refresh=True,
    )
    assert (kept.status, kept.name, kept.payload) == ("sending", "Edited", "{}")


def test_claim_send_lifecycle(ledger: Ledger) -> None:
    add(ledger)
    claimed = ledger.claim(KEY, "x", dry_run=False, owner="proc-a", now=T0)
    assert claimed is not None
    assert (claimed.status, claimed.attempts, claimed.claimed_by, claimed.claimed_at) == (
        "sending",
        1,
        "proc-a",
        T0,
    )
    assert claimed.recovering is False
    assert ledger.claim(KEY, "x", dry_run=False, owner="proc-b", now=T0) is None  # a live claim holds it

    sent_at = T0 + timedelta(seconds=3)
    ledger.mark_sent(
        KEY, "x", dry_run=False, remote_id="123", url="https://x.com/i/123", cost=0.2, now=sent_at
    )
    row = ledger.get(KEY, "x", dry_run=False)
    assert row is not None
    assert (row.status, row.remote_id, row.url, row.cost, row.sent_at) == (
        "sent",
        "123",
        "https://x.com/i/123",
        0.2,
        sent_at,
    )
    # Sent is final: no claim (even long after), no failure, no second receipt, no maintainer retry or skip.
    assert ledger.claim(KEY, "x", dry_run=False, owner="proc-b", now=T0 + timedelta(days=9)) is None
    ledger.mark_failed(KEY, "x", dry_run=False, error="late", retry_at=None, now=sent_at)
    ledger.mark_skipped(KEY, "x", dry_run=False, reason="late", now=sent_at)
    ledger.mark_sent(KEY, "x", dry_run=False, remote_id="999", url="other", cost=1.0, now=sent_at)
    assert ledger.retry(KEY) == 0
    assert ledger.skip(KEY, reason="no", now=sent_at) == 0
    assert ledger.get(KEY, "x", dry_run=False) == row


def test_failures_retry_when_due_and_permanent_failures_wait_for_a_maintainer(ledger: Ledger) -> None:
    add(ledger)
    ledger.claim(KEY, "x", dry_run=False, owner="a", now=T0)
    retry_at = T0 + timedelta(minutes=5)
    ledger.mark_failed(KEY, "x", dry_run=False, error="x: 503", retry_at=retry_at, now=T0)
    row = ledger.get(KEY, "x", dry_run=False)
    assert row is not None and (row.status, row.last_error, row.next_attempt_at) == (
        "failed",
        "x: 503",
        retry_at,
    )

    assert ledger.due(now=retry_at - timedelta(seconds=1), dry_run=False) == []
    assert ledger.claim(KEY, "x", dry_run=False, owner="a", now=retry_at - timedelta(seconds=1)) is None
    assert [d.key for d in ledger.due(now=retry_at, dry_run=False)] == [KEY]
    again = ledger.claim(KEY, "x", dry_run=False, owner="a", now=retry_at)
    assert again is not None and (again.status, again.attempts, again.next_attempt_at) == ("sending", 2, None)

    ledger.mark_failed(KEY, "x", dry_run=False, error="x: 403 forbidden", retry_at=None, now=retry_at)
    far = T0 + timedelta(days=365)
    assert ledger.claim(KEY, "x", dry_run=False, owner="a", now=far) is None
    assert ledger.due(now=far, dry_run=False) == []

    assert ledger.retry(KEY, "x", now=far) == 1
    row = ledger.get(KEY, "x", dry_run=False)
    assert row is not None and (row.status, row.attempts, row.updated_at) == ("pending", 0, far)
    assert ledger.claim(KEY, "x", dry_run=False, owner="a", now=far) is not None


def test_release_returns_a_claim_without_using_an_attempt(ledger: Ledger) -> None:
    add(ledger)
    ledger.claim(KEY, "x", dry_run=False, owner="a", now=T0)
    ledger.release(KEY, "x", dry_run=False, now=T0 + timedelta(seconds=1))
    row = ledger.get(KEY, "x", dry_run=False)
    assert row is not None
    assert (row.status, row.attempts, row.claimed_by, row.claimed_at) == ("pending", 0, None, None)
    ledger.release(KEY, "x", dry_run=False, now=T0)  # not sending: nothing to release
    assert ledger.get(KEY, "x", dry_run=False) == row
    assert ledger.claim(KEY, "x", dry_run=False, owner="b", now=T0) is not None


def test_skips_by_the_bot_and_by_a_maintainer(ledger: Ledger) -> None:
    add(ledger, network="x")
    add(ledger, network="bluesky")
    ledger.claim(KEY, "x", dry_run=False, owner="a", now=T0)
    ledger.mark_skipped(KEY, "x", dry_run=False, reason="too late", now=T0)
    row = ledger.get(KEY, "x", dry_run=False)
    assert row is not None and (row.status, row.last_error) == ("skipped", "too late")
    assert ledger.claim(KEY, "x", dry_run=False, owner="a", now=T0) is None

    assert ledger.skip(KEY, reason="cancelled", now=T0) == 1  # only bluesky was still pending
    assert ledger.counts() == {"pending": 0, "sending": 0, "sent": 0, "failed": 0, "skipped": 2}
    assert ledger.retry(KEY) == 2
    assert ledger.counts()["pending"] == 2
    assert ledger.skip(KEY, "bluesky", reason="cancelled", now=T0) == 1


def test_a_send_confirmed_by_a_duplicate_refusal_has_no_url(ledger: Ledger) -> None:
    add(ledger)
    ledger.claim(KEY, "x", dry_run=False, owner="a", now=T0)
    ledger.mark_sent(KEY, "x", dry_run=False, remote_id="duplicate", url=None, cost=0.0, now=T0)
    row = ledger.get(KEY, "x", dry_run=False)
    assert row is not None and (row.status, row.remote_id, row.url) == ("sent", "duplicate", None)


def test_missing_rows(ledger: Ledger) -> None:
    assert ledger.get("queue/none", "x", dry_run=False) is None
    assert ledger.claim("queue/none", "x", dry_run=False, owner="a", now=T0) is None
    with pytest.raises(StoreError, match="no delivery queue/none on x"):
        ledger.mark_sent("queue/none", "x", dry_run=False, remote_id="1", url="u", cost=0, now=T0)
    with pytest.raises(StoreError, match="no dry-run delivery"):
        ledger.release("queue/none", "x", dry_run=True, now=T0)
    assert ledger.retry("queue/none") == 0


def test_dry_run_rows_live_beside_real_ones(ledger: Ledger) -> None:
    add(ledger, dry_run=True)
    assert ledger.get(KEY, "x", dry_run=False) is None
    add(ledger, dry_run=False)
    assert ledger.claim(KEY, "x", dry_run=True, owner="a", now=T0) is not None
    ledger.mark_sent(KEY, "x", dry_run=True, remote_id="dry", url="u", cost=0.2, now=T0)
    real = ledger.get(KEY, "x", dry_run=False)
    assert real is not None and real.status == "pending"
    assert ledger.sent_count("x", since=T0) == 0 and ledger.spend("x", since=T0) == 0.0
    assert ledger.sent_count("x", since=T0, dry_run=True) == 1
    assert [d.dry_run for d in ledger.due(now=T0, dry_run=False)] == [False]
    assert ledger.due(now=T0, dry_run=True) == []
    assert ledger.counts(dry_run=True)["sent"] == 1 and ledger.counts(dry_run=False)["pending"] == 1


def test_due_lists_pending_retryable_and_stale_rows_in_due_order(ledger: Ledger) -> None:
    add(ledger, "queue/later", due_at=T0 + timedelta(hours=1))
    add(ledger, "queue/b", due_at=T0 - timedelta(minutes=1))
    add(ledger, "queue/a", due_at=T0 - timedelta(minutes=2))
    add(ledger, "queue/failed", due_at=T0 - timedelta(minutes=3))
    add(ledger, "queue/stale", due_at=T0 - timedelta(minutes=4))
    add(ledger, "queue/live", due_at=T0 - timedelta(minutes=5))
    ledger.claim("queue/failed", "x", dry_run=False, owner="a", now=T0 - timedelta(minutes=3))
    ledger.mark_failed("queue/failed", "x", dry_run=False, error="e", retry_at=T0, now=T0)
    ledger.claim("queue/stale", "x", dry_run=False, owner="dead", now=T0 - timedelta(minutes=11))
    ledger.claim("queue/live", "x", dry_run=False, owner="alive", now=T0 - timedelta(minutes=9))
    due = ledger.due(now=T0, dry_run=False, lease=timedelta(minutes=10))
    assert [d.key for d in due] == ["queue/stale", "queue/failed", "queue/a", "queue/b"]


def test_a_claim_left_by_a_crashed_process_is_recovered_after_its_lease(ledger: Ledger) -> None:
    add(ledger)
    lease = timedelta(minutes=10)
    ledger.claim(KEY, "x", dry_run=False, owner="dead", now=T0, lease=lease)
    assert ledger.claim(KEY, "x", dry_run=False, owner="new", now=T0 + lease, lease=lease) is None
    recovered = ledger.claim(
        KEY, "x", dry_run=False, owner="new", now=T0 + lease + timedelta(seconds=1), lease=lease
    )
    assert recovered is not None
    assert (recovered.status, recovered.recovering, recovered.claimed_by, recovered.attempts) == (
        "sending",
        True,
        "new",
        2,
    )
    # The new owner found nothing on the network and defers: the next claim is an ordinary one again.
    ledger.release(KEY, "x", dry_run=False, now=T0 + lease)
    fresh = ledger.claim(KEY, "x", dry_run=False, owner="new", now=T0 + lease, lease=lease)
    assert fresh is not None and fresh.recovering is False and fresh.attempts == 2


def test_deliveries_filters_and_orders_by_last_change(ledger: Ledger) -> None:
    for i in range(4):
        ledger.ensure(
            f"feed/{i}", "bluesky", dry_run=False, source="feed", name="", due_at=T0, payload="{}",
            now=T0 + timedelta(minutes=i),
        )  # fmt: skip
    add(ledger, dry_run=True)
    assert [d.key for d in ledger.deliveries(network="bluesky", limit=2)] == ["feed/3", "feed/2"]
    assert [d.key for d in ledger.deliveries(network="bluesky", newest_first=False, limit=2)] == [
        "feed/0",
        "feed/1",
    ]
    assert [d.key for d in ledger.deliveries(dry_run=True)] == [KEY]
    assert len(ledger.deliveries(status="pending")) == 5
    assert ledger.deliveries(status="sent") == []
    assert [d.network for d in ledger.deliveries(key="feed/1")] == ["bluesky"]


def test_sent_count_and_spend_count_only_sends_inside_the_window(ledger: Ledger) -> None:
    for i, (network, cost) in enumerate([("x", 0.2), ("x", 0.015), ("x", 0.015), ("bluesky", 0.0)]):
        key = f"queue/{i}"
        add(ledger, key, network)
        ledger.claim(key, network, dry_run=False, owner="a", now=T0)
        ledger.mark_sent(
            key, network, dry_run=False, remote_id=str(i), url="u", cost=cost, now=T0 + timedelta(hours=i)
        )
    add(ledger, "queue/failed")
    ledger.mark_failed("queue/failed", "x", dry_run=False, error="e", retry_at=None, now=T0)
    assert ledger.sent_count("x", since=T0) == 3
    assert ledger.sent_count("x", since=T0 + timedelta(hours=1)) == 2  # the window start is inclusive
    assert ledger.sent_count("x", since=T0 + timedelta(hours=1, microseconds=1)) == 1
    assert ledger.spend("x", since=T0) == pytest.approx(0.23)
    assert ledger.spend("x", since=T0 + timedelta(hours=1)) == pytest.approx(0.03)
    assert ledger.spend("x", since=T0 + timedelta(days=1)) == 0.0
    assert ledger.sent_count("bluesky", since=T0) == 1


def test_times_come_back_as_aware_utc_and_naive_times_are_refused(ledger: Ledger) -> None:
    local = datetime(2026, 3, 1, 10, 0, tzinfo=ZoneInfo("America/New_York"))
    row = ledger.ensure(KEY, "x", dry_run=False, source="q", name="n", due_at=local, payload="{}", now=local)
    assert row.due_at == local and row.due_at.tzinfo == UTC and row.due_at.hour == 15
    with pytest.raises(ValueError, match="naive"):
        ledger.sent_count("x", since=datetime(2026, 3, 1))


# ------------------------------------------------------------------------------------------ concurrency


def test_threads_with_separate_connections_claim_each_row_exactly_once(ledger_target: str) -> None:
    workers, keys = 6, [f"queue/{i}" for i in range(15)]
    with Ledger.open(ledger_target) as setup:
        for key in keys:
            add(setup, key)
    ledgers = [Ledger.open(ledger_target) for _ in range(workers)]
    barrier = threading.Barrier(workers)

    def hammer(index: int) -> list[str]:
        won = []
        for key in keys:
            barrier.wait()  # everyone asks for the same row at the same moment
            if ledgers[index].claim(key, "x", dry_run=False, owner=f"t{index}", now=T0) is not None:
                won.append(key)
        return won

    try:
        with ThreadPoolExecutor(workers) as pool:
            results = list(pool.map(hammer, range(workers)))
    finally:
        for opened in ledgers:
            opened.close()
    assert sorted(key for won in results for key in won) == sorted(keys)


def test_two_processes_hammering_claim_send_each_of_200_rows_exactly_once(ledger_target: str) -> None:
    keys = [f"feed/{i:03d}" for i in range(200)]
    # Each process ensures rows too, and migrates a brand-new database at the same time as the other.
    procs = [start_worker(ledger_target, f"p{n}", T0, keys, ensure=True) for n in range(2)]
    for proc in procs:  # start both before reading either, so they really overlap
        assert proc.stdin is not None
        proc.stdin.write("go\n")
        proc.stdin.flush()
    outputs = [proc.communicate(timeout=60)[0] for proc in procs]
    assert [proc.returncode for proc in procs] == [0, 0]
    claimed = [line.split()[1] for out in outputs for line in out.splitlines() if line.startswith("claimed")]
    assert sorted(claimed) == keys  # every key exactly once, across both processes
    with Ledger.open(ledger_target) as ledger:
        assert ledger.counts() == {"pending": 0, "sending": 0, "sent": 200, "failed": 0, "skipped": 0}
        assert {d.attempts for d in ledger.deliveries(limit=500)} == {1}
        # Which process wins how many rows is up to the OS scheduler (one may even finish before the other
        # starts), so only the exactly-once property above is asserted.


def test_kill_9_in_the_middle_of_a_claim_loop_loses_nothing(ledger_target: str) -> None:
    keys = [f"queue/{i:03d}" for i in range(200)]
    with Ledger.open(ledger_target) as ledger:
        for key in keys:
            add(ledger, key)
    proc = start_worker(ledger_target, "doomed", T0, keys, ensure=False)
    assert proc.stdin is not None and proc.stdout is not None
    proc.stdin.write("go\n")
    proc.stdin.flush()
    reported = [proc.stdout.readline().split() for _ in range(61)]  # stop it half-way through a key
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=10)
    proc.stdout.close()
    proc.stdin.close()

    sent_reported = {key for word, key in reported if word == "sent"}
    with Ledger.open(ledger_target) as ledger:
        rows = ledger.deliveries(limit=500)
        assert sorted(d.key for d in rows) == keys  # no row lost
        by_status: dict[str, list[str]] = {}
        for d in rows:
            by_status.setdefault(d.status, []).append(d.key)
        assert set(by_status) <= {"pending", "sending", "sent"}
        assert sent_reported <= set(by_status["sent"])  # everything reported done is durably done
        assert len(by_status.get("sending", [])) <= 1  # one worker, one key at a time
        # Whatever it left in `sending` is recovered after the lease, flagged for a check with the network.
        later = T0 + timedelta(hours=1)
        for key in by_status.get("sending", []):
            recovered = ledger.claim(key, "x", dry_run=False, owner="heir", now=later)
            assert recovered is not None and recovered.recovering
        for key in by_status["pending"]:
            assert ledger.claim(key, "x", dry_run=False, owner="heir", now=later) is not None
    if not is_postgres(ledger_target):
        assert raw(ledger_target, "PRAGMA integrity_check") == [("ok",)]


# ------------------------------------------------------------------------------------- feed, sessions, flags


def test_feed_entries_are_seen_by_guid_or_by_url(ledger: Ledger) -> None:
    assert ledger.feed_has_history() is False
    assert ledger.feed_seen("guid-1", "https://endseclusion.org/a") is False
    ledger.mark_feed_seen("guid-1", "https://endseclusion.org/a", now=T0)
    ledger.mark_feed_seen("guid-1", "https://endseclusion.org/a", now=T0)  # twice is fine
    assert ledger.feed_has_history() is True
    assert ledger.feed_seen("guid-1", "https://endseclusion.org/changed") is True
    assert ledger.feed_seen("guid-changed", "https://endseclusion.org/a") is True
    assert ledger.feed_seen("guid-2", "https://endseclusion.org/b") is False
    assert ledger.feed_seen("", "") is False
    ledger.mark_feed_seen("", "https://endseclusion.org/no-guid", now=T0)
    assert ledger.feed_seen("", "https://endseclusion.org/no-guid") is True
    assert ledger.feed_seen("https://endseclusion.org/no-guid", "") is False  # a guid is not a url


def test_feed_validators(ledger: Ledger) -> None:
    url = "https://endseclusion.org/feed/"
    assert ledger.feed_validators(url) == (None, None)
    ledger.save_feed_validators(url, '"abc"', "Sun, 01 Mar 2026 15:00:00 GMT")
    assert ledger.feed_validators(url) == ('"abc"', "Sun, 01 Mar 2026 15:00:00 GMT")
    ledger.save_feed_validators(url, None, "Mon, 02 Mar 2026 15:00:00 GMT")
    assert ledger.feed_validators(url) == (None, "Mon, 02 Mar 2026 15:00:00 GMT")
    assert ledger.feed_validators("https://other.example/feed") == (None, None)


def test_sessions_and_flags(ledger: Ledger) -> None:
    assert ledger.load_session("bluesky") is None
    ledger.save_session("bluesky", '{"jwt": "one"}')
    ledger.save_session("bluesky", '{"jwt": "two"}')
    assert ledger.load_session("bluesky") == '{"jwt": "two"}'
    assert ledger.get_flag("paused") is None
    ledger.set_flag("paused", "maintenance")
    ledger.set_flag("paused", "storm")
    assert ledger.get_flag("paused") == "storm"
    ledger.set_flag("paused", None)
    ledger.set_flag("paused", None)
    assert ledger.get_flag("paused") is None


def test_state_survives_reopening(ledger_target: str) -> None:
    with Ledger.open(ledger_target) as ledger:
        ledger.save_session("bluesky", "s")
        ledger.set_flag("paused", "1")
        ledger.mark_feed_seen("g", "u", now=T0)
    with Ledger.open(ledger_target) as ledger:
        assert (ledger.load_session("bluesky"), ledger.get_flag("paused"), ledger.feed_seen("g", "")) == (
            "s",
            "1",
            True,
        )


# ------------------------------------------------------------------------------------------ errors


def test_unwritable_path_is_a_store_error(tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory")
    with pytest.raises(StoreError, match=r"cannot open the ledger at .*a-file"):
        Ledger.open(blocker / "state" / "ledger.db")
    (tmp_path / "dir.db").mkdir()
    with pytest.raises(StoreError, match="cannot open the ledger"):
        Ledger.open(tmp_path / "dir.db")


def test_a_file_that_is_not_a_database_is_a_store_error(tmp_path: Path) -> None:
    path = tmp_path / "junk.db"
    path.write_bytes(b"this is not sqlite" * 100)
    with pytest.raises(StoreError, match=r"junk\.db"):
        Ledger.open(path)


def test_a_closed_ledger_says_so(ledger: Ledger) -> None:
    ledger.close()
    ledger.close()
    with pytest.raises(StoreError, match="closed"):
        ledger.get_flag("paused")


@pytest.mark.parametrize(
    "url",
    [
        "postgresql://bot:S3cret-pw@127.0.0.1:1/aasr",  # nothing listens on port 1
        "postgres://bot:S3cret-pw@127.0.0.1:notaport/aasr",
        "postgresql://bot:S3cret%pw@127.0.0.1/aasr",  # bad percent-encoding in the password
        "postgresql://127.0.0.1:1/aasr?user=bot&password=S3cret-pw",
    ],
)
def test_a_bad_postgres_url_is_a_store_error_without_the_password(url: str) -> None:
    with pytest.raises(StoreError, match="cannot connect to the ledger database") as caught:
        Ledger.open(url)
    assert "S3cret" not in str(caught.value)
    assert caught.value.__cause__ is None and caught.value.__suppress_context__
    assert "***" in str(caught.value)


def test_a_wrong_postgres_password_is_a_store_error_without_the_password(pg_server_url: str) -> None:
    user = psycopg.conninfo.conninfo_to_dict(pg_server_url)["user"]
    url = pg_server_url.replace(f"//{user}:", f"//{user}:Wr0ng-Secret-", 1)
    assert "Wr0ng-Secret-" in url
    with pytest.raises(StoreError) as caught:
        Ledger.open(url)
    assert "Wr0ng-Secret" not in str(caught.value)
    assert "password authentication failed" in str(caught.value)


def test_postgres_reconnects_after_the_connection_drops(pg_server_url: str) -> None:
    name = f"aasr-test-{os.getpid()}"
    with fresh_schema(pg_server_url) as url, Ledger.open(f"{url}&application_name={name}") as ledger:
        ledger.set_flag("paused", "1")
        with psycopg.connect(pg_server_url, autocommit=True) as admin:
            killed = admin.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = %s", (name,)
            ).fetchall()
        assert killed == [(True,)]
        with pytest.raises(StoreError, match=r"ledger postgresql://.*\*\*\*@"):
            ledger.get_flag("paused")
        assert ledger.get_flag("paused") == "1"  # the next call reconnects


def test_redact() -> None:
    assert redact("postgresql://bot:pw@db:5432/x") == "postgresql://bot:***@db:5432/x"
    assert (
        redact("postgres://db/x?sslmode=require&password=pw")
        == "postgres://db/x?sslmode=require&password=***"
    )
    assert redact("postgresql://db:5432/x") == "postgresql://db:5432/x"
    assert redact("/var/lib/bot/ledger.db") == "/var/lib/bot/ledger.db"
