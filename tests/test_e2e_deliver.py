"""The one delivery path through the real CLI (subprocesses) against the X stand-in: honest duplicates, recovery
after a crash by reading our own timeline, and two processes sending the same row. Bluesky runs dry here."""

from __future__ import annotations

import json
import signal
import time
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from bot.publishers.x import XCredentials
from tests.e2e_helpers import bot, clean_env, start_bot
from tests.service_fixtures import queue_of, write_tree
from tests.xserver import Fault, XStandIn

NY = ZoneInfo("America/New_York")
T0 = datetime(2026, 12, 3, 10, 0, 30, tzinfo=NY)
TEXT = "Every child deserves a school without seclusion rooms."
KEY = "queue/hello"
DUPLICATE = "X refused this text as a duplicate of a recent post: vary the text, then `retry`"


def wait_for(condition: object, what: str, limit: float = 60.0) -> None:
    """Wait for a server-side event of a subprocess (not a timer: the check is the condition itself)."""
    deadline = time.monotonic() + limit
    while not condition():  # type: ignore[operator]
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.01)


def test_first_attempt_refused_as_duplicate_is_failed_with_the_reason(
    tmp_path: Path, x_server: XStandIn, x_creds: XCredentials
) -> None:
    write_tree(tmp_path, queue=queue_of(["hello"], TEXT))
    x_server.tweets["1860000000000000000"] = {
        "text": TEXT,
        "reply_to": None,
        "media_ids": [],
        "created_at": 0.0,
    }
    env = clean_env(tmp_path, now=T0, x=x_creds)
    result = bot(["tick"], env, cwd=tmp_path)
    assert result.returncode == 1, result.stderr  # a post failed for good: a maintainer must act
    assert len(x_server.requests_to("/2/tweets")) == 1
    assert x_server.requests_to(f"/2/users/{x_server.user_id}/tweets") == []  # nothing to look for
    data = json.loads(bot(["status", "--json"], env, cwd=tmp_path).stdout)
    assert data["networks"]["x"]["sent"] == []
    [failed] = data["networks"]["x"]["failed"]
    assert (failed["key"], failed["error"], failed["url"]) == (KEY, DUPLICATE, None)
    text = bot(["status"], env, cwd=tmp_path).stdout
    assert DUPLICATE in text


def test_row_left_sending_by_a_crash_is_found_on_x_and_not_posted_again(
    tmp_path: Path, x_server: XStandIn, x_creds: XCredentials
) -> None:
    write_tree(tmp_path, queue=queue_of(["hello"], TEXT))
    x_server.post_clock = lambda: T0.timestamp()  # X dates the post in the bot's (pretended) time
    x_server.inject(Fault.created_then_hang(), path="/2/tweets")
    env = clean_env(tmp_path, now=T0, x=x_creds, extra={"BOT_LEASE_SECONDS": "60"})
    proc = start_bot(["tick"], env, cwd=tmp_path)
    wait_for(lambda: len(x_server.tweets) == 1, "X to create the post")
    proc.send_signal(signal.SIGKILL)  # X has the post; the bot never got the answer
    proc.communicate(timeout=30)
    [(tweet_id, _)] = x_server.tweets.items()
    later = {**env, "BOT_NOW": (T0 + timedelta(minutes=2)).isoformat()}
    result = bot(["tick"], later, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert len(x_server.requests_to("/2/tweets")) == 1  # no second create
    assert len(x_server.requests_to(f"/2/users/{x_server.user_id}/tweets")) == 1
    data = json.loads(bot(["status", "--json"], later, cwd=tmp_path).stdout)
    [sent] = data["networks"]["x"]["sent"]
    assert sent["url"] == f"https://x.com/{x_server.username}/status/{tweet_id}"


def test_retry_while_the_daemon_sends_the_row_posts_once_and_says_it_is_taken(
    tmp_path: Path, x_server: XStandIn, x_creds: XCredentials
) -> None:
    write_tree(tmp_path, queue=queue_of(["hello"], TEXT))
    # The first attempt hits a rate limit, so the row is failed-for-now and a later pass retries it.
    x_server.inject(Fault.rate_limited(reset=int(T0.timestamp()) + 60), path="/2/tweets")
    env = clean_env(tmp_path, now=T0, x=x_creds)
    assert bot(["tick"], env, cwd=tmp_path).returncode == 0
    assert x_server.tweets == {}
    later = {**env, "BOT_NOW": (T0 + timedelta(minutes=20)).isoformat()}
    x_server.inject(Fault.gated(), path="/2/tweets")
    daemon = start_bot(["run"], later, cwd=tmp_path)
    try:
        wait_for(lambda: len(x_server.requests_to("/2/tweets")) == 2, "the daemon to send the post")
        loser = bot(["retry", KEY, "--network", "x"], later, cwd=tmp_path)
        x_server.open_gate()
        wait_for(lambda: len(x_server.tweets) == 1, "X to create the post")
        assert loser.returncode == 1
        assert "taken: another process is sending it right now" in loser.stderr + loser.stdout
        wait_for(
            lambda: json.loads(bot(["status", "--json"], later, cwd=tmp_path).stdout)["networks"]["x"][
                "sent"
            ],
            "the daemon to record the post",
        )
    finally:
        daemon.send_signal(signal.SIGTERM)
        daemon.communicate(timeout=30)
    assert len(x_server.tweets) == 1 and len(x_server.requests_to("/2/tweets")) == 2


def test_post_dry_run_says_the_card_comes_from_the_first_link_in_the_text(tmp_path: Path) -> None:
    write_tree(tmp_path)
    url = "http://127.0.0.1:9/stories/one/"  # never fetched for real: the card fetcher refuses loopback addresses
    result = bot(
        ["post", f"Read what families told us: {url}", "--dry-run"], clean_env(tmp_path, now=T0), cwd=tmp_path
    )
    assert result.returncode == 0, result.stderr
    assert f"link card (from the first link in the text): {url}" in result.stdout
