"""A maintainer's day through the real CLI: pause and resume, retry and skip, status, the ledger in PostgreSQL,
and two bot processes started at once on one database (an overlapping deploy)."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from bot.publishers.x import XCredentials
from tests.e2e_helpers import bot, clean_env, start_bot
from tests.service_fixtures import IDPD, SETTINGS, queue_of, write_tree
from tests.store_fixtures import fresh_schema
from tests.xserver import Fault, XStandIn

NY = ZoneInfo("America/New_York")
T0 = datetime(2026, 12, 3, 10, 0, 30, tzinfo=NY)


def at(delta: timedelta) -> str:
    return (T0 + delta).isoformat()


def test_pause_holds_and_resume_asks_then_releases(
    tmp_path: Path, x_server: XStandIn, x_creds: XCredentials
) -> None:
    write_tree(tmp_path, awareness={"idpd": IDPD})
    env = clean_env(tmp_path, now=T0, x=x_creds)
    paused = bot(["pause"], env, cwd=tmp_path)
    assert paused.returncode == 0 and "paused" in paused.stdout
    assert bot(["tick"], env, cwd=tmp_path).returncode == 0
    assert x_server.tweets == {}
    status = json.loads(bot(["status", "--json"], env, cwd=tmp_path).stdout)
    assert status["paused"] is True and status["paused_by"] == "pause command"
    assert [r["key"] for r in status["networks"]["x"]["pending"]] == ["awareness/idpd/2026/1"]
    # Hours later the held post is still held, not silently skipped.
    assert bot(["tick"], {**env, "BOT_NOW": at(timedelta(hours=9))}, cwd=tmp_path).returncode == 0
    undecided = bot(["resume"], {**env, "BOT_NOW": at(timedelta(hours=9))}, cwd=tmp_path)
    assert undecided.returncode == 2 and "came due while paused" in undecided.stderr
    released = bot(["resume", "--release"], {**env, "BOT_NOW": at(timedelta(hours=9))}, cwd=tmp_path)
    assert released.returncode == 0, released.stderr
    assert sorted(t["text"].split("\n")[0] for t in x_server.tweets.values()) == [
        "Children with disabilities deserve safe schools.",
        "Today is the International Day of Persons with Disabilities.",
    ]


def test_resume_skip_records_the_held_posts_as_skipped(
    tmp_path: Path, x_server: XStandIn, x_creds: XCredentials
) -> None:
    write_tree(tmp_path, awareness={"idpd": IDPD})
    env = clean_env(tmp_path, now=T0, x=x_creds)
    bot(["pause"], env, cwd=tmp_path)
    bot(["tick"], env, cwd=tmp_path)
    result = bot(["resume", "--skip"], env, cwd=tmp_path)
    assert result.returncode == 0 and "skipped" in result.stdout
    status = json.loads(bot(["status", "--json"], env, cwd=tmp_path).stdout)
    assert status["paused"] is False
    assert [r["error"] for r in status["networks"]["x"]["skipped"]] == ["skipped on resume"]
    assert x_server.tweets == {}


def test_failed_post_is_shown_then_retried_by_a_maintainer(
    tmp_path: Path, x_server: XStandIn, x_creds: XCredentials
) -> None:
    write_tree(tmp_path, awareness={"idpd": IDPD})
    env = clean_env(tmp_path, now=T0, x=x_creds)
    x_server.inject(Fault.credits_depleted(), path="/2/tweets")
    failed = bot(["tick"], env, cwd=tmp_path)
    assert failed.returncode == 1  # a post failed for good: cron and CI notice
    text = bot(["status"], env, cwd=tmp_path).stdout
    assert "FAILED:" in text and "awareness/idpd/2026/1" in text and "needs `retry` or `skip`" in text
    # The next morning, after topping up the credits, the maintainer retries: it goes out despite being late.
    retried = bot(
        ["retry", "awareness/idpd/2026/1", "--network", "x"],
        {**env, "BOT_NOW": at(timedelta(hours=20))},
        cwd=tmp_path,
    )
    assert retried.returncode == 0, retried.stderr
    assert "awareness/idpd/2026/1 on x: sent" in retried.stdout
    assert len(x_server.tweets) == 1
    nothing = bot(["retry", "awareness/idpd/2026/1"], env, cwd=tmp_path)
    assert nothing.returncode == 1 and "nothing to retry" in nothing.stderr


def test_skip_a_pending_post(tmp_path: Path, x_server: XStandIn, x_creds: XCredentials) -> None:
    write_tree(tmp_path, awareness={"idpd": IDPD})
    env = clean_env(tmp_path, now=T0, x=x_creds)
    bot(["pause"], env, cwd=tmp_path)
    bot(["tick"], env, cwd=tmp_path)
    skipped = bot(["skip", "awareness/idpd/2026/1", "--reason", "wrong photo"], env, cwd=tmp_path)
    assert skipped.returncode == 0 and "2 delivery(ies) skipped" in skipped.stdout
    bot(["resume", "--release"], env, cwd=tmp_path)
    assert x_server.tweets == {}


def test_ledger_in_postgresql_via_database_url(
    tmp_path: Path, x_server: XStandIn, x_creds: XCredentials, pg_server_url: str
) -> None:
    write_tree(tmp_path, awareness={"idpd": IDPD})
    with fresh_schema(pg_server_url) as url:
        env = clean_env(tmp_path, now=T0, x=x_creds, extra={"DATABASE_URL": url})
        first = bot(["tick"], env, cwd=tmp_path)
        assert first.returncode == 0, first.stderr
        assert not (tmp_path / "ledger.sqlite3").exists()  # DATABASE_URL wins over BOT_DB
        again = bot(["tick"], {**env, "BOT_NOW": at(timedelta(minutes=3))}, cwd=tmp_path)
        assert again.returncode == 0
        assert len(x_server.tweets) == 1
        status = json.loads(bot(["status", "--json"], env, cwd=tmp_path).stdout)
        assert status["counts"]["sent"] == 1
        password = url.split("//", 1)[1].split("@", 1)[0].split(":", 1)[1]
        assert password not in first.stderr + again.stderr


def test_overlapping_processes_post_each_item_once(
    tmp_path: Path, x_server: XStandIn, x_creds: XCredentials
) -> None:
    total = 20
    queue = queue_of([f"overlap-{i}" for i in range(total)], "Overlap test post {i}.")
    write_tree(tmp_path, queue=queue, settings=SETTINGS.replace("daily_post_cap: 10", "daily_post_cap: 100"))
    for _ in range(60):
        x_server.inject(Fault.slow(0.03), path="/2/tweets")
    env = clean_env(tmp_path, now=T0, x=x_creds)
    procs = [start_bot(["tick"], env, cwd=tmp_path) for _ in range(2)]
    for proc in procs:
        _, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, err
    create_requests = [r for r in x_server.requests if r.path == "/2/tweets"]
    assert len(create_requests) == total  # not one wasted (or duplicate) attempt
    assert sorted(t["text"] for t in x_server.tweets.values()) == sorted(
        f"Overlap test post {i}." for i in range(total)
    )
