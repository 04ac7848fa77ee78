"""A rehearsal through the real CLI (``BOT_NOW=... tick --dry-run``), as a new maintainer runs it: it never
touches the real ledger (so a second identical rehearsal shows the same), keeps technical detail for
``--verbose``, and every log line carries the org's time with its offset: under ``BOT_NOW``, the pretended one.
And ``upcoming`` marks what has already gone by, with what the ledger knows of it."""

from __future__ import annotations

import json
import re
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from bot.store import Ledger
from tests.e2e_helpers import bot, clean_env
from tests.service_fixtures import IDPD, write_tree

NY = ZoneInfo("America/New_York")
T0 = datetime(2026, 12, 3, 10, 0, 30, tzinfo=NY)
LOG_LINE = re.compile(r"^(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d[-+]\d\d:\d\d) (INFO|WARNING|ERROR|DEBUG) ")


def log_lines(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if line.strip()]


def dry_run_blocks(stdout: str) -> list[str]:
    """Each network's "[dry run] ..." block of a rehearsal, in a stable order."""
    return sorted("[dry run] " + block for block in stdout.split("[dry run] ")[1:])


def test_two_identical_rehearsals_show_the_same_and_leave_the_real_ledger_alone(tmp_path: Path) -> None:
    write_tree(tmp_path, awareness={"idpd": IDPD})
    env = clean_env(tmp_path, now=T0)
    runs = [bot(["tick", "--dry-run"], env, cwd=tmp_path) for _ in range(2)]
    for run in runs:
        assert run.returncode == 0, run.stderr
        assert "[dry run] x: would post awareness/idpd/2026/1" in run.stdout
        assert "[dry run] bluesky: would post awareness/idpd/2026/1" in run.stdout
        assert (
            "rehearsal: using a throwaway ledger, so the real one is neither read nor changed" in run.stderr
        )
        assert (
            "tick done: 2 new posts planned; feed: off; rehearsed 2 (dry run: nothing posted)" in run.stderr
        )
    # Networks rehearse side by side (as they send), so which network prints first may differ: compare the posts.
    assert dry_run_blocks(runs[0].stdout) == dry_run_blocks(runs[1].stdout)
    assert not (tmp_path / "ledger.sqlite3").exists()


def test_a_kept_rehearsal_ledger_shows_only_what_is_new_and_says_so(tmp_path: Path) -> None:
    write_tree(tmp_path, awareness={"idpd": IDPD})
    env = clean_env(tmp_path, now=T0)
    keep = tmp_path / "rehearsal.sqlite3"
    first, second = (
        bot(["tick", "--dry-run", "--rehearsal-ledger", str(keep)], env, cwd=tmp_path) for _ in "12"
    )
    assert "would post awareness/idpd/2026/1" in first.stdout
    assert second.stdout == ""
    assert f"rehearsal: using the rehearsal ledger {keep} (not the real one)" in second.stderr
    assert "tick done: 0 new posts planned; feed: off; nothing to send" in second.stderr
    assert keep.exists() and not (tmp_path / "ledger.sqlite3").exists()
    refused = bot(["tick", "--rehearsal-ledger", str(keep)], env, cwd=tmp_path)
    assert (
        refused.returncode == 1
        and "--rehearsal-ledger is for rehearsals (hint: add --dry-run" in refused.stderr
    )


def test_the_rehearsal_shows_what_followers_see_and_verbose_adds_the_detail(tmp_path: Path) -> None:
    write_tree(tmp_path, awareness={"idpd": IDPD})
    env = clean_env(tmp_path, now=T0.replace(hour=16))
    plain = bot(["tick", "--dry-run"], env, cwd=tmp_path)
    verbose = bot(["tick", "--dry-run", "--verbose"], env, cwd=tmp_path)
    assert re.search(r"\[dry run\] bluesky: would post awareness/idpd/2026/2 \(\d+/300, fits\)", plain.stdout)
    assert "    | Children with disabilities deserve safe schools." in plain.stdout
    for detail in ("UTF-8 bytes", "facet:", "at bytes"):
        assert detail not in plain.stdout and detail in verbose.stdout, detail


def test_log_lines_carry_the_pretended_time_in_the_org_time_zone(tmp_path: Path) -> None:
    write_tree(tmp_path, awareness={"idpd": IDPD})
    result = bot(["tick", "--dry-run"], clean_env(tmp_path, now=T0), cwd=tmp_path)
    lines = log_lines(result.stderr)
    assert lines and all(LOG_LINE.match(line) for line in lines), lines
    assert {LOG_LINE.match(line).group(1) for line in lines} == {"2026-12-03 10:00:30-05:00"}  # type: ignore[union-attr]
    assert (
        "BOT_NOW: pretending it is 2026-12-03 10:00:30-05:00; log times show that pretended time" in lines[0]
    )


def test_log_lines_without_bot_now_are_in_the_org_time_zone_with_its_offset(tmp_path: Path) -> None:
    settings = "timezone: Asia/Kolkata\nnetworks: [x]\nfeed:\n  url: null\n"
    write_tree(tmp_path, settings=settings, awareness={"idpd": IDPD})
    result = bot(["tick", "--dry-run"], clean_env(tmp_path), cwd=tmp_path)
    lines = log_lines(result.stderr)
    assert lines and all(LOG_LINE.match(line) for line in lines), lines
    # Kolkata has no daylight saving time: +05:30 all year, never the machine's zone (UTC here)
    assert all(line[19:25] == "+05:30" for line in lines), lines
    assert "BOT_NOW" not in result.stderr


# --------------------------------------------------------------------------- upcoming marks what has gone by


def upcoming_at(tmp_path: Path, when: datetime, *extra: str) -> str:
    result = bot(["upcoming", "--days", "1", *extra], clean_env(tmp_path, now=when), cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_upcoming_marks_a_post_whose_time_has_gone_by(tmp_path: Path) -> None:
    write_tree(tmp_path, awareness={"idpd": IDPD})
    afternoon = T0.replace(hour=13, minute=10)
    text = upcoming_at(tmp_path, afternoon)
    morning, later = text.split("\n\n")[:2]
    assert morning.startswith("2026-12-03T10:00:00-05:00")
    assert "    (past: its time has gone by; `status` shows whether it went out)" in morning
    assert later.startswith("2026-12-03T16:00:00-05:00") and "past" not in later
    assert text.rstrip().endswith(
        "2 post(s) from 2026-12-03 to 2026-12-03 (America/New_York); 1 already past, marked (past: ...)"
    )
    entries = json.loads(upcoming_at(tmp_path, afternoon, "--json"))
    assert [(e["past"], e["ledger"]) for e in entries] == [(True, None), (False, None)]
    assert not (tmp_path / "ledger.sqlite3").exists()  # a preview never creates the ledger


def test_upcoming_says_what_the_ledger_knows_of_past_posts(tmp_path: Path) -> None:
    write_tree(tmp_path, awareness={"idpd": IDPD})
    key, due = "awareness/idpd/2026/1", T0.replace(second=0)
    with Ledger.open(tmp_path / "ledger.sqlite3") as ledger:
        for network in ("x", "bluesky"):
            ledger.ensure(
                key, network, dry_run=False, source="awareness", name="IDPD", due_at=due, payload="{}", now=T0
            )
        ledger.claim(key, "x", dry_run=False, owner="test", now=T0)
        ledger.mark_sent(key, "x", dry_run=False, remote_id="1", url="https://x.com/i/1", cost=0.2, now=T0)
        ledger.mark_skipped(key, "bluesky", dry_run=False, reason="skipped by a maintainer", now=T0)
    afternoon = T0.replace(hour=13, minute=10)
    morning, later = upcoming_at(tmp_path, afternoon).split("\n\n")[:2]
    assert "    (past: x sent, bluesky skipped)" in morning
    assert "past" not in later
    entries = json.loads(upcoming_at(tmp_path, afternoon, "--json"))
    assert [e["ledger"] for e in entries] == [
        {"x": "sent", "bluesky": "skipped"},
        {"x": None, "bluesky": None},
    ]
