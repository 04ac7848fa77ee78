"""The limits a network's server states (a Mastodon instance's post length), kept in the ledger by the bot, are
what the offline commands check against: ``validate`` and ``upcoming`` read them without creating, changing or
locking the ledger, and without importing the PostgreSQL driver."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from bot import serveroptions
from bot.store import Ledger
from tests.e2e_helpers import bot, clean_env
from tests.mastodon_fixtures import mastodon_server
from tests.service_fixtures import SETTINGS, write_tree

__all__ = ["mastodon_server"]  # the fixture, used by name

NY = ZoneInfo("America/New_York")
LONG = " ".join(["Children deserve schools that keep them safe and calm every day."] * 11)
SIZE = len(LONG)  # 714 characters
ONLY_MASTODON = SETTINGS.replace("networks: [x, bluesky]", "networks: [mastodon]")


def long_post_tree(root: Path, settings: str = ONLY_MASTODON) -> Path:
    queue = f'posts:\n  - id: long-one\n    at: "2026-12-20 10:00"\n    text: "{LONG}"\n'
    return write_tree(root, queue=queue, settings=settings)


def store(ledger_path: Path, network: str, **found: int) -> None:
    with Ledger.open(ledger_path) as ledger:
        ledger.set_flag(serveroptions.flag(network), serveroptions.encode(found))


def validate(tmp: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = clean_env(tmp, now=datetime(2026, 12, 3, 9, 0, tzinfo=NY))
    return bot(["validate", *args], env, cwd=tmp)


def test_an_instance_that_allows_more_lets_a_longer_post_through(tmp_path: Path) -> None:
    long_post_tree(tmp_path)
    before = validate(tmp_path)
    assert before.returncode == 1
    assert f"text is too long for mastodon: {SIZE}/500 characters" in before.stdout
    store(tmp_path / "ledger.sqlite3", "mastodon", instance_max_characters=1000)
    after = validate(tmp_path)
    assert after.returncode == 0, after.stdout + after.stderr
    assert "0 error(s)" in after.stdout


def test_the_instance_s_own_limit_wins_over_the_settings(tmp_path: Path) -> None:
    long_post_tree(tmp_path, ONLY_MASTODON + "mastodon:\n  max_characters: 1000\n")
    assert validate(tmp_path).returncode == 0
    store(tmp_path / "ledger.sqlite3", "mastodon", instance_max_characters=600)
    result = validate(tmp_path, "--json")
    assert result.returncode == 1
    [problem] = json.loads(result.stdout)
    assert problem["message"].startswith(f"text is too long for mastodon: {SIZE}/600 characters")
    assert problem["file"].endswith("queue/posts.yaml") and problem["line"] == 4


def test_reading_the_limits_leaves_the_ledger_as_it_was_and_needs_no_driver(tmp_path: Path) -> None:
    long_post_tree(tmp_path)
    ledger = tmp_path / "ledger.sqlite3"
    store(ledger, "mastodon", instance_max_characters=1000)
    before = ledger.read_bytes()
    script = (
        "import sys\nfrom bot.cli import main\ncode = main(['validate'])\n"
        "print(code, sorted(m for m in sys.modules if m.split('.')[0] in ('psycopg', 'psycopg_binary')))\n"
    )
    env = clean_env(tmp_path, now=datetime(2026, 12, 3, 9, 0, tzinfo=NY))
    result = subprocess.run(
        [sys.executable, "-c", script], env=env, cwd=tmp_path, capture_output=True, text=True, check=True
    )
    assert result.stdout.strip().splitlines()[-1] == "0 []"
    assert ledger.read_bytes() == before
    assert not (tmp_path / "ledger.sqlite3-journal").exists()


@pytest.mark.parametrize(
    "content",
    [
        b"not a database at all",
        b"",  # an empty file: SQLite would take it as a new database
    ],
)
def test_a_file_that_is_not_a_ledger_is_no_stored_limits(tmp_path: Path, content: bytes) -> None:
    long_post_tree(tmp_path)
    (tmp_path / "ledger.sqlite3").write_bytes(content)
    result = validate(tmp_path)
    assert result.returncode == 1
    assert f"{SIZE}/500" in result.stdout
    assert "Traceback" not in result.stderr
    assert (tmp_path / "ledger.sqlite3").read_bytes() == content


def test_unreadable_or_foreign_values_are_ignored(tmp_path: Path) -> None:
    path = tmp_path / "ledger.sqlite3"
    with Ledger.open(path) as ledger:
        ledger.set_flag(serveroptions.flag("mastodon"), "{not json")
        ledger.set_flag(serveroptions.flag("x"), json.dumps(["a", "list"]))
        ledger.set_flag(serveroptions.flag("bluesky"), json.dumps({"instance_max_characters": 900, "n": None}))
    assert serveroptions.read_stored(str(path)) == {"bluesky": {"instance_max_characters": 900}}
    assert serveroptions.read_stored(str(tmp_path / "missing.sqlite3")) == {}
    with sqlite3.connect(path) as db:
        db.execute("DROP TABLE flags")
    assert serveroptions.read_stored(str(path)) == {}


def test_what_the_bot_learns_from_the_instance_is_what_validate_uses(
    tmp_path: Path, mastodon_server: Any
) -> None:
    """End to end: settings allow 1000, the instance (mastodon-mock) says 500; once ``check`` has asked it,
    ``validate`` and ``upcoming`` hold the post to the instance's 500."""
    long_post_tree(tmp_path, ONLY_MASTODON + "mastodon:\n  max_characters: 1000\n")
    assert validate(tmp_path).returncode == 0
    creds = {
        "MASTODON_API_BASE_URL": mastodon_server.base_url,
        "MASTODON_ACCESS_TOKEN": mastodon_server.client("alice").access_token,
    }
    env = clean_env(tmp_path, now=datetime(2026, 12, 3, 9, 0, tzinfo=NY), extra=creds)
    check = bot(["check"], env, cwd=tmp_path)
    assert "mastodon: OK" in check.stdout, check.stdout + check.stderr
    stored = serveroptions.read_stored(str(tmp_path / "ledger.sqlite3"))
    assert stored["mastodon"]["instance_max_characters"] == 500
    result = validate(tmp_path)
    assert result.returncode == 1
    assert f"text is too long for mastodon: {SIZE}/500 characters" in result.stdout
    upcoming = bot(["upcoming", "--from", "2026-12-20", "--days", "1", "--json"], env, cwd=tmp_path)
    [entry] = json.loads(upcoming.stdout)
    assert entry["posts"]["mastodon"]["limit"] == 500 and entry["posts"]["mastodon"]["fits"] is False
