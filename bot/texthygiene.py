"""Characters that have no place in a post, its alt text or a name, and a safe form of any text for a terminal.

Control characters (other than a newline) are errors: they never show, and in a terminal or a pull request's job
summary an escape sequence can rewrite what a reviewer sees. Bidirectional overrides and zero-width characters
are warnings: they can hide or reorder words ("Trojan source"), but have rare honest uses. Alt text made only of
invisible characters is missing alt text. Zero-width joiners are left alone: emoji and several scripts need them.
"""

from __future__ import annotations

import re
import unicodedata

_CONTROL = re.compile(r"[\x00-\x09\x0b-\x1f\x7f-\x9f]")
_BIDI = re.compile(r"[\u202a-\u202e\u2066-\u2069\u200e\u200f\u061c]")
_ZERO_WIDTH = re.compile(r"[\u200b\u2060\ufeff\u180e]")
_UNSAFE_FOR_TERMINAL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def control_characters(text: str) -> list[str]:
    """The control characters in ``text`` (newlines allowed), as ``U+XXXX`` names."""
    return sorted({f"U+{ord(c):04X}" for c in _CONTROL.findall(text)})


def hidden_characters(text: str) -> list[str]:
    """Bidirectional controls and zero-width characters in ``text``, as ``U+XXXX`` names."""
    return sorted({f"U+{ord(c):04X}" for c in (*_BIDI.findall(text), *_ZERO_WIDTH.findall(text))})


def is_invisible(text: str) -> bool:
    """True when ``text`` shows nothing: only spaces, format characters and combining marks."""
    return all(
        c.isspace() or unicodedata.category(c) in ("Cf", "Cc", "Mn", "Me", "Zs", "Zl", "Zp") for c in text
    )


def for_terminal(text: str) -> str:
    """``text`` with control and bidi characters shown as ``\\xNN``/``\\uNNNN`` escapes, tabs and newlines kept."""
    return _UNSAFE_FOR_TERMINAL.sub(lambda m: m.group(0).encode("unicode_escape").decode("ascii"), text)
