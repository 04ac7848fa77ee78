"""Run the real CLI in a subprocess against local servers, with a clean environment and an injected clock."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from bot.publishers.x import XCredentials

if TYPE_CHECKING:
    from tests.pds_fixtures import LocalPds
    from tests.xserver import XStandIn

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


def local_servers_env(
    tmp: Path, *, x_url: str, pds: LocalPds, now: datetime, extra: Mapping[str, str] | None = None
) -> dict[str, str]:
    """``clean_env`` for a bot that posts to the X stand-in (test keys) and to the local PDS."""
    from tests.x_fixtures import X_KEYS

    creds = XCredentials(
        X_KEYS.consumer_key, X_KEYS.consumer_secret, X_KEYS.token, X_KEYS.token_secret, x_url
    )
    bluesky = {"BLUESKY_SERVICE": pds.url, "BLUESKY_HANDLE": pds.handle, "BLUESKY_APP_PASSWORD": pds.password}
    return clean_env(tmp, now=now, x=creds, bluesky=bluesky, extra=extra)


def on_bot_clock(
    x: XStandIn, env_at: Callable[[datetime], dict[str, str]]
) -> Callable[[datetime], dict[str, str]]:
    """``env_at`` that also makes the X stand-in date new posts at the run's pretended time (``BOT_NOW``), as
    X would date them at the real time of a real run: the bot's crash recovery looks from its claim time."""

    def env(now: datetime) -> dict[str, str]:
        stamp = now.timestamp()
        x.post_clock = lambda: stamp
        return env_at(now)

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


def kill_at_random_point(
    proc: subprocess.Popen[str], progress: Callable[[], int], rng: random.Random, *, max_steps: int = 4
) -> bool:
    """SIGKILL ``proc`` at a random point of its pass: after 0..max_steps more units of ``progress`` (requests a
    server received), or, for 0, at a random instant of start-up. Returns True if it was killed, False if it
    finished first. Waits on the server's progress, not on a timer, so the kill lands mid-pass however fast
    the machine is."""
    steps = rng.randint(0, max_steps)
    start = progress()
    deadline = time.monotonic() + 60
    if steps == 0:
        time.sleep(rng.uniform(0.0, 0.8))  # somewhere in interpreter start-up, ledger work or the first claim
    else:
        while progress() < start + steps and proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.002)
        time.sleep(rng.uniform(0.0, 0.02))  # anywhere between one request and the next
    if proc.poll() is not None:
        proc.communicate(timeout=30)
        return False
    proc.send_signal(signal.SIGKILL)
    proc.communicate(timeout=30)
    return True


def crash_ticks_then_finish(
    cwd: Path,
    env_at: Callable[[datetime], dict[str, str]],
    progress: Callable[[], int],
    *,
    start: datetime,
    seed: int,
    kills_wanted: int = 5,
    max_runs: int = 12,
) -> tuple[int, int, subprocess.CompletedProcess[str]]:
    """Run `tick` again and again, SIGKILLing each at a random point, until ``kills_wanted`` kills (or
    ``max_runs``), each run 2 minutes later (past a 60 s lease); then one uninterrupted tick.
    Returns (kills, runs, the final tick)."""
    rng = random.Random(seed)
    kills = runs = 0
    now = start
    while kills < kills_wanted and runs < max_runs:
        kills += kill_at_random_point(start_bot(["tick"], env_at(now), cwd=cwd), progress, rng)
        runs += 1
        now += timedelta(minutes=2)
    return kills, runs, bot(["tick"], env_at(now), cwd=cwd)
