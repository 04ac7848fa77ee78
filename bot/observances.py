"""Awareness-date rules: the ``when`` grammar of schedules/README.md, parsed once and turned into dates.

Owns parsing a rule (``parse_when``), the span of days it covers for a year (``Rule.span``) and every
occurrence overlapping a window of dates (``spans_between``). Pure: no clock, no I/O, no logging.

The grammar (case-insensitive; English names; any whitespace between words)::

    rule   := month                                  "October"
            | ("first" | "last") "full week of" month  Sunday-to-Saturday week wholly inside the month
            | fixed "to" fixed                       "May 15 to June 15", "December 26 to January 1"
            | day ["for" N ("day" | "days")]         "third Thursday of May for 5 days"
    day    := fixed                                  "December 3"
            | ("first" | "last") "day of" month      "last day of February"
            | ordinal weekday "of" month             ordinal: first .. fifth, last
            | N ("day" | "days") ("before" | "after") day     "10 days before fourth Thursday of November"
            | weekday ("before" | "after") day       strictly before/after: "Monday after first Sunday of May"
    fixed  := month N

A rule that can never happen (``February 30``, ``sixth Monday of May``, ``for 0 days``) is a ``WhenError`` at
parse time; a rule that happens only in some years (``fifth Monday of May``, ``February 29``) gives ``None``
from ``span`` in the other years.
"""

from __future__ import annotations

import difflib
import re
from calendar import isleap
from dataclasses import dataclass
from datetime import MAXYEAR, MINYEAR, date, timedelta
from typing import NoReturn

__all__ = [
    "DayRule",
    "FullWeekRule",
    "MonthRule",
    "RangeRule",
    "Rule",
    "Span",
    "WhenError",
    "parse_when",
    "spans_between",
]

MONTHS: tuple[str, ...] = (
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
)
WEEKDAYS: tuple[str, ...] = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
"""In ``date.weekday()`` order (Monday = 0)."""

MAX_DAYS = 366
"""Longest offset and longest ``for N days``: anything longer would overlap the next year's occurrence."""

_MONTH = {name.lower(): number for number, name in enumerate(MONTHS, start=1)}
_WEEKDAY = {name.lower(): number for number, name in enumerate(WEEKDAYS)}
_ORDINAL = {"first": 1, "second": 2, "third": 3, "fourth": 4, "fifth": 5, "last": -1}
_IMPOSSIBLE_ORDINAL = {"sixth": 6, "seventh": 7, "eighth": 8, "ninth": 9, "tenth": 10}
_MONTH_DAYS = (31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)
_MAX_MONTH_DAYS = (31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)
_EXAMPLES = (
    'rules look like "December 3", "third Thursday of May", "last day of February", "October", '
    '"first full week of October", "May 15 to June 15" or "2 days after first Sunday of May"; '
    "see schedules/README.md"
)


def _days_in(year: int, month: int) -> int:
    return 29 if month == 2 and isleap(year) else _MONTH_DAYS[month - 1]


# --- results -----------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Span:
    """The days one occurrence of an observance covers, both ends included."""

    start: date
    end: date

    def __post_init__(self) -> None:
        if self.end < self.start:
            raise ValueError(f"a span cannot end ({self.end}) before it starts ({self.start})")

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1


class WhenError(ValueError):
    """A ``when`` rule outside the grammar or one that can never happen.

    ``column`` is 1-based, counted in the rule text exactly as given (leading whitespace included), so the
    config loader can add it to the YAML value's own column.
    """

    def __init__(self, message: str, *, hint: str | None = None, column: int = 1) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint
        self.column = column

    def __str__(self) -> str:
        return f"{self.message} (hint: {self.hint})" if self.hint else self.message


# --- rules -------------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Rule:
    """A parsed ``when`` rule. Build one with ``parse_when``; the subclasses are its possible shapes."""

    text: str
    """The rule as written."""

    def span(self, year: int) -> Span | None:
        """The occurrence belonging to ``year``, or None when the rule does not happen that year.

        For most rules the occurrence starts in ``year``. Offsets and ``<weekday> before/after`` are keyed by
        the year of the day they start from, so ``10 days before first Monday of January`` gives, for 2026, a
        day in December 2025. ``spans_between`` hides this by looking at the neighbouring years too.
        """
        raise NotImplementedError

    @property
    def reach(self) -> int:
        """Upper bound on how many days an occurrence can begin before or end after its own year."""
        raise NotImplementedError


@dataclass(frozen=True, slots=True)
class _Fixed:
    month: int
    day: int

    def on(self, year: int) -> date | None:
        if self.day == 29 and self.month == 2 and not isleap(year):
            return None
        return date(year, self.month, self.day)


@dataclass(frozen=True, slots=True)
class _Edge:
    """First or last day of a month."""

    month: int
    last: bool

    def on(self, year: int) -> date:
        return date(year, self.month, _days_in(year, self.month) if self.last else 1)


@dataclass(frozen=True, slots=True)
class _Nth:
    """The n-th (1..5) or last (-1) weekday of a month."""

    ordinal: int
    weekday: int
    month: int

    def on(self, year: int) -> date | None:
        length = _days_in(year, self.month)
        if self.ordinal < 0:
            last = date(year, self.month, length)
            return date(year, self.month, length - (last.weekday() - self.weekday) % 7)
        day = 1 + (self.weekday - date(year, self.month, 1).weekday()) % 7 + 7 * (self.ordinal - 1)
        return date(year, self.month, day) if day <= length else None


@dataclass(frozen=True, slots=True)
class _Shift:
    """``N days after`` (positive) or ``N days before`` (negative)."""

    days: int

    def apply(self, day: date) -> date:
        return day + timedelta(days=self.days)

    @property
    def reach(self) -> int:
        return abs(self.days)


@dataclass(frozen=True, slots=True)
class _Next:
    """``<weekday> after`` / ``<weekday> before``: the nearest such weekday, never the day itself."""

    weekday: int
    after: bool

    def apply(self, day: date) -> date:
        if self.after:
            return day + timedelta(days=(self.weekday - day.weekday() - 1) % 7 + 1)
        return day - timedelta(days=(day.weekday() - self.weekday - 1) % 7 + 1)

    @property
    def reach(self) -> int:
        return 7


_Base = _Fixed | _Edge | _Nth
_Step = _Shift | _Next


@dataclass(frozen=True, slots=True)
class DayRule(Rule):
    """A single day, optionally moved by offsets, lasting ``length`` days."""

    base: _Base
    steps: tuple[_Step, ...] = ()
    """Applied in order, innermost (nearest the base day in the text) first."""
    length: int = 1

    def span(self, year: int) -> Span | None:
        if not MINYEAR <= year <= MAXYEAR:
            return None
        day = self.base.on(year)
        if day is None:
            return None
        try:
            for step in self.steps:
                day = step.apply(day)
            return Span(day, day + timedelta(days=self.length - 1))
        except OverflowError:  # moved past year 1 or 9999
            return None

    @property
    def reach(self) -> int:
        return sum(step.reach for step in self.steps) + self.length


@dataclass(frozen=True, slots=True)
class MonthRule(Rule):
    """A whole calendar month."""

    month: int

    def span(self, year: int) -> Span | None:
        if not MINYEAR <= year <= MAXYEAR:
            return None
        return Span(date(year, self.month, 1), date(year, self.month, _days_in(year, self.month)))

    @property
    def reach(self) -> int:
        return 31


@dataclass(frozen=True, slots=True)
class FullWeekRule(Rule):
    """The first or last Sunday-to-Saturday week lying wholly inside a month."""

    month: int
    last: bool

    def span(self, year: int) -> Span | None:
        if not MINYEAR <= year <= MAXYEAR:
            return None
        if self.last:
            length = _days_in(year, self.month)
            saturday = length - (date(year, self.month, length).weekday() - 5) % 7
            return Span(date(year, self.month, saturday - 6), date(year, self.month, saturday))
        sunday = 1 + (6 - date(year, self.month, 1).weekday()) % 7
        return Span(date(year, self.month, sunday), date(year, self.month, sunday + 6))

    @property
    def reach(self) -> int:
        return 7


@dataclass(frozen=True, slots=True)
class RangeRule(Rule):
    """From one fixed day to another, inclusive; the end falls in the next year when it comes earlier in the
    calendar than the start. An end of February 29 means February 28 in other years."""

    first: _Fixed
    last: _Fixed

    def span(self, year: int) -> Span | None:
        if not MINYEAR <= year <= MAXYEAR:
            return None
        start = self.first.on(year)
        if start is None:
            return None
        end_year = (
            year if (self.last.month, self.last.day) >= (self.first.month, self.first.day) else year + 1
        )
        if end_year > MAXYEAR:
            return None
        end_day = min(self.last.day, _days_in(end_year, self.last.month))
        return Span(start, date(end_year, self.last.month, end_day))

    @property
    def reach(self) -> int:
        return MAX_DAYS


@dataclass(frozen=True, slots=True)
class ConfirmedRule(Rule):
    """A rule plus the dates an organiser has announced for some years (``dates:``), which win over it.

    ``confirmed_through`` is the last year the rule itself is known to hold; for later years without an entry in
    ``dates`` the rule is only a forecast (``confirmed`` says which).
    """

    base: Rule
    by_year: tuple[tuple[int, Rule], ...] = ()
    confirmed_through: int | None = None

    def rule_for(self, year: int) -> Rule:
        for y, rule in self.by_year:
            if y == year:
                return rule
        return self.base

    def span(self, year: int) -> Span | None:
        return self.rule_for(year).span(year)

    def confirmed(self, year: int) -> bool:
        """Whether the date of ``year``'s occurrence is known, not forecast from the rule."""
        if any(y == year for y, _ in self.by_year):
            return True
        return self.confirmed_through is None or year <= self.confirmed_through

    @property
    def reach(self) -> int:
        return max([self.base.reach, *(rule.reach for _, rule in self.by_year)])


def is_confirmed(rule: Rule, year: int) -> bool:
    """Whether an occurrence keyed by ``year`` has a confirmed date (plain rules always do)."""
    return rule.confirmed(year) if isinstance(rule, ConfirmedRule) else True


def spans_between(rule: Rule, first: date, last: date) -> list[Span]:
    """Every occurrence overlapping ``first``..``last`` (inclusive), in order of start.

    Occurrences are keyed by year (see ``Rule.span``) but may spill into neighbouring years, so the years
    around the window are looked at too.
    """
    if last < first:
        return []
    reach = rule.reach
    low = date.fromordinal(max(1, first.toordinal() - reach)).year
    high = date.fromordinal(min(date.max.toordinal(), last.toordinal() + reach)).year
    found = []
    for year in range(low, high + 1):
        span = rule.span(year)
        if span is not None and span.start <= last and span.end >= first:
            found.append(span)
    found.sort(key=lambda span: span.start)
    return found


# --- parsing -----------------------------------------------------------------------------------------------

# Runs of letters/digits (any script, so "Février" is one word to suggest a fix for), or one other character.
_TOKEN = re.compile(r"[^\W_]+|[^\s]")
_ORDINAL_SUFFIX = re.compile(r"[0-9]+(st|nd|rd|th)", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class _Token:
    text: str
    """As written."""
    word: str
    """Lowercased, for matching."""
    start: int
    """0-based offset in the rule text."""
    number: int | None = None
    """Value of an ASCII-digit token (capped, so a huge number cannot cost time)."""

    @property
    def column(self) -> int:
        return self.start + 1

    @property
    def end(self) -> int:
        return self.start + len(self.text)


def _tokenize(text: str) -> list[_Token]:
    tokens = []
    for match in _TOKEN.finditer(text):
        raw = match.group()
        if raw.isascii() and raw.isdigit():
            number = int(raw) if len(raw) <= 9 else 10**9
            tokens.append(_Token(raw, raw, match.start(), number))
        elif raw.isascii() and raw.isalpha():
            tokens.append(_Token(raw, raw.lower(), match.start()))
        elif _ORDINAL_SUFFIX.fullmatch(raw):
            raise WhenError(
                f"write numbers without 'st', 'nd', 'rd' or 'th': found '{raw}'",
                hint='write e.g. "December 3" or "first Monday of May"',
                column=match.start() + 1,
            )
        elif raw.isalnum():  # letters/digits of another script: still a word, so it gets a suggestion
            tokens.append(_Token(raw, raw.lower(), match.start()))
        else:
            hint = _EXAMPLES
            if raw in "-\u2013\u2014":
                hint = 'join two days with "to", e.g. "May 15 to June 15"'
            elif raw in ",.;":
                hint = "leave out punctuation"
            raise WhenError(f"unexpected character {raw!r}", hint=hint, column=match.start() + 1)
    return tokens


def _suggest(word: str, names: tuple[str, ...]) -> str | None:
    """The name a misspelt or abbreviated ``word`` most likely meant."""
    lowered = [name.lower() for name in names]
    if len(word) >= 3:
        prefixed = [name for name, low in zip(names, lowered, strict=True) if low.startswith(word)]
        if len(prefixed) == 1:
            return prefixed[0]
    close = difflib.get_close_matches(word, lowered, n=1, cutoff=0.6)
    return names[lowered.index(close[0])] if close else None


_ORDINAL_NAMES = ("first", "second", "third", "fourth", "fifth", "last")


class _Parser:
    """Recursive descent over the token list; offsets are read in a loop, so nesting depth costs no stack."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.tokens = _tokenize(text)
        self.pos = 0

    # helpers

    def peek(self, ahead: int = 0) -> _Token | None:
        index = self.pos + ahead
        return self.tokens[index] if index < len(self.tokens) else None

    def fail(self, message: str, hint: str | None, token: _Token | None) -> NoReturn:
        column = token.column if token is not None else len(self.text.rstrip()) + 1
        raise WhenError(message, hint=hint, column=column)

    def take(self, expected: str, hint: str | None = None) -> _Token:
        token = self.peek()
        if token is None:
            after = f" after '{self.tokens[-1].text}'" if self.tokens else ""
            self.fail(f"the rule ends too early: expected {expected}{after}", hint or _EXAMPLES, None)
        self.pos += 1
        return token

    def quote(self, first: _Token, last: _Token) -> str:
        return self.text[first.start : last.end]

    def keyword(self, word: str, hint: str | None = None) -> _Token:
        token = self.take(f"'{word}'", hint)
        if token.word != word:
            self.fail(f"expected '{word}', found '{token.text}'", hint or _EXAMPLES, token)
        return token

    def month(self) -> tuple[int, _Token]:
        token = self.take("a month name", 'write the month in full, e.g. "of May"')
        if token.word in _MONTH:
            return _MONTH[token.word], token
        if token.word in _WEEKDAY:
            self.fail(f"expected a month name, found the weekday '{token.text}'", _EXAMPLES, token)
        self.unknown(token, MONTHS, "a month name", 'write the month in full, e.g. "February"')

    def impossible_day(self, month: int) -> str:
        """Why the day number after a (misspelt) month can never be, or "" (read ahead, nothing consumed)."""
        number = self.peek()
        if number is None or number.number is None or (len(number.text) == 4 and number.number > 31):
            return ""
        name = MONTHS[month - 1]
        if number.number < 1:
            return f"'{name} {number.text}' could never happen either: days are numbered from 1"
        most = _MAX_MONTH_DAYS[month - 1]
        if number.number > most:
            has = "has at most 29 days" if month == 2 else f"has {most} days"
            return f"'{name} {number.text}' could never happen either: {name} {has}"
        return ""

    def weekday(self) -> tuple[int, _Token]:
        token = self.take("a weekday name", 'write the weekday in full, e.g. "Thursday"')
        if token.word in _WEEKDAY:
            return _WEEKDAY[token.word], token
        if token.word in _MONTH:
            self.fail(
                f"expected a weekday name, found the month '{token.text}'",
                'write e.g. "third Thursday of May"',
                token,
            )
        self.unknown(token, WEEKDAYS, "a weekday name", 'write the weekday in full, e.g. "Thursday"')

    def unknown(self, token: _Token, names: tuple[str, ...], expected: str, hint: str) -> NoReturn:
        suggestion = _suggest(token.word, names)
        if suggestion is None:
            self.fail(f"expected {expected}, found '{token.text}'", hint, token)
        kind = "month" if suggestion in MONTHS else "weekday" if suggestion in WEEKDAYS else "word"
        also = self.impossible_day(MONTHS.index(suggestion) + 1) if kind == "month" else ""
        if also:  # both mistakes at once, rather than the day only after the month is fixed
            self.fail(
                f"unknown month '{token.text}' (did you mean {suggestion}?), and {also}",
                f'write the month in full and a day it has, e.g. "{suggestion} 1" or "last day of {suggestion}"',
                token,
            )
        if kind != "word":
            hint = f'{kind} names are written in full, in English, e.g. "{suggestion}"'
        self.fail(f"unknown {kind} '{token.text}' (did you mean {suggestion}?)", hint, token)

    def day_count(self, what: str) -> tuple[int, _Token]:
        """``N day(s)``; the caller checks N's range."""
        number = self.take(f"the number of days {what}")
        if number.number is None:
            self.fail(
                f"expected the number of days {what} in digits, found '{number.text}'",
                'write e.g. "for 5 days" or "2 days after first Sunday of May"',
                number,
            )
        unit = self.take("'days'")
        if unit.word in ("week", "weeks"):
            self.fail(
                f"'{unit.text}' is not supported: count in days",
                f'write "{number.number * 7} days" instead of "{self.quote(number, unit)}"',
                unit,
            )
        if unit.word not in ("day", "days"):
            self.fail(f"expected 'days' after '{number.text}', found '{unit.text}'", _EXAMPLES, unit)
        return number.number, number

    # grammar

    def rule(self) -> Rule:
        if not self.tokens:
            self.fail("the rule is empty", _EXAMPLES, None)
        steps = self.steps()
        base_start = self.peek()
        base = self.base()
        base_end = self.tokens[self.pos - 1]
        described = self.quote(base_start, base_end) if base_start is not None else ""
        whole = self.quote(self.tokens[0], base_end)
        if isinstance(base, MonthRule | FullWeekRule):
            if steps:
                self.fail(
                    f"'{described}' is {'a whole month' if isinstance(base, MonthRule) else 'a week'}, "
                    "not a single day, so it cannot be moved with 'before' or 'after'",
                    'move a single day instead, e.g. "Monday after October 1"',
                    base_start,
                )
            token = self.peek()
            if token is not None and token.word in ("for", "to"):
                self.fail(
                    f"'{described}' is already a span of days, so '{token.text}' cannot follow it",
                    f'start from a single day, e.g. "October 1 {token.word} ..."',
                    token,
                )
            self.finish()
            return base
        token = self.peek()
        if token is not None and token.word == "to":
            if steps or not isinstance(base, _Fixed):
                self.fail(
                    "'to' joins two fixed days such as \"May 15 to June 15\"",
                    f'for a span starting on "{whole}", write "{whole} for 5 days"',
                    token,
                )
            self.pos += 1
            month, month_token = self.month()
            end = self.fixed(month, month_token)
            self.finish()
            return RangeRule(self.text, base, end)
        length = 1
        if token is not None and token.word == "for":
            self.pos += 1
            length, number = self.day_count("the observance lasts")
            if length < 1:
                self.fail(
                    f"'for {number.text} days' can never happen: an observance lasts at least 1 day",
                    'write "for 1 day", or leave "for ..." out',
                    number,
                )
            if length > MAX_DAYS:
                self.fail(
                    f"'for {number.text} days' is longer than a year, so it would overlap the next one",
                    f"use at most {MAX_DAYS} days",
                    number,
                )
        self.finish()
        return DayRule(self.text, base, tuple(reversed(steps)), length)

    def steps(self) -> list[_Step]:
        """Leading ``N days before/after`` and ``<weekday> before/after``, outermost first."""
        steps: list[_Step] = []
        while (token := self.peek()) is not None:
            follower = self.peek(1)
            if token.number is not None and follower is not None and follower.word not in _MONTH:
                days, number = self.day_count("to move the day")
                direction = self.take("'before' or 'after'")
                if direction.word not in ("before", "after"):
                    self.fail(
                        f"expected 'before' or 'after', found '{direction.text}'",
                        'write e.g. "2 days after first Sunday of May"',
                        direction,
                    )
                if days == 0:
                    self.fail(
                        f"'{self.quote(number, direction)}' does not move the day",
                        f'leave out "{self.quote(number, direction)}"',
                        number,
                    )
                if days > MAX_DAYS:
                    self.fail(
                        f"'{self.quote(number, direction)}' moves the day by more than a year",
                        f"use at most {MAX_DAYS} days, or start from a nearer day",
                        number,
                    )
                steps.append(_Shift(days if direction.word == "after" else -days))
            elif token.word in _WEEKDAY and follower is not None and follower.word in ("before", "after"):
                self.pos += 2
                steps.append(_Next(_WEEKDAY[token.word], follower.word == "after"))
            else:
                return steps
        return steps

    def base(self) -> _Base | MonthRule | FullWeekRule:
        token = self.take("a day such as 'December 3' or 'first Monday of May'")
        word = token.word
        if word in _MONTH:
            number = self.peek()
            if number is not None and number.number is not None:
                return self.fixed(_MONTH[word], token)
            if number is None or number.word in ("for", "to"):
                return MonthRule(self.text, _MONTH[word])
            self.fail(
                f"expected a day number after '{token.text}', found '{number.text}'",
                f'write e.g. "{MONTHS[_MONTH[word] - 1]} 3"',
                number,
            )
        if word in _ORDINAL or word in _IMPOSSIBLE_ORDINAL:
            return self.ordinal(token)
        if token.number is not None:
            following = self.peek()
            if following is not None and following.word in _MONTH:
                right = f"{MONTHS[_MONTH[following.word] - 1]} {token.text}"
                self.fail(f"write the month first: '{right}'", f'write "{right}"', token)
            self.fail(
                f"a number alone is not a rule: '{token.text}'",
                'write e.g. "December 3" or "2 days after first Sunday of May"',
                token,
            )
        if word in _WEEKDAY:
            self.fail(
                f"which {WEEKDAYS[_WEEKDAY[word]]}? expected 'before' or 'after' after '{token.text}'",
                f'write e.g. "first {WEEKDAYS[_WEEKDAY[word]]} of May" or '
                f'"{WEEKDAYS[_WEEKDAY[word]]} after first Sunday of May"',
                token,
            )
        self.unknown(
            token,
            (*MONTHS, *WEEKDAYS, *_ORDINAL_NAMES),
            "a day such as 'December 3' or 'first Monday of May'",
            _EXAMPLES,
        )

    def ordinal(self, token: _Token) -> _Base | FullWeekRule:
        """After ``first``/``third``/``last``...: ``day of``, ``full week of`` or ``<weekday> of``."""
        word = token.word
        edge = word in ("first", "last")
        after = self.take("a weekday, 'day' or 'full week'", 'write e.g. "third Thursday of May"')
        if after.word == "day":
            if not edge:
                self.fail(
                    f"only the first or last day of a month is supported, not the '{token.text}' day",
                    'write the date instead, e.g. "May 2"',
                    token,
                )
            self.keyword("of")
            month, _ = self.month()
            return _Edge(month, word == "last")
        if after.word in ("full", "week", "weeks"):
            if not edge:
                self.fail(
                    f"only the first or last full week of a month is supported, not the '{token.text}'",
                    'write "first full week of October" or "last full week of October"',
                    token,
                )
            if after.word != "full":
                self.fail(
                    f"'{self.quote(token, after)}' is unclear: write 'full week'",
                    f'write "{word} full week of October" (a Sunday-to-Saturday week inside the month)',
                    after,
                )
            self.keyword("week", f'write "{word} full week of October"')
            self.keyword("of", f'write "{word} full week of October"')
            month, _ = self.month()
            return FullWeekRule(self.text, month, word == "last")
        self.pos -= 1
        weekday, weekday_token = self.weekday()
        if word in _IMPOSSIBLE_ORDINAL:
            name = WEEKDAYS[weekday]
            self.fail(
                f"'{self.quote(token, weekday_token)}' can never happen: no month has more than five {name}s",
                f'write e.g. "last {name} of May"',
                token,
            )
        self.keyword("of", f'write e.g. "{word} {WEEKDAYS[weekday]} of May"')
        month, _ = self.month()
        return _Nth(_ORDINAL[word], weekday, month)

    def fixed(self, month: int, month_token: _Token) -> _Fixed:
        number = self.take("a day number", f'write e.g. "{MONTHS[month - 1]} 3"')
        name = MONTHS[month - 1]
        if number.number is None:
            self.fail(
                f"expected a day number after '{month_token.text}', found '{number.text}'",
                f'write e.g. "{name} 3"',
                number,
            )
        if len(number.text) == 4 and number.number > 31:
            self.fail(
                f"unexpected '{number.text}': a rule repeats every year, so it has no year",
                f'write "{name}" for the whole month, or a day such as "{name} 3"',
                number,
            )
        if number.number < 1:
            self.fail(
                f"'{name} {number.text}' can never happen: days are numbered from 1",
                f'write e.g. "{name} 1"',
                number,
            )
        most = _MAX_MONTH_DAYS[month - 1]
        if number.number > most:
            has = "has at most 29 days" if month == 2 else f"has {most} days"
            self.fail(
                f"'{name} {number.text}' can never happen: {name} {has}",
                f'write e.g. "last day of {name}"',
                number,
            )
        return _Fixed(month, number.number)

    def finish(self) -> None:
        token = self.peek()
        if token is None:
            return
        if token.number is not None and len(token.text) == 4:
            self.fail(
                f"unexpected '{token.text}': a rule repeats every year, so it has no year",
                "leave the year out",
                token,
            )
        self.fail(f"unexpected '{token.text}' after the end of the rule", _EXAMPLES, token)


def parse_when(text: str) -> Rule:
    """Parse a ``when`` rule once; raises ``WhenError`` for anything outside the grammar or impossible."""
    if not isinstance(text, str):
        raise WhenError(f"a when rule must be text, not {type(text).__name__}", hint=_EXAMPLES)
    return _Parser(text).rule()
