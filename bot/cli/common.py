"""What every command shares: exit codes, loading the schedules and the ledger, printing."""

from __future__ import annotations

import argparse
import json
import logging
import sys
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bot import settings
from bot.cli.parser import EXIT_USAGE
from bot.errors import ConfigError
from bot.logs import use_timezone
from bot.publishers.spec import OptionValue
from bot.schedules import Loaded, load_schedules
from bot.serveroptions import read_stored

if TYPE_CHECKING:
    from bot.store import Ledger  # psycopg costs ~0.1 s to import: only commands that open the ledger pay it

log = logging.getLogger("bot.cli")


def load(args: argparse.Namespace, *, text_checks: bool = True) -> Loaded:
    """The schedules named by ``--schedules``/``--content`` (or their defaults); problems are the caller's.

    Posts are checked against the limits each network's server stated, when the ledger keeps them (a Mastodon
    instance may allow more than 500 characters), else against the settings."""
    from bot import readability

    root = settings.schedules_dir(getattr(args, "schedules", None))
    readability.use_cache(settings.cache_dir() / "readability.json")
    loaded = load_schedules(
        root,
        settings.content_dir(getattr(args, "content", None), root),
        text_checks=text_checks,
        server_options=stored_server_options(),
    )
    readability.save_cache()  # grades the text checks measured: the next run reads them back
    return loaded


def stored_server_options() -> dict[str, dict[str, OptionValue]]:
    """What the networks' servers stated about their limits, from the ledger if there is one; never raises
    (a preview works without a ledger, and a bad ``DATABASE_URL`` is for the commands that write to say)."""
    try:
        target = settings.database_target()
    except ConfigError:
        return {}
    return read_stored(target)


def load_logged(args: argparse.Namespace) -> Loaded:
    """For the bot itself: every problem is logged, and the valid rest is used."""
    loaded = load(args)
    use_timezone(loaded.schedules.settings.timezone)
    if settings.env("BOT_NOW"):
        log.info(
            "BOT_NOW: pretending it is %s; log times show that pretended time",
            settings.now()
            .astimezone(loaded.schedules.settings.timezone)
            .isoformat(sep=" ", timespec="seconds"),
        )
    for problem in loaded.errors():
        log.error("schedule problem (item left out): %s", problem.format())
    return loaded


def open_ledger() -> Ledger:
    target = settings.database_target()
    if "://" not in target:
        Path(target).parent.mkdir(parents=True, exist_ok=True)
    from bot.store import Ledger

    return Ledger.open(target)


def today(loaded: Loaded) -> date:
    """The local date in the schedules' time zone, by the bot's one clock (``BOT_NOW`` honoured)."""
    return settings.today(loaded.schedules.settings)


def print_json(data: Any) -> None:
    # Indented for a person at a terminal; compact (and ~5x faster: the C encoder) for scripts and pipes.
    indent = 2 if sys.stdout.isatty() else None
    print(json.dumps(data, indent=indent, ensure_ascii=False, default=str))


def report_problems(loaded: Loaded) -> None:
    """Read-only commands still work with the valid rest, but never hide a problem."""
    errors = loaded.errors()
    for problem in errors:
        print(problem.format(), file=sys.stderr)
    if errors:
        print(
            f"({len(errors)} problem(s): the items concerned are left out; run `validate`)", file=sys.stderr
        )


def usage(command: str, message: str) -> int:
    print(f"aasr-bot {command}: error: {message}", file=sys.stderr)
    return EXIT_USAGE
