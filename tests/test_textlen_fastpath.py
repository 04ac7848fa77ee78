"""textlen counts X lengths and finds URLs without twitter-text when it can; those answers must be exactly
twitter-text's. Compared here with the library itself on generated texts and on every shipped post."""

from __future__ import annotations

import subprocess
import sys
import unicodedata
from datetime import date
from pathlib import Path

import twitter_text
from hypothesis import given, settings
from hypothesis import strategies as st

from bot import textlen
from bot.schedules import load_schedules

REPO = Path(__file__).resolve().parents[1]

PIECES = [
    *"aZ .#1*\n/-_~%:",
    "\r\n", "\r", "é", "e\u0301", "日", "\u2019", "\u2014", "\u2026", "\u00a0", "\u0301", "\u1100",
    "\u00a9", "\u00ae", "\ufe0f", "\u20e3", "\u200d", "\u203c", "\u2122", "\U0001f389",
    "\U0001f468\u200d\U0001f469\u200d\U0001f467", "\U0001f1fa\U0001f1f8", "\U0001f44d\U0001f3fd",
    "1\ufe0f\u20e3", "#\u20e3", "https://endseclusion.org/", "https://endseclusion.org/resources/sample-letters/",
    "http://www.un.org/en/observances/autism-day", "https://a-b.example.com/x-y/z", "https://ed.gov",
    "endseclusion.org", "t.co", "https://t.co/abc", "a.b.co/x?y=1", "https://x.org/a.b", "https://x.org/a.",
    "https://x.org/a,", "https://x.org/a)", "(https://x.org/a)", "https://x.org/%20", "https://X.org/",
    "e.g.", "example.com.", "日本語.jp", "http://xn--wgv71a119e.jp", "www.un.org/en", "@aasr",
    "#EndSeclusion", "рф.рф", "Ab.cd", "(https://a.org/x_(y))", "U.S.", "Mr.Smith", "3.5", "a.b",
    "https://endseclusion.org/\u00e9t\u00e9", "\U00020000", "\uff0eorg", "\u3002com",
    "https://" + "a" * 64 + ".com/foo", "https://" + "b" * 63 + ".org/", "https://a.b.c.d.e.f.org/",
    "https://x.org/" + "p" * 300, "https://endseclusion.org/~", "https://x.org/a%", "https://x.org/a-",
    "https://x.org/a_", "https://x.org/a=", "https://x.org/a+b",
]  # fmt: skip


def library_length(text: str) -> int:
    return int(twitter_text.parse_tweet(unicodedata.normalize("NFC", text)).weightedLength)


def library_spans(text: str) -> list[tuple[int, int]]:
    return [
        (int(u["indices"][0]), int(u["indices"][1])) for u in twitter_text.extract_urls_with_indices(text)
    ]


@settings(max_examples=2000, deadline=None)
@given(st.lists(st.sampled_from(PIECES), max_size=60))
def test_x_length_and_urls_are_exactly_twitter_texts(pieces: list[str]) -> None:
    text = "".join(pieces)
    assert textlen.x_length(text) == library_length(text)
    assert textlen.url_spans(text) == library_spans(text)
    # The URLs are the text at twitter-text's indices. Its extract_urls() can disagree with its own indices
    # when the Cyrillic IDN piece (u"\u0440\u0444.\u0440\u0444") touches a URL, dropping characters from the
    # middle; the indices are what X's counting uses.
    assert textlen.extract_urls(text) == [text[start:end] for start, end in library_spans(text)]


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=120))
def test_arbitrary_text(text: str) -> None:
    assert textlen.x_length(text) == library_length(text)
    assert textlen.url_spans(text) == library_spans(text)


def test_every_shipped_post_takes_the_fast_path_with_the_exact_count() -> None:
    from bot.compose import render
    from bot.planner import day_window, due_between

    loaded = load_schedules(REPO / "schedules", REPO / "content")
    start, end = day_window(date(2027, 1, 1), date(2027, 12, 31), loaded.schedules.settings.timezone)
    texts = [
        render(due.draft, network) for due in due_between(loaded.schedules, start, end) for network in ("x",)
    ]
    assert len(texts) > 40
    assert all(textlen._simple_url_spans(t) is not None for t in texts)
    assert [textlen.x_length(t) for t in texts] == [library_length(t) for t in texts]


def test_emoji_properties_cover_every_twitter_text_emoji() -> None:
    """The fast path declines any text with an emoji character; check the properties against the library."""
    from twitter_text.regexp.emoji import emoji_list, single_codepoint_emoji_ranges

    def part(code: int) -> bool:
        return textlen._X_EMOJI_PART.fullmatch(chr(code)) is not None

    for low, high in single_codepoint_emoji_ranges:  # the library's single-character class, exactly
        assert all(part(code) for code in range(low, high + 1)), (hex(low), hex(high))
    for entry in emoji_list:  # the library's multi-character alternatives
        codes = [int(c, 16) for c in entry.codepoint.split()]
        assert any(part(code) for code in codes), entry
    assert not any(part(ord(ch)) for ch in "0123456789#* a.é日\u2019")


def test_validate_of_plain_posts_does_not_import_twitter_text() -> None:
    code = (
        "import sys, runpy; sys.argv = ['bot', 'validate']\n"
        "try:\n    runpy.run_module('bot', run_name='__main__')\nexcept SystemExit:\n    pass\n"
        "print('TT', 'twitter_text' in sys.modules)"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO, check=False
    )
    assert "TT False" in result.stdout, result.stderr[-500:]


def test_every_ascii_character_around_a_link() -> None:
    """Exhaustive: each printable ASCII character just before, inside and after a plain link."""
    for code in range(32, 127):
        c = chr(code)
        for text in (
            f"Read https://endseclusion.org/a{c}",
            f"Read https://endseclusion.org/{c}b now",
            f"Read https://endseclusion.org/a/{c}",
            f"Read{c}https://endseclusion.org/",
            f"Read https://endseclusion.org/{c} now",
            f"Read https://end{c}seclusion.org/",
        ):
            assert textlen.x_length(text) == library_length(text), text
            assert textlen.url_spans(text) == library_spans(text), text


@settings(max_examples=500, deadline=None)
@given(st.text(alphabet=st.characters(max_codepoint=127), max_size=80) | st.text(max_size=40))
def test_bluesky_length_fast_path_is_exact(text: str) -> None:
    import regex

    assert textlen.bluesky_length(text) == len(regex.findall(r"\X", text))
