"""Threads: ``thread:`` in schedules (validated part by part at each part's own line), one ledger row per part,
parts sent in order through the one delivery path, each a reply to the part before it; a failed part holds the
rest of that network's thread (not the other networks'), ``status`` says where, ``retry`` resumes.

End to end against the real local PDS (the chain read back from the repository) and the X stand-in (requests
checked against X's OpenAPI spec)."""

from __future__ import annotations

import itertools
import json
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx

from bot.models import Receipt
from bot.planner import due_between
from bot.publishers.x import XCredentials
from bot.schedules import load_schedules
from bot.service import Service
from bot.store import Ledger
from tests.e2e_helpers import bot, clean_env
from tests.pds_fixtures import LocalPds
from tests.service_fixtures import SETTINGS, FakePublisher, load_tree, write_tree
from tests.xserver import Fault, XStandIn

NY = ZoneInfo("America/New_York")
T0 = datetime(2026, 12, 3, 10, 0, 30, tzinfo=NY)
ITEM = "queue/idpd-thread"
NETWORKS = ("x", "bluesky")


def thread_queue(marker: str, *, parts: int = 4, ident: str = "idpd-thread") -> str:
    """A queued 4-part thread. Tests on the shared PDS give it their own ``ident``: Bluesky's record keys derive
    from the item key and due time, so one key in two tests would find the other test's records."""
    lines = [
        "posts:",
        f"  - id: {ident}",
        '    at: "2026-12-03 10:00"',
        "    hashtags: [IDPD]",
        "    link: https://endseclusion.org/",
        "    thread:",
    ]
    for n in range(1, parts + 1):
        lines.append(f"      - text: Part {n} of the {marker} thread about safe schools.")
        if n == 3:
            lines.append("        hashtags: [EndSeclusion]")
    return "\n".join(lines) + "\n"


def bluesky_env(pds: LocalPds) -> dict[str, str]:
    return {"BLUESKY_SERVICE": pds.url, "BLUESKY_HANDLE": pds.handle, "BLUESKY_APP_PASSWORD": pds.password}


def records_with(pds: LocalPds, marker: str) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    cursor = None
    while True:
        params: dict[str, str | int] = {"repo": pds.did, "collection": "app.bsky.feed.post", "limit": 100}
        if cursor:
            params["cursor"] = cursor
        page = httpx.get(f"{pds.direct}/xrpc/com.atproto.repo.listRecords", params=params, timeout=10).json()
        found += [r for r in page["records"] if marker in r["value"]["text"]]
        cursor = page.get("cursor")
        if not cursor or not page["records"]:
            return found


def part_number(text: str) -> int:
    return int(text.split()[1])


def assert_bluesky_chain(pds: LocalPds, marker: str, parts: int) -> list[dict[str, Any]]:
    records = sorted(records_with(pds, marker), key=lambda r: part_number(r["value"]["text"]))
    assert [part_number(r["value"]["text"]) for r in records] == list(range(1, parts + 1))
    first = records[0]
    assert "reply" not in first["value"] or first["value"]["reply"] is None
    for before, record in itertools.pairwise(records):
        reply = record["value"]["reply"]
        assert (reply["parent"]["uri"], reply["parent"]["cid"]) == (before["uri"], before["cid"])
        assert (reply["root"]["uri"], reply["root"]["cid"]) == (first["uri"], first["cid"])
    return records


def assert_x_chain(x_server: XStandIn, marker: str, parts: int) -> list[tuple[str, dict[str, Any]]]:
    tweets = sorted(
        ((i, t) for i, t in x_server.tweets.items() if marker in t["text"]),
        key=lambda it: part_number(it[1]["text"]),
    )
    assert [part_number(t["text"]) for _, t in tweets] == list(range(1, parts + 1))
    assert tweets[0][1]["reply_to"] is None
    for (before_id, _), (_, tweet) in itertools.pairwise(tweets):
        assert tweet["reply_to"] == before_id
    return tweets


# ---------------------------------------------------------------------------------------------- schedules


def test_a_thread_is_planned_as_one_row_per_part_with_hashtags_and_link_on_the_first(tmp_path: Path) -> None:
    schedules = load_tree(write_tree(tmp_path, queue=thread_queue("plan")))
    due = due_between(schedules, T0 - timedelta(hours=1), T0)
    assert [d.draft.key for d in due] == [f"{ITEM}#{n}" for n in range(1, 5)]
    assert [(d.draft.thread.part, d.draft.thread.of) for d in due if d.draft.thread] == [
        (n, 4) for n in range(1, 5)
    ]
    assert [d.draft.hashtags for d in due] == [("IDPD",), (), ("EndSeclusion",), ()]
    assert [d.draft.link for d in due] == ["https://endseclusion.org/", None, None, None]
    assert {d.at for d in due} == {datetime(2026, 12, 3, 10, 0, tzinfo=NY)}


def test_numbering_is_written_after_each_part_and_counted_in_its_length(tmp_path: Path) -> None:
    numbered = SETTINGS + "threads:\n  numbering: true\n"
    schedules = load_tree(write_tree(tmp_path, settings=numbered, queue=thread_queue("numbers", parts=3)))
    from bot.compose import render

    due = due_between(schedules, T0 - timedelta(hours=1), T0)
    texts = [render(d.draft, "x") for d in due]
    assert texts[1] == "Part 2 of the numbers thread about safe schools. 2/3"
    assert texts[0].startswith("Part 1 of the numbers thread about safe schools. 1/3\n\n")
    # 277 characters fit X's 280 alone, not with " 2/2" after them.
    long_text = "a " * 138 + "a"
    assert len(long_text) == 277
    queue = thread_queue("numbers", parts=2).replace(
        "Part 2 of the numbers thread about safe schools.", long_text
    )
    write_tree(tmp_path, settings=numbered, queue=queue)
    problems = load_schedules(tmp_path / "schedules", tmp_path / "content").errors()
    assert [(p.line, p.message) for p in problems] == [
        (
            8,
            "text is too long for x: 281/280 weighted characters (links count 23),"
            " counting the numbering 2/2 added after the text",
        )
    ]
    write_tree(tmp_path, queue=queue)  # without numbering it fits
    assert load_schedules(tmp_path / "schedules", tmp_path / "content").errors() == []


def test_validate_reports_each_part_at_its_own_line_and_the_number_of_parts(tmp_path: Path) -> None:
    too_long = "word " * 70
    queue = thread_queue("lines", parts=3).replace("Part 3 of the lines thread about safe schools.", too_long)
    write_tree(tmp_path, queue=queue)
    result = bot(["validate"], clean_env(tmp_path), cwd=tmp_path)
    assert result.returncode == 1
    out = result.stdout + result.stderr
    assert "queue/posts.yaml:9:15: error: text is too long for x" in out and "too long for x" in out, out
    many = thread_queue("many", parts=12)
    write_tree(tmp_path, queue=many)
    result = bot(["validate"], clean_env(tmp_path), cwd=tmp_path)
    assert result.returncode == 1
    out = result.stdout + result.stderr
    assert "queue/posts.yaml:18:9: error: thread has 12 parts; at most 10 are allowed" in out, out
    write_tree(tmp_path, settings=SETTINGS + "threads:\n  max_parts: 12\n", queue=many)
    result = bot(["validate"], clean_env(tmp_path), cwd=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr


def test_a_thread_post_may_not_also_have_its_own_text(tmp_path: Path) -> None:
    queue = thread_queue("both").replace("    thread:\n", "    text: Hello.\n    thread:\n")
    write_tree(tmp_path, queue=queue)
    problems = load_schedules(tmp_path / "schedules", tmp_path / "content").errors()
    assert [(p.line, p.message) for p in problems] == [(6, "a thread post has 'text:' beside 'thread:'")]


# ---------------------------------------------------------------------------------------------- the pass


def test_a_failed_part_holds_that_network_only_and_later_parts_never_jump_ahead(tmp_path: Path) -> None:
    from bot.errors import RejectedError

    schedules = load_tree(write_tree(tmp_path, queue=thread_queue("hold")))
    failing = FakePublisher(
        "x", fail=lambda post, n: RejectedError("refused", network="x") if post.key.endswith("#2") else None
    )
    working = FakePublisher("bluesky")
    with Ledger.open(tmp_path / "ledger.sqlite3") as ledger:
        service = Service(schedules, ledger, {"x": failing, "bluesky": working}, owner="test")
        report = service.run_pass(T0, poll_feed=False)
        assert [p.key for p in working.published] == [f"{ITEM}#{n}" for n in range(1, 5)]
        assert [p.reply_to.remote_id if p.reply_to else None for p in working.published] == [
            None,
            "bluesky-1",
            "bluesky-2",
            "bluesky-3",
        ]
        assert all(
            p.reply_root == Receipt("bluesky", "bluesky-1", "https://bluesky.example/1", 0.015, None)
            for p in working.published[1:]
        )
        assert [p.key for p in failing.published] == [f"{ITEM}#1"]
        held = [o for o in report.outcomes if o.network == "x" and o.status == "held"]
        assert [o.key for o in held] == [f"{ITEM}#3", f"{ITEM}#4"]
        assert held[0].detail == "thread held at part 2 of 4 on x: refused"
        # Later passes never send part 3 before part 2.
        service.run_pass(T0 + timedelta(minutes=5), poll_feed=False)
        assert [p.key for p in failing.published] == [f"{ITEM}#1"]
        # Even past the grace period, a started thread is finished once the failed part is retried.
        failing.fail = lambda post, n: None
        assert ledger.retry(ITEM, "x") == 1
        service.run_pass(T0 + timedelta(hours=8), poll_feed=False)
        assert [p.key for p in failing.published] == [f"{ITEM}#{n}" for n in range(1, 5)]
        assert [p.reply_to.remote_id if p.reply_to else None for p in failing.published] == [
            None,
            "x-1",
            "x-2",
            "x-3",
        ]


def test_a_thread_whose_first_part_is_too_late_is_skipped_whole(tmp_path: Path) -> None:
    schedules = load_tree(write_tree(tmp_path, queue=thread_queue("late")))
    publishers = {n: FakePublisher(n) for n in NETWORKS}
    with Ledger.open(tmp_path / "ledger.sqlite3") as ledger:
        Service(schedules, ledger, publishers, owner="test").run_pass(
            T0 + timedelta(hours=7), poll_feed=False
        )
        for network in NETWORKS:
            rows = [ledger.get(f"{ITEM}#{n}", network, dry_run=False) for n in range(1, 5)]
            assert [r.status for r in rows if r] == ["skipped"] * 4
            assert publishers[network].published == []


# ---------------------------------------------------------------------------------------------- end to end


def test_a_four_part_thread_reads_back_as_a_chain_on_bluesky_and_x(
    tmp_path: Path, local_pds: LocalPds, x_server: XStandIn, x_creds: XCredentials
) -> None:
    marker = "chain4"
    write_tree(tmp_path, queue=thread_queue(marker, ident="idpd-chain4"))
    env = clean_env(tmp_path, now=T0, x=x_creds, bluesky=bluesky_env(local_pds))
    result = bot(["tick"], env, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    records = assert_bluesky_chain(local_pds, marker, 4)
    first = records[0]["value"]
    slices = {
        first["text"].encode()[f["index"]["byteStart"] : f["index"]["byteEnd"]].decode(): f["features"][0][
            "$type"
        ]
        for f in first["facets"]
    }
    assert slices == {
        "https://endseclusion.org/": "app.bsky.richtext.facet#link",
        "#IDPD": "app.bsky.richtext.facet#tag",
    }
    third = records[2]["value"]
    assert third["text"].endswith("#EndSeclusion") and "#IDPD" not in third["text"]
    assert "#" not in records[1]["value"]["text"] and "#" not in records[3]["value"]["text"]
    assert_x_chain(x_server, marker, 4)
    again = bot(["tick"], {**env, "BOT_NOW": (T0 + timedelta(minutes=5)).isoformat()}, cwd=tmp_path)
    assert again.returncode == 0, again.stderr
    assert len(records_with(local_pds, marker)) == 4
    assert len([t for t in x_server.tweets.values() if marker in t["text"]]) == 4


def test_x_failing_at_part_2_holds_x_while_bluesky_finishes_then_retry_completes_it(
    tmp_path: Path, local_pds: LocalPds, x_server: XStandIn, x_creds: XCredentials
) -> None:
    marker = "hold2"
    item = "queue/idpd-hold2"
    write_tree(tmp_path, queue=thread_queue(marker, ident="idpd-hold2"))
    x_server.inject(Fault.slow(0.0), path="/2/tweets")  # part 1 goes through
    x_server.inject(
        Fault.forbidden("You are not allowed to create a Tweet with this content."), path="/2/tweets"
    )
    env = clean_env(tmp_path, now=T0, x=x_creds, bluesky=bluesky_env(local_pds))
    result = bot(["tick"], env, cwd=tmp_path)
    assert result.returncode == 1, result.stderr  # a part failed for good: a maintainer must act
    assert_bluesky_chain(local_pds, marker, 4)
    assert_x_chain(x_server, marker, 1)
    assert len(x_server.requests_to("/2/tweets")) == 2  # part 3 and 4 were never tried
    status = bot(["status"], env, cwd=tmp_path).stdout
    assert "thread held at part 2 of 4 on x: " in status, status
    assert "You are not allowed to create a Tweet with this content." in status
    data = json.loads(bot(["status", "--json"], env, cwd=tmp_path).stdout)
    [held] = data["networks"]["x"]["threads_held"]
    assert held.startswith("thread held at part 2 of 4 on x: ") and held.endswith(f"[{item}]")
    assert data["networks"]["bluesky"]["threads_held"] == []
    later = {**env, "BOT_NOW": (T0 + timedelta(minutes=30)).isoformat()}
    retried = bot(["retry", f"{item}#2", "--network", "x"], later, cwd=tmp_path)
    assert retried.returncode == 0, retried.stdout + retried.stderr
    assert [line.split(":")[0] for line in retried.stdout.splitlines()] == [
        f"{item}#{n} on x" for n in (2, 3, 4)
    ]
    assert_x_chain(x_server, marker, 4)
    assert_bluesky_chain(local_pds, marker, 4)
    data = json.loads(bot(["status", "--json"], later, cwd=tmp_path).stdout)
    assert data["networks"]["x"]["threads_held"] == []


# ---------------------------------------------------------------------------------------------- previews


def test_upcoming_and_changes_show_a_thread_as_a_thread(tmp_path: Path) -> None:
    from bot.preview import changes, changes_markdown, format_due, render_due

    write_tree(tmp_path, queue=thread_queue("preview", parts=3))
    env = clean_env(tmp_path)
    result = bot(["upcoming", "--from", "2026-12-03", "--days", "1", "--json"], env, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    entries = json.loads(result.stdout)
    entries = entries if isinstance(entries, list) else entries["posts"]
    assert [(e["key"], e["thread"]["part"], e["thread"]["of"]) for e in entries] == [
        (f"{ITEM}#{n}", n, 3) for n in (1, 2, 3)
    ]
    text = bot(["upcoming", "--from", "2026-12-03", "--days", "1"], env, cwd=tmp_path).stdout
    assert text.index("thread: part 1 of 3, the first post") < text.index(
        "thread: part 2 of 3, a reply to part 1"
    )
    assert text.index("Part 2 of the preview thread") < text.index("Part 3 of the preview thread")
    schedules = load_tree(tmp_path / "schedules")
    due = due_between(schedules, T0 - timedelta(hours=1), T0)
    rendered = [render_due(d, NETWORKS) for d in due]
    assert "thread: part 3 of 3, a reply to part 2" in format_due(rendered[2])
    found = changes([], rendered)
    [group] = found["added"]  # the parts are one post
    assert [e["key"] for e in group["entries"]] == [f"{ITEM}#{n}" for n in (1, 2, 3)]
    markdown = changes_markdown(found, T0.date(), T0.date())
    assert markdown.count("### Added:") == 1
    assert markdown.index("*Thread: part 1 of 3, the first post*") < markdown.index("*Thread: part 3 of 3")
    assert markdown.count("Next: Thu 2026-12-03 10:00") == 1


# ---------------------------------------------------------------------------------------------- post --part


def test_post_with_parts_sends_a_thread_on_both_networks_through_the_one_path(
    tmp_path: Path, local_pds: LocalPds, x_server: XStandIn, x_creds: XCredentials
) -> None:
    marker = "cliparts"
    write_tree(tmp_path)
    env = clean_env(tmp_path, now=T0, x=x_creds, bluesky=bluesky_env(local_pds))
    texts = [f"Part {n} of the {marker} thread from the command line." for n in (1, 2, 3)]
    args = ["post", texts[0], "--hashtag", "IDPD", "--part", texts[1], "--part", texts[2]]
    result = bot(args, env, cwd=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.count("x: posted ") == 3 and result.stdout.count("bluesky: posted ") == 3
    records = assert_bluesky_chain(local_pds, marker, 3)
    assert records[0]["value"]["text"].endswith("#IDPD") and "#IDPD" not in records[1]["value"]["text"]
    assert_x_chain(x_server, marker, 3)
    data = json.loads(bot(["status", "--json"], env, cwd=tmp_path).stdout)
    keys = sorted(r["key"] for r in data["networks"]["x"]["sent"])
    assert len(keys) == 3 and [k.rsplit("#", 1)[1] for k in keys] == ["1", "2", "3"]


def test_post_with_parts_holds_at_a_failed_part_and_retry_resumes(
    tmp_path: Path, x_server: XStandIn, x_creds: XCredentials
) -> None:
    marker = "cliheld"
    write_tree(tmp_path, settings=SETTINGS.replace("networks: [x, bluesky]", "networks: [x]"))
    env = clean_env(tmp_path, now=T0, x=x_creds)
    x_server.inject(Fault.slow(0.0), path="/2/tweets")
    x_server.inject(
        Fault.forbidden("You are not allowed to create a Tweet with this content."), path="/2/tweets"
    )
    texts = [f"Part {n} of the {marker} thread from the command line." for n in (1, 2, 3)]
    result = bot(["post", texts[0], "--part", texts[1], "--part", texts[2]], env, cwd=tmp_path)
    assert result.returncode == 1
    assert "thread held at part 2 of 3; `retry manual/" in result.stderr, result.stderr
    assert_x_chain(x_server, marker, 1)
    key = result.stderr.split("`retry ")[1].split("`")[0]
    assert key.endswith("#2")
    retried = bot(["retry", key], env, cwd=tmp_path)
    assert retried.returncode == 0, retried.stdout + retried.stderr
    assert_x_chain(x_server, marker, 3)
