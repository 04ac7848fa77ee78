"""Content warnings: ``content_warning:`` on a post and ``feed.categories`` rules on stories. Networks without
native warnings get a ``CW:`` first line (a per-network setting turns it off), counted in every length check.
Also a post's own ``language:``, and server-reported limits kept in the ledger."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime
from pathlib import Path
from types import MappingProxyType

from bot.cli.wiring import with_server_options
from bot.compose import compose
from bot.feed import parse_feed
from bot.models import Draft
from bot.planner import due_between, feed_draft
from bot.publishers import registry
from bot.schedules import load_schedules
from bot.store import Ledger

NOW = datetime(2027, 1, 5, 15, 0, tzinfo=UTC)


def write(root: Path, files: dict[str, str]) -> Path:
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return root


def no_spoiler_networks() -> list[str]:
    return [s.id for s in registry.specs() if not s.spoilers]


def test_a_content_warning_is_the_first_line_where_the_network_has_none() -> None:
    draft = Draft("queue/q", "queue", "q", "f", "A child was hurt in a school.", content_warning="restraint")
    for network in no_spoiler_networks():
        post = compose(draft, network)
        assert post.text == "CW: restraint\nA child was hurt in a school."
        assert post.content_warning is None
        assert post.length == registry.measure(network, post.text)


def test_the_cw_line_can_be_turned_off_per_network(tmp_path: Path) -> None:
    network = no_spoiler_networks()[0]
    root = write(tmp_path / "s", {"settings.yaml": f"{network}:\n  content_warning_line: false\n"})
    settings = load_schedules(root, tmp_path / "content").schedules.settings
    rules = registry.text_rules(network, settings.network_options)
    draft = Draft("queue/q", "queue", "q", "f", "Text.", content_warning="restraint")
    assert compose(draft, network, rules=rules).text == "Text."
    other = [n for n in no_spoiler_networks() if n != network]
    for name in other:
        assert compose(draft, name).text.startswith("CW: restraint\n")


def test_validate_counts_the_cw_line_and_checks_the_keys(tmp_path: Path) -> None:
    network = no_spoiler_networks()[0]
    limit = registry.text_rules(network).limit
    fits_alone = "a" * limit
    root = write(
        tmp_path / "s",
        {
            "settings.yaml": f"networks: [{network}]\n",
            "queue/q.yaml": "posts:\n"
            f"  - id: ok\n    at: '2027-01-05 10:00'\n    text: {fits_alone}\n"
            f"  - id: warned\n    at: '2027-01-06 10:00'\n    text: {fits_alone}\n"
            "    content_warning: injury\n"
            "  - id: bad\n    at: '2027-01-07 10:00'\n    text: Hi.\n    content_warning: ''\n"
            "    language: not a language\n"
            "  - id: es\n    at: '2027-01-08 10:00'\n    text: Hola.\n    language: es\n",
        },
    )
    loaded = load_schedules(root, tmp_path / "content")
    found = [(p.line, p.message) for p in loaded.errors()]
    assert found == [
        (
            7,
            # no link or hashtags here, so the message counts nothing added after the text
            f"text is too long for {network}: {limit + 11}/{limit} {registry.text_rules(network).unit}",
        ),
        (12, "content_warning is empty"),
        (13, "language 'not a language' is not a language tag"),
    ]
    queue = {q.id: q for q in loaded.schedules.queue}
    assert queue["es"].spec.language == "es"
    due = {d.draft.key: d.draft for d in due_between(loaded.schedules, NOW, NOW.replace(day=9))}
    assert due["queue/es"].langs == ("es",)


FEED = b"""<?xml version="1.0"?>
<rss version="2.0"><channel><title>AASR</title><link>https://endseclusion.org/</link>
<item><title>A boy was restrained for hours</title><link>https://endseclusion.org/story-1/</link>
<guid>1</guid><category>Restraint</category><category>News</category></item>
<item><title>New sample letters</title><link>https://endseclusion.org/story-2/</link><guid>2</guid>
<category>Resources</category></item>
</channel></rss>"""


def test_feed_categories_give_stories_a_warning_and_hashtags(tmp_path: Path) -> None:
    root = write(
        tmp_path / "s",
        {
            "settings.yaml": "feed:\n  hashtags: [EndSeclusion]\n  categories:\n"
            "    restraint:\n      content_warning: restraint of a child\n"
            "      hashtags: [EndRestraint, EndSeclusion]\n"
            "    Resources: {hashtags: [SpecialEducation]}\n"
        },
    )
    loaded = load_schedules(root, tmp_path / "content")
    assert loaded.errors() == []
    settings = loaded.schedules.settings
    hurt, letters = parse_feed(FEED, url="https://endseclusion.org/feed/")
    assert hurt.categories == ("Restraint", "News")
    draft = feed_draft(hurt, "feed/1", settings, NOW)
    assert draft.content_warning == "restraint of a child"
    assert draft.hashtags == ("EndSeclusion", "EndRestraint")
    other = feed_draft(letters, "feed/2", settings, NOW)
    assert other.content_warning is None
    assert other.hashtags == ("EndSeclusion", "SpecialEducation")
    for network in no_spoiler_networks():
        post = compose(draft, network)
        assert post.text.startswith("CW: restraint of a child\nNew on endseclusion.org: A boy")
        assert registry.fits(network, post.text)


def test_bad_category_rules_are_reported_where_they_are(tmp_path: Path) -> None:
    root = write(
        tmp_path / "s",
        {"settings.yaml": "feed:\n  categories:\n    restraint: yes\n    news:\n      warning: x\n"},
    )
    found = [(p.line, p.message) for p in load_schedules(root, tmp_path / "content").errors()]
    assert found == [
        (3, "category 'restraint' needs content_warning: and/or hashtags:"),
        (5, "unknown key 'warning' in feed category 'news'"),
    ]


def test_server_options_from_the_ledger_lie_over_the_settings(tmp_path: Path) -> None:
    network = registry.ids()[0]
    root = write(tmp_path / "s", {"settings.yaml": f"networks: [{network}]\n"})
    schedules = load_schedules(root, tmp_path / "content").schedules
    with Ledger.open(str(tmp_path / "ledger.sqlite3")) as ledger:
        assert with_server_options(schedules, ledger).settings.network_options == (
            schedules.settings.network_options
        )
        ledger.set_flag(f"server-options:{network}", '{"reported_limit": 7}')
        laid = with_server_options(schedules, ledger).settings.network_options[network]
    assert laid["reported_limit"] == 7
    assert dict(laid) == {**registry.get(network).defaults(), "reported_limit": 7}
    assert dataclasses.replace(schedules.settings, network_options=MappingProxyType({})).networks == (
        network,
    )
