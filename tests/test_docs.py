"""The documentation is part of the product: every command is in the README with help text, the contributor's
example file is valid, and the repository carries what a fresh machine needs."""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from PIL import Image

from bot.cli import build_parser
from bot.schedules import load_schedules
from tests.shared import skip_reason

REPO = Path(__file__).resolve().parents[1]


def subcommands() -> dict[str, argparse.ArgumentParser]:
    parser = build_parser()
    action = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return dict(action.choices)


@pytest.mark.parametrize("name", sorted(subcommands()))
def test_every_command_has_help_and_is_in_the_readme(name: str) -> None:
    sub = subcommands()[name]
    assert sub.description, f"`{name}` has no description for --help"
    readme = (REPO / "README.md").read_text()
    assert f"python -m bot {name}" in readme, f"`{name}` is not documented in README.md"
    for action in sub._actions:
        if action.option_strings and action.dest != "help":
            assert action.help, f"`{name} {action.option_strings[0]}` has no help text"
            documented = any(opt in readme for opt in action.option_strings)
            assert documented or action.dest in ("schedules", "content"), (
                f"`{name} {action.option_strings[0]}` is not mentioned in README.md"
            )


def test_help_runs_without_importing_the_network_libraries() -> None:
    for args in (["--help"], ["validate", "--help"], ["upcoming", "--help"], ["calendar", "--help"]):
        code = (
            "import sys, runpy; sys.argv = ['bot', *sys.argv[1:]]\n"
            "try:\n    runpy.run_module('bot', run_name='__main__')\nexcept SystemExit:\n    pass\n"
            "print('LOADED', sorted(m for m in sys.modules if m.split('.')[0] in ('tweepy', 'atproto')))"
        )
        result = subprocess.run(
            [sys.executable, "-c", code, *args], capture_output=True, text=True, cwd=REPO, check=False
        )
        assert "LOADED []" in result.stdout, (args, result.stdout[-300:], result.stderr[-300:])


def test_readme_quickstart_has_exactly_two_commands() -> None:
    readme = (REPO / "README.md").read_text()
    quick = readme.split("## Quickstart", 1)[1].split("\n## ", 1)[0]
    blocks = re.findall(r"```sh\n(.*?)```", quick, re.S)
    assert blocks == [
        "python -m pip install -e . && python -m bot run\n",
        "python -m pip install -e '.[test]' && python -m pytest\n",
    ]


def test_quickstart_says_what_shared_is_for_in_the_skip_messages_words() -> None:
    """Someone who cloned from GitHub has no ../shared: the README and each skip message say what it is and what
    is left untested, in the same words."""
    readme = (REPO / "README.md").read_text()
    quick = readme.split("## Quickstart", 1)[1].split("\n## ", 1)[0]
    for words in (
        "`../shared`",
        "X's published OpenAPI spec",
        "twitter-text's conformance data",
        "are skipped",
    ):
        assert words in quick, words
    reason = skip_reason(
        REPO.parent / "shared" / "reference" / "x-api" / "openapi.json", "the X adapter tests"
    )
    start = re.search(r'message starting "([^"]+)"', quick)
    assert start is not None and reason.startswith(start.group(1)), reason
    assert (
        "the X adapter tests need " in reason
        and "not part of it" in reason
        and "README, Quickstart" in reason
    )


def test_contributing_example_is_a_valid_observance(tmp_path: Path) -> None:
    text = (REPO / "CONTRIBUTING.md").read_text()
    example = re.search(r"```yaml\n(.*?)```", text, re.S)
    assert example is not None
    body = "\n".join(line[3:] if line.startswith("   ") else line for line in example.group(1).splitlines())
    data = yaml.safe_load(body)
    schedules = tmp_path / "schedules"
    (schedules / "awareness").mkdir(parents=True)
    (schedules / "awareness" / "world-down-syndrome-day.yaml").write_text(body)
    images = tmp_path / "content" / "images"
    images.mkdir(parents=True)
    for post in data["posts"]:
        for image in post.get("images", []):
            Image.new("RGB", (40, 30), "white").save(tmp_path / "content" / image["file"])
    loaded = load_schedules(schedules, tmp_path / "content")
    assert [p.format() for p in loaded.problems] == []
    assert [o.id for o in loaded.schedules.observances] == ["world-down-syndrome-day"]


def test_repository_ships_what_a_fresh_machine_needs() -> None:
    assert (REPO / "Procfile").read_text().strip() == "worker: python -m bot run"
    assert (REPO / ".ci" / "run").is_file()
    ignored = (REPO / ".gitignore").read_text().splitlines()
    assert ".env" in ignored
    example = (REPO / ".env.example").read_text()
    readme = (REPO / "README.md").read_text()
    for name in re.findall(
        r"`([A-Z][A-Z0-9_]{2,})`", readme.split("## Configuration", 1)[1].split("\n## ", 1)[0]
    ):
        assert name in example, f"{name} is documented but missing from .env.example"
