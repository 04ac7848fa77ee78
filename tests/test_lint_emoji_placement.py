"""Emoji between words or used as bullets: screen readers read the emoji's name in the middle of a sentence."""

from __future__ import annotations

import pytest

from bot import lint

EMOJI = [
    ("We did it \U0001f389 together", "between words"),
    ("Thank you, \U0001f64f teachers", "between words"),
    ("Ask for:\n\u2705 the policy\n\u2705 a meeting", "as a bullet"),
    ("Thank you, teachers! \U0001f389", None),
    ("\U0001f389", None),
    ("Join us on May 1 \u2014 every child matters", None),  # a dash is not an emoji
]


@pytest.mark.parametrize(("text", "words"), EMOJI)
def test_emoji_between_words_or_as_bullets(text: str, words: str | None) -> None:
    found = [f for f in lint.lint_text(text) if f.code == "emoji-placement"]
    if words is None:
        assert found == []
    else:
        assert len(found) == 1 and words in found[0].message
