"""Benchmark: wall time and peak resident memory of `validate`, `tick --dry-run` and `changes` on every hostile
input case (tests/data/hostile/), each a subprocess measured with wait4's rusage, plus the feed against a server
that drips one byte every 20 ms (the deadline set to 2 s) and a link card whose page drips its headers.

    python bench/bench_hostile.py
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bot.errors import FeedError
from bot.feed import fetch_feed, make_client
from bot.fetch import Fetcher
from bot.linkcard import fetch_card
from tests.hostile_cases import build_tree, cases, environment, run_bot
from tests.hostile_servers import HostileServer


def main() -> None:
    print(f"{'case':<28} {'validate s/MB':>14} {'tick s/MB':>14} {'changes s/MB':>14}")
    worst_s, worst_mb = 0.0, 0.0
    for case in cases():
        with tempfile.TemporaryDirectory() as folder:
            root = build_tree(Path(folder), case)
            env = environment(root)
            (root / "base").mkdir()
            runs = [
                run_bot(["validate"], env, root),
                run_bot(["tick", "--dry-run", "--rehearsal-ledger", str(root / "r.sqlite3")], env, root),
                run_bot(["changes", "--base", str(root / "base")], env, root),
            ]
        cells = [f"{r.seconds:6.2f}/{r.max_rss_mb:5.0f}" for r in runs]
        worst_s = max(worst_s, *(r.seconds for r in runs))
        worst_mb = max(worst_mb, *(r.max_rss_mb for r in runs))
        print(f"{case.name:<28} {cells[0]:>14} {cells[1]:>14} {cells[2]:>14}")
    print(f"worst: {worst_s:.2f} s, {worst_mb:.0f} MB peak RSS")
    for drip in ("headers", "body"):
        with HostileServer(drip=drip, drip_for=10_000) as server, make_client(allow_private=True) as client:
            started = time.monotonic()
            try:
                fetch_feed(server.url, client, deadline=2.0)
            except FeedError as exc:
                outcome = str(exc)[:60]
            print(
                f"feed, {drip} drip, deadline 2 s: gave up after {time.monotonic() - started:.2f} s ({outcome})"
            )
    with HostileServer(drip="headers", drip_for=10_000) as server:
        started = time.monotonic()
        card = fetch_card(server.url, Fetcher(allow_addresses=frozenset({("127.0.0.1", server.port)})))
        print(f"link card, header drip, 10 s budget: {card} after {time.monotonic() - started:.2f} s")


if __name__ == "__main__":
    main()
