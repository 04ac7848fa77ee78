"""Link cards: fetch a page's Open Graph / Twitter Card metadata and its preview image.

Owns everything about reading someone else's web page for a preview: HTML meta parsing with the standard library
and resolving a relative image URL. The fetching itself (redirects, one time budget for page and image, size
caps, public addresses only) is ``bot.fetch``'s. Any failure means "no card" (None) and a warning: a post never
fails because of its card.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from html.parser import HTMLParser
from urllib.parse import urljoin, urlsplit

import httpx

from bot.fetch import Fetched, Fetcher, FetchError

log = logging.getLogger(__name__)

MAX_REDIRECTS = 5
MAX_TITLE = 300
MAX_DESCRIPTION = 1000
HTML_TYPES = ("text/html", "application/xhtml+xml")
IMAGE_KEYS = ("og:image", "og:image:url", "og:image:secure_url", "twitter:image", "twitter:image:src")


@dataclass(frozen=True, slots=True)
class LinkCard:
    """What a link preview shows; ``image`` is the raw preview image as served (not yet resized)."""

    url: str
    title: str
    description: str
    image: bytes | None = None
    image_mime: str | None = None


class _CardError(Exception):
    """Why a page or image could not be used; only ever logged."""


FAILURES = (_CardError, FetchError)


class _MetaParser(HTMLParser):
    """Collects <meta property|name=... content=...> and the <title> text."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.meta: dict[str, str] = {}
        self.title = ""
        self._in_title = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "title":
            self._in_title = True
        elif tag == "meta":
            values = {name.lower(): value or "" for name, value in attrs}
            key = (values.get("property") or values.get("name") or "").strip().lower()
            if key and "content" in values:
                # The first occurrence wins, as in Bluesky's own card fetcher.
                self.meta.setdefault(key, values["content"].strip())

    def handle_endtag(self, tag: str) -> None:
        if tag == "title":
            self._in_title = False

    def handle_data(self, data: str) -> None:
        if self._in_title:
            self.title += data


def _squash(text: str, limit: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "\u2026"


def _accept(kinds: tuple[str, ...]) -> Callable[[httpx.Response], None]:
    def check(response: httpx.Response) -> None:
        if response.status_code != 200:
            raise _CardError(f"HTTP {response.status_code}")
        kind = response.headers.get("content-type", "").split(";")[0].strip().lower()
        if not kind.startswith(kinds):
            raise _CardError(f"unexpected content type {kind or 'none'}")

    return check


def _get(fetcher: Fetcher, url: str, kinds: tuple[str, ...], max_bytes: int, deadline: float) -> Fetched:
    remaining = deadline - time.monotonic()
    if remaining <= 0:
        raise _CardError("timed out")
    return fetcher.get(url, max_bytes=max_bytes, deadline=remaining, accept=_accept(kinds))


def fetch_card(
    url: str,
    client: Fetcher,
    *,
    max_bytes: int = 2_000_000,
    timeout: float = 10.0,
    max_image_bytes: int = 10_000_000,
) -> LinkCard | None:
    """Return the card for ``url``, or None (logged) if the page cannot be fetched or read.

    ``timeout`` bounds the page and the image together, so a slow site cannot hold up a post for long.
    ``max_bytes`` caps the page; ``max_image_bytes`` the preview image, which is shrunk before upload. The
    page and the image are public addresses only unless the fetcher allows otherwise (tests do).
    """
    deadline = time.monotonic() + timeout
    try:
        page = _get(client, url, HTML_TYPES, max_bytes, deadline)
        parser = _MetaParser()
        parser.feed(page.body.decode(page.charset or "utf-8", errors="replace"))
        parser.close()
    except (*FAILURES, LookupError) as exc:
        log.warning("no link card for %s: %s", url, str(exc) or type(exc).__name__)
        return None
    meta = parser.meta
    title = meta.get("og:title") or meta.get("twitter:title") or parser.title or urlsplit(url).netloc
    description = meta.get("og:description") or meta.get("twitter:description") or meta.get("description", "")
    image_url = next((meta[key] for key in IMAGE_KEYS if meta.get(key)), None)
    image: bytes | None = None
    mime: str | None = None
    if image_url:
        absolute = urljoin(page.url, image_url)
        try:
            fetched = _get(client, absolute, ("image/",), max_image_bytes, deadline)
            image, mime = fetched.body, fetched.media_type
        except FAILURES as exc:
            log.warning(
                "link card for %s without image %s: %s", url, absolute, str(exc) or type(exc).__name__
            )
    return LinkCard(url, _squash(title, MAX_TITLE), _squash(description, MAX_DESCRIPTION), image, mime)
