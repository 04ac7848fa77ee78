"""What each CLI command does, in a few lines each: load, call the library, print.

Only the publishing commands import ``bot.runtime`` (ledger, publishers, service); the read-only ones stay
light.
"""

from __future__ import annotations

import argparse
import json
import sys
from datetime import date, datetime, timedelta
from typing import Any

from bot import config

EXIT_OK, EXIT_INVALID, EXIT_USAGE = 0, 1, 2


def _print_json(data: Any) -> None:
    # Indented for a person at a terminal; compact (and ~5x faster: the C encoder) for scripts and pipes.
    indent = 2 if sys.stdout.isatty() else None
    print(json.dumps(data, indent=indent, ensure_ascii=False, default=str))


def _load(args: argparse.Namespace, *, text_checks: bool = True) -> config.Loaded:
    root = config.schedules_dir(args.schedules)
    return config.load_schedules(root, config.content_dir(args.content, root), text_checks=text_checks)


def _report_problems(loaded: config.Loaded) -> None:
    """Read-only commands still work with the valid rest, but never hide a problem."""
    errors = loaded.errors()
    for problem in errors:
        print(problem.format(), file=sys.stderr)
    if errors:
        print(
            f"({len(errors)} problem(s): the items concerned are left out; run `validate`)", file=sys.stderr
        )


def cmd_validate(args: argparse.Namespace) -> int:
    loaded = _load(args)
    problems = loaded.problems
    errors = loaded.errors(strict=args.strict)
    if args.json:
        _print_json(
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


def _today(loaded: config.Loaded) -> date:
    return datetime.now(loaded.schedules.settings.timezone).date()


def _usage(command: str, message: str) -> int:
    print(f"aasr-bot {command}: error: {message}", file=sys.stderr)
    return EXIT_USAGE


def cmd_upcoming(args: argparse.Namespace) -> int:
    from bot.planner import day_window, due_between
    from bot.preview import format_due, render_due

    loaded = _load(args, text_checks=False)
    settings = loaded.schedules.settings
    first = args.start or _today(loaded)
    last = args.end or first + timedelta(days=(args.days or 30) - 1)
    if last < first:
        return _usage("upcoming", f"--to {last} is before --from {first}")
    _report_problems(loaded)  # lengths are in the output itself, with TOO LONG where a post is
    start, end = day_window(first, last, settings.timezone)
    entries = [render_due(due, settings.networks) for due in due_between(loaded.schedules, start, end)]
    if args.json:
        _print_json(entries)
        return EXIT_OK
    blackout = set(settings.blackout)
    for entry in entries:
        print(format_due(entry, blackout=date.fromisoformat(entry["at"][:10]) in blackout))
        print()
    print(f"{len(entries)} post(s) from {first} to {last} ({settings.timezone.key})")
    return EXIT_OK


def cmd_calendar(args: argparse.Namespace) -> int:
    from bot.preview import calendar_entries, calendar_ics

    if not 1900 <= args.year <= 9998:
        return _usage("calendar", f"--year {args.year} is out of range: use a year between 1900 and 9998")
    loaded = _load(args, text_checks=False)
    _report_problems(loaded)
    entries = calendar_entries(loaded.schedules, args.year)
    if args.json:
        _print_json(entries)
    elif args.ics:
        sys.stdout.buffer.write(calendar_ics(entries, args.year))
        sys.stdout.flush()
    else:
        for e in entries:
            span = e["start"] if e["start"] == e["end"] else f"{e['start']} to {e['end']}"
            print(f"{span:<26} {e['name']}  ({e['file']})")
        print(f"{len(entries)} observance(s) in {args.year}")
    return EXIT_OK


def cmd_changes(args: argparse.Namespace) -> int:
    """Markdown for a pull request's job summary: the posts it adds, alters or removes in the next N days."""
    from bot.planner import day_window, due_between
    from bot.preview import changes, changes_markdown, render_due

    base_root = config.schedules_dir(args.base)
    if not base_root.is_dir():
        return _usage("changes", f"--base {args.base} is not a folder")
    current = _load(args)
    base = config.load_schedules(base_root, config.content_dir(None, base_root), text_checks=False)
    settings = current.schedules.settings
    first = args.start or _today(current)
    last = first + timedelta(days=args.days - 1)
    start, end = day_window(first, last, settings.timezone)

    def entries(loaded: config.Loaded) -> list[dict[str, Any]]:
        found = due_between(loaded.schedules, start, end)
        return [render_due(due, loaded.schedules.settings.networks) for due in found]

    found = changes(entries(base), entries(current))
    print(changes_markdown(found, first, last, problems=len(current.errors())), end="")
    return EXIT_OK


def _runtime() -> Any:
    from bot import runtime

    return runtime


def cmd_post(args: argparse.Namespace) -> int:
    return int(_runtime().post_now(args))


def cmd_check(args: argparse.Namespace) -> int:
    return int(_runtime().check(args))


def cmd_run(args: argparse.Namespace) -> int:
    return int(_runtime().run_forever(args))


def cmd_tick(args: argparse.Namespace) -> int:
    return int(_runtime().tick(args))


def cmd_status(args: argparse.Namespace) -> int:
    return int(_runtime().status(args))


def cmd_retry(args: argparse.Namespace) -> int:
    return int(_runtime().retry(args))


def cmd_skip(args: argparse.Namespace) -> int:
    return int(_runtime().skip(args))


def cmd_pause(args: argparse.Namespace) -> int:
    return int(_runtime().pause(args))


def cmd_resume(args: argparse.Namespace) -> int:
    return int(_runtime().resume(args))
