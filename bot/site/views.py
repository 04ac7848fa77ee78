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
class EntryView:
    """A due post: when, where it comes from, and its rendering on every enabled network."""

    anchor: str
    key: str
    day: str
    when: str
    at: str
    source: str
    name: str
    file: str
    edit_url: str | None
    images: tuple[ImageView, ...]
    posts: tuple[PostView, ...]
    warnings: tuple[str, ...]
    blackout: bool
    lang: str = ""
    """The post's own language, where it differs from the page's (screen readers switch voice)."""


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


def entry_view(
    entry: Mapping[str, Any],
    at: datetime,
    *,
    images: Sequence[ImageView],
    edit: str | None,
    file: str,
    warnings: Sequence[str],
    blackout: bool,
    lang: str = "",
) -> EntryView:
    """``entry`` is one ``render_due`` result; ``at`` its instant in the schedules' time zone."""
    key = entry["key"]
    post_anchor = anchor("post", key)
    posts = []
    own_warnings = list(warnings)
    if entry.get("confirmed") is False:
        own_warnings.append("Date not yet confirmed by the organiser: it is forecast from the rule.")
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
                meter_id=f"{post_anchor}-{network}-length",
                card=card(post.get("card")),
                content_warning=post.get("content_warning"),
            )
        )
    return EntryView(
        anchor=post_anchor,
        key=key,
        day=long_date(at.date()),
        when=local_when(at),
        at=at.isoformat(timespec="minutes"),
        source=entry["source"],
        name=entry["name"],
        file=file,
        edit_url=edit,
        images=tuple(images),
        posts=tuple(posts),
        warnings=tuple(own_warnings),
        blackout=blackout,
        lang=lang,
    )
