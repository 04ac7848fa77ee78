"""Schedule loading: every class of mistake is reported at its exact ``path:line:column``, all at once, and no
input - however malformed - makes ``load_schedules`` raise."""

from __future__ import annotations

import random
import unicodedata
from datetime import date, time
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image as PILImage

from bot.planner import human_date
from bot.postchecks import LONGEST_DATE
from bot.problems import Problem
from bot.schedules import Loaded, load_schedules

TODAY = date(2026, 6, 1)
OBS = """\
name: Test Day
when: {when}
source: https://example.org/day
posts:
  - text: {text}
"""


def build(root: Path, files: dict[str, str | bytes]) -> None:
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(text if isinstance(text, bytes) else text.encode("utf-8"))


def load(tmp_path: Path, files: dict[str, str | bytes]) -> Loaded:
    build(tmp_path, files)
    (tmp_path / "content" / "images").mkdir(parents=True, exist_ok=True)
    PILImage.new("RGB", (4, 4)).save(tmp_path / "content" / "images" / "a.png")  # validate reads headers
    (tmp_path / "content" / "images" / "notes.txt").write_text("not an image")
    return load_schedules(tmp_path / "schedules", tmp_path / "content", today=TODAY)


def where(tmp_path: Path, problem: Problem) -> str:
    file = Path(problem.file)
    rel = file.relative_to(tmp_path / "schedules") if file.is_absolute() else file
    return f"{rel}:{problem.line}:{problem.column}"


def found(tmp_path: Path, loaded: Loaded) -> list[tuple[str, str, str]]:
    """(file:line:column, severity, message + hint) of every problem."""
    return [(where(tmp_path, p), p.severity, f"{p.message} (hint: {p.hint})") for p in loaded.problems]


def as_expected(actual: list[str], expected: list[str]) -> list[str]:
    """``actual`` positions, with the column dropped in files whose expected positions are ``file:line``.

    A contributor relies on the file and line; where the column depends on which layer caught the mistake
    (PyYAML 6.0.4's C scanner stops deep nesting at its own limit, 6.0.3 leaves it to ours), the table gives
    ``file:line`` only."""
    loose = {pos.rsplit(":", 1)[0] for pos in expected if pos.count(":") == 1}
    return [pos.rsplit(":", 1)[0] if pos.rsplit(":", 2)[0] in loose else pos for pos in actual]


def assert_problems(tmp_path: Path, loaded: Loaded, *expected: tuple[str, str]) -> None:
    """Exactly these errors (position, words the message contains), in this order; warnings are ignored."""
    errors = [(w, m) for w, severity, m in found(tmp_path, loaded) if severity == "error"]
    wanted = [w for w, _ in expected]
    assert as_expected([w for w, _ in errors], wanted) == wanted, errors
    for (_, message), (_, words) in zip(errors, expected, strict=True):
        assert words in message, (message, words)


# --------------------------------------------------------------------------------------------- the tables

CASES: dict[str, tuple[dict[str, str | bytes], list[tuple[str, str]]]] = {
    "unknown keys, with did-you-mean": (
        {
            "schedules/awareness/a.yaml": "name: A\nwhen: May 1\nsource: https://e.org/\nhashtag: [X]\n"
            "posts:\n"
            "  - text: hi\n    tme: '10:00'\n",
            "schedules/settings.yaml": "timezone: America/New_York\nnetwork: [x]\nfeed:\n  pol_minutes: 5\n",
        },
        [
            (
                "awareness/a.yaml:4:1",
                "unknown key 'hashtag' in an observance (hint: did you mean 'hashtags'?)",
            ),
            ("awareness/a.yaml:7:5", "unknown key 'tme' in a post (hint: did you mean 'time'?)"),
            ("settings.yaml:2:1", "unknown key 'network' in settings (hint: did you mean 'networks'?)"),
            (
                "settings.yaml:4:3",
                "unknown key 'pol_minutes' in feed settings (hint: did you mean 'poll_minutes'?)",
            ),
        ],
    ),
    "wrong types": (
        {
            "schedules/awareness/a.yaml": "name: [A]\nwhen: May 1\nsource: https://e.org/\nposts:\n"
            "  - text: {a: 1}\n    day: two\n    time: 25:00\n    hashtags: {a: b}\n",
            "schedules/awareness/b.yaml": OBS.format(when="May 1", text="{name} is today"),
            "schedules/settings.yaml": "grace_hours: lots\npaused: maybe\nfeed:\n  poll_minutes: 0\n"
            "  max_per_poll: 1.5\nx:\n  monthly_budget_usd: .nan\n",
        },
        [
            ("awareness/a.yaml:1:7", "name must be plain text, found a list"),
            ("awareness/a.yaml:5:11", "text must be plain text, found a mapping (hint: put text that starts"),
            ("awareness/a.yaml:6:10", "day 'two' is not a day of the observance"),
            ("awareness/a.yaml:7:11", "time '25:00' is not a time of day"),
            ("awareness/a.yaml:8:15", "hashtags must be a list, found a mapping"),
            (
                "awareness/b.yaml:5:18",
                "not valid YAML: did not find expected key (hint: check indentation, and",
            ),
            ("settings.yaml:1:14", "grace_hours must be a number of zero or more, found 'lots'"),
            ("settings.yaml:2:9", "paused must be true or false, found 'maybe'"),
            ("settings.yaml:4:17", "poll_minutes must be at least 1"),
            ("settings.yaml:5:17", "max_per_poll must be a whole number, found '1.5'"),
            ("settings.yaml:7:23", "monthly_budget_usd must be a number of zero or more"),
        ],
    ),
    "bad when rules point inside the rule": (
        {
            "schedules/awareness/a.yaml": OBS.format(when="third Thursdy of May", text="hi"),
            "schedules/awareness/b.yaml": OBS.format(when='"Decembr 3"', text="hi"),
            "schedules/awareness/c.yaml": OBS.format(when="February 30", text="hi"),
            "schedules/awareness/d.yaml": OBS.format(when="'sixth Monday of May'", text="hi"),
            "schedules/awareness/e.yaml": OBS.format(when="May 1 for 0 days", text="hi"),
            "schedules/awareness/f.yaml": OBS.format(when="3rd Monday of May", text="hi"),
        },
        [
            ("awareness/a.yaml:2:13", "unknown weekday 'Thursdy' (did you mean Thursday?)"),
            ("awareness/b.yaml:2:8", "unknown month 'Decembr' (did you mean December?)"),
            ("awareness/c.yaml:2:16", "'February 30' can never happen"),
            ("awareness/d.yaml:2:8", "sixth"),
            ("awareness/e.yaml:2:17", "can never happen"),
            ("awareness/f.yaml:2:7", "write numbers without 'st', 'nd', 'rd' or 'th'"),
        ],
    ),
    "unknown time zone and bad settings times and dates": (
        {
            "schedules/settings.yaml": "timezone: America/NewYork\ndefault_time: '7pm'\n"
            "blackout: [2026-13-01, "
            "'Dec 25']\nnetworks: [x, myspace]\n",
        },
        [
            ("settings.yaml:1:11", "unknown time zone 'America/NewYork' (hint: use an IANA name"),
            ("settings.yaml:2:15", "default_time '7pm' is not a time of day"),
            ("settings.yaml:3:12", "not a date (hint: write YYYY-MM-DD"),
            ("settings.yaml:3:24", "blackout date 'Dec 25' is not a date"),
            ("settings.yaml:4:15", "unknown network 'myspace'"),
        ],
    ),
    "duplicate ids in queue and recurring files": (
        {
            "schedules/queue/a.yaml": "posts:\n  - id: one\n    at: '2027-01-05 10:00'\n    text: hi {date}\n"
            "  - id: one\n    at: '2027-01-06 10:00'\n    text: hi two\n",
            "schedules/queue/b.yaml": "posts:\n  - id: one\n    at: '2027-01-07 10:00'\n    text: hi three\n",
            "schedules/recurring/r.yaml": "posts:\n  - id: weekly\n    cron: '0 10 * * mon'\n    texts:\n"
            "      - text: a {date}\n  - id: weekly\n    cron: '0 11 * * tue'\n    texts:\n"
            "      - text: b {date}\n",
        },
        [
            ("queue/a.yaml:5:9", "duplicate id 'one' (also at "),
            ("queue/b.yaml:2:9", "duplicate id 'one' (also at "),
            ("recurring/r.yaml:6:9", "duplicate id 'weekly' (also at "),
        ],
    ),
    "missing source, name, when and posts; empty posts": (
        {
            "schedules/awareness/a.yaml": "name: A\nwhen: May 1\nposts: []\n",
            "schedules/awareness/b.yaml": "when: May 1\nsource: x\n",
            "schedules/awareness/c.yaml": "name: C\nsource: x\nposts:\n  - text:\n",
            "schedules/queue/q.yaml": "posts: []\n",
        },
        [
            ("awareness/a.yaml:1:1", "source is missing"),
            ("awareness/a.yaml:3:8", "posts is empty"),
            ("awareness/b.yaml:1:1", "name is missing"),
            ("awareness/b.yaml:1:1", "observance has no posts"),
            ("awareness/c.yaml:1:1", "when is missing"),
            ("awareness/c.yaml:4:10", "text is empty"),
            ("queue/q.yaml:1:8", "posts is empty"),
        ],
    ),
    "images: missing, not found, not an image, no alt, over-long alt, too many": (
        {
            "schedules/awareness/a.yaml": OBS.format(when="May 1", text="hi")
            + "    images:\n      - file: images/nope.png\n        alt: A photo.\n"
            "      - file: images/a.png\n"
            "      - file: images/a.png\n        alt: ''\n"
            "  - text: one\n    images:\n"
            "      - file: images/notes.txt\n        alt: Notes.\n"
            "      - file: images/a.png\n        alt: " + "x" * 1001 + "\n"
            "  - text: two\n    images: images/a.png\n"
            "  - text: three\n    images:\n" + "      - {file: images/a.png, alt: A.}\n" * 5,
        },
        [
            ("awareness/a.yaml:7:15", "image 'images/nope.png' not found under"),
            ("awareness/a.yaml:9:9", "alt text is missing (hint: add 'alt:'; describe what the image shows"),
            ("awareness/a.yaml:11:14", "alt text is empty (hint: describe what the image shows, for followers who"),
            ("awareness/a.yaml:14:15", "'images/notes.txt' is not a PNG, JPEG, GIF or WebP image"),
            ("awareness/a.yaml:17:14", "alt text is 1001 characters; the limit is 1000"),
            ("awareness/a.yaml:19:13", "images must be a list"),
            ("awareness/a.yaml:22:7", "5 images; a post can carry at most 4"),
        ],
    ),
    "text too long for X (weighted, URL = 23) and for Bluesky (graphemes)": (
        {
            # 251 letters + blank line (2) + link (23) + newline (1) + "#Ab" (3) = 280: fits X exactly.
            "schedules/queue/fits.yaml": "posts:\n  - id: fits\n    at: '2027-01-05 10:00'\n    text: "
            + "a" * 251
            + "\n    link: https://endseclusion.org/a/very/long/path/that/counts/as/twenty-three\n"
            "    hashtags: [Ab]\n    bluesky: short\n",
            "schedules/queue/long.yaml": "posts:\n  - id: long\n    at: '2027-01-05 10:00'\n    text: "
            + "a" * 252
            + "\n    link: https://endseclusion.org/\n    hashtags: [Ab]\n"
            "  - id: cjk\n    at: '2027-01-06 10:00'\n    text: " + "日" * 141 + "\n    bluesky: short\n"
            "  - id: sky\n    at: '2027-01-07 10:00'\n    text: short\n    bluesky: " + "b" * 301 + "\n",
        },
        [
            ("queue/long.yaml:4:11", "text is too long for x: 281/280 weighted characters (links count 23)"),
            ("queue/long.yaml:9:11", "text is too long for x: 282/280"),
            ("queue/long.yaml:14:14", "text is too long for bluesky: 301/300 graphemes"),
        ],
    ),
    "template placeholders: unknown and broken": (
        {
            "schedules/awareness/a.yaml": OBS.format(when="May 1", text="'Happy {nmae}!'")
            + "  - text: 'Happy {name'\n  - text: 'a } b'\n  - text: 'ok {{literal}} {year} {date} {link}'\n",
            "schedules/settings.yaml": "feed:\n  template: 'New: {titel}'\n",
        },
        [
            ("awareness/a.yaml:5:11", "unknown placeholder {nmae}"),
            ("awareness/a.yaml:6:11", "broken template"),
            ("awareness/a.yaml:7:11", "broken template"),
            ("settings.yaml:2:13", "unknown placeholder {titel}"),
            ("settings.yaml:2:13", "feed template does not use {title}"),
        ],
    ),
    "bad times and dates; queue at in a DST gap; dates out of range": (
        {
            "schedules/queue/q.yaml": "posts:\n"
            "  - {id: gap, at: '2027-03-14 02:30', text: a}\n"
            "  - {id: bad, at: '2027-02-30 10:00', text: b}\n"
            "  - {id: tz, at: '2027-01-05T10:00+01:00', text: c}\n"
            "  - {id: old, at: '1999-01-05 10:00', text: d}\n"
            "  - {id: noat, text: e}\n"
            "  - {id: listat, at: [1], text: f}\n",
            "schedules/recurring/r.yaml": "posts:\n  - id: r\n    cron: '0 10 * * mon'\n"
            "    start: 2027-05-01\n"
            "    end: 2027-01-01\n    texts: [{text: 'a {date}'}]\n",
        },
        [
            ("queue/q.yaml:2:19", "2027-03-14 02:30 does not exist in America/New_York (clocks jump forward"),
            ("queue/q.yaml:3:19", "'2027-02-30 10:00' is not a date and time"),
            ("queue/q.yaml:4:18", "write the local time without a UTC offset"),
            ("queue/q.yaml:5:19", "the year 1999 is out of range"),
            ("queue/q.yaml:6:5", "queued post has no 'at:'"),
            ("queue/q.yaml:7:22", "'at' must be a date and time, found a list"),
            ("recurring/r.yaml:5:10", "end is before start"),
        ],
    ),
    "cron: wrong fields, invalid values, never fires, more than daily": (
        {
            "schedules/recurring/r.yaml": "posts:\n"
            "  - {id: a, cron: '0 10 * *', texts: [{text: 'a {date}'}]}\n"
            "  - {id: b, cron: '0 25 * * *', texts: [{text: 'b {date}'}]}\n"
            "  - {id: c, cron: '0 10 31 2 *', texts: [{text: 'c {date}'}]}\n"
            "  - {id: d, cron: '0 10,11 * * *', texts: [{text: 'd {date}'}]}\n"
            "  - {id: e, cron: '0 0,23 * * *', texts: [{text: 'e {date}'}]}\n"
            "  - {id: f, cron: '0 10 * * mon', texts: []}\n",
        },
        [
            ("recurring/r.yaml:2:19", "needs 5 fields"),
            ("recurring/r.yaml:3:19", "is not valid"),
            ("recurring/r.yaml:4:19", "never fires"),
            ("recurring/r.yaml:5:19", "would post more than once a day"),
            ("recurring/r.yaml:6:19", "would post more than once a day"),
            ("recurring/r.yaml:7:42", "needs 'texts:'"),
        ],
    ),
    "stray files, .yml files, files outside the folders": (
        {
            "schedules/awareness/world-day.yml": OBS.format(when="May 1", text="hi"),
            "schedules/awareness/notes.txt": "hello",
            "schedules/queue/Bad_Name.yaml": "posts:\n  - {id: x, at: '2027-01-05 10:00', text: hi}\n",
            "schedules/awareness/Bad_Name.yaml": OBS.format(when="May 1", text="hi"),
            "schedules/extra.yaml": "a: 1\n",
        },
        [
            ("awareness/Bad_Name.yaml:1:1", "file name 'Bad_Name.yaml' is not a valid id"),
            ("awareness/notes.txt:1:1", "unexpected file in awareness/"),
            (
                "awareness/world-day.yml:1:1",
                "schedule files must end in .yaml (hint: rename it to world-day.yaml)",
            ),
            ("extra.yaml:1:1", "file is not read by the bot"),
        ],
    ),
    "unreadable files: empty, tabs, binary, invalid UTF-8, YAML bomb, deep nesting": (
        {
            "schedules/awareness/empty.yaml": "",
            "schedules/awareness/comments.yaml": "# nothing here\n",
            "schedules/awareness/tabs.yaml": "name: x\n\twhen: May 1\n",
            "schedules/awareness/binary.yaml": b"\x89PNG\r\n\x1a\n\x00\x00\x00",
            "schedules/awareness/latin1.yaml": "name: Caf\xe9\n".encode("latin-1"),
            "schedules/awareness/bomb.yaml": 'a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]\n'
            + "".join(
                f"{c}: &{c} [" + ",".join([f"*{p}"] * 9) + "]\n"
                for p, c in zip("abcdefgh", "bcdefghi", strict=True)
            ),
            "schedules/awareness/deep.yaml": "a: " + "[" * 100_000 + "]" * 100_000 + "\n",
            "schedules/awareness/dashes.yaml": "- " * 100_000 + "x\n",
            "schedules/awareness/twodocs.yaml": "a: 1\n---\nb: 2\n",
            "schedules/awareness/tagged.yaml": "name: !!python/object:os.system x\n",
            "schedules/awareness/control.yaml": "name: a\x07b\n",
        },
        [
            ("awareness/binary.yaml:1:1", "this is a binary file, not YAML text"),
            ("awareness/bomb.yaml:6:11", "file expands to too many values"),
            ("awareness/comments.yaml:1:1", "file is empty"),
            ("awareness/control.yaml:1:1", "not valid YAML"),
            ("awareness/dashes.yaml:1:101", "nested more than 50 levels deep"),
            (
                "awareness/deep.yaml:1",
                "values nested more than 50 levels deep (hint: schedule files need only",
            ),
            ("awareness/empty.yaml:1:1", "file is empty"),
            (
                "awareness/latin1.yaml:1:10",
                "file is not valid UTF-8 (byte 9) (hint: save the file with UTF-8",
            ),
            ("awareness/tabs.yaml:2:1", "YAML does not allow tabs for indentation: use spaces"),
            ("awareness/tagged.yaml:1:7", "could not determine a constructor"),
            ("awareness/twodocs.yaml:2:1", "more than one YAML document"),
        ],
    ),
    "a list where a mapping belongs, a mapping where a list belongs": (
        {
            "schedules/awareness/a.yaml": "- name: A\n- when: May 1\n",
            "schedules/awareness/b.yaml": "name: B\nwhen: May 1\nsource: x\nposts:\n  text: hi\n",
            "schedules/awareness/c.yaml": "name: C\nwhen: May 1\nsource: x\nposts:\n  - [text, hi]\n",
            "schedules/queue/q.yaml": "posts:\n  - - id: x\n",
            "schedules/settings.yaml": "feed: [a]\nx: 3\nbluesky: [1]\n",
        },
        [
            ("awareness/a.yaml:1:1", "expected a mapping of keys at the top of the file, found a list"),
            ("awareness/b.yaml:5:3", "posts must be a list"),
            ("awareness/c.yaml:5:5", "each post must be a mapping"),
            ("queue/q.yaml:2:5", "each post must be a mapping"),
            ("settings.yaml:1:7", "feed: must be a mapping"),
            ("settings.yaml:2:4", "x: must be a mapping"),
            ("settings.yaml:3:10", "bluesky: must be a mapping"),
        ],
    ),
    "deeply nested junk and odd keys": (
        {
            "schedules/awareness/a.yaml": "name: {a: {b: {c: [1, [2, [3, {d: e}]]]}}}\n"
            "when: May 1\nsource: x\n"
            "posts:\n  - text: hi\n",
            "schedules/awareness/b.yaml": "? [a, b]\n: c\n",
            "schedules/awareness/c.yaml": "name: C\nname: D\n",
            "schedules/awareness/d.yaml": "a: &x [*x]\n",
            "schedules/awareness/e.yaml": "base: &b {name: E}\nother:\n  <<: *b\n",
        },
        [
            ("awareness/a.yaml:1:7", "name must be plain text, found a mapping"),
            ("awareness/b.yaml:1:3", "a key must be plain text"),
            ("awareness/c.yaml:2:1", "key 'name' appears twice in the same block"),
            ("awareness/d.yaml:1:8", "alias *x refers to no finished anchor"),
            ("awareness/e.yaml:3:3", "'<<' merge keys are not supported"),
        ],
    ),
    "day outside the observance; ids and links": (
        {
            "schedules/awareness/a.yaml": OBS.format(when="May 1 for 3 days", text="hi")
            + "    day: 4\n  - text: two\n    day: -4\n"
            "  - text: three\n    day: last\n    link: endseclusion\n",
            "schedules/queue/q.yaml": "posts:\n  - {id: Not_OK, at: '2027-01-05 10:00', text: hi}\n",
        },
        [
            ("awareness/a.yaml:6:10", "day 4 is outside the observance ('May 1 for 3 days')"),
            ("awareness/a.yaml:8:10", "day -4 is outside the observance"),
            ("awareness/a.yaml:11:11", "link 'endseclusion' is not a web address"),
            ("queue/q.yaml:2:10", "id 'Not_OK' is not valid"),
        ],
    ),
}


@pytest.mark.parametrize("name", list(CASES))
def test_each_mistake_is_reported_where_it_is(tmp_path: Path, name: str) -> None:
    files, expected = CASES[name]
    assert_problems(tmp_path, load(tmp_path, files), *expected)


def test_all_problems_of_all_files_are_reported_at_once(tmp_path: Path) -> None:
    """Every awareness file of every case above in one tree: each of their errors, none lost or added."""
    files: dict[str, str | bytes] = {}
    expected: list[str] = []
    for number, (case_files, case_expected) in enumerate(CASES.values()):
        for rel, text in case_files.items():
            if rel.startswith("schedules/awareness/"):
                files[rel.replace("awareness/", f"awareness/c{number}-")] = text
        expected += [
            pos.replace("awareness/", f"awareness/c{number}-")
            for pos, _ in case_expected
            if pos.startswith("awareness/")
        ]
    loaded = load(tmp_path, files)
    assert sorted(as_expected([where(tmp_path, p) for p in loaded.errors()], expected)) == sorted(expected)


def test_valid_files_load_next_to_broken_ones(tmp_path: Path) -> None:
    loaded = load(
        tmp_path,
        {
            "schedules/awareness/good.yaml": OBS.format(when="December 3", text="Hello {name}")
            + "    day: last\n    time: '18:30'\n",
            "schedules/awareness/bad.yaml": OBS.format(when="Decembr 3", text="hi"),
        },
    )
    assert [o.id for o in loaded.schedules.observances] == ["good"]
    post = loaded.schedules.observances[0].posts[0]
    assert (post.day, post.time) == (-1, time(18, 30))
    assert len(loaded.errors()) == 1


def test_missing_schedules_folder_is_a_problem_not_a_crash(tmp_path: Path) -> None:
    loaded = load_schedules(tmp_path / "nope", tmp_path / "content", today=TODAY)
    assert [p.message for p in loaded.problems] == ["schedules folder not found"]


def test_ambiguous_fall_back_time_is_a_warning(tmp_path: Path) -> None:
    loaded = load(
        tmp_path, {"schedules/queue/q.yaml": "posts:\n  - {id: a, at: '2027-11-07 01:30', text: hi}\n"}
    )
    assert found(tmp_path, loaded) == [
        (
            "queue/q.yaml:2:17",
            "warning",
            "2027-11-07 01:30 happens twice in America/New_York (clocks go back that night);"
            " the post goes out at the first (hint: pick a time outside 01:00-02:00 to be clear)",
        )
    ]
    assert loaded.schedules.queue[0].at.utcoffset() is not None
    assert loaded.schedules.queue[0].at.fold == 0


# ------------------------------------------------------------------------------------ accessibility lint

LINT = {
    "hashtag-case": ("Join us. #restraintandseclusion", "#RestraintAndSeclusion"),
    "emoji-count": ("We did it \U0001f389\U0001f389\U0001f389\U0001f389\U0001f389", "keep to 3 or fewer"),
    "all-caps": ("This is URGENT for every family", 'write "Urgent"'),
    "link-text": ("Read our letters, click here", "say where the link goes"),
}


@pytest.mark.parametrize("code", list(LINT))
def test_accessibility_findings_are_warnings_with_a_hint(tmp_path: Path, code: str) -> None:
    text, hint_words = LINT[code]
    loaded = load(tmp_path, {"schedules/awareness/a.yaml": OBS.format(when="May 1", text=f"'{text}'")})
    warnings = [p for p in loaded.problems if p.severity == "warning"]
    assert [(where(tmp_path, p), p.code) for p in warnings] == [("awareness/a.yaml:5:11", code)]
    assert hint_words in (warnings[0].hint or "")
    assert loaded.errors() == []
    assert loaded.errors(strict=True) == warnings
    assert warnings[0].format(strict=True).split(": ")[1] == "error"


def test_hashtags_in_the_hashtags_list_are_linted_too(tmp_path: Path) -> None:
    loaded = load(
        tmp_path,
        {
            "schedules/awareness/a.yaml": OBS.format(when="May 1", text="hi")
            + "    hashtags: [endseclusion]\n"
        },
    )
    assert [(where(tmp_path, p), p.severity, p.code) for p in loaded.problems] == [
        ("awareness/a.yaml:6:16", "warning", "hashtag-case")
    ]


# --------------------------------------------------------------------------------- no input ever raises

YAMLISH = st.lists(
    st.sampled_from(
        [*"abcdMay 12:-[]{},&*!|>'\"#\n\t\\?%@`~.", "name: ", "when: ", "posts:\n  - ", "text: ", "\x00", "é"]
    ),
    max_size=120,
).map("".join)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.one_of(st.binary(max_size=300), YAMLISH.map(lambda s: s.encode("utf-8"))))
def test_load_schedules_never_raises(tmp_path: Path, data: bytes) -> None:
    for folder in ("awareness", "queue", "recurring"):
        target = tmp_path / "schedules" / folder
        target.mkdir(parents=True, exist_ok=True)
        (target / "fuzz.yaml").write_bytes(data)
    (tmp_path / "schedules" / "settings.yaml").write_bytes(data)
    loaded = load_schedules(tmp_path / "schedules", tmp_path / "content", today=TODAY)
    for problem in loaded.problems:
        assert problem.line >= 1 and problem.column >= 1
        assert "\n" not in problem.format()


def mutate(text: str, rng: random.Random) -> str:
    """A valid file with a few characters deleted, duplicated or swapped for YAML punctuation."""
    chars = list(text)
    for _ in range(rng.randint(1, 4)):
        i = rng.randrange(len(chars))
        op = rng.randrange(3)
        if op == 0:
            del chars[i]
        elif op == 1:
            chars.insert(i, chars[i])
        else:
            chars[i] = rng.choice(list(":-[]{}&*!|>'\"#\n\t "))
    return "".join(chars)


def test_mutated_real_schedules_never_raise(tmp_path: Path) -> None:
    shipped = Path(__file__).resolve().parents[1] / "schedules"
    sources = sorted(shipped.rglob("*.yaml"))
    rng = random.Random(20261203)
    for round_ in range(60):
        root = tmp_path / f"r{round_}" / "schedules"
        for source in sources:
            rel = source.relative_to(shipped)
            target = root / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(mutate(source.read_text(encoding="utf-8"), rng), encoding="utf-8")
        load_schedules(root, tmp_path / "content", today=TODAY)


def test_longest_date_is_the_longest_human_date() -> None:
    lengths = {len(human_date(date(2026, m, d))) for m in range(1, 13) for d in (1, 9, 10, 28)}
    assert max(lengths) == len(LONGEST_DATE)
    assert unicodedata.is_normalized("NFC", LONGEST_DATE)
