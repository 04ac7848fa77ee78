"""How long a text is on each network, and whether it fits.

X counts a weighted length (twitter-text v3: most Latin characters 1, emoji and CJK 2, every URL 23, after
NFC); Bluesky counts grapheme clusters (at most 300) and also caps the UTF-8 size (at most 3000 bytes). This
module owns those rules; it stays import-light (no network SDKs) because ``validate`` and ``upcoming`` use it.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Mapping
from types import MappingProxyType

import regex  # type: ignore[import-untyped]  # regex ships no type information
from twitter_text import extract_urls as _tt_extract_urls
from twitter_text import extract_urls_with_indices, parse_tweet

X_LIMIT = 280
BLUESKY_LIMIT = 300
BLUESKY_MAX_BYTES = 3000
LIMITS: Mapping[str, int] = MappingProxyType({"x": X_LIMIT, "bluesky": BLUESKY_LIMIT})
"""The longest text each network accepts, in that network's own unit (see ``measure``)."""

_GRAPHEME = regex.compile(r"\X")


def x_length(text: str) -> int:
    """X's weighted length, the number X compares with 280."""
    return int(parse_tweet(unicodedata.normalize("NFC", text)).weightedLength)


def bluesky_length(text: str) -> int:
    """Grapheme clusters, the unit of Bluesky's 300 limit (a flag or a ZWJ family emoji is one)."""
    return len(_GRAPHEME.findall(text))


def utf8_length(text: str) -> int:
    return len(text.encode("utf-8"))


def graphemes(text: str) -> list[str]:
    """The text split into user-perceived characters, so callers never cut one in half."""
    return list(_GRAPHEME.findall(text))


def measure(network: str, text: str) -> int:
    """Length of ``text`` in the unit ``LIMITS[network]`` is given in."""
    if network == "x":
        return x_length(text)
    if network == "bluesky":
        return bluesky_length(text)
    raise ValueError(f"unknown network {network!r} (known: {', '.join(LIMITS)})")


def fits(network: str, text: str) -> bool:
    """Whether the network would accept the text's length (Bluesky: graphemes and bytes)."""
    if measure(network, text) > LIMITS[network]:
        return False
    return network != "bluesky" or utf8_length(text) <= BLUESKY_MAX_BYTES


def extract_urls(text: str) -> list[str]:
    """URLs exactly as X would find them (with or without a scheme), each a substring of ``text``."""
    return [str(url) for url in _tt_extract_urls(text)]


def url_spans(text: str) -> list[tuple[int, int]]:
    """``(start, end)`` indices of each URL of ``extract_urls(text)``, for code that must not split one."""
    return [(int(u["indices"][0]), int(u["indices"][1])) for u in extract_urls_with_indices(text)]
