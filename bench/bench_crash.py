"""Crash test at scale: `kill -9` the bot at random instants, again and again, and count duplicates and losses.

    python bench/bench_crash.py [--case queue|feed-burst] [--posts 40] [--kills 30] [--seed 1]

Starts the X stand-in and the real local Bluesky PDS, then repeatedly starts `python -m bot tick` and SIGKILLs
it at a random instant (the clock moves on 2 minutes each run so the 60 s lease of a killed claim has expired),
and finishes with uninterrupted ticks. It then reads what each server holds: every post must be there exactly
once. ``queue``: N queued posts due now. ``feed-burst``: a feed server that answers If-None-Match with 304 (as
WordPress does) is seeded with one story, then publishes N new ones at once; with ``max_per_poll: 3`` and polls
2 minutes apart they are paced over many polls, so kills land in polls, in sends and between waves. The same
properties are asserted, at a smaller size, by tests/test_e2e_bluesky.py, tests/test_e2e_x.py and
tests/test_e2e_feed_burst.py.
"""

from __future__ import annotations

import argparse
import random
import subprocess
import sys
import tempfile
from collections import Counter
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import httpx

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from bench.bench_tick import write_schedules  # noqa: E402
from tests.e2e_helpers import kill_at_random_point, local_servers_env  # noqa: E402
from tests.feed_fixtures import FeedServer  # noqa: E402
from tests.pds_fixtures import LocalPds, running_pds  # noqa: E402
from tests.x_fixtures import X_KEYS  # noqa: E402
from tests.xserver import Fault, XStandIn  # noqa: E402


def env_for(root: Path, x: XStandIn, pds: LocalPds, now: datetime) -> dict[str, str]:
    return local_servers_env(
        root, x_url=x.url, pds=pds, now=now, extra={"BOT_LEASE_SECONDS": "60", "LOG_LEVEL": "WARNING"}
    )


def bluesky_texts(pds: LocalPds) -> list[str]:
    texts, cursor = [], None
    while True:
        params: dict[str, str | int] = {"repo": pds.did, "collection": "app.bsky.feed.post", "limit": 100}
        if cursor:
            params["cursor"] = cursor
        page = httpx.get(f"{pds.direct}/xrpc/com.atproto.repo.listRecords", params=params, timeout=10).json()
        texts += [r["value"]["text"] for r in page["records"]]
        cursor = page.get("cursor")
        if not cursor or not page["records"]:
            return texts


STORY = "Story {n} of the burst"
FEED_SETTINGS = """feed:
  url: {url}
  poll_minutes: 2
  max_per_poll: 3
  allow_private_address: true
  template: "{{title}}"
"""


PUBLISHED = datetime(2026, 11, 1, 12, tzinfo=ZoneInfo("UTC"))


def fixed_clock(now: datetime) -> Callable[[], float]:
    stamp = now.timestamp()
    return lambda: stamp


def burst_rss(stories: list[int]) -> bytes:
    """Stories numbered oldest first, newest first in the feed (as WordPress writes it)."""
    entries = "".join(
        f"<item><title>{STORY.format(n=n)}</title><link>https://endseclusion.org/burst/{n}/</link>"
        f'<guid isPermaLink="false">burst-{n}</guid>'
        f"<pubDate>{PUBLISHED + timedelta(hours=n):%a, %d %b %Y %H:%M:%S +0000}</pubDate></item>"
        for n in sorted(stories, reverse=True)
    )
    return (
        '<?xml version="1.0"?><rss version="2.0"><channel><title>AASR</title>'
        f"<link>https://endseclusion.org/</link><description>d</description>{entries}</channel></rss>"
    ).encode()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--posts", type=int, default=40)
    parser.add_argument("--kills", type=int, default=30)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--case", choices=("queue", "feed-burst"), default="queue")
    args = parser.parse_args()
    rng = random.Random(args.seed)
    tag = "crash"
    with (
        tempfile.TemporaryDirectory() as tmp,
        XStandIn(X_KEYS) as x,
        running_pds(Path(tmp) / "pds") as pds,
        FeedServer() as feed,
    ):
        root = Path(tmp) / "bot"
        root.mkdir()
        now = datetime(2026, 12, 3, 10, 0, 30, tzinfo=ZoneInfo("America/New_York"))
        if args.case == "queue":
            write_schedules(root, args.posts, tag)
            expected = {f"Bot benchmark post {i} of round {tag}. #EndSeclusion" for i in range(args.posts)}
        else:
            write_schedules(root, 0, tag)
            (root / "schedules" / "queue" / "bench.yaml").unlink()
            settings = root / "schedules" / "settings.yaml"
            settings.write_text(
                settings.read_text().replace("feed:\n  url: null\n", FEED_SETTINGS.format(url=feed.url))
            )
            feed.set_feed(burst_rss([0]), headers={"ETag": '"seed"'})
            x.post_clock = fixed_clock(now)
            subprocess.run(
                [sys.executable, "-m", "bot", "tick"],
                env=env_for(root, x, pds, now),
                cwd=root,
                check=True,
                capture_output=True,
            )  # the first poll only records the story already there as seen
            feed.set_feed(burst_rss(list(range(args.posts + 1))), headers={"ETag": '"burst"'})
            now += timedelta(minutes=2)
            expected = {
                f"{STORY.format(n=n)} https://endseclusion.org/burst/{n}/" for n in range(1, args.posts + 1)
            }
        for _ in range(args.posts * 10):
            x.inject(Fault.slow(0.02), path="/2/tweets")  # some latency, so kills land mid-request too
        killed = finished = 0
        for _ in range(args.kills):
            x.post_clock = fixed_clock(now)  # X dates posts in the bot's pretended time
            proc = subprocess.Popen(
                [sys.executable, "-m", "bot", "tick"],
                env=env_for(root, x, pds, now),
                cwd=root,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
            if kill_at_random_point(proc, lambda: len(x.requests) + len(feed.requests), rng, max_steps=6):
                killed += 1
            else:
                finished += 1
            now += timedelta(minutes=2)
        # Uninterrupted ticks, a poll apart, until the last paced wave is due.
        for _ in range(1 + (args.posts // 3 if args.case == "feed-burst" else 0)):
            x.post_clock = fixed_clock(now)
            final = subprocess.run(
                [sys.executable, "-m", "bot", "tick"],
                env=env_for(root, x, pds, now),
                cwd=root,
                capture_output=True,
                text=True,
                check=False,
            )
            now += timedelta(minutes=2)
        counted = {
            "x": Counter(t["text"] for t in x.tweets.values()),
            "bluesky": Counter(t.replace("\n", " ") for t in bluesky_texts(pds)),
        }
        x_refused_duplicates = sum(1 for r in x.requests if r.path == "/2/tweets") - len(x.tweets)
    print(f"case {args.case}: {args.posts} {'stories' if args.case == 'feed-burst' else 'queued posts'}")
    print(
        f"{args.kills} runs: {killed} killed with SIGKILL at a random instant, {finished} finished on their own;"
        f" then uninterrupted ticks (last exit {final.returncode})"
    )
    for network, seen in counted.items():
        normalised = Counter({" ".join(k.split()): v for k, v in seen.items()})
        dupes = sum(v - 1 for v in normalised.values() if v > 1)
        lost = len([e for e in expected if normalised.get(" ".join(e.split()), 0) == 0])
        print(
            f"  {network:8} {sum(normalised.values())} posts for {args.posts} items: {dupes} duplicates, {lost} lost"
        )
    print(
        f"  X re-sends refused as duplicates (confirming a send cut short by a kill): {x_refused_duplicates}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
