"""Schedule files -> models, with every problem reported as ``file:line:column``.

Loading never stops at the first problem: each file, post and field is checked on its own, invalid items are
left out of the result, and the caller decides what to do with the list of problems (``validate`` prints them;
``run`` logs them and publishes the valid rest, so one contributor's typo never silences the whole calendar).
Settings come from ``bot.settings``, each post's checks from ``bot.postchecks``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from pathlib import Path
from types import MappingProxyType
from zoneinfo import ZoneInfo

from bot.errors import ConfigError
from bot.models import (
    Observance,
    ObservancePost,
    PostSpec,
    QueuedPost,
    RecurringPost,
    Settings,
)
from bot.observances import ConfirmedRule, Rule, WhenError, parse_when
from bot.postchecks import POST_TEMPLATE_FIELDS, PostChecker
from bot.problems import Problem
from bot.publishers.spec import OptionValue
from bot.serveroptions import overlay
from bot.settings import SettingsReader, now
from bot.yamlsource import Node, Where

ID_PATTERN = re.compile(r"^[a-z0-9][a-z0-9-]*$")
TONES = ("", "solemn")
"""Observance tones: the default, or ``solemn`` for days of mourning (nothing else may post that day)."""


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
    root: Path,
    content: Path,
    *,
    today: date | None = None,
    text_checks: bool = True,
    server_options: Mapping[str, Mapping[str, OptionValue]] | None = None,
) -> Loaded:
    """Read every schedule file under ``root``. Never raises for bad input: problems are returned.

    ``today`` (default: the date by the bot's clock, which honours ``BOT_NOW``) anchors the checks that depend
    on the year, such as whether ``day: 7`` fits an observance and how long ``{year}`` renders.
    ``text_checks=False`` skips the accessibility lint and the per-network length checks (two thirds of the time
    at 5,000 observances) for commands that show the texts themselves (``upcoming``, with each length) or no
    texts at all (``calendar``); ``validate`` and the bot always run them.
    ``server_options``: the limits each network's server stated (``serveroptions.read_stored``), laid over its
    settings before any post is checked against them.
    """
    checker = _Loader(root, content, today or now().date(), text_checks)
    checker.server_options = server_options or {}
    if not root.is_dir():
        checker.problem(
            Where(str(root), 1, 1),
            "schedules folder not found",
            "pass --schedules DIR or set BOT_SCHEDULES",
        )
        return Loaded(Schedules(Settings(), root=root, content=content), tuple(checker.problems), 0)
    return checker.run()


class _Loader(PostChecker, SettingsReader):
    """Reads the files of one schedules folder: settings first, then awareness days, queue, recurring."""

    server_options: Mapping[str, Mapping[str, OptionValue]]

    # ---------------------------------------------------------------- files

    def run(self) -> Loaded:
        settings_path = self.root / "settings.yaml"
        if settings_path.is_file():
            self.settings = self.read_settings(settings_path)
        if self.server_options:
            self.settings = replace(
                self.settings, network_options=overlay(self.settings.network_options, self.server_options)
            )
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
        if self.text_checks:
            from bot.calendarchecks import (
                calendar_problems,  # it plans posts: the planner imports this module
            )

            self.problems.extend(calendar_problems(schedules, self.today))
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

    def read_observance(self, path: Path) -> tuple[Observance, Rule] | None:
        node = self.read(path)
        if node is None:
            return None
        display = self.display(path)
        ok = self.keys(
            node,
            ["name", "when", "dates", "confirmed_through", "tone", "source", "hashtags", "link", "posts"],
            "an observance",
        )
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
        if rule is not None and ("dates" in v or "confirmed_through" in v):
            rule = self.confirmed_rule(rule, v.get("dates"), v.get("confirmed_through"))
            ok = rule is not None and ok
        tone = self.tone(v.get("tone"))
        ok = tone is not None and ok
        if source is not None and not source.strip().lower().startswith("https://"):
            self.problem(
                v["source"].where,
                "the source is not an https page",
                "cite the organiser's, the UN's, a government's or the law's own https page",
                warning=True,
                code="source-not-https",
            )
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
            tone=tone or "",
        )
        return observance, rule

    def confirmed_rule(self, base: Rule, dates: Node | None, through: Node | None) -> Rule | None:
        """``base`` with the organiser's announced dates per year (``dates:``) and ``confirmed_through:``."""
        ok = True
        by_year: list[tuple[int, Rule]] = []
        if dates is not None:
            if dates.kind != "mapping" or not dates.value:
                self.problem(
                    dates.where,
                    "dates must map a year to its date, e.g. 2027: October 20",
                    "one line per year the organiser has announced",
                )
                return None
            for key, node in dates.value.items():
                where = dates.key_where.get(key, node.where)
                if not (key.isdigit() and len(key) == 4):
                    self.problem(where, f"{key!r} is not a year", "write the year as four digits, e.g. 2027:")
                    ok = False
                    continue
                text = self.text(node, f"the date for {key}")
                if text is None:
                    ok = False
                    continue
                try:
                    year_rule = parse_when(text)
                except WhenError as exc:
                    self.problem(
                        node.where, exc.message, exc.hint or "see the `when` grammar in schedules/README.md"
                    )
                    ok = False
                    continue
                if year_rule.span(int(key)) is None:
                    self.problem(node.where, f"{text!r} does not happen in {key}")
                    ok = False
                    continue
                by_year.append((int(key), year_rule))
        year: int | None = None
        if through is not None:
            value = through.value
            if isinstance(value, bool) or not isinstance(value, int) or not 1900 <= value <= 9999:
                self.problem(
                    through.where,
                    f"confirmed_through must be a year, found {through.raw!r}",
                    "the last year whose date the organiser has confirmed, e.g. 2027",
                )
                ok = False
            else:
                year = int(value)
        if not ok:
            return None
        return ConfirmedRule(base.text, base, tuple(sorted(by_year)), year)

    def tone(self, node: Node | None) -> str | None:
        """``tone: solemn`` marks a day of mourning; anything else is a mistake worth naming."""
        if node is None:
            return ""
        text = (node.raw or "").strip() if node.kind == "scalar" else ""
        if text in TONES:
            return text
        self.problem(
            node.where,
            f"tone {node.raw!r} is not known",
            "write 'tone: solemn' for a day of mourning, or leave it out",
        )
        return None

    def observance_post(
        self, item: Node, hashtags: list[str] | None, link: str | None, name: str, rule: Rule | None
    ) -> ObservancePost | None:
        if item.kind != "mapping":
            self.problem(item.where, "each post must be a mapping with at least 'text:'")
            return None
        extra = ["day", "time"]
        texts: list[PostSpec] = []
        spec: PostSpec | None
        if "texts" in item.value:
            spec, texts = self.yearly_texts(item, hashtags, link, name)
        else:
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
        return ObservancePost(spec, day, post_time, tuple(texts))

    def yearly_texts(
        self, item: Node, hashtags: list[str] | None, link: str | None, name: str
    ) -> tuple[PostSpec | None, list[PostSpec]]:
        """``texts:``: several versions of one post, used in turn year by year, so followers never see the
        same words every year. Returns the first and all of them (``None`` when any is wrong)."""
        ok = self.keys(item, ["texts", "day", "time"], "a post with texts")
        node = item.value["texts"]
        if node.kind != "list" or not node.value:
            self.problem(node.where, "texts must be a list of posts, each starting with '- text:'")
            return None, []
        specs: list[PostSpec] = []
        for entry in node.value:
            if entry.kind != "mapping":
                self.problem(entry.where, "each of texts must be a mapping with 'text:'")
                ok = False
                continue
            spec = self.post_spec(entry, [], hashtags, link, POST_TEMPLATE_FIELDS, {"name": name})
            if spec is None:
                ok = False
            else:
                specs.append(spec)
        if not ok or not specs:
            return None, []
        return specs[0], specs

    def day_fits(self, rule: Rule, day: int) -> bool:
        """Whether the observance lasts at least ``abs(day)`` days in the next year it happens."""
        for year in range(self.today.year, self.today.year + 8):
            span = rule.span(year)
            if span is not None:
                return abs(day) <= span.days
        return True

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
            name = self.optional_text(item.value.get("name"), "name")
            spec = self.post_spec(
                item,
                ["id", "at", "name"],
                None,
                None,
                POST_TEMPLATE_FIELDS,
                {"name": (name or ident or "").strip()},
            )
            if ident and at and spec and name is not False:
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
            found_name = self.optional_text(v.get("name"), "name")
            if found_name is False:
                ok = False
            name = found_name or None
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


def require_valid(loaded: Loaded) -> Schedules:
    """For commands that cannot work with invalid schedules at all."""
    errors = loaded.errors()
    if errors:
        raise ConfigError(
            f"{len(errors)} problem(s) in the schedules; first: {errors[0].format()}",
            hint="run `python -m bot validate` to see them all",
        )
    return loaded.schedules
