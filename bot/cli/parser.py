"""Every command's arguments and help; which module runs each command (see ``bot.cli``)."""

from __future__ import annotations

import argparse
import sys
from datetime import date
from typing import NoReturn

from bot import __version__
from bot.publishers import registry

EXIT_OK, EXIT_INVALID, EXIT_USAGE = 0, 1, 2
"""Exit statuses of every command: done, invalid input or a failure, wrong usage."""


READ_ONLY = ("validate", "upcoming", "calendar", "changes", "status", "site")
"""Commands that read the schedules (and the ledger) and never import a network SDK: ``bot.cli.readonly``."""
CONTROLS = ("skip", "pause")
"""Commands that change the ledger and send nothing: ``bot.cli.controls``."""
PUBLISHING = ("post", "check", "run", "tick", "retry", "resume")
"""Commands that talk to the networks, all through one wiring: ``bot.cli.publishing``."""


class _Parser(argparse.ArgumentParser):
    def error(
        self, message: str
    ) -> NoReturn:  # argparse's own exits with 2 too; keep one line and a pointer to help
        self.print_usage(sys.stderr)
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message}\n")


def _iso_date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date: write YYYY-MM-DD") from None


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError("must be 1 or more")
    return value


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="aasr-bot",
        description="The social-media awareness bot of the Alliance Against Seclusion and Restraint "
        "(endseclusion.org): posts awareness days, queued posts and new stories to "
        + ", ".join(spec.name for spec in registry.specs())
        + ".",
        epilog="Every command has --help. Documentation: README.md and schedules/README.md.",
    )
    parser.add_argument("--version", action="version", version=f"aasr-bot {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)

    def schedules_args(p: argparse.ArgumentParser) -> None:
        p.add_argument(
            "--schedules", metavar="DIR", help="schedules folder (default: $BOT_SCHEDULES or ./schedules)"
        )
        p.add_argument(
            "--content",
            metavar="DIR",
            help="content folder for images and texts (default: $BOT_CONTENT "
            "or content/ beside the schedules)",
        )

    def verbose_arg(p: argparse.ArgumentParser) -> None:
        p.add_argument(
            "--verbose",
            action="store_true",
            help="in a dry run, also show the technical detail (UTF-8 bytes, rich-text facets, image sizes)",
        )

    def rehearsal_args(p: argparse.ArgumentParser) -> None:
        p.add_argument(
            "--dry-run",
            action="store_true",
            help="rehearse: send nothing to any network, and use a throwaway ledger (the real one is not "
            "touched, so every rehearsal shows the same)",
        )
        verbose_arg(p)
        p.add_argument(
            "--rehearsal-ledger",
            metavar="FILE",
            help="with --dry-run: keep the rehearsal's ledger in this SQLite file instead of throwing it "
            "away, so the next rehearsal with it shows only what is new",
        )

    p = sub.add_parser(
        "validate",
        help="check every schedule file and report all problems at once",
        description="Check settings, awareness days, queued and recurring posts: YAML, keys, types, "
        "`when` rules, time zones, ids, sources, images and alt text, and each post's length on each "
        "network. Prints one problem per line as path:line:column. Exit 0 valid, 1 invalid, 2 usage.",
    )
    schedules_args(p)
    p.add_argument("--strict", action="store_true", help="treat accessibility warnings as errors")
    p.add_argument("--json", action="store_true", help="print problems as a JSON array")

    p = sub.add_parser(
        "upcoming",
        help="preview every post due in a window, per network, with lengths",
        description="Every post that would go out between two local dates (both inclusive), in time "
        "order, rendered for each network with its length and limit.",
    )
    schedules_args(p)
    p.add_argument(
        "--from", dest="start", type=_iso_date, metavar="YYYY-MM-DD", help="first day (default: today)"
    )
    group = p.add_mutually_exclusive_group()
    group.add_argument("--to", dest="end", type=_iso_date, metavar="YYYY-MM-DD", help="last day (inclusive)")
    group.add_argument("--days", type=_positive, metavar="N", help="number of days (default: 30)")
    p.add_argument("--json", action="store_true", help="print a JSON array")

    p = sub.add_parser(
        "calendar",
        help="every awareness observance's dates in a year",
        description="Every observance's dates in a year, as text, JSON or an iCalendar (RFC 5545) file.",
    )
    schedules_args(p)
    p.add_argument(
        "--year", type=int, metavar="YYYY", help="the calendar year to list (with --rolling: the middle year)"
    )
    p.add_argument(
        "--rolling",
        action="store_true",
        help="last year, this year (--year, default: the current year) and the next two: "
        "a calendar to subscribe to that never runs out at New Year",
    )
    fmt = p.add_mutually_exclusive_group()
    fmt.add_argument("--json", action="store_true", help="print a JSON array")
    fmt.add_argument("--ics", action="store_true", help="print an iCalendar file to subscribe to")

    p = sub.add_parser(
        "changes",
        help="Markdown preview of the posts a pull request adds, alters or removes",
        description="Compare the schedules with a base copy (e.g. a checkout of the target branch) and "
        "print Markdown, for a GitHub job summary: every post added or altered in the next N days with its "
        "next dates and its text, length and limit per network, then the removed posts.",
    )
    schedules_args(p)
    p.add_argument("--base", required=True, metavar="DIR", help="the schedules folder to compare with")
    p.add_argument(
        "--days", type=_positive, default=400, metavar="N", help="days to look ahead (default: 400)"
    )
    p.add_argument(
        "--from", dest="start", type=_iso_date, metavar="YYYY-MM-DD", help="first day (default: today)"
    )

    p = sub.add_parser(
        "site",
        help="build the static website: coming posts, the calendar, calendar.ics and (with --status) status",
        description="Write a static website into DIR: index.html (every post of the next N days, as each "
        "enabled network will show it, with lengths, images and alt text, and warnings), calendar/YYYY.html "
        "(the year's observances, month by month), calendar.ics (a rolling calendar to subscribe to) and, "
        "with --status, status.html from the ledger. It sends nothing and reaches no network.",
    )
    schedules_args(p)
    p.add_argument("--out", required=True, metavar="DIR", help="folder to write the site into")
    p.add_argument(
        "--from", dest="start", type=_iso_date, metavar="YYYY-MM-DD", help="first day (default: today)"
    )
    p.add_argument(
        "--days", type=_positive, default=60, metavar="N", help="days of coming posts (default: 60)"
    )
    p.add_argument(
        "--year",
        type=int,
        action="append",
        metavar="YYYY",
        help="a calendar page to build (repeatable; default: this year and next)",
    )
    p.add_argument("--status", action="store_true", help="also write status.html from the ledger")

    p = sub.add_parser(
        "post",
        help="publish one post now",
        description="Publish one post now through the same composer and adapters. Networks without "
        "credentials (or all, with --dry-run) print what would be sent. On a refusal (rate limit, "
        "duplicate, ...) it says so in one line and exits 1; it never waits out a limit.",
    )
    p.add_argument("text", help="the post's text (the first part of a thread)")
    p.add_argument(
        "--part",
        action="append",
        default=[],
        metavar="TEXT",
        help="make it a thread: the text of the next part (repeatable, in order); each part replies to "
        "the one before it; --link, --hashtag and --image go on the first part",
    )
    p.add_argument("--link", metavar="URL", help="a link to add (with a link card)")
    p.add_argument("--image", action="append", default=[], metavar="FILE", help="attach an image (up to 4)")
    p.add_argument(
        "--alt", action="append", default=[], metavar="TEXT", help="alt text, one per --image, in order"
    )
    p.add_argument("--hashtag", action="append", default=[], metavar="TAG", help="a hashtag, without #")
    p.add_argument(
        "--network", action="append", choices=registry.ids(), help="only this network (repeatable)"
    )
    p.add_argument("--dry-run", action="store_true", help="send nothing; print what would be sent")
    verbose_arg(p)
    schedules_args(p)

    p = sub.add_parser(
        "check",
        help="verify the configured credentials against each network",
        description="Verify the credentials with each network (who the bot posts as) and say, per "
        "network, whether posting will work. Exit 1 if a configured network fails.",
    )
    schedules_args(p)

    p = sub.add_parser(
        "run",
        help="run the bot: post on schedule and announce new stories (the Procfile worker)",
        description="Run until stopped (SIGTERM/SIGINT): post every scheduled and awareness post on "
        "time, poll the site feed, retry failures, reload schedules when files change or on SIGHUP. "
        "Networks without credentials run in dry-run mode.",
    )
    schedules_args(p)
    rehearsal_args(p)

    p = sub.add_parser(
        "tick",
        help="one pass (due posts, feed poll, retries), then exit: for cron or CI schedules",
        description="One pass of the bot's logic: record due posts, poll the feed once, send what can "
        "go now, then exit. Never waits out a rate limit: what can't go stays pending.",
    )
    schedules_args(p)
    rehearsal_args(p)

    p = sub.add_parser(
        "status",
        help="recent deliveries, failures, pending items, spend, next posts",
        description="Per network: last deliveries with URLs, failures with reasons, pending and "
        "skipped items, the next due posts; for networks that bill per post, the posts and estimated "
        "spend this day and month.",
    )
    schedules_args(p)
    p.add_argument("--json", action="store_true", help="print JSON")

    p = sub.add_parser(
        "retry",
        help="send a failed or skipped item again",
        description="Put a failed or skipped item back in the queue; the next pass sends it.",
    )
    p.add_argument("key", help="item key as shown by status, e.g. queue/sample-letters-2026-12")
    p.add_argument("--network", choices=registry.ids(), help="only this network")

    p = sub.add_parser(
        "skip", help="never send a pending or failed item", description="Mark an item skipped."
    )
    p.add_argument("key", help="item key as shown by status")
    p.add_argument("--network", choices=registry.ids(), help="only this network")
    p.add_argument("--reason", default="skipped by a maintainer", help="recorded in the ledger")

    sub.add_parser(
        "pause",
        help="stop publishing until resume",
        description="Publish nothing until `resume`; posts that come due are held and reported by status.",
    )
    p = sub.add_parser(
        "resume",
        help="publish again; release or skip what came due while paused",
        description="Publish again. Posts held while paused are sent (--release) or skipped (--skip).",
    )
    choice = p.add_mutually_exclusive_group()
    choice.add_argument("--release", action="store_true", help="send the held posts now")
    choice.add_argument("--skip", action="store_true", help="skip the held posts")
    return parser
