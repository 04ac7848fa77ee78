"""Checks across the whole calendar that no single file shows: posts that fall on a solemn day, and coming
dates that the organiser has not confirmed yet. ``validate`` reports them as warnings (errors with --strict)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, timedelta

from bot.models import Due
from bot.observances import is_confirmed, spans_between
from bot.problems import Problem
from bot.schedules import Schedules

HORIZON_DAYS = 366
"""How far ahead solemn-day clashes are looked for: a year, so every yearly post is seen once."""


def calendar_problems(schedules: Schedules, today: date) -> list[Problem]:
    return [*solemn_clashes(schedules, today), *unconfirmed_dates(schedules, today)]


def _due(schedules: Schedules, today: date, days: int) -> list[Due]:
    from bot.planner import (  # the planner imports the loader, which calls these checks
        day_window,
        due_between,
    )

    window = day_window(today, today + timedelta(days=days), schedules.settings.timezone)
    return list(due_between(schedules, *window))


def _line(schedules: Schedules, due: Due) -> int:
    """Where the post of a due item is written, for a message that points at it."""
    parts = due.draft.key.split("/")
    if parts[0] == "awareness":
        for obs in schedules.observances:
            if obs.id == parts[1] and parts[-1].isdigit() and int(parts[-1]) <= len(obs.posts):
                return obs.posts[int(parts[-1]) - 1].spec.line or obs.line
    if parts[0] == "queue":
        for queued in schedules.queue:
            if queued.id == parts[1]:
                return queued.spec.line or queued.line
    if parts[0] == "recurring":
        for rec in schedules.recurring:
            if rec.id == parts[1]:
                return rec.line
    return 1


def _solemn_days(schedules: Schedules, first: date, last: date) -> Iterator[tuple[date, str, str]]:
    for obs in schedules.observances:
        if obs.tone != "solemn":
            continue
        for span in spans_between(schedules.rules[obs.id], first, last):
            day = span.start
            while day <= span.end:
                yield day, obs.id, obs.name
                day += timedelta(days=1)


def solemn_clashes(schedules: Schedules, today: date) -> list[Problem]:
    """A warning for every other post that would go out on a solemn day, in the org's time zone."""
    last = today + timedelta(days=HORIZON_DAYS)
    solemn: dict[date, tuple[str, str]] = {}
    for day, obs_id, name in _solemn_days(schedules, today, last):
        solemn.setdefault(day, (obs_id, name))
    if not solemn:
        return []
    files = {obs.id: obs.file for obs in schedules.observances}
    tz = schedules.settings.timezone
    found: dict[tuple[str, str], Problem] = {}  # one message per clashing post and solemn day's observance
    for due in _due(schedules, today, HORIZON_DAYS):
        day = due.at.astimezone(tz).date()
        if day not in solemn:
            continue
        obs_id, name = solemn[day]
        if due.draft.key.startswith(f"awareness/{obs_id}/"):
            continue
        line = _line(schedules, due)
        found.setdefault(
            (f"{due.draft.file}:{line}", obs_id),
            Problem(
                due.draft.file,
                line,
                1,
                "warning",
                f"this post goes out on {day:%B} {day.day}, {day.year}, {name} ({files[obs_id]}), a day of"
                " mourning",
                "move it to another day: on a solemn day the bot posts only that day's own words",
                "solemn-day",
            ),
        )
    return list(found.values())


def unconfirmed_dates(schedules: Schedules, today: date) -> list[Problem]:
    """A warning when an observance's coming post is in a year whose date is only forecast from its rule."""
    days = schedules.settings.confirm_dates_days
    out: list[Problem] = []
    first, last = today, today + timedelta(days=days)
    for obs in schedules.observances:
        rule = schedules.rules[obs.id]
        for span in spans_between(rule, first, last):
            year = span.start.year
            if is_confirmed(rule, year):
                continue
            out.append(
                Problem(
                    obs.file,
                    obs.line,
                    1,
                    "warning",
                    f"the {year} date of {obs.name} is not confirmed (forecast: {span.start:%B} {span.start.day})",
                    f"confirm the {year} date at {obs.source}, then add it under dates: (e.g. {year}:"
                    f" {span.start:%B} {span.start.day})",
                    "unconfirmed-date",
                )
            )
    return out
