"""The wiring of the publishing commands: schedules, ledger, one publisher per enabled network and the service
that delivers through them, opened together and closed together.
"""

from __future__ import annotations

import argparse
import dataclasses
import logging
import os
import socket
import tempfile
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

from bot import serveroptions, settings
from bot.cli.common import load_logged, open_ledger
from bot.errors import ConfigError, PublishError
from bot.publishers import factory
from bot.publishers.base import ReportsServerOptions
from bot.schedules import Loaded, Schedules
from bot.service import Service
from bot.store import Ledger

log = logging.getLogger(__name__)


def owner_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


@dataclass(slots=True)
class Bot:
    loaded: Loaded
    ledger: Ledger
    choices: list[factory.Choice]
    service: Service


def lease() -> timedelta:
    raw = settings.env("BOT_LEASE_SECONDS")
    try:
        return timedelta(seconds=float(raw)) if raw else timedelta(minutes=10)
    except ValueError:
        raise ConfigError(f"BOT_LEASE_SECONDS={raw!r} is not a number of seconds") from None


def learn_server_options(choices: list[factory.Choice], ledger: Ledger) -> None:
    """Ask each real network that reports its own limits (a Mastodon instance's characters, media and
    alt-text limits) and keep the answer in the ledger; on failure the last stored answer stays in use."""
    for choice in choices:
        publisher = choice.publisher
        if publisher.dry_run or not isinstance(publisher, ReportsServerOptions):
            continue
        try:
            found = publisher.server_options()
        except PublishError as exc:
            log.warning("%s: could not read its limits, using the last known ones: %s", choice.network, exc)
            continue
        ledger.set_flag(serveroptions.flag(choice.network), serveroptions.encode(found))


def with_server_options(schedules: Schedules, ledger: Ledger) -> Schedules:
    """The schedules with each network's stored server limits laid over its settings block."""
    stored = {n: serveroptions.decode(ledger.get_flag(serveroptions.flag(n))) for n in schedules.settings.networks}
    options = serveroptions.overlay(schedules.settings.network_options, stored)
    return dataclasses.replace(schedules, settings=dataclasses.replace(schedules.settings, network_options=options))


@contextmanager
def rehearsal_ledger(keep: str | None) -> Iterator[Ledger]:
    """The ledger of a rehearsal (``tick``/``run --dry-run``): never the real one, so a rehearsal changes nothing
    and a second identical rehearsal shows the same; thrown away afterwards unless ``keep`` names a file."""
    if keep:
        Path(keep).parent.mkdir(parents=True, exist_ok=True)
        log.info(
            "rehearsal: using the rehearsal ledger %s (not the real one): posts earlier rehearsals with it "
            "planned are not shown again",
            keep,
        )
        with Ledger.open(keep) as ledger:
            yield ledger
        return
    log.info(
        "rehearsal: using a throwaway ledger, so the real one is neither read nor changed; stories already in "
        "the feed count as seen, as on a first run"
    )
    with (
        tempfile.TemporaryDirectory(prefix="aasr-bot-rehearsal-") as folder,
        Ledger.open(Path(folder) / "rehearsal.sqlite3") as ledger,
    ):
        yield ledger


@contextmanager
def open_bot(
    args: argparse.Namespace,
    *,
    dry_run: bool,
    banner: bool = True,
    fetch_cards: bool = False,
    rehearsal: bool = False,
) -> Iterator[Bot]:
    """``rehearsal``: a dry run of the bot's passes (``tick``/``run --dry-run``), on ``rehearsal_ledger``."""
    loaded = load_logged(args)
    with ExitStack() as stack:
        if rehearsal:
            ledger = stack.enter_context(rehearsal_ledger(getattr(args, "rehearsal_ledger", None)))
        else:
            ledger = stack.enter_context(open_ledger())
        yield from _wire(args, loaded, ledger, dry_run=dry_run, banner=banner, fetch_cards=fetch_cards)


def _wire(
    args: argparse.Namespace,
    loaded: Loaded,
    ledger: Ledger,
    *,
    dry_run: bool,
    banner: bool,
    fetch_cards: bool,
) -> Iterator[Bot]:
    settings = loaded.schedules.settings
    choices = factory.build(
        settings.networks,
        settings,
        ledger,
        dry_run=dry_run,
        fetch_cards=fetch_cards,
        verbose=bool(getattr(args, "verbose", False)),
    )
    if banner:
        for choice in choices:
            level = logging.WARNING if choice.publisher.dry_run else logging.INFO
            log.log(level, "%s: %s", choice.network, choice.why)
        if not settings.networks:
            log.warning("no networks enabled in settings.yaml: nothing will be posted")
    from bot.feed import fetch_feed, make_client

    client = make_client()

    def fetch(url: str, etag: str | None, modified: str | None) -> Any:
        # Read at every poll: a reload (SIGHUP, changed files) may change them.
        feed_settings = service.schedules.settings.feed
        client.allow_private = feed_settings.allow_private_address
        return fetch_feed(
            url, client, etag=etag, last_modified=modified, deadline=feed_settings.deadline_seconds
        )

    publishers = {c.network: c.publisher for c in choices}
    learn_server_options(choices, ledger)
    service = Service(
        with_server_options(loaded.schedules, ledger),
        ledger,
        publishers,
        owner=owner_name(),
        fetch_feed=fetch,
        lease=lease(),
    )
    try:
        yield Bot(loaded, ledger, choices, service)
    finally:
        client.close()
        for choice in choices:
            close = getattr(choice.publisher, "close", None)
            if callable(close):
                close()
