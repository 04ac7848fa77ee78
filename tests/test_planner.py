"""The planner: what is due in a window, with stable ledger keys, local times across DST, and recurring texts
that rotate the same way whatever window is asked for."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from bot.planner import day_window, due_between, human_date, local_instant
from bot.schedules import Schedules, load_schedules

DATA = Path(__file__).parent / "data" / "schedules"
NY = ZoneInfo("America/New_York")
TODAY = date(2026, 6, 1)


def fixture(name: str = "dst") -> Schedules:
    loaded = load_schedules(DATA / name, DATA / "content", today=TODAY)
    assert loaded.errors() == []
    return loaded.schedules


def tree(tmp_path: Path, files: dict[str, str]) -> Schedules:
    for rel, text in files.items():
        path = tmp_path / "schedules" / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    loaded = load_schedules(tmp_path / "schedules", tmp_path / "content", today=TODAY)
    assert loaded.errors() == [], loaded.errors()
    return loaded.schedules


def due(schedules: Schedules, first: date, last: date) -> list[tuple[str, str]]:
    start, end = day_window(first, last, schedules.settings.timezone)
    return [(d.at.isoformat(timespec="minutes"), d.draft.key) for d in due_between(schedules, start, end)]


def test_keys_and_times_for_every_source_in_time_order() -> None:
    got = due(fixture(), date(2027, 12, 30), date(2028, 1, 2))
    assert got == [
        ("2027-12-31T10:00-05:00", "awareness/new-year-span/2027/1"),
        ("2027-12-31T23:30-05:00", "queue/late-december"),
        ("2028-01-01T00:30-05:00", "queue/after-new-year"),
        ("2028-01-01T09:00-05:00", "awareness/new-year-span/2027/2"),
        ("2028-01-01T10:00-05:00", "recurring/monthly/2028-01-01T10:00"),
    ]


@pytest.mark.parametrize(
    ("first", "expected"),
    [
        (
            date(2027, 3, 13),
            [
                ("2027-03-13T10:00-05:00", "awareness/spring-forward/2027/1"),
                ("2027-03-14T10:00-04:00", "awareness/spring-forward/2027/2"),
                ("2027-03-15T10:00-04:00", "awareness/spring-forward/2027/3"),
            ],
        ),
        (
            date(2027, 11, 6),
            [
                ("2027-11-06T10:00-04:00", "awareness/fall-back/2027/1"),
                ("2027-11-07T10:00-05:00", "awareness/fall-back/2027/2"),
                ("2027-11-08T18:30-05:00", "awareness/fall-back/2027/3"),
            ],
        ),
    ],
)
def test_ten_oclock_stays_ten_oclock_across_dst(first: date, expected: list[tuple[str, str]]) -> None:
    assert due(fixture(), first, first + timedelta(days=2)) == expected


def test_window_edges_are_inclusive_local_days() -> None:
    schedules = fixture()
    assert due(schedules, date(2027, 12, 31), date(2027, 12, 31)) == [
        ("2027-12-31T10:00-05:00", "awareness/new-year-span/2027/1"),
        ("2027-12-31T23:30-05:00", "queue/late-december"),
    ]
    assert due(schedules, date(2028, 1, 1), date(2028, 1, 1))[0] == (
        "2028-01-01T00:30-05:00",
        "queue/after-new-year",
    )


def test_day_first_last_negative_and_per_post_time(tmp_path: Path) -> None:
    schedules = tree(
        tmp_path,
        {
            "settings.yaml": "default_time: '08:15'\n",
            "awareness/week.yaml": "name: Week\nwhen: first full week of October\nsource: https://e.org/\n"
            "posts:\n  - text: first\n  - day: first\n    time: '12:00'\n    text: first at noon\n"
            "  - day: 3\n    text: third\n  - day: last\n    text: last\n"
            "  - day: -2\n    text: next to last\n",
        },
    )
    # First full week of October 2027: Sunday 3 to Saturday 9.
    assert due(schedules, date(2027, 10, 1), date(2027, 10, 31)) == [
        ("2027-10-03T08:15-04:00", "awareness/week/2027/1"),
        ("2027-10-03T12:00-04:00", "awareness/week/2027/2"),
        ("2027-10-05T08:15-04:00", "awareness/week/2027/3"),
        ("2027-10-08T08:15-04:00", "awareness/week/2027/5"),
        ("2027-10-09T08:15-04:00", "awareness/week/2027/4"),
    ]


def test_template_values_are_the_occurrences_own() -> None:
    schedules = fixture()
    start, end = day_window(date(2027, 3, 13), date(2027, 3, 15), NY)
    drafts = [d.draft for d in due_between(schedules, start, end)]
    assert drafts[1].context["date"] == "March 14, 2027"
    assert drafts[2].context["year"] == "2027"
    assert drafts[2].link == "https://endseclusion.org/"
    assert drafts[2].hashtags == ("EndSeclusion",)


def test_recurring_rotation_is_stable_across_windows() -> None:
    schedules = fixture()
    whole = {
        d.draft.key: d.draft.text
        for d in due_between(schedules, *day_window(date(2027, 1, 1), date(2028, 12, 31), NY))
        if d.draft.source == "recurring"
    }
    assert list(whole.values())[:4] == [
        "Reminder A for {date}.",
        "Reminder B for {date}.",
        "Reminder C for {date}.",
        "Reminder A for {date}.",
    ]
    for month in range(1, 13):
        day = date(2027, month, 1)
        alone = due_between(schedules, *day_window(day, day, NY))
        assert [(d.draft.key, d.draft.text) for d in alone if d.draft.source == "recurring"] == [
            (f"recurring/monthly/{day:%Y-%m-%d}T10:00", whole[f"recurring/monthly/{day:%Y-%m-%d}T10:00"])
        ]


def test_recurring_start_and_end_bound_the_occurrences() -> None:
    keys = [k for _, k in due(fixture(), date(2026, 1, 1), date(2028, 12, 31)) if k.startswith("recurring/")]
    assert keys[0] == "recurring/monthly/2027-01-01T10:00"
    assert keys[-1] == "recurring/monthly/2028-02-01T10:00"
    assert len(keys) == 14


def test_recurring_without_start_counts_from_the_anchor(tmp_path: Path) -> None:
    files = {
        "recurring/r.yaml": "posts:\n  - id: weekly\n    cron: '0 9 * * mon'\n    texts:\n"
        "      - text: one {date}\n      - text: two {date}\n",
    }
    schedules = tree(tmp_path, files)
    start, end = day_window(date(2027, 6, 1), date(2027, 6, 30), NY)
    texts = [d.draft.text for d in due_between(schedules, start, end)]
    # Mondays from 2026-01-05 to 2027-06-07 number 75 (index 74, even) -> "one" first.
    assert texts == ["one {date}", "two {date}", "one {date}", "two {date}"]


def test_occurrences_in_a_year_without_them_are_skipped(tmp_path: Path) -> None:
    schedules = tree(
        tmp_path,
        {
            "awareness/leap.yaml": "name: Leap\nwhen: February 29\nsource: x\nposts:\n  - text: leap\n",
            "awareness/fifth.yaml": "name: Fifth\nwhen: fifth Monday of February\nsource: x\nposts:\n"
            "  - text: five\n",
        },
    )
    # No February from 2027 to 2029 has five Mondays (the next is 2044's); only 2028 has a 29th.
    assert due(schedules, date(2027, 1, 1), date(2029, 12, 31)) == [
        ("2028-02-29T10:00-05:00", "awareness/leap/2028/1")
    ]
    assert due(schedules, date(2044, 2, 1), date(2044, 2, 29)) == [
        ("2044-02-29T10:00-05:00", "awareness/fifth/2044/1"),
        ("2044-02-29T10:00-05:00", "awareness/leap/2044/1"),
    ]


def test_local_instant_moves_a_skipped_time_forward() -> None:
    at = local_instant(date(2027, 3, 14), time(2, 30), NY)
    assert at.isoformat() == "2027-03-14T03:30:00-04:00"
    assert local_instant(date(2027, 11, 7), time(1, 30), NY).utcoffset() == timedelta(hours=-4)


def test_human_date_and_day_window() -> None:
    assert human_date(date(2027, 9, 30)) == "September 30, 2027"
    start, end = day_window(date(2027, 3, 14), date(2027, 3, 14), NY)
    assert end.astimezone(UTC) - start.astimezone(UTC) == timedelta(hours=23, microseconds=-1)
    assert start == datetime(2027, 3, 14, tzinfo=NY)
