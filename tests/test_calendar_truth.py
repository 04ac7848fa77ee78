"""Calendar truth: organisers' announced dates (``dates:``), forecast years (``confirmed_through:``), solemn days
(``tone: solemn``), texts that change year by year (``texts:``) and anniversary placeholders. Real files in a
temporary schedules folder, loaded by the real loader; the planner and the previews see the result."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import date
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from bot.compose import ordinal, render
from bot.planner import day_window, due_between
from bot.preview import calendar_entries, render_due
from bot.publishers.registry import ids
from bot.schedules import Loaded, load_schedules

TZ = ZoneInfo("America/New_York")
SETTINGS = "timezone: America/New_York\nnetworks: []\n"


def load(tmp_path: Path, files: dict[str, str], today: date = date(2026, 6, 1)) -> Loaded:
    for rel, text in {"settings.yaml": SETTINGS, **files}.items():
        path = tmp_path / "schedules" / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    (tmp_path / "content").mkdir(exist_ok=True)
    return load_schedules(tmp_path / "schedules", tmp_path / "content", today=today)


def observance(when: str, extra: str = "", text: str = "It's the day.") -> str:
    return f"name: Test Day\nwhen: {when}\n{extra}source: https://example.org/day\nposts:\n  - text: {text}\n"


def messages(loaded: Loaded) -> list[tuple[str, int, str, str]]:
    return [(Path(p.file).name, p.line, p.severity, p.message) for p in loaded.problems]


def starts(loaded: Loaded, year: int) -> list[tuple[str, bool]]:
    return [(e["start"], e["confirmed"]) for e in calendar_entries(loaded.schedules, year)]


# ---------------------------------------------------------------- dates: and confirmed_through:


@pytest.mark.parametrize(
    ("extra", "year", "expected"),
    [
        # No override: the rule, confirmed (no confirmed_through means the rule holds every year).
        ("", 2027, [("2027-10-20", True)]),
        # The organiser moved 2027 to the fourth Wednesday: the override wins for that year only.
        ("dates:\n  2027: October 27\n", 2027, [("2027-10-27", True)]),
        ("dates:\n  2027: October 27\n", 2028, [("2028-10-18", True)]),
        # Any `when` expression per year, e.g. a weekday rule.
        ("dates:\n  2027: fourth Wednesday of October\n", 2027, [("2027-10-27", True)]),
        # Past confirmed_through the rule is only a forecast, unless the year has an entry in dates:.
        ("confirmed_through: 2026\n", 2026, [("2026-10-21", True)]),
        ("confirmed_through: 2026\n", 2027, [("2027-10-20", False)]),
        ("confirmed_through: 2026\ndates:\n  2027: October 27\n", 2027, [("2027-10-27", True)]),
        ("confirmed_through: 2026\ndates:\n  2027: October 27\n", 2028, [("2028-10-18", False)]),
    ],
)
def test_dates_override_the_rule_and_confirmed_through_marks_forecasts(
    tmp_path: Path, extra: str, year: int, expected: list[tuple[str, bool]]
) -> None:
    loaded = load(tmp_path, {"awareness/unity.yaml": observance("third Wednesday of October", extra)})
    assert not loaded.errors(strict=False), messages(loaded)
    assert starts(loaded, year) == expected


@pytest.mark.parametrize(
    ("extra", "line", "message"),
    [
        ("dates:\n  27: October 27\n", 4, "'27' is not a year"),
        ("dates:\n  2027: Octember 27\n", 4, "unknown"),
        ("dates:\n  2027: February 29\n", 4, "'February 29' does not happen in 2027"),
        ("dates: October 27\n", 3, "dates must map a year to its date"),
        ("confirmed_through: soon\n", 3, "confirmed_through must be a year, found 'soon'"),
        ("tone: sad\n", 3, "tone 'sad' is not known"),
    ],
)
def test_mistakes_in_the_new_keys_are_errors_at_their_line(
    tmp_path: Path, extra: str, line: int, message: str
) -> None:
    loaded = load(tmp_path, {"awareness/day.yaml": observance("third Wednesday of October", extra)})
    errors = [(p.line, p.message) for p in loaded.errors(strict=False)]
    assert any(got_line == line and message.lower() in got.lower() for got_line, got in errors), errors
    assert not loaded.schedules.observances  # an observance with a wrong date is never posted


def test_validate_warns_ahead_of_an_unconfirmed_year_and_strict_refuses(tmp_path: Path) -> None:
    files = {"awareness/unity.yaml": observance("third Wednesday of October", "confirmed_through: 2026\n")}
    # 2027's Unity Day is October 20; the default warning window is 120 days.
    far = load(tmp_path, files, today=date(2027, 6, 1))
    assert not far.problems
    near = load(tmp_path, files, today=date(2027, 7, 1))
    [problem] = near.problems
    assert (problem.severity, problem.line) == ("warning", 1)
    assert problem.message == "the 2027 date of Test Day is not confirmed (forecast: October 20)"
    assert problem.hint == (
        "confirm the 2027 date at https://example.org/day, then add it under dates: (e.g. 2027: October 20)"
    )
    assert not near.errors(strict=False) and near.errors(strict=True)
    # The window is a setting.
    wider = load(
        tmp_path, {**files, "settings.yaml": SETTINGS + "confirm_dates_days: 200\n"}, today=date(2027, 6, 1)
    )
    assert [p.code for p in wider.problems] == ["unconfirmed-date"]


def test_upcoming_json_and_text_mark_unconfirmed_dates(tmp_path: Path) -> None:
    loaded = load(
        tmp_path,
        {"awareness/unity.yaml": observance("third Wednesday of October", "confirmed_through: 2026\n")},
    )
    for year, confirmed in ((2026, True), (2027, False)):
        [due] = due_between(loaded.schedules, *day_window(date(year, 10, 1), date(year, 10, 31), TZ))
        assert render_due(due, [])["confirmed"] is confirmed
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "bot",
            "upcoming",
            "--schedules",
            str(tmp_path / "schedules"),
            "--from",
            "2027-10-01",
            "--days",
            "31",
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert (
        "(date not yet confirmed by the organiser: check the source, then add the year under dates:)" in out
    )
    listing = subprocess.run(
        [
            sys.executable,
            "-m",
            "bot",
            "calendar",
            "--schedules",
            str(tmp_path / "schedules"),
            "--year",
            "2027",
            "--json",
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert [(e["start"], e["confirmed"]) for e in json.loads(listing)] == [("2027-10-20", False)]


# ---------------------------------------------------------------- solemn days

MOURNING = (
    "name: Day of Mourning\nwhen: March 1\ntone: solemn\nsource: https://example.org/mourning\n"
    "posts:\n  - text: We remember.\n"
)


@pytest.mark.parametrize(
    ("rel", "text", "line"),
    [
        ("awareness/month.yaml", observance("March"), 5),  # a month whose first post lands on March 1
        ("queue/2027.yaml", "posts:\n  - id: spring\n    at: 2027-03-01 10:00\n    text: Hello spring.\n", 2),
        (
            "recurring/monthly.yaml",
            'posts:\n  - id: monthly\n    cron: "0 12 1 * *"\n    texts:\n      - text: Our resources {date}.\n',
            2,
        ),
    ],
)
def test_a_post_on_a_solemn_day_is_a_warning_naming_both(
    tmp_path: Path, rel: str, text: str, line: int
) -> None:
    loaded = load(tmp_path, {"awareness/mourning.yaml": MOURNING, rel: text}, today=date(2026, 12, 3))
    clashes = [p for p in loaded.problems if p.code == "solemn-day"]
    assert [(Path(p.file).name, p.line) for p in clashes] == [(Path(rel).name, line)]
    [clash] = clashes
    assert clash.message.startswith("this post goes out on March 1, 2027, Day of Mourning (")
    assert clash.message.endswith("mourning.yaml), a day of mourning")
    assert clash.hint == "move it to another day: on a solemn day the bot posts only that day's own words"
    assert not loaded.errors(strict=False) and loaded.errors(strict=True)


def test_a_solemn_day_alone_and_a_post_the_day_after_are_quiet(tmp_path: Path) -> None:
    files = {
        "awareness/mourning.yaml": MOURNING,
        "awareness/month.yaml": (
            "name: Test Month\nwhen: March\nsource: https://example.org/month\nposts:\n  - day: 2\n"
            "    text: It's the month.\n"
        ),
    }
    loaded = load(tmp_path, files, today=date(2026, 12, 3))
    assert not loaded.problems
    assert [e["tone"] for e in calendar_entries(loaded.schedules, 2027)] == ["solemn", "default"]


# ---------------------------------------------------------------- texts by year and anniversaries

YEARLY = """\
name: ADA anniversary
when: July 26
source: https://www.ada.gov/topics/intro-to-ada/
posts:
  - texts:
      - text: The ADA became law on July 26, 1990.
      - text: "{years_since:1990} years ago today, the ADA became law: its {anniversary:1990} anniversary."
"""


@pytest.mark.parametrize(
    ("year", "text"),
    [
        (2026, "The ADA became law on July 26, 1990."),
        (2027, "37 years ago today, the ADA became law: its 37th anniversary."),
        (2028, "The ADA became law on July 26, 1990."),
        (2029, "39 years ago today, the ADA became law: its 39th anniversary."),
    ],
)
def test_texts_take_turns_year_by_year_with_anniversaries_filled_in(
    tmp_path: Path, year: int, text: str
) -> None:
    loaded = load(tmp_path, {"awareness/ada.yaml": YEARLY})
    assert not loaded.problems, messages(loaded)
    [due] = due_between(loaded.schedules, *day_window(date(year, 7, 26), date(year, 7, 26), TZ))
    assert due.draft.key == f"awareness/ada/{year}/1"
    assert render(due.draft, ids()[0]).startswith(text)


@pytest.mark.parametrize(
    ("n", "expected"),
    [
        (1, "1st"),
        (2, "2nd"),
        (3, "3rd"),
        (4, "4th"),
        (11, "11th"),
        (12, "12th"),
        (13, "13th"),
        (21, "21st"),
        (52, "52nd"),
        (101, "101st"),
        (111, "111th"),
        (112, "112th"),
    ],
)
def test_ordinals(n: int, expected: str) -> None:
    assert ordinal(n) == expected


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("{years_since:2030} years", "{years_since:2030} counts from a year still to come"),
        ("{since:1990} years", "unknown placeholder {since:1990}"),
        ("{years_since:90} years", "is not a placeholder"),
    ],
)
def test_broken_anniversary_placeholders_are_errors(tmp_path: Path, text: str, message: str) -> None:
    loaded = load(tmp_path, {"awareness/day.yaml": observance("July 26", text=f'"{text}"')})
    assert any(message in p.message for p in loaded.errors(strict=False)), messages(loaded)


def test_a_plain_http_source_is_a_warning(tmp_path: Path) -> None:
    text = observance("July 26").replace("https://example.org/day", "http://example.org/day")
    loaded = load(tmp_path, {"awareness/day.yaml": text})
    assert [(p.severity, p.code, p.line) for p in loaded.problems] == [("warning", "source-not-https", 3)]


def test_shipped_calendar_is_strict_clean_and_has_the_day_of_mourning() -> None:
    from bot.schedules import load_schedules as real_load

    root = Path(__file__).resolve().parents[1]
    loaded = real_load(root / "schedules", root / "content", today=date(2026, 12, 3))
    assert not loaded.errors(strict=True), [p.format(strict=True) for p in loaded.problems]
    entries = {e["id"]: e for e in calendar_entries(loaded.schedules, 2027)}
    assert entries["disability-day-of-mourning"]["tone"] == "solemn"
    assert entries["disability-day-of-mourning"]["start"] == "2027-03-01"
    # Nothing else posts on March 1, 2027.
    march_first = due_between(loaded.schedules, *day_window(date(2027, 3, 1), date(2027, 3, 1), TZ))
    assert [d.draft.key for d in march_first] == ["awareness/disability-day-of-mourning/2027/1"]
