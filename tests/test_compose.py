"""Composition: templates, link and hashtag layout, variants, title fitting, and people's text never cut."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
import regex
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.compose import TemplateError, clean_title, compose, placeholders, render, shorten
from bot.models import Draft, Image, Receipt
from bot.publishers.bluesky import MAX_BYTES as BLUESKY_MAX_BYTES
from bot.publishers.registry import fits, measure
from bot.textlen import (
    bluesky_length,
    extract_urls,
    graphemes,
    utf8_length,
    x_length,
)

LINK = "https://endseclusion.org/2026/03/a-story-about-seclusion-rooms/"
FAMILY = "\U0001f468\u200d\U0001f469\u200d\U0001f467\u200d\U0001f466"
FLAG_US = "\U0001f1fa\U0001f1f8"


def draft(text: str = "Hello", **kw: object) -> Draft:
    fields: dict[str, object] = {"key": "queue/t", "source": "queue", "name": "Test", "file": "queue/t.yaml"}
    fields.update(kw)
    return Draft(text=text, **fields)  # type: ignore[arg-type]


def feed_draft(title: str, *, template: str = "New on endseclusion.org: {title}", **kw: object) -> Draft:
    return draft(template, key="feed/1", source="feed", fit=True, link=LINK, context={"title": title}, **kw)


# --- render -------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kw", "expected"),
    [
        ({}, "Hello"),
        ({"link": "https://endseclusion.org/"}, "Hello\n\nhttps://endseclusion.org/"),
        ({"hashtags": ("EndSeclusion", "IDPD")}, "Hello\n\n#EndSeclusion #IDPD"),
        (
            {"link": "https://endseclusion.org/", "hashtags": ("EndSeclusion",)},
            "Hello\n\nhttps://endseclusion.org/\n#EndSeclusion",
        ),
        # Tags already in the text (any case) and repeated tags are not added again; '#' is tolerated.
        (
            {"text": "Hello #endseclusion", "hashtags": ("EndSeclusion", "IDPD")},
            "Hello #endseclusion\n\n#IDPD",
        ),
        ({"hashtags": ("IDPD", "idpd", "#IDPD")}, "Hello\n\n#IDPD"),
        # A longer tag in the text does not count as the shorter one.
        (
            {"text": "Go #EndSeclusionNow", "hashtags": ("EndSeclusion",)},
            "Go #EndSeclusionNow\n\n#EndSeclusion",
        ),
        ({"text": "Go #EndSeclusion #IDPD", "hashtags": ("EndSeclusion", "IDPD")}, "Go #EndSeclusion #IDPD"),
        # The link is not appended when the text already has it (also without the trailing slash).
        (
            {"text": "See https://endseclusion.org/ now", "link": "https://endseclusion.org/"},
            "See https://endseclusion.org/ now",
        ),
        (
            {"text": "See https://endseclusion.org.", "link": "https://endseclusion.org/"},
            "See https://endseclusion.org.",
        ),
        # ... but a longer URL that merely starts with it is a different page.
        (
            {"text": "See https://endseclusion.org/letters/", "link": "https://endseclusion.org/"},
            "See https://endseclusion.org/letters/\n\nhttps://endseclusion.org/",
        ),
        (
            {"text": "Read it: {link}", "link": "https://endseclusion.org/"},
            "Read it: https://endseclusion.org/",
        ),
        ({"text": "  Hello  \n\n"}, "Hello"),
    ],
)
def test_render_layout(kw: dict[str, object], expected: str) -> None:
    kw = dict(kw)
    text = kw.pop("text", "Hello")
    assert render(draft(str(text), **kw), "x") == expected


def test_render_uses_the_network_variant() -> None:
    d = draft("Long text for everyone", variants={"x": "Short for X {year}"}, context={"year": "2026"})
    assert render(d, "x") == "Short for X 2026"
    assert render(d, "bluesky") == "Long text for everyone"


@pytest.mark.parametrize(
    ("text", "context", "expected"),
    [
        ("{name} {year}", {"year": "2026"}, "Test 2026"),  # {name} falls back to the draft's name
        ("{name}", {"name": "IDPD"}, "IDPD"),
        ("{{literal}} {date}", {"date": "December 3"}, "{literal} December 3"),
        ("{{{year}}}", {"year": "2026"}, "{2026}"),
        ("{title}", {"title": "A {year} title"}, "A {year} title"),  # values are not templates themselves
        ("no placeholders", {}, "no placeholders"),
    ],
)
def test_render_fills_placeholders(text: str, context: dict[str, str], expected: str) -> None:
    assert render(draft(text, context=context), "bluesky") == expected


def test_render_refuses_unknown_placeholder() -> None:
    with pytest.raises(TemplateError, match=r"unknown placeholder \{yeer\}.*\{year\}") as info:
        render(draft("Hi {yeer}", context={"year": "2026"}), "x")
    assert info.value.offset == 3
    assert isinstance(info.value, ValueError)


@pytest.mark.parametrize(
    ("template", "names"),
    [
        ("plain", []),
        ("{name} in {year}: {name}", ["name", "year"]),
        ("{{not}} {this}", ["this"]),
        ("{{{a}}}", ["a"]),
        ("{title_2}", ["title_2"]),
    ],
)
def test_placeholders(template: str, names: list[str]) -> None:
    assert placeholders(template) == names


@pytest.mark.parametrize(
    ("template", "message", "offset"),
    [
        ("Hello {name", "never closed", 6),
        ("Hello }", "single '}'", 6),
        ("a {} b", "not a placeholder", 2),
        ("{two words}", "not a placeholder", 0),
        ("{0}", "not a placeholder", 0),
        ("{x.y}", "not a placeholder", 0),
        ("{x!r}", "not a placeholder", 0),
        ("{x:>10}", "not a placeholder", 0),
        ("ok {a} then {", "never closed", 12),
    ],
)
def test_placeholders_reject_broken_templates(template: str, message: str, offset: int) -> None:
    with pytest.raises(TemplateError, match=message) as info:
        placeholders(template)
    assert info.value.offset == offset


# --- compose ------------------------------------------------------------------------------------------------


def test_compose_carries_everything() -> None:
    image = Image(path=Path("images/idpd.png"), alt="Children in a classroom")
    receipt = Receipt(network="x", remote_id="1", url="https://x.com/i/1")
    due = datetime(2026, 12, 3, 15, tzinfo=UTC)
    d = draft(
        "Hi",
        link="https://endseclusion.org/",
        images=(image,),
        langs=("en", "es"),
        labels=("graphic-media",),
    )
    post = compose(d, "x", reply_to=receipt, due_at=due)
    assert post.key == "queue/t"
    assert post.network == "x"
    assert post.text == "Hi\n\nhttps://endseclusion.org/"
    assert post.length == 2 + 2 + 23
    assert post.limit == 280
    assert post.link == "https://endseclusion.org/"
    assert post.images == (image,)
    assert post.langs == ("en", "es")
    assert post.labels == ("graphic-media",)
    assert post.reply_to is receipt
    assert post.due_at == due
    bluesky = compose(d, "bluesky")
    assert (bluesky.length, bluesky.limit) == (2 + 2 + 25, 300)


@pytest.mark.parametrize("network", ["x", "bluesky"])
def test_peoples_text_is_never_cut(network: str) -> None:
    text = "Children deserve safe schools. " * 12  # 372 characters
    post = compose(draft(text.strip(), link=LINK, hashtags=("EndSeclusion",)), network)
    assert post.text.startswith(text.strip())
    assert post.text.endswith(f"{LINK}\n#EndSeclusion")
    assert post.length > post.limit
    assert not fits(network, post.text)


def test_peoples_text_over_bluesky_bytes_is_not_cut() -> None:
    text = FAMILY * 121  # 121 graphemes, 3025 bytes
    post = compose(draft(text), "bluesky")
    assert post.text == text
    assert post.length == 121 <= post.limit
    assert not fits("bluesky", post.text)  # callers must check fits(), not only length <= limit


def test_short_feed_title_is_left_alone() -> None:
    post = compose(feed_draft("Sample letters for parents", hashtags=("EndSeclusion",)), "x")
    assert post.text == f"New on endseclusion.org: Sample letters for parents\n\n{LINK}\n#EndSeclusion"


@pytest.mark.parametrize("network", ["x", "bluesky"])
def test_long_feed_title_is_shortened_at_a_word(network: str) -> None:
    title = " ".join(f"word{i}" for i in range(100))
    post = compose(feed_draft(title, hashtags=("EndSeclusion",)), network)
    assert fits(network, post.text)
    body = post.text.split("\n\n")[0]
    kept = body.removeprefix("New on endseclusion.org: ")
    assert kept.endswith("\u2026")
    assert title.startswith(kept.removesuffix("\u2026") + " ")
    assert post.text.endswith(f"{LINK}\n#EndSeclusion")
    # The longest cut that fits: one more word would not.
    words = kept.removesuffix("\u2026").split(" ")
    longer = post.text.replace(kept, " ".join([*words, title.split(" ")[len(words)]]) + "\u2026")
    assert not fits(network, longer)


def test_x_and_bluesky_fit_differently() -> None:
    title = " ".join(
        ["\u65e5\u672c\u8a9e\u306e\u8a18\u4e8b"] * 60
    )  # CJK weighs 2 on X, 1 grapheme on Bluesky
    x = compose(feed_draft(title), "x")
    bluesky = compose(feed_draft(title), "bluesky")
    assert fits("x", x.text) and fits("bluesky", bluesky.text)
    assert len(x.text) < len(bluesky.text)


def test_url_in_title_is_never_split_and_ellipsis_stays_out_of_it() -> None:
    url = "https://example.org/" + "a" * 60
    for title in ["Word " * 10 + url + " tail" * 80, "Word " * 10 + url + " " + "x" * 300]:
        for network in ("x", "bluesky"):
            post = compose(feed_draft(title), network)
            assert fits(network, post.text)
            assert url + " " in post.text
            # "endseclusion.org" in the template is a link to X too.
            assert extract_urls(post.text) == ["endseclusion.org", url, LINK]
    assert f"{url} \u2026" in compose(feed_draft("Word " * 10 + url + " " + "x" * 300), "x").text


def test_ellipsis_after_a_hashtag_or_url_gets_a_space() -> None:
    out = shorten("Read #EndSeclusion and more words here", 22, len)
    assert out == "Read #EndSeclusion \u2026"
    out = shorten("See https://a.org/x then more words", 22, len)
    assert out == "See https://a.org/x \u2026"


@pytest.mark.parametrize(
    ("text", "max_len", "expected"),
    [
        ("short", 10, "short"),
        ("one two three four", 12, "one two\u2026"),
        ("one, two, three", 12, "one, two\u2026"),  # the comma before the cut is dropped
        ("one two three", 3, "on\u2026"),  # no word fits: cut inside the first one
        ("one two three", 1, ""),  # nothing but an ellipsis would fit: give nothing
        ("Supercalifragilistic", 6, "Super\u2026"),  # no word boundary: cut inside the word
        ("\u65e5\u672c\u8a9e\u306e\u30bf\u30a4\u30c8\u30eb", 4, "\u65e5\u672c\u8a9e\u2026"),
        (FAMILY * 5, 3, FAMILY * 2 + "\u2026"),  # measured in graphemes below
        ("#EndSeclusionForever", 10, ""),  # a hashtag is never split
    ],
)
def test_shorten(text: str, max_len: int, expected: str) -> None:
    assert shorten(text, max_len, bluesky_length) == expected


def test_shorten_drops_hashtags_when_even_an_empty_title_does_not_fit() -> None:
    template = "x" * 240 + " {title}"
    tags = ("EndSeclusion", "DisabilityRights")
    post = compose(feed_draft("A title", template=template, hashtags=tags), "x")
    # 240 + 2 + link 23 + 1 + tags 31 = 297 even with no title: the tags go, the whole title then fits.
    assert post.text == "x" * 240 + " A title\n\n" + LINK
    assert fits("x", post.text)


def test_unfittable_feed_post_comes_back_too_long_with_its_link() -> None:
    template = "x" * 300 + " {title}"
    post = compose(feed_draft("A title", template=template, hashtags=("EndSeclusion",)), "bluesky")
    assert post.length > post.limit
    assert post.text.endswith(LINK)
    assert "#EndSeclusion" not in post.text


# --- property: fitted posts always fit, keep the link, and never split anything -----------------------------

_words = st.sampled_from(
    [
        "restraint",
        "seclusion",
        "children",
        "a",
        "of",
        "schools",
        "#EndSeclusion",
        "#IDPD2026",
        "@endseclusion.org",
        "https://endseclusion.org/letters/",
        "endseclusion.org",
        "http://example.com/a-(b)",
        FAMILY,
        FLAG_US,
        "\U0001f44d\U0001f3ff",
        "e\u0301t\u00e9",
        "\u65e5\u672c\u8a9e",
        "\u0915\u094d\u0937",
        "Supercalifragilisticexpialidocious" * 3,
        "\u2014",
        ",",
    ]
)
_titles = st.one_of(
    st.lists(_words, max_size=120).map(" ".join),
    st.lists(st.one_of(_words, st.text(max_size=12)), max_size=80).map(" ".join),
    st.text(max_size=600),
).map(lambda t: " ".join(t.split()))

_HASHTAG_OR_MENTION = regex.compile(r"[#@][\p{L}\p{M}\p{N}_]+(?:[.\-][\p{L}\p{M}\p{N}_]+)*")


def _kept_part(text: str, prefix: str) -> str:
    body = text[len(prefix) : text.rindex("\n\n" + LINK)] if "\n\n" + LINK in text else text[len(prefix) :]
    return body


def _assert_cut_cleanly(original: str, out: str) -> None:
    """``out`` is ``original`` or a clean cut: whole graphemes, URLs, hashtags and mentions, then "…"."""
    if out in ("", original):
        return
    assert out.endswith("\u2026")
    kept = out.removesuffix("\u2026").removesuffix(" ")
    clusters = graphemes(kept)
    assert graphemes(original)[: len(clusters)] == clusters
    whole = set(extract_urls(original)) | set(_HASHTAG_OR_MENTION.findall(original))
    for part in [*extract_urls(kept), *_HASHTAG_OR_MENTION.findall(kept)]:
        assert part in whole, (part, kept)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(title=_titles, tags=st.sampled_from([(), ("EndSeclusion",), ("EndSeclusion", "DisabilityRights")]))
def test_fitted_posts_always_fit(title: str, tags: tuple[str, ...]) -> None:
    prefix = "New on endseclusion.org: "
    for network in ("x", "bluesky"):
        post = compose(feed_draft(title, hashtags=tags), network)
        assert fits(network, post.text), (network, post.text)
        assert post.length == measure(network, post.text) <= post.limit
        assert post.text.startswith(prefix.rstrip())
        assert LINK in extract_urls(post.text)
        if post.text.startswith(prefix):
            _assert_cut_cleanly(title, _kept_part(post.text, prefix))


@settings(max_examples=300, deadline=None)
@given(text=st.one_of(st.text(max_size=300), _titles), max_len=st.integers(min_value=0, max_value=200))
def test_shorten_property(text: str, max_len: int) -> None:
    for measure_fn in (bluesky_length, x_length, utf8_length):
        out = shorten(text, max_len, measure_fn)
        assert measure_fn(out) <= max_len
        _assert_cut_cleanly(text, out)


# --- clean_title --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        ("Plain title", "Plain title"),
        ("Tom &amp; Jerry", "Tom & Jerry"),
        ("Tom &amp;amp; Jerry", "Tom & Jerry"),  # double-encoded
        ("Tom &amp;amp;amp; Jerry", "Tom & Jerry"),
        ("Parents&#8217; rights &#x2014; now", "Parents\u2019 rights \u2014 now"),
        ("<b>Bold</b> move", "Bold move"),
        ("&lt;em&gt;Escaped&lt;/em&gt; tags", "Escaped tags"),
        ("Line<br/>break", "Line break"),
        ("Inline <em>emph</em>asis", "Inline emphasis"),
        ("  lots \n\t of   space\u00a0here ", "lots of space here"),
        ("3 < 5 and 7 > 2", "3 < 5 and 7 > 2"),  # comparisons are not tags
        ("Cafe\u0301", "Caf\u00e9"),  # NFC
        ("<!-- note -->Title", "Title"),
        ("", ""),
    ],
)
def test_clean_title(raw: str, clean: str) -> None:
    assert clean_title(raw) == clean


def test_bluesky_byte_limit_also_fits_titles() -> None:
    title = " ".join([FAMILY * 3] * 60)  # few graphemes, many bytes
    post = compose(feed_draft(title), "bluesky")
    assert fits("bluesky", post.text)
    assert utf8_length(post.text) <= BLUESKY_MAX_BYTES
    assert post.text.endswith(LINK)
