"""The built site in real headless Chromium (Debian's package, through Playwright): axe-core finds no WCAG 2.2
A/AA violation on any page at 360 px or 1280 px; nothing scrolls sideways on a phone; every post of the window
is there with its text and time; the keyboard reaches every link in document order with a visible focus; the
pages ask for nothing but their own files. Screenshots of each page are saved in build/test-artifacts/site/."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from bot.cli import main
from bot.planner import day_window, due_between
from bot.preview import render_due
from bot.schedules import load_schedules
from bot.site.views import anchor
from tests.browser_fixtures import (
    ARTIFACTS,
    FIRST,
    THREAD_ALT,
    THREAD_HELD,
    THREAD_ID,
    THREAD_LATE,
    THREAD_TEXTS,
    WCAG_TAGS,
    Served,
    schedules_with_extras,
    seed_ledger,
    serve,
)

PAGES = ["index.html", "calendar/2026.html", "calendar/2027.html", "status.html"]
WIDTHS = [360, 1280]


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    tmp = tmp_path_factory.mktemp("browser-site")
    schedules = schedules_with_extras(tmp)
    networks = load_schedules(schedules, tmp / "content").schedules.settings.networks
    seed_ledger(tmp / "ledger.sqlite3", networks, datetime(2026, 12, 3, 13, 0, tzinfo=UTC))
    patch = pytest.MonkeyPatch()
    patch.setenv("BOT_DB", str(tmp / "ledger.sqlite3"))
    patch.setenv("BOT_NOW", "2026-12-03T09:00:00-05:00")
    try:
        out = tmp / "site"
        argv = ["site", "--out", str(out), "--from", FIRST, "--schedules", str(schedules), "--status"]
        assert main(argv) == 0
    finally:
        patch.undo()
    yield from serve(out)


@pytest.fixture
def page(browser: Any, site: Served, request: pytest.FixtureRequest) -> Iterator[Any]:
    width = getattr(request, "param", 1280)
    context = browser.new_context(viewport={"width": width, "height": 900})
    tab = context.new_page()
    asked: list[str] = []
    tab.on("request", lambda r: asked.append(r.url))
    tab.asked = asked
    yield tab
    context.close()
    outside = [u for u in asked if not u.startswith(site.url)]
    assert outside == [], f"the page asked for something outside the site: {outside}"


def open_page(tab: Any, site: Served, name: str) -> None:
    response = tab.goto(site.url + name)
    assert response is not None and response.status == 200, name


@pytest.mark.parametrize("page", WIDTHS, indirect=True)
@pytest.mark.parametrize("name", PAGES)
def test_axe_finds_no_wcag_violation(page: Any, site: Served, axe_source: str, name: str) -> None:
    open_page(page, site, name)
    page.add_script_tag(content=axe_source)
    result = page.evaluate("tags => axe.run(document, {runOnly: {type: 'tag', values: tags}})", WCAG_TAGS)
    violations = [
        f"{v['id']} ({v['impact']}): {v['help']} at {[n['target'] for n in v['nodes'][:3]]}"
        for v in result["violations"]
    ]
    assert violations == []
    assert len(result["passes"]) >= 10  # axe really ran its rules on the page
    width = page.viewport_size["width"]
    shot = ARTIFACTS / f"{name.replace('/', '-').removesuffix('.html')}-{width}.png"
    shot.parent.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(shot), full_page=True)
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


@pytest.mark.parametrize("page", [360], indirect=True)
@pytest.mark.parametrize("name", PAGES)
def test_no_sideways_scrolling_on_a_phone(page: Any, site: Served, name: str) -> None:
    open_page(page, site, name)
    widths = page.evaluate(
        "() => [document.documentElement.scrollWidth, document.documentElement.clientWidth,"
        " Math.max(...[...document.querySelectorAll('body *')].map(e => e.getBoundingClientRect().right))]"
    )
    scroll, client, rightmost = widths
    assert scroll <= client == 360, widths
    assert rightmost <= 360.5, widths


@pytest.mark.parametrize("page", WIDTHS, indirect=True)
def test_every_post_of_the_window_is_there_with_its_text_and_time(page: Any, site: Served) -> None:
    schedules = site.root.parent / "schedules"
    loaded = load_schedules(schedules, schedules.parent / "content")
    settings = loaded.schedules.settings
    first = date.fromisoformat(FIRST)
    due = due_between(loaded.schedules, *day_window(first, first + timedelta(days=59), settings.timezone))
    open_page(page, site, "index.html")
    # A thread's parts are one post: one article per item and instant.
    items = {(d.draft.thread.item if d.draft.thread else d.draft.key, d.at) for d in due}
    assert page.locator("article.entry").count() == len(items) < len(due)
    for item in due:
        entry = render_due(item, settings.networks, settings.network_options)
        article = page.locator(
            f"#{anchor('post', item.draft.thread.item if item.draft.thread else item.draft.key)}"
        )
        when = article.locator("time").first
        assert when.get_attribute("datetime") == item.at.isoformat(timespec="minutes")
        local = item.at.astimezone(settings.timezone)
        assert f"{local:%H:%M}" in when.inner_text()
        for network, post in entry["posts"].items():
            text = article.locator(
                f"section[aria-labelledby='{anchor('post', item.draft.key)}-{network}'] .text"
            )
            assert text.count() == 1, (item.draft.key, network)
            assert text.inner_text() == post["text"], (item.draft.key, network)


@pytest.mark.parametrize("name", ["index.html", "calendar/2026.html", "status.html"])
def test_keyboard_reaches_every_link_in_order_with_a_visible_focus(
    page: Any, site: Served, name: str
) -> None:
    open_page(page, site, name)
    expected = page.evaluate(
        "() => [...document.querySelectorAll('a[href], button, input, [tabindex]:not([tabindex=\"-1\"])')]"
        ".filter(e => e.getClientRects().length).map(e => e.outerHTML.slice(0, 120))"
    )
    assert len(expected) >= 5
    seen = []
    for _ in expected:
        page.keyboard.press("Tab")
        focus = page.evaluate(
            "() => { const e = document.activeElement; const s = getComputedStyle(e);"
            " const r = e.getBoundingClientRect();"
            " return {html: e.outerHTML.slice(0, 120), style: s.outlineStyle, width: parseFloat(s.outlineWidth),"
            " visible: r.bottom > 0 && r.top < innerHeight && r.right > 0 && r.left < innerWidth}; }"
        )
        assert focus["style"] != "none" and focus["width"] >= 2, focus
        assert focus["visible"], focus
        seen.append(focus["html"])
    assert seen == expected
    assert "Skip to the content" in seen[0]
    shot = ARTIFACTS / f"focus-{name.replace('/', '-').removesuffix('.html')}.png"
    page.keyboard.press("Shift+Tab")
    page.screenshot(path=str(shot))


def test_skip_link_moves_focus_to_the_content(page: Any, site: Served) -> None:
    open_page(page, site, "index.html")
    page.keyboard.press("Tab")
    page.keyboard.press("Enter")
    assert page.evaluate("() => document.activeElement.id") == "main"
    assert Path(page.url).name == "index.html#main"


@pytest.mark.parametrize("name", ["index.html", "calendar/2027.html"])
def test_pages_print_without_navigation_or_sideways_overflow(page: Any, site: Served, name: str) -> None:
    open_page(page, site, name)
    page.emulate_media(media="print")
    assert (
        page.evaluate("() => getComputedStyle(document.querySelector('header.site nav')).display") == "none"
    )
    assert page.evaluate("() => document.documentElement.scrollWidth <= document.documentElement.clientWidth")
    pdf = page.pdf(format="Letter")
    assert pdf[:5] == b"%PDF-"


def test_status_page_shows_the_ledger(page: Any, site: Served) -> None:
    open_page(page, site, "status.html")
    body = page.locator("main").inner_text()
    assert "the network said no" in body and "A waiting post" in body
    assert page.locator("a[href^='https://example.org/']").count() >= 1


def axe_violations(page: Any, axe_source: str, selector: str) -> list[str]:
    page.add_script_tag(content=axe_source)
    result = page.evaluate(
        "([sel, tags]) => axe.run(sel, {runOnly: {type: 'tag', values: tags}})", [selector, WCAG_TAGS]
    )
    assert len(result["passes"]) >= 5  # axe really ran on that part of the page
    return [
        f"{v['id']}: {v['help']} at {[n['target'] for n in v['nodes'][:3]]}" for v in result["violations"]
    ]


@pytest.mark.parametrize("page", WIDTHS, indirect=True)
def test_a_thread_is_one_post_with_its_parts_in_order_and_labelled(
    page: Any, site: Served, axe_source: str
) -> None:
    open_page(page, site, "index.html")
    item = f"queue/{THREAD_ID}"
    article = page.locator(f"#{anchor('post', item)}")
    assert article.get_by_role("heading", level=3).inner_text() == "A thread of three parts"
    # The parts are a real ordered list, named, with one list item per part, in order.
    parts = article.get_by_role("list", name="The 3 parts of the thread, in order")
    assert parts.evaluate("e => e.tagName") == "OL"
    items = parts.locator(":scope > li")
    assert items.count() == 3
    # Each part is labelled in words by its own heading, and each network's rendering heads its section.
    assert article.get_by_role("heading", level=4).all_inner_texts() == [
        "Part 1 of 3, the first post",
        "Part 2 of 3, a reply to part 1",
        "Part 3 of 3, a reply to part 2",
    ]
    networks = site_networks(site)
    for n, text in enumerate(THREAD_TEXTS, start=1):
        part = items.nth(n - 1)
        assert part.get_attribute("id") == anchor("post", f"{item}#{n}")
        assert part.get_by_role("heading", level=5).all_inner_texts() == [f"On {label}" for label in networks]
        for section in part.locator("section.post").all():
            assert text in section.locator(".text").inner_text()
            assert section.get_by_role("meter").count() == 1
    # The image is under part 2 only, with its alt text as the image's accessible name.
    assert items.nth(1).get_by_role("img", name=THREAD_ALT).count() == len(networks)
    assert items.nth(0).get_by_role("img").count() == 0 == items.nth(2).get_by_role("img").count()
    assert items.nth(0).get_by_role("link", name="https://endseclusion.org/").count() == len(networks)
    # Visually too, the parts stand in order, one below the other.
    tops = [items.nth(i).bounding_box()["y"] for i in range(3)]
    assert tops == sorted(tops) and len(set(tops)) == 3
    assert axe_violations(page, axe_source, f"#{anchor('post', item)}") == []
    article.screenshot(path=str(ARTIFACTS / f"thread-{page.viewport_size['width']}.png"))


def site_networks(site: Served) -> list[str]:
    from bot.site.views import network_label

    schedules = site.root.parent / "schedules"
    settings = load_schedules(schedules, schedules.parent / "content").schedules.settings
    return [network_label(n) for n in settings.networks]


def test_status_page_shows_a_thread_held_and_one_finished_late_under_their_threads(
    page: Any, site: Served, axe_source: str
) -> None:
    open_page(page, site, "status.html")
    for label in site_networks(site):
        network = page.get_by_role("region", name=label, exact=True)
        assert network.get_by_role("heading", level=3, name=f"Threads on {label}").count() == 1
        late = network.get_by_role("region", name="A thread that finished late (a thread of 3 posts)")
        assert "Finished late: part 2 of 3 went out 8 h after its time" in late.inner_text()
        rows = late.get_by_role("list").locator(":scope > li").all_inner_texts()
        assert [r.split(":")[0] for r in rows] == ["Part 1 of 3", "Part 2 of 3", "Part 3 of 3"]
        held = network.get_by_role("region", name="A held thread (a thread of 4 posts)")
        assert "Held at part 2 of 4: the reply was refused." in held.inner_text()
        rows = held.get_by_role("list").locator(":scope > li").all_inner_texts()
        assert [r.split(":")[0] for r in rows] == [f"Part {n} of 4" for n in range(1, 5)]
        assert rows[1].startswith("Part 2 of 4: failed") and rows[2].startswith(
            "Part 3 of 4: waiting to be sent"
        )
        # The thread's rows are not listed again by status.
        assert network.inner_text().count(f"{THREAD_HELD}#2") == 2  # the row and the retry command
        assert network.inner_text().count(f"{THREAD_LATE}#2") == 1
    assert axe_violations(page, axe_source, "main") == []
