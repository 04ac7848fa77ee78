"""The publisher a network gets when it must not really post: prints exactly what would be sent.

Used for ``--dry-run`` and, loudly announced at start-up, for any network without credentials, so the whole
bot runs on a fresh machine. It goes through the same pipeline and ledger (its rows are marked dry-run and never
count as real sends).
"""

from __future__ import annotations

import sys
import threading
from typing import TextIO

from bot.models import Post, Receipt
from bot.textlen import LIMITS, measure


class DryRunPublisher:
    dry_run = True

    def __init__(self, network: str, *, out: TextIO | None = None, describe_card: bool = False) -> None:
        self.network = network
        self.limit = LIMITS[network]
        self.out = out
        self.describe_card = describe_card
        self._lock = threading.Lock()

    def measure(self, text: str) -> int:
        return measure(self.network, text)

    def publish(self, post: Post) -> Receipt:
        lines = [f"[dry run] {self.network}: would post {post.key} ({post.length}/{post.limit})"]
        lines += [f"    | {line}" for line in post.text.splitlines() or [""]]
        if post.link:
            card = "link card for" if self.network == "bluesky" else "link"
            lines.append(f"    {card}: {post.link}")
        for image in post.images:
            lines.append(f"    image: {image.path} (alt: {image.alt})")
        if post.langs:
            lines.append(f"    langs: {', '.join(post.langs)}")
        if post.labels:
            lines.append(f"    labels: {', '.join(post.labels)}")
        with self._lock:
            out = self.out or sys.stdout
            out.write("\n".join(lines) + "\n")
            out.flush()
        return Receipt(self.network, f"dry-run:{post.key}", "", 0.0, dry_run=True)

    def recover(self, post: Post) -> Receipt | None:
        return None

    def check(self) -> str:
        return "dry run: nothing is sent"
