"""What the bot is configured with: ``settings.yaml`` and the environment.

This is the only module that reads ``os.environ`` (and the git-ignored ``.env``), and it owns the one clock:
``now()`` honours ``BOT_NOW`` so rehearsals and end-to-end tests can run the real CLI at any instant.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from datetime import UTC, date, datetime
from pathlib import Path
from types import MappingProxyType
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from bot.errors import ConfigError
from bot.fields import FieldReader
from bot.models import CategoryRule, FeedSettings, Settings
from bot.publishers import registry
from bot.publishers.spec import NetworkSpec, Options
from bot.yamlsource import Node

REPO_ROOT = Path(__file__).resolve().parents[1]
FEED_TEMPLATE_FIELDS = {"title", "link", "name", "year", "date"}
REPOSITORY = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})/[A-Za-z0-9._-]{1,100}")
"""A GitHub repository as ``owner/name``."""


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


def cache_dir() -> Path:
    """Where the bot keeps what it can work out again (readability grades): ``BOT_CACHE_DIR``, else
    ``$XDG_CACHE_HOME/aasr-bot``, else ``~/.cache/aasr-bot``. Deleting it only costs time."""
    chosen = env("BOT_CACHE_DIR")
    if chosen:
        return Path(chosen)
    base = env("XDG_CACHE_HOME")
    return (Path(base) if base else Path.home() / ".cache") / "aasr-bot"


DATABASE_FORMS = (
    "postgresql://user:password@host:5432/dbname (postgres:// and postgresql+psycopg:// work too), "
    "or libpq keywords such as 'host=db.example.org dbname=bot user=bot password=...'"
)
_PG_SCHEME = re.compile(r"(?i)^(postgres|postgresql|postgresql\+psycopg)://")
_KEYWORD_START = re.compile(r"^[A-Za-z_]+\s*=")


def database_target() -> str:
    """``DATABASE_URL`` (PostgreSQL, e.g. Heroku) wins over ``BOT_DB`` (a SQLite file).

    A ``DATABASE_URL`` is always PostgreSQL: a URL (``postgres://``, ``postgresql://``,
    ``postgresql+psycopg://``) or a libpq keyword string (users paste both), returned as one
    ``postgresql://`` URL. Anything else is a ``ConfigError`` naming the accepted forms, never a file name.
    """
    url = env("DATABASE_URL")
    if url:
        return postgres_url(url)
    return env("BOT_DB", "state/aasr-bot.sqlite3") or "state/aasr-bot.sqlite3"


def postgres_url(text: str) -> str:
    """``DATABASE_URL`` as a ``postgresql://`` URL libpq accepts; a one-line ``ConfigError`` otherwise."""
    from urllib.parse import quote, urlsplit

    from psycopg import Error as PsycopgError
    from psycopg.conninfo import conninfo_to_dict

    raw = text.strip()
    scheme = _PG_SCHEME.match(raw)
    if scheme:
        candidate = "postgresql://" + raw[scheme.end() :]
        try:
            parts = urlsplit(candidate)
            parts.port  # noqa: B018 (parsing the port raises on a bad one)
            conninfo_to_dict(candidate)
        except (ValueError, PsycopgError):
            raise ConfigError(
                f"DATABASE_URL is not a valid PostgreSQL URL ({_scheme_only(raw)}...)",
                hint=f"use {DATABASE_FORMS}",
            ) from None
        return candidate
    if _KEYWORD_START.match(raw):
        try:
            params = conninfo_to_dict(raw)
        except PsycopgError:
            raise ConfigError(
                "DATABASE_URL looks like libpq keywords but cannot be parsed (check quoting and '=' signs)",
                hint=f"use {DATABASE_FORMS}",
            ) from None
        query = "&".join(f"{quote(str(k), safe='')}={quote(str(v), safe='')}" for k, v in params.items())
        return "postgresql://?" + query
    raise ConfigError(
        f"DATABASE_URL is set but is not a PostgreSQL URL or libpq keyword string ({_scheme_only(raw)}...)",
        hint=f"use {DATABASE_FORMS}; for a SQLite file set BOT_DB instead and unset DATABASE_URL",
    )


def database_password() -> str | None:
    """The password in ``DATABASE_URL``, in whatever form it was given, so logs can scrub it; never raises."""
    url = env("DATABASE_URL")
    if not url:
        return None
    try:
        from psycopg.conninfo import conninfo_to_dict

        password = conninfo_to_dict(postgres_url(url)).get("password")
    except Exception:  # a DATABASE_URL that doesn't parse is reported by the command that opens the ledger
        return None
    return str(password) if password else None


def _scheme_only(text: str) -> str:
    """What may be shown of a DATABASE_URL that didn't parse: its scheme, or its first keyword, never more."""
    head = re.match(r"[A-Za-z][A-Za-z0-9+.-]*://|[A-Za-z_]+\s*=", text)
    return head.group(0) if head else "unrecognised text"


def log_level() -> str:
    return (env("LOG_LEVEL", "INFO") or "INFO").upper()


def now() -> datetime:
    """The current instant in UTC; ``BOT_NOW`` (ISO 8601 with an offset) pins it for rehearsals and tests."""
    forced = env("BOT_NOW")
    if forced:
        try:
            value = datetime.fromisoformat(forced)
        except ValueError:
            raise ConfigError(f"BOT_NOW={forced!r} is not an ISO 8601 date and time") from None
        if value.tzinfo is None:
            raise ConfigError("BOT_NOW needs a UTC offset, e.g. 2026-12-03T10:00:00-05:00")
        return value.astimezone(UTC)
    return datetime.now(UTC)


def today(settings: Settings) -> date:
    """The local date in the bot's time zone, by the same clock as ``now()``."""
    return now().astimezone(settings.timezone).date()


# ------------------------------------------------------------------------------------------ settings.yaml


class SettingsReader(FieldReader):
    """``settings.yaml``: time zone, networks, feed and per-network options."""

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
            "threads",
            "paused",
            "blackout",
            "feed",
            "repository",
            "confirm_dates_days",
            "readability",
            *registry.ids(),
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
            if name not in registry.ids():
                known = ", ".join(registry.ids())
                self.problem(where, f"unknown network {name!r}", "networks are: " + known)
            elif name not in networks:
                networks.append(name)
        if "networks" not in v:
            networks = list(registry.ids())
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
        max_parts, numbering = self.read_threads(v.get("threads"), base)
        max_grade, min_words = self.read_readability(v.get("readability"), base)
        network_options = {spec.id: self.network_options(spec, v.get(spec.id)) for spec in registry.specs()}
        repository = self.text(v.get("repository"), "repository", required=False)
        if repository is not None:
            repository = repository.strip()
            if not REPOSITORY.fullmatch(repository):
                self.problem(
                    v["repository"].where,
                    f"repository {repository!r} is not a GitHub owner/name",
                    "write it like endseclusion/aasr-bot (the site links each file to GitHub's editor)",
                )
                repository = None
        return Settings(
            timezone=tz,
            default_time=default_time,
            networks=tuple(n for n in registry.ids() if n in networks),
            hashtags=tuple(hashtags),
            feed=feed,
            grace_hours=self.number(v.get("grace_hours"), "grace_hours", base.grace_hours),
            thread_max_parts=max_parts,
            thread_numbering=numbering,
            readability_max_grade=max_grade,
            readability_min_words=min_words,
            paused=self.boolean(v.get("paused"), "paused", False),
            blackout=tuple(blackout),
            langs=(language.strip(),),
            network_options=MappingProxyType(network_options),
            repository=repository or None,
            confirm_dates_days=self.integer(
                v.get("confirm_dates_days"), "confirm_dates_days", base.confirm_dates_days
            ),
        )

    def read_threads(self, node: Node | None, base: Settings) -> tuple[int, bool]:
        """``threads:`` ``max_parts`` (how long a thread may be) and ``numbering`` (``1/3`` after each part)."""
        if node is None or node.value is None:
            return base.thread_max_parts, base.thread_numbering
        if node.kind != "mapping":
            self.problem(node.where, "threads must be a mapping (max_parts:, numbering:)")
            return base.thread_max_parts, base.thread_numbering
        self.keys(node, ["max_parts", "numbering"], "threads settings")
        v = node.value
        max_parts = self.integer(v.get("max_parts"), "threads max_parts", base.thread_max_parts, minimum=2)
        numbering = self.boolean(v.get("numbering"), "threads numbering", base.thread_numbering)
        return max_parts, numbering

    def read_readability(self, node: Node | None, base: Settings) -> tuple[float, int]:
        """``readability:`` ``max_grade`` (the school grade a post's words may read at) and ``min_words``
        (shorter texts get no grade)."""
        if node is None or node.value is None:
            return base.readability_max_grade, base.readability_min_words
        if node.kind != "mapping":
            self.problem(
                node.where, "readability must be a mapping (max_grade:, min_words:)", "readability: {max_grade: 8}"
            )
            return base.readability_max_grade, base.readability_min_words
        self.keys(node, ["max_grade", "min_words"], "readability settings")
        v = node.value
        max_grade = self.number(v.get("max_grade"), "readability max_grade", base.readability_max_grade)
        min_words = self.integer(
            v.get("min_words"), "readability min_words", base.readability_min_words, minimum=1
        )
        return max_grade, min_words

    def network_options(self, spec: NetworkSpec, node: Node | None) -> Options:
        """A network's ``<network>:`` block, each key checked as its spec declares; defaults for the rest."""
        values = dict(spec.defaults())
        if node is None or node.value is None:
            return MappingProxyType(values)
        if node.kind != "mapping":
            self.problem(node.where, f"{spec.id}: must be a mapping of options")
            return MappingProxyType(values)
        self.keys(node, list(spec.all_options()), f"{spec.id} settings")
        for key, option in spec.all_options().items():
            found = node.value.get(key)
            if found is None:
                continue
            if option.kind == "int":
                values[key] = self.integer(found, key, int(option.default), minimum=option.minimum)
            elif option.kind == "number":
                values[key] = self.number(found, key, float(option.default))
            elif option.kind == "bool":
                values[key] = self.boolean(found, key, bool(option.default))
            else:
                text = self.text(found, key)
                if text is not None and option.kind == "choice" and text.strip() not in option.choices:
                    self.problem(
                        found.where,
                        f"{spec.id} {key} {text.strip()!r} is not one of: {', '.join(option.choices)}",
                    )
                elif text is not None:
                    values[key] = text.strip()
        return MappingProxyType(values)

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
            [
                "url",
                "poll_minutes",
                "first_run_post_newest",
                "max_per_poll",
                "template",
                "hashtags",
                "categories",
                "allow_private_address",
                "deadline_seconds",
            ],
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
            categories=MappingProxyType(self.feed_categories(v.get("categories"))),
            allow_private_address=self.boolean(
                v.get("allow_private_address"), "allow_private_address", base.allow_private_address
            ),
            deadline_seconds=self.deadline(v.get("deadline_seconds"), base.deadline_seconds),
        )

    def deadline(self, node: Node | None, default: float) -> float:
        value = self.number(node, "deadline_seconds", default)
        if node is not None and not 0 < value <= 600:
            self.problem(node.where, "feed deadline_seconds must be more than 0 and at most 600")
            return default
        return value

    def feed_categories(self, node: Node | None) -> dict[str, CategoryRule]:
        """``feed.categories``: for stories in a WordPress category, a content warning and extra hashtags."""
        if node is None or node.value is None:
            return {}
        if node.kind != "mapping":
            self.problem(
                node.where,
                "feed categories must be a mapping of category names",
                "e.g. categories: {Restraint: {content_warning: restraint}}",
            )
            return {}
        rules: dict[str, CategoryRule] = {}
        for name, rule in node.value.items():
            if rule.kind != "mapping":
                self.problem(rule.where, f"category {name!r} needs content_warning: and/or hashtags:")
                continue
            self.keys(rule, ["content_warning", "hashtags"], f"feed category {name!r}")
            warning = self.text(rule.value.get("content_warning"), "content_warning", required=False)
            rules[" ".join(str(name).split()).casefold()] = CategoryRule(
                " ".join(warning.split()) if warning else None,
                tuple(self.hashtags(rule.value.get("hashtags"))),
            )
        return rules
