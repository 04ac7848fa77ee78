"""A post with several mistakes gets every one reported in one run, not the first one alone."""

from __future__ import annotations

from pathlib import Path

from bot.schedules import load_schedules

POST = """\
name: Bad Day
when: December 3
source: https://example.org/
posts:
  - text: CLICK HERE for more about {nmae}
    images:
      - file: images/missing.png
"""


def test_text_problems_are_reported_beside_a_missing_image(tmp_path: Path) -> None:
    (tmp_path / "schedules" / "awareness").mkdir(parents=True)
    (tmp_path / "content").mkdir()
    (tmp_path / "schedules" / "awareness" / "bad-day.yaml").write_text(POST)
    loaded = load_schedules(tmp_path / "schedules", tmp_path / "content")
    codes = sorted((p.line, p.code or p.message.split(" ")[0]) for p in loaded.problems)
    messages = " | ".join(p.message for p in loaded.problems)
    assert "unknown placeholder {nmae}" in messages
    assert "tells a screen-reader user nothing" in messages
    assert "alt text is missing" in messages and "not found" in messages
    assert (5, "link-text") in codes and (5, "all-caps") in codes
    assert loaded.schedules.observances == ()  # an invalid post keeps its observance out of the calendar
