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
from PIL import Image as PILImage

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


# --------------------------------------------------------------------------- validate


def problems_of(tmp_path: Path, body: str, settings: str = SETTINGS) -> list[str]:
    from bot.schedules import load_schedules

    schedules = write_tree(tmp_path, settings=settings, awareness={"day": body})
    (tmp_path / "content" / "images").mkdir(parents=True, exist_ok=True)
    PILImage.new("RGB", (40, 30), "white").save(tmp_path / "content" / "images" / "a.png")
    loaded = load_schedules(schedules, tmp_path / "content", today=DUE.date())
    return [f"{p.line}:{p.column}: {p.format().split(': error: ', 1)[-1]}" for p in loaded.errors()]


DAY = "name: A Day\nwhen: {when}\nsource: https://example.org/\n{extra}posts:\n  - text: {text}\n"


def test_a_misspelt_hashtags_key_shows_in_the_length_message_which_hashtags_were_counted(
    tmp_path: Path,
) -> None:
    settings = SETTINGS + "hashtags: [EndSeclusion, DisabilityRights]\n"
    body = DAY.format(
        when="May 1", extra="hashtag: [IDPD]\nlink: https://endseclusion.org/\n", text="a" * 250
    )
    assert problems_of(tmp_path, body, settings) == [
        "4:1: unknown key 'hashtag' in an observance (hint: did you mean 'hashtags'?)",
        "7:11: text is too long for x: 307/280 weighted characters (links count 23), counting the link and the"
        " hashtags #EndSeclusion #DisabilityRights (the default ones from settings.yaml) added after the text"
        " (hint: shorten it by 27 or add a shorter 'x:' variant)",
        "7:11: text is too long for bluesky: 309/300 graphemes, counting the link and the hashtags #EndSeclusion"
        " #DisabilityRights (the default ones from settings.yaml) added after the text (hint: shorten it by 9 or"
        " add a shorter 'bluesky:' variant)",
    ]


def test_a_long_text_with_nothing_added_says_no_link_or_hashtags(tmp_path: Path) -> None:
    body = DAY.format(when="May 1", extra="hashtags: []\n", text="a" * 281)
    assert problems_of(tmp_path, body)[0] == (
        "6:11: text is too long for x: 281/280 weighted characters (links count 23)"
        " (hint: shorten it by 1 or add a shorter 'x:' variant)"
    )
    tagged = DAY.format(when="May 1", extra="hashtags: [IDPD]\n", text="a" * 280)
    assert "counting the hashtag #IDPD (the file's) added after the text" in problems_of(tmp_path, tagged)[0]


def test_empty_alt_text_says_how_to_write_it(tmp_path: Path) -> None:
    body = (
        DAY.format(when="May 1", extra="", text="hi")
        + '    images:\n      - file: images/a.png\n        alt: ""\n'
    )
    assert problems_of(tmp_path, body) == [
        "8:14: alt text is empty (hint: describe what the image shows, for followers who use a screen reader or"
        " can't see it, e.g. 'A teacher reads to three children in a sunny classroom')"
    ]


@pytest.mark.parametrize(
    ("when", "said"),
    [
        (
            "Febuary 30",
            "unknown month 'Febuary' (did you mean February?), and 'February 30' could never happen either:"
            ' February has at most 29 days (hint: write the month in full and a day it has, e.g. "February 1" or'
            ' "last day of February")',
        ),
        (
            "May 15 to Jnue 31",
            "unknown month 'Jnue' (did you mean June?), and 'June 31' could never happen either: June has 30 days",
        ),
        (
            "Febuary 28",
            "unknown month 'Febuary' (did you mean February?) (hint: month names are written in full",
        ),
    ],
)
def test_a_misspelt_month_and_an_impossible_day_are_reported_together(
    tmp_path: Path, when: str, said: str
) -> None:
    (problem,) = problems_of(tmp_path, DAY.format(when=when, extra="", text="hi"))
    assert problem.split(": ", 1)[1].split(" (hint:")[0] in said
    assert said in problem
