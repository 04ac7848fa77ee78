"""Frozen dataclasses for the data that flows between modules.

YAML and feed -> models (Observance, QueuedPost, RecurringPost, FeedItem) -> Due items carrying a Draft ->
one Post per network (compose) -> publishers -> Receipt (recorded in the store).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time
from pathlib import Path
from types import MappingProxyType
from zoneinfo import ZoneInfo

SOURCES: tuple[str, ...] = ("awareness", "queue", "recurring", "feed")

EMPTY: Mapping[str, str] = MappingProxyType({})

TEXT_ROTATION_YEAR = 2026
"""The year an observance post's first ``texts:`` entry is used; the next year takes the second, and so on."""


def _empty() -> Mapping[str, str]:
    return EMPTY


def _all_networks() -> tuple[str, ...]:
    from bot.publishers.registry import ids  # the registry imports the network modules, which import models

    return ids()


@dataclass(frozen=True, slots=True)
class Image:
    """An image to attach; ``alt`` is mandatory because many followers use screen readers."""

    path: Path
    alt: str


@dataclass(frozen=True, slots=True)
class PostSpec:
    """One post as written in a schedule file, before dates or networks are applied."""

    text: str
    variants: Mapping[str, str] = field(default_factory=_empty)
    """Per-network replacement text, keyed by network name."""
    hashtags: tuple[str, ...] = ()
    link: str | None = None
    images: tuple[Image, ...] = ()
    line: int = 0
    """Line in the schedule file where this post starts (for messages)."""
    content_warning: str | None = None
    """Shown before the post (Mastodon's spoiler text; a ``CW:`` first line elsewhere), e.g. for a story about
    a child's injury."""
    language: str | None = None
    """The post's BCP-47 language when it differs from settings.yaml's ``language``."""
    thread: tuple[PostSpec, ...] = ()
    """A ``thread:`` post's parts, in order (the first part's fields are also this spec's own, so code that
    knows nothing of threads shows the first part); empty for a single post."""


@dataclass(frozen=True, slots=True)
class ObservancePost:
    """A post of an awareness observance: which day of the observance, at what local time."""

    spec: PostSpec
    day: int = 1
    """1-based day of the observance (1 = its first day; -1 = its last day)."""
    time: time | None = None
    """Local posting time; None means the settings' default time."""
    texts: tuple[PostSpec, ...] = ()
    """``texts:``: versions used in turn, one a year (2026 the first); empty means ``spec`` every year."""

    def for_year(self, year: int) -> PostSpec:
        if not self.texts:
            return self.spec
        return self.texts[(year - TEXT_ROTATION_YEAR) % len(self.texts)]


@dataclass(frozen=True, slots=True)
class Observance:
    id: str
    name: str
    when: str
    source: str
    file: str
    posts: tuple[ObservancePost, ...]
    line: int = 1
    hashtags: tuple[str, ...] = ()
    link: str | None = None
    tone: str = ""
    """``solemn`` for a day of mourning: ``validate`` warns when any other post falls on it."""


@dataclass(frozen=True, slots=True)
class QueuedPost:
    id: str
    at: datetime
    """Aware local datetime."""
    spec: PostSpec
    file: str
    line: int = 1
    name: str = ""


@dataclass(frozen=True, slots=True)
class RecurringPost:
    id: str
    cron: str
    """Crontab expression (minute hour day month day_of_week), APScheduler CronTrigger semantics."""
    specs: tuple[PostSpec, ...]
    """Texts used in turn, one per occurrence, so no two consecutive posts are identical."""
    file: str
    line: int = 1
    name: str = ""
    start: date | None = None
    end: date | None = None


@dataclass(frozen=True, slots=True)
class FeedItem:
    """A story from the site feed."""

    guid: str
    url: str
    title: str
    published: datetime | None = None
    summary: str = ""
    categories: tuple[str, ...] = ()
    """The story's categories (WordPress categories and tags), for ``feed.categories`` rules."""


@dataclass(frozen=True, slots=True)
class ThreadPlace:
    """Where a post sits in a thread: part ``part`` of ``of`` of the item ``item``."""

    item: str
    part: int
    of: int

    def key(self, part: int) -> str:
        """The ledger key of another part of the same thread."""
        return part_key(self.item, part)


def part_key(item: str, part: int) -> str:
    """The ledger key of a thread part: the item's key and the part number (``queue/idpd#2``)."""
    return f"{item}#{part}"


@dataclass(frozen=True, slots=True)
class Draft:
    """What the bot wants to say, independent of any network."""

    key: str
    """Stable item key in the ledger: awareness/<id>/<year>/<n>, queue/<id>, recurring/<id>/<stamp>, feed/<id>."""
    source: str
    name: str
    file: str
    text: str
    line: int = 0
    """Line in ``file`` where the post is written (for messages); 0 when it has none (feed, command line)."""
    variants: Mapping[str, str] = field(default_factory=_empty)
    hashtags: tuple[str, ...] = ()
    link: str | None = None
    images: tuple[Image, ...] = ()
    fit: bool = False
    """True for machine text (feed titles) that may be shortened to fit; people's text is never cut."""
    context: Mapping[str, str] = field(default_factory=_empty)
    """Template variables ({title}, {link}, {name}, {year}, ...)."""
    langs: tuple[str, ...] = ("en",)
    labels: tuple[str, ...] = ()
    """Self-labels for sensitive content (Bluesky), e.g. 'graphic-media'."""
    content_warning: str | None = None
    unconfirmed: bool = False
    """The date is forecast from the observance's rule, not yet confirmed by its organiser."""
    thread: ThreadPlace | None = None
    numbering: str = ""
    """``2/4`` when settings number thread parts: written after the part's text, counted in its length."""


@dataclass(frozen=True, slots=True)
class Due:
    """A draft and the instant it should go out."""

    at: datetime
    draft: Draft


@dataclass(frozen=True, slots=True)
class Post:
    """The exact post for one network."""

    key: str
    network: str
    text: str
    length: int
    limit: int
    link: str | None = None
    images: tuple[Image, ...] = ()
    langs: tuple[str, ...] = ("en",)
    labels: tuple[str, ...] = ()
    reply_to: Receipt | None = None
    due_at: datetime | None = None
    """When the item was due (stable across retries): adapters may derive idempotency keys from it and ``key``."""
    content_warning: str | None = None
    """For networks that show one natively (``NetworkSpec.spoilers``); elsewhere it is already in ``text``."""
    thread: ThreadPlace | None = None
    reply_root: Receipt | None = None
    """The first part of the thread ``reply_to`` belongs to (Bluesky's ``reply.root``)."""


@dataclass(frozen=True, slots=True)
class Receipt:
    """What a network answered for a published post."""

    network: str
    remote_id: str
    url: str
    cost: float = 0.0
    """Estimated cost in US dollars (X bills per request)."""
    cid: str | None = None
    """Content id (Bluesky), needed to reply to the post."""
    dry_run: bool = False


@dataclass(frozen=True, slots=True)
class CategoryRule:
    content_warning: str | None = None
    hashtags: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class FeedSettings:
    url: str | None = "https://endseclusion.org/feed/"
    poll_minutes: int = 30
    first_run_post_newest: int = 0
    """On the very first poll, announce this many newest entries (0: record all as seen, post none)."""
    max_per_poll: int = 3
    template: str = "New on endseclusion.org: {title}"
    hashtags: tuple[str, ...] = ()
    categories: Mapping[str, CategoryRule] = field(default_factory=lambda: MappingProxyType({}))
    """Rules by category name (lowercase): a content warning and extra hashtags for such stories."""
    allow_private_address: bool = False
    """Fetch the feed URL even when it is (or redirects to) a private, loopback or link-local address: for a
    feed served inside the same network (and for tests on 127.0.0.1). Link cards never may."""
    deadline_seconds: float = 120.0
    """The whole feed download, headers and body, however slowly the server sends them."""


@dataclass(frozen=True, slots=True)
class Settings:
    timezone: ZoneInfo = field(default_factory=lambda: ZoneInfo("America/New_York"))
    default_time: time = time(10, 0)
    networks: tuple[str, ...] = field(default_factory=_all_networks)
    """Enabled networks, in publishing order (default: every registered network)."""
    hashtags: tuple[str, ...] = ()
    feed: FeedSettings = field(default_factory=FeedSettings)
    network_options: Mapping[str, Mapping[str, int | float | bool | str]] = field(
        default_factory=lambda: MappingProxyType({})
    )
    """Each network's ``<network>:`` block of settings.yaml, validated by its spec, defaults filled in."""
    grace_hours: float = 6.0
    thread_max_parts: int = 10
    """``threads: max_parts``: the most parts a ``thread:`` may have."""
    thread_numbering: bool = False
    """``threads: numbering``: write ``1/3`` after each part's text (counted in its length)."""
    paused: bool = False
    blackout: tuple[date, ...] = ()
    langs: tuple[str, ...] = ("en",)
    repository: str | None = None
    """GitHub ``owner/name`` of the schedules' repository: the site links each file to GitHub's editor."""
    readability_max_grade: float = 8.0
    """``readability: max_grade``: ``validate`` warns when a post's own words read above this school grade."""
    readability_min_words: int = 20
    """``readability: min_words``: texts with fewer words get no grade (too few for the formula to mean much)."""
    confirm_dates_days: int = 120
    """``validate`` warns this many days ahead of an observance's first post in a year whose date is not yet
    confirmed (past its ``confirmed_through:`` and missing from its ``dates:``)."""
