"""The read-only commands: they read the schedules (``status`` also the ledger) and print. None of them imports
a network SDK or sends anything, so they stay fast enough for CI and for a maintainer's terminal.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bot.cli.common import (
    load,
    load_logged,
    open_ledger,
    print_json,
    report_problems,
    stored_server_options,
    today,
    usage,
)
from bot.cli.parser import EXIT_INVALID, EXIT_OK
from bot.errors import BotError
from bot.schedules import Loaded, load_schedules
from bot.settings import content_dir, database_target, now, schedules_dir
from bot.texthygiene import for_terminal

if TYPE_CHECKING:
    from bot.store import Ledger


def validate(args: argparse.Namespace) -> int:
    from bot.repeats import repeated_texts

    loaded = load(args)
    repeats = repeated_texts(loaded.schedules, today(loaded))
    problems = tuple(sorted((*loaded.problems, *repeats), key=lambda p: (p.file, p.line, p.column)))
    errors = [p for p in problems if p.is_error(strict=args.strict)]
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
    from bot import readability
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
        render_due(
            due, settings.networks, settings.network_options, grade_min_words=settings.readability_min_words
        )
        for due in due_between(loaded.schedules, start, end)
    ]
    mark_progress(entries, now())
    readability.save_cache()
    if args.json:
        print_json(entries)
        return EXIT_OK
    blackout = set(settings.blackout)
    for entry in entries:
        print(for_terminal(format_due(entry, blackout=date.fromisoformat(entry["at"][:10]) in blackout)))
        print()
    past = sum(1 for e in entries if e["past"])
    gone = f"; {past} already past, marked (past: ...)" if past else ""
    print(f"{len(entries)} post(s) from {first} to {last} ({settings.timezone.key}){gone}")
    return EXIT_OK


def _year_in_range(year: int) -> str | None:
    if 1900 <= year <= 9998:
        return None
    return f"--year {year} is out of range: use a year between 1900 and 9998"


def mark_progress(entries: list[dict[str, Any]], moment: datetime) -> None:
    """Mark each entry ``past`` (its time has gone by) and, where a ledger is there, what became of it per
    network (``ledger``: network -> sent, skipped, failed, pending, sending or None; None without a ledger)."""
    ledger = _existing_ledger()
    try:
        for entry in entries:
            entry["past"] = datetime.fromisoformat(entry["at"]) <= moment
            entry["ledger"] = None
            if ledger is not None:
                rows = {n: ledger.get(entry["key"], n, dry_run=False) for n in entry["posts"]}
                entry["ledger"] = {n: (row.status if row else None) for n, row in rows.items()}
    finally:
        if ledger is not None:
            ledger.close()


def _existing_ledger() -> Ledger | None:
    """The real ledger if there is one (a preview never creates it), else None."""
    target = database_target()
    if "://" not in target and not Path(target).is_file():
        return None
    from bot.store import Ledger  # psycopg costs ~0.1 s to import: only when there is a ledger to read

    try:
        return Ledger.open(target)
    except BotError as exc:
        print(
            f"(the ledger could not be read, so sent and skipped posts are not marked: {exc})",
            file=sys.stderr,
        )
        return None


def calendar(args: argparse.Namespace) -> int:
    from bot.preview import calendar_entries, calendar_ics, rolling_entries, rolling_years

    if args.year is None and not args.rolling:
        return usage("calendar", "say which year: --year YYYY (or --rolling for last year to two years on)")
    if args.year is not None and (problem := _year_in_range(args.year)):
        return usage("calendar", problem)
    loaded = load(args, text_checks=False)
    report_problems(loaded)
    if args.rolling:
        middle = args.year or today(loaded).year
        entries = rolling_entries(loaded.schedules, middle)
        years = rolling_years(middle)
        label = f"{years[0]} to {years[-1]}"
    else:
        entries = calendar_entries(loaded.schedules, args.year)
        label = str(args.year)
    if args.json:
        print_json(entries)
    elif args.ics:
        sys.stdout.buffer.write(calendar_ics(entries, None if args.rolling else args.year))
        sys.stdout.flush()
    else:
        for e in entries:
            span = e["start"] if e["start"] == e["end"] else f"{e['start']} to {e['end']}"
            marks = "".join(
                [
                    "  [solemn: nothing else posts that day]" if e["tone"] == "solemn" else "",
                    "" if e["confirmed"] else "  [date not yet confirmed by the organiser]",
                ]
            )
            print(for_terminal(f"{span:<26} {e['name']}  ({e['file']}){marks}"))
        print(f"{len(entries)} observance(s) in {label}")
    return EXIT_OK


def site(args: argparse.Namespace) -> int:
    """The static website (``bot.site``): read-only like the commands above; the ledger only with --status."""
    from pathlib import Path

    from bot.site import SiteOptions, build_site

    years = tuple(dict.fromkeys(args.year or ()))
    for year in years:
        if problem := _year_in_range(year):
            return usage("site", problem)
    out = Path(args.out)
    if out.exists() and not out.is_dir():
        return usage("site", f"--out {args.out} is a file, not a folder")
    loaded = load(args)
    report_problems(loaded)
    status_data = None
    if args.status:
        from bot.logs import setup_logging
        from bot.service import PAUSED_FLAG
        from bot.status import collect

        setup_logging(quiet=True)
        with open_ledger() as ledger:
            paused = ledger.get_flag(PAUSED_FLAG) == "1"
            status_data = collect(loaded.schedules, ledger, now(), paused_flag=paused)
    settings = loaded.schedules.settings
    options = SiteOptions(
        first=args.start or today(loaded),
        built_at=now(),
        days=args.days,
        years=years,
        status=status_data,
        repository=settings.repository,
    )
    built = build_site(loaded, out, options)
    pages = [p for p in built.pages if p.endswith((".html", ".ics"))]
    print(
        f"site written to {out}: {len(pages)} page(s) ({', '.join(pages)}); {built.posts} coming post(s), "
        f"{built.occurrences} observance date(s) on the calendar pages, {built.ics_events} event(s) in "
        "calendar.ics"
    )
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
    base = load_schedules(
        base_root, content_dir(None, base_root), text_checks=False, server_options=stored_server_options()
    )
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
    # The pull-request workflow puts this in the public job summary: no escape or bidi control gets through.
    print(for_terminal(changes_markdown(found, first, last, problems=len(current.errors()))), end="")
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
        print(for_terminal(format_status(data)))
    return EXIT_OK


COMMANDS: dict[str, Callable[[argparse.Namespace], int]] = {
    "validate": validate,
    "upcoming": upcoming,
    "calendar": calendar,
    "changes": changes,
    "status": status,
    "site": site,
}
