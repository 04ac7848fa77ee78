"""End to end through the real CLI against a real Bluesky PDS on loopback and the X stand-in: both networks at
once, session reuse across processes, and kill -9 at random points with exactly-once on both."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from bot.publishers.x import XCredentials
from tests.e2e_helpers import bot, clean_env, crash_ticks_then_finish, on_bot_clock
from tests.pds_fixtures import LocalPds
from tests.service_fixtures import SETTINGS, queue_of, write_tree
from tests.xserver import Fault, XStandIn

NY = ZoneInfo("America/New_York")


def bluesky_env(pds: LocalPds) -> dict[str, str]:
    return {"BLUESKY_SERVICE": pds.url, "BLUESKY_HANDLE": pds.handle, "BLUESKY_APP_PASSWORD": pds.password}


def posts_with(pds: LocalPds, marker: str) -> list[dict[str, object]]:
    records = []
    cursor = None
    while True:
        import httpx

        params: dict[str, str | int] = {"repo": pds.did, "collection": "app.bsky.feed.post", "limit": 100}
        if cursor:
            params["cursor"] = cursor
        page = httpx.get(f"{pds.direct}/xrpc/com.atproto.repo.listRecords", params=params, timeout=10).json()
        records += [r for r in page["records"] if marker in r["value"]["text"]]
        cursor = page.get("cursor")
        if not cursor or not page["records"]:
            return records


def test_tick_posts_to_both_networks_with_facets_and_reuses_the_session(
    tmp_path: Path, local_pds: LocalPds, x_server: XStandIn, x_creds: XCredentials
) -> None:
    marker = "e2e-both"
    queue = f"""\
    posts:
      - id: both
        at: "2026-12-03 10:00"
        text: Families can ask for change ({marker}). Read our sample letters.
        link: https://endseclusion.org/resources/sample-letters/
        hashtags: [EndSeclusion]
    """
    write_tree(tmp_path, queue=queue)
    env = clean_env(
        tmp_path, now=datetime(2026, 12, 3, 10, 1, tzinfo=NY), x=x_creds, bluesky=bluesky_env(local_pds)
    )
    sessions_before = local_pds.counts().get("/xrpc/com.atproto.server.createSession", 0)
    first = bot(["tick"], env, cwd=tmp_path)
    assert first.returncode == 0, first.stderr
    records = posts_with(local_pds, marker)
    assert len(records) == 1
    record = records[0]["value"]
    assert isinstance(record, dict)
    text = record["text"]
    encoded = text.encode()
    slices = {
        encoded[f["index"]["byteStart"] : f["index"]["byteEnd"]].decode(): f["features"][0]["$type"]
        for f in record["facets"]
    }
    assert slices["https://endseclusion.org/resources/sample-letters/"] == "app.bsky.richtext.facet#link"
    assert slices["#EndSeclusion"] == "app.bsky.richtext.facet#tag"
    assert record["langs"] == ["en"]
    assert [t["text"] for t in x_server.tweets.values()] == [text]
    status = json.loads(bot(["status", "--json"], env, cwd=tmp_path).stdout)
    url = status["networks"]["bluesky"]["sent"][0]["url"]
    assert url.startswith(f"https://bsky.app/profile/{local_pds.handle}/post/")
    # The first process logged in once; the next ones reuse the stored session.
    sessions_after_first = local_pds.counts().get("/xrpc/com.atproto.server.createSession", 0)
    assert sessions_after_first - sessions_before == 1
    for minutes in (5, 10):
        later = bot(
            ["tick"],
            {**env, "BOT_NOW": datetime(2026, 12, 3, 10, minutes, tzinfo=NY).isoformat()},
            cwd=tmp_path,
        )
        assert later.returncode == 0, later.stderr
    check = bot(["check"], env, cwd=tmp_path)
    assert f"bluesky: OK: posting will work as @{local_pds.handle}" in check.stdout
    assert local_pds.counts().get("/xrpc/com.atproto.server.createSession", 0) == sessions_after_first
    assert len(posts_with(local_pds, marker)) == 1 and len(x_server.tweets) == 1
    assert local_pds.password not in first.stderr + first.stdout


def test_kill_9_at_random_points_on_both_networks(
    tmp_path: Path, local_pds: LocalPds, x_server: XStandIn, x_creds: XCredentials
) -> None:
    marker = "crash-both"
    total = 16
    queue = queue_of([f"{marker}-{i}" for i in range(total)], f"Post {{i}} of {total} in the {marker} test.")
    write_tree(tmp_path, queue=queue, settings=SETTINGS.replace("daily_post_cap: 10", "daily_post_cap: 100"))
    for _ in range(300):
        x_server.inject(Fault.slow(0.02), path="/2/tweets")
    extra = {"BOT_LEASE_SECONDS": "60", **bluesky_env(local_pds)}
    kills, rounds, final = crash_ticks_then_finish(
        tmp_path,
        on_bot_clock(x_server, lambda now: clean_env(tmp_path, now=now, x=x_creds, extra=extra)),
        lambda: len(x_server.requests),
        start=datetime(2026, 12, 3, 10, 0, 30, tzinfo=NY),
        seed=3122026,
    )
    assert final.returncode == 0, final.stderr
    expected = sorted(f"Post {i} of {total} in the {marker} test." for i in range(total))
    on_bluesky = sorted(str(r["value"]["text"]) for r in posts_with(local_pds, marker))  # type: ignore[index]
    on_x = sorted(t["text"] for t in x_server.tweets.values() if marker in t["text"])
    assert on_bluesky == expected, "Bluesky: lost or duplicated posts"
    assert on_x == expected, "X: lost or duplicated posts"
    assert kills >= 5, f"only {kills} kills in {rounds} runs"
