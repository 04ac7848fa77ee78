"""kill -9 at random points while threads go out on both networks (the real local PDS and the X stand-in):
afterwards every part is posted exactly once, in order, each a reply to the part before it (no orphan reply,
no part without its parent)."""

from __future__ import annotations

import itertools
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from bot.publishers.x import XCredentials
from tests.e2e_helpers import clean_env, crash_ticks_then_finish, on_bot_clock
from tests.pds_fixtures import LocalPds
from tests.service_fixtures import SETTINGS, write_tree
from tests.test_threads import bluesky_env, records_with
from tests.xserver import Fault, XStandIn

NY = ZoneInfo("America/New_York")
THREADS = 3
PARTS = 4


def crash_queue(marker: str) -> str:
    lines = ["posts:"]
    for t in range(THREADS):
        lines += [f"  - id: {marker}-{t}", '    at: "2026-12-03 10:00"', "    thread:"]
        lines += [f"      - text: {marker} thread {t} part {n} of {PARTS}." for n in range(1, PARTS + 1)]
    return "\n".join(lines) + "\n"


def place(text: str) -> tuple[int, int]:
    words = text.split()
    return int(words[2]), int(words[4])


def test_kill_9_at_random_points_during_threads_on_both_networks(
    tmp_path: Path, local_pds: LocalPds, x_server: XStandIn, x_creds: XCredentials
) -> None:
    marker = "crashthread"
    write_tree(
        tmp_path,
        queue=crash_queue(marker),
        settings=SETTINGS.replace("daily_post_cap: 10", "daily_post_cap: 100"),
    )
    for _ in range(300):
        x_server.inject(Fault.slow(0.02), path="/2/tweets")
    extra = {"BOT_LEASE_SECONDS": "60", **bluesky_env(local_pds)}
    kills, runs, final = crash_ticks_then_finish(
        tmp_path,
        on_bot_clock(x_server, lambda now: clean_env(tmp_path, now=now, x=x_creds, extra=extra)),
        lambda: len(x_server.requests),
        start=datetime(2026, 12, 3, 10, 0, 30, tzinfo=NY),
        seed=13122026,
        kills_wanted=6,
        max_runs=14,
    )
    assert final.returncode == 0, final.stderr
    print(f"threads crash test: {kills} kills in {runs} runs, then one clean tick")
    expected = [(t, n) for t in range(THREADS) for n in range(1, PARTS + 1)]
    # Bluesky: every part once; each part replies to the part before it, in the thread of its first part.
    records = sorted(records_with(local_pds, marker), key=lambda r: place(r["value"]["text"]))
    assert [place(r["value"]["text"]) for r in records] == expected, "Bluesky: lost or duplicated parts"
    for t in range(THREADS):
        thread = records[t * PARTS : (t + 1) * PARTS]
        assert thread[0]["value"].get("reply") is None
        for before, record in itertools.pairwise(thread):
            reply = record["value"]["reply"]
            assert (reply["parent"]["uri"], reply["parent"]["cid"]) == (before["uri"], before["cid"])
            assert (reply["root"]["uri"], reply["root"]["cid"]) == (thread[0]["uri"], thread[0]["cid"])
    # X: every part once, each in reply to the part before it.
    tweets = sorted(
        ((i, tw) for i, tw in x_server.tweets.items() if marker in tw["text"]),
        key=lambda it: place(it[1]["text"]),
    )
    assert [place(tw["text"]) for _, tw in tweets] == expected, "X: lost or duplicated parts"
    for t in range(THREADS):
        thread = tweets[t * PARTS : (t + 1) * PARTS]
        assert thread[0][1]["reply_to"] is None
        for (before_id, _), (_, tweet) in itertools.pairwise(thread):
            assert tweet["reply_to"] == before_id
    assert kills >= 5, f"only {kills} kills in {runs} runs"
