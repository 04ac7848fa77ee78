"""The CLI package's layout is its contract: every command belongs to exactly one group, the group's module runs
it, and every command reads the one clock (``BOT_NOW``)."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.cli import (
    CONTROLS,
    PUBLISHING,
    READ_ONLY,
    build_parser,
    controls,
    handler,
    main,
    publishing,
    readonly,
)

REPO = Path(__file__).resolve().parents[1]


def test_every_command_is_in_exactly_one_group_and_its_module_runs_it() -> None:
    parser = build_parser()
    subparsers = next(a for a in parser._actions if a.dest == "command")
    commands = set(subparsers.choices)  # type: ignore[arg-type]
    groups = [READ_ONLY, CONTROLS, PUBLISHING]
    assert sorted(c for g in groups for c in g) == sorted(commands)
    for group, module in zip(groups, [readonly, controls, publishing], strict=True):
        assert set(module.COMMANDS) == set(group)
        for command in group:
            assert handler(command) is module.COMMANDS[command]


def test_upcoming_starts_on_the_local_day_bot_now_names(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # 03:30 UTC on 1 March is still 28 February in New York (the shipped settings' time zone).
    monkeypatch.setenv("BOT_NOW", "2031-03-01T03:30:00+00:00")
    assert main(["upcoming", "--schedules", str(REPO / "schedules"), "--days", "2"]) == 0
    last = capsys.readouterr().out.splitlines()[-1]
    assert "from 2031-02-28 to 2031-03-01 (America/New_York)" in last
    monkeypatch.setenv("BOT_NOW", "2031-03-01T12:00:00+00:00")
    assert main(["upcoming", "--schedules", str(REPO / "schedules"), "--days", "1"]) == 0
    assert "from 2031-03-01 to 2031-03-01" in capsys.readouterr().out.splitlines()[-1]


def test_changes_starts_on_the_day_bot_now_names(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("BOT_NOW", "2031-03-01T12:00:00+00:00")
    schedules = str(REPO / "schedules")
    assert main(["changes", "--schedules", schedules, "--base", schedules, "--days", "3"]) == 0
    out = capsys.readouterr().out
    assert "2031-03-01" in out
    assert "2031-03-03" in out


def test_commands_that_need_no_ledger_do_not_import_its_driver() -> None:
    """psycopg costs ~0.1 s to import; `validate` in CI and in a contributor's terminal must not pay it."""
    import subprocess
    import sys

    script = (
        "import sys\nfrom bot.cli import main\ncode = main(['validate'])\n"
        "print(code, sorted(m for m in sys.modules if m.split('.')[0] in ('psycopg', 'psycopg_binary')))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, cwd=REPO, timeout=120, check=True
    )
    assert result.stdout.strip().splitlines()[-1] == "0 []"
