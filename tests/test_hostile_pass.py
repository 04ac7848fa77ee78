"""Issue 8's failures inside a pass: a dripping feed, an interrupted first poll, an image bomb, a ledger row that
cannot be decoded, and DATABASE_URL forms the bot must understand or refuse in one line. Real ledger files, the
X stand-in and hostile servers on 127.0.0.1."""

from __future__ import annotations

import json
import os
import random
import sqlite3
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from bot.errors import ConfigError
from bot.feed import FetchResult
from bot.models import FeedItem, Image, Post
from bot.publishers.x import XCredentials, XPublisher
from bot.service import Service, post_to_payload
from bot.settings import postgres_url
from bot.store import Ledger
from tests.e2e_helpers import bot, clean_env
from tests.hostile_images import write_bomb
from tests.hostile_servers import HostileServer
from tests.service_fixtures import SETTINGS, FakePublisher, load_tree, queue_of, write_tree
from tests.store_fixtures import fresh_schema
from tests.xserver import XStandIn

NY = ZoneInfo("America/New_York")
T0 = datetime(2026, 12, 3, 10, 0, 30, tzinfo=NY)


def test_due_posts_go_out_while_the_feed_drips(
    tmp_path: Path, x_server: XStandIn, x_creds: XCredentials
) -> None:
    """Issue 8, failure 3: the due posts of a pass waited behind a feed dripping one byte at a time."""
    sent_when_feed_was_asked: list[int] = []
    with HostileServer(
        drip="headers", on_request=lambda: sent_when_feed_was_asked.append(len(x_server.tweets))
    ) as feed:
        settings = SETTINGS.replace(
            "feed:\n  url: null\n",
            f"feed:\n  url: {feed.url}\n  allow_private_address: true\n  deadline_seconds: 1\n",
        )
        write_tree(tmp_path, settings=settings, queue=queue_of(["due-now"], "A post due at ten."))
        result = bot(["tick"], clean_env(tmp_path, now=T0, x=x_creds), cwd=tmp_path)
        assert feed.client_left.wait(10)
    assert result.returncode == 0, result.stderr
    assert sent_when_feed_was_asked == [1]  # the post was out before the feed was even requested
    assert "feed not read: 127.0.0.1 did not answer in time" in result.stderr
    assert not feed.finished.is_set()


def many_stories(n: int) -> tuple[FeedItem, ...]:
    start = datetime(2020, 1, 1, tzinfo=NY)
    return tuple(
        FeedItem(
            guid=f"story-{i}",
            url=f"https://endseclusion.org/stories/{i}/",
            title=f"Story {i}",
            published=start + timedelta(hours=i),
        )
        for i in range(n)
    )


def feed_service(
    tmp_path: Path, ledger: Ledger, items: tuple[FeedItem, ...]
) -> tuple[Service, FakePublisher]:
    settings = SETTINGS.replace("feed:\n  url: null\n", "feed:\n  url: https://endseclusion.org/feed/\n")
    schedules = load_tree(write_tree(tmp_path, settings=settings))
    x = FakePublisher("x")

    def fetch(url: str, etag: str | None, modified: str | None) -> FetchResult:
        return FetchResult(items=items, etag=None, last_modified=None, not_modified=False)

    service = Service(
        schedules,
        ledger,
        {"x": x, "bluesky": FakePublisher("bluesky")},
        owner="t",
        fetch_feed=fetch,
        rng=random.Random(1),
    )
    return service, x


def test_an_interrupted_first_poll_seeds_again_instead_of_announcing_the_archive(tmp_path: Path) -> None:
    """Issue 8, failure 6: a full disk during the first poll of a 5,000-story feed left some "seen" marks, and
    the next poll took them for history and announced the archive, three a poll."""
    path = tmp_path / "ledger.sqlite3"
    items = many_stories(5000)
    with Ledger.open(path) as ledger:
        service, x = feed_service(tmp_path, ledger, items)
        # A real "database or disk is full": SQLite refuses to grow the file past max_page_count.
        conn = sqlite3.connect(path)
        pages = conn.execute("PRAGMA page_count").fetchone()[0]
        conn.close()
        ledger_conn: Any = ledger._db.conn  # type: ignore[union-attr]  # fault injection: the file's page limit
        ledger_conn.execute(f"PRAGMA max_page_count = {pages + 8}")
        with pytest.raises(Exception, match="full"):
            service.run_pass(T0)
        ledger_conn.execute("PRAGMA max_page_count = 1073741823")
        assert ledger.feed_seeded() is False
        for minutes in (30, 60):
            report = service.run_pass(T0 + timedelta(minutes=minutes))
            assert "0 new to announce" in report.feed, report.feed
        assert x.published == []
        assert ledger.feed_seeded() is True


def test_a_ledger_row_that_cannot_be_decoded_is_marked_failed(tmp_path: Path) -> None:
    with Ledger.open(tmp_path / "ledger.sqlite3") as ledger:
        schedules = load_tree(write_tree(tmp_path))
        x = FakePublisher("x")
        service = Service(schedules, ledger, {"x": x}, owner="t")
        for key, payload in (
            ("queue/garbage", "{not json"),
            ("queue/list", "[1, 2]"),
            ("queue/nokeys", "{}"),
        ):
            ledger.ensure(
                key, "x", dry_run=False, source="queue", name=key, due_at=T0, payload=payload, now=T0
            )
        outcomes = service.send_due(T0 + timedelta(seconds=1))
        assert sorted(o.status for o in outcomes) == ["failed"] * 3
        for key in ("queue/garbage", "queue/list", "queue/nokeys"):
            row = ledger.get(key, "x", dry_run=False)
            assert row is not None and row.status == "failed"
            assert "cannot be decoded" in (row.last_error or "")
        assert x.published == []


def test_an_image_bomb_fails_its_post_and_the_rest_of_the_pass_goes_out(
    tmp_path: Path, x_publisher: XPublisher, x_server: XStandIn
) -> None:
    """Issue 8, failure 4: a 30000x30000 PNG (a few hundred bytes) crashed `tick` with DecompressionBombError,
    left its row in `sending`, and the other posts of the pass were not sent."""
    bomb = write_bomb(tmp_path / "bomb.png")
    with Ledger.open(tmp_path / "ledger.sqlite3") as ledger:
        schedules = load_tree(write_tree(tmp_path))
        service = Service(schedules, ledger, {"x": x_publisher}, owner="t")
        bad = Post("queue/bomb", "x", "A picture.", 10, 280, images=(Image(bomb, "Nothing really"),))
        good = Post("queue/plain", "x", "A plain post.", 13, 280)
        for post in (bad, good):
            ledger.ensure(
                post.key,
                "x",
                dry_run=False,
                source="queue",
                name=post.key,
                due_at=T0,
                payload=post_to_payload(post),
                now=T0,
            )
        outcomes = {o.key: o for o in service.send_due(T0 + timedelta(seconds=1))}
        assert outcomes["queue/plain"].status == "sent"
        assert outcomes["queue/bomb"].status == "failed"
        row = ledger.get("queue/bomb", "x", dry_run=False)
        assert row is not None and row.status == "failed" and row.next_attempt_at is None
        assert "megapixels" in (row.last_error or "")
    assert [t["text"] for t in x_server.tweets.values()] == ["A plain post."]


# ------------------------------------------------------------------------------------------------ DATABASE_URL


@pytest.mark.parametrize(
    "url",
    [
        "host=db.example.invalid password=hunter2-secret dbname=bot",
        "postgresql+psycopg://bot:hunter2-secret@db.example.invalid/bot",
        "postgres://bot:hunter2-secret@db.example.invalid/bot",
    ],
)
def test_database_url_forms_are_understood(url: str) -> None:
    normal = postgres_url(url)
    assert normal.startswith("postgresql://")
    from psycopg.conninfo import conninfo_to_dict

    assert conninfo_to_dict(normal)["password"] == "hunter2-secret"


@pytest.mark.parametrize(
    "url",
    [
        "postgresql://bot:hunter2-secret@[::1/db",
        "mysql://bot:hunter2-secret@db/bot",
        "state/ledger.sqlite3",
        "host=db password",
        "postgresql://bot:hunter2-secret@db:99999999/bot",
    ],
)
def test_database_url_not_understood_is_one_line_without_the_password(url: str, tmp_path: Path) -> None:
    """Issue 8, failure 7: such values silently became a SQLite file named after the URL (password included),
    or a traceback on every command."""
    with pytest.raises(ConfigError) as caught:
        postgres_url(url)
    assert "hunter2-secret" not in str(caught.value)
    write_tree(tmp_path)
    env = clean_env(tmp_path, extra={"DATABASE_URL": url})
    before = set(os.listdir(tmp_path))
    result = bot(["status"], env, cwd=tmp_path)
    assert result.returncode != 0
    assert "Traceback" not in result.stderr
    assert "hunter2-secret" not in result.stdout + result.stderr
    assert "DATABASE_URL" in result.stderr and "postgresql://" in result.stderr
    assert set(os.listdir(tmp_path)) == before  # no file was made from it
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr


@pytest.fixture
def pg_keywords() -> Iterator[str]:
    url = os.environ.get("BOT_TEST_DATABASE_URL")
    if not url:
        pytest.skip("BOT_TEST_DATABASE_URL is not set (run .ci/postgres.sh)")
    from psycopg.conninfo import conninfo_to_dict

    # A schema of its own, so a ledger another checkout left in the shared test database can't get in the way.
    with fresh_schema(url) as scoped:
        yield " ".join(f"{k}='{v}'" for k, v in conninfo_to_dict(scoped).items())


def test_libpq_keyword_database_url_opens_postgresql(pg_keywords: str, tmp_path: Path) -> None:
    write_tree(tmp_path)
    env = clean_env(tmp_path, extra={"DATABASE_URL": pg_keywords})
    result = bot(["status", "--json"], env, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    json.loads(result.stdout)
    assert not (tmp_path / "ledger.sqlite3").exists()
    assert not any(name.startswith("host=") for name in os.listdir(tmp_path))
