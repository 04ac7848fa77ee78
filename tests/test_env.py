"""Secrets come from the environment or a git-ignored .env, and never reach output, logs or errors."""

from __future__ import annotations

from pathlib import Path

from tests.e2e_helpers import bot, clean_env
from tests.service_fixtures import write_tree


def test_dotenv_is_read_and_its_secrets_never_printed(tmp_path: Path) -> None:
    write_tree(tmp_path)
    secret = "app-pass-7f3k-9q2z-secret"
    (tmp_path / ".env").write_text(
        "BLUESKY_HANDLE=aasr.example\n"
        f"BLUESKY_APP_PASSWORD={secret}\n"
        "BLUESKY_SERVICE=http://127.0.0.1:9\n"  # nothing listens there: the check fails, and says so
    )
    result = bot(["check"], clean_env(tmp_path), cwd=tmp_path)
    assert result.returncode == 1
    assert "bluesky: FAILED" in result.stdout
    assert "x: not configured" in result.stdout
    assert secret not in result.stdout + result.stderr
    tick = bot(["tick"], clean_env(tmp_path, extra={"LOG_LEVEL": "DEBUG"}), cwd=tmp_path)
    assert "bluesky: posting for real as @aasr.example" in tick.stderr
    assert secret not in tick.stdout + tick.stderr


def test_environment_wins_over_dotenv(tmp_path: Path) -> None:
    write_tree(tmp_path)
    (tmp_path / ".env").write_text("BLUESKY_HANDLE=from.dotenv\nBLUESKY_APP_PASSWORD=x1x2x3x4\n")
    env = clean_env(
        tmp_path, extra={"BLUESKY_HANDLE": "from.environment", "BLUESKY_SERVICE": "http://127.0.0.1:9"}
    )
    tick = bot(["tick"], env, cwd=tmp_path)
    assert "@from.environment" in tick.stderr and "from.dotenv" not in tick.stderr


def test_half_configured_x_is_named_not_silently_dry(tmp_path: Path) -> None:
    write_tree(tmp_path)
    tick = bot(["tick"], clean_env(tmp_path, extra={"X_API_KEY": "k", "X_API_SECRET": "s"}), cwd=tmp_path)
    assert "X credentials incomplete, missing X_ACCESS_TOKEN, X_ACCESS_TOKEN_SECRET" in tick.stderr
