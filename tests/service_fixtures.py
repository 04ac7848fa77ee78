"""Helpers for pipeline tests: schedule trees written to disk, and a scriptable in-memory publisher.

The fake publisher stands in for a network only in tests of the service's own logic (STYLE.md: "a fake
publisher for pipeline tests"); the adapters themselves are tested against real local servers.
"""

from __future__ import annotations

import textwrap
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from bot.errors import PublishError, TransientError
from bot.models import Post, Receipt
from bot.publishers.registry import measure, text_rules
from bot.schedules import Schedules, load_schedules

SETTINGS = """\
timezone: America/New_York
default_time: "10:00"
networks: [x, bluesky]
grace_hours: 6
feed:
  url: null
x:
  daily_post_cap: 10
  monthly_budget_usd: 30
"""


def queue_of(ids: list[str], text: str, at: str = "2026-12-03 10:00") -> str:
    """A queue file with one post per id; ``text`` may use ``{id}`` and ``{i}`` (its position)."""
    return "posts:\n" + "".join(
        f'  - id: {ident}\n    at: "{at}"\n    text: {text.format(id=ident, i=i)}\n'
        for i, ident in enumerate(ids)
    )


def write_tree(
    root: Path,
    *,
    settings: str = SETTINGS,
    awareness: dict[str, str] | None = None,
    queue: str | None = None,
    recurring: str | None = None,
) -> Path:
    schedules = root / "schedules"
    (schedules / "awareness").mkdir(parents=True, exist_ok=True)
    (root / "content").mkdir(exist_ok=True)
    (schedules / "settings.yaml").write_text(textwrap.dedent(settings))
    for name, body in (awareness or {}).items():
        (schedules / "awareness" / f"{name}.yaml").write_text(textwrap.dedent(body))
    if queue is not None:
        (schedules / "queue").mkdir(exist_ok=True)
        (schedules / "queue" / "posts.yaml").write_text(textwrap.dedent(queue))
    if recurring is not None:
        (schedules / "recurring").mkdir(exist_ok=True)
        (schedules / "recurring" / "posts.yaml").write_text(textwrap.dedent(recurring))
    return schedules


def load_tree(schedules: Path) -> Schedules:
    loaded = load_schedules(schedules, schedules.parent / "content")
    errors = loaded.errors()
    assert not errors, [p.format() for p in errors]
    return loaded.schedules


IDPD = """\
name: International Day of Persons with Disabilities
when: December 3
source: https://www.un.org/en/observances/day-of-persons-with-disabilities
hashtags: [IDPD]
posts:
  - text: Today is the International Day of Persons with Disabilities.
  - time: "16:00"
    text: Children with disabilities deserve safe schools.
    link: https://endseclusion.org/
"""


@dataclass
class FakePublisher:
    """Records what it is asked to publish; ``fail`` decides, per call, whether to raise."""

    network: str
    dry_run: bool = False
    fail: Callable[[Post, int], PublishError | None] = lambda post, n: None
    existing: dict[str, Receipt] = field(default_factory=dict)
    """What recover() finds: posts that 'made it' before a crash."""
    recover_fails: bool = False
    """recover() raises, as when the network's look-up is down."""
    published: list[Post] = field(default_factory=list)
    calls: int = 0
    recovers: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def limit(self) -> int:
        return text_rules(self.network).limit

    def measure(self, text: str) -> int:
        return measure(self.network, text)

    def publish(self, post: Post) -> Receipt:
        with self.lock:
            self.calls += 1
            error = self.fail(post, self.calls)
            if error is not None:
                raise error
            self.published.append(post)
            receipt = Receipt(
                self.network,
                f"{self.network}-{len(self.published)}",
                f"https://{self.network}.example/{len(self.published)}",
                cost=0.015,
            )
            self.existing[post.key] = receipt
            return receipt

    def recover(self, post: Post, *, since: datetime) -> Receipt | None:
        with self.lock:
            self.recovers += 1
            if self.recover_fails:
                raise TransientError("look-up failed", network=self.network)
            return self.existing.get(post.key)

    def check(self) -> str:
        return f"@fake on {self.network}"
