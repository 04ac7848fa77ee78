"""Schedule files -> models, with every problem reported as ``file:line:column``; environment -> settings.

This is the only module that reads ``os.environ`` (and the git-ignored ``.env``). Loading never stops at the
first problem: each file, post and field is checked on its own, invalid items are left out of the result, and
the caller decides what to do with the list of problems (``validate`` prints them; ``run`` logs them and
publishes the valid rest, so one contributor's typo never silences the whole calendar).
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from pathlib import Path
from types import MappingProxyType
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from bot import lint
from bot.compose import TemplateError, placeholders
from bot.errors import ConfigError
from bot.models import (
    NETWORKS,
    BlueskyCredentials,
    FeedSettings,
    Image,
    Observance,
    ObservancePost,
    PostSpec,
    QueuedPost,
    RecurringPost,
    Settings,
    XCredentials,
)
from bot.observances import Rule, WhenError, parse_when
from bot.problems import Problem
from bot.yamlsource import Node, Where, YamlProblem, load

REPO_ROOT = Path(__file__).resolve().parents[1]
ID_PATTERN = re.compile(r"^[a-z0-9][a-z0-9-]*$")
HASHTAG_PATTERN = re.compile(r"^\w+$")
TIME_PATTERN = re.compile(r"^(\d{1,2}):(\d{2})$")
MAX_IMAGES = 4
MAX_ALT_CHARS = 1000  # X's limit for alt text; Bluesky allows more, so the stricter one applies
IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".gif", ".webp"}
POST_TEMPLATE_FIELDS = {"name", "year", "date", "link"}
FEED_TEMPLATE_FIELDS = {"title", "link", "name", "year", "date"}
LONGEST_DATE = "September 30, 2026"
"""The longest ``{date}`` the planner renders (``human_date``), for length checks."""
# ----------------------------------------------------------------------------------------------- environment


def _dotenv() -> Mapping[str, str]:
    """Values from a git-ignored ``.env`` in the working directory; real environment variables win."""
    path = Path(".env")
    if not path.is_file():
        return {}
    from dotenv import dotenv_values

    return {k: v for k, v in dotenv_values(path).items() if v is not None}


_ENV_CACHE: dict[str, str] | None = None


def env(name: str, default: str | None = None) -> str | None:
    global _ENV_CACHE
    if _ENV_CACHE is None:
        _ENV_CACHE = dict(_dotenv())
    value = os.environ.get(name)
    if value is None:
        value = _ENV_CACHE.get(name)
    return value if value not in (None, "") else default


def schedules_dir(arg: str | None = None) -> Path:
    """``--schedules`` wins, then ``BOT_SCHEDULES``, then ./schedules, then the one beside the package."""
    chosen = arg or env("BOT_SCHEDULES")
    if chosen:
        return Path(chosen)
    here = Path("schedules")
    return here if here.is_dir() else REPO_ROOT / "schedules"


def content_dir(arg: str | None = None, schedules: Path | None = None) -> Path:
    """``--content`` wins, then ``BOT_CONTENT``, then the ``content`` folder beside the schedules folder (even
    when it doesn't exist yet: a copy of the schedules must never pick up another tree's images)."""
    chosen = arg or env("BOT_CONTENT")
    if chosen:
        return Path(chosen)
    if schedules is not None:
        return schedules.parent / "content"
    here = Path("content")
    return here if here.is_dir() else REPO_ROOT / "content"


def database_target() -> str:
    """``DATABASE_URL`` (PostgreSQL, e.g. Heroku) wins over ``BOT_DB`` (a SQLite file)."""
    url = env("DATABASE_URL")
    if url:
        return url
    return env("BOT_DB", "state/aasr-bot.sqlite3") or "state/aasr-bot.sqlite3"


def x_credentials() -> XCredentials | None:
    names = ("X_API_KEY", "X_API_SECRET", "X_ACCESS_TOKEN", "X_ACCESS_TOKEN_SECRET")
    values = [env(n) for n in names]
    if not all(values):
        return None
    key, secret, token, token_secret = (v or "" for v in values)
    return XCredentials(
        key, secret, token, token_secret, base_url=env("X_API_BASE_URL", "https://api.x.com") or ""
    )


def x_credentials_partial() -> list[str]:
    """Names of X variables that are set while others are missing (a half-configured network is a mistake)."""
    names = ("X_API_KEY", "X_API_SECRET", "X_ACCESS_TOKEN", "X_ACCESS_TOKEN_SECRET")
    present = [n for n in names if env(n)]
    return [n for n in names if n not in present] if present and len(present) < len(names) else []


def bluesky_credentials() -> BlueskyCredentials | None:
    handle, password = env("BLUESKY_HANDLE"), env("BLUESKY_APP_PASSWORD")
    if not handle or not password:
        return None
    return BlueskyCredentials(
        handle.lstrip("@"), password, env("BLUESKY_SERVICE", "https://bsky.social") or ""
    )


def log_level() -> str:
    return (env("LOG_LEVEL", "INFO") or "INFO").upper()


# --------------------------------------------------------------------------------------------------- loading


@dataclass(frozen=True, slots=True)
class Schedules:
    settings: Settings
    observances: tuple[Observance, ...] = ()
    queue: tuple[QueuedPost, ...] = ()
    recurring: tuple[RecurringPost, ...] = ()
    rules: Mapping[str, Rule] = field(default_factory=lambda: MappingProxyType({}))
    """Parsed ``when`` rule of each observance, by observance id."""
    root: Path = Path("schedules")
    content: Path = Path("content")


@dataclass(frozen=True, slots=True)
class Loaded:
    schedules: Schedules
    problems: tuple[Problem, ...]
    files: int

    def errors(self, *, strict: bool = False) -> list[Problem]:
        return [p for p in self.problems if p.is_error(strict=strict)]


def load_schedules(
    root: Path, content: Path, *, today: date | None = None, text_checks: bool = True
) -> Loaded:
    """Read every schedule file under ``root``. Never raises for bad input: problems are returned.

    ``today`` (default: the local date) anchors the checks that depend on the year, such as whether ``day: 7``
    fits an observance and how long ``{year}`` renders. ``text_checks=False`` skips the accessibility lint and
    the per-network length checks (two thirds of the time at 5,000 observances) for commands that show the
    texts themselves (``upcoming``, with each length) or no texts at all (``calendar``); ``validate`` and the
    bot always run them.
    """
    checker = _Checker(root, content, today or date.today(), text_checks)
    if not root.is_dir():
        checker.problem(
            Where(str(root), 1, 1),
            "schedules folder not found",
            "pass --schedules DIR or set BOT_SCHEDULES",
        )
        return Loaded(Schedules(Settings(), root=root, content=content), tuple(checker.problems), 0)
    return checker.run()


class _Checker:
    def __init__(self, root: Path, content: Path, today: date, text_checks: bool = True) -> None:
        self.root = root
        self.text_checks = text_checks
        self.root_display: str | None = None
        self.today = today
        self.content = content
        self.problems: list[Problem] = []
        self.files = 0
        self.settings = Settings()

    # ---------------------------------------------------------------- reporting helpers

    def problem(
        self, where: Where, message: str, hint: str | None = None, *, warning: bool = False, code: str = ""
    ) -> None:
        severity = "warning" if warning else "error"
        self.problems.append(Problem(where.file, where.line, where.column, severity, message, hint, code))

    def display(self, path: Path) -> str:
        """The path as messages show it: relative to the working directory when inside it."""
        text, root = str(path), str(self.root)
        if not text.startswith(root + os.sep):
            return _display(path)
        if self.root_display is None:  # resolving every path costs ~0.1 ms: do it once, for the root
            self.root_display = _display(self.root)
        return os.path.normpath(os.path.join(self.root_display, text[len(root) + 1 :]))

    def read(self, path: Path) -> Node | None:
        self.files += 1
        display = self.display(path)
        try:
            node = load(path, display)
        except YamlProblem as exc:
            self.problem(exc.where, exc.message, exc.hint)
            return None
        if node is None:
            self.problem(
                Where(display, 1, 1), "file is empty", "delete it or fill it in (see schedules/README.md)"
            )
            return None
        if node.kind != "mapping":
            self.problem(
                node.where,
                f"expected a mapping of keys at the top of the file, found a {node.kind}",
                "see the examples in schedules/README.md",
            )
            return None
        return node

    def keys(self, node: Node, allowed: Iterable[str], what: str) -> bool:
        ok = True
        allowed = list(allowed)
        for key, where in node.key_where.items():
            if key not in allowed:
                import difflib

                close = difflib.get_close_matches(key, allowed, n=1)
                hint = f"did you mean '{close[0]}'?" if close else "allowed keys: " + ", ".join(allowed)
                self.problem(where, f"unknown key '{key}' in {what}", hint)
                ok = False
        return ok

    def text(
        self,
        node: Node | None,
        what: str,
        *,
        required: bool = True,
        parent: Node | None = None,
        key: str = "",
    ) -> str | None:
        if node is None:
            if required and parent is not None:
                self.problem(parent.where, f"{what} is missing", f"add '{key}:'")
            return None
        if node.kind != "scalar":
            self.problem(
                node.where,
                f"{what} must be plain text, found a {node.kind}",
                "put text that starts with '{' or '[' or contains ': ' in quotes",
            )
            return None
        if node.value is None:
            if required:
                self.problem(node.where, f"{what} is empty")
            return None
        value = node.raw if node.raw is not None else str(node.value)
        if not value.strip():
            if required:
                self.problem(node.where, f"{what} is empty")
            return None
        return value

    def integer(self, node: Node | None, what: str, default: int, *, minimum: int = 0) -> int:
        if node is None:
            return default
        if isinstance(node.value, bool) or not isinstance(node.value, int):
            self.problem(node.where, f"{what} must be a whole number, found {node.raw!r}")
            return default
        if node.value < minimum:
            self.problem(node.where, f"{what} must be at least {minimum}")
            return default
        return int(node.value)

    def number(self, node: Node | None, what: str, default: float) -> float:
        if node is None:
            return default
        value = node.value
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value < float("inf"):
            self.problem(node.where, f"{what} must be a number of zero or more, found {node.raw!r}")
            return default
        return float(node.value)

    def boolean(self, node: Node | None, what: str, default: bool) -> bool:
        if node is None:
            return default
        if not isinstance(node.value, bool):
            self.problem(node.where, f"{what} must be true or false, found {node.raw!r}")
            return default
        return node.value

    def clock(self, node: Node | None, what: str) -> time | None:
        if node is None:
            return None
        if node.raw is None:
            self.problem(
                node.where,
                f"{what} must be a time of day, found a {node.kind}",
                'write 24-hour time in quotes, e.g. "09:30"',
            )
            return None
        raw = node.raw
        match = TIME_PATTERN.match(raw.strip())
        if not match or int(match.group(1)) > 23 or int(match.group(2)) > 59:
            self.problem(
                node.where,
                f"{what} {raw!r} is not a time of day",
                'write 24-hour time in quotes, e.g. "09:30"',
            )
            return None
        return time(int(match.group(1)), int(match.group(2)))

    def a_date(self, node: Node | None, what: str) -> date | None:
        if node is None:
            return None
        if isinstance(node.value, date) and not isinstance(node.value, datetime):
            return node.value
        if node.kind != "scalar" or node.raw is None:
            self.problem(
                node.where, f"{what} must be a date, found a {node.kind}", "write YYYY-MM-DD, e.g. 2026-12-03"
            )
            return None
        raw = node.raw
        try:
            return date.fromisoformat(raw.strip())
        except ValueError:
            self.problem(node.where, f"{what} {raw!r} is not a date", "write YYYY-MM-DD, e.g. 2026-12-03")
            return None

    def url(self, node: Node | None, what: str) -> str | None:
        value = self.text(node, what, required=False)
        if value is None or node is None:
            return None
        try:
            parts = urlsplit(value.strip())
            valid = parts.scheme in ("http", "https") and bool(parts.hostname) and " " not in value.strip()
        except ValueError:  # e.g. "https://[::1" (an unclosed IPv6 address)
            valid = False
        if not valid:
            self.problem(
                node.where,
                f"{what} {value!r} is not a web address",
                "write a full URL starting with https://",
            )
            return None
        return value.strip()

    def string_list(self, node: Node | None, what: str) -> list[tuple[str, Where]]:
        if node is None or node.value is None:
            return []
        if node.kind == "mapping":
            self.problem(node.where, f"{what} must be a list, found a mapping", "write [first, second]")
            return []
        items = node.value if isinstance(node.value, list) else [node]
        out: list[tuple[str, Where]] = []
        for item in items:
            if isinstance(item.value, (dict, list)) or item.value is None:
                self.problem(item.where, f"each of {what} must be text")
                continue
            out.append((str(item.raw if item.raw is not None else item.value), item.where))
        return out

    # ---------------------------------------------------------------- files

    def run(self) -> Loaded:
        settings_path = self.root / "settings.yaml"
        if settings_path.is_file():
            self.settings = self.read_settings(settings_path)
        observances: list[Observance] = []
        rules: dict[str, Rule] = {}
        for path in self.files_in("awareness"):
            found = self.read_observance(path)
            if found:
                observances.append(found[0])
                rules[found[0].id] = found[1]
        queue: list[QueuedPost] = []
        seen_queue: dict[str, Where] = {}
        for path in self.files_in("queue"):
            queue.extend(self.read_queue(path, seen_queue))
        recurring: list[RecurringPost] = []
        seen_recurring: dict[str, Where] = {}
        for path in self.files_in("recurring"):
            recurring.extend(self.read_recurring(path, seen_recurring))
        for extra in sorted(self.root.glob("*.y*ml")):
            if extra.name not in ("settings.yaml",):
                self.problem(
                    Where(self.display(extra), 1, 1),
                    "file is not read by the bot",
                    "awareness days go in awareness/, one-off posts in queue/, repeating posts in recurring/;"
                    " settings in settings.yaml",
                )
        schedules = Schedules(
            self.settings,
            tuple(observances),
            tuple(sorted(queue, key=lambda q: q.at)),
            tuple(recurring),
            MappingProxyType(rules),
            self.root,
            self.content,
        )
        self.problems.sort(key=lambda p: (p.file, p.line, p.column))
        return Loaded(schedules, tuple(self.problems), self.files)

    def files_in(self, sub: str) -> list[Path]:
        folder = self.root / sub
        if not folder.is_dir():
            return []
        found = []
        for path in sorted(folder.iterdir()):
            if path.name.startswith(".") or path.name == "README.md":
                continue
            if path.suffix == ".yml":
                self.problem(
                    Where(self.display(path), 1, 1),
                    "schedule files must end in .yaml",
                    f"rename it to {path.stem}.yaml",
                )
                continue
            if path.suffix != ".yaml" or not path.is_file():
                self.problem(
                    Where(self.display(path), 1, 1),
                    f"unexpected file in {sub}/",
                    "only .yaml files belong here; images and texts go under content/",
                )
                continue
            found.append(path)
        return found

    def read_settings(self, path: Path) -> Settings:
        node = self.read(path)
        base = Settings()
        if node is None:
            return base
        v = node.value
        allowed = [
            "timezone",
            "default_time",
            "networks",
            "language",
            "hashtags",
            "grace_hours",
            "paused",
            "blackout",
            "feed",
            "x",
            "bluesky",
        ]
        self.keys(node, allowed, "settings")
        tz = base.timezone
        tz_name = self.text(v.get("timezone"), "timezone", required=False)
        if tz_name:
            try:
                tz = ZoneInfo(tz_name.strip())
            except (ZoneInfoNotFoundError, ValueError):
                self.problem(
                    v["timezone"].where,
                    f"unknown time zone {tz_name!r}",
                    "use an IANA name such as America/New_York",
                )
        default_time = self.clock(v.get("default_time"), "default_time") or base.default_time
        networks: list[str] = []
        for name, where in self.string_list(v.get("networks"), "networks"):
            if name not in NETWORKS:
                self.problem(where, f"unknown network {name!r}", "networks are: " + ", ".join(NETWORKS))
            elif name not in networks:
                networks.append(name)
        if "networks" not in v:
            networks = list(NETWORKS)
        language = self.text(v.get("language"), "language", required=False) or "en"
        hashtags = self.hashtags(v.get("hashtags"))
        blackout: list[date] = []
        if v.get("blackout") is not None:
            items = v["blackout"].value if isinstance(v["blackout"].value, list) else [v["blackout"]]
            for item in items:
                day = self.a_date(item, "blackout date")
                if day:
                    blackout.append(day)
        feed = self.read_feed(v.get("feed"))
        x_opts = v.get("x")
        x_values: dict[str, Any] = {}
        if x_opts is not None:
            if x_opts.kind != "mapping":
                self.problem(x_opts.where, "x: must be a mapping of options")
            else:
                self.keys(
                    x_opts,
                    ["daily_post_cap", "monthly_budget_usd", "price_post_usd", "price_post_with_url_usd"],
                    "x settings",
                )
                xv = x_opts.value
                x_values = {
                    "x_daily_post_cap": self.integer(
                        xv.get("daily_post_cap"), "daily_post_cap", base.x_daily_post_cap
                    ),
                    "x_monthly_budget_usd": self.number(
                        xv.get("monthly_budget_usd"), "monthly_budget_usd", base.x_monthly_budget_usd
                    ),
                    "x_price_post_usd": self.number(
                        xv.get("price_post_usd"), "price_post_usd", base.x_price_post_usd
                    ),
                    "x_price_post_with_url_usd": self.number(
                        xv.get("price_post_with_url_usd"),
                        "price_post_with_url_usd",
                        base.x_price_post_with_url_usd,
                    ),
                }
        bsky = v.get("bluesky")
        if bsky is not None and bsky.value is not None:
            if bsky.kind != "mapping":
                self.problem(bsky.where, "bluesky: must be a mapping of options")
            else:
                self.keys(bsky, [], "bluesky settings")
        return Settings(
            timezone=tz,
            default_time=default_time,
            networks=tuple(n for n in NETWORKS if n in networks),
            hashtags=tuple(hashtags),
            feed=feed,
            grace_hours=self.number(v.get("grace_hours"), "grace_hours", base.grace_hours),
            paused=self.boolean(v.get("paused"), "paused", False),
            blackout=tuple(blackout),
            langs=(language.strip(),),
            **x_values,
        )

    def read_feed(self, node: Node | None) -> FeedSettings:
        base = FeedSettings()
        if node is None:
            return base
        if node.value is None:
            return FeedSettings(url=None)
        if node.kind != "mapping":
            self.problem(node.where, "feed: must be a mapping (url, poll_minutes, ...)")
            return base
        self.keys(
            node,
            ["url", "poll_minutes", "first_run_post_newest", "max_per_poll", "template", "hashtags"],
            "feed settings",
        )
        v = node.value
        url = base.url
        if "url" in v:
            url = self.url(v["url"], "feed url") if v["url"].value is not None else None
        template = self.text(v.get("template"), "feed template", required=False) or base.template
        if "template" in v:
            self.template(template, v["template"].where, FEED_TEMPLATE_FIELDS)
            if "{title}" not in template:
                self.problem(
                    v["template"].where,
                    "feed template does not use {title}",
                    "announcements need the story's title, e.g. 'New on our site: {title}'",
                )
        return FeedSettings(
            url=url,
            poll_minutes=self.integer(v.get("poll_minutes"), "poll_minutes", base.poll_minutes, minimum=1),
            first_run_post_newest=self.integer(v.get("first_run_post_newest"), "first_run_post_newest", 0),
            max_per_poll=self.integer(v.get("max_per_poll"), "max_per_poll", base.max_per_poll, minimum=1),
            template=template,
            hashtags=tuple(self.hashtags(v.get("hashtags"))),
        )

    def hashtags(self, node: Node | None) -> list[str]:
        tags: list[str] = []
        for raw, where in self.string_list(node, "hashtags"):
            tag = raw.strip().lstrip("#")
            if not tag or not HASHTAG_PATTERN.match(tag) or tag.isdigit():
                self.problem(
                    where, f"{raw!r} is not a hashtag", "letters, digits and _ only, e.g. EndSeclusion"
                )
                continue
            finding = lint.lint_hashtag(tag)
            if finding:
                self.problem(where, finding.message, finding.hint, warning=True, code=finding.code)
            tags.append(tag)
        return tags

    def template(self, text: str, where: Where, fields: set[str]) -> None:
        if "{" not in text and "}" not in text:
            return  # nothing to fill in (most texts): skip the parse
        try:
            names = placeholders(text)
        except TemplateError as exc:
            self.problem(where, f"broken template: {exc}", "write {{ and }} for literal braces")
            return
        for name in names:
            if name not in fields:
                self.problem(
                    where,
                    f"unknown placeholder {{{name}}}",
                    "available: " + ", ".join("{" + f + "}" for f in sorted(fields)),
                )

    def read_observance(self, path: Path) -> tuple[Observance, Rule] | None:
        node = self.read(path)
        if node is None:
            return None
        display = self.display(path)
        ok = self.keys(node, ["name", "when", "source", "hashtags", "link", "posts"], "an observance")
        v = node.value
        if not ID_PATTERN.match(path.stem):
            self.problem(
                Where(display, 1, 1),
                f"file name {path.name!r} is not a valid id",
                "use lowercase letters, digits and dashes, e.g. world-autism-day.yaml",
            )
            ok = False
        name = self.text(v.get("name"), "name", parent=node, key="name")
        when_text = self.text(v.get("when"), "when", parent=node, key="when")
        source = self.text(v.get("source"), "source", parent=node, key="source")
        if source is not None and source.strip().startswith("http"):
            ok = self.url(v["source"], "source") is not None and ok
        rule: Rule | None = None
        if when_text is not None:
            try:
                rule = parse_when(when_text)
            except WhenError as exc:
                when_node = v["when"]
                w = when_node.where
                column = w.column
                if when_node.style in ("", "'", '"') and "\n" not in when_text and "\\" not in when_text:
                    # One-line plain or quoted text: the rule's own column lands inside the file's line.
                    column += exc.column - 1 + (1 if when_node.style else 0)
                hint = exc.hint or "see the `when` grammar in schedules/README.md"
                self.problem(Where(w.file, w.line, column), exc.message, hint)
        hashtags = self.hashtags(v.get("hashtags")) if "hashtags" in v else None
        link = self.url(v.get("link"), "link") if "link" in v else None
        posts_node = v.get("posts")
        posts: list[ObservancePost] = []
        if posts_node is None or posts_node.value is None:
            self.problem(
                node.where, "observance has no posts", "add 'posts:' with at least one '- text: ...'"
            )
            ok = False
        elif posts_node.kind != "list":
            self.problem(posts_node.where, "posts must be a list, each item starting with '- '")
            ok = False
        else:
            if not posts_node.value:
                self.problem(posts_node.where, "posts is empty", "add at least one '- text: ...'")
                ok = False
            context_name = name or ""
            for item in posts_node.value:
                post = self.observance_post(item, hashtags, link, context_name, rule)
                if post is None:
                    ok = False
                else:
                    posts.append(post)
        if not ok or name is None or when_text is None or source is None or rule is None:
            return None
        observance = Observance(
            id=path.stem,
            name=name.strip(),
            when=when_text.strip(),
            source=source.strip(),
            file=display,
            posts=tuple(posts),
            line=1,
            hashtags=tuple(hashtags or ()),
            link=link,
        )
        return observance, rule

    def observance_post(
        self, item: Node, hashtags: list[str] | None, link: str | None, name: str, rule: Rule | None
    ) -> ObservancePost | None:
        if item.kind != "mapping":
            self.problem(item.where, "each post must be a mapping with at least 'text:'")
            return None
        extra = ["day", "time"]
        spec = self.post_spec(item, extra, hashtags, link, POST_TEMPLATE_FIELDS, {"name": name})
        ok = spec is not None
        day_node = item.value.get("day")
        day = 1
        if day_node is not None:
            raw = (day_node.raw or "").strip().lower()
            value = day_node.value
            if raw in ("first", "last"):
                day = 1 if raw == "first" else -1
            elif isinstance(value, int) and not isinstance(value, bool) and value != 0:
                day = value
            else:
                self.problem(
                    day_node.where,
                    f"day {day_node.raw if day_node.raw is not None else day_node.kind!r} is not a day of the"
                    " observance",
                    "write 1 for the first day, 2 for the second, last or -1 for the last",
                )
                ok = False
            if ok and rule is not None and not self.day_fits(rule, day):
                self.problem(
                    day_node.where,
                    f"day {day} is outside the observance ({rule.text!r})",
                    "the observance is shorter than that",
                )
                ok = False
        post_time = self.clock(item.value.get("time"), "time") if "time" in item.value else None
        if "time" in item.value and post_time is None:
            ok = False
        if not ok or spec is None:
            return None
        return ObservancePost(spec, day, post_time)

    def day_fits(self, rule: Rule, day: int) -> bool:
        """Whether the observance lasts at least ``abs(day)`` days in the next year it happens."""
        for year in range(self.today.year, self.today.year + 8):
            span = rule.span(year)
            if span is not None:
                return abs(day) <= span.days
        return True

    def post_spec(
        self,
        item: Node,
        extra: list[str],
        hashtags: list[str] | None,
        link: str | None,
        fields: set[str],
        context: Mapping[str, str],
    ) -> PostSpec | None:
        v = item.value
        ok = self.keys(
            item, ["text", "text_file", "x", "bluesky", "hashtags", "link", "images", *extra], "a post"
        )
        text: str | None = None
        text_where = item.where
        if "text" in v and "text_file" in v:
            self.problem(v["text_file"].where, "a post has both text and text_file", "keep one of them")
            ok = False
        elif "text_file" in v:
            rel = self.text(v["text_file"], "text_file")
            text_where = v["text_file"].where
            if rel is not None:
                path = self.content / rel.strip()
                try:
                    text = path.read_text(encoding="utf-8").strip()
                except (OSError, UnicodeDecodeError):
                    self.problem(
                        text_where,
                        f"text_file {rel!r} not found or not UTF-8 text under {self.content}",
                        "paths are relative to content/",
                    )
                    ok = False
        else:
            text = self.text(v.get("text"), "text", parent=item, key="text")
            if "text" in v:
                text_where = v["text"].where
            if text is None:
                ok = False
        variants: dict[str, str] = {}
        for network in NETWORKS:
            if network in v:
                variant = self.text(v[network], f"{network} text")
                if variant is None:
                    ok = False
                else:
                    variants[network] = variant.strip()
        tags = (
            self.hashtags(v["hashtags"])
            if "hashtags" in v
            else (hashtags if hashtags is not None else list(self.settings.hashtags))
        )
        post_link = self.url(v["link"], "link") if "link" in v else link
        link_ok = not ("link" in v and post_link is None and v["link"].value is not None)
        images = self.images(v.get("images"))
        ok = ok and link_ok and images is not None
        if text is None:
            return None
        # The text's own checks run even when another key of the post is wrong: report everything at once.
        for body, where in [(text, text_where), *[(t, v[n].where) for n, t in variants.items()]]:
            self.template(body, where, fields)
            if self.text_checks:
                for finding in lint.lint_text(body):
                    self.problem(where, finding.message, finding.hint, warning=True, code=finding.code)
        spec = PostSpec(
            text.strip(),
            MappingProxyType(variants),
            tuple(tags),
            post_link,
            tuple(images or ()),
            item.where.line,
        )
        if self.text_checks and link_ok:
            self.check_lengths(spec, {"": text_where, **{n: v[n].where for n in variants}}, context)
        return spec if ok else None

    def images(self, node: Node | None) -> list[Image] | None:
        if node is None or node.value is None:
            return []
        if node.kind != "list":
            self.problem(node.where, "images must be a list of '- file: ... alt: ...'")
            return None
        if len(node.value) > MAX_IMAGES:
            self.problem(node.where, f"{len(node.value)} images; a post can carry at most {MAX_IMAGES}")
            return None
        out: list[Image] = []
        ok = True
        for item in node.value:
            if item.kind != "mapping":
                self.problem(item.where, "each image needs 'file:' and 'alt:'")
                ok = False
                continue
            self.keys(item, ["file", "alt"], "an image")
            rel = self.text(item.value.get("file"), "image file", parent=item, key="file")
            alt = self.text(item.value.get("alt"), "alt text", parent=item, key="alt")
            if alt is None:
                ok = False
            elif len(alt.strip()) > MAX_ALT_CHARS:
                self.problem(
                    item.value["alt"].where,
                    f"alt text is {len(alt.strip())} characters; the limit is {MAX_ALT_CHARS}",
                    "describe what matters in the image; put the rest in the post",
                )
                ok = False
            if rel is None:
                ok = False
                continue
            path = self.content / rel.strip()
            where = item.value["file"].where
            if not path.is_file():
                self.problem(
                    where, f"image {rel!r} not found under {self.content}", "paths are relative to content/"
                )
                ok = False
            elif path.suffix.lower() not in IMAGE_SUFFIXES:
                self.problem(where, f"{rel!r} is not a PNG, JPEG, GIF or WebP image")
                ok = False
            if ok and alt is not None:
                out.append(Image(path, alt.strip()))
        return out if ok else None

    def check_lengths(self, spec: PostSpec, where: Mapping[str, Where], context: Mapping[str, str]) -> None:
        """Render the post as it will go out and refuse text that a network would refuse.

        ``{date}`` is filled in with its longest rendering, so a post that fits here fits on every day it can
        go out.
        """
        from bot.compose import render
        from bot.models import Draft
        from bot.textlen import BLUESKY_MAX_BYTES, LIMITS, measure

        name = context.get("name", "")
        full = {"name": name, "year": str(self.today.year), "date": LONGEST_DATE, "link": spec.link or ""}
        draft = Draft(
            key="validate",
            source="validate",
            name=name,
            file="",
            text=spec.text,
            variants=spec.variants,
            hashtags=spec.hashtags,
            link=spec.link,
            images=spec.images,
            context=MappingProxyType(full),
        )
        rendered: dict[str, str] = {}  # networks without a variant share one rendering
        for network in self.settings.networks:
            template = spec.variants.get(network, spec.text)
            try:
                text = rendered.get(template) or rendered.setdefault(template, render(draft, network))
            except (TemplateError, KeyError, IndexError, ValueError):
                return  # the template problem is already reported
            length = measure(network, text)
            too_long = length > LIMITS[network]
            if network == "bluesky" and not too_long:
                too_long = len(text.encode("utf-8")) > BLUESKY_MAX_BYTES
            if too_long:
                unit = "weighted characters (links count 23)" if network == "x" else "graphemes"
                if network == "bluesky" and length <= LIMITS[network]:
                    message = f"text is too long for bluesky: over {BLUESKY_MAX_BYTES} bytes of UTF-8"
                    hint = "shorten it or add a shorter 'bluesky:' variant"
                else:
                    message = (
                        f"text is too long for {network}: {length}/{LIMITS[network]} {unit}"
                        " with link and hashtags"
                    )
                    hint = (
                        f"shorten it by {max(1, length - LIMITS[network])} or add a shorter"
                        f" '{network}:' variant"
                    )
                self.problem(where.get(network, where[""]), message, hint)

    def read_queue(self, path: Path, seen: dict[str, Where]) -> list[QueuedPost]:
        node = self.read(path)
        if node is None:
            return []
        self.keys(node, ["posts"], "a queue file")
        items = self.post_list(node)
        out: list[QueuedPost] = []
        for item in items:
            ident = self.identity(item, seen, "queued post")
            at_node = item.value.get("at")
            at: datetime | None = None
            if at_node is None:
                self.problem(
                    item.where, "queued post has no 'at:'", 'add e.g. at: "2026-12-08 10:00" (local time)'
                )
            else:
                at = self.local_datetime(at_node)
            name = self.text(item.value.get("name"), "name", required=False)
            spec = self.post_spec(
                item,
                ["id", "at", "name"],
                None,
                None,
                POST_TEMPLATE_FIELDS,
                {"name": (name or ident or "").strip()},
            )
            if ident and at and spec:
                out.append(
                    QueuedPost(ident, at, spec, self.display(path), item.where.line, (name or ident).strip())
                )
        return out

    def post_list(self, node: Node) -> list[Node]:
        posts = node.value.get("posts")
        if posts is None or posts.value is None:
            self.problem(node.where, "no 'posts:' list in this file", "see schedules/README.md")
            return []
        if posts.kind != "list":
            self.problem(posts.where, "posts must be a list, each item starting with '- '")
            return []
        if not posts.value:
            self.problem(posts.where, "posts is empty", "add at least one post, or delete the file")
            return []
        out = []
        for item in posts.value:
            if item.kind != "mapping":
                self.problem(item.where, "each post must be a mapping (id:, text:, ...)")
            else:
                out.append(item)
        return out

    def identity(self, item: Node, seen: dict[str, Where], what: str) -> str | None:
        ident = self.text(item.value.get("id"), "id", parent=item, key="id")
        if ident is None:
            return None
        ident = ident.strip()
        where = item.value["id"].where
        if not ID_PATTERN.match(ident):
            self.problem(where, f"id {ident!r} is not valid", "use lowercase letters, digits and dashes")
            return None
        if ident in seen:
            first = seen[ident]
            self.problem(
                where,
                f"duplicate id {ident!r} (also at {first.file}:{first.line})",
                f"each {what} needs its own id",
            )
            return None
        seen[ident] = where
        return ident

    def local_datetime(self, node: Node) -> datetime | None:
        if node.raw is None:
            self.problem(
                node.where,
                f"'at' must be a date and time, found a {node.kind}",
                'write "YYYY-MM-DD HH:MM" in local time',
            )
            return None
        raw = node.raw.strip()
        try:
            naive = datetime.fromisoformat(raw.replace("T", " "))
        except ValueError:
            self.problem(
                node.where, f"{raw!r} is not a date and time", 'write "YYYY-MM-DD HH:MM" in local time'
            )
            return None
        if naive.tzinfo is not None:
            self.problem(
                node.where,
                "write the local time without a UTC offset",
                f"times are in {self.settings.timezone.key} (settings.yaml)",
            )
            return None
        if not 2000 <= naive.year <= 9000:
            self.problem(
                node.where, f"the year {naive.year} is out of range", "queue posts for the coming years"
            )
            return None
        tz = self.settings.timezone
        aware = naive.replace(tzinfo=tz)
        roundtrip = aware.astimezone(ZoneInfo("UTC")).astimezone(tz).replace(tzinfo=None)
        if roundtrip != naive:
            self.problem(
                node.where,
                f"{raw} does not exist in {tz.key} (clocks jump forward that night)",
                "pick another time",
            )
            return None
        if aware.utcoffset() != naive.replace(tzinfo=tz, fold=1).utcoffset():
            self.problem(
                node.where,
                f"{raw} happens twice in {tz.key} (clocks go back that night); the post goes"
                " out at the first",
                "pick a time outside 01:00-02:00 to be clear",
                warning=True,
                code="ambiguous-time",
            )
        return aware

    def read_recurring(self, path: Path, seen: dict[str, Where]) -> list[RecurringPost]:
        node = self.read(path)
        if node is None:
            return []
        self.keys(node, ["posts"], "a recurring file")
        out: list[RecurringPost] = []
        for item in self.post_list(node):
            ok = self.keys(item, ["id", "name", "cron", "start", "end", "texts"], "a recurring post")
            ident = self.identity(item, seen, "recurring post")
            v = item.value
            cron = self.text(v.get("cron"), "cron", parent=item, key="cron")
            if cron is not None and not self.valid_cron(cron.strip(), v["cron"].where):
                cron = None
            start = self.a_date(v.get("start"), "start")
            end = self.a_date(v.get("end"), "end")
            if start and end and end < start:
                self.problem(v["end"].where, "end is before start")
                ok = False
            name = self.text(v.get("name"), "name", required=False)
            specs: list[PostSpec] = []
            texts = v.get("texts")
            if texts is None or texts.kind != "list" or not texts.value:
                self.problem(
                    (texts or item).where,
                    "a recurring post needs 'texts:', a list of one or more posts",
                    "- text: ...",
                )
                ok = False
            else:
                for entry in texts.value:
                    if entry.kind != "mapping":
                        self.problem(entry.where, "each of texts must be a mapping with 'text:'")
                        ok = False
                        continue
                    spec = self.post_spec(
                        entry, [], None, None, POST_TEMPLATE_FIELDS, {"name": (name or ident or "").strip()}
                    )
                    if spec is None:
                        ok = False
                    else:
                        specs.append(spec)
                if len(specs) == 1 and "{date}" not in specs[0].text and ok:
                    self.problem(
                        texts.where,
                        "a recurring post with one text repeats itself word for word",
                        "X refuses duplicate posts: add more texts, or use {date} in the text",
                        warning=True,
                        code="recurring-duplicate",
                    )
            if ok and ident and cron:
                out.append(
                    RecurringPost(
                        ident,
                        cron.strip(),
                        tuple(specs),
                        self.display(path),
                        item.where.line,
                        (name or ident).strip(),
                        start,
                        end,
                    )
                )
        return out

    def valid_cron(self, cron: str, where: Where) -> bool:
        from apscheduler.triggers.cron import CronTrigger

        fields = cron.split()
        if len(fields) != 5:
            self.problem(
                where,
                f"cron {cron!r} needs 5 fields (minute hour day month day-of-week)",
                'e.g. "0 10 * * mon" for every Monday at 10:00',
            )
            return False
        try:
            trigger = CronTrigger.from_crontab(cron, timezone=self.settings.timezone)
        except ValueError as exc:
            self.problem(
                where, f"cron {cron!r} is not valid: {exc}", 'e.g. "0 10 1 * *" for the 1st of each month'
            )
            return False
        if re.search(r"\d", fields[4]):
            self.problem(
                where,
                "day-of-week written as a number is ambiguous",
                "write names: mon, tue, ... sun",
                warning=True,
                code="cron-weekday-number",
            )
        previous = trigger.get_next_fire_time(None, datetime(2030, 1, 1, tzinfo=self.settings.timezone))
        if previous is None:
            self.problem(where, f"cron {cron!r} never fires", "check the day and month fields (e.g. no 31 2)")
            return False
        # A few dozen fires show any sub-daily pattern ("0 0,23 * * *" only shows it between days).
        for _ in range(40):
            fire = trigger.get_next_fire_time(previous, previous + timedelta(seconds=1))
            if fire is None:
                break
            if fire - previous < timedelta(hours=20):
                self.problem(
                    where,
                    f"cron {cron!r} would post more than once a day",
                    "followers and X's duplicate filter both punish that; post at most daily",
                )
                return False
            previous = fire
        return True


def _display(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except (ValueError, OSError):
        return str(path)


def require_valid(loaded: Loaded) -> Schedules:
    """For commands that cannot work with invalid schedules at all."""
    errors = loaded.errors()
    if errors:
        raise ConfigError(
            f"{len(errors)} problem(s) in the schedules; first: {errors[0].format()}",
            hint="run `python -m bot validate` to see them all",
        )
    return loaded.schedules
