"""A burst of new stories through the real CLI against a feed server that honours If-None-Match (as WordPress
does), the X stand-in and the real local PDS: every story is announced once on both networks, paced over polls,
also when `kill -9` strikes at random points."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from bot.publishers.x import XCredentials
from tests.e2e_helpers import bot, clean_env, crash_ticks_then_finish, on_bot_clock
from tests.feed_fixtures import FeedServer
from tests.pds_fixtures import LocalPds
from tests.service_fixtures import SETTINGS, write_tree
from tests.test_e2e_bluesky import bluesky_env, posts_with
from tests.xserver import Fault, XStandIn

NY = ZoneInfo("America/New_York")
T0 = datetime(2026, 12, 3, 10, 0, 30, tzinfo=NY)


def rss(stories: list[int], marker: str) -> bytes:
    """Stories numbered oldest first (story n published on day n of December), newest first in the feed."""
    entries = "".join(
        f"<item><title>Story {n} of the {marker} test</title><link>https://endseclusion.org/{marker}/{n}/</link>"
        f'<guid isPermaLink="false">{marker}-{n}</guid>'
        f"<pubDate>Tue, {n + 1:02d} Dec 2026 12:00:00 +0000</pubDate></item>"
        for n in sorted(stories, reverse=True)
    )
    return (
        '<?xml version="1.0"?><rss version="2.0"><channel><title>AASR</title>'
        f"<link>https://endseclusion.org/</link><description>d</description>{entries}</channel></rss>"
    ).encode()


def settings(url: str, poll_minutes: int) -> str:
    feed = (
        f"feed:\n  url: {url}\n  max_per_poll: 3\n  poll_minutes: {poll_minutes}\n  allow_private_address: true\n"
        '  template: "{title}"\n'
    )
    return SETTINGS.replace("feed:\n  url: null\n", feed).replace("daily_post_cap: 10", "daily_post_cap: 100")


def announced(x: XStandIn, pds: LocalPds, marker: str) -> tuple[list[str], list[str]]:
    """Story titles as announced on X (in posting order) and on Bluesky."""
    on_x = [t["text"].split("\n")[0] for t in x.tweets.values() if marker in t["text"]]
    on_bluesky = [str(r["value"]["text"]).split("\n")[0] for r in posts_with(pds, marker)]  # type: ignore[index]
    return on_x, on_bluesky


def test_a_burst_of_seven_goes_out_in_three_paced_waves_on_both_networks(
    tmp_path: Path, local_pds: LocalPds, x_server: XStandIn, x_creds: XCredentials, feed_server: FeedServer
) -> None:
    marker = "burst"
    write_tree(tmp_path, settings=settings(feed_server.url, 30))
    feed_server.set_feed(rss([0], marker), headers={"ETag": '"seed"'})

    def env(now: datetime) -> dict[str, str]:
        return on_bot_clock(
            x_server, lambda t: clean_env(tmp_path, now=t, x=x_creds, bluesky=bluesky_env(local_pds))
        )(now)

    assert bot(["tick"], env(T0), cwd=tmp_path).returncode == 0  # first run: story 0 is only recorded as seen
    feed_server.set_feed(rss(list(range(8)), marker), headers={"ETag": '"burst"'})
    waves = []
    for poll in range(4):
        result = bot(["tick"], env(T0 + timedelta(minutes=30 * (poll + 1))), cwd=tmp_path)
        assert result.returncode == 0, result.stderr
        waves.append(len(announced(x_server, local_pds, marker)[0]))
        if poll == 0:
            assert "14 new posts planned" in result.stderr  # 7 stories x 2 networks: counts that add up
            status = json.loads(
                bot(["status", "--json"], env(T0 + timedelta(minutes=31)), cwd=tmp_path).stdout
            )
            pending = status["networks"]["x"]["pending"]
            dues = sorted(datetime.fromisoformat(p["due_at"]) for p in pending)
            # Four stories wait, three for the next poll and one for the one after (status shows whole seconds;
            # the stories of one poll are a millisecond apart, ending at the poll's instant).
            assert len(dues) == 4
            shown = bot(["status"], env(T0 + timedelta(minutes=31)), cwd=tmp_path).stdout
            assert shown.count("due 2026-12-03 11:00 EST  Story") == 3 * 2  # on both networks
            assert shown.count("due 2026-12-03 11:30 EST  Story") == 1 * 2
            for due, minutes in zip(dues, (60, 60, 60, 90), strict=True):
                assert timedelta(0) <= T0 + timedelta(minutes=minutes) - due <= timedelta(seconds=1)
    titles = [f"Story {n} of the {marker} test" for n in range(1, 8)]
    on_x, on_bluesky = announced(x_server, local_pds, marker)
    assert waves == [3, 6, 7, 7]
    assert on_x == titles  # once each, oldest first
    assert sorted(on_bluesky) == sorted(titles)
    # Conditional GET stayed on: after the burst was read, every poll was answered 304.
    after_burst = feed_server.requests[2:]
    assert after_burst and all(r.headers.get("if-none-match") == '"burst"' for r in after_burst)


def test_a_burst_with_kill_9_at_random_points_loses_and_duplicates_nothing(
    tmp_path: Path, local_pds: LocalPds, x_server: XStandIn, x_creds: XCredentials, feed_server: FeedServer
) -> None:
    marker = "burstcrash"
    # Polls 2 minutes apart, as the crash loop's runs are.
    write_tree(tmp_path, settings=settings(feed_server.url, 2))
    feed_server.set_feed(rss([0], marker), headers={"ETag": '"seed"'})
    extra = {"BOT_LEASE_SECONDS": "60", **bluesky_env(local_pds)}
    env_at = on_bot_clock(x_server, lambda now: clean_env(tmp_path, now=now, x=x_creds, extra=extra))
    assert bot(["tick"], env_at(T0), cwd=tmp_path).returncode == 0
    feed_server.set_feed(rss(list(range(8)), marker), headers={"ETag": '"burst"'})
    for _ in range(100):
        x_server.inject(Fault.slow(0.02), path="/2/tweets")  # some latency, so kills land mid-request too
    kills, runs, final = crash_ticks_then_finish(
        tmp_path,
        env_at,
        lambda: len(x_server.requests) + len(feed_server.requests),
        start=T0 + timedelta(minutes=2),
        seed=7,
        kills_wanted=5,
        max_runs=14,
    )
    assert final.returncode == 0, final.stderr
    # Whatever the kills left due later goes out on the following polls.
    later = T0 + timedelta(minutes=2 * (runs + 2))
    for n in range(4):
        assert bot(["tick"], env_at(later + timedelta(minutes=2 * n)), cwd=tmp_path).returncode == 0
    titles = sorted(f"Story {n} of the {marker} test" for n in range(1, 8))
    on_x, on_bluesky = announced(x_server, local_pds, marker)
    assert sorted(on_x) == titles, "X: lost or duplicated stories"
    assert sorted(on_bluesky) == titles, "Bluesky: lost or duplicated stories"
    assert kills >= 3, f"only {kills} kills in {runs} runs"
