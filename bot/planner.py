"""What is due between two instants, from every source (pure: the caller passes the window, nobody reads a clock).

Item keys are the ledger's identity of a post and never change for the same occurrence:
``awareness/<id>/<year>/<n>`` (n-th post of the observance's occurrence that starts in <year>), ``queue/<id>``,
``recurring/<id>/<YYYY-MM-DDTHH:MM>`` (local fire time) and ``feed/<hash>``.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, date, datetime, time, timedelta
from types import MappingProxyType
from zoneinfo import ZoneInfo

from bot.models import (
    Draft,
    Due,
    FeedItem,
    Observance,
    PostSpec,
    RecurringPost,
    Settings,
    ThreadPlace,
    part_key,
)
from bot.observances import is_confirmed, spans_between
from bot.schedules import Schedules


def local_instant(day: date, at: time, tz: ZoneInfo) -> datetime:
    """The aware instant for a local wall-clock time; a time skipped by DST moves forward, as clocks do."""
    naive = datetime.combine(day, at, tzinfo=tz)
    return naive.astimezone(UTC).astimezone(tz)


def human_date(day: date) -> str:
    return f"{day.strftime('%B')} {day.day}, {day.year}"


def _draft(
    key: str, source: str, name: str, file: str, spec: PostSpec, settings: Settings, context: dict[str, str]
) -> Draft:
    context.setdefault("link", spec.link or "")
    return Draft(
        key=key,
        source=source,
        name=name,
        file=file,
        text=spec.text,
        line=spec.line,
        variants=spec.variants,
        hashtags=spec.hashtags,
        link=spec.link,
        images=spec.images,
        context=MappingProxyType(context),
        langs=(spec.language,) if spec.language else settings.langs,
        content_warning=spec.content_warning,
    )


def _drafts(
    key: str, source: str, name: str, file: str, spec: PostSpec, settings: Settings, context: dict[str, str]
) -> list[Draft]:
    """One draft for a post; one per part for a ``thread:`` (keys ``<key>#1``, ``<key>#2``, ...)."""
    if not spec.thread:
        return [_draft(key, source, name, file, spec, settings, context)]
    total = len(spec.thread)
    out: list[Draft] = []
    for n, part in enumerate(spec.thread, start=1):
        draft = _draft(part_key(key, n), source, name, file, part, settings, dict(context))
        out.append(
            replace(
                draft,
                thread=ThreadPlace(key, n, total),
                numbering=f"{n}/{total}" if settings.thread_numbering else "",
            )
        )
    return out


def _awareness(obs: Observance, schedules: Schedules, start: datetime, end: datetime) -> Iterator[Due]:
    settings = schedules.settings
    tz = settings.timezone
    rule = schedules.rules[obs.id]
    first, last = start.astimezone(tz).date(), end.astimezone(tz).date()
    for span in spans_between(rule, first, last):
        for n, post in enumerate(obs.posts, start=1):
            day = (
                span.start + timedelta(days=post.day - 1)
                if post.day > 0
                else span.end + timedelta(days=post.day + 1)
            )
            if not span.start <= day <= span.end:
                continue
            at = local_instant(day, post.time or settings.default_time, tz)
            if not start <= at <= end:
                continue
            year = span.start.year
            context = {"name": obs.name, "year": str(year), "date": human_date(day)}
            key = f"awareness/{obs.id}/{year}/{n}"
            for draft in _drafts(key, "awareness", obs.name, obs.file, post.for_year(year), settings, context):
                if not is_confirmed(rule, year):
                    draft = replace(draft, unconfirmed=True)
                yield Due(at, draft)


ROTATION_ANCHOR = date(2026, 1, 1)
"""Recurring posts without a ``start`` count their occurrences (to pick a text) from this day."""


def _recurring(rec: RecurringPost, settings: Settings, start: datetime, end: datetime) -> Iterator[Due]:
    from apscheduler.triggers.cron import CronTrigger

    tz = settings.timezone
    trigger = CronTrigger.from_crontab(rec.cron, timezone=tz)
    # Texts rotate by occurrence counted from a fixed anchor, so the choice never depends on the window asked for.
    cursor = datetime.combine(rec.start or ROTATION_ANCHOR, time(0), tzinfo=tz)
    index = 0
    previous: datetime | None = None
    while True:
        fire = trigger.get_next_fire_time(previous, cursor)
        if fire is None or fire > end:
            return
        local = fire.astimezone(tz)
        if rec.end and local.date() > rec.end:
            return
        if fire >= start:
            spec = rec.specs[index % len(rec.specs)]
            context = {"name": rec.name, "year": str(local.year), "date": human_date(local.date())}
            key = f"recurring/{rec.id}/{local.strftime('%Y-%m-%dT%H:%M')}"
            for draft in _drafts(key, "recurring", rec.name, rec.file, spec, settings, context):
                yield Due(fire, draft)
        index += 1
        previous = fire
        cursor = fire + timedelta(seconds=1)


def due_between(schedules: Schedules, start: datetime, end: datetime) -> list[Due]:
    """Every scheduled post with ``start <= at <= end``, in time order (ties by key, so the order is stable)."""
    settings = schedules.settings
    found: list[Due] = []
    for obs in schedules.observances:
        found.extend(_awareness(obs, schedules, start, end))
    for queued in schedules.queue:
        if start <= queued.at <= end:
            context = {"name": queued.name, "year": str(queued.at.year), "date": human_date(queued.at.date())}
            found.extend(
                Due(queued.at, draft)
                for draft in _drafts(
                    f"queue/{queued.id}", "queue", queued.name, queued.file, queued.spec, settings, context
                )
            )
    for rec in schedules.recurring:
        found.extend(_recurring(rec, settings, start, end))
    found.sort(key=order)
    return found


def order(due: Due) -> tuple[datetime, str, int]:
    """Time order, ties by item key, a thread's parts in their own order (``#10`` after ``#9``)."""
    place = due.draft.thread
    return (due.at, place.item if place else due.draft.key, place.part if place else 0)


def feed_draft(item: FeedItem, key: str, settings: Settings, now: datetime) -> Draft:
    """A story announcement: the feed template with the title shortened to fit (machine text may be cut)."""
    local = now.astimezone(settings.timezone)
    context = {
        "title": item.title,
        "link": item.url,
        "name": item.title,
        "year": str(local.year),
        "date": human_date(local.date()),
    }
    # feed.categories: a story in a category with a rule gets its content warning and hashtags.
    rules = [r for c in item.categories if (r := settings.feed.categories.get(c.strip().casefold()))]
    warnings = [r.content_warning for r in rules if r.content_warning]
    hashtags = list(settings.feed.hashtags)
    for rule in rules:
        hashtags += [t for t in rule.hashtags if t.casefold() not in {h.casefold() for h in hashtags}]
    return Draft(
        key=key,
        source="feed",
        name=item.title,
        file=settings.feed.url or "feed",
        text=settings.feed.template,
        hashtags=tuple(hashtags),
        link=item.url,
        fit=True,
        context=MappingProxyType(context),
        langs=settings.langs,
        content_warning="; ".join(dict.fromkeys(warnings)) or None,
    )


def day_window(first: date, last: date, tz: ZoneInfo) -> tuple[datetime, datetime]:
    """Both dates inclusive, in local time."""
    start = datetime.combine(first, time(0), tzinfo=tz)
    end = datetime.combine(last + timedelta(days=1), time(0), tzinfo=tz) - timedelta(microseconds=1)
    return start, end
