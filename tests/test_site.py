"""`site`: the static pages built from the schedules through the bot's own planner and renderer, the rolling
calendar.ics (also `calendar --rolling`), edit links, warnings beside their posts, the status page from a real
SQLite ledger; it never imports a network SDK and never opens a connection."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from icalendar import Calendar
from markupsafe import escape

from bot.cli import main
from bot.planner import day_window, due_between
from bot.preview import render_due
from bot.schedules import load_schedules
from bot.site.views import anchor
from tests.browser_fixtures import (
    ALT,
    FIRST,
    THREAD_ALT,
    THREAD_HELD,
    THREAD_ID,
    THREAD_LATE,
    THREAD_TEXTS,
    chromium_path,
    schedules_with_extras,
    seed_ledger,
)

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture
def extras(tmp_path: Path) -> Path:
    return schedules_with_extras(tmp_path)


def build(out: Path, *argv: str) -> str:
    assert main(["site", "--out", str(out), "--from", FIRST, *argv]) == 0
    return (out / "index.html").read_text()


def test_every_due_post_is_on_the_index_once(tmp_path: Path) -> None:
    index = build(tmp_path / "site")
    loaded = load_schedules(REPO / "schedules", REPO / "content")
    tz = loaded.schedules.settings.timezone
    first = date.fromisoformat(FIRST)
    due = due_between(loaded.schedules, *day_window(first, first + timedelta(days=59), tz))
    assert len(due) >= 5
    for item in due:
        assert index.count(f'id="{anchor("post", item.draft.key)}"') == 1, item.draft.key
        assert escape(item.draft.name) in index
    # A thread's parts are one post: one article, the parts inside it.
    items = {(d.draft.thread.item if d.draft.thread else d.draft.key, d.at) for d in due}
    threads = {(d.draft.thread.item, d.at) for d in due if d.draft.thread}
    assert threads, "the shipped schedules have a thread in the window (IDPD)"
    assert index.count('<article class="entry') == len(items) < len(due)
    assert index.count('<article class="entry thread"') == len(threads)
    assert f"{len(items)} posts from Thursday, December 3, 2026 to Sunday, January 31, 2027" in index


def test_pages_ics_and_stylesheet_are_written(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "site"
    build(out, "--year", "2027")
    assert sorted(p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file()) == [
        "calendar.ics",
        "calendar/2027.html",
        "index.html",
        "style.css",
    ]
    said = capsys.readouterr().out
    assert f"site written to {out}" in said
    for page in ("index.html", "calendar/2027.html"):
        text = (out / page).read_text()
        assert '<html lang="en">' in text
        assert "<script" not in text and "@import" not in text
        assert 'src="http' not in text and "url(" not in text  # nothing is loaded from elsewhere
        assert 'rel="stylesheet" href="' + ("../" if "/" in page else "") + 'style.css"' in text


def test_calendar_ics_is_rolling_with_stable_uids(tmp_path: Path) -> None:
    build(tmp_path / "a")
    build(tmp_path / "b")
    first = (tmp_path / "a" / "calendar.ics").read_bytes()
    assert first == (tmp_path / "b" / "calendar.ics").read_bytes()  # rebuilt unchanged: same bytes
    events = Calendar.from_ical(first).walk("VEVENT")
    years = {e.decoded("dtstart").year for e in events}
    assert {2025, 2026, 2027, 2028} <= years, years
    uids = [str(e["uid"]) for e in events]
    assert len(uids) == len(set(uids))
    assert "international-day-of-persons-with-disabilities-2027-12-03@endseclusion.org" in uids


def test_calendar_rolling_option_matches_the_site(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    build(tmp_path / "site")
    capsys.readouterr()
    assert main(["calendar", "--rolling", "--year", "2026", "--ics"]) == 0
    printed = capsys.readouterr().out
    assert printed.encode() == (tmp_path / "site" / "calendar.ics").read_bytes()
    assert main(["calendar", "--rolling", "--year", "2026", "--json"]) == 0
    entries = json.loads(capsys.readouterr().out)
    assert {e["start"][:4] for e in entries} >= {"2025", "2026", "2027", "2028"}


def test_spans_across_new_year_appear_in_both_years(tmp_path: Path, extras: Path) -> None:
    out = tmp_path / "site"
    build(out, "--schedules", str(extras), "--year", "2026", "--year", "2027")
    dec = (out / "calendar" / "2026.html").read_text()
    jan = (out / "calendar" / "2027.html").read_text()
    words = "Monday, December 28, 2026 to Sunday, January 3, 2027 (7 days)"
    assert words in dec and words in jan
    # Its post is in the coming-posts window, so the calendar links to it there.
    key = "awareness/site-test-new-year/2026/1"
    assert f'href="../index.html#{anchor("post", key)}"' in dec


def test_images_alt_text_warnings_problems_and_edit_links(tmp_path: Path, extras: Path) -> None:
    out = tmp_path / "site"
    index = build(out, "--schedules", str(extras))
    assert (out / "images" / "open-door.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert f'<img src="images/open-door.png" alt="{escape(ALT)}">' in index
    assert f"<strong>Alt text of open-door.png:</strong> {escape(ALT)}" in index
    # The lowercase hashtag's warning sits beside its own post, not beside the other posts of its file.
    warning = "hashtag #endseclusionnow is all lowercase"
    post = index.split(f'id="{anchor("post", "queue/site-test-warning")}"', 1)[1].split("</article>", 1)[0]
    assert warning in post
    image_post = index.split(f'id="{anchor("post", "queue/site-test-image")}"', 1)[1].split("</article>")[0]
    assert warning not in image_post
    # The post too long for the networks is listed as a problem, and says so beside itself.
    assert "Problems in the schedules" in index
    long_post = index.split(f'id="{anchor("post", "queue/site-test-too-long")}"', 1)[1].split("</article>")[0]
    assert "text is too long for" in long_post and "<strong>too long</strong>" in long_post
    assert 'href="https://github.com/endseclusion/aasr-bot/edit/main/schedules/queue/site-test.yaml"' in index
    # Files are named as the repository names them, wherever the schedules were read from.
    assert "<code>schedules/queue/site-test.yaml</code>" in index and str(extras) not in index


def test_a_wrong_repository_setting_is_a_problem(tmp_path: Path, extras: Path) -> None:
    settings = extras / "settings.yaml"
    settings.write_text(settings.read_text().replace("endseclusion/aasr-bot", "not a repo"))
    loaded = load_schedules(extras, extras.parent / "content")
    assert any("repository 'not a repo' is not a GitHub owner/name" in p.message for p in loaded.errors())


def status_page(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, seeded: datetime, clock: str
) -> tuple[str, tuple[str, ...]]:
    """``status.html`` built at ``clock`` (New York time, December 3) from ``seed_ledger``'s rows at ``seeded``."""
    db = tmp_path / "ledger.sqlite3"
    networks = load_schedules(REPO / "schedules", REPO / "content").schedules.settings.networks
    seed_ledger(db, networks, seeded)
    monkeypatch.setenv("BOT_DB", str(db))
    monkeypatch.setenv("BOT_NOW", f"2026-12-03T{clock}:00-05:00")
    build(tmp_path / "site", "--status")
    return (tmp_path / "site" / "status.html").read_text(), networks


def test_status_page_from_a_real_ledger(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    page, networks = status_page(tmp_path, monkeypatch, datetime(2026, 12, 3, 16, 0, tzinfo=UTC), "12:00")
    out = tmp_path / "site"
    for network in networks:
        assert f'href="https://example.org/{network}/1"' in page
        assert f"python -m bot retry queue/failed-one --network {network}" in page
    assert "the network said no" in page
    assert "A waiting post" in page
    assert (
        'due <time datetime="2026-12-03T16:00:00+00:00">Thursday, December 3, 2026, 11:00 EST</time>' in page
    )
    assert 'href="status.html"' in (out / "index.html").read_text()


def test_status_page_only_with_the_option(tmp_path: Path) -> None:
    build(tmp_path / "site")
    assert not (tmp_path / "site" / "status.html").exists()
    assert "status.html" not in (tmp_path / "site" / "index.html").read_text()


def test_site_never_opens_a_connection(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError(f"the site tried to connect: {args}")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    build(tmp_path / "site", "--days", "400")


def test_site_does_not_import_network_sdks(tmp_path: Path) -> None:
    code = (
        "import json, sys\nfrom bot.cli import main\ncode = main(sys.argv[1:])\n"
        "heavy = sorted({m.split('.')[0] for m in sys.modules} & {'tweepy', 'atproto', 'atproto_client',"
        " 'mastodon', 'requests'})\nprint(json.dumps({'code': code, 'heavy': heavy}), file=sys.stderr)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code, "site", "--out", str(tmp_path / "site"), "--from", FIRST],
        capture_output=True,
        text=True,
        cwd=REPO,
        timeout=120,
        check=False,
    )
    assert json.loads(result.stderr.strip().splitlines()[-1]) == {"code": 0, "heavy": []}


@pytest.mark.parametrize(
    "argv",
    [
        ["site"],
        ["site", "--out", "OUT", "--days", "0"],
        ["site", "--out", "OUT", "--year", "1800"],
        ["site", "--out", "OUT", "--from", "2026-02-30"],
        ["calendar", "--rolling", "--year", "99999"],
    ],
)
def test_usage_errors_exit_2(tmp_path: Path, argv: list[str]) -> None:
    argv = [str(tmp_path / "out") if a == "OUT" else a for a in argv]
    try:
        code = main(argv)
    except SystemExit as exc:
        code = int(exc.code or 0)
    assert code == 2


def test_out_that_is_a_file_is_a_usage_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    target = tmp_path / "file"
    target.write_text("x")
    assert main(["site", "--out", str(target)]) == 2
    assert "is a file, not a folder" in capsys.readouterr().err


def test_content_warning_and_a_posts_own_language(tmp_path: Path, extras: Path) -> None:
    index = build(tmp_path / "site", "--schedules", str(extras))
    post = index.split(f'id="{anchor("post", "queue/site-test-content-warning")}"', 1)[1].split("</article>")[
        0
    ]
    # Networks without a warning field of their own get it as the first line, as they will show it.
    assert (
        post.count('<p class="text" lang="es">CW: restraint\nNingún niño') == post.count('class="post"') >= 1
    )
    assert (
        '<p class="text" lang='
        not in index.split(f'id="{anchor("post", "queue/site-test-image")}"')[1][:2000]
    )


@pytest.mark.parametrize(("ci", "outcome"), [("true", "Failed"), ("", "Skipped")])
def test_a_missing_browser_fails_in_ci_and_skips_elsewhere(
    monkeypatch: pytest.MonkeyPatch, ci: str, outcome: str
) -> None:
    monkeypatch.setenv("CI", ci)
    monkeypatch.setenv("BOT_CHROMIUM", str(REPO / "no-such-browser"))
    with pytest.raises(BaseException) as raised:
        chromium_path()
    assert type(raised.value).__name__ == outcome
    assert "Debian's chromium package" in str(raised.value)


def test_link_cards_only_where_the_network_shows_one(tmp_path: Path) -> None:
    index = build(tmp_path / "site")
    loaded = load_schedules(REPO / "schedules", REPO / "content")
    settings = loaded.schedules.settings
    first = date.fromisoformat(FIRST)
    due = due_between(loaded.schedules, *day_window(first, first, settings.timezone))
    entry = render_due(due[0], settings.networks, settings.network_options)
    article = index.split(f'id="{anchor("post", entry["key"])}"', 1)[1].split("</article>", 1)[0]
    for network, post in entry["posts"].items():
        section = article.split(f'id="{anchor("post", entry["key"])}-{network}"', 1)[1].split("</section>")[0]
        if post.get("card"):
            assert f'<p class="card-url">{post["card"]}</p>' in section, network
        else:
            assert 'class="card"' not in section, network
    assert any(post.get("card") for post in entry["posts"].values())


def test_every_registered_network_is_rendered_with_its_own_warning_field(
    tmp_path: Path, extras: Path
) -> None:
    from bot.publishers import registry

    settings = extras / "settings.yaml"
    lines = [ln for ln in settings.read_text().splitlines() if not ln.startswith("networks:")]
    settings.write_text("\n".join([f"networks: [{', '.join(registry.ids())}]", *lines]) + "\n")
    assert any(spec.spoilers for spec in registry.specs())  # both kinds of network are exercised
    index = build(tmp_path / "site", "--schedules", str(extras))
    key = anchor("post", "queue/site-test-content-warning")
    post = index.split(f'id="{key}"', 1)[1].split("</article>")[0]
    for spec in registry.specs():
        section = post.split(f'id="{key}-{spec.id}"', 1)[1].split("</section>")[0]
        assert f"On {spec.name}" in section
        if spec.spoilers:  # the network's own warning field: shown before the text, not in it
            assert "<strong>Content warning shown first:</strong> restraint" in section
            assert "CW: restraint" not in section
        else:
            assert "CW: restraint" in section


def test_solemn_and_unconfirmed_dates_are_said_in_words(tmp_path: Path) -> None:
    from bot.observances import is_confirmed

    build(tmp_path / "site", "--year", "2027")
    page = (tmp_path / "site" / "calendar" / "2027.html").read_text()
    loaded = load_schedules(REPO / "schedules", REPO / "content")
    solemn = [o for o in loaded.schedules.observances if o.tone == "solemn"]
    assert solemn
    for obs in solemn:
        entry = page.split(f'<h4 id="{anchor("obs", obs.id)}', 1)[1].split("</article>", 1)[0]
        assert "A solemn day: the bot stays quiet" in entry
    unconfirmed = [
        o for o in loaded.schedules.observances if not is_confirmed(loaded.schedules.rules[o.id], 2027)
    ]
    assert page.count("Date not yet confirmed by the organiser") >= len(unconfirmed) > 0


def between(page: str, start: str, end: str) -> str:
    return page.split(start, 1)[1].split(end, 1)[0]


def test_a_thread_is_one_post_with_its_parts_in_order_each_as_every_network_shows_it(
    tmp_path: Path, extras: Path
) -> None:
    out = tmp_path / "site"
    index = build(out, "--schedules", str(extras))
    item = f"queue/{THREAD_ID}"
    article = between(index, f'<article class="entry thread" id="{anchor("post", item)}"', "</article>")
    assert "<h3 " in article and "A thread of three parts</h3>" in article
    assert f"<dt>Key</dt><dd><code>{item}</code></dd>" in article
    assert "A thread of 3 posts. On each network every part is a reply to the part before it" in article
    # The problems of the other posts in its file are theirs, not the thread's.
    assert "#endseclusionnow" not in article and "text is too long" not in article
    parts = between(
        article, '<ol class="thread-parts" aria-label="The 3 parts of the thread, in order">', "</ol>"
    )
    items = parts.split('<li class="part" ')[1:]
    assert len(items) == 3
    labels = [
        "Part 1 of 3, the first post",
        "Part 2 of 3, a reply to part 1",
        "Part 3 of 3, a reply to part 2",
    ]
    loaded = load_schedules(extras, extras.parent / "content")
    settings = loaded.schedules.settings
    due = [
        d
        for d in due_between(
            loaded.schedules, *day_window(date(2026, 12, 7), date(2026, 12, 7), settings.timezone)
        )
        if d.draft.thread and d.draft.thread.item == item
    ]
    for n, (part, label, text, d) in enumerate(zip(items, labels, THREAD_TEXTS, due, strict=True), start=1):
        key = f"{item}#{n}"
        assert part.startswith(f'id="{anchor("post", key)}"')
        assert f'<h4 id="{anchor("post", key)}-h">{label}</h4>' in part
        assert f"Key: <code>{key}</code>" in part
        entry = render_due(d, settings.networks, settings.network_options)
        for network, post in entry["posts"].items():
            section = between(part, f'aria-labelledby="{anchor("post", key)}-{network}"', "</section>")
            assert "<h5 id=" in section and text in section
            assert f"{post['length']} of {post['limit']}" in section
            # Links and hashtags are marked in every part, as each network will show them.
            if n == 1:
                assert '<a href="https://endseclusion.org/">https://endseclusion.org/</a>' in section
                assert '<span class="tag">#EndSeclusion</span>' in section
            if n == 3:
                assert '<span class="tag">#EndRestraint</span>' in section
                assert "#EndSeclusion" not in section
    # The image belongs to part 2 only, with its alt text beside it.
    assert f'alt="{escape(THREAD_ALT)}"' in items[1] and "<img" not in items[0] + items[2]
    # The lead counts the thread as one post.
    assert "(2 of them threads, each shown as one post with its parts in order)" in index
    # The calendar lists the thread once, as a thread, linking to its article.
    calendar = (out / "calendar" / "2026.html").read_text()
    idpd = "awareness/international-day-of-persons-with-disabilities/2026/3"
    assert calendar.count(f'href="../index.html#{anchor("post", idpd)}"') == 1
    assert ": a thread of 3 posts</li>" in calendar


def test_a_too_long_thread_part_is_warned_about_in_that_part(tmp_path: Path, extras: Path) -> None:
    queue = extras / "queue" / "site-test.yaml"
    queue.write_text(queue.read_text().replace(THREAD_TEXTS[2], "Much too long. " * 25))
    index = build(tmp_path / "site", "--schedules", str(extras))
    item = f"queue/{THREAD_ID}"
    article = between(index, f'id="{anchor("post", item)}"', "</article>")
    parts = article.split('<li class="part" ')[1:]
    assert "Too long for X" in parts[2] and "<strong>too long</strong>" in parts[2]
    assert "Too long for X" not in parts[0] + parts[1]
    # validate's problem at the part's line stands with the thread, beside its own warning.
    assert "text is too long for x" in article.split('<li class="part" ')[0]


def test_status_page_groups_a_threads_rows_under_the_thread(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    page, networks = status_page(tmp_path, monkeypatch, datetime(2026, 12, 3, 13, 0, tzinfo=UTC), "09:00")
    for network in networks:
        net = (
            between(page, f'<h2 id="net-{network}">', '<section class="network"')
            if network != networks[-1]
            else between(page, f'<h2 id="net-{network}">', 'id="next-heading"')
        )
        threads = between(net, f'<h3 id="threads-{network}">', "<h3>")
        late = between(threads, f'id="{anchor(f"thread-{network}", THREAD_LATE)}">', "</section>")
        assert "<strong>Finished late:</strong> part 2 of 3 went out 8 h after its time" in late
        assert "(a thread once started is always finished)" in late
        assert (
            late.index("Part 1 of 3: sent")
            < late.index("Part 2 of 3: sent")
            < late.index("Part 3 of 3: sent")
        )
        held = between(threads, f'id="{anchor(f"thread-{network}", THREAD_HELD)}">', "</section>")
        assert "<strong>Held at part 2 of 4:</strong> the reply was refused." in held
        assert f"python -m bot retry {THREAD_HELD}#2 --network {network}" in held
        assert "Part 3 of 4: waiting to be sent" in held and "Reason: the reply was refused" in held
        # Each part is shown once, under its thread, not again in the lists by status.
        rest = net.split("</section>", 2)[-1]
        for key in (f"{THREAD_LATE}#1", f"{THREAD_HELD}#2", f"{THREAD_HELD}#3"):
            assert net.count(f"<code>{key}</code>") == 1, (network, key)
            assert key not in rest
        assert "queue/failed-one" in rest
