"""Choose each network's publisher: the real adapter when credentials are set, else a loud dry run.

The adapters (and so tweepy and atproto) are imported here, only when a real one is needed.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TextIO

from bot.models import Settings
from bot.publishers.base import Publisher, SessionStore
from bot.publishers.dry_run import DryRunPublisher
from bot.settings import bluesky_credentials, x_credentials, x_credentials_partial

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
) -> list[Choice]:
    choices: list[Choice] = []
    for network in networks:
        real = None if dry_run else _real(network, settings, sessions)
        if isinstance(real, Choice):
            choices.append(real)
            continue
        why = "DRY RUN (--dry-run): nothing is sent" if dry_run else f"DRY RUN: {real}"
        choices.append(Choice(network, DryRunPublisher(network, out=out, fetch_cards=fetch_cards), why))
    return choices


def _real(network: str, settings: Settings, sessions: SessionStore) -> Choice | str:
    """The network's real adapter, or why it can't have one (missing credentials)."""
    if network == "x":
        creds = x_credentials()
        if creds is None:
            missing = x_credentials_partial()
            if missing:
                return "X credentials incomplete, missing " + ", ".join(missing)
            return "no X credentials (set X_API_KEY, X_API_SECRET, X_ACCESS_TOKEN, X_ACCESS_TOKEN_SECRET)"
        from bot.publishers.x import XPublisher

        publisher = XPublisher(
            creds,
            price_post_usd=settings.x_price_post_usd,
            price_post_with_url_usd=settings.x_price_post_with_url_usd,
        )
        return Choice(network, publisher, f"posting for real via {creds.base_url}")
    if network == "bluesky":
        bcreds = bluesky_credentials()
        if bcreds is None:
            return "no Bluesky credentials (set BLUESKY_HANDLE and BLUESKY_APP_PASSWORD)"
        from bot.publishers.bluesky import BlueskyPublisher

        return Choice(
            network,
            BlueskyPublisher(bcreds, sessions),
            f"posting for real as @{bcreds.handle} via {bcreds.service}",
        )
    return f"no adapter for network {network!r}"
