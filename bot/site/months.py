"""A year's observances as twelve month grids, each followed by the list of what happens in that month.

Dates come from each observance's parsed ``when`` rule (``bot.observances.spans_between``), so spans that
cross a year end appear in both years; posts come from the planner. Pure: the caller passes everything.
"""

from __future__ import annotations

import calendar as _calendar
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime

from bot.models import Due, Observance
from bot.observances import MONTHS, WEEKDAYS, Rule, Span, spans_between
from bot.site.views import anchor, long_date

WEEK_STARTS = 6
"""Sunday, as calendars in the United States (AASR's home) print them."""


@dataclass(frozen=True, slots=True)
class PostLink:
    when: str
    href: str | None
    """Where the post is shown (the coming-posts page), or None when it is outside that page's window."""
    parts: int = 1
    """A thread's number of parts (the calendar lists a thread once, as the coming-posts page shows it)."""


@dataclass(frozen=True, slots=True)
class Occurrence:
    """One observance's dates in (or overlapping) the year, with its posts."""

    anchor: str
    id: str
    name: str
    dates: str
    days: int
    when: str
    source: str
    source_is_link: bool
    file: str
    edit_url: str | None
    posts: tuple[PostLink, ...]
    notes: tuple[str, ...]
    start: date
    end: date


@dataclass(frozen=True, slots=True)
class Day:
    day: date
    starts: tuple[Occurrence, ...]
    """Observances whose occurrence begins this day (or, for the month's first day, began before it)."""
    covered: int
    """How many observances fall on this day."""


@dataclass(frozen=True, slots=True)
class Month:
    name: str
    anchor: str
    weeks: tuple[tuple[Day | None, ...], ...]
    home: tuple[Occurrence, ...]
    """Occurrences described in this month: those starting in it (January also takes those begun last year)."""
    continuing: tuple[Occurrence, ...]
    """Occurrences begun in an earlier month of the year that go on in this one."""


WEEKDAY_HEADINGS: tuple[tuple[str, str], ...] = tuple(
    (WEEKDAYS[(WEEK_STARTS + i) % 7][:3], WEEKDAYS[(WEEK_STARTS + i) % 7]) for i in range(7)
)
"""(short, full) weekday names in the grids' column order."""


def span_words(span: Span) -> str:
    if span.start == span.end:
        return long_date(span.start)
    return f"{long_date(span.start)} to {long_date(span.end)} ({span.days} days)"


def occurrences(
    observances: Sequence[Observance],
    rules: Mapping[str, Rule],
    year: int,
    posts: Mapping[tuple[str, int], Sequence[Due]],
    *,
    post_href: Callable[[Due], str | None],
    edit: Callable[[str], str | None],
    shown: Callable[[str], str] = lambda file: file,
    notes: Callable[[Observance, Span], tuple[str, ...]] = lambda obs, span: (),
) -> list[Occurrence]:
    """Every occurrence overlapping ``year``; ``posts`` maps (observance id, occurrence's start year) to
    its due posts, in time order."""
    first, last = date(year, 1, 1), date(year, 12, 31)
    found = []
    for obs in observances:
        rule = rules[obs.id]
        for span in spans_between(rule, first, last):
            mine = posts.get((obs.id, span.start.year), ())
            found.append(
                Occurrence(
                    anchor=anchor("obs", f"{obs.id}-{span.start.isoformat()}"),
                    id=obs.id,
                    name=obs.name,
                    dates=span_words(span),
                    days=span.days,
                    when=obs.when,
                    source=obs.source,
                    source_is_link=obs.source.startswith(("https://", "http://")),
                    file=shown(obs.file),
                    edit_url=edit(obs.file),
                    posts=tuple(
                        PostLink(_post_when(d.at), post_href(d), d.draft.thread.of if d.draft.thread else 1)
                        for d in mine
                        if d.draft.thread is None or d.draft.thread.part == 1
                    ),
                    notes=notes(obs, span),
                    start=span.start,
                    end=span.end,
                )
            )
    found.sort(key=lambda o: (o.start, o.name))
    return found


def _post_when(at: datetime) -> str:
    return f"{at:%a %b} {at.day}, {at.year}, {at:%H:%M} {at.tzname() or ''}".rstrip()


def months(year: int, found: Sequence[Occurrence]) -> list[Month]:
    grid = _calendar.Calendar(firstweekday=WEEK_STARTS)
    out = []
    for number, name in enumerate(MONTHS, start=1):
        first = date(year, number, 1)
        length = _calendar.monthrange(year, number)[1]
        last = date(year, number, length)
        inside = [o for o in found if o.start <= last and o.end >= first]
        starts: dict[int, list[Occurrence]] = {}
        change = [0] * (length + 2)  # +1 where an occurrence begins covering, -1 after it ends
        for o in inside:
            begins = max(o.start, first).day
            starts.setdefault(begins, []).append(o)
            change[begins] += 1
            change[min(o.end, last).day + 1] -= 1
        covered, running = [0] * (length + 1), 0
        for number_of_day in range(1, length + 1):
            running += change[number_of_day]
            covered[number_of_day] = running
        weeks = []
        for week in grid.monthdatescalendar(year, number):
            cells: list[Day | None] = []
            for day in week:
                if day.month != number:
                    cells.append(None)
                else:
                    cells.append(Day(day, tuple(starts.get(day.day, ())), covered[day.day]))
            weeks.append(tuple(cells))
        home = tuple(o for o in inside if o.start >= first or number == 1)
        continuing = tuple(o for o in inside if not (o.start >= first or number == 1))
        out.append(Month(f"{name} {year}", f"m-{year}-{number:02d}", tuple(weeks), home, continuing))
    return out
