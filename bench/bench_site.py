"""Benchmark: how long `python -m bot site` takes for the shipped schedules and for generated ones.

Targets (issue "A page a volunteer can look at"): under 2 s for the shipped schedules, under 10 s for 5,000
observances. Times the whole command as a subprocess (wall clock, best of 3: what CI and a maintainer wait
for, start-up and imports included), then the library alone (loading + ``build_site``), with the size of what
was written. The generated schedules are bench_schedules.py's: every form of the `when` grammar, one or two
posts each, links, hashtags, variants and emoji.

    python bench/bench_site.py              # shipped, then N = 5000
    python bench/bench_site.py 1000 5000    # other sizes
"""

from __future__ import annotations

import resource
import subprocess
import sys
import tempfile
import time
from datetime import UTC, date, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.bench_schedules import best_of, generate  # after the path above

REPO = Path(__file__).resolve().parents[1]
FROM = "2027-01-01"
TARGETS = {"shipped": 2.0, 5000: 10.0}
"""Wall-clock seconds for the whole command."""


def command(schedules: Path, out: Path) -> tuple[float, float]:
    """Best wall-clock time of 3 runs, and the least CPU time (user + system) one of them used: on a shared
    machine the wall clock includes waiting for a core, the CPU time much less so."""
    argv = [sys.executable, "-m", "bot", "site", "--schedules", str(schedules), "--out", str(out)]
    argv += ["--from", FROM]
    cpu: list[float] = []

    def run() -> None:
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        subprocess.run(argv, cwd=REPO, check=True, capture_output=True)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu.append(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)

    return best_of(3, run), min(cpu)


def library(schedules: Path, out: Path) -> tuple[float, float, int]:
    from bot.schedules import load_schedules
    from bot.settings import content_dir
    from bot.site import SiteOptions, build_site

    start = time.perf_counter()
    loaded = load_schedules(schedules, content_dir(None, schedules))
    loaded_at = time.perf_counter()
    options = SiteOptions(first=date.fromisoformat(FROM), built_at=datetime.now(UTC))
    built = build_site(loaded, out, options)
    done = time.perf_counter()
    return loaded_at - start, done - loaded_at, built.posts


def size(out: Path) -> str:
    total = sum(p.stat().st_size for p in out.rglob("*") if p.is_file())
    return f"{total / 1e6:.1f} MB in {sum(1 for p in out.rglob('*') if p.is_file())} files"


def measure(label: str, schedules: Path, target: float | None) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "site"
        wall, cpu = command(schedules, out)
        load, build, posts = library(schedules, Path(tmp) / "site-lib")
        verdict = (
            "" if target is None else f"  target < {target:.0f} s: {'met' if wall < target else 'MISSED'}"
        )
        print(
            f"{label:>18}: command {wall:6.2f} s wall, {cpu:5.2f} s CPU (best of 3){verdict}\n"
            f"{'':>18}  in-process: load {load:5.2f} s + build {build:5.2f} s; {posts} coming posts; "
            f"{size(out)}"
        )


def main(argv: list[str]) -> int:
    sizes = [int(a) for a in argv] or [5000]
    print(f"site build from {FROM} (60 days of posts, calendars {FROM[:4]} and the next year, rolling ics)")
    measure("shipped schedules", REPO / "schedules", TARGETS["shipped"])
    for count in sizes:
        with tempfile.TemporaryDirectory() as tmp:
            schedules = generate(Path(tmp), count)
            measure(f"{count} observances", schedules, TARGETS.get(count))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
