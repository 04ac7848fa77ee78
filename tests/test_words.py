"""The words a volunteer reads, pinned: what a failing feed means, that a dry run rehearses and never "sends",
and status in plain words. Each message here was once written for programmers (issue: "the first hour of a
new maintainer")."""

from __future__ import annotations

import io
import logging
import random
import socket
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from bot.errors import FeedError
from bot.feed import fetch_feed, make_client
from bot.fetch import Fetcher
from bot.publishers.base import Publisher
from bot.publishers.dry_run import DryRunPublisher
from bot.service import Service
from bot.status import collect, format_status
from bot.store import Ledger
from tests.feed_fixtures import FeedServer, feed_file
from tests.service_fixtures import IDPD, SETTINGS, FakePublisher, load_tree, write_tree

NY = ZoneInfo("America/New_York")
DUE = datetime(2026, 12, 3, 10, 0, 5, tzinfo=NY)


@pytest.fixture
def ledger(tmp_path: Path) -> Iterator[Ledger]:
    with Ledger.open(tmp_path / "ledger.sqlite3") as opened:
        yield opened


def service(
    tmp_path: Path, ledger: Ledger, publishers: dict[str, Publisher], settings: str = SETTINGS
) -> Service:
    schedules = load_tree(write_tree(tmp_path, settings=settings, awareness={"idpd": IDPD}))
    return Service(schedules, ledger, publishers, owner="test", rng=random.Random(1))


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


# --------------------------------------------------------------------------- the feed


def test_no_internet_is_said_in_plain_words_with_the_detail_kept_for_debugging() -> None:
    def no_dns(host: str, port: int) -> list[tuple[Any, ...]]:
        raise socket.gaierror(-2, "Name or service not known")

    with Fetcher(resolver=no_dns) as client, pytest.raises(FeedError) as caught:
        fetch_feed("https://endseclusion.org/feed/", client)
    assert str(caught.value) == (
        "can't reach endseclusion.org: no internet connection, or the name endseclusion.org can't be looked up"
        " (DNS) (hint: the bot tries again at the next poll)"
    )
    assert (
        caught.value.detail
        == "https://endseclusion.org/feed/: ConnectError: cannot resolve endseclusion.org: [Errno -2] Name or service"
        " not known"
    )


def test_a_feed_that_keeps_failing_is_warned_about_once_then_its_recovery_is_said(
    tmp_path: Path, ledger: Ledger, feed_server: FeedServer, caplog: pytest.LogCaptureFixture
) -> None:
    target = {"url": f"http://127.0.0.1:{closed_port()}/feed/"}
    settings = SETTINGS.replace("feed:\n  url: null\n", "feed:\n  url: https://endseclusion.org/feed/\n")
    bot = service(tmp_path, ledger, {"x": FakePublisher("x"), "bluesky": FakePublisher("bluesky")}, settings)
    client = make_client(allow_private=True)  # the feed server below is on 127.0.0.1

    def fetch(url: str, etag: str | None, modified: str | None) -> Any:
        return fetch_feed(target["url"], client, etag=etag, last_modified=modified)

    bot.fetch_feed = fetch
    caplog.set_level(logging.DEBUG, logger="bot")
    summaries = [bot.run_pass(DUE.replace(minute=m)).summary() for m in (0, 15, 30)]
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert warnings == [
        "feed not read: can't reach 127.0.0.1: it refused the connection (the site may be down)"
        " (hint: the bot tries again at the next poll)"
    ]
    debug = [
        r.getMessage()
        for r in caplog.records
        if r.levelno == logging.DEBUG and "ConnectError" in r.getMessage()
    ]
    assert len(debug) == 3  # the technical detail, for whoever runs with LOG_LEVEL=DEBUG
    assert all(
        "; feed: not read; " in s and "ConnectError" not in s and "refused" not in s for s in summaries
    )

    caplog.clear()
    feed_server.set_feed(feed_file("wordpress.rss"))
    target["url"] = feed_server.url
    assert "feed: " in bot.run_pass(DUE.replace(minute=45)).feed
    infos = [r.getMessage() for r in caplog.records if r.levelno == logging.INFO]
    assert "feed read again (the earlier problem is gone)" in infos
    client.close()


# --------------------------------------------------------------------------- dry runs rehearse


def test_a_dry_run_pass_reports_rehearsed_never_sent(tmp_path: Path, ledger: Ledger) -> None:
    out = io.StringIO()
    dry = {n: DryRunPublisher(n, out=out) for n in ("x", "bluesky")}
    report = service(tmp_path, ledger, dict(dry)).run_pass(DUE)
    assert report.summary() == "2 new posts planned; feed: off; rehearsed 2 (dry run: nothing posted)"
    assert "sent" not in report.summary()


def test_a_pass_with_one_real_and_one_dry_network_says_which_is_which(tmp_path: Path, ledger: Ledger) -> None:
    publishers: dict[str, Publisher] = {
        "x": FakePublisher("x"),
        "bluesky": DryRunPublisher("bluesky", out=io.StringIO()),
    }
    report = service(tmp_path, ledger, publishers).run_pass(DUE)
    assert report.summary() == "2 new posts planned; feed: off; sent 1, rehearsed 1 (dry run: nothing posted)"
    later = service(tmp_path, ledger, publishers).run_pass(DUE.replace(minute=30))
    assert later.summary() == "0 new posts planned; feed: off; nothing to send"


def test_status_lists_rehearsals_apart_from_what_was_really_sent(tmp_path: Path, ledger: Ledger) -> None:
    publishers: dict[str, Publisher] = {
        "x": FakePublisher("x"),
        "bluesky": DryRunPublisher("bluesky", out=io.StringIO()),
    }
    bot = service(tmp_path, ledger, publishers)
    bot.run_pass(DUE)
    text = format_status(collect(bot.schedules, ledger, DUE, paused_flag=False))
    assert "posts: 1 sent, 0 waiting to be sent, 0 being sent now, 0 failed, 0 skipped" in text
    assert "(and 1 rehearsed in dry runs: never posted)" in text
    x_part, bluesky_part = text.split("== x", 1)[1].split("== bluesky", 1)
    assert "  last sent:\n    awareness/idpd/2026/1" in x_part
    assert (
        "last sent" not in bluesky_part and "sent" not in bluesky_part.split("\n", 1)[1].split("next due")[0]
    )
    assert "  last rehearsed (dry run: nothing was posted):\n    awareness/idpd/2026/1" in bluesky_part
    assert "ledger row" not in text and "dry-run rows" not in text
