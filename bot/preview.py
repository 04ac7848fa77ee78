"""What `upcoming` and `calendar` show: due posts rendered per network, observance dates as JSON or iCalendar."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, timedelta
from typing import Any

from bot.compose import compose
from bot.config import Schedules
from bot.models import Due


def render_due(due: Due, networks: Sequence[str]) -> dict[str, Any]:
    posts = {}
    for network in networks:
        post = compose(due.draft, network, due_at=due.at)
        posts[network] = {"text": post.text, "length": post.length, "limit": post.limit}
    draft = due.draft
    return {
        "at": due.at.isoformat(timespec="seconds"),
        "key": draft.key,
        "source": draft.source,
        "name": draft.name,
        "file": draft.file,
        "link": draft.link,
        "images": [{"file": str(i.path), "alt": i.alt} for i in draft.images],
        "posts": posts,
    }


def format_due(entry: dict[str, Any], *, blackout: bool = False) -> str:
    lines = [f"{entry['at']}  {entry['source']:<9}  {entry['name']}  ({entry['file']})"]
    if blackout:
        lines.append("    (blackout date: will be skipped)")
    for network, post in entry["posts"].items():
        flag = "" if post["length"] <= post["limit"] else "  TOO LONG"
        lines.append(f"    {network:<8} {post['length']:>3}/{post['limit']}{flag}")
        for text_line in post["text"].splitlines() or [""]:
            lines.append(f"             {text_line}")
    for image in entry["images"]:
        lines.append(f"    image    {image['file']} (alt: {image['alt']})")
    return "\n".join(lines)


def calendar_entries(schedules: Schedules, year: int) -> list[dict[str, Any]]:
    """Every observance occurrence starting in ``year``, in date order."""
    out = []
    for obs in schedules.observances:
        span = schedules.rules[obs.id].span(year)
        if span is None:
            continue
        out.append({
            "id": obs.id,
            "name": obs.name,
            "when": obs.when,
            "file": obs.file,
            "source": obs.source,
            "start": span.start.isoformat(),
            "end": span.end.isoformat(),
        })
    out.sort(key=lambda e: (e["start"], e["name"]))
    return out


def calendar_ics(entries: list[dict[str, Any]], year: int) -> bytes:
    """An RFC 5545 calendar of all-day events (DTEND is exclusive, hence +1 day)."""
    from icalendar import Calendar, Event

    cal = Calendar()
    cal.add("prodid", "-//Alliance Against Seclusion and Restraint//aasr-bot//EN")
    cal.add("version", "2.0")
    cal.add("x-wr-calname", f"AASR awareness calendar {year}")
    cal.add("x-wr-caldesc", "Awareness days observed by the Alliance Against Seclusion and Restraint")
    for entry in entries:
        event = Event()
        event.add("uid", f"{entry['id']}-{entry['start']}@endseclusion.org")
        event.add("summary", entry["name"])
        event.add("dtstart", date.fromisoformat(entry["start"]))
        event.add("dtend", date.fromisoformat(entry["end"]) + timedelta(days=1))
        event.add("dtstamp", _stamp(year))
        event.add("description", f"{entry['when']}. Source: {entry['source']}")
        if entry["source"].startswith("http"):
            event.add("url", entry["source"])
        event.add("transp", "TRANSPARENT")
        cal.add_component(event)
    return bytes(cal.to_ical())


def _stamp(year: int) -> Any:
    # A fixed DTSTAMP keeps the file byte-identical between runs, so subscribers don't see spurious changes.
    from datetime import UTC, datetime

    return datetime(year, 1, 1, tzinfo=UTC)
