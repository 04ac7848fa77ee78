"""The `when` grammar: parsing, dates per year, windows, and error messages.

Expected dates come from two independent places: a table of real-world dates, and a brute-force reference
written here that walks the calendar one day at a time (it shares no code with bot/observances.py).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.observances import Rule, Span, WhenError, parse_when, spans_between

MONTHS = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
]
WEEKDAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]
ORDINALS = {1: "first", 2: "second", 3: "third", 4: "fourth", 5: "fifth", -1: "last"}
ONE = timedelta(days=1)
D = date
README = Path(__file__).resolve().parent.parent / "schedules" / "README.md"

# --- brute-force reference ----------------------------------------------------------------------------------


def month_days(year: int, month: int) -> list[date]:
    """Every day of a month, found by walking until the month changes."""
    days = [date(year, month, 1)]
    while (days[-1] + ONE).month == month:
        days.append(days[-1] + ONE)
    return days


def ref_nth(year: int, month: int, ordinal: int, weekday: int) -> date | None:
    matching = [day for day in month_days(year, month) if day.weekday() == weekday]
    if ordinal == -1:
        return matching[-1]
    return matching[ordinal - 1] if ordinal <= len(matching) else None


def ref_fixed(year: int, month: int, day: int) -> date | None:
    try:
        return date(year, month, day)
    except ValueError:
        return None


def ref_walk(start: date, days: int) -> date:
    step = ONE if days > 0 else -ONE
    for _ in range(abs(days)):
        start += step
    return start


def ref_next(start: date, weekday: int, after: bool) -> date:
    day = start + (ONE if after else -ONE)
    while day.weekday() != weekday:
        day += ONE if after else -ONE
    return day


def ref_full_weeks(year: int, month: int) -> list[tuple[date, date]]:
    return [
        (day, day + 6 * ONE)
        for day in month_days(year, month)
        if day.weekday() == 6 and (day + 6 * ONE).month == month
    ]


def ref_range(year: int, m1: int, d1: int, m2: int, d2: int) -> tuple[date, date] | None:
    start = ref_fixed(year, m1, d1)
    if start is None:
        return None
    day = start
    while True:
        if (day.month, day.day) == (m2, d2):
            return start, day
        if (m2, d2) == (2, 29) and (day.month, day.day) == (2, 28) and ref_fixed(day.year, 2, 29) is None:
            return start, day  # the documented stand-in for a missing February 29
        day += ONE


# A small rule language for generated tests: each node renders to `when` text and evaluates by brute force.


@dataclass(frozen=True)
class Node:
    words: tuple[str, ...]
    evaluate: Callable[[int], tuple[date, date] | None]


def fixed_node(month: int, day: int) -> Node:
    def evaluate(year: int) -> tuple[date, date] | None:
        found = ref_fixed(year, month, day)
        return None if found is None else (found, found)

    return Node((MONTHS[month - 1], str(day)), evaluate)


def edge_node(month: int, last: bool) -> Node:
    def evaluate(year: int) -> tuple[date, date]:
        found = month_days(year, month)[-1 if last else 0]
        return found, found

    return Node(("last" if last else "first", "day", "of", MONTHS[month - 1]), evaluate)


def nth_node(ordinal: int, weekday: int, month: int) -> Node:
    def evaluate(year: int) -> tuple[date, date] | None:
        found = ref_nth(year, month, ordinal, weekday)
        return None if found is None else (found, found)

    return Node((ORDINALS[ordinal], WEEKDAYS[weekday], "of", MONTHS[month - 1]), evaluate)


def shift_node(days: int, inner: Node) -> Node:
    def evaluate(year: int) -> tuple[date, date] | None:
        found = inner.evaluate(year)
        return None if found is None else (ref_walk(found[0], days), ref_walk(found[0], days))

    unit = "day" if abs(days) == 1 else "days"
    return Node((str(abs(days)), unit, "after" if days > 0 else "before", *inner.words), evaluate)


def next_node(weekday: int, after: bool, inner: Node) -> Node:
    def evaluate(year: int) -> tuple[date, date] | None:
        found = inner.evaluate(year)
        return None if found is None else (ref_next(found[0], weekday, after),) * 2

    return Node((WEEKDAYS[weekday], "after" if after else "before", *inner.words), evaluate)


def for_node(inner: Node, length: int) -> Node:
    def evaluate(year: int) -> tuple[date, date] | None:
        found = inner.evaluate(year)
        return None if found is None else (found[0], ref_walk(found[0], length - 1))

    return Node((*inner.words, "for", str(length), "day" if length == 1 else "days"), evaluate)


def month_node(month: int) -> Node:
    return Node((MONTHS[month - 1],), lambda year: (month_days(year, month)[0], month_days(year, month)[-1]))


def week_node(month: int, last: bool) -> Node:
    return Node(
        ("last" if last else "first", "full", "week", "of", MONTHS[month - 1]),
        lambda year: ref_full_weeks(year, month)[-1 if last else 0],
    )


def range_node(m1: int, d1: int, m2: int, d2: int) -> Node:
    return Node(
        (MONTHS[m1 - 1], str(d1), "to", MONTHS[m2 - 1], str(d2)), lambda y: ref_range(y, m1, d1, m2, d2)
    )


MAX_DAY = [31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31]
months = st.integers(1, 12)
weekdays = st.integers(0, 6)
fixed_days = months.flatmap(lambda m: st.tuples(st.just(m), st.integers(1, MAX_DAY[m - 1])))
day_bases = st.one_of(
    fixed_days.map(lambda md: fixed_node(*md)),
    st.builds(edge_node, months, st.booleans()),
    st.builds(nth_node, st.sampled_from(list(ORDINALS)), weekdays, months),
)
day_rules = st.recursive(
    day_bases,
    lambda inner: st.one_of(
        st.builds(shift_node, st.integers(1, 366) | st.integers(-366, -1), inner),
        st.builds(next_node, weekdays, st.booleans(), inner),
    ),
    max_leaves=4,
)
rules = st.one_of(
    day_rules,
    st.builds(for_node, day_rules, st.integers(1, 366)),
    st.builds(month_node, months),
    st.builds(week_node, months, st.booleans()),
    st.builds(lambda a, b: range_node(*a, *b), fixed_days, fixed_days),
)
SPELLINGS: list[Callable[[str], str]] = [str.lower, str.upper, str.title, str]
spellings = st.sampled_from(SPELLINGS)
gaps = st.sampled_from([" ", "  ", "\t", "\n", " \t "])


@st.composite
def rendered(draw: st.DrawFn) -> tuple[str, Node]:
    node = draw(rules)
    text = draw(gaps) if draw(st.booleans()) else ""
    for word in node.words:
        text += draw(spellings)(word) + draw(gaps)
    return text, node


NO_DB = settings(database=None, deadline=None, suppress_health_check=[HealthCheck.too_slow])


# --- real-world dates ---------------------------------------------------------------------------------------

KNOWN = [
    # US Thanksgiving
    ("fourth Thursday of November", 2024, D(2024, 11, 28), D(2024, 11, 28)),
    ("fourth Thursday of November", 2025, D(2025, 11, 27), D(2025, 11, 27)),
    ("fourth Thursday of November", 2026, D(2026, 11, 26), D(2026, 11, 26)),
    ("fourth Thursday of November", 2028, D(2028, 11, 23), D(2028, 11, 23)),
    # US Mother's Day
    ("second Sunday of May", 2024, D(2024, 5, 12), D(2024, 5, 12)),
    ("second Sunday of May", 2025, D(2025, 5, 11), D(2025, 5, 11)),
    ("second Sunday of May", 2026, D(2026, 5, 10), D(2026, 5, 10)),
    # Memorial Day, Labor Day, Martin Luther King Jr. Day
    ("last Monday of May", 2026, D(2026, 5, 25), D(2026, 5, 25)),
    ("last Monday of May", 2024, D(2024, 5, 27), D(2024, 5, 27)),
    ("first Monday of September", 2026, D(2026, 9, 7), D(2026, 9, 7)),
    ("third Monday of January", 2026, D(2026, 1, 19), D(2026, 1, 19)),
    # US Election Day: the Tuesday after the first Monday of November (never November 1)
    ("Tuesday after first Monday of November", 2022, D(2022, 11, 8), D(2022, 11, 8)),
    ("Tuesday after first Monday of November", 2024, D(2024, 11, 5), D(2024, 11, 5)),
    ("Tuesday after first Monday of November", 2026, D(2026, 11, 3), D(2026, 11, 3)),
    # Black Friday / Cyber Monday style offsets from Thanksgiving
    ("1 day after fourth Thursday of November", 2026, D(2026, 11, 27), D(2026, 11, 27)),
    ("Monday after fourth Thursday of November", 2026, D(2026, 11, 30), D(2026, 11, 30)),
    ("10 days before fourth Thursday of November", 2026, D(2026, 11, 16), D(2026, 11, 16)),
    # Mardi Gras style: the day before a weekday rule, crossing into the previous month
    ("1 day before first Wednesday of March", 2028, D(2028, 2, 29), D(2028, 2, 29)),
    ("Tuesday before first Wednesday of March", 2026, D(2026, 3, 3), D(2026, 3, 3)),
    # last day of February
    ("last day of February", 2024, D(2024, 2, 29), D(2024, 2, 29)),
    ("last day of February", 2026, D(2026, 2, 28), D(2026, 2, 28)),
    ("last day of February", 2028, D(2028, 2, 29), D(2028, 2, 29)),
    ("last day of February", 2000, D(2000, 2, 29), D(2000, 2, 29)),
    ("last day of February", 2100, D(2100, 2, 28), D(2100, 2, 28)),
    ("1 day after last day of February", 2028, D(2028, 3, 1), D(2028, 3, 1)),
    ("1 day after February 28", 2028, D(2028, 2, 29), D(2028, 2, 29)),
    ("1 day after February 28", 2100, D(2100, 3, 1), D(2100, 3, 1)),
    ("first day of March", 2026, D(2026, 3, 1), D(2026, 3, 1)),
    # fixed days, whole months, full weeks
    ("December 3", 2026, D(2026, 12, 3), D(2026, 12, 3)),
    ("February 29", 2028, D(2028, 2, 29), D(2028, 2, 29)),
    ("February 29", 2000, D(2000, 2, 29), D(2000, 2, 29)),
    ("October", 2026, D(2026, 10, 1), D(2026, 10, 31)),
    ("February", 2028, D(2028, 2, 1), D(2028, 2, 29)),
    ("February", 2100, D(2100, 2, 1), D(2100, 2, 28)),
    ("first full week of October", 2026, D(2026, 10, 4), D(2026, 10, 10)),
    ("last full week of October", 2026, D(2026, 10, 25), D(2026, 10, 31)),
    ("first full week of February", 2026, D(2026, 2, 1), D(2026, 2, 7)),  # February 1 2026 is a Sunday
    ("last full week of February", 2026, D(2026, 2, 22), D(2026, 2, 28)),  # and February 28 a Saturday
    ("first full week of May", 2027, D(2027, 5, 2), D(2027, 5, 8)),  # May 1 2027 is a Saturday
    # spans
    ("third Thursday of May for 5 days", 2026, D(2026, 5, 21), D(2026, 5, 25)),
    ("December 3 for 1 day", 2026, D(2026, 12, 3), D(2026, 12, 3)),
    ("December 28 for 7 days", 2026, D(2026, 12, 28), D(2027, 1, 3)),
    ("May 15 to June 15", 2026, D(2026, 5, 15), D(2026, 6, 15)),
    ("December 26 to January 1", 2026, D(2026, 12, 26), D(2027, 1, 1)),
    ("May 15 to May 15", 2026, D(2026, 5, 15), D(2026, 5, 15)),
    ("February 1 to February 29", 2026, D(2026, 2, 1), D(2026, 2, 28)),
    ("February 1 to February 29", 2028, D(2028, 2, 1), D(2028, 2, 29)),
    ("March 1 to February 29", 2027, D(2027, 3, 1), D(2028, 2, 29)),
    # offsets leave the base year: span(year) is keyed by the base day's year
    ("10 days before first Monday of January", 2026, D(2025, 12, 26), D(2025, 12, 26)),
    ("Friday before January 1", 2027, D(2026, 12, 25), D(2026, 12, 25)),
    ("3 days after December 30", 2026, D(2027, 1, 2), D(2027, 1, 2)),
    ("Monday after last day of December", 2026, D(2027, 1, 4), D(2027, 1, 4)),
    # nesting: an offset of an offset
    ("1 day after Monday after first Sunday of May", 2026, D(2026, 5, 5), D(2026, 5, 5)),
    ("Sunday before 2 days after first Sunday of May", 2026, D(2026, 5, 3), D(2026, 5, 3)),
    ("2 days before 3 days after December 3", 2026, D(2026, 12, 4), D(2026, 12, 4)),
]


@pytest.mark.parametrize(("text", "year", "start", "end"), KNOWN)
def test_known_dates(text: str, year: int, start: date, end: date) -> None:
    assert parse_when(text).span(year) == Span(start, end)


SKIPPED = [
    ("February 29", 2026),
    ("February 29", 2100),
    ("fifth Monday of May", 2026),  # May 2026 has four Mondays (4, 11, 18, 25)
    ("fifth Friday of February", 2026),
    ("fifth Thursday of May for 3 days", 2026),  # May 2026 has four Thursdays
    ("1 day after February 29", 2027),
    ("Monday after February 29", 2100),
    ("February 29 to March 3", 2025),
    ("February 29 for 2 days", 2026),
]


@pytest.mark.parametrize(("text", "year"), SKIPPED)
def test_rules_that_skip_a_year(text: str, year: int) -> None:
    assert parse_when(text).span(year) is None


@pytest.mark.parametrize(
    ("text", "year", "day"),
    [
        ("fifth Monday of May", 2028, D(2028, 5, 29)),
        ("fifth Friday of February", 2036, D(2036, 2, 29)),  # February 1 2036 is a Friday, in a leap year
        ("fifth Thursday of May", 2025, D(2025, 5, 29)),
    ],
)
def test_fifth_weekday_happens_in_some_years(text: str, year: int, day: date) -> None:
    assert parse_when(text).span(year) == Span(day, day)


# --- brute-force sweeps -------------------------------------------------------------------------------------

# Years whose January 1 falls on every weekday, leap and not, plus the century rules.
SWEEP_YEARS = [*range(2020, 2035), 1900, 2000, 2100, 2400]


@pytest.mark.parametrize("year", SWEEP_YEARS)
def test_every_weekday_ordinal_and_month(year: int) -> None:
    for month in range(1, 13):
        for weekday, weekday_name in enumerate(WEEKDAYS):
            for ordinal, ordinal_name in ORDINALS.items():
                rule = parse_when(f"{ordinal_name} {weekday_name} of {MONTHS[month - 1]}")
                expected = ref_nth(year, month, ordinal, weekday)
                assert rule.span(year) == (None if expected is None else Span(expected, expected)), rule.text


@pytest.mark.parametrize("year", SWEEP_YEARS)
def test_every_month_edge_and_full_week(year: int) -> None:
    for month, name in enumerate(MONTHS, start=1):
        days = month_days(year, month)
        weeks = ref_full_weeks(year, month)
        assert parse_when(name).span(year) == Span(days[0], days[-1])
        assert parse_when(f"first day of {name}").span(year) == Span(days[0], days[0])
        assert parse_when(f"last day of {name}").span(year) == Span(days[-1], days[-1])
        assert parse_when(f"first full week of {name}").span(year) == Span(*weeks[0])
        assert parse_when(f"last full week of {name}").span(year) == Span(*weeks[-1])


@pytest.mark.parametrize("year", SWEEP_YEARS)
def test_every_fixed_day_and_weekday_step(year: int) -> None:
    for month, name in enumerate(MONTHS, start=1):
        for day in range(1, MAX_DAY[month - 1] + 1):
            expected = ref_fixed(year, month, day)
            assert parse_when(f"{name} {day}").span(year) == (
                None if expected is None else Span(expected, expected)
            )
            if expected is None:
                continue
            for weekday, weekday_name in enumerate(WEEKDAYS):
                after = ref_next(expected, weekday, after=True)
                before = ref_next(expected, weekday, after=False)
                assert parse_when(f"{weekday_name} after {name} {day}").span(year) == Span(after, after)
                assert parse_when(f"{weekday_name} before {name} {day}").span(year) == Span(before, before)


@NO_DB
@given(rendered(), st.integers(1901, 2200))
def test_generated_rules_match_brute_force(case: tuple[str, Node], year: int) -> None:
    text, node = case
    expected = node.evaluate(year)
    assert parse_when(text).span(year) == (None if expected is None else Span(*expected))


# --- spans_between ------------------------------------------------------------------------------------------


def test_spans_between_finds_an_occurrence_that_started_last_year() -> None:
    rule = parse_when("December 26 to January 1")
    assert spans_between(rule, D(2027, 1, 1), D(2027, 1, 31)) == [Span(D(2026, 12, 26), D(2027, 1, 1))]


def test_spans_between_finds_an_occurrence_keyed_to_next_year() -> None:
    rule = parse_when("10 days before first Monday of January")
    assert spans_between(rule, D(2025, 12, 1), D(2025, 12, 31)) == [Span(D(2025, 12, 26), D(2025, 12, 26))]


def test_spans_between_lists_every_year_in_order() -> None:
    rule = parse_when("fifth Monday of May")
    found = spans_between(rule, D(2024, 1, 1), D(2031, 12, 31))
    expected = [ref_nth(year, 5, 5, 0) for year in range(2024, 2032)]
    assert found == [Span(day, day) for day in expected if day is not None]
    assert [span.start.year for span in found] == [2027, 2028]  # May 1 is a Saturday, then a Monday


@pytest.mark.parametrize(
    ("first", "last", "count"),
    [
        (D(2026, 5, 21), D(2026, 5, 21), 1),  # the first day
        (D(2026, 5, 25), D(2026, 5, 25), 1),  # the last day
        (D(2026, 5, 26), D(2027, 5, 19), 0),  # between two occurrences
        (D(2026, 5, 20), D(2026, 5, 20), 0),  # the day before
        (D(2026, 5, 26), D(2026, 5, 25), 0),  # an empty window
    ],
)
def test_spans_between_edges(first: date, last: date, count: int) -> None:
    assert len(spans_between(parse_when("third Thursday of May for 5 days"), first, last)) == count


def test_spans_between_at_the_ends_of_the_calendar() -> None:
    new_year = parse_when("December 26 to January 1")
    assert spans_between(new_year, D(9999, 1, 1), D(9999, 12, 31)) == [Span(D(9998, 12, 26), D(9999, 1, 1))]
    assert new_year.span(9999) is None  # would end in year 10000
    assert spans_between(parse_when("10 days before January 3"), D(1, 1, 1), D(1, 12, 31)) == [
        Span(D(1, 12, 24), D(1, 12, 24))
    ]
    assert parse_when("10 days before January 3").span(1) is None  # would be in year 0
    assert parse_when("December 3").span(0) is None
    assert parse_when("December 3").span(10000) is None


@NO_DB
@given(rendered(), st.dates(D(1950, 1, 1), D(2150, 12, 31)), st.integers(0, 800))
def test_spans_between_matches_a_day_by_day_reference(
    case: tuple[str, Node], first: date, width: int
) -> None:
    text, node = case
    last = first + timedelta(days=width)
    expected = []
    for year in range(first.year - 3, last.year + 4):  # wider than any rule can reach
        found = node.evaluate(year)
        if found is not None and found[0] <= last and found[1] >= first:
            expected.append(Span(*found))
    assert spans_between(parse_when(text), first, last) == sorted(expected, key=lambda span: span.start)


# --- text handling ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "THIRD THURSDAY OF MAY",
        "third thursday of may",
        "Third ThUrSdAy Of mAy",
        "  third   Thursday\tof\nMay  ",
    ],
)
def test_case_and_whitespace_do_not_matter(text: str) -> None:
    rule = parse_when(text)
    assert rule.text == text
    assert rule.span(2026) == Span(D(2026, 5, 21), D(2026, 5, 21))


def test_singular_and_plural_day() -> None:
    assert parse_when("1 day after May 3").span(2026) == parse_when("1 days after May 3").span(2026)
    assert parse_when("May 3 for 2 day").span(2026) == Span(D(2026, 5, 3), D(2026, 5, 4))


def test_every_example_in_the_readme_table_parses() -> None:
    section = README.read_text().split("### The `when` grammar", 1)[1].split("\n#", 1)[0]
    first_cells = [line.split("|")[1] for line in section.splitlines() if line.startswith("| `")]
    examples = [found for cell in first_cells for found in re.findall(r"`([^`<]+)`", cell)]
    assert len(examples) >= 12
    for example in examples:
        assert isinstance(parse_when(example), Rule)


def test_span_days_and_order() -> None:
    assert Span(D(2026, 12, 26), D(2027, 1, 1)).days == 7
    assert Span(D(2026, 1, 1), D(2026, 1, 1)).days == 1
    with pytest.raises(ValueError, match="before it starts"):
        Span(D(2026, 1, 2), D(2026, 1, 1))


# --- errors -------------------------------------------------------------------------------------------------

ERRORS = [
    # (text, column, words in the message, words in the hint)
    (
        "February 30",
        10,
        "'February 30' can never happen: February has at most 29 days",
        'e.g. "last day of February"',
    ),
    ("April 31", 7, "'April 31' can never happen: April has 30 days", "last day of April"),
    ("december 32", 10, "'December 32' can never happen: December has 31 days", "last day of December"),
    ("December 0", 10, "'December 0' can never happen: days are numbered from 1", '"December 1"'),
    (
        "sixth Monday of May",
        1,
        "'sixth Monday' can never happen: no month has more than five Mondays",
        "last Monday",
    ),
    ("0 days after May 3", 1, "'0 days after' does not move the day", 'leave out "0 days after"'),
    ("400 days before May 3", 1, "moves the day by more than a year", "at most 366"),
    ("May 3 for 0 days", 11, "'for 0 days' can never happen", 'for 1 day"'),
    ("May 3 for 367 days", 11, "longer than a year", "at most 366"),
    ("May 3 for five days", 11, "in digits, found 'five'", "for 5 days"),
    ("Febuary 3", 1, "unknown month 'Febuary' (did you mean February?)", "in full"),
    ("third Thursdy of May", 7, "unknown weekday 'Thursdy' (did you mean Thursday?)", "in full"),
    ("third Thursday of Mai", 19, "unknown month 'Mai' (did you mean May?)", "in full"),
    ("Dec 3", 1, "unknown month 'Dec' (did you mean December?)", "in full"),
    ("thrid Monday of May", 1, "unknown word 'thrid' (did you mean third?)", "rules look like"),
    (
        "Christmas",
        1,
        "expected a day such as 'December 3' or 'first Monday of May', found 'Christmas'",
        "README",
    ),
    ("", 1, "the rule is empty", "rules look like"),
    ("   ", 1, "the rule is empty", "rules look like"),
    ("third Thursday of", 18, "ends too early: expected a month name after 'of'", "in full"),
    ("third Thursday of  ", 18, "ends too early", "in full"),
    ("third Thursday May", 16, "expected 'of', found 'May'", "third Thursday of May"),
    ("third Thursday of Monday", 19, "expected a month name, found the weekday 'Monday'", "rules look like"),
    ("third May of June", 7, "expected a weekday name, found the month 'May'", "third Thursday of May"),
    ("Thursday of May", 1, "which Thursday?", "first Thursday of May"),
    ("3 December", 1, "write the month first: 'December 3'", '"December 3"'),
    ("3rd of May", 1, "without 'st', 'nd', 'rd' or 'th'", "first Monday of May"),
    ("December 3rd", 10, "found '3rd'", '"December 3"'),
    ("5", 1, "a number alone is not a rule", "December 3"),
    ("December three", 10, "expected a day number after 'December', found 'three'", '"December 3"'),
    ("December 3, 2026", 11, "unexpected character ','", "punctuation"),
    ("December 3 2026", 12, "a rule repeats every year, so it has no year", "leave the year out"),
    (
        "October 2026",
        9,
        "a rule repeats every year, so it has no year",
        'write "October" for the whole month',
    ),
    ("December 3 please", 12, "unexpected 'please' after the end of the rule", "rules look like"),
    ("May 15 - June 15", 8, "unexpected character '-'", 'join two days with "to"'),
    ("May 15 \u2013 June 15", 8, "unexpected character '\u2013'", 'join two days with "to"'),
    ("Monday after October", 14, "'October' is a whole month, not a single day", "Monday after October 1"),
    ("2 days after first full week of May", 14, "'first full week of May' is a week", "single day"),
    ("October for 3 days", 9, "'October' is already a span of days, so 'for' cannot follow it", "October 1"),
    ("October to November", 9, "so 'to' cannot follow it", "October 1 to"),
    ("first Monday of May to June 1", 21, "'to' joins two fixed days", "first Monday of May for 5 days"),
    ("May 15 to first Monday of June", 11, "expected a month name, found 'first'", "in full"),
    ("May 15 to June 31", 16, "'June 31' can never happen", "last day of June"),
    ("second day of May", 1, "only the first or last day of a month", '"May 2"'),
    (
        "second full week of May",
        1,
        "only the first or last full week of a month",
        "first full week of October",
    ),
    ("last week of October", 6, "'last week' is unclear: write 'full week'", "last full week of October"),
    ("first full month of May", 12, "expected 'week', found 'month'", "first full week of October"),
    (
        "2 weeks after May 3",
        3,
        "'weeks' is not supported: count in days",
        'write "14 days" instead of "2 weeks"',
    ),
    ("2 days May 3", 8, "expected 'before' or 'after', found 'May'", "2 days after first Sunday of May"),
    ("2 days after", 13, "ends too early", "rules look like"),
    ("last", 5, "ends too early: expected a weekday, 'day' or 'full week' after 'last'", "third Thursday"),
    ("Monday after", 13, "ends too early", "rules look like"),
    ("first day May", 11, "expected 'of', found 'May'", "rules look like"),
    ("December\x003", 9, "unexpected character '\\x00'", "rules look like"),
]


@pytest.mark.parametrize(("text", "column", "message", "hint"), ERRORS)
def test_errors_say_what_and_where(text: str, column: int, message: str, hint: str) -> None:
    with pytest.raises(WhenError) as caught:
        parse_when(text)
    error = caught.value
    assert message in error.message
    assert error.hint is not None
    assert hint in error.hint
    assert error.column == column
    assert str(error) == f"{error.message} (hint: {error.hint})"
    assert isinstance(error, ValueError)


def test_error_for_text_that_is_not_a_string() -> None:
    with pytest.raises(WhenError, match="must be text"):
        parse_when(2026)  # type: ignore[arg-type]


VOCABULARY = [
    *MONTHS,
    *WEEKDAYS,
    *ORDINALS.values(),
    "sixth",
    "day",
    "days",
    "week",
    "full",
    "of",
    "for",
    "to",
    "before",
    "after",
    "0",
    "1",
    "3",
    "29",
    "31",
    "366",
    "2026",
    "99999999999999999999",
    "-",
    ",",
]


def exercise(text: str) -> None:
    """Parse anything; a rule that parses must also give dates without raising."""
    try:
        rule = parse_when(text)
    except WhenError as error:
        assert error.message
        assert 1 <= error.column <= len(text) + 1
        return
    for year in (1, 2026, 2028, 2100, 9999):
        rule.span(year)
    spans_between(rule, D(2025, 1, 1), D(2029, 12, 31))


@NO_DB
@given(st.text())
def test_arbitrary_text_only_ever_raises_when_error(text: str) -> None:
    exercise(text)


@NO_DB
@given(st.lists(st.sampled_from(VOCABULARY), max_size=12), gaps)
def test_word_soup_only_ever_raises_when_error(words: list[str], gap: str) -> None:
    exercise(gap.join(words))


def test_deep_nesting_needs_no_recursion() -> None:
    text = "1 day after " * 5000 + "May 3"
    assert parse_when(text).span(2026) == Span(D(2026, 5, 3) + 5000 * ONE, D(2026, 5, 3) + 5000 * ONE)
    assert spans_between(parse_when(text), D(2039, 12, 1), D(2040, 1, 31)) != []


def test_huge_numbers_are_refused_quickly() -> None:
    with pytest.raises(WhenError, match="can never happen"):
        parse_when("May " + "9" * 10_000)
