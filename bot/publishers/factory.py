"""Choose each network's publisher: the real adapter when credentials are set, else a loud dry run.

The adapters (and so tweepy and atproto) are imported here, only when a real one is needed.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TextIO

from bot import config
from bot.models import Settings
from bot.publishers.base import Publisher, SessionStore
from bot.publishers.dry_run import DryRunPublisher

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
        if dry_run:
            choices.append(
                Choice(
                    network,
                    DryRunPublisher(network, out=out, fetch_cards=fetch_cards),
                    "DRY RUN (--dry-run): nothing is sent",
                )
            )
            continue
        if network == "x":
            creds = config.x_credentials()
            if creds is None:
                missing = config.x_credentials_partial()
                why = (
                    ("DRY RUN: X credentials incomplete, missing " + ", ".join(missing))
                    if missing
                    else (
                        "DRY RUN: no X credentials (set X_API_KEY, X_API_SECRET, X_ACCESS_TOKEN, X_ACCESS_TOKEN_SECRET)"
                    )
                )
                choices.append(
                    Choice(network, DryRunPublisher(network, out=out, fetch_cards=fetch_cards), why)
                )
                continue
            from bot.publishers.x import XPublisher

            choices.append(
                Choice(
                    network,
                    XPublisher(
                        creds,
                        price_post_usd=settings.x_price_post_usd,
                        price_post_with_url_usd=settings.x_price_post_with_url_usd,
                    ),
                    f"posting for real via {creds.base_url}",
                )
            )
        elif network == "bluesky":
            bcreds = config.bluesky_credentials()
            if bcreds is None:
                why = "DRY RUN: no Bluesky credentials (set BLUESKY_HANDLE and BLUESKY_APP_PASSWORD)"
                choices.append(
                    Choice(network, DryRunPublisher(network, out=out, fetch_cards=fetch_cards), why)
                )
                continue
            from bot.publishers.bluesky import BlueskyPublisher

            choices.append(
                Choice(
                    network,
                    BlueskyPublisher(bcreds, sessions),
                    f"posting for real as @{bcreds.handle} via {bcreds.service}",
                )
            )
    return choices
