"""`python -m bot validate`: exit codes, one problem per line, --strict, --json, BOT_SCHEDULES; no traceback
on any file; and the read-only commands never import the network SDKs."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from PIL import Image as PILImage

from bot.cli import main

REPO = Path(__file__).resolve().parents[1]
DATA = Path(__file__).parent / "data" / "schedules"
OBS = "name: Test Day\nwhen: May 1\nsource: https://example.org/day\nposts:\n  - text: {text}\n"


def write(root: Path, files: dict[str, str | bytes]) -> Path:
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(text if isinstance(text, bytes) else text.encode("utf-8"))
    return root


def run_cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        capture_output=True,
        text=True,
        cwd=REPO,
        env={**os.environ, **(env or {})},
        timeout=120,
        check=False,
    )


def test_shipped_schedules_are_valid(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["validate", "--schedules", str(REPO / "schedules")]) == 0
    out = capsys.readouterr().out
    assert out.startswith("valid: ")
    assert "0 error(s)" in out


def test_invalid_tree_exits_1_with_one_line_per_problem(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = write(
        tmp_path / "s",
        {
            "awareness/a.yaml": OBS.format(text="hi") + "    tme: '10:00'\n",
            "awareness/b.yaml": "name: B\nwhen: Decembr 3\nsource: https://example.org/b\nposts:\n  - text: hi\n",
        },
    )
    assert main(["validate", "--schedules", str(root)]) == 1
    captured = capsys.readouterr()
    lines = captured.out.splitlines()
    assert lines == [
        f"{root}/awareness/a.yaml:6:5: error: unknown key 'tme' in a post (hint: did you mean 'time'?)",
        f"{root}/awareness/b.yaml:2:7: error: unknown month 'Decembr' (did you mean December?)"
        ' (hint: month names are written in full, in English, e.g. "December")',
    ]
    assert captured.err.startswith("INVALID: 2 file(s), 0 observance(s)")


def test_strict_turns_accessibility_warnings_into_errors(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = write(tmp_path / "s", {"awareness/a.yaml": OBS.format(text="'Join us. #restraintandseclusion'")})
    assert main(["validate", "--schedules", str(root)]) == 0
    assert "warning: hashtag #restraintandseclusion is all lowercase" in capsys.readouterr().out
    assert main(["validate", "--schedules", str(root), "--strict"]) == 1
    out = capsys.readouterr().out
    assert f"{root}/awareness/a.yaml:5:11: error: hashtag #restraintandseclusion" in out
    assert "#RestraintAndSeclusion" in out


def test_json_lists_every_problem_with_its_position(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = write(tmp_path / "s", {"awareness/a.yaml": OBS.format(text="CLICK HERE") + "  - {}\n"})
    assert main(["validate", "--schedules", str(root), "--json"]) == 1
    problems = json.loads(capsys.readouterr().out)
    assert sorted((p["line"], p["column"], p["severity"], p["code"]) for p in problems) == [
        (5, 11, "warning", "all-caps"),  # CLICK
        (5, 11, "warning", "all-caps"),  # HERE
        (5, 11, "warning", "link-text"),
        (6, 5, "error", ""),
    ]
    assert problems[-1]["message"] == "text is missing"
    assert problems[-1]["file"] == f"{root}/awareness/a.yaml"


def test_bot_schedules_environment_variable_is_honoured(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    root = write(tmp_path / "s", {"awareness/a.yaml": "name: A\n"})
    monkeypatch.setenv("BOT_SCHEDULES", str(root))
    assert main(["validate"]) == 1
    assert f"{root}/awareness/a.yaml:1:1: error: when is missing" in capsys.readouterr().out
    # --schedules still wins over the environment.
    assert main(["validate", "--schedules", str(DATA / "dst")]) == 0


@pytest.mark.parametrize(
    "argv",
    [
        ["validate", "--nope"],
        ["upcoming", "--from", "2027-02-30"],
        ["upcoming", "--days", "0"],
        ["upcoming", "--to", "2027-01-01", "--days", "3"],
        ["upcoming", "--from", "2027-03-02", "--to", "2027-03-01"],
        ["calendar"],
        ["calendar", "--year", "twenty"],
        ["calendar", "--year", "1800"],
        ["calendar", "--year", "2027", "--json", "--ics"],
        ["changes"],
        ["changes", "--base", "/nonexistent/schedules"],
    ],
)
def test_usage_errors_exit_2(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    try:
        code = main([*argv, "--schedules", str(DATA / "dst")])
    except SystemExit as exc:  # argparse's own exit
        code = int(exc.code or 0)
    assert code == 2
    last = capsys.readouterr().err.strip().splitlines()[-1]
    assert last.startswith((f"aasr-bot {argv[0]}: error: ", "aasr-bot: error: ")), last


NASTY: dict[str, str | bytes] = {
    "awareness/empty.yaml": "",
    "awareness/tabs.yaml": "name: x\n\twhen: May 1\n",
    "awareness/binary.yaml": bytes(range(256)),
    "awareness/latin1.yaml": "name: Caf\xe9\n".encode("latin-1"),
    "awareness/bomb.yaml": 'a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]\n'
    + "".join(
        f"{c}: &{c} [" + ",".join([f"*{p}"] * 9) + "]\n" for p, c in zip("abcdefgh", "bcdefghi", strict=True)
    ),
    "awareness/deep.yaml": "a: " + "[" * 200_000 + "]" * 200_000 + "\n",
    "awareness/list.yaml": "- name: x\n- when: y\n",
    "awareness/junk.yaml": "name: {a: [b, {c: [d, {e: f}]}]}\nwhen: [1]\nsource: {x: y}\nposts: {text: hi}\n",
    "queue/q.yaml": "posts:\n  - {id: a, at: '9999-12-31 23:59', text: x}\n"
    "  - {id: b, at: [x], text: {y: z}}\n",
    "recurring/r.yaml": "posts:\n  - {id: r, cron: '0 10 31 2 *', start: 9999-12-31, texts: [{text: a}]}\n",
    "settings.yaml": "timezone: [Mars]\ndefault_time: {a: b}\nfeed: 3\nblackout: {a: b}\n",
}


@pytest.mark.parametrize(
    "command", [["validate"], ["upcoming", "--days", "400"], ["calendar", "--year", "2027"]]
)
def test_nasty_files_never_produce_a_traceback(tmp_path: Path, command: list[str]) -> None:
    root = write(tmp_path / "schedules", NASTY)
    result = run_cli(*command, "--schedules", str(root))
    assert "Traceback" not in result.stderr, result.stderr[-2000:]
    assert result.returncode == (1 if command == ["validate"] else 0), result.stderr[-2000:]
    # What a contributor relies on: file and line, and plain words; the column depends on whether PyYAML's C
    # scanner (6.0.4) or the bot's own depth check stops first.
    assert re.search(
        r"awareness/deep\.yaml:1:\d+: error: values nested more than 50 levels deep \(hint: ",
        result.stdout + result.stderr,
    ), (result.stdout + result.stderr)[-2000:]


MODULES_AFTER = """
import json, sys
from bot.cli import main
try:
    code = main(sys.argv[1:])
except SystemExit as exc:
    code = exc.code
heavy = sorted(
    {m.split(".")[0] for m in sys.modules}
    & {"tweepy", "atproto", "atproto_client", "atproto_core", "requests", "mastodon"}
)
print(json.dumps({"code": code, "heavy": heavy}), file=sys.stderr)
"""


@pytest.mark.parametrize(
    "command",
    [
        ["validate"],
        ["upcoming", "--days", "365", "--json"],
        ["calendar", "--year", "2027", "--ics"],
        ["changes", "--base", "schedules"],
        ["status", "--json"],
        ["calendar", "--rolling", "--ics"],
        ["site", "--out", "TMP/site", "--status"],
        ["skip", "queue/nothing-here"],
        ["pause"],
        ["--help"],
        ["post", "--help"],
    ],
)
def test_read_only_commands_do_not_import_network_sdks(command: list[str], tmp_path: Path) -> None:
    command = [a.replace("TMP", str(tmp_path)) for a in command]
    result = subprocess.run(
        [sys.executable, "-c", MODULES_AFTER, *command],
        capture_output=True,
        text=True,
        cwd=REPO,
        env={**os.environ, "BOT_DB": str(tmp_path / "ledger.sqlite3")},
        timeout=120,
        check=False,
    )
    report = json.loads(result.stderr.strip().splitlines()[-1])
    assert report == {"code": 1 if command[0] == "skip" else 0, "heavy": []}


def test_content_folder_beside_a_copied_schedules_folder_is_used(tmp_path: Path) -> None:
    shutil.copytree(REPO / "schedules", tmp_path / "schedules")
    (tmp_path / "content" / "images").mkdir(parents=True)
    PILImage.new("RGB", (4, 4)).save(tmp_path / "content" / "images" / "a.png")  # validate reads headers
    write(
        tmp_path / "schedules",
        {
            "queue/extra.yaml": "posts:\n  - id: img\n    at: '2027-01-05 10:00'\n    text: Look.\n"
            "    images:\n"
            "      - file: images/a.png\n        alt: A test image.\n"
        },
    )
    result = run_cli("validate", "--schedules", str(tmp_path / "schedules"))
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_same_text_twice_within_30_days_on_x_is_a_warning_naming_both_places(tmp_path: Path) -> None:
    """X refuses a text it saw recently: the second post would fail, so validate says so before it does."""
    queue = (
        "posts:\n"
        '  - id: first\n    at: "2027-01-05 10:00"\n    text: Every child deserves a safe school.\n'
        '  - id: later\n    at: "2027-03-20 10:00"\n    text: Every child deserves a safe school.\n'
    )
    observance = (
        "name: Safe Schools Day\nwhen: January 20\nsource: https://example.org/day\nposts:\n"
        "  - text: Every child deserves a safe school.\n"
        "  - text: Every child deserves a safe school.\n    x: A different text on X.\n"
    )
    root = write(
        tmp_path / "schedules",
        {
            "settings.yaml": "timezone: America/New_York\n",
            "queue/q.yaml": queue,
            "awareness/day.yaml": observance,
        },
    )
    env = {"BOT_NOW": "2027-01-01T09:00:00-05:00"}
    result = run_cli("validate", "--schedules", str(root), env=env)
    assert result.returncode == 0, result.stdout + result.stderr
    warnings = [line for line in result.stdout.splitlines() if "same text on X" in line]
    # January 20 repeats January 5 (15 days); March 20 is 59 days after January 20: no warning.
    assert warnings == [
        f"{root}/awareness/day.yaml:5:1: warning: same text on X as {root}/queue/q.yaml:2 (2027-01-20 is 15 day(s)"
        " after 2027-01-05); X refuses a text it saw in the last 30 days (hint: vary one of the two texts, or"
        " give one a `x:` text of its own)"
    ]
    strict = run_cli("validate", "--strict", "--json", "--schedules", str(root), env=env)
    assert strict.returncode == 1
    [found] = [p for p in json.loads(strict.stdout) if p["code"] == "repeated-text"]
    assert (found["severity"], found["line"]) == ("error", 5)
