"""The read-only commands: they read the schedules (``status`` also the ledger) and print. None of them imports
a network SDK or sends anything, so they stay fast enough for CI and for a maintainer's terminal.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

from bot.cli.common import (
    load,
    load_logged,
    open_ledger,
    print_json,
    report_problems,
    today,
    usage,
)
from bot.cli.parser import EXIT_INVALID, EXIT_OK
from bot.schedules import Loaded, load_schedules
from bot.settings import content_dir, now, schedules_dir


def validate(args: argparse.Namespace) -> int:
    loaded = load(args)
    problems = loaded.problems
    errors = loaded.errors(strict=args.strict)
    if args.json:
        print_json(
            [
                {
                    "file": p.file,
                    "line": p.line,
                    "column": p.column,
                    "severity": "error" if p.is_error(strict=args.strict) else "warning",
                    "message": p.message,
                    "hint": p.hint,
                    "code": p.code,
                }
                for p in problems
            ]
        )
    else:
        for problem in problems:
            print(problem.format(strict=args.strict))
        s = loaded.schedules
        warnings = len(problems) - len(errors)
        verdict = "valid" if not errors else "INVALID"
        print(
            f"{verdict}: {loaded.files} file(s), {len(s.observances)} observance(s), {len(s.queue)} queued"
            f" and {len(s.recurring)} recurring post(s); {len(errors)} error(s), {warnings} warning(s)",
            file=sys.stderr if errors else sys.stdout,
        )
    return EXIT_INVALID if errors else EXIT_OK


def upcoming(args: argparse.Namespace) -> int:
    from bot.planner import day_window, due_between
    from bot.preview import format_due, render_due

    loaded = load(args, text_checks=False)
    settings = loaded.schedules.settings
    first = args.start or today(loaded)
    last = args.end or first + timedelta(days=(args.days or 30) - 1)
    if last < first:
        return usage("upcoming", f"--to {last} is before --from {first}")
    report_problems(loaded)  # lengths are in the output itself, with TOO LONG where a post is
    start, end = day_window(first, last, settings.timezone)
    entries = [
        render_due(due, settings.networks, settings.network_options)
        for due in due_between(loaded.schedules, start, end)
    ]
    if args.json:
        print_json(entries)
        return EXIT_OK
    blackout = set(settings.blackout)
    for entry in entries:
        print(format_due(entry, blackout=date.fromisoformat(entry["at"][:10]) in blackout))
        print()
    print(f"{len(entries)} post(s) from {first} to {last} ({settings.timezone.key})")
    return EXIT_OK


def calendar(args: argparse.Namespace) -> int:
    from bot.preview import calendar_entries, calendar_ics

    if not 1900 <= args.year <= 9998:
        return usage("calendar", f"--year {args.year} is out of range: use a year between 1900 and 9998")
    loaded = load(args, text_checks=False)
    report_problems(loaded)
    entries = calendar_entries(loaded.schedules, args.year)
    if args.json:
        print_json(entries)
    elif args.ics:
        sys.stdout.buffer.write(calendar_ics(entries, args.year))
        sys.stdout.flush()
    else:
        for e in entries:
            span = e["start"] if e["start"] == e["end"] else f"{e['start']} to {e['end']}"
            print(f"{span:<26} {e['name']}  ({e['file']})")
        print(f"{len(entries)} observance(s) in {args.year}")
    return EXIT_OK


def changes(args: argparse.Namespace) -> int:
    """Markdown for a pull request's job summary: the posts it adds, alters or removes in the next N days."""
    from bot.planner import day_window, due_between
    from bot.preview import changes as compare
    from bot.preview import changes_markdown, render_due

    base_root = schedules_dir(args.base)
    if not base_root.is_dir():
        return usage("changes", f"--base {args.base} is not a folder")
    current = load(args)
    base = load_schedules(base_root, content_dir(None, base_root), text_checks=False)
    settings = current.schedules.settings
    first = args.start or today(current)
    last = first + timedelta(days=args.days - 1)
    start, end = day_window(first, last, settings.timezone)

    def entries(loaded: Loaded) -> list[dict[str, Any]]:
        found = due_between(loaded.schedules, start, end)
        return [
            render_due(due, loaded.schedules.settings.networks, loaded.schedules.settings.network_options)
            for due in found
        ]

    found = compare(entries(base), entries(current))
    print(changes_markdown(found, first, last, problems=len(current.errors())), end="")
    return EXIT_OK


def status(args: argparse.Namespace) -> int:
    from bot.logs import setup_logging
    from bot.service import PAUSED_FLAG
    from bot.status import collect, format_status

    setup_logging(quiet=True)
    loaded = load_logged(args)
    with open_ledger() as ledger:
        data = collect(loaded.schedules, ledger, now(), paused_flag=ledger.get_flag(PAUSED_FLAG) == "1")
    if args.json:
        print(json.dumps(data, indent=2, ensure_ascii=False, default=str))
    else:
        print(format_status(data))
    return EXIT_OK


COMMANDS: dict[str, Callable[[argparse.Namespace], int]] = {
    "validate": validate,
    "upcoming": upcoming,
    "calendar": calendar,
    "changes": changes,
    "status": status,
}
