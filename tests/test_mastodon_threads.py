"""Threads on Mastodon (mastodon-mock): the chain through ``in_reply_to_id`` beside Bluesky and X, and kill -9 at
random points during threads on all three networks: every part once, in order, each replying to the part before."""

from __future__ import annotations

import itertools
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from tests.e2e_helpers import bot, clean_env, crash_ticks_then_finish, on_bot_clock
from tests.mastodon_fixtures import mastodon_server
from tests.service_fixtures import SETTINGS, write_tree
from tests.test_mastodon import mastodon_env, plain_text, reader

__all__ = ["mastodon_server"]  # the fixture, used by name

NY = ZoneInfo("America/New_York")


def thread_queue(ident: str, marker: str, parts: int = 4) -> str:
    lines = [f"  - id: {ident}\n", '    at: "2026-12-03 10:00"\n', "    thread:\n"]
    for n in range(1, parts + 1):
        lines.append(f"      - text: Part {n} of the {marker} thread about safe schools.\n")
    return "".join(lines)


THREE = SETTINGS.replace("networks: [x, bluesky]", "networks: [x, bluesky, mastodon]").replace(
    "daily_post_cap: 10", "daily_post_cap: 100"
)


def mastodon_chain(server: Any, marker: str) -> list[Any]:
    client = reader(server)
    me = client.account_verify_credentials()
    found = [
        s for s in client.account_statuses(me.id, limit=40) if f"the {marker} thread" in plain_text(s.content)
    ]
    return sorted(found, key=lambda s: int(plain_text(s.content).split()[1]))


def assert_mastodon_chain(statuses: list[Any], parts: int) -> None:
    assert [int(plain_text(s.content).split()[1]) for s in statuses] == list(range(1, parts + 1)), (
        "lost or twice"
    )
    assert statuses[0].in_reply_to_id is None
    for before, part in itertools.pairwise(statuses):
        assert str(part.in_reply_to_id) == str(before.id), "in_reply_to_id is the part before"


def test_a_thread_on_all_three_networks(
    tmp_path: Path, mastodon_server: Any, request: pytest.FixtureRequest
) -> None:
    x_server = request.getfixturevalue("x_server")
    x_creds = request.getfixturevalue("x_creds")
    local_pds = request.getfixturevalue("local_pds")
    from tests.test_e2e_bluesky import bluesky_env

    marker = "three-chain"
    write_tree(tmp_path, queue="posts:\n" + thread_queue("three", marker), settings=THREE)
    extra = {**bluesky_env(local_pds), **mastodon_env(mastodon_server)}
    env = clean_env(tmp_path, now=datetime(2026, 12, 3, 10, 1, tzinfo=NY), x=x_creds, extra=extra)
    result = bot(["tick"], env, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert_mastodon_chain(mastodon_chain(mastodon_server, marker), 4)
    assert len([t for t in x_server.tweets.values() if marker in t["text"]]) == 4


def test_kill_9_at_random_points_during_threads_on_all_three_networks(
    tmp_path: Path, mastodon_server: Any, request: pytest.FixtureRequest
) -> None:
    x_server = request.getfixturevalue("x_server")
    x_creds = request.getfixturevalue("x_creds")
    local_pds = request.getfixturevalue("local_pds")
    from tests.test_e2e_bluesky import bluesky_env
    from tests.xserver import Fault

    threads, parts = 2, 4
    markers = [f"crash-three-thread-{i}" for i in range(threads)]
    queue = "posts:\n" + "".join(thread_queue(f"m{i}", m, parts) for i, m in enumerate(markers))
    write_tree(tmp_path, queue=queue, settings=THREE)
    for _ in range(300):
        x_server.inject(Fault.slow(0.02), path="/2/tweets")
    extra = {"BOT_LEASE_SECONDS": "60", **bluesky_env(local_pds), **mastodon_env(mastodon_server)}
    kills, runs, final = crash_ticks_then_finish(
        tmp_path,
        on_bot_clock(x_server, lambda now: clean_env(tmp_path, now=now, x=x_creds, extra=extra)),
        lambda: len(x_server.requests),
        start=datetime(2026, 12, 3, 10, 0, 30, tzinfo=NY),
        seed=3122028,
        kills_wanted=6,
        max_runs=16,
    )
    assert final.returncode == 0, final.stderr
    for marker in markers:
        assert_mastodon_chain(mastodon_chain(mastodon_server, marker), parts)
    assert kills >= 5, f"only {kills} kills in {runs} runs"
    print(
        f"three-network threads crash run: {kills} kills in {runs} runs, {threads}x{parts} parts: all once, in order"
    )
