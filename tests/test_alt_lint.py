"""Alt text that does not help a screen-reader user, and posts crowded with hashtags: warnings (errors with
--strict) at the alt text's or the text's own line."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from bot import lint
from bot.schedules import load_schedules


@pytest.mark.parametrize(
    ("alt", "code"),
    [
        ("IMG_2041.JPG", "alt-file-name"),
        ("idpd banner.png", "alt-file-name"),
        ("image", "alt-placeholder"),
        ("A photo.", "alt-placeholder"),
        ("Photos", "alt-placeholder"),
        ("Image of two students reading together", "alt-redundant-start"),
        ("picture showing a classroom with a quiet corner", "alt-redundant-start"),
        ("Students reading", "alt-too-short"),
        ("Two students reading together in a library.", None),
        ("A teacher kneels beside a student at eye level.", None),  # "A" then a noun is fine
    ],
)
def test_alt_text_that_does_not_help(alt: str, code: str | None) -> None:
    finding = lint.lint_alt(alt)
    assert (finding.code if finding else None) == code


@pytest.mark.parametrize(("count", "warned"), [(0, False), (4, False), (5, True), (9, True)])
def test_hashtag_count(count: int, warned: bool) -> None:
    assert (lint.lint_hashtag_count(count) is not None) is warned


def test_validate_reports_them_at_their_lines(tmp_path: Path) -> None:
    schedules, content = tmp_path / "schedules", tmp_path / "content"
    (schedules / "awareness").mkdir(parents=True)
    (content / "images").mkdir(parents=True)
    from PIL import Image

    Image.new("RGB", (8, 8)).save(content / "images" / "a.png")
    (schedules / "settings.yaml").write_text("networks: []\n")
    (schedules / "awareness" / "day.yaml").write_text(
        "name: Test Day\nwhen: May 1\nsource: https://example.org/\n"
        "hashtags: [One, Two, Three, Four]\n"
        "posts:\n"
        '  - text: "A day for #Everyone."\n'
        "    images:\n"
        "      - file: images/a.png\n"
        "        alt: a.png\n"
    )
    loaded = load_schedules(schedules, content, today=date(2026, 6, 1))
    got = [(p.line, p.severity, p.code) for p in loaded.problems]
    assert got == [(6, "warning", "hashtag-count"), (9, "warning", "alt-file-name")]
    assert not loaded.errors(strict=False) and loaded.errors(strict=True)
