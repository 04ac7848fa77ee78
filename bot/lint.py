"""Accessibility and voice checks for post text: what a screen reader or a disabled reader would stumble on.

``validate`` reports these findings as warnings (errors with ``--strict``). Each finding has a stable code, a
plain message and an actionable hint. The checks follow the organisation's voice guide: CamelCase hashtags,
few emoji, no shouting in capitals, link text that says where it goes, and respectful disability language.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import regex  # type: ignore[import-untyped]  # regex ships no type information

from bot.textlen import url_spans

MAX_EMOJI = 3
LOWERCASE_TAG_MIN = 7
"""An all-lowercase hashtag this long (in letters) is probably several words run together."""
CAPS_TAG_MIN = 6
CAPS_WORD_MIN = 4

ACRONYMS: frozenset[str] = frozenset(
    """
    AAC AASR ABA ACLU ADA ADAAA ADHD AFT ASAN ASD BCBA BIP CCD CDC COPAA COVID CRDC CRPD DOE DOJ DSM ESSA FAPE
    FBA FERPA GAO HHS HIPAA IDEA IDEIA IDPD IEP IEPS LGBTQ LGBTQIA LRE MTSS NAACP NASP NCES NCLD NDRN NEA NIH
    NIMH NPR OCR ODD OSEP OSERS PBIS PBS PTSD RTI SAMHSA SEL SPLC STEM TASH UDL UN UNCRPD UNICEF USA USDOE WHO
    """.split()  # noqa: SIM905  # a block of words is easier to read and extend than quoted strings
)
"""Capitalised abbreviations that are not shouting (screen readers spell most of them out)."""

# Words the hashtag splitter knows, so it can suggest #RestraintAndSeclusion for #restraintandseclusion.
WORDS: frozenset[str] = frozenset(
    """
    a about abuse acceptance access accessibility accessible act action advocacy advocate advocates all ally
    an and anti autism autistic aware awareness back ban behavior behaviour black blind board care change
    child children civil class classroom classrooms community day de deaf developmental dignity disabilities
    disability disabled diversity down dyslexia ed education end ending epilepsy equal equity escalation every
    families family for free freedom from hands health human in include inclusion inclusive informed
    intellectual is justice keep kids law learn learning letter letters life lives living love matter matters
    mental month my national neurodivergent neurodiversity no not now of off on our parent parents peer people
    person positive practice practices pride prone protect public reform restraint restraints right rights
    safe safer safety school schools seclusion see special stop student students support supports teach
    teacher teachers the them to together trauma us voice voices we week with without world you young youth
    """.split()  # noqa: SIM905  # as above
)

_HASHTAG = regex.compile(r"(?<![\p{L}\p{M}\p{N}_&#])#([\p{L}\p{M}\p{N}_]+)")
_TOKEN = regex.compile(r"[\p{L}\p{M}\p{N}_'\u2019]+")
_FOUR_CAPITALS = regex.compile(
    rf"\p{{Uppercase}}(?:[\p{{L}}\p{{M}}\p{{N}}_'\u2019]*?\p{{Uppercase}}){{{CAPS_WORD_MIN - 1}}}"
)
_EMOJI = regex.compile(
    r"\p{Emoji_Presentation}|\p{Extended_Pictographic}\uFE0F|\p{Regional_Indicator}|\u20E3"
)
_GRAPHEME = regex.compile(r"\X")
_CLICK_HERE = regex.compile(r"\b(?:click|tap|press)\s+(?:here|this\s+link)\b", regex.IGNORECASE)
# Vague words right before a link (same line), or ending the text with a colon or pointer (link appended).
_VAGUE_BEFORE = regex.compile(
    r"\b(here|this\s+link|link|this)\s*[:\-\u2013\u2014\u2192>]*\s*\p{Extended_Pictographic}?\uFE0F?[ \t]*\Z",
    regex.IGNORECASE,
)
_VAGUE_END = regex.compile(
    r"\b(here|this\s+link|link)\s*(?::|\u2192|\p{Extended_Pictographic}\uFE0F?)\s*\Z", regex.IGNORECASE
)

_STIGMA: tuple[tuple[str, str, str, str], ...] = (
    # (code, pattern, message, hint)
    (
        "stigmatising-language",
        r"\bsuffer(?:s|ed|ing)?\s+(?:from|with)\b",
        '"{m}" frames disability as suffering',
        'say "has" or "lives with" (e.g. "has autism", "lives with epilepsy")',
    ),
    (
        "stigmatising-language",
        r"\bwheelchair[\s-]bound\b|\bconfined\s+to\s+a\s+wheelchair\b",
        '"{m}": a wheelchair gives freedom, it does not confine',
        'say "uses a wheelchair" or "wheelchair user"',
    ),
    (
        "stigmatising-language",
        r"\bafflicted\b",
        '"{m}" frames disability as an affliction',
        'say "has" or "lives with"',
    ),
    (
        "stigmatising-language",
        r"\bvictims?\s+of\s+autism\b",
        '"{m}" frames autism as something that happens to its victims',
        'say "autistic person" or "person with autism", as the person prefers',
    ),
    (
        "stigmatising-language",
        r"\bretard(?:ed|s)?\b",
        '"{m}" is a slur',
        'say "has an intellectual disability"',
    ),
    (
        "stigmatising-language",
        r"\bhandicapped\b",
        '"{m}" is outdated and hurtful to many disabled people',
        'say "disabled" or "has a disability" (for parking or toilets: "accessible")',
    ),
    (
        "preferred-language",
        r"\bspecial[\s-]needs\b",
        'many disabled people find "{m}" a euphemism',
        'prefer "disabilities" (e.g. "students with disabilities")',
    ),
)
_STIGMA_RE = tuple((code, regex.compile(p, regex.IGNORECASE), m, h) for code, p, m, h in _STIGMA)


@dataclass(frozen=True, slots=True)
class Finding:
    """One thing a reader might stumble on, with how to fix it."""

    code: str
    """Stable short id: hashtag-case, emoji-count, all-caps, link-text, stigmatising-language, ..."""
    message: str
    hint: str
    offset: int
    """Character offset in the checked text (0 if not applicable)."""


_EMOJI_BETWEEN = regex.compile(
    r"[\p{L}\p{N}][,;:]?[ \t]+(?:\p{Emoji_Presentation}|\p{Extended_Pictographic}\uFE0F?)[ \t]+[\p{L}\p{N}]"
)
_EMOJI_BULLET = regex.compile(
    r"(?m)^[ \t]*(?:\p{Emoji_Presentation}|\p{Extended_Pictographic}\uFE0F?)[ \t]*\p{L}"
)


def _emoji_placement(text: str) -> list[Finding]:
    """An emoji between two words, or starting a line as a bullet: a screen reader reads its name mid-sentence."""
    found = []
    for pattern, what in ((_EMOJI_BETWEEN, "between words"), (_EMOJI_BULLET, "as a bullet")):
        m = pattern.search(text)
        if m:
            found.append(
                Finding(
                    "emoji-placement",
                    f"emoji used {what}: a screen reader reads its name in the middle of the sentence",
                    "use words (or a plain '-' for a list) and put any emoji at the end",
                    m.start(),
                )
            )
    return found


def lint_text(text: str) -> list[Finding]:
    """Every finding for a post text, in text order."""
    urls = url_spans(text)
    findings = [
        *_hashtags(text),
        *_emoji(text),
        *_emoji_placement(text),
        *_all_caps(text, urls),
        *_link_text(text, urls),
        *_language(text, urls),
    ]
    return sorted(findings, key=lambda f: (f.offset, f.code))


ALT_MIN_WORDS = 4
"""Alt text shorter than this rarely says what an image shows."""
MAX_HASHTAGS = 4
"""More hashtags than this crowd a post: each one is read aloud in full by a screen reader."""
_ALT_PLACEHOLDER = regex.compile(r"(?i)^(an?\s+)?(image|photo|picture|graphic|pic|img|screenshot|logo)s?\.?$")
_ALT_FILE_NAME = regex.compile(r"(?i)^[\w\-. ]+\.(png|jpe?g|gif|webp|svg|bmp|heic)$")
_ALT_REDUNDANT_START = regex.compile(r"(?i)^(an?\s+)?(image|photo|picture|graphic)\s+(of|showing)\b")


def lint_alt(alt: str) -> Finding | None:
    """A finding when alt text would not help someone who cannot see the image."""
    text = alt.strip()
    if _ALT_FILE_NAME.match(text):
        return Finding(
            "alt-file-name",
            f"alt text {text!r} is a file name: a screen reader would read it out as it is",
            "describe what the image shows, e.g. 'Two students reading together in a library'",
            0,
        )
    if _ALT_PLACEHOLDER.match(text):
        return Finding(
            "alt-placeholder",
            f"alt text {text!r} says there is an image, not what it shows",
            "describe what the image shows and why it matters to the post",
            0,
        )
    if _ALT_REDUNDANT_START.match(text):
        return Finding(
            "alt-redundant-start",
            "alt text starts by saying it is an image: screen readers already announce that",
            "start with what the image shows, e.g. 'Two students reading ...'",
            0,
        )
    if len(text.split()) < ALT_MIN_WORDS:
        return Finding(
            "alt-too-short",
            f"alt text {text!r} is only {len(text.split())} word(s)",
            f"use at least {ALT_MIN_WORDS} words that say what the image shows",
            0,
        )
    return None


def lint_hashtag_count(count: int) -> Finding | None:
    if count <= MAX_HASHTAGS:
        return None
    return Finding(
        "hashtag-count",
        f"this post has {count} hashtags",
        f"keep to {MAX_HASHTAGS} or fewer: screen readers read each one in full, and many feel like noise",
        0,
    )


def lint_hashtag(tag: str, *, offset: int = 0) -> Finding | None:
    """A finding if the hashtag (with or without '#') would be read badly by a screen reader."""
    tag = tag.strip().lstrip("#")
    letters = "".join(ch for ch in tag if ch.isalpha())
    if not letters or tag.upper() in ACRONYMS:
        return None
    camel = _camel(tag)
    if letters.islower():
        if camel is not None and sum(ch.isupper() for ch in camel) > 1:
            return Finding(
                "hashtag-case",
                f"hashtag #{tag} is all lowercase: screen readers read it as one word",
                f"write it in CamelCase: #{camel}",
                offset,
            )
        if camel is None and len(letters) >= LOWERCASE_TAG_MIN:
            return Finding(
                "hashtag-case",
                f"hashtag #{tag} is all lowercase: screen readers may read it as one long word",
                "capitalise each word (CamelCase), e.g. #EndSeclusion",
                offset,
            )
        return None
    if letters.isupper() and len(letters) >= CAPS_TAG_MIN:
        fix = f"write it in CamelCase: #{camel}" if camel else "capitalise only the first letter of each word"
        return Finding(
            "hashtag-case",
            f"hashtag #{tag} is all capitals: screen readers may spell it out letter by letter",
            fix,
            offset,
        )
    if letters[0].isupper() and letters[1:].islower() and camel is not None and camel != tag:
        return Finding(
            "hashtag-case",
            f"hashtag #{tag} runs several words together with only the first capitalised",
            f"write it in CamelCase: #{camel}",
            offset,
        )
    return None


def hashtag_spans(text: str) -> list[tuple[int, int]]:
    """``(start, end)`` of each hashtag, ``#`` included: the same rule the checks above use, so a page marks
    exactly the tags they look at."""
    return [m.span() for m in _HASHTAG.finditer(text)]


def _hashtags(text: str) -> list[Finding]:
    found = (lint_hashtag(m.group(1), offset=m.start()) for m in _HASHTAG.finditer(text))
    return [f for f in found if f is not None]


@lru_cache(maxsize=512)
def _split(word: str) -> tuple[str, ...] | None:
    """The fewest known words (or acronyms) that spell ``word`` (lowercase letters), or None."""
    best: list[tuple[str, ...] | None] = [None] * (len(word) + 1)
    best[0] = ()
    for end in range(1, len(word) + 1):
        for start in range(max(0, end - 20), end):
            head = best[start]
            piece = word[start:end]
            if head is None or not (piece in WORDS or piece.upper() in ACRONYMS):
                continue
            current = best[end]
            if current is None or len(head) + 1 < len(current):
                best[end] = (*head, piece)
    return best[len(word)]


def _camel(tag: str) -> str | None:
    """``tag`` in CamelCase (acronyms in capitals), if every run of letters splits into known words."""
    out: list[str] = []
    for run in regex.findall(r"\p{L}+|[^\p{L}]+", tag):
        if not run[0].isalpha():
            out.append(run)
            continue
        words = _split(run.lower())
        if words is None:
            return None
        out.extend(w.upper() if w.upper() in ACRONYMS else w.capitalize() for w in words)
    return "".join(out)


def _emoji(text: str) -> list[Finding]:
    if len(_EMOJI.findall(text)) <= MAX_EMOJI:
        return []  # every emoji holds at least one such character, so there can't be too many
    offsets: list[int] = []
    pos = 0
    for cluster in _GRAPHEME.findall(text):
        if _EMOJI.search(cluster):
            offsets.append(pos)
        pos += len(cluster)
    if len(offsets) <= MAX_EMOJI:
        return []
    return [
        Finding(
            "emoji-count",
            f"{len(offsets)} emoji: screen readers read the name of each one aloud",
            f"keep to {MAX_EMOJI} or fewer, and put them at the end rather than between words",
            offsets[MAX_EMOJI],
        )
    ]


def _in_spans(start: int, end: int, spans: list[tuple[int, int]]) -> bool:
    return any(s < end and start < e for s, e in spans)


def _all_caps(text: str, urls: list[tuple[int, int]]) -> list[Finding]:
    if not _FOUR_CAPITALS.search(text):
        return []  # a word in capitals needs CAPS_WORD_MIN capital letters within one token
    findings: list[Finding] = []
    seen: set[str] = set()
    for m in _TOKEN.finditer(text):
        word = m.group().strip("'\u2019")
        if not word.isupper():
            continue  # cheap: a word whose letters are all capitals is always isupper()
        letters = [ch for ch in word if ch.isalpha()]
        if len(letters) < CAPS_WORD_MIN or not all(ch.isupper() for ch in letters):
            continue
        before = text[m.start() - 1 : m.start()]
        bare = regex.sub(r"['\u2019]S\Z|\d+", "", word)
        if before in ("#", "@") or _in_spans(m.start(), m.end(), urls) or bare in ACRONYMS or word in seen:
            continue
        seen.add(word)
        findings.append(
            Finding(
                "all-caps",
                f'"{word}" is in capitals: screen readers may spell it out, and it reads as shouting',
                f'write "{word.capitalize()}" (use emphasis sparingly); if it is an acronym, it can stay',
                m.start(),
            )
        )
    return findings


def _link_text(text: str, urls: list[tuple[int, int]]) -> list[Finding]:
    hint = 'say where the link goes, e.g. "Read our sample letters: <link>"'
    clicks = [(m.start(), m.end()) for m in _CLICK_HERE.finditer(text)]
    findings = [
        Finding(
            "link-text",
            f'"{text[start:end]}" tells a screen-reader user nothing about where the link goes',
            hint,
            start,
        )
        for start, end in clicks
    ]
    vague = []
    for start, _ in urls:
        line_start = text.rfind("\n", 0, start) + 1
        m = _VAGUE_BEFORE.search(text, line_start, start)
        if m is not None:
            vague.append(m)
    end_match = _VAGUE_END.search(text.rstrip())  # the bot appends the link after the text
    if end_match is not None:
        vague.append(end_match)
    for m in vague:
        if _in_spans(m.start(), m.end(), clicks):
            continue
        findings.append(
            Finding(
                "link-text",
                f'the link is introduced only by "{m.group(1)}": a screen-reader user hears no destination',
                hint,
                m.start(),
            )
        )
    return findings


def _language(text: str, urls: list[tuple[int, int]]) -> list[Finding]:
    findings: list[Finding] = []
    for code, pattern, message, hint in _STIGMA_RE:
        for m in pattern.finditer(text):
            if _in_spans(m.start(), m.end(), urls):
                continue
            findings.append(Finding(code, message.format(m=m.group()), hint, m.start()))
    return findings
