"""Run the real CLI in a subprocess against local servers, with a clean environment and an injected clock."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Mapping
from datetime import datetime
from pathlib import Path

from bot.models import XCredentials

REPO = Path(__file__).resolve().parents[1]
SECRET_PREFIXES = ("X_", "BLUESKY_", "BOT_", "DATABASE_URL", "LOG_LEVEL")


def clean_env(
    tmp: Path,
    *,
    now: datetime | None = None,
    x: XCredentials | None = None,
    bluesky: Mapping[str, str] | None = None,
    extra: Mapping[str, str] | None = None,
) -> dict[str, str]:
    """The parent's environment minus anything of ours, plus what this test wants."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(SECRET_PREFIXES)}
    env.update(
        {
            "BOT_DB": str(tmp / "ledger.sqlite3"),
            "BOT_SCHEDULES": str(tmp / "schedules"),
            "BOT_CONTENT": str(tmp / "content"),
            "LOG_LEVEL": "INFO",
            "PYTHONPATH": str(REPO),
        }
    )
    if now is not None:
        env["BOT_NOW"] = now.isoformat()
    if x is not None:
        env.update(
            {
                "X_API_KEY": x.api_key,
                "X_API_SECRET": x.api_secret,
                "X_ACCESS_TOKEN": x.access_token,
                "X_ACCESS_TOKEN_SECRET": x.access_token_secret,
                "X_API_BASE_URL": x.base_url,
            }
        )
    env.update(bluesky or {})
    env.update(extra or {})
    return env


def bot(
    args: list[str], env: Mapping[str, str], *, cwd: Path, timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        env=dict(env),
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def start_bot(args: list[str], env: Mapping[str, str], *, cwd: Path) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "bot", *args],
        env=dict(env),
        cwd=cwd,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
