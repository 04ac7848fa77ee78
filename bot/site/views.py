"""What the pages show, as plain frozen data: posts split into text, links and hashtags, link cards, images
with their alt text, lengths against limits, and the problems found in each post's file.

The posts themselves come from ``bot.preview.render_due`` (the same rendering ``upcoming`` prints), so a page
never shows a text the bot would not send. Nothing here reads a clock, the network or a template.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

from bot.lint import hashtag_spans
from bot.problems import Problem
from bot.textlen import url_spans

_UNSAFE_ID = re.compile(r"[^A-Za-z0-9_-]+")


def anchor(prefix: str, key: str) -> str:
    """A fragment id for an item key (``awareness/idpd/2026/1`` -> ``post-awareness-idpd-2026-1``)."""
    return f"{prefix}-{_UNSAFE_ID.sub('-', key).strip('-')}"


def network_label(network: str) -> str:
    """How a page names a network: the display name its module declares in the registry."""
    from bot.publishers import registry

    return registry.get(network).name


def local_when(at: datetime) -> str:
    """``Thursday, December 3, 2026, 10:00 EST``: the day in words, the time and the zone's abbreviation."""
    return f"{at:%A, %B} {at.day}, {at.year}, {at:%H:%M} {at.tzname() or ''}".rstrip()


def long_date(day: Any) -> str:
    return f"{day:%A, %B} {day.day}, {day.year}"


@dataclass(frozen=True, slots=True)
class Segment:
    """A piece of a post's text: plain ``text``, a ``link`` (with ``href``) or a ``tag`` (a hashtag)."""

    kind: str
    text: str
    href: str = ""


def segments(text: str) -> tuple[Segment, ...]:
    """The text cut into plain runs, links (as the networks detect them) and hashtags, in order."""
    marks: list[tuple[int, int, str]] = [(s, e, "link") for s, e in url_spans(text)]
    taken = [(s, e) for s, e, _ in marks]
    for start, end in hashtag_spans(text):
        if not any(s < end and start < e for s, e in taken):  # a '#' inside a URL is the URL's
            marks.append((start, end, "tag"))
    marks.sort()
    out: list[Segment] = []
    pos = 0
    for start, end, kind in marks:
        if start > pos:
            out.append(Segment("text", text[pos:start]))
        piece = text[start:end]
        out.append(Segment(kind, piece, href(piece) if kind == "link" else ""))
        pos = end
    if pos < len(text):
        out.append(Segment("text", text[pos:]))
    return tuple(out)


def href(url: str) -> str:
    """A URL as written in a post (possibly without a scheme, as X finds them) made followable."""
    return url if "://" in url else f"https://{url}"


@dataclass(frozen=True, slots=True)
class Card:
    """A link card from what is known offline: the URL and its site (a card's title needs the page)."""

    url: str
    site: str
    title: str = ""
    description: str = ""


def card(link: str | None) -> Card | None:
    if not link:
        return None
    url = href(link)
    return Card(url=url, site=urlsplit(url).netloc.removeprefix("www."))


@dataclass(frozen=True, slots=True)
class ImageView:
    src: str
    """Relative to the page's folder."""
    alt: str
    name: str


@dataclass(frozen=True, slots=True)
class PostView:
    """One post as one network would show it."""

    network: str
    label: str
    segments: tuple[Segment, ...]
    length: int
    limit: int
    fits: bool
    meter_id: str
    card: Card | None = None
    """The link card the network shows under the post (only networks the bot makes cards for)."""
    content_warning: str | None = None
    """The warning the network shows in front of the text (its own field); None where it has none, or where
    the warning is the text's first line instead."""


@dataclass(frozen=True, slots=True)
class PartView:
    """One post of an entry as every enabled network would show it: the whole entry for a single post, one
    part for a thread."""

    anchor: str
    key: str
    number: int
    of: int
    images: tuple[ImageView, ...]
    posts: tuple[PostView, ...]
    warnings: tuple[str, ...]
    """This part's own: too long for a network."""
    lang: str = ""
    """The part's own language, where it differs from the page's (screen readers switch voice)."""

    @property
    def label(self) -> str:
        """``Part 2 of 4, a reply to part 1``: words, as a screen reader reads them, not ``2/4``."""
        after = f"a reply to part {self.number - 1}" if self.number > 1 else "the first post"
        return f"Part {self.number} of {self.of}, {after}"


@dataclass(frozen=True, slots=True)
class EntryView:
    """A due post or thread: when, where it comes from, and its parts (one for a single post)."""

    anchor: str
    key: str
    """The item's key (a thread's parts add ``#n``)."""
    day: str
    when: str
    at: str
    source: str
    name: str
    file: str
    edit_url: str | None
    parts: tuple[PartView, ...]
    warnings: tuple[str, ...]
    blackout: bool

    @property
    def thread(self) -> bool:
        return len(self.parts) > 1 or any(p.of > 1 for p in self.parts)



def repo_path(display: str, root: Path) -> str:
    """A schedule file's path as the repository names it: as the loader shows it when that is relative (the
    bot runs from the repository's root), else relative to the folder holding the schedules folder."""
    path = Path(display)
    if not path.is_absolute():
        return path.as_posix()
    try:
        return path.resolve().relative_to(root.resolve().parent).as_posix()
    except (OSError, ValueError):
        return path.as_posix()


def edit_url(repository: str | None, branch: str, path: str) -> str | None:
    """Where GitHub edits a file, when ``settings.yaml`` names the repository (``owner/name``)."""
    if not repository:
        return None
    return f"https://github.com/{repository}/edit/{quote(branch)}/{quote(path)}"


class ProblemIndex:
    """Which problems belong next to which post: a problem goes to the post of its file that starts last at
    or before its line; one above every post (a file-level problem) goes to all of that file's posts."""

    def __init__(
        self,
        problems: Sequence[Problem],
        starts: Mapping[str, Sequence[int]],
        shown: Callable[[str], str] = lambda file: file,
    ) -> None:
        self._shown = shown
        self._by_file: dict[str, list[Problem]] = {}
        for problem in problems:
            self._by_file.setdefault(problem.file, []).append(problem)
        self._starts = {file: sorted(set(lines)) for file, lines in starts.items()}

    def _owner(self, file: str, line: int) -> int | None:
        owner = None
        for start in self._starts.get(file, ()):
            if start > line:
                break
            owner = start
        return owner

    def near(self, file: str, start: int | None) -> list[str]:
        out = []
        for problem in self._by_file.get(file, ()):
            owner = self._owner(file, problem.line)
            if owner is None or start is None or owner == start:
                out.append(self.format(problem))
        return out

    def format(self, problem: Problem) -> str:
        """``file:line:column: ...`` as ``validate`` prints it, the file named as the repository names it."""
        return replace(problem, file=self._shown(problem.file)).format()


def part_view(entry: Mapping[str, Any], *, images: Sequence[ImageView], lang: str = "") -> PartView:
    """``entry`` is one ``render_due`` result: a single post, or one part of a thread (its ``thread``)."""
    key = entry["key"]
    part_anchor = anchor("post", key)
    place = entry.get("thread") or {"part": 1, "of": 1}
    posts = []
    own_warnings = []
    for network, post in entry["posts"].items():
        fits = bool(post.get("fits", post["length"] <= post["limit"]))
        if not fits:
            own_warnings.append(
                f"Too long for {network_label(network)}: {post['length']} of {post['limit']}. "
                "It will not be sent there until it is shortened."
            )
        posts.append(
            PostView(
                network=network,
                label=network_label(network),
                segments=segments(post["text"]),
                length=post["length"],
                limit=post["limit"],
                fits=fits,
                meter_id=f"{part_anchor}-{network}-length",
                card=card(post.get("card")),
                content_warning=post.get("content_warning"),
            )
        )
    return PartView(
        anchor=part_anchor,
        key=key,
        number=int(place["part"]),
        of=int(place["of"]),
        images=tuple(images),
        posts=tuple(posts),
        warnings=tuple(own_warnings),
        lang=lang,
    )


def entry_view(
    entry: Mapping[str, Any],
    at: datetime,
    *,
    parts: Sequence[PartView],
    edit: str | None,
    file: str,
    warnings: Sequence[str],
    blackout: bool,
) -> EntryView:
    """``entry`` is the ``render_due`` result of the post (a thread's first part); ``at`` its instant in the
    schedules' time zone; ``parts`` the post's parts in order (one for a single post)."""
    place = entry.get("thread")
    key = place["item"] if place else entry["key"]
    own_warnings = list(warnings)
    if entry.get("confirmed") is False:
        own_warnings.append("Date not yet confirmed by the organiser: it is forecast from the rule.")
    if len(parts) == 1:  # a single post's own warnings stand with the post's
        own_warnings += parts[0].warnings
        parts = [replace(parts[0], warnings=())]
    return EntryView(
        anchor=anchor("post", key),
        key=key,
        day=long_date(at.date()),
        when=local_when(at),
        at=at.isoformat(timespec="minutes"),
        source=entry["source"],
        name=entry["name"],
        file=file,
        edit_url=edit,
        parts=tuple(parts),
        warnings=tuple(own_warnings),
        blackout=blackout,
    )


def thread_summary(thread: Mapping[str, Any]) -> str:
    """Where a thread stands on a network, as a sentence for the status page (from ``status``'s ``threads``)."""
    state, part, of = thread["state"], thread["part"], thread["of"]
    line = str(thread["line"])
    why = line.split(": ", 1)[1] if ": " in line else ""
    if state == "finished":
        return f"Finished: all {of} parts sent."
    if state == "finished late":
        return f"Finished late: {why}."
    if state == "held":
        return f"Held at part {part} of {of}: {why}."
    if state == "stopped":
        return f"Skipped: {why}." if part == 1 else f"Stopped at part {part} of {of}: {why}."
    if state == "in progress":
        return f"In progress: {why}."
    return "Waiting to start." if part == 1 else f"Waiting at part {part} of {of}."
