"""Benchmark: the daemon's idle CPU over a minute and its resident memory with every network's adapter loaded.

    python bench/bench_daemon.py [--seconds 60]

Starts `python -m bot run` with X, Bluesky and Mastodon credentials set and all three networks enabled
(pointing at closed local ports, so the real adapters, tweepy, atproto and Mastodon.py, are imported and
constructed but nothing is sent), a real schedule tree (the
shipped awareness calendar, queue and recurring posts copied into a temp folder) and the feed switched off,
waits until it has started, then samples /proc for the given time. Target: RSS under 120 MB; idle CPU near zero.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS  # utime + stime


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=60.0)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        shutil.copytree(REPO / "schedules", root / "schedules")
        shutil.copytree(REPO / "content", root / "content")
        settings = root / "schedules" / "settings.yaml"
        text = settings.read_text()
        text = text.replace("url: https://endseclusion.org/feed/", "url: null")
        settings.write_text(re.sub(r"(?m)^networks: .*$", "networks: [x, bluesky, mastodon]", text))
        env = {
            k: v
            for k, v in os.environ.items()
            if not k.startswith(("X_", "BLUESKY_", "MASTODON_", "BOT_", "DATABASE_URL"))
        }
        env.update(
            {
                "BOT_DB": str(root / "ledger.sqlite3"),
                "BOT_SCHEDULES": str(root / "schedules"),
                "BOT_CONTENT": str(root / "content"),
                "LOG_LEVEL": "INFO",
                "PYTHONPATH": str(REPO),
                "X_API_KEY": "bench",
                "X_API_SECRET": "bench",
                "X_ACCESS_TOKEN": "bench",
                "X_ACCESS_TOKEN_SECRET": "bench",
                "X_API_BASE_URL": "http://127.0.0.1:9",
                "BLUESKY_HANDLE": "bench.test",
                "BLUESKY_APP_PASSWORD": "bench",
                "BLUESKY_SERVICE": "http://127.0.0.1:9",
                "MASTODON_API_BASE_URL": "http://127.0.0.1:9",
                "MASTODON_ACCESS_TOKEN": "bench",
                # A quiet instant for the pass at start-up: nothing of the calendar is due within the grace period.
                "BOT_NOW": "2026-08-20T03:00:00-04:00",
            }
        )
        started = time.monotonic()
        proc = subprocess.Popen(
            [sys.executable, "-m", "bot", "run"],
            env=env,
            cwd=root,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        assert proc.stderr is not None
        banner = []
        for line in proc.stderr:
            banner.append(line)
            if "aasr-bot running" in line:
                break
        real = [line for line in banner if "posting for real" in line]
        assert len(real) == 3, "all three adapters must be loaded:\n" + "".join(banner)
        startup = time.monotonic() - started
        time.sleep(3)  # let the start-up pass finish before measuring idleness
        rss_start = rss_mb(proc.pid)
        cpu0, t0 = cpu_seconds(proc.pid), time.monotonic()
        peak = rss_start
        while time.monotonic() - t0 < args.seconds:
            time.sleep(1)
            peak = max(peak, rss_mb(proc.pid))
        cpu1, t1 = cpu_seconds(proc.pid), time.monotonic()
        proc.terminate()
        proc.wait(timeout=30)
        print(f"start-up to 'running': {startup:.2f} s")
        print(
            f"idle CPU over {t1 - t0:.0f} s: {cpu1 - cpu0:.3f} CPU-seconds ({100 * (cpu1 - cpu0) / (t1 - t0):.3f} %)"
        )
        print(f"resident memory: {rss_start:.1f} MB after start-up, peak {peak:.1f} MB (target < 120 MB)")
    probe = subprocess.run(
        [
            sys.executable,
            "-c",
            "import resource, tweepy, atproto, mastodon, bot.publishers.x, bot.publishers.bluesky;"
            "print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)",
        ],
        capture_output=True,
        text=True,
        cwd=REPO,
        check=True,
    )
    print(
        f"for scale: a bare python importing tweepy + atproto + Mastodon.py peaks at {float(probe.stdout):.1f} MB"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
