"""The hostile-input cases (tests/data/hostile/*.yaml) and the tree they run in; shared by
tests/test_hostile_inputs.py and bench/bench_hostile.py.

Each case is one queue file whose header says what it tries and what the bot must say:

    # hostile: <what an attacker tries>
    # expect: <words the error or warning contains>

The tree around it holds everything such a file might reach for: a ``.env`` with a secret beside ``content/``,
symlinks (to that file, to ``/dev/zero``, to the parent folder, in a loop), a named pipe, a folder, oversized,
binary and escape-laden texts, and images that are bombs, junk or the wrong format.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from PIL import Image as PILImage

from tests.e2e_helpers import REPO
from tests.hostile_images import write_bomb

CASES_DIR = Path(__file__).parent / "data" / "hostile"
DOTENV_SECRET = "dotenv-secret-Zq81vT3kW"
ENV_SECRET = "env-secret-Hw72pL9xQ"
NOW = "2027-01-05T10:00:30-05:00"
SETTINGS = """\
timezone: America/New_York
networks: [x, bluesky]
feed:
  url: null
"""


@dataclass(frozen=True, slots=True)
class Case:
    name: str
    path: Path
    about: str
    expect: str

    @property
    def warning_only(self) -> bool:
        return "(warning)" in self.about


def cases() -> list[Case]:
    found = []
    for path in sorted(CASES_DIR.glob("*.yaml")):
        header = dict(
            line[2:].split(": ", 1) for line in path.read_text().splitlines() if line.startswith("# ")
        )
        found.append(Case(path.stem, path, header["hostile"], header["expect"]))
    return found


def build_tree(root: Path, case: Case | None) -> Path:
    """``root`` with schedules/ (settings and the case's queue file), content/ (the traps) and a .env."""
    schedules = root / "schedules"
    (schedules / "queue").mkdir(parents=True)
    (schedules / "settings.yaml").write_text(SETTINGS)
    if case is not None:
        (schedules / "queue" / f"{case.name}.yaml").write_text(case.path.read_text())
    (root / ".env").write_text(f"BLUESKY_APP_PASSWORD={DOTENV_SECRET}\n")
    PILImage.new("RGB", (8, 8), "red").save(root / "outside.png")
    content = root / "content"
    (content / "images").mkdir(parents=True)
    PILImage.new("RGB", (16, 16), "blue").save(content / "ok.png")
    PILImage.new("RGB", (16, 16)).save(content / "picture.png", "BMP")
    write_bomb(content / "bomb.png")
    write_bomb(content / "big12k.png", 12_000, 12_000)
    (content / "junk.png").write_text("this is not a picture")
    (content / "huge.txt").write_text("word " * 14_000)
    (content / "binary.txt").write_bytes(b"\xff\xfe\x00\x81 not utf-8 \xc3\x28")
    (content / "escapes.txt").write_text("Hello \x1b[2J\x1b[31mworld\x1b]0;pwned\x07")
    (content / "secrets-link.txt").symlink_to(root / ".env")
    (content / "zero-link.txt").symlink_to("/dev/zero")
    (content / "photo-link.png").symlink_to(root / "outside.png")
    (content / "outside-dir").symlink_to(root)
    (content / "loop.txt").symlink_to(content / "loop.txt")
    os.mkfifo(content / "pipe.txt")
    return root


def environment(root: Path) -> dict[str, str]:
    from tests.e2e_helpers import clean_env

    return clean_env(root, extra={"X_API_SECRET": ENV_SECRET, "BOT_NOW": NOW})


@dataclass(frozen=True, slots=True)
class Run:
    returncode: int
    stdout: str
    stderr: str
    seconds: float
    max_rss_mb: float

    @property
    def output(self) -> str:
        return self.stdout + self.stderr


_MEASURE = """
import os, signal, sys
pid = os.fork()
if pid == 0:
    os.execv(sys.argv[2], sys.argv[2:])
_, status, usage = os.wait4(pid, 0)
with open(sys.argv[1], "w") as f:
    f.write(str(usage.ru_maxrss))
if os.WIFSIGNALED(status):
    signal.signal(os.WTERMSIG(status), signal.SIG_DFL)
    os.kill(os.getpid(), os.WTERMSIG(status))
sys.exit(os.waitstatus_to_exitcode(status))
"""
"""A small launcher that forks the bot and reports its peak memory. Linux keeps the old memory's high-water mark
across ``exec``, so a bot started straight from the test process would report the test process's own peak (which
grows over a long session) instead of its own; started from this small launcher, it reports its own."""


def run_bot(args: Sequence[str], env: Mapping[str, str], cwd: Path, timeout: float = 120) -> Run:
    """Run the CLI and measure its wall time and peak resident memory (``wait4``'s rusage of that child)."""
    out, err, rss = cwd / ".stdout", cwd / ".stderr", cwd / ".max_rss_kb"
    rss.unlink(missing_ok=True)
    started = time.monotonic()
    with out.open("wb") as o, err.open("wb") as e:
        proc = subprocess.Popen(
            [sys.executable, "-c", _MEASURE, str(rss), sys.executable, "-m", "bot", *args],
            env={**env, "PYTHONPATH": str(REPO)},
            cwd=cwd,
            stdout=o,
            stderr=e,
            start_new_session=True,
        )
        try:
            proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    seconds = time.monotonic() - started
    written = rss.read_text() if rss.is_file() else ""  # empty if the launcher itself was killed
    peak_kb = float(written) if written else 0.0
    return Run(
        proc.returncode,
        out.read_text(errors="replace"),
        err.read_text(errors="replace"),
        seconds,
        peak_kb / 1024,
    )
