"""Draft -> the exact post for one network: templates, link and hashtags, and fitting feed titles.

People's text is never cut: a post that is too long comes back with ``length > limit`` and the caller refuses
it. Only machine text (``Draft.fit``: feed titles) is shortened, and only the ``{title}`` value, at a word
boundary with an ellipsis, never splitting a URL, a hashtag, a mention or a grapheme cluster.
"""

from __future__ import annotations

import functools
import html
import unicodedata
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime

import regex  # type: ignore[import-untyped]  # regex ships no type information

from bot.models import Draft, Post, Receipt
from bot.publishers.spec import TextRules
from bot.textlen import graphemes, url_spans

ELLIPSIS = "…"

_NAME = regex.compile(r"[A-Za-z_][A-Za-z0-9_]*(?::[0-9]{4})?\Z")
# {years_since:1990} -> "36" and {anniversary:1990} -> "36th" in 2026: counted from the post's {year}.
_SINCE = regex.compile(r"(years_since|anniversary):([0-9]{4})\Z")
SINCE_PLACEHOLDERS = ("years_since", "anniversary")
# Escaped braces first, then a placeholder (up to the first "}"), then a lone brace, then plain text.
_TEMPLATE_TOKEN = regex.compile(r"\{\{|\}\}|\{[^}]*\}|[{}]|[^{}]+")
# Tokens that lose their meaning when cut: hashtags and @mentions (Bluesky handles too); URLs: textlen.
_ATOMIC = regex.compile(r"[#@][\p{L}\p{M}\p{N}_]+(?:[.\-][\p{L}\p{M}\p{N}_]+)*")
_HASHTAG = regex.compile(r"(?<![\p{L}\p{M}\p{N}_&#])#([\p{L}\p{M}\p{N}_]+)")
_TAG = regex.compile(r"<!--.*?-->|</?([A-Za-z][A-Za-z0-9:-]*)(?:\s[^<>]*)?/?>", regex.DOTALL)
_BLOCK_TAGS = frozenset(
    {"br", "p", "div", "li", "ul", "ol", "tr", "td", "th", "h1", "h2", "h3", "h4", "h5", "h6"}
)
# Trailing characters dropped before the ellipsis so a cut reads "word…", not "word,…".
_TRAILING = frozenset(" \t\n\r\u00a0,;:-\u2013\u2014")


class TemplateError(ValueError):
    """A post template is malformed or names a value nobody supplies. ``offset`` is where, in the template."""

    def __init__(self, message: str, *, offset: int = 0) -> None:
        super().__init__(message)
        self.message = message
        self.offset = offset


@functools.lru_cache(maxsize=4096)
def _parse(template: str) -> tuple[tuple[str, str, int], ...]:
    """Split a template into ("text", literal, offset) and ("name", placeholder, offset) parts.

    Cached: the same few templates are rendered for every occurrence and every network.
    """
    parts: list[tuple[str, str, int]] = []
    literal: list[str] = []
    start = 0
    for m in _TEMPLATE_TOKEN.finditer(template):
        token, i = m.group(), m.start()
        if token in ("{{", "}}"):
            literal.append(token[0])
        elif token == "}":
            raise TemplateError(
                f"a single '}}' at character {i + 1}: write '}}}}' for a literal brace", offset=i
            )
        elif token == "{":
            raise TemplateError(
                f"'{{' at character {i + 1} is never closed: write '{{{{' for a literal brace", offset=i
            )
        elif token[0] == "{":
            name = token[1:-1]
            if not _NAME.match(name):
                shown = name if len(name) <= 30 else name[:30] + ELLIPSIS
                raise TemplateError(
                    f"'{{{shown}}}' at character {i + 1} is not a placeholder: use a name like {{title}}, "
                    "or '{{' and '}}' for literal braces",
                    offset=i,
                )
            if literal:
                parts.append(("text", "".join(literal), start))
                literal = []
            parts.append(("name", name, i))
            start = m.end()
        else:
            literal.append(token)
    if literal:
        parts.append(("text", "".join(literal), start))
    return tuple(parts)


def placeholders(template: str) -> list[str]:
    """Names used in a template, first use first, each once; raise ``TemplateError`` for broken braces."""
    names: list[str] = []
    for kind, value, _ in _parse(template):
        if kind == "name" and value not in names:
            names.append(value)
    return names


def _fill(template: str, values: Mapping[str, str]) -> str:
    out: list[str] = []
    for kind, value, offset in _parse(template):
        if kind == "text":
            out.append(value)
        elif value in values:
            out.append(values[value])
        elif (since := since_value(value, values)) is not None:
            out.append(since)
        else:
            known = ", ".join("{" + k + "}" for k in sorted(values)) or "none"
            raise TemplateError(f"unknown placeholder {{{value}}} (known here: {known})", offset=offset)
    return "".join(out)


def ordinal(n: int) -> str:
    """1st, 2nd, 3rd, 4th, 11th, 12th, 13th, 21st, ..."""
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def since_value(placeholder: str, values: Mapping[str, str]) -> str | None:
    """The value of ``{years_since:YYYY}`` or ``{anniversary:YYYY}`` in the post's year, or None."""
    m = _SINCE.match(placeholder)
    year = values.get("year", "")
    if not m or not year.isdigit():
        return None
    years = int(year) - int(m.group(2))
    return str(years) if m.group(1) == "years_since" else ordinal(years)


def _values(draft: Draft) -> dict[str, str]:
    values = dict(draft.context)
    if draft.link and "link" not in values:
        values["link"] = draft.link
    if draft.name and "name" not in values:
        values["name"] = draft.name
    return values


def _has_link(text: str, link: str) -> bool:
    """Whether ``link`` is in the text as a whole URL (a longer URL that starts with it doesn't count)."""
    want = link.rstrip("/")
    spans = url_spans(text)
    if any(text[start:end].rstrip("/") == want for start, end in spans):
        return True
    if url_spans(link) == [(0, len(link))]:
        return False
    return link in text  # not a URL twitter-text recognises: fall back to a plain match


def _present_tags(text: str) -> set[str]:
    return {m.group(1).casefold() for m in _HASHTAG.finditer(text)}


def _assemble(body: str, link: str | None, hashtags: Sequence[str]) -> str:
    """Body, blank line, link, then hashtags on their own line: easy to read and tap on a phone."""
    body = body.strip()
    seen = _present_tags(body)
    tags: list[str] = []
    for raw in hashtags:
        tag = raw.strip().lstrip("#")
        if tag and tag.casefold() not in seen:
            seen.add(tag.casefold())
            tags.append("#" + tag)
    tail = [link] if link and not _has_link(body, link) else []
    if tags:
        tail.append(" ".join(tags))
    if not tail:
        return body
    return (body + "\n\n" if body else "") + "\n".join(tail)


def render(draft: Draft, network: str, rules: TextRules | None = None) -> str:
    """The final text for ``network``: its variant (or the text), filled in, then link and hashtags; first a
    ``CW:`` line when the post has a content warning and the network shows none natively."""
    template = draft.variants.get(network, draft.text)
    body = _fill(template, _values(draft))
    if draft.numbering:
        body = f"{body.rstrip()} {draft.numbering}"
    return _warned(draft, _rules(network, rules), _assemble(body, draft.link, draft.hashtags))


def _rules(network: str, rules: TextRules | None) -> TextRules:
    if rules is not None:
        return rules
    from bot.publishers.registry import text_rules

    return text_rules(network)


def _warned(draft: Draft, rules: TextRules, text: str) -> str:
    if not draft.content_warning or rules.spoilers or not rules.cw_line:
        return text
    return f"CW: {draft.content_warning}\n{text}"


def native_warning(draft: Draft, rules: TextRules) -> str | None:
    """The content warning a network shows itself (Mastodon's spoiler text), else None."""
    return draft.content_warning if rules.spoilers else None


def compose(
    draft: Draft,
    network: str,
    *,
    reply_to: Receipt | None = None,
    due_at: datetime | None = None,
    rules: TextRules | None = None,
) -> Post:
    """The post for one network; too long only when people's text is too long (the caller refuses it).

    ``rules``: how the network counts, with the bot's settings (default: the network's defaults).
    """
    rules = _rules(network, rules)
    text = _fitted(draft, network, rules) if draft.fit else render(draft, network, rules)
    warning = native_warning(draft, rules)
    return Post(
        key=draft.key,
        network=network,
        text=text,
        length=rules.count(text, warning),
        limit=rules.limit,
        link=draft.link,
        images=draft.images,
        langs=draft.langs,
        labels=draft.labels,
        reply_to=reply_to,
        due_at=due_at,
        content_warning=warning,
        thread=draft.thread,
    )


def _fitted(draft: Draft, network: str, rules: TextRules) -> str:
    """Render, shortening the {title} value (then dropping hashtags) until the post fits the network."""
    template = draft.variants.get(network, draft.text)
    values = _values(draft)
    title = values.get("title")
    uses_title = title is not None and "title" in placeholders(template)

    warning = native_warning(draft, rules)

    def text_with(t: str, hashtags: Sequence[str]) -> str:
        filled = _fill(template, {**values, "title": t} if uses_title else values)
        return _warned(draft, rules, _assemble(filled, draft.link, hashtags))

    def fitted(hashtags: Sequence[str]) -> str | None:
        full = text_with(title or "", hashtags)
        if rules.fits(full, warning):
            return full
        if not (uses_title and title):
            return None
        short = _shorten(title, lambda t: rules.fits(text_with(t, hashtags), warning))
        return None if short is None else text_with(short, hashtags)

    # Even an empty title without hashtags may be too long: then it comes back over-long, the link never cut.
    return fitted(draft.hashtags) or fitted(()) or text_with("", ())


def clean_title(raw: str) -> str:
    """A feed title as plain text: entities decoded (even double-encoded), tags removed, spaces collapsed."""
    text = raw
    for _ in range(10):
        decoded = html.unescape(_strip_tags(text))
        if decoded == text:
            break
        text = decoded
    text = _strip_tags(text)
    return unicodedata.normalize("NFC", " ".join(text.split()))


def _strip_tags(text: str) -> str:
    """Remove tags; a block tag (<br>, <p>) becomes a space so the words either side stay apart."""

    def replace(match: regex.Match[str]) -> str:
        name = (match.group(1) or "").lower()
        return " " if name in _BLOCK_TAGS else ""

    return str(_TAG.sub(replace, text))


def shorten(text: str, max_len: int, measure: Callable[[str], int]) -> str:
    """The longest word-boundary cut of ``text`` (with "…") that ``measure``s at most ``max_len``, else ""."""
    short = _shorten(text, lambda t: measure(t) <= max_len)
    return "" if short is None else short


def _shorten(text: str, ok: Callable[[str], bool]) -> str | None:
    """``text`` if ok, else the longest acceptable cut, "" as the last resort, None if not even "" is ok.

    Cuts fall only at grapheme boundaries outside URLs, hashtags and mentions; word boundaries (whitespace)
    are preferred, and a cut inside a word is tried only when no cut at a word boundary is acceptable.
    """
    if ok(text):
        return text
    clusters = graphemes(text)
    ends: list[int] = []  # end offset of each cluster
    pos = 0
    for cluster in clusters:
        pos += len(cluster)
        ends.append(pos)
    atoms = [*url_spans(text), *((m.start(), m.end()) for m in _ATOMIC.finditer(text))]

    def inside_atom(cut: int) -> bool:
        return any(start < cut < end for start, end in atoms)

    def in_atom(index: int) -> bool:
        """Whether cluster ``index`` is (part of) a URL, hashtag or mention."""
        first, last = ends[index] - len(clusters[index]), ends[index]
        return any(start < last and first < end for start, end in atoms)

    def candidate(count: int) -> str | None:
        """The first ``count`` clusters, trailing spaces and commas dropped, plus the ellipsis."""
        while count and all(ch in _TRAILING for ch in clusters[count - 1]) and not in_atom(count - 1):
            count -= 1
        if not count:
            return None
        prefix = "".join(clusters[:count])
        # After a URL or hashtag a space keeps the ellipsis out of the link or tag the network detects.
        joiner = " " if any(end == len(prefix) for _, end in atoms) else ""
        return prefix + joiner + ELLIPSIS

    def word_cut(count: int) -> bool:
        return count < len(clusters) and clusters[count].isspace() and not clusters[count - 1].isspace()

    counts = [c for c in range(1, len(clusters)) if not inside_atom(ends[c - 1])]
    word_counts = [c for c in counts if word_cut(c)]
    for pool in (word_counts, counts):
        texts = [t for t in (candidate(c) for c in pool) if t is not None]
        best = _longest_ok(texts, ok)
        if best is not None:
            return best
    return "" if ok("") else None


def _longest_ok(texts: list[str], ok: Callable[[str], bool]) -> str | None:
    """Longest acceptable text of a list ordered short to long (binary search, then a safe walk down)."""
    lo, hi = 0, len(texts) - 1
    found = -1
    while lo <= hi:
        mid = (lo + hi) // 2
        if ok(texts[mid]):
            found, lo = mid, mid + 1
        else:
            hi = mid - 1
    if found >= 0:
        return texts[found]
    # Lengths are not strictly monotonic (X counts a whole URL as 23), so look at every shorter one.
    for t in reversed(texts):
        if ok(t):
            return t
    return None
