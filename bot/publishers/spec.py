"""What a network module declares about its network: one frozen ``NetworkSpec``.

The generic bot (settings, checks, composing, the service, status, the CLI) knows networks only through these
specs, collected by ``bot.publishers.registry``. A network module must stay import-light: it imports its SDK
only inside the functions that publish (``lazy_module`` helps), so read-only commands never load one.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from types import MappingProxyType, ModuleType
from typing import TYPE_CHECKING, Any, Literal

from bot.textlen import utf8_length

if TYPE_CHECKING:
    from bot.models import Post
    from bot.publishers.base import Publisher, SessionStore

OptionValue = int | float | bool | str
Options = Mapping[str, OptionValue]
"""A network's validated settings (its ``<network>:`` block in settings.yaml, defaults filled in)."""


class _LazyModule(ModuleType):
    """A module imported on first attribute access, so a network module can name its SDK at the top."""

    def __init__(self, name: str) -> None:
        super().__init__(name)
        self.__dict__["_target"] = name

    def __getattr__(self, attr: str) -> Any:
        module = importlib.import_module(self.__dict__["_target"])
        return getattr(module, attr)


def lazy_module(name: str) -> Any:
    """``name`` as a module that is really imported when first used (stdlib LazyLoader imports a submodule's
    parent package at once, which for an SDK is the expensive part)."""
    return _LazyModule(name)


@dataclass(frozen=True, slots=True)
class Credential:
    """One environment variable a network reads."""

    env: str
    secret: bool = False
    """Never printed: logs scrub its value, status and errors never show it."""
    required: bool = True
    default: str = ""
    """For optional variables (e.g. where the API lives)."""


@dataclass(frozen=True, slots=True)
class Option:
    """One key of a network's ``<network>:`` block in settings.yaml."""

    kind: Literal["int", "number", "bool", "text", "choice"]
    default: OptionValue
    help: str
    minimum: int = 0
    choices: tuple[str, ...] = ()


CW_LINE_OPTION = Option(
    "bool",
    True,
    "start the text with a 'CW: ...' line for posts with a content warning (false: leave it out)",
)


@dataclass(frozen=True, slots=True)
class TextRules:
    """How a network measures text and what fits."""

    limit: int
    unit: str
    """The unit of ``limit`` as messages say it, e.g. "graphemes"."""
    measure: Callable[[str], int]
    max_bytes: int | None = None
    """A cap on the UTF-8 size as well (Bluesky), or None."""
    spoilers: bool = False
    """The network shows a content warning natively, and counts it in the limit (Mastodon)."""
    cw_line: bool = True
    """Elsewhere, start the text with a ``CW: ...`` line (a network's ``content_warning_line: false`` turns
    that off)."""

    def count(self, text: str, content_warning: str | None = None) -> int:
        """The length the network compares with ``limit``: the text, and a native content warning."""
        extra = self.measure(content_warning) if content_warning and self.spoilers else 0
        return self.measure(text) + extra

    def fits(self, text: str, content_warning: str | None = None) -> bool:
        if self.count(text, content_warning) > self.limit:
            return False
        return self.max_bytes is None or utf8_length(text) <= self.max_bytes


@dataclass(frozen=True, slots=True)
class ImageRules:
    max_images: int
    max_bytes: int
    """Bigger images are downscaled to fit before upload."""
    max_alt_chars: int


@dataclass(frozen=True, slots=True)
class Usage:
    """What the ledger says a network has sent and spent, for its cost policy."""

    sent_today: int
    spent_today: float
    spent_month: float


class CostPolicy:
    """A network that bills per post: what a post costs and when the bot must wait (daily cap, budget)."""

    def price(self, text: str) -> float:
        raise NotImplementedError

    def wait(self, usage: Usage, cost: float, reserved: Sequence[float]) -> str | None:
        """Why a post costing ``cost`` must wait, or None. ``reserved``: the cost of each scheduled post still
        to come today, which a story announcement may not take the room of (empty for scheduled posts)."""
        raise NotImplementedError

    def status(self, usage: Usage) -> dict[str, object]:
        """The figures ``status`` shows (its JSON fields are a contract)."""
        raise NotImplementedError

    def summary(self, usage: Usage) -> str:
        """One line for ``status``."""
        raise NotImplementedError


@dataclass(frozen=True, slots=True)
class Account:
    """A network's credentials as read from the environment: values by variable name."""

    values: Mapping[str, str]

    def get(self, name: str) -> str:
        return self.values.get(name, "")


def _no_cost(options: Options) -> CostPolicy | None:
    return None


def _no_lines(post: Post) -> list[str]:
    return []


@dataclass(frozen=True, slots=True)
class NetworkSpec:
    id: str
    """Short name in settings, the ledger, messages and ``--network``."""
    name: str
    """Display name, e.g. "Bluesky"."""
    order: int
    """Networks publish and report in this order."""
    text: Callable[[Options], TextRules]
    images: ImageRules
    credentials: tuple[Credential, ...]
    create: Callable[[Account, Options, SessionStore], tuple[Publisher, str]]
    """Build the real publisher (imports the SDK) and a banner line: who we post as, where."""
    options: Mapping[str, Option] = field(default_factory=lambda: MappingProxyType({}))
    cost: Callable[[Options], CostPolicy | None] = _no_cost
    spoilers: bool = False
    """True when the network shows a content warning natively (else the text starts with a ``CW:`` line)."""
    repeat_window: timedelta | None = None
    """The network refuses a text it saw within this long (``validate`` warns about such repeats), or None."""
    link_cards: bool = False
    """True when the bot must build a post's link card itself (else the network makes its own)."""
    dry_run_lines: Callable[[Post], list[str]] = _no_lines
    """Extra lines ``--dry-run`` shows for a post (e.g. Bluesky's facets)."""

    def all_options(self) -> Mapping[str, Option]:
        """The network's own settings keys, and ``content_warning_line`` where it has no native warnings."""
        if self.spoilers:
            return self.options
        return MappingProxyType({**self.options, "content_warning_line": CW_LINE_OPTION})

    def defaults(self) -> Options:
        return MappingProxyType({key: option.default for key, option in self.all_options().items()})

    def account(self, env: Callable[[str], str | None]) -> Account | str:
        """The credentials from the environment, or why there are none (a half-configured network is named)."""
        required = [c.env for c in self.credentials if c.required]
        present = [name for name in required if env(name)]
        if len(present) < len(required):
            if present:
                missing = [name for name in required if name not in present]
                return f"{self.name} credentials incomplete, missing " + ", ".join(missing)
            return f"no {self.name} credentials (set {_and(required)})"
        values = {c.env: env(c.env) or c.default for c in self.credentials}
        return Account(MappingProxyType({k: v for k, v in values.items() if v}))


def _and(names: Sequence[str]) -> str:
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]
