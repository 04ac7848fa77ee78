"""Crash test at scale: `kill -9` the bot at random instants, again and again, and count duplicates and losses.

    python bench/bench_crash.py [--posts 40] [--kills 30] [--seed 1]

Starts the X stand-in and the real local Bluesky PDS, queues N posts due now, then repeatedly starts
`python -m bot tick` and SIGKILLs it at a random instant (the clock moves on 2 minutes each run so the 60 s
lease of a killed claim has expired), and finishes with one uninterrupted tick. It then reads what each server
holds: every post must be there exactly once. The same property is asserted, at a smaller size, by
tests/test_e2e_bluesky.py and tests/test_e2e_x.py.
"""

from __future__ import annotations

import argparse
import random
import subprocess
import sys
import tempfile
from collections import Counter
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import httpx

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from bench.bench_tick import write_schedules  # noqa: E402
from tests.e2e_helpers import kill_at_random_point, local_servers_env  # noqa: E402
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


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--posts", type=int, default=40)
    parser.add_argument("--kills", type=int, default=30)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    tag = "crash"
    with tempfile.TemporaryDirectory() as tmp, XStandIn(X_KEYS) as x, running_pds(Path(tmp) / "pds") as pds:
        root = Path(tmp) / "bot"
        root.mkdir()
        write_schedules(root, args.posts, tag)
        for _ in range(args.posts * 10):
            x.inject(Fault.slow(0.02), path="/2/tweets")  # some latency, so kills land mid-request too
        now = datetime(2026, 12, 3, 10, 0, 30, tzinfo=ZoneInfo("America/New_York"))
        killed = finished = 0
        for _ in range(args.kills):
            stamp = now.timestamp()
            x.post_clock = lambda stamp=stamp: stamp  # X dates posts in the bot's pretended time
            proc = subprocess.Popen(
                [sys.executable, "-m", "bot", "tick"],
                env=env_for(root, x, pds, now),
                cwd=root,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
            if kill_at_random_point(proc, lambda: len(x.requests), rng, max_steps=6):
                killed += 1
            else:
                finished += 1
            now += timedelta(minutes=2)
        final = subprocess.run(
            [sys.executable, "-m", "bot", "tick"],
            env=env_for(root, x, pds, now),
            cwd=root,
            capture_output=True,
            text=True,
            check=False,
        )
        expected = {f"Bot benchmark post {i} of round {tag}. #EndSeclusion" for i in range(args.posts)}
        counted = {
            "x": Counter(t["text"] for t in x.tweets.values()),
            "bluesky": Counter(t.replace("\n", " ") for t in bluesky_texts(pds)),
        }
        x_refused_duplicates = sum(1 for r in x.requests if r.path == "/2/tweets") - len(x.tweets)
    print(
        f"{args.kills} runs: {killed} killed with SIGKILL at a random instant, {finished} finished on their own;"
        f" then one final tick (exit {final.returncode})"
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
