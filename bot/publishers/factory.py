"""Choose each network's publisher: the real adapter when credentials are set, else a loud dry run.

The adapters (and so their SDKs) are imported here, only when a real one is needed.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TextIO

from bot.models import Settings
from bot.publishers import registry
from bot.publishers.base import Publisher, SessionStore
from bot.publishers.dry_run import DryRunPublisher
from bot.settings import env

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Choice:
    network: str
    publisher: Publisher
    why: str
    """One line for the start-up banner: who we post as, or why this network runs dry."""


def build(
    networks: Sequence[str],
    settings: Settings,
    sessions: SessionStore,
    *,
    dry_run: bool,
    out: TextIO | None = None,
    fetch_cards: bool = False,
    verbose: bool = False,
) -> list[Choice]:
    """``verbose``: dry runs also show the technical detail (see ``DryRunPublisher``)."""
    choices: list[Choice] = []
    for network in networks:
        real = None if dry_run else _real(network, settings, sessions)
        if isinstance(real, Choice):
            choices.append(real)
            continue
        why = "DRY RUN (--dry-run): nothing is sent" if dry_run else f"DRY RUN: {real}"
        publisher = DryRunPublisher(
            network, out=out, fetch_cards=fetch_cards, settings=settings, verbose=verbose
        )
        choices.append(Choice(network, publisher, why))
    return choices


def _real(network: str, settings: Settings, sessions: SessionStore) -> Choice | str:
    """The network's real adapter, or why it can't have one (missing credentials)."""
    spec = registry.get(network)
    account = spec.account(env)
    if isinstance(account, str):
        return account
    publisher, why = spec.create(account, registry.options(network, settings.network_options), sessions)
    return Choice(network, publisher, why)
