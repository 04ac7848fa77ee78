"""Ways of counting text that networks use, and finding URLs as twitter-text does.

twitter-text's weighted length (v3: most Latin characters 1, emoji and CJK 2, every URL 23, after NFC),
grapheme clusters, UTF-8 bytes. Each network's module says which it uses and its limits (``TextRules``); this
module stays import-light (no network SDKs) because ``validate`` and ``upcoming`` use it.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from typing import Any

import regex  # type: ignore[import-untyped]  # regex ships no type information

_GRAPHEME = regex.compile(r"\X")

# Exact fast paths. Importing twitter-text costs ~0.2 s (it imports pkg_resources and compiles a regex of every
# emoji) and its emoji scan ~1.5 ms a text, which is most of `validate`'s time. So it is imported only for
# texts the arithmetic below cannot count exactly; tests/test_textlen.py compares both paths on many texts.
#
# X's weighted length (twitter-text v3, after NFC and CR/LF -> LF): code points in these ranges weigh 1, all
# others 2, an emoji (one or several code points) 2, a URL 23. Characters that can be part of an emoji are
# found with Unicode's emoji properties; digits, '#' and '*' only form one (a keycap) together with such a
# character.
_X_HEAVY = re.compile("[^\\x00-\\u10ff\\u2000-\\u200d\\u2010-\\u201f\\u2032-\\u2037]")
_X_EMOJI_PART = regex.compile(r"[[\p{Emoji}\p{Emoji_Component}\p{Extended_Pictographic}]--[0-9#*]]", regex.V1)
_LINE_ENDS = re.compile(r"\r\n|\r")
X_URL_LENGTH = 23
# A plain web address, as the bot appends links: scheme, lowercase host under a common TLD, a path of safe
# characters ending in a letter, digit or '/', standing between white space. twitter-text takes such an
# address whole. Anything else that could be a URL (a dot before a letter, '://', 'www') goes to twitter-text.
_LABEL = r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?"  # twitter-text refuses labels over 63 characters
_SIMPLE_URL = re.compile(
    rf"(?<!\S)https?://(?:{_LABEL}\.){{1,4}}(?:org|com|net|gov|edu|int|us)"
    r"(?:/(?:[A-Za-z0-9_~%/-]{0,150}[A-Za-z0-9_/-])?)?(?!\S)"
)
_MAYBE_URL = re.compile(r"[.\uff0e\u3002\uff61][^\W\d_]|://|www", re.IGNORECASE)


def _twitter_text() -> Any:
    import warnings

    with warnings.catch_warnings():
        # It imports pkg_resources (setuptools is pinned below 81 for it), which warns on every import.
        warnings.filterwarnings("ignore", "pkg_resources is deprecated", UserWarning)
        import twitter_text  # the library ships no type information

    return twitter_text


@functools.lru_cache(maxsize=16384)
def x_length(text: str) -> int:
    """X's weighted length, the number X compares with 280 (cached: previews measure the same texts often)."""
    normal = _LINE_ENDS.sub("\n", unicodedata.normalize("NFC", text))
    spans = _simple_url_spans(normal)
    if spans is None or _X_EMOJI_PART.search(normal):
        return int(_twitter_text().parse_tweet(unicodedata.normalize("NFC", text)).weightedLength)
    length = len(normal) + len(_X_HEAVY.findall(normal))
    for start, end in spans:
        piece = normal[start:end]
        length += X_URL_LENGTH - len(piece) - len(_X_HEAVY.findall(piece))
    return length


def _simple_url_spans(text: str) -> list[tuple[int, int]] | None:
    """The URLs of ``text`` when every one is a plain web address (see ``_SIMPLE_URL``), else None."""
    spans = [m.span() for m in _SIMPLE_URL.finditer(text)]
    rest = _SIMPLE_URL.sub(" ", text)
    return None if _MAYBE_URL.search(rest) else spans


def bluesky_length(text: str) -> int:
    """Grapheme clusters, the unit of Bluesky's 300 limit (a flag or a ZWJ family emoji is one)."""
    if text.isascii() and "\r" not in text:
        return len(text)  # each ASCII character is its own grapheme, except CR LF (excluded here)
    return len(_GRAPHEME.findall(text))


def utf8_length(text: str) -> int:
    return len(text.encode("utf-8"))


def graphemes(text: str) -> list[str]:
    """The text split into user-perceived characters, so callers never cut one in half."""
    return list(_GRAPHEME.findall(text))


def extract_urls(text: str) -> list[str]:
    """URLs exactly as X would find them (with or without a scheme), each a substring of ``text``."""
    return [text[start:end] for start, end in url_spans(text)]


def url_spans(text: str) -> list[tuple[int, int]]:
    """``(start, end)`` indices of each URL X would find, for code that must not split one."""
    spans = _simple_url_spans(text)
    if spans is not None:
        return spans
    return [
        (int(u["indices"][0]), int(u["indices"][1])) for u in _twitter_text().extract_urls_with_indices(text)
    ]


_LINK = re.compile(r"https?://[^\s<>\"'`]+", re.IGNORECASE)
_LINK_TAIL = ".,;:!?)]}'\"…"


def card_link(link: str | None, text: str) -> str | None:
    """The URL a link card is made from: the post's ``link``, else the first http(s) URL in its text (as
    Bluesky's own app does), without trailing punctuation; None when there is neither."""
    if link:
        return link
    match = _LINK.search(text)
    if match is None:
        return None
    url = match.group(0)
    while url and url[-1] in _LINK_TAIL:
        if url[-1] == ")" and url.count("(") >= url.count(")"):
            break  # a balanced parenthesis belongs to the URL (Wikipedia-style links)
        url = url[:-1]
    return url if "://" in url and url.split("://", 1)[1] else None
