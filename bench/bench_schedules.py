"""Benchmark: how `validate`, `upcoming --days 365` and `calendar` grow with the number of observances.

Generates N awareness observances (every form of the `when` grammar, one or two posts each, some with links,
hashtags, per-network variants and emoji) into a temporary schedules folder, then times each command as a
subprocess (wall clock, best of 3: what a maintainer waits for) and in-process (the library calls alone,
without interpreter start-up and imports). Also times `validate` of the shipped schedules.

    python bench/bench_schedules.py                 # N = 500, 1000, 2000, 5000
    python bench/bench_schedules.py 100 300         # other sizes
"""

from __future__ import annotations

import calendar
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import date
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
MONTHS = tuple(calendar.month_name[1:])
DAYS = tuple(calendar.day_name)
ORDINALS = ("first", "second", "third", "fourth", "last")
FROM = "2027-01-01"
YEAR = 2027


def when_rule(i: int) -> str:
    month = MONTHS[i % 12]
    other = MONTHS[(i + 1) % 12]
    day = 1 + i % 28
    forms = [
        f"{month} {day}",
        f"last day of {month}",
        f"{ORDINALS[i % 5]} {DAYS[i % 7]} of {month}",
        f"{1 + i % 9} days after {ORDINALS[i % 5]} {DAYS[(i + 3) % 7]} of {month}",
        f"{DAYS[i % 7]} after first Sunday of {month}",
        month,
        f"{('first', 'last')[i % 2]} full week of {month}",
        f"{month} {day} for {2 + i % 6} days",
        f"{month} {day} to {other} {1 + (i * 7) % 28}",
        f"{2 + i % 5} days before {ORDINALS[(i + 1) % 5]} {DAYS[(i + 5) % 7]} of {month}",
    ]
    return forms[i % len(forms)]


def observance(i: int) -> str:
    post = (
        f"  - text: >-\n      Observance number {i} of the benchmark: children learn best when they feel"
        " safe, and every school can\n      support them without restraint or seclusion."
        " {name} starts on {date}.\n"
    )
    if i % 3 == 0:
        post += "    link: https://endseclusion.org/resources/sample-letters/\n    hashtags: [EndSeclusion]\n"
    if i % 7 == 0:
        post += "    x: A shorter text for X about {name} \U0001f49c\n"
    if i % 2 == 0:
        post += "  - day: last\n    time: '18:00'\n    text: Thank you for joining us for {name} {year}.\n"
    return (
        f"name: Benchmark Observance {i}\nwhen: {when_rule(i)}\nsource: https://example.org/observances/{i}\n"
        f"posts:\n{post}"
    )


def generate(root: Path, count: int) -> Path:
    schedules = root / "schedules"
    (schedules / "awareness").mkdir(parents=True)
    (schedules / "settings.yaml").write_text("timezone: America/New_York\ndefault_time: '10:00'\n")
    for i in range(count):
        (schedules / "awareness" / f"bench-{i:05d}.yaml").write_text(observance(i), encoding="utf-8")
    return schedules


def best_of(runs: int, action: Callable[[], object]) -> float:
    best = float("inf")
    for _ in range(runs):
        start = time.perf_counter()
        action()
        best = min(best, time.perf_counter() - start)
    return best


def cli(*args: str) -> Callable[[], object]:
    def run() -> object:
        result = subprocess.run(
            [sys.executable, "-m", "bot", *args], cwd=REPO, capture_output=True, check=False, timeout=600
        )
        if result.returncode != 0:
            raise SystemExit(
                f"{' '.join(args)} failed ({result.returncode}): {result.stderr.decode()[-2000:]}"
            )
        return result

    return run


def in_process(schedules: Path) -> dict[str, Callable[[], object]]:
    from bot.planner import day_window, due_between
    from bot.preview import calendar_entries, render_due
    from bot.schedules import load_schedules

    content = schedules.parent / "content"
    loaded = load_schedules(schedules, content)
    settings = loaded.schedules.settings
    window = day_window(date(2027, 1, 1), date(2027, 12, 31), settings.timezone)

    def upcoming() -> object:
        return [render_due(d, settings.networks) for d in due_between(loaded.schedules, *window)]

    return {
        "validate": lambda: load_schedules(schedules, content),
        "upcoming": upcoming,
        "calendar": lambda: calendar_entries(loaded.schedules, YEAR),
    }


def main(sizes: list[int]) -> None:
    print(f"python {sys.version.split()[0]}; wall seconds, best of 3 (subprocess) / best of 3 (in-process)")
    shipped = best_of(3, cli("validate", "--schedules", str(REPO / "schedules")))
    bare = best_of(3, lambda: subprocess.run([sys.executable, "-c", "pass"], check=True))
    print(f"validate of the shipped schedules: {shipped:.3f} s (bare interpreter start: {bare:.3f} s)\n")
    header = f"{'N':>6} | {'validate':>17} | {'upcoming --days 365':>19} | {'calendar':>17} | posts/year"
    print(header)
    print("-" * len(header))
    for n in sizes:
        with tempfile.TemporaryDirectory() as tmp:
            schedules = generate(Path(tmp), n)
            sub = {
                "validate": best_of(3, cli("validate", "--schedules", str(schedules))),
                "upcoming": best_of(
                    3,
                    cli("upcoming", "--schedules", str(schedules), "--from", FROM, "--days", "365", "--json"),
                ),
                "calendar": best_of(
                    3, cli("calendar", "--schedules", str(schedules), "--year", str(YEAR), "--json")
                ),
            }
            inner = {name: best_of(3, action) for name, action in in_process(schedules).items()}
            posts = len(in_process(schedules)["upcoming"]())  # type: ignore[arg-type]
        cells = [f"{sub[k]:6.2f} / {inner[k]:6.2f}" for k in ("validate", "upcoming", "calendar")]
        print(f"{n:>6} | {cells[0]:>17} | {cells[1]:>19} | {cells[2]:>17} | {posts}")


if __name__ == "__main__":
    main([int(a) for a in sys.argv[1:]] or [500, 1000, 2000, 5000])
