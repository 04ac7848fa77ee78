"""The publisher a network gets when it must not really post: prints exactly what would be sent.

Used for ``--dry-run`` and, loudly announced at start-up, for any network without credentials, so the whole
bot runs on a fresh machine. It goes through the same pipeline and ledger (its rows are marked dry-run and never
count as real sends). It shows the text, Bluesky's rich-text facets with their byte ranges, the link card, and
each image as it would be uploaded (size after fitting the network's limit) with its alt text, and whatever its
network's spec adds (``dry_run_lines``, e.g. Bluesky's rich-text facets).
"""

from __future__ import annotations

import sys
import threading
from datetime import datetime
from typing import TextIO

from bot.errors import BotError
from bot.fetch import Fetcher
from bot.images import prepare_image
from bot.models import Post, Receipt, Settings
from bot.publishers import registry
from bot.texthygiene import for_terminal
from bot.textlen import card_link


class DryRunPublisher:
    dry_run = True

    def __init__(
        self,
        network: str,
        *,
        out: TextIO | None = None,
        fetch_cards: bool = False,
        settings: Settings | None = None,
        verbose: bool = False,
        cards: Fetcher | None = None,
    ) -> None:
        """``fetch_cards``: really fetch link-card pages to show them (``post --dry-run``); off for unattended
        runs, which must work offline. ``verbose`` (``--verbose``): also the technical detail a programmer
        checks (the network's own lines such as UTF-8 bytes and rich-text facets, image sizes); by default a
        rehearsal shows what a follower will see and whether it fits. ``cards`` is the fetcher for link cards
        (public addresses only unless a test says otherwise)."""
        self.network = network
        self.spec = registry.get(network)
        self.rules = registry.text_rules(network, settings.network_options if settings else None)
        self.limit = self.rules.limit
        self.out = out
        self.fetch_cards = fetch_cards
        self.verbose = verbose
        self.cards = cards or Fetcher()
        self._lock = threading.Lock()

    def measure(self, text: str) -> int:
        return self.rules.measure(text)

    def describe(self, post: Post) -> list[str]:
        fits = "fits" if post.length <= post.limit else "TOO LONG"
        lines = [f"[dry run] {self.network}: would post {post.key} ({post.length}/{post.limit}, {fits})"]
        if post.content_warning:
            lines.append(f"    content warning: {post.content_warning}")
        lines += [f"    | {line}" for line in post.text.splitlines() or [""]]
        if self.verbose:
            lines += self.spec.dry_run_lines(post)
        card = card_link(post.link, post.text)
        if card and self.spec.link_cards and not post.images:
            source = "" if post.link else " (from the first link in the text)"
            lines.append(f"    link card{source}: {self._card(card)}")
        elif post.link and not self.spec.link_cards:
            lines.append(f"    link: {post.link} ({self.spec.name} shows its own card)")
        for image in post.images:
            try:
                fitted = prepare_image(image.path, self.spec.images.max_bytes)
                size = f" ({fitted.width}x{fitted.height} {fitted.mime}, {len(fitted.data) // 1024} KB)"
            except BotError as exc:
                size = f": cannot be sent: {exc}"
            lines.append(f"    image: {image.path}{size if self.verbose or size.startswith(':') else ''}")
            lines.append(f"      alt: {image.alt}")
        if post.labels:
            lines.append(f"    self-labels: {', '.join(post.labels)}")
        if post.reply_to is not None:
            lines.append(f"    in reply to: {post.reply_to.url or post.reply_to.remote_id}")
        return lines

    def _card(self, url: str) -> str:
        if not self.fetch_cards:
            return f"{url} (its title, description and picture are read from the page when posting)"
        from bot.linkcard import fetch_card

        card = fetch_card(url, self.cards)
        if card is None:
            return f"{url}: the page could not be read (see the warning), so the post would go out without a card"
        image = f", image {len(card.image) // 1024} KB" if card.image else ", no image"
        return f"{card.title!r} / {card.description[:80]!r}{image}"

    def publish(self, post: Post) -> Receipt:
        lines = self.describe(post)
        with self._lock:
            out = self.out or sys.stdout
            out.write(for_terminal("\n".join(lines)) + "\n")
            out.flush()
        return Receipt(self.network, f"dry-run:{post.key}", "", 0.0, dry_run=True)

    def recover(self, post: Post, *, since: datetime) -> Receipt | None:
        return None

    def check(self) -> str:
        return "dry run: nothing is sent"
