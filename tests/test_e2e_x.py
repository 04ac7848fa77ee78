"""End to end through the real CLI (subprocesses) against local servers: the X stand-in (which checks every
request against X's OpenAPI spec and its OAuth 1.0a signature) and a feed server. Bluesky runs dry here; the
end-to-end runs against the real PDS are in test_e2e_bluesky.py."""

from __future__ import annotations

import json
import signal
import subprocess
import time
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from bot.publishers.x import XCredentials
from tests.e2e_helpers import bot, clean_env, crash_ticks_then_finish, on_bot_clock, start_bot
from tests.feed_fixtures import FeedServer
from tests.service_fixtures import IDPD, SETTINGS, queue_of, write_tree
from tests.xserver import Fault, XStandIn

NY = ZoneInfo("America/New_York")
T0 = datetime(2026, 12, 3, 10, 0, 30, tzinfo=NY)


def rss(items: list[tuple[str, str, str]]) -> bytes:
    """(guid, title, link) newest first, as WordPress writes them."""
    entries = "".join(
        f'<item><title>{title}</title><link>{link}</link><guid isPermaLink="false">{guid}</guid>'
        f"<pubDate>Tue, 0{i + 1} Dec 2026 12:00:00 +0000</pubDate></item>"
        for i, (guid, title, link) in enumerate(reversed(items))
    )
    return (
        f'<?xml version="1.0"?><rss version="2.0"><channel><title>AASR</title>'
        f"<link>https://endseclusion.org/</link><description>d</description>{entries}</channel></rss>"
    ).encode()


def settings_with_feed(url: str, extra: str = "") -> str:
    return (
        SETTINGS.replace(
            "feed:\n  url: null\n", f"feed:\n  url: {url}\n  max_per_poll: 2\n  allow_private_address: true\n"
        )
        + extra
    )


def test_tick_posts_due_post_to_x_once_and_bluesky_runs_dry(
    tmp_path: Path, x_server: XStandIn, x_creds: XCredentials
) -> None:
    write_tree(tmp_path, awareness={"idpd": IDPD})
    env = clean_env(tmp_path, now=T0, x=x_creds)
    first = bot(["tick"], env, cwd=tmp_path)
    assert first.returncode == 0, first.stderr
    assert "DRY RUN: no Bluesky credentials" in first.stderr
    assert "[dry run] bluesky: would post awareness/idpd/2026/1" in first.stdout
    texts = [t["text"] for t in x_server.tweets.values()]
    assert len(texts) == 1 and texts[0].startswith("Today is the International Day")
    # Secrets never reach the logs.
    for secret in (x_creds.api_secret, x_creds.access_token_secret, x_creds.access_token):
        assert secret not in first.stderr + first.stdout
    again = bot(["tick"], {**env, "BOT_NOW": (T0 + timedelta(minutes=5)).isoformat()}, cwd=tmp_path)
    assert again.returncode == 0, again.stderr
    assert len(x_server.tweets) == 1
    status = bot(["status", "--json"], env, cwd=tmp_path)
    data = json.loads(status.stdout)
    sent = data["networks"]["x"]["sent"]
    assert [r["key"] for r in sent] == ["awareness/idpd/2026/1"]
    assert sent[0]["url"].startswith("https://x.com/")
    assert data["x"]["posts_today"] == 1 and data["x"]["spend_today_usd"] == pytest.approx(0.015)


def test_feed_first_run_marks_seen_then_announces_new_story(
    tmp_path: Path, x_server: XStandIn, x_creds: XCredentials, feed_server: FeedServer
) -> None:
    write_tree(tmp_path, settings=settings_with_feed(feed_server.url))
    old = [
        ("p1", "Old story one", "https://endseclusion.org/old-1/"),
        ("p2", "Old story two", "https://endseclusion.org/old-2/"),
    ]
    feed_server.set_feed(rss(old), headers={"ETag": '"v1"'})
    env = clean_env(tmp_path, now=T0, x=x_creds)
    assert bot(["tick"], env, cwd=tmp_path).returncode == 0
    assert x_server.tweets == {}  # the archive is recorded as seen, never announced
    # Unchanged feed: a conditional GET answered 304.
    assert bot(["tick"], env, cwd=tmp_path).returncode == 0
    assert feed_server.requests[-1].headers.get("if-none-match") == '"v1"'
    new = [
        (
            "p3",
            "Restraint &amp; seclusion: what <em>parents</em> can do",
            "https://endseclusion.org/new/?utm_source=rss",
        )
    ]
    feed_server.set_feed(rss(old + new), headers={"ETag": '"v2"'})
    result = bot(["tick"], {**env, "BOT_NOW": (T0 + timedelta(minutes=30)).isoformat()}, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    texts = [t["text"] for t in x_server.tweets.values()]
    assert len(texts) == 1
    assert texts[0].startswith("New on endseclusion.org: Restraint & seclusion: what parents can do")
    assert "https://endseclusion.org/new/" in texts[0]
    # The same story re-dated with a new guid and without the tracking parameter is not announced again.
    redated = [("p3-edited", "Restraint and seclusion: what parents can do", "https://endseclusion.org/new/")]
    feed_server.set_feed(rss(old + redated), headers={"ETag": '"v3"'})
    assert (
        bot(["tick"], {**env, "BOT_NOW": (T0 + timedelta(hours=1)).isoformat()}, cwd=tmp_path).returncode == 0
    )
    assert len(x_server.tweets) == 1


def test_broken_feed_never_crashes_or_marks_seen(
    tmp_path: Path, x_server: XStandIn, x_creds: XCredentials, feed_server: FeedServer
) -> None:
    write_tree(tmp_path, settings=settings_with_feed(feed_server.url), awareness={"idpd": IDPD})
    feed_server.set_feed(b"<html><body>Maintenance</body></html>", headers={"Content-Type": "text/html"})
    env = clean_env(tmp_path, now=T0, x=x_creds)
    result = bot(["tick"], env, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "feed not read: " in result.stderr and "Traceback" not in result.stderr
    assert len(x_server.tweets) == 1  # the scheduled post still went out


def test_transient_errors_and_rate_limits_end_in_exactly_one_post(
    tmp_path: Path, x_server: XStandIn, x_creds: XCredentials
) -> None:
    write_tree(tmp_path, awareness={"idpd": IDPD})
    reset = int((T0 + timedelta(minutes=15)).timestamp())
    x_server.inject(Fault.server_error(503), path="/2/tweets")
    x_server.inject(Fault.dropped(), path="/2/tweets")
    x_server.inject(Fault.server_error(500), path="/2/tweets")
    env = clean_env(tmp_path, now=T0, x=x_creds)
    first = bot(["tick"], env, cwd=tmp_path)
    assert first.returncode == 0, first.stderr
    assert x_server.tweets == {} and "will retry" in first.stderr
    x_server.inject(Fault.rate_limited(reset, day_reset=reset + 3600, day_remaining=0), path="/2/tweets")
    second = bot(["tick"], {**env, "BOT_NOW": (T0 + timedelta(minutes=10)).isoformat()}, cwd=tmp_path)
    assert "rate limited" in second.stderr
    assert x_server.tweets == {}
    # Before the 24-hour reset nothing is sent; after it, the post goes out once.
    bot(["tick"], {**env, "BOT_NOW": (T0 + timedelta(minutes=20)).isoformat()}, cwd=tmp_path)
    assert x_server.tweets == {}
    later = datetime.fromtimestamp(reset + 3601, tz=NY)
    third = bot(["tick"], {**env, "BOT_NOW": later.isoformat()}, cwd=tmp_path)
    assert third.returncode == 0, third.stderr
    assert len(x_server.tweets) == 1


def test_post_command_one_line_refusals(tmp_path: Path, x_server: XStandIn, x_creds: XCredentials) -> None:
    write_tree(tmp_path)
    env = clean_env(tmp_path, now=T0, x=x_creds)
    ok = bot(["post", "Hello from the test", "--network", "x"], env, cwd=tmp_path)
    assert ok.returncode == 0, ok.stderr
    assert ok.stdout.startswith("x: posted https://x.com/")
    dup = bot(["post", "Hello from the test", "--network", "x"], env, cwd=tmp_path)
    assert dup.returncode == 1
    assert dup.stderr.strip().count("\n") == 0 and "duplicate" in dup.stderr
    reset = int((T0 + timedelta(minutes=15)).timestamp())
    x_server.inject(Fault.rate_limited(reset), path="/2/tweets")
    limited = bot(["post", "Another post", "--network", "x"], env, cwd=tmp_path)
    assert limited.returncode == 1 and "resets at" in limited.stderr
    assert limited.stderr.strip().count("\n") == 0
    dry = bot(["post", "Dry text", "--dry-run"], env, cwd=tmp_path)
    assert dry.returncode == 0 and "[dry run] x: would post" in dry.stdout
    assert len(x_server.tweets) == 1


def test_check_reports_each_network(tmp_path: Path, x_server: XStandIn, x_creds: XCredentials) -> None:
    write_tree(tmp_path)
    result = bot(["check"], clean_env(tmp_path, x=x_creds), cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "x: OK: posting will work as @EndSeclusionBot" in result.stdout
    assert "bluesky: not configured" in result.stdout
    bad = XCredentials(
        x_creds.api_key, "wrong-secret", x_creds.access_token, x_creds.access_token_secret, x_creds.base_url
    )
    failed = bot(["check"], clean_env(tmp_path, x=bad), cwd=tmp_path)
    assert failed.returncode == 1 and "x: FAILED" in failed.stdout
    assert "wrong-secret" not in failed.stdout + failed.stderr
    x_server.auth_failures.clear()


def test_kill_9_at_random_points_never_duplicates_or_loses(
    tmp_path: Path, x_server: XStandIn, x_creds: XCredentials
) -> None:
    """Crash the bot mid-pass again and again; in the end every post is on X exactly once."""
    total = 24
    queue = queue_of([f"crash-{i}" for i in range(total)], f"Crash test post number {{i}} of {total}.")
    write_tree(tmp_path, queue=queue, settings=SETTINGS.replace("daily_post_cap: 10", "daily_post_cap: 100"))
    for _ in range(400):
        x_server.inject(Fault.slow(0.02), path="/2/tweets")
    extra = {"BOT_LEASE_SECONDS": "60"}
    kills, rounds, final = crash_ticks_then_finish(
        tmp_path,
        on_bot_clock(x_server, lambda now: clean_env(tmp_path, now=now, x=x_creds, extra=extra)),
        lambda: len(x_server.requests),
        start=T0,
        seed=20261203,
    )
    assert final.returncode == 0, final.stderr
    texts = [t["text"] for t in x_server.tweets.values()]
    expected = {f"Crash test post number {i} of {total}." for i in range(total)}
    assert sorted(texts) == sorted(expected), "lost or duplicated posts"
    assert kills >= 5, f"only {kills} kills in {rounds} runs"
    status = json.loads(
        bot(["status", "--json"], clean_env(tmp_path, now=T0 + timedelta(hours=1)), cwd=tmp_path).stdout
    )
    assert status["counts"]["sent"] == total
    assert status["counts"]["sending"] == status["counts"]["pending"] == status["counts"]["failed"] == 0


def read_until(proc: subprocess.Popen[str], marker: str) -> list[str]:
    """stderr lines of ``proc`` up to the first containing ``marker`` (the daemon logs each step)."""
    assert proc.stderr is not None
    lines = []
    for line in proc.stderr:
        lines.append(line)
        if marker in line:
            return lines
    raise AssertionError(f"{marker!r} never logged:\n" + "".join(lines))


def test_run_daemon_reloads_on_sighup_and_stops_cleanly_on_sigterm(tmp_path: Path) -> None:
    write_tree(tmp_path, awareness={"idpd": IDPD})
    proc = start_bot(["run"], clean_env(tmp_path), cwd=tmp_path)
    try:
        read_until(proc, "aasr-bot running")
        proc.send_signal(signal.SIGHUP)
        read_until(proc, "schedules reloaded")
        started = time.monotonic()
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=15)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode == 0, err
    assert time.monotonic() - started < 5
    assert "SIGTERM: stopping" in err and "stopped" in err
