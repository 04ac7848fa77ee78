"""The table-driven hostile-input suite: every case in tests/data/hostile/ (one file each, its expected result in
its header, like feedparser's tests) through `validate`, `tick --dry-run` and `changes`, and a table of hostile
`post --dry-run` arguments. Each run is a real subprocess of the CLI; each must give a clear error (the case's
words), no traceback, no raw escape sequence, bounded time and memory (the child's own peak RSS), and no secret
from the environment or the .env file in any output or in the ledger's payloads.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from tests.hostile_cases import DOTENV_SECRET, ENV_SECRET, Case, Run, build_tree, cases, environment, run_bot

MAX_SECONDS = 60.0
"""Generous for a loaded 2-core machine; the cases take well under a second each (bench/bench_hostile.py)."""
MAX_RSS_MB = 400.0
"""Decoding the 12000x12000 image took 2.7 GB; the bot itself needs well under 100 MB."""
CASES = cases()


def assert_safe(run: Run, *extra: str) -> None:
    assert "Traceback" not in run.output, run.output[-2000:]
    for secret in (DOTENV_SECRET, ENV_SECRET, *extra):
        assert secret not in run.output
    for raw in ("\x1b", "\x07", "\x00", "\u202e"):
        assert raw not in run.output, f"raw {raw!r} reached the terminal"
    assert run.seconds < MAX_SECONDS, run.seconds
    assert run.max_rss_mb < MAX_RSS_MB, run.max_rss_mb


def test_every_case_names_what_it_tries_and_expects() -> None:
    assert len(CASES) >= 25
    for case in CASES:
        assert case.about and case.expect, case.name


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_hostile_schedule(case: Case, tmp_path: Path) -> None:
    root = build_tree(tmp_path, case)
    env = environment(root)
    where = f"queue/{case.name}.yaml:"

    validate = run_bot(["validate"], env, root)
    assert_safe(validate)
    assert validate.returncode == (0 if case.warning_only else 1), validate.output
    lines = [line for line in validate.output.splitlines() if where in line]
    assert any(case.expect in line for line in lines), (case.expect, validate.output)

    ledger = root / "rehearsal.sqlite3"
    tick = run_bot(["tick", "--dry-run", "--rehearsal-ledger", str(ledger)], env, root)
    assert_safe(tick)
    assert tick.returncode == 0, tick.output
    if case.warning_only:
        assert "would post queue/hostile" in tick.output or "queue/hostile" in tick.output
    else:
        assert "schedule problem" in tick.stderr and case.expect in tick.stderr, tick.stderr
    with sqlite3.connect(ledger) as db:
        payloads = [row[0] for row in db.execute("SELECT payload FROM deliveries")]
    assert bool(payloads) == case.warning_only
    for payload in payloads:
        assert DOTENV_SECRET not in payload and ENV_SECRET not in payload

    (root / "base").mkdir()
    changes = run_bot(["changes", "--base", str(root / "base")], env, root)
    assert_safe(changes)
    assert changes.returncode == 0, changes.output
    if not case.warning_only:
        assert "problem(s) in the schedules" in changes.stdout


POST_CASES = {
    "image beside the working directory": (
        ["--image", "../outside.png", "--alt", "A photo."],
        "leads outside",
    ),
    "absolute image outside": (["--image", "/etc/passwd", "--alt", "A file."], "leads outside"),
    "image symlinked outside": (["--image", "photo-link.png", "--alt", "A photo."], "leads outside"),
    "image symlinked to /dev/zero": (["--image", "zero-link.txt", "--alt", "Zeros."], "leads outside"),
    "image that is a named pipe": (["--image", "pipe.txt", "--alt", "A pipe."], "not a regular file"),
    "decompression bomb": (["--image", "bomb.png", "--alt", "A photo."], "megapixels"),
    "junk named .png": (["--image", "junk.png", "--alt", "A photo."], "not an image Pillow can read"),
    "invisible alt text": (["--image", "ok.png", "--alt", "\u200b\u2060"], "alt text for ok.png is empty"),
    "escape in the text": (["\x1b[2JHello"], "control characters (U+001B)"),
    "escape in the alt text": (["--image", "ok.png", "--alt", "A \x1b[8m photo"], "control characters"),
}


@pytest.mark.parametrize(("extra", "expect"), POST_CASES.values(), ids=list(POST_CASES))
def test_hostile_post_dry_run(extra: list[str], expect: str, tmp_path: Path) -> None:
    root = build_tree(tmp_path, None)
    args = ["post", *(extra if not extra[0].startswith("--") else ["A post.", *extra]), "--dry-run"]
    run = run_bot(args, environment(root), root / "content")
    assert_safe(run)
    assert run.returncode != 0
    assert expect in run.stderr, run.stderr
    assert len(run.stderr.strip().splitlines()) == 1, run.stderr


def test_a_good_post_dry_run_still_works(tmp_path: Path) -> None:
    root = build_tree(tmp_path, None)
    run = run_bot(
        ["post", "A calm post.", "--image", "ok.png", "--alt", "A blue square.", "--dry-run"],
        environment(root),
        root / "content",
    )
    assert_safe(run)
    assert run.returncode == 0, run.output
