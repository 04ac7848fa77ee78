"""`upcoming`, `calendar` and `changes` through the command line: JSON fields, DST offsets, year ends,
iCalendar read back with icalendar, BOT_SCHEDULES, and the Markdown a pull request gets."""

from __future__ import annotations

import json
import shutil
from datetime import date, datetime, timedelta
from pathlib import Path

import pytest
from icalendar import Calendar

from bot.cli import main

DATA = Path(__file__).parent / "data" / "schedules"
DST = str(DATA / "dst")


def run_json(capsys: pytest.CaptureFixture[str], *argv: str) -> list[dict[str, object]]:
    assert main(list(argv)) == 0
    data = json.loads(capsys.readouterr().out)
    assert isinstance(data, list)
    return data


def test_upcoming_json_fields_and_dst_offsets(capsys: pytest.CaptureFixture[str]) -> None:
    entries = run_json(
        capsys, "upcoming", "--schedules", DST, "--from", "2027-03-13", "--to", "2027-03-15", "--json"
    )
    assert [(e["at"], e["source"], e["name"]) for e in entries] == [
        ("2027-03-13T10:00:00-05:00", "awareness", "Spring Forward Days"),
        ("2027-03-14T10:00:00-04:00", "awareness", "Spring Forward Days"),
        ("2027-03-15T10:00:00-04:00", "awareness", "Spring Forward Days"),
    ]
    last = entries[2]
    assert str(last["file"]).endswith("tests/data/schedules/dst/awareness/spring-forward.yaml")
    text = "Last day of Spring Forward Days 2027.\n\nhttps://endseclusion.org/\n#EndSeclusion"
    assert last["posts"] == {
        "x": {"text": text, "length": 37 + 2 + 23 + 1 + 13, "limit": 280, "fits": True, "grade": None},
        "bluesky": {
            "text": text,
            "length": len(text),
            "limit": 300,
            "fits": True,
            "grade": None,  # too few words to grade
            "card": "https://endseclusion.org/",  # the bot builds Bluesky's link card: from this URL
        },
    }
    assert entries[1]["posts"]["x"]["text"] == "Second day, March 14, 2027."  # type: ignore[index]


def test_upcoming_november_change_and_evening_post(capsys: pytest.CaptureFixture[str]) -> None:
    entries = run_json(
        capsys, "upcoming", "--schedules", DST, "--from", "2027-11-06", "--days", "3", "--json"
    )
    assert [e["at"] for e in entries] == [
        "2027-11-06T10:00:00-04:00",
        "2027-11-07T10:00:00-05:00",
        "2027-11-08T18:30:00-05:00",
    ]


def test_upcoming_crosses_the_year_end_in_time_order(capsys: pytest.CaptureFixture[str]) -> None:
    entries = run_json(
        capsys, "upcoming", "--schedules", DST, "--from", "2027-12-31", "--to", "2028-01-01", "--json"
    )
    assert [(e["at"], e["source"]) for e in entries] == [
        ("2027-12-31T10:00:00-05:00", "awareness"),
        ("2027-12-31T23:30:00-05:00", "queue"),
        ("2028-01-01T00:30:00-05:00", "queue"),
        ("2028-01-01T09:00:00-05:00", "awareness"),
        ("2028-01-01T10:00:00-05:00", "recurring"),
    ]
    moments = [datetime.fromisoformat(str(e["at"])) for e in entries]
    assert moments == sorted(moments)
    assert entries[4]["posts"]["bluesky"]["text"] == "Reminder A for January 1, 2028."  # type: ignore[index]


def test_upcoming_text_output_and_days_default(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["upcoming", "--schedules", DST, "--from", "2027-03-13"]) == 0
    out = capsys.readouterr().out
    assert "2027-03-13T10:00:00-05:00  awareness  Spring Forward Days" in out
    assert "    x         49/280\n             First day of Spring Forward Days, March 13, 2027.\n" in out
    assert out.rstrip().endswith("post(s) from 2027-03-13 to 2027-04-11 (America/New_York)")


def test_bot_schedules_is_honoured_by_upcoming_and_calendar(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("BOT_SCHEDULES", DST)
    entries = run_json(capsys, "upcoming", "--from", "2027-11-06", "--days", "1", "--json")
    assert [e["name"] for e in entries] == ["Fall Back Days"]
    assert [e["name"] for e in run_json(capsys, "calendar", "--year", "2027", "--json")] == [
        "Spring Forward Days",
        "Fall Back Days",
        "Year End Span",
    ]


def test_calendar_json_has_inclusive_dates(capsys: pytest.CaptureFixture[str]) -> None:
    entries = run_json(capsys, "calendar", "--schedules", DST, "--year", "2027", "--json")
    assert [(e["name"], e["start"], e["end"]) for e in entries] == [
        ("Spring Forward Days", "2027-03-13", "2027-03-15"),
        ("Fall Back Days", "2027-11-06", "2027-11-08"),
        ("Year End Span", "2027-12-31", "2028-01-01"),
    ]
    assert all(
        str(e["file"]).startswith(DST) or "tests/data/schedules/dst/" in str(e["file"]) for e in entries
    )


def test_calendar_ics_reads_back_as_all_day_events(capsysbinary: pytest.CaptureFixture[bytes]) -> None:
    assert main(["calendar", "--schedules", DST, "--year", "2027", "--ics"]) == 0
    calendar = Calendar.from_ical(capsysbinary.readouterr().out)
    events = [(str(e["SUMMARY"]), e.decoded("DTSTART"), e.decoded("DTEND")) for e in calendar.walk("VEVENT")]
    assert events == [
        ("Spring Forward Days", date(2027, 3, 13), date(2027, 3, 16)),
        ("Fall Back Days", date(2027, 11, 6), date(2027, 11, 9)),
        ("Year End Span", date(2027, 12, 31), date(2028, 1, 2)),
    ]
    assert all(not isinstance(start, datetime) for _, start, _ in events)
    assert str(calendar["VERSION"]) == "2.0"
    assert len({str(e["UID"]) for e in calendar.walk("VEVENT")}) == 3


def test_shipped_calendar_has_idpd_on_december_3(capsys: pytest.CaptureFixture[str]) -> None:
    entries = run_json(capsys, "calendar", "--year", "2027", "--json")
    assert len(entries) >= 30
    idpd = [e for e in entries if e["name"] == "International Day of Persons with Disabilities"]
    assert [(e["start"], e["end"]) for e in idpd] == [("2027-12-03", "2027-12-03")]


# --------------------------------------------------------------------------------------------------- changes


def test_changes_lists_added_changed_and_removed_posts(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    base = tmp_path / "base"
    head = tmp_path / "head"
    shutil.copytree(DATA / "dst", base)
    shutil.copytree(DATA / "dst", head)
    (head / "awareness" / "world-braille-day.yaml").write_text(
        "name: World Braille Day\nwhen: January 4\nsource: https://www.un.org/en/observances/braille-day\n"
        "posts:\n  - text: Braille means literacy and independence for blind children.\n"
        "    hashtags: [WorldBrailleDay]\n",
        encoding="utf-8",
    )
    fall = head / "awareness" / "fall-back.yaml"
    fall.write_text(fall.read_text(encoding="utf-8").replace("Fall back two.", "Fall back two, edited."))
    queue = head / "queue" / "2027.yaml"
    queue.write_text(queue.read_text(encoding="utf-8").split("  - id: after-new-year")[0], encoding="utf-8")

    argv = ["changes", "--base", str(base), "--schedules", str(head), "--from", "2027-06-01", "--days", "400"]
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert out.startswith("## Scheduled posts changed by this pull request (2027-06-01 to 2028-07-04)\n")
    assert "1 added, 1 changed, 1 removed." in out
    assert "### Added: World Braille Day (`" in out
    assert "Next: Tue 2028-01-04 10:00" in out
    assert "**x**: 77/280 (fits)" in out  # 59 + blank line + "#WorldBrailleDay"
    assert (
        "```text\nBraille means literacy and independence for blind children.\n\n#WorldBrailleDay\n```" in out
    )
    assert "### Changed: Fall Back Days (`" in out
    assert "Next: Sun 2027-11-07 10:00\n" in out
    assert "Fall back two, edited." in out
    assert "Fall back one." not in out  # unchanged posts of the same observance are not listed
    assert "### Removed: after-new-year (`" in out
    assert "Was due: Sat 2028-01-01 00:30" in out
    assert out.index("### Added") < out.index("### Changed") < out.index("### Removed")


def test_changes_flags_too_long_text_and_says_when_nothing_changed(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    base = tmp_path / "base"
    shutil.copytree(DATA / "dst", base)
    assert main(["changes", "--base", str(base), "--schedules", DST, "--from", "2027-01-01"]) == 0
    assert "No post in this window is added, changed or removed." in capsys.readouterr().out

    head = tmp_path / "head"
    shutil.copytree(DATA / "dst", head)
    spring = head / "awareness" / "spring-forward.yaml"
    spring.write_text(spring.read_text().replace("Second day, {date}.", "Second day " + "x" * 300))
    assert main(["changes", "--base", str(base), "--schedules", str(head), "--from", "2027-01-01"]) == 0
    out = capsys.readouterr().out
    assert "**2 problem(s) in the schedules**" in out  # too long for X and for Bluesky
    assert "### Changed: Spring Forward Days" in out
    assert "**x**: 311/280 (**TOO LONG**)" in out  # "Second day " + 300
    assert "**bluesky**: 311/300 (**TOO LONG**)" in out


def test_changes_of_a_recurring_rule_is_one_changed_post(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    base = tmp_path / "base"
    head = tmp_path / "head"
    shutil.copytree(DATA / "dst", base)
    shutil.copytree(DATA / "dst", head)
    monthly = head / "recurring" / "monthly.yaml"
    monthly.write_text(monthly.read_text().replace("0 10 1 * *", "0 11 1 * *"))
    assert main(["changes", "--base", str(base), "--schedules", str(head), "--from", "2027-01-01"]) == 0
    out = capsys.readouterr().out
    assert "0 added, 1 changed, 0 removed." in out
    assert "Next: Fri 2027-01-01 11:00, Mon 2027-02-01 11:00" in out
    assert out.count("### ") == 1
    start = date(2027, 1, 1)
    assert f"({start} to {start + timedelta(days=399)})" in out
