"""Limits a network's server states about itself (a Mastodon instance's post length, characters per link,
media and alt-text limits), kept in the ledger so that every command checks posts against them: the bot, which
asks at start-up and in ``check``, and the offline ones (``validate``, ``upcoming``, the site), which only read.

Reading never creates or changes a ledger, and a SQLite ledger is read with the standard library alone: the
read-only commands stay fast (no database driver imported) and work on a machine that has never run the bot.
"""

from __future__ import annotations

import json
import logging
import sqlite3
from collections.abc import Mapping
from pathlib import Path
from types import MappingProxyType

from bot.publishers.spec import Options, OptionValue

log = logging.getLogger(__name__)

_PREFIX = "server-options:"


def flag(network: str) -> str:
    """The ledger flag a network's stated limits are kept under."""
    return f"{_PREFIX}{network}"


def encode(found: Mapping[str, OptionValue]) -> str:
    return json.dumps(dict(found), sort_keys=True)


def decode(text: str | None) -> dict[str, OptionValue]:
    """A stored answer; anything unreadable or of the wrong type counts as no answer (the settings apply)."""
    if not text:
        return {}
    try:
        value = json.loads(text)
    except ValueError:
        return {}
    if not isinstance(value, dict):
        return {}
    return {str(k): v for k, v in value.items() if isinstance(v, int | float | bool | str)}


def overlay(
    configured: Mapping[str, Options], stored: Mapping[str, Mapping[str, OptionValue]]
) -> Mapping[str, Options]:
    """Each network's settings with what its server stated laid over them (the server knows its own limits)."""
    from bot.publishers import registry  # the specs only: no network SDK

    merged = dict(configured)
    for network, values in stored.items():
        if values and network in registry.ids():
            merged[network] = MappingProxyType({**registry.options(network, configured), **values})
    return MappingProxyType(merged)


def read_stored(target: str) -> dict[str, dict[str, OptionValue]]:
    """Every network's stored limits in the ledger at ``target`` (a file path or a PostgreSQL URL); an empty
    mapping when there is no ledger yet or it can't be read (the settings then apply, as on a first run)."""
    if "://" in target:
        return _from_postgres(target)
    path = Path(target).expanduser()
    if not path.is_file():
        return {}
    try:
        # mode=ro: a preview must never create, migrate or lock the bot's ledger.
        with sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True, timeout=5) as db:
            rows = db.execute("SELECT name, value FROM flags WHERE name LIKE ?", (f"{_PREFIX}%",)).fetchall()
    except sqlite3.Error as exc:  # an old or foreign file: no stored limits
        log.debug("no stored server limits in %s: %s", path, exc)
        return {}
    return {str(name)[len(_PREFIX) :]: decode(value) for name, value in rows if decode(value)}


def _from_postgres(target: str) -> dict[str, dict[str, OptionValue]]:
    from bot.errors import BotError
    from bot.publishers import registry
    from bot.store import Ledger  # imports the PostgreSQL driver: only when the ledger is there

    try:
        with Ledger.open(target) as ledger:
            found = {network: decode(ledger.get_flag(flag(network))) for network in registry.ids()}
    except BotError as exc:
        log.warning(
            "could not read the limits the networks stated (kept in the ledger), using settings: %s", exc
        )
        return {}
    return {network: values for network, values in found.items() if values}
