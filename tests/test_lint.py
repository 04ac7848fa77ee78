"""Accessibility and voice lint: every code with texts that must and must not trigger it."""

from __future__ import annotations

import pytest

from bot.lint import Finding, lint_hashtag, lint_text

FAMILY = "\U0001f468\u200d\U0001f469\u200d\U0001f467\u200d\U0001f466"


def codes(text: str) -> list[str]:
    return [f.code for f in lint_text(text)]


# --- hashtags -----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("tag", "hint"),
    [
        ("restraintandseclusion", "write it in CamelCase: #RestraintAndSeclusion"),
        ("endseclusion", "write it in CamelCase: #EndSeclusion"),
        ("#disabilityrights", "write it in CamelCase: #DisabilityRights"),
        ("autismacceptance", "write it in CamelCase: #AutismAcceptance"),
        ("disabilityrights2026", "write it in CamelCase: #DisabilityRights2026"),
        ("adhdawareness", "write it in CamelCase: #ADHDAwareness"),
        ("zorblequant", "capitalise each word (CamelCase), e.g. #EndSeclusion"),  # unknown words
        ("ENDSECLUSION", "write it in CamelCase: #EndSeclusion"),
        ("ADHDAWARENESS", "write it in CamelCase: #ADHDAwareness"),
        ("ZORBLEQUANT", "capitalise only the first letter of each word"),
        ("Endseclusion", "write it in CamelCase: #EndSeclusion"),
    ],
)
def test_hashtag_case_warns(tag: str, hint: str) -> None:
    finding = lint_hashtag(tag)
    assert finding is not None
    assert finding.code == "hashtag-case"
    assert finding.hint == hint
    assert f"#{tag.lstrip('#')}" in finding.message
    assert finding.offset == 0


def test_hashtag_message_is_plain() -> None:
    finding = lint_hashtag("restraintandseclusion")
    assert finding == Finding(
        "hashtag-case",
        "hashtag #restraintandseclusion is all lowercase: screen readers read it as one word",
        "write it in CamelCase: #RestraintAndSeclusion",
        0,
    )


@pytest.mark.parametrize(
    "tag",
    [
        "EndSeclusion",
        "RestraintAndSeclusion",
        "IDPD",
        "IDPD2026",
        "ADHD",
        "idpd",  # a known acronym, short
        "IDEA",
        "autism",  # one short word
        "inclusion",  # one known word, however long
        "seclusion",
        "cats",  # short unknown word
        "ADA35",
        "2026",
        "",
        "DisabilityPride",
    ],
)
def test_hashtag_case_quiet(tag: str) -> None:
    assert lint_hashtag(tag) is None


def test_hashtags_found_in_text_with_offsets() -> None:
    text = "Join us #endseclusion and #EndSeclusion, not a&#tag or email#fake"
    findings = lint_text(text)
    assert [(f.code, f.offset) for f in findings] == [("hashtag-case", 8)]


# --- emoji --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "count"),
    [
        ("\U0001f49b\U0001f499\U0001f49c\U0001f9e1", 4),
        (f"We {FAMILY} stand \U0001f1fa\U0001f1f8 with \u2764\ufe0f families \U0001f44d\U0001f3ff", 4),
        ("1\ufe0f\u20e3 2\ufe0f\u20e3 3\ufe0f\u20e3 4\ufe0f\u20e3 5\ufe0f\u20e3", 5),
    ],
)
def test_emoji_count_warns(text: str, count: int) -> None:
    findings = [f for f in lint_text(text) if f.code == "emoji-count"]
    assert len(findings) == 1
    assert findings[0].message.startswith(f"{count} emoji")
    assert "3 or fewer" in findings[0].hint


@pytest.mark.parametrize(
    "text",
    [
        "No emoji at all.",
        "\U0001f49b\U0001f499\U0001f49c",  # three is fine
        f"{FAMILY}{FAMILY}{FAMILY}",  # a ZWJ family is one emoji, not four
        "\U0001f1fa\U0001f1f8 \U0001f1ec\U0001f1e7 \U0001f1e8\U0001f1e6",  # flags are one each
        "\u00a9 2026 AASR\u2122, \u2022 bullets \u2190 arrows",  # text symbols are not emoji
    ],
)
def test_emoji_count_quiet(text: str) -> None:
    assert "emoji-count" not in codes(text)


def test_emoji_offset_points_at_the_fourth() -> None:
    text = "a\U0001f49b b\U0001f499 c\U0001f49c d\U0001f9e1"
    (finding,) = lint_text(text)
    assert text[finding.offset] == "\U0001f9e1"


# --- capitals -----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "word", "offset"),
    [
        ("STOP restraint now", "STOP", 0),
        ("This is NEVER okay", "NEVER", 8),
        ("Kids are SAFER without it", "SAFER", 9),
        ("\u00c9COLE", "\u00c9COLE", 0),
    ],
)
def test_all_caps_warns(text: str, word: str, offset: int) -> None:
    (finding,) = [f for f in lint_text(text) if f.code == "all-caps"]
    assert f'"{word}"' in finding.message
    assert finding.offset == offset
    assert word.capitalize() in finding.hint


@pytest.mark.parametrize(
    "text",
    [
        "The IDEA guarantees FAPE; ask about the IEP and PBIS.",
        "AASR, ADHD, CDC, USA, UN, OCR and CRDC data",
        "AASR's work and IEPs",
        "OK, NO, YES: short words are fine",
        "#ENDS is a hashtag (checked separately) and @SOMEONE a mention",
        "Read https://example.com/RESTRAINT-DATA for more",
        "Mixed CamelCase words like PowerPoint",
    ],
)
def test_all_caps_quiet(text: str) -> None:
    assert "all-caps" not in codes(text)


def test_each_capital_word_reported_once() -> None:
    assert codes("STOP. STOP. STOP.") == ["all-caps"]


# --- link text ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "offset"),
    [
        ("Click here: https://endseclusion.org/", 0),
        ("Our letters: tap here https://endseclusion.org/", 13),
        ("For our sample letters click here.", 23),
        ("Sample letters here https://endseclusion.org/", 15),
        ("Sample letters here: https://endseclusion.org/", 15),
        ("Read this link \u2192 https://endseclusion.org/", 5),
        ("Link: https://endseclusion.org/", 0),
        ("Link \U0001f449 https://endseclusion.org/", 0),
        ("Learn more here:", 11),  # the bot appends the link right after
        ("Learn more here \U0001f447", 11),
    ],
)
def test_link_text_warns(text: str, offset: int) -> None:
    findings = [f for f in lint_text(text) if f.code == "link-text"]
    assert len(findings) == 1, findings
    assert findings[0].offset == offset
    assert "say where the link goes" in findings[0].hint


@pytest.mark.parametrize(
    "text",
    [
        "Read our sample letters: https://endseclusion.org/",
        "We are here for families.",
        "We are here.",
        "Sample letters for parents\nhttps://endseclusion.org/",
        "Here is what the data says: https://endseclusion.org/data",  # 'here' not right before the link
        "The link between seclusion and trauma is clear.",
    ],
)
def test_link_text_quiet(text: str) -> None:
    assert "link-text" not in codes(text)


# --- language -----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "phrase", "hint_part"),
    [
        ("A boy who suffers from autism", "suffers from", '"has" or "lives with"'),
        ("children suffering from ADHD", "suffering from", '"has" or "lives with"'),
        ("She is wheelchair-bound", "wheelchair-bound", '"uses a wheelchair"'),
        ("He is wheelchair bound", "wheelchair bound", '"uses a wheelchair"'),
        ("someone Confined to a Wheelchair", "Confined to a Wheelchair", '"uses a wheelchair"'),
        ("those afflicted with epilepsy", "afflicted", '"has" or "lives with"'),
        ("a victim of autism", "victim of autism", '"autistic person"'),
        ("called him retarded", "retarded", "intellectual disability"),
        ("handicapped students", "handicapped", '"disabled"'),
    ],
)
def test_stigmatising_language_warns(text: str, phrase: str, hint_part: str) -> None:
    (finding,) = lint_text(text)
    assert finding.code == "stigmatising-language"
    assert f'"{phrase}"' in finding.message
    assert hint_part in finding.hint
    assert text[finding.offset : finding.offset + len(phrase)] == phrase


@pytest.mark.parametrize("text", ["students with special needs", "Special-needs classrooms"])
def test_special_needs_is_a_soft_warning(text: str) -> None:
    (finding,) = lint_text(text)
    assert finding.code == "preferred-language"
    assert '"disabilities"' in finding.hint


@pytest.mark.parametrize(
    "text",
    [
        "Disabled students have the right to learn safely.",
        "Autistic people and people with disabilities",
        "She uses a wheelchair.",
        "flame retardant materials",
        "Schools suffered budget cuts",  # not 'suffered from'
        "Read https://example.org/special-needs-and-handicapped for the history of these words",
    ],
)
def test_language_quiet(text: str) -> None:
    assert [c for c in codes(text) if c.endswith("language")] == []


# --- the whole text -----------------------------------------------------------------------------------------


def test_findings_come_in_text_order() -> None:
    text = "STOP! #endseclusion. Kids suffering from ADHD. Click here."
    assert [(f.code, f.offset) for f in lint_text(text)] == [
        ("all-caps", 0),
        ("hashtag-case", 6),
        ("stigmatising-language", 26),
        ("link-text", 47),
    ]


def test_clean_text_has_no_findings() -> None:
    text = (
        "Today is the International Day of Persons with Disabilities. Children with disabilities have the "
        "right to learn safely, free from restraint and seclusion. Read our sample letters: "
        "https://endseclusion.org/ #IDPD #DisabilityRights \U0001f49c"
    )
    assert lint_text(text) == []
