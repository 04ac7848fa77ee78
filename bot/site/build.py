"""Writes the static site: ``index.html`` (coming posts), ``calendar/YYYY.html``, ``calendar.ics`` (rolling),
``status.html`` (when given the ledger's status) and ``style.css``.

Everything shown comes through the bot's own code: the loader's ``Schedules`` and problems, the planner's due
posts, ``preview.render_due`` for each network's text, ``status.collect`` for the ledger. This module only
arranges it into templates; it never sends, never imports a network SDK and never reaches the network.
"""

from __future__ import annotations

import re
import shutil
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from importlib import resources
from pathlib import Path
from typing import Any

import jinja2

from bot.models import Due, Observance
from bot.observances import Span, is_confirmed
from bot.planner import day_window, due_between
from bot.preview import calendar_ics, render_due, rolling_entries, rolling_years
from bot.schedules import Loaded
from bot.site import months as month_views
from bot.site import views

STYLESHEET = "style.css"
_PART = re.compile(r"#\d+$")


@dataclass(frozen=True, slots=True)
class SiteOptions:
    first: date
    """First day of the coming-posts window (local date)."""
    built_at: datetime
    """When the site is built (shown in the footer; the caller reads the clock)."""
    days: int = 60
    years: tuple[int, ...] = ()
    """Calendar pages to build; empty: ``first``'s year and the next."""
    status: Mapping[str, Any] | None = None
    """``bot.status.collect``'s result, for ``status.html``; None: no status page."""
    repository: str | None = None
    """GitHub ``owner/name`` for "edit this file" links."""
    branch: str = "main"


@dataclass(frozen=True, slots=True)
class Built:
    out: Path
    pages: tuple[str, ...]
    """Files written, relative to ``out``."""
    posts: int
    occurrences: int
    ics_events: int
    problems: int = 0
    notes: tuple[str, ...] = field(default_factory=tuple)


def _environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("bot.site", "templates"),
        autoescape=jinja2.select_autoescape(["html"]),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    return env


def _item(key: str) -> str:
    """The schedule item a ledger key belongs to (``recurring/<id>/<stamp>`` -> ``recurring/<id>``; a thread
    part's ``#n`` dropped)."""
    key = _PART.sub("", key)
    parts = key.split("/")
    if parts[0] == "awareness" and len(parts) == 4:
        return f"awareness/{parts[1]}/#{parts[3]}"
    return "/".join(parts[:2]) if parts[0] == "recurring" else key


def together(found: Sequence[Due]) -> list[list[Due]]:
    """The due posts with a thread's parts (one item, one instant) side by side in part order, as one post."""
    groups: dict[tuple[str, datetime], list[Due]] = {}
    for due in found:
        place = due.draft.thread
        groups.setdefault((place.item if place else due.draft.key, due.at), []).append(due)
    return [sorted(g, key=lambda d: d.draft.thread.part if d.draft.thread else 0) for g in groups.values()]


def _post_starts(loaded: Loaded) -> dict[str, tuple[str, int]]:
    """Each schedule item's file and first line, by the item part of its ledger key (see ``bot.planner``)."""
    s = loaded.schedules
    out: dict[str, tuple[str, int]] = {}
    for obs in s.observances:
        for n, post in enumerate(obs.posts, start=1):
            out[f"awareness/{obs.id}/#{n}"] = (obs.file, post.spec.line)
    for queued in s.queue:
        out[f"queue/{queued.id}"] = (queued.file, queued.line)
    for rec in s.recurring:
        out[f"recurring/{rec.id}"] = (rec.file, rec.line)
    return out


def _own_language(langs: Sequence[str], page: str) -> str:
    return langs[0] if langs and langs[0] != page else ""


def _lines_by_file(starts: Mapping[str, tuple[str, int]]) -> dict[str, list[int]]:
    out: dict[str, list[int]] = {}
    for file, line in starts.values():
        out.setdefault(file, []).append(line)
    return out


class _Site:
    def __init__(self, loaded: Loaded, out: Path, options: SiteOptions) -> None:
        self.loaded = loaded
        self.schedules = loaded.schedules
        self.settings = loaded.schedules.settings
        self.out = out
        self.options = options
        self.env = _environment()
        self.tz = self.settings.timezone
        self.last = options.first + timedelta(days=options.days - 1)
        self.years = options.years or (options.first.year, options.first.year + 1)
        self.window = day_window(options.first, self.last, self.tz)
        self.starts = _post_starts(loaded)
        self.paths: dict[str, str] = {}
        self.problems = views.ProblemIndex(loaded.problems, _lines_by_file(self.starts), self.shown)
        self.written: list[str] = []
        self.copied: dict[Path, str] = {}
        self.env.filters["when"] = self.when

    # ------------------------------------------------------------------ helpers

    def shown(self, display: str) -> str:
        """A schedule file as the repository names it (``schedules/queue/x.yaml``), wherever it was read."""
        found = self.paths.get(display)
        if found is None:
            found = self.paths[display] = views.repo_path(display, self.schedules.root)
        return found

    def edit(self, display: str) -> str | None:
        if not self.options.repository:
            return None
        return views.edit_url(self.options.repository, self.options.branch, self.shown(display))

    def when(self, iso: str | None) -> str:
        """An ISO instant from the ledger in words, in the schedules' time zone."""
        if not iso:
            return ""
        return views.local_when(datetime.fromisoformat(iso).astimezone(self.tz))

    def write(self, name: str, text: str | bytes) -> None:
        path = self.out / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(text, bytes):
            path.write_bytes(text)
        else:
            path.write_text(text, encoding="utf-8")
        self.written.append(name)

    @property
    def lang(self) -> str:
        return self.settings.langs[0] if self.settings.langs else "en"

    def page(self, template: str, name: str, **values: Any) -> None:
        depth = name.count("/")
        html = self.env.get_template(template).render(
            root="../" * depth,
            lang=self.lang,
            years=self.years,
            has_status=self.options.status is not None,
            built=views.local_when(self.options.built_at.astimezone(self.tz)),
            zone=self.tz.key,
            page=name,
            **values,
        )
        self.write(name, html)

    def image(self, file: str, alt: str) -> views.ImageView:
        """Copy a post's image into ``images/`` once; the view points at the copy."""
        source = Path(file)
        name = self.copied.get(source)
        if name is None:
            try:
                relative = source.resolve().relative_to(self.schedules.content.resolve()).as_posix()
            except (OSError, ValueError):
                relative = source.name
            name = f"images/{relative.removeprefix('images/')}"
            if source.is_file():
                target = self.out / name
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(source, target)
                self.written.append(name)
            self.copied[source] = name
        return views.ImageView(src=name, alt=alt, name=source.name)

    def start_line(self, key: str) -> int | None:
        found = self.starts.get(_item(key))
        return found[1] if found else None

    def notes(self, obs: Observance, span: Span) -> tuple[str, ...]:
        """Said in words, not colour: a solemn day, and a date its organiser has not confirmed yet."""
        found = []
        if obs.tone == "solemn":
            found.append("A solemn day: the bot stays quiet, and no other post should fall on it.")
        if not is_confirmed(self.schedules.rules[obs.id], span.start.year):
            found.append("Date not yet confirmed by the organiser: it is forecast from the rule.")
        return tuple(found)

    def in_window(self, due: Due) -> bool:
        return self.window[0] <= due.at <= self.window[1]

    # ------------------------------------------------------------------ pages

    def index(self) -> int:
        found = due_between(self.schedules, *self.window)
        blackout = set(self.settings.blackout)
        days: dict[str, list[views.EntryView]] = {}
        threads = 0
        for group in together(found):
            rendered = [render_due(d, self.settings.networks, self.settings.network_options) for d in group]
            parts = [
                views.part_view(
                    entry,
                    images=[self.image(i["file"], i["alt"]) for i in entry["images"]],
                    lang=_own_language(due.draft.langs, self.lang),
                )
                for due, entry in zip(group, rendered, strict=True)
            ]
            entry = rendered[0]
            at = group[0].at.astimezone(self.tz)
            view = views.entry_view(
                entry,
                at,
                parts=parts,
                edit=self.edit(entry["file"]),
                file=self.shown(entry["file"]),
                warnings=self.problems.near(entry["file"], self.start_line(entry["key"])),
                blackout=at.date() in blackout,
            )
            threads += view.thread
            days.setdefault(view.day, []).append(view)
        count = sum(len(entries) for entries in days.values())
        self.page(
            "index.html",
            "index.html",
            title="Coming posts",
            first=views.long_date(self.options.first),
            last=views.long_date(self.last),
            count=count,
            threads=threads,
            days=list(days.items()),
            networks=[views.network_label(n) for n in self.settings.networks],
            problems=[self.problems.format(p) for p in self.loaded.errors()],
        )
        return count

    def calendars(self) -> int:
        low, high = min(self.years), max(self.years)
        # Occurrences overlapping a year may start in the year before; their posts are keyed by start year.
        start, _ = day_window(date(low - 1, 1, 1), date(low - 1, 1, 1), self.tz)
        _, end = day_window(date(high + 1, 12, 31), date(high + 1, 12, 31), self.tz)
        posts: dict[tuple[str, int], list[Due]] = defaultdict(list)
        for due in due_between(self.schedules, start, end):
            parts = due.draft.key.split("/")
            if due.draft.source == "awareness" and len(parts) == 4:
                posts[(parts[1], int(parts[2]))].append(due)

        def post_href(due: Due) -> str | None:
            key = due.draft.thread.item if due.draft.thread else due.draft.key  # a thread's article
            return f"../index.html#{views.anchor('post', key)}" if self.in_window(due) else None

        total = 0
        for year in self.years:
            found = month_views.occurrences(
                self.schedules.observances,
                self.schedules.rules,
                year,
                posts,
                post_href=post_href,
                edit=self.edit,
                shown=self.shown,
                notes=self.notes,
            )
            total += len(found)
            self.page(
                "calendar.html",
                f"calendar/{year}.html",
                title=f"Awareness calendar {year}",
                year=year,
                count=len(found),
                months=month_views.months(year, found),
                weekdays=month_views.WEEKDAY_HEADINGS,
                rolling=rolling_years(self.options.first.year),
            )
        return total

    def ics(self) -> int:
        entries = rolling_entries(self.schedules, self.options.first.year)
        self.write("calendar.ics", calendar_ics(entries, None))
        return len(entries)

    def status(self, data: Mapping[str, Any]) -> None:
        networks = []
        for network, info in data["networks"].items():
            threads = info.get("threads", [])
            # A thread's real rows are shown under the thread, in part order, not in the lists by status.
            grouped = {p["key"] for t in threads for p in t["parts"]}

            def alone(r: Mapping[str, Any], grouped: set[str] = grouped) -> bool:
                return bool(r["dry_run"]) or r["key"] not in grouped

            sent = info["sent"]
            rows = {
                **{s: [r for r in info[s] if alone(r)] for s in ("failed", "pending", "sending", "skipped")},
                "sent": [r for r in sent if not r["dry_run"] and alone(r)],
                "rehearsed": [r for r in sent if r["dry_run"]],
            }
            networks.append(
                {
                    "id": network,
                    "label": views.network_label(network),
                    "info": {**info, **rows},
                    "threads": [
                        {
                            **t,
                            "summary": views.thread_summary(t),
                            "anchor": views.anchor(f"thread-{network}", t["item"]),
                        }
                        for t in threads
                    ],
                }
            )
        self.page("status.html", "status.html", title="Status", data=data, networks=networks)

    def stylesheet(self) -> None:
        css = resources.files("bot.site").joinpath("static", STYLESHEET).read_text(encoding="utf-8")
        self.write(STYLESHEET, css)


def build_site(loaded: Loaded, out: Path, options: SiteOptions) -> Built:
    """Write every page into ``out`` (created if needed) and say what was written."""
    if options.days < 1:
        raise ValueError("days must be 1 or more")
    site = _Site(loaded, out, options)
    out.mkdir(parents=True, exist_ok=True)
    site.stylesheet()
    posts = site.index()
    occurrences = site.calendars()
    events = site.ics()
    if options.status is not None:
        site.status(options.status)
    return Built(
        out=out,
        pages=tuple(site.written),
        posts=posts,
        occurrences=occurrences,
        ics_events=events,
        problems=len(loaded.errors()),
    )


def page_names(built: Built) -> Sequence[str]:
    """The HTML pages of a build, for tests and the CLI's summary."""
    return [p for p in built.pages if p.endswith(".html")]
