"""The command line (``aasr-bot COMMAND``, ``python -m bot``). Its layout says what each command may do:

- ``readonly``: validate, upcoming, calendar, changes, status, site. They read the schedules (status also reads the
  ledger) and never import a network SDK: importing atproto alone costs ~0.7 s and ~60 MB.
- ``controls``: skip, pause. They change the ledger and send nothing.
- ``publishing``: post, check, run, tick, retry, resume. They reach the networks, all through
  ``wiring.open_bot``, which builds the ledger, the publishers and the service.

``parser`` holds every command's arguments; a command's module is imported only when that command runs.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable, Sequence

from bot.cli.parser import CONTROLS, EXIT_INVALID, EXIT_OK, EXIT_USAGE, PUBLISHING, READ_ONLY, build_parser
from bot.errors import BotError

__all__ = [
    "CONTROLS",
    "EXIT_INVALID",
    "EXIT_OK",
    "EXIT_USAGE",
    "PUBLISHING",
    "READ_ONLY",
    "build_parser",
    "main",
]

Handler = Callable[[argparse.Namespace], int]


def handler(command: str) -> Handler:
    """The function that runs ``command``, importing only its own group's module."""
    if command in READ_ONLY:
        from bot.cli.readonly import COMMANDS as found
    elif command in CONTROLS:
        from bot.cli.controls import COMMANDS as found
    else:
        from bot.cli.publishing import COMMANDS as found
    return found[command]


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return EXIT_USAGE
    try:
        return handler(args.command)(args)
    except BotError as exc:
        print(f"aasr-bot {args.command}: {exc}", file=sys.stderr)
        return EXIT_INVALID
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        # `validate | head` closed our output early: not an error of ours, and no traceback.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return EXIT_OK
