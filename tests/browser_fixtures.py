"""Real headless Chromium (Debian's ``chromium`` package, driven by Playwright with no browser download) and
axe-core (npm, pinned in tests/browser/package-lock.json), for the site's pages.

Without the browser, Playwright or axe-core the browser tests skip with a message on a maintainer's machine;
in CI (``CI=true``) they fail instead: a missing tool must never pass for a green run.
"""

from __future__ import annotations

import http.server
import os
import shutil
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[1]
AXE = REPO / "tests" / "browser" / "node_modules" / "axe-core" / "axe.min.js"
ARTIFACTS = REPO / "build" / "test-artifacts" / "site"
"""Screenshots of every page (git-ignored; CI uploads the folder)."""
CHROMIUM_ARGS = [
    # As root in a sandboxless container; and no background traffic: this machine's network is closed.
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-default-apps",
    "--disable-extensions",
]
WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22a", "wcag22aa"]


def _missing(what: str) -> None:
    message = f"{what} (bash .ci/run installs it)"
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"browser tests need {message}")
    pytest.skip(f"browser tests need {message}")


def chromium_path() -> str:
    names = ("chromium", "chromium-browser", "google-chrome")  # the last: hosted CI runners' own Chrome
    found = os.environ.get("BOT_CHROMIUM") or next(filter(None, map(shutil.which, names)), None)
    if not found or not os.access(found, os.X_OK):
        _missing("Debian's chromium package (apt-get install chromium)")
    return str(found)


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    executable = chromium_path()
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _missing("Playwright for Python (pip install -e '.[test]')")
    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=executable, headless=True, args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture(scope="session")
def axe_source() -> str:
    if not AXE.is_file():
        _missing("axe-core from npm (cd tests/browser && npm ci)")
    return AXE.read_text(encoding="utf-8")


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


@dataclass
class Served:
    root: Path
    url: str
    requests: list[str]


def serve(root: Path) -> Iterator[Served]:
    """A real HTTP server on 127.0.0.1 for a folder, recording every path asked for."""
    requests: list[str] = []

    class Handler(_Quiet):
        def do_GET(self) -> None:
            requests.append(self.path)
            super().do_GET()

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), partial(Handler, directory=str(root)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield Served(root, f"http://127.0.0.1:{server.server_address[1]}/", requests)
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


# ------------------------------------------------------------------------------------------ a site to look at

FIRST = "2026-12-03"
"""The coming-posts window of the test sites starts here (December 3: the shipped schedules post that day)."""
ALT = "A hand-drawn school with an open door and the words Every child safe at school."
LONG_TEXT = "Too long on purpose. " * 16
THREAD_ID = "site-test-thread"
THREAD_TEXTS = (
    "First part of the site test thread, about what the day is.",
    "Second part of the site test thread, about what restraint does to children.",
    "Third part of the site test thread, about what a parent can do.",
)
THREAD_ALT = "A classroom door standing open, with morning light on the floor."


def schedules_with_extras(tmp: Path) -> Path:
    """The shipped schedules plus what they lack today: an image with alt text, a post too long for the
    networks, a voice warning, a span across New Year and the repository for edit links."""
    from PIL import Image

    root = tmp / "schedules"
    shutil.copytree(REPO / "schedules", root)
    settings = root / "settings.yaml"
    settings.write_text(settings.read_text() + "repository: endseclusion/aasr-bot\n")
    (tmp / "content" / "images").mkdir(parents=True)
    Image.new("RGB", (600, 315), (11, 79, 138)).save(tmp / "content" / "images" / "open-door.png")
    (root / "queue" / "site-test.yaml").write_text(
        "posts:\n"
        "  - id: site-test-image\n"
        '    at: "2026-12-04 12:30"\n'
        "    name: A post with an image\n"
        "    text: Every child deserves a school that is safe. See endseclusion.org for what you can do.\n"
        "    hashtags: [EndSeclusion]\n"
        "    images:\n"
        "      - file: images/open-door.png\n"
        f"        alt: {ALT}\n"
        "  - id: site-test-too-long\n"
        '    at: "2026-12-05 09:15"\n'
        "    name: A post that is too long\n"
        f"    text: {LONG_TEXT.strip()}\n"
        "  - id: site-test-warning\n"
        '    at: "2026-12-05 11:00"\n'
        "    name: A post with a hashtag warning\n"
        "    text: We keep going.\n"
        "    hashtags: [endseclusionnow]\n"
        "  - id: site-test-content-warning\n"
        '    at: "2026-12-06 10:00"\n'
        "    name: A post with a content warning in Spanish\n"
        "    content_warning: restraint\n"
        "    language: es\n"
        "    text: Ningún niño debe ser inmovilizado en la escuela.\n"
        "    hashtags: [EndSeclusion]\n"
        f"  - id: {THREAD_ID}\n"
        '    at: "2026-12-07 10:00"\n'
        "    name: A thread of three parts\n"
        "    hashtags: [EndSeclusion]\n"
        "    link: https://endseclusion.org/\n"
        "    thread:\n"
        + "".join(f"      - text: {text}\n" for text in THREAD_TEXTS[:1])
        + f"      - text: {THREAD_TEXTS[1]}\n"
        "        images:\n"
        "          - file: images/open-door.png\n"
        f"            alt: {THREAD_ALT}\n"
        f"      - text: {THREAD_TEXTS[2]}\n"
        "        hashtags: [EndRestraint]\n"
    )
    (root / "awareness" / "site-test-new-year.yaml").write_text(
        "name: Site Test Winter Week\n"
        "when: December 28 to January 3\n"
        "source: https://endseclusion.org/\n"
        "posts:\n"
        "  - text: The Site Test Winter Week starts today.\n"
        "    hashtags: [EndSeclusion]\n"
    )
    return root


THREAD_LATE = "queue/thread-late"
THREAD_HELD = "queue/thread-held"


def seed_ledger(db: Path, networks: tuple[str, ...], now: Any) -> None:
    """A real SQLite ledger with, on every network, one sent post (with its URL), one failed for good and one
    waiting, a 3-part thread that finished late (parts 2 and 3 went out 8 h after its time) and a 4-part thread
    held at its failed part 2: what the status page shows."""
    from bot.store import Ledger

    rows = (
        ("queue/sent-one", "A sent post"),
        ("queue/failed-one", "A failed post"),
        ("queue/waiting-one", "A waiting post"),
    )
    with Ledger.open(db) as ledger:
        for network in networks:
            for key, name in rows:
                ledger.ensure(
                    key, network, dry_run=False, source="queue", name=name, due_at=now, payload="{}", now=now
                )
            ledger.mark_sent(
                "queue/sent-one",
                network,
                dry_run=False,
                remote_id="1",
                url=f"https://example.org/{network}/1",
                cost=0.0,
                now=now,
            )
            ledger.mark_failed(
                "queue/failed-one",
                network,
                dry_run=False,
                error="the network said no",
                retry_at=None,
                now=now,
            )
            seed_threads(ledger, network, now)


def seed_threads(ledger: Any, network: str, now: Any) -> None:
    """The two threads of ``seed_ledger`` on ``network``, their rows written as the delivery path writes them."""
    from datetime import timedelta

    from bot.deliver import post_to_payload
    from bot.models import Post, ThreadPlace

    due = now - timedelta(hours=8)
    for item, name, of in (
        (THREAD_LATE, "A thread that finished late", 3),
        (THREAD_HELD, "A held thread", 4),
    ):
        for n in range(1, of + 1):
            place = ThreadPlace(item, n, of)
            post = Post(place.key(n), network, f"Part {n} of {name}.", 20, 280, thread=place, due_at=due)
            payload = post_to_payload(post)
            ledger.ensure(
                post.key,
                network,
                dry_run=False,
                source="queue",
                name=name,
                due_at=due,
                payload=payload,
                now=due,
            )
    for key, at in (("late/1", due), ("late/2", now), ("late/3", now), ("held/1", due)):
        item = THREAD_LATE if key.startswith("late") else THREAD_HELD
        ledger.mark_sent(
            f"{item}#{key[-1]}",
            network,
            dry_run=False,
            remote_id=key,
            url=f"https://example.org/{network}/{key}",
            cost=0.0,
            now=at,
        )
    ledger.mark_failed(
        f"{THREAD_HELD}#2", network, dry_run=False, error="the reply was refused", retry_at=None, now=due
    )
