"""A thread once started is always finished: the grace period counts for the first part only, so a later part
that comes through past it still goes out, in order, as a reply, and ``status`` (text and ``--json``) says the
thread *finished late*. End to end on the X stand-in, the real local PDS and mastodon-mock with an injected
clock (``BOT_NOW``), and the states of ``bot.threads`` against a real ledger."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from bot.errors import RejectedError, TransientError
from bot.models import ThreadPlace
from bot.service import PAUSED_FLAG, Service
from bot.store import Ledger
from bot.threads import span, thread_state
from tests.e2e_helpers import bot, clean_env, on_bot_clock
from tests.mastodon_fixtures import mastodon_server
from tests.service_fixtures import FakePublisher, load_tree, write_tree
from tests.test_mastodon_threads import THREE, assert_mastodon_chain, mastodon_chain
from tests.test_threads import assert_bluesky_chain, assert_x_chain, bluesky_env, thread_queue
from tests.xserver import Fault

__all__ = ["mastodon_server"]  # the fixture, used by name

NY = ZoneInfo("America/New_York")
DUE = datetime(2026, 12, 3, 10, 0, tzinfo=NY)
GRACE = timedelta(hours=6)


def x_down(x_server: Any) -> None:
    """X answers 503 to the next pass's three tries of a post (one attempt and two quick retries)."""
    for _ in range(3):
        x_server.inject(Fault.server_error(503), path="/2/tweets")


def test_x_down_past_the_grace_after_part_1_finishes_the_thread_late_and_status_says_so(
    tmp_path: Path, mastodon_server: Any, request: pytest.FixtureRequest
) -> None:
    x_server = request.getfixturevalue("x_server")
    x_creds = request.getfixturevalue("x_creds")
    local_pds = request.getfixturevalue("local_pds")
    from tests.test_mastodon import mastodon_env

    marker = "late3"
    item = "queue/late3-thread"
    write_tree(tmp_path, settings=THREE, queue=thread_queue(marker, parts=3, ident="late3-thread"))
    extra = {**bluesky_env(local_pds), **mastodon_env(mastodon_server)}
    env_at = on_bot_clock(x_server, lambda now: clean_env(tmp_path, now=now, x=x_creds, extra=extra))

    x_server.inject(Fault.slow(0.0), path="/2/tweets")  # part 1 goes through, then X is down
    x_down(x_server)
    first = bot(["tick"], env_at(DUE + timedelta(seconds=30)), cwd=tmp_path)
    assert first.returncode == 0, first.stderr  # a 503 is retried later, nothing failed for good
    assert_x_chain(x_server, marker, 1)
    assert_bluesky_chain(local_pds, marker, 3)
    assert_mastodon_chain(mastodon_chain(mastodon_server, marker), 3)

    # Still down three hours later; the thread is held at part 2 and part 3 waits behind it.
    x_down(x_server)
    held_env = env_at(DUE + timedelta(hours=3))
    assert bot(["tick"], held_env, cwd=tmp_path).returncode == 0
    assert_x_chain(x_server, marker, 1)
    data = json.loads(bot(["status", "--json"], held_env, cwd=tmp_path).stdout)
    [held] = data["networks"]["x"]["threads_held"]
    assert held.startswith("thread held at part 2 of 3 on x: ") and "(next try " in held, held
    assert data["networks"]["x"]["threads_finished_late"] == []
    assert [t["state"] for t in data["networks"]["x"]["threads"]] == ["held"]

    # Back after 6 h 10 min, past the 6-hour grace: parts 2 and 3 still go out, in order, as replies.
    late_env = env_at(DUE + timedelta(hours=6, minutes=10))
    after = bot(["tick"], late_env, cwd=tmp_path)
    assert after.returncode == 0, after.stderr
    assert "skipped" not in after.stderr, after.stderr
    assert_x_chain(x_server, marker, 3)
    assert len([t for t in x_server.tweets.values() if marker in t["text"]]) == 3

    text = bot(["status"], late_env, cwd=tmp_path).stdout
    line = (
        "thread finished late on x: part 2 of 3 went out 6 h 10 min after its time "
        "(a thread once started is always finished)"
    )
    assert f"  {line} [{item}]" in text, text
    assert "thread held" not in text, text
    data = json.loads(bot(["status", "--json"], late_env, cwd=tmp_path).stdout)
    x = data["networks"]["x"]
    assert x["threads_finished_late"] == [f"{line} [{item}]"]
    assert x["threads_held"] == []
    [thread] = x["threads"]
    assert (thread["item"], thread["state"], thread["part"], thread["of"]) == (item, "finished late", 2, 3)
    assert thread["late_minutes"] == 370 and thread["line"] == line
    assert [(p["key"], p["status"], p["thread"]["part"]) for p in thread["parts"]] == [
        (f"{item}#{n}", "sent", n) for n in (1, 2, 3)
    ]
    for network in ("bluesky", "mastodon"):
        assert data["networks"][network]["threads_finished_late"] == []
        [on_time] = data["networks"][network]["threads"]
        assert (on_time["state"], on_time["line"]) == (
            "finished",
            f"thread finished on {network}: all 3 parts sent",
        )
    # Two weeks later status no longer says it.
    quiet = json.loads(bot(["status", "--json"], env_at(DUE + timedelta(days=15)), cwd=tmp_path).stdout)
    assert quiet["networks"]["x"]["threads_finished_late"] == []


# ------------------------------------------------------------------------------------- states, one ledger


ITEM = "queue/idpd-thread"


def states(ledger: Ledger) -> dict[str, tuple[str, str]]:
    place = ThreadPlace(ITEM, 1, 4)
    out = {}
    for network in ("x", "bluesky"):
        s = thread_state(ledger, place, network, GRACE)
        out[network] = (s.state, s.line)
    return out


def test_every_state_of_a_thread_in_plain_words(tmp_path: Path) -> None:
    schedules = load_tree(write_tree(tmp_path, queue=thread_queue("states")))
    x = FakePublisher(
        "x", fail=lambda post, n: TransientError("HTTP 503", network="x") if post.key.endswith("#3") else None
    )
    bluesky = FakePublisher(
        "bluesky",
        fail=lambda post, n: RejectedError("refused", network="bluesky") if post.key.endswith("#2") else None,
    )
    with Ledger.open(tmp_path / "ledger.sqlite3") as ledger:
        service = Service(schedules, ledger, {"x": x, "bluesky": bluesky}, owner="test")
        ledger.set_flag(PAUSED_FLAG, "1")
        service.run_pass(DUE, poll_feed=False)  # paused: every part recorded, none sent
        assert states(ledger) == {n: ("waiting", f"thread waiting to start on {n}") for n in ("x", "bluesky")}
        ledger.set_flag(PAUSED_FLAG, None)
        service.run_pass(DUE + timedelta(seconds=30), poll_feed=False)
        found = states(ledger)
        assert found["x"][0] == "held" and found["x"][1].startswith(
            "thread held at part 3 of 4 on x: HTTP 503"
        )
        assert found["bluesky"] == ("held", "thread held at part 2 of 4 on bluesky: refused")
        ledger.skip(f"{ITEM}#2", "bluesky", reason="a maintainer gave up", now=DUE + timedelta(hours=1))
        service.run_pass(DUE + timedelta(hours=1), poll_feed=False)
        assert states(ledger)["bluesky"] == (
            "stopped",
            "thread stopped at part 2 of 4 on bluesky: skipped (a maintainer gave up)",
        )
        x.fail = lambda post, n: None
        service.run_pass(DUE + timedelta(hours=2), poll_feed=False)  # within the grace: on time
        assert states(ledger)["x"] == ("finished", "thread finished on x: all 4 parts sent")


def test_a_part_retried_past_the_grace_finishes_late_and_one_within_it_on_time(tmp_path: Path) -> None:
    schedules = load_tree(write_tree(tmp_path, queue=thread_queue("retried")))
    x = FakePublisher(
        "x", fail=lambda post, n: RejectedError("refused", network="x") if post.key.endswith("#4") else None
    )
    with Ledger.open(tmp_path / "ledger.sqlite3") as ledger:
        service = Service(schedules, ledger, {"x": x, "bluesky": FakePublisher("bluesky")}, owner="test")
        service.run_pass(DUE, poll_feed=False)
        assert states(ledger)["x"][0] == "held"
        x.fail = lambda post, n: None
        assert ledger.retry(f"{ITEM}#4", "x") == 1
        service.run_pass(DUE + timedelta(days=1, hours=2, minutes=5), poll_feed=False)
        assert [p.key for p in x.published] == [f"{ITEM}#{n}" for n in range(1, 5)]
        assert states(ledger) == {
            "x": (
                "finished late",
                "thread finished late on x: part 4 of 4 went out 1 day 2 h 5 min after its time "
                "(a thread once started is always finished)",
            ),
            "bluesky": ("finished", "thread finished on bluesky: all 4 parts sent"),
        }


def record_parts(ledger: Ledger, of: int) -> None:
    """Ledger rows on x for every part of an ``of``-part thread of ``ITEM``, due at ``DUE``, none sent."""
    from bot.deliver import post_to_payload
    from bot.models import Post

    for n in range(1, of + 1):
        place = ThreadPlace(ITEM, n, of)
        post = Post(place.key(n), "x", f"Part {n}.", 8, 280, thread=place, due_at=DUE)
        ledger.ensure(
            post.key,
            "x",
            dry_run=False,
            source="queue",
            name="A thread",
            due_at=DUE,
            payload=post_to_payload(post),
            now=DUE,
        )


def test_a_thread_in_progress_says_which_part_goes_next(tmp_path: Path) -> None:
    with Ledger.open(tmp_path / "ledger.sqlite3") as ledger:
        record_parts(ledger, 3)
        place = ThreadPlace(ITEM, 1, 3)
        ledger.mark_sent(f"{ITEM}#1", "x", dry_run=False, remote_id="1", url="u", cost=0.0, now=DUE)
        found = thread_state(ledger, place, "x", GRACE)
        assert (found.state, found.line, found.place.part, found.name) == (
            "in progress",
            "thread in progress on x: 1 of 3 parts sent, part 2 goes next",
            2,
            "A thread",
        )
        assert ledger.claim(f"{ITEM}#2", "x", dry_run=False, owner="t", now=DUE, lease=timedelta(minutes=10))
        assert thread_state(ledger, place, "x", GRACE).line == (
            "thread in progress on x: 1 of 3 parts sent, part 2 is being sent now"
        )


@pytest.mark.parametrize(
    ("delta", "words"),
    [
        (timedelta(minutes=45), "45 min"),
        (timedelta(hours=6), "6 h"),
        (timedelta(hours=5, minutes=10), "5 h 10 min"),
        (timedelta(days=1), "1 day"),
        (timedelta(days=2, hours=3, seconds=29), "2 days 3 h"),
        (timedelta(0), "0 min"),
    ],
)
def test_a_span_in_words(delta: timedelta, words: str) -> None:
    assert span(delta) == words


def test_status_lists_a_thread_held_by_a_part_confirmed_only_by_a_duplicate_refusal(tmp_path: Path) -> None:
    """Part 2 counts as sent (X refused it as a duplicate after a crash) but has no post id, so part 3 has
    nothing to reply to: the thread is held, and ``status`` says so, though no part failed."""
    from bot.status import collect, format_status

    schedules = load_tree(write_tree(tmp_path, queue=thread_queue("dup")))
    with Ledger.open(tmp_path / "ledger.sqlite3") as ledger:
        record_parts(ledger, 3)
        ledger.mark_sent(f"{ITEM}#1", "x", dry_run=False, remote_id="1", url="u", cost=0.0, now=DUE)
        ledger.mark_sent(f"{ITEM}#2", "x", dry_run=False, remote_id="duplicate", url=None, cost=0.0, now=DUE)
        data = collect(schedules, ledger, DUE + timedelta(minutes=5), paused_flag=False)
    line = (
        "thread held at part 2 of 3 on x: it was confirmed only by a duplicate refusal, "
        "so the next part has nothing to reply to"
    )
    assert data["networks"]["x"]["threads_held"] == [f"{line} [{ITEM}]"]
    assert [(t["state"], t["part"]) for t in data["networks"]["x"]["threads"]] == [("held", 2)]
    assert f"  {line} [{ITEM}]; `retry` resumes from that part" in format_status(data)
    assert data["networks"]["bluesky"]["threads_held"] == []
