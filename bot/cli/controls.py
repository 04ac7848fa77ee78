"""The commands that change the ledger and send nothing: ``skip`` an item, ``pause`` publishing."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable

from bot.cli.common import open_ledger
from bot.cli.parser import EXIT_INVALID, EXIT_OK
from bot.logs import setup_logging
from bot.service import PAUSED_FLAG
from bot.settings import now


def skip(args: argparse.Namespace) -> int:
    setup_logging(quiet=True)
    with open_ledger() as ledger:
        changed = ledger.skip(args.key, args.network, reason=args.reason, now=now())
    if not changed:
        print(f"nothing to skip: no pending or failed delivery {args.key}", file=sys.stderr)
        return EXIT_INVALID
    print(f"{args.key}: {changed} delivery(ies) skipped")
    return EXIT_OK


def pause(args: argparse.Namespace) -> int:
    setup_logging(quiet=True)
    with open_ledger() as ledger:
        ledger.set_flag(PAUSED_FLAG, "1")
    print("paused: nothing will be published until `resume`; posts that come due are held (see `status`)")
    return EXIT_OK


COMMANDS: dict[str, Callable[[argparse.Namespace], int]] = {"skip": skip, "pause": pause}
