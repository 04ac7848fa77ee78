"""What `upcoming`, `calendar` and `changes` show: due posts rendered per network, observance dates as JSON or
iCalendar, and the posts a pull request adds, alters or removes (Markdown for a CI job summary)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date, datetime, timedelta
from typing import Any

from bot.models import Draft, Due
from bot.observances import is_confirmed
from bot.publishers.spec import Options
from bot.schedules import Schedules

MAX_DATES_SHOWN = 6
UNCONFIRMED_HINT = "check the source, then add the year under dates:"


def render_due(
    due: Due,
    networks: Sequence[str],
    options: Mapping[str, Options] | None = None,
    *,
    grade_min_words: int | None = None,
) -> dict[str, Any]:
    """One due post as a JSON-ready dict: when, what, and the exact text, length and limit per network.

    ``options``: each network's settings (``Settings.network_options``), which may change how it counts.
    ``grade_min_words``: also give each network's text its reading grade (``bot.readability``; None when the
    text has fewer words than this, or is not in English).
    """
    from bot.compose import compose, native_warning, render
    from bot.publishers import registry
    from bot.publishers.registry import text_rules
    from bot.textlen import card_link

    posts = {}
    draft = due.draft
    rendered: dict[str, str] = {}  # networks without a variant share one rendering
    for network in networks:
        rules = text_rules(network, options)
        warning = native_warning(draft, rules)
        if draft.fit:  # machine text is shortened to fit; compose owns that
            post = compose(draft, network, due_at=due.at, rules=rules)
            text, length = post.text, post.length
        else:
            shape = f"{rules.cw_line and not rules.spoilers}{draft.variants.get(network, draft.text)}"
            text = rendered.get(shape) or rendered.setdefault(shape, render(draft, network, rules))
            length = rules.count(text, warning)
        posts[network] = {
            "text": text,
            "length": length,
            "limit": rules.limit,
            "fits": length <= rules.limit and rules.fits(text, warning),
        }
        if grade_min_words is not None:
            posts[network]["grade"] = _grade(draft, text, grade_min_words)
        if warning:
            posts[network]["content_warning"] = warning
        if registry.get(network).link_cards and not draft.images:
            card = card_link(draft.link, text)
            if card:
                posts[network]["card"] = card
    return {
        "at": due.at.isoformat(timespec="seconds"),
        "key": draft.key,
        "source": draft.source,
        "name": draft.name,
        "file": draft.file,
        "link": draft.link,
        "images": [{"file": str(i.path), "alt": i.alt} for i in draft.images],
        "posts": posts,
        "confirmed": not draft.unconfirmed,
        **(
            {"thread": {"item": draft.thread.item, "part": draft.thread.part, "of": draft.thread.of}}
            if draft.thread
            else {}
        ),
    }


def _grade(draft: Draft, text: str, min_words: int) -> float | None:
    """The reading grade of the writer's words in ``text``, one decimal; None for too few words or a post
    not in English (the formula is made for English)."""
    from bot import readability

    if draft.langs and not readability.is_english(draft.langs[0]):
        return None
    return readability.shown(readability.grade(text, readability.exclusions(draft), min_words=min_words))


def thread_line(entry: Mapping[str, Any]) -> str | None:
    """The line "thread: part 2 of 4, a reply to part 1" for a thread part's entry, else None."""
    place = entry.get("thread")
    if not place:
        return None
    reply = f", a reply to part {place['part'] - 1}" if place["part"] > 1 else ", the first post"
    return f"thread: part {place['part']} of {place['of']}{reply}"


def format_due(entry: dict[str, Any], *, blackout: bool = False) -> str:
    lines = [f"{entry['at']}  {entry['source']:<9}  {entry['name']}  ({entry['file']})"]
    if blackout:
        lines.append("    (blackout date: will be skipped)")
    if not entry.get("confirmed", True):
        lines.append(f"    (date not yet confirmed by the organiser: {UNCONFIRMED_HINT})")
    if (thread := thread_line(entry)) is not None:
        lines.append(f"    {thread}")
    progress = _progress(entry)
    if progress:
        lines.append(f"    ({progress})")
    for network, post in entry["posts"].items():
        flag = "" if post.get("fits", post["length"] <= post["limit"]) else "  TOO LONG"
        grade = f"  reading grade {post['grade']:g}" if post.get("grade") is not None else ""
        lines.append(f"    {network:<8} {post['length']:>3}/{post['limit']}{flag}{grade}")
        if post.get("content_warning"):
            lines.append(f"             [content warning: {post['content_warning']}]")
        for text_line in post["text"].splitlines() or [""]:
            lines.append(f"             {text_line}")
        if post.get("card"):
            lines.append(f"             [link card from {post['card']}]")
    for image in entry["images"]:
        lines.append(f"    image    {image['file']} (alt: {image['alt']})")
    return "\n".join(lines)


_STATE_WORDS = {
    "sent": "sent",
    "skipped": "skipped",
    "failed": "failed (see `status`)",
    "pending": "not sent yet",
    "sending": "being sent",
    None: "no record",
}


def _progress(entry: dict[str, Any]) -> str:
    """``upcoming``'s words for a post whose time has gone by, or that the ledger knows of ("" for neither)."""
    states = entry.get("ledger")
    known = states is not None and any(status is not None for status in states.values())
    if not entry.get("past") and not known:
        return ""
    if states is None:
        return "past: its time has gone by; `status` shows whether it went out"
    said = ", ".join(
        f"{network} {_STATE_WORDS.get(status, str(status))}" for network, status in states.items()
    )
    return f"past: {said}" if entry.get("past") else said


def calendar_entries(schedules: Schedules, year: int) -> list[dict[str, Any]]:
    """Every observance occurrence starting in ``year``, in date order."""
    out = []
    for obs in schedules.observances:
        rule = schedules.rules[obs.id]
        span = rule.span(year)
        if span is None:
            continue
        out.append(
            {
                "id": obs.id,
                "name": obs.name,
                "when": obs.when,
                "file": obs.file,
                "source": obs.source,
                "start": span.start.isoformat(),
                "end": span.end.isoformat(),
                "confirmed": is_confirmed(rule, year),
                "tone": obs.tone or "default",
            }
        )
    out.sort(key=lambda e: (e["start"], e["name"]))
    return out


ROLLING_YEARS = (-1, 0, 1, 2)
"""A rolling calendar covers last year, this year and the next two, so a subscription never runs dry at New
Year and last year's days stay in place."""


def rolling_years(year: int) -> list[int]:
    return [year + offset for offset in ROLLING_YEARS if 1900 <= year + offset <= 9998]


def rolling_entries(schedules: Schedules, year: int) -> list[dict[str, Any]]:
    """``calendar_entries`` of every year of the rolling calendar around ``year``, in date order."""
    out = [entry for y in rolling_years(year) for entry in calendar_entries(schedules, y)]
    out.sort(key=lambda e: (e["start"], e["name"]))
    return out


def calendar_ics(entries: list[dict[str, Any]], year: int | None) -> bytes:
    """An RFC 5545 calendar of all-day events (DTEND is exclusive, hence +1 day); ``year`` None: rolling.

    UIDs are the observance id and start date, so a subscriber's client updates an event in place; DTSTAMP is
    fixed per event (January 1 of its year), so rebuilding an unchanged calendar gives the same bytes.
    """
    from icalendar import Calendar, Event

    cal = Calendar()
    cal.add("prodid", "-//Alliance Against Seclusion and Restraint//aasr-bot//EN")
    cal.add("version", "2.0")
    cal.add("x-wr-calname", "AASR awareness calendar" + (f" {year}" if year is not None else ""))
    cal.add("x-wr-caldesc", "Awareness days observed by the Alliance Against Seclusion and Restraint")
    for entry in entries:
        start = date.fromisoformat(entry["start"])
        event = Event()
        event.add("uid", f"{entry['id']}-{entry['start']}@endseclusion.org")
        event.add("summary", entry["name"])
        event.add("dtstart", start)
        event.add("dtend", date.fromisoformat(entry["end"]) + timedelta(days=1))
        event.add("dtstamp", _stamp(year if year is not None else start.year))
        unconfirmed = "" if entry.get("confirmed", True) else " (date not yet confirmed by the organiser)"
        event.add("description", f"{entry['when']}. Source: {entry['source']}{unconfirmed}")
        if entry["source"].startswith("http"):
            event.add("url", entry["source"])
        event.add("transp", "TRANSPARENT")
        cal.add_component(event)
    return bytes(
        cal.to_ical(sorted=False)
    )  # insertion order is already fixed; sorting 20,000 events costs ~1 s


def _stamp(year: int) -> Any:
    # A fixed DTSTAMP keeps the file byte-identical between runs, so subscribers don't see spurious changes.
    from datetime import UTC, datetime

    return datetime(year, 1, 1, tzinfo=UTC)


# ------------------------------------------------------------------------------------------------- changes


def _identity(key: str) -> str:
    """The post a ledger key is an occurrence of: awareness/<id>/<n>, queue/<id> or recurring/<id> (a thread's
    parts, ``<key>#<n>``, are the one post they belong to)."""
    item, sep, number = key.rpartition("#")
    if sep and number.isdigit():
        key = item
    parts = key.split("/")
    if parts[0] == "awareness" and len(parts) == 4:
        return f"awareness/{parts[1]}/{parts[3]}"
    if parts[0] == "recurring" and len(parts) == 3:
        return f"recurring/{parts[1]}"
    return key


def _content(entry: dict[str, Any]) -> tuple[Any, ...]:
    """What a reader of the post would see, and when (not which file it came from)."""
    posts = tuple((n, p["text"]) for n, p in sorted(entry["posts"].items()))
    images = tuple((i["file"].rsplit("/", 1)[-1], i["alt"]) for i in entry["images"])
    return entry["at"], posts, images


def changes(base: list[dict[str, Any]], current: list[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    """Posts (grouped by identity) that ``current`` adds, alters or removes compared with ``base``.

    Each group is ``{"identity", "kind", "name", "file", "entries"}``; entries are the occurrences that differ
    (for removed posts: the base's). Occurrences are matched by ledger key; a post whose occurrences moved (a
    new cron rule) is reported once, as changed.
    """
    old = {e["key"]: e for e in base}
    new = {e["key"]: e for e in current}
    old_ids = {_identity(k) for k in old}
    new_ids = {_identity(k) for k in new}
    groups: dict[str, dict[str, Any]] = {}

    def add(kind: str, entry: dict[str, Any]) -> None:
        ident = _identity(entry["key"])
        group = groups.setdefault(
            ident,
            {"identity": ident, "kind": kind, "name": entry["name"], "file": entry["file"], "entries": []},
        )
        group["entries"].append(entry)

    for key, entry in new.items():
        if key not in old or _content(old[key]) != _content(entry):
            add("added" if _identity(key) not in old_ids else "changed", entry)
    for key, entry in old.items():
        ident = _identity(key)
        if key not in new and ident not in new_ids:
            add("removed", entry)
        elif key not in new and ident not in groups:
            # Same post, fewer occurrences (e.g. an end date moved earlier): it changed.
            add("changed", new[next(k for k in new if _identity(k) == ident)])
    out: dict[str, list[dict[str, Any]]] = {"added": [], "changed": [], "removed": []}
    for group in sorted(groups.values(), key=lambda g: (g["entries"][0]["at"], g["identity"])):
        out[group["kind"]].append(group)
    return out


def _fence(text: str) -> str:
    ticks = "```"
    while ticks in text:
        ticks += "`"
    return f"{ticks}text\n{text}\n{ticks}"


def _when(at: str) -> str:
    return f"{datetime.fromisoformat(at):%a %Y-%m-%d %H:%M}"


def changes_markdown(
    found: dict[str, list[dict[str, Any]]], first: date, last: date, problems: int = 0
) -> str:
    """A GitHub job summary: per post, its next dates and its text per network with length and limit."""
    counts = {kind: len(groups) for kind, groups in found.items()}
    lines = [f"## Scheduled posts changed by this pull request ({first} to {last})", ""]
    if problems:
        lines += [
            f"**{problems} problem(s) in the schedules**: run `python -m bot validate` to see them.",
            "",
        ]
    if not any(counts.values()):
        lines.append("No post in this window is added, changed or removed.")
        return "\n".join(lines) + "\n"
    lines += [f"{counts['added']} added, {counts['changed']} changed, {counts['removed']} removed.", ""]
    titles = {"added": "Added", "changed": "Changed", "removed": "Removed"}
    for kind in ("added", "changed", "removed"):
        for group in found[kind]:
            entries = group["entries"]
            lines.append(f"### {titles[kind]}: {group['name']} (`{group['file']}`)")
            lines.append("")
            dates = list(dict.fromkeys(e["at"] for e in entries))  # a thread's parts share their date
            shown = ", ".join(_when(at) for at in dates[:MAX_DATES_SHOWN])
            more = f" and {len(dates) - MAX_DATES_SHOWN} more" if len(dates) > MAX_DATES_SHOWN else ""
            lines.append(f"{'Was due' if kind == 'removed' else 'Next'}: {shown}{more}")
            lines.append("")
            if kind == "removed":
                continue
            # A thread shows as a thread: every changed part of its next occurrence, in order.
            lead = entries[0]
            shown_parts = [e for e in entries if e["at"] == lead["at"]] if lead.get("thread") else []
            for entry in shown_parts or entries[:1]:
                if (thread := thread_line(entry)) is not None:
                    lines.append(f"*{thread[0].upper()}{thread[1:]}*")
                    lines.append("")
                for network, post in entry["posts"].items():
                    verdict = "fits" if post.get("fits", post["length"] <= post["limit"]) else "**TOO LONG**"
                    lines.append(f"**{network}**: {post['length']}/{post['limit']} ({verdict})")
                    lines.append("")
                    lines.append(_fence(post["text"]))
                    lines.append("")
                for image in entry["images"]:
                    lines.append(f"Image `{image['file'].rsplit('/', 1)[-1]}`, alt text: {image['alt']}")
                    lines.append("")
    return "\n".join(lines).rstrip() + "\n"
