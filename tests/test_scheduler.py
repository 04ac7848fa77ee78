"""The daemon's job plan, with an injected clock and the scheduler never started (no sleeping on timers)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from bot.scheduler import BotScheduler
from bot.service import Service
from bot.store import Ledger
from tests.service_fixtures import IDPD, SETTINGS, FakePublisher, load_tree, write_tree

NY = ZoneInfo("America/New_York")


@pytest.fixture
def ledger(tmp_path: Path) -> Iterator[Ledger]:
    with Ledger.open(tmp_path / "ledger.sqlite3") as opened:
        yield opened


def make(tmp_path: Path, ledger: Ledger, now: list[datetime], settings: str = SETTINGS) -> BotScheduler:
    schedules_dir = write_tree(tmp_path, settings=settings, awareness={"idpd": IDPD})
    service = Service(
        load_tree(schedules_dir),
        ledger,
        {"x": FakePublisher("x"), "bluesky": FakePublisher("bluesky")},
        owner="test",
    )

    def reload() -> None:
        service.reload(load_tree(schedules_dir))

    return BotScheduler(service, clock=lambda: now[0], reload=reload, watch=schedules_dir)


def due_jobs(sched: BotScheduler) -> list[datetime]:
    return sorted(job.trigger.run_date for job in sched.scheduler.get_jobs() if job.id.startswith("due:"))


def test_plan_adds_one_job_per_due_instant_in_the_horizon(tmp_path: Path, ledger: Ledger) -> None:
    now = [datetime(2026, 12, 2, 9, 0, tzinfo=NY)]
    sched = make(tmp_path, ledger, now)
    sched.install()
    assert due_jobs(sched) == [
        datetime(2026, 12, 3, 10, 0, tzinfo=NY),
        datetime(2026, 12, 3, 16, 0, tzinfo=NY),
    ]
    ids = {job.id for job in sched.scheduler.get_jobs()}
    assert {"sweep", "replan", "watch"} <= ids
    assert "feed" not in ids  # the feed is switched off in these settings
    # Later, the 10:00 instant has passed: re-planning drops it.
    now[0] = datetime(2026, 12, 3, 12, 0, tzinfo=NY)
    sched.plan()
    assert due_jobs(sched) == [datetime(2026, 12, 3, 16, 0, tzinfo=NY)]


def test_nothing_planned_beyond_the_horizon(tmp_path: Path, ledger: Ledger) -> None:
    now = [datetime(2026, 11, 20, 9, 0, tzinfo=NY)]
    sched = make(tmp_path, ledger, now)
    assert sched.plan() == []


def test_feed_job_follows_poll_interval(tmp_path: Path, ledger: Ledger) -> None:
    settings = SETTINGS.replace(
        "feed:\n  url: null\n", "feed:\n  url: https://endseclusion.org/feed/\n  poll_minutes: 20\n"
    )
    sched = make(tmp_path, ledger, [datetime(2026, 12, 2, 9, 0, tzinfo=NY)], settings=settings)
    sched.install()
    job = sched.scheduler.get_job("feed")
    assert job is not None
    assert job.trigger.interval == timedelta(minutes=20) and job.trigger.jitter == 60


def test_changed_schedule_files_are_reloaded_and_replanned(tmp_path: Path, ledger: Ledger) -> None:
    now = [datetime(2026, 12, 2, 9, 0, tzinfo=NY)]
    sched = make(tmp_path, ledger, now)
    sched.install()
    sched.watch()  # nothing changed: nothing happens
    assert len(due_jobs(sched)) == 2
    queue_dir = tmp_path / "schedules" / "queue"
    queue_dir.mkdir()
    queue = queue_dir / "new.yaml"
    queue.write_text(
        'posts:\n  - id: added\n    at: "2026-12-02 18:30"\n    text: A post added while running.\n'
    )
    os.utime(queue, (1, 1))
    sched.watch()
    assert datetime(2026, 12, 2, 18, 30, tzinfo=NY) in due_jobs(sched)
    assert any(q.id == "added" for q in sched.service.schedules.queue)


def test_a_broken_edit_keeps_the_valid_rest(tmp_path: Path, ledger: Ledger) -> None:
    now = [datetime(2026, 12, 2, 9, 0, tzinfo=NY)]
    schedules_dir = write_tree(tmp_path, awareness={"idpd": IDPD})
    service = Service(load_tree(schedules_dir), ledger, {"x": FakePublisher("x")}, owner="t")
    from bot.schedules import load_schedules

    def reload() -> None:
        service.reload(load_schedules(schedules_dir, tmp_path / "content").schedules)

    sched = BotScheduler(service, clock=lambda: now[0], reload=reload, watch=schedules_dir)
    sched.install()
    (schedules_dir / "awareness" / "broken.yaml").write_text("name: [unclosed\n")
    sched.watch()
    assert [o.id for o in service.schedules.observances] == ["idpd"]
    assert len(due_jobs(sched)) == 2


def test_a_job_runs_a_pass_with_the_injected_clock(tmp_path: Path, ledger: Ledger) -> None:
    now = [datetime(2026, 12, 3, 10, 0, 1, tzinfo=NY)]
    sched = make(tmp_path, ledger, now)
    sched.run_pass(poll_feed=False)
    x = sched.service.publishers["x"]
    assert isinstance(x, FakePublisher)
    assert [p.key for p in x.published] == ["awareness/idpd/2026/1"]
