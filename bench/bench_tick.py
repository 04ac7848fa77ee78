"""Benchmark: `tick` publishing N due posts to the local servers, against a bare script making the same SDK calls.

    python bench/bench_tick.py [--posts 50] [--rounds 2]

Starts the X stand-in (tests/xserver.py, needs ../shared/reference) and the real local Bluesky PDS
(tests/pds, installed on first use), writes N queued posts due now, and times, as subprocesses from process start
to exit:

* ``bot``:  ``python -m bot tick`` (loads schedules, opens the ledger, claims/records every post, both networks);
* ``bare``: a script that only logs in to Bluesky once and calls ``tweepy.Client.create_tweet`` and atproto's
  ``send_post`` (with the same hashtag facets) N times each.

It also counts the HTTP requests each network received per post. Target: bot within 1.25x of bare.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import textwrap
import time
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from tests.e2e_helpers import local_servers_env  # noqa: E402
from tests.pds_fixtures import LocalPds, running_pds  # noqa: E402
from tests.x_fixtures import X_KEYS  # noqa: E402
from tests.xserver import XStandIn  # noqa: E402

BARE = """
import sys, tweepy
from atproto import Client, client_utils
from bot.publishers.x import _XSession  # only to route tweepy to the stand-in, as the bot does
x_url, pds_url, handle, password, n, tag, did = sys.argv[1:8]
x = tweepy.Client(consumer_key={ck!r}, consumer_secret={cs!r}, access_token={at!r},
                  access_token_secret={ats!r}, return_type=dict)
x.session = _XSession(x_url, 20.0)
bsky = Client(base_url=pds_url)
bsky.login(handle, password, fetch_bsky_profile=False)
for i in range(int(n)):
    text = f"Bare benchmark post {{i}} of round {{tag}}."
    x.create_tweet(text=text + " #EndSeclusion")
    builder = client_utils.TextBuilder().text(text + " ").tag("#EndSeclusion", "EndSeclusion")
    bsky.send_post(builder, langs=["en"], profile_identify=did)
"""


def write_schedules(root: Path, n: int, tag: str) -> None:
    schedules = root / "schedules"
    (schedules / "queue").mkdir(parents=True)
    (root / "content").mkdir()
    (schedules / "settings.yaml").write_text(
        textwrap.dedent("""\
        timezone: America/New_York
        networks: [x, bluesky]
        feed:
          url: null
        x:
          daily_post_cap: 1000
          monthly_budget_usd: 1000
        """)
    )
    posts = "".join(
        f'  - id: bench-{tag}-{i}\n    at: "2026-12-03 10:00"\n'
        f"    text: Bot benchmark post {i} of round {tag}.\n    hashtags: [EndSeclusion]\n"
        for i in range(n)
    )
    (schedules / "queue" / "bench.yaml").write_text("posts:\n" + posts)


def run_bot(root: Path, x: XStandIn, pds: LocalPds) -> float:
    now = datetime(2026, 12, 3, 10, 0, 30, tzinfo=ZoneInfo("America/New_York"))
    env = local_servers_env(root, x_url=x.url, pds=pds, now=now, extra={"LOG_LEVEL": "WARNING"})
    start = time.perf_counter()
    result = subprocess.run(
        [sys.executable, "-m", "bot", "tick"], env=env, cwd=root, capture_output=True, text=True, check=False
    )
    elapsed = time.perf_counter() - start
    if result.returncode != 0:
        raise SystemExit(f"tick failed:\n{result.stderr[-3000:]}")
    return elapsed


def run_bare(x: XStandIn, pds: LocalPds, n: int, tag: str) -> float:
    code = BARE.format(
        ck=X_KEYS.consumer_key, cs=X_KEYS.consumer_secret, at=X_KEYS.token, ats=X_KEYS.token_secret
    )
    start = time.perf_counter()
    result = subprocess.run(
        [sys.executable, "-c", code, x.url, pds.url, pds.handle, pds.password, str(n), tag, pds.did],
        capture_output=True,
        text=True,
        cwd=REPO,
        check=False,
        env={**os.environ, "PYTHONPATH": str(REPO)},
    )
    elapsed = time.perf_counter() - start
    if result.returncode != 0:
        raise SystemExit(f"bare script failed:\n{result.stderr[-3000:]}")
    return elapsed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--posts", type=int, default=50)
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    n = args.posts
    with tempfile.TemporaryDirectory() as tmp, XStandIn(X_KEYS) as x, running_pds(Path(tmp)) as pds:
        bot_times, bare_times = [], []
        x_requests: list[float] = []
        pds_requests: list[float] = []
        for round_no in range(args.rounds):
            tag = f"{round_no}-{datetime.now(UTC):%H%M%S%f}"
            root = Path(tmp) / f"bot-{round_no}"
            root.mkdir()
            write_schedules(root, n, tag)
            x_before, pds_before = len(x.requests), sum(pds.counts().values())
            bot_times.append(run_bot(root, x, pds))
            x_requests.append((len(x.requests) - x_before) / n)
            pds_requests.append((sum(pds.counts().values()) - pds_before) / n)
            bare_times.append(run_bare(x, pds, n, tag))
        if x.errors:
            raise SystemExit("the X stand-in refused requests: " + "; ".join(x.errors[:3]))
    best_bot, best_bare = min(bot_times), min(bare_times)
    print(f"{n} posts to X and Bluesky, {args.rounds} rounds (process start to exit, best of rounds)")
    print(
        f"  bot tick:     {best_bot:6.2f} s  ({1000 * best_bot / n:.0f} ms per post, both networks)"
        f"   all: {', '.join(f'{t:.2f}' for t in bot_times)}"
    )
    print(
        f"  bare script:  {best_bare:6.2f} s  ({1000 * best_bare / n:.0f} ms per post)"
        f"   all: {', '.join(f'{t:.2f}' for t in bare_times)}"
    )
    print(f"  ratio bot/bare: {best_bot / best_bare:.2f}x (target <= 1.25x)")
    print(
        f"  requests per post: X {sum(x_requests) / len(x_requests):.2f}, "
        f"Bluesky PDS {sum(pds_requests) / len(pds_requests):.2f} (includes the one login per process)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
