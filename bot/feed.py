"""The site feed: fetching it safely, parsing it into ``FeedItem``s, and deciding which stories are new.

Owns everything between the feed URL and the list of stories to announce: the bot's HTTP client settings,
conditional GET (ETag / Last-Modified), the size and time caps, turning whatever a server sends into either
items or a ``FeedError``, the URL normalisation used to recognise a story seen before, and the first-run and
per-poll limits. It reads no clock except the monotonic one for its own deadline, and touches no store: the
caller says what was seen before through ``is_seen``.
"""

from __future__ import annotations

import hashlib
import html
import io
import logging
import math
import re
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from html.parser import HTMLParser
from typing import Any
from urllib.parse import unquote_plus, urljoin, urlsplit, urlunsplit

import feedparser
import httpx

from bot.errors import FeedError
from bot.fetch import USER_AGENT, Fetcher, FetchError
from bot.models import FeedItem

log = logging.getLogger(__name__)

_ACCEPT = "application/rss+xml, application/atom+xml, application/xml;q=0.9, text/xml;q=0.9, */*;q=0.5"
_MAX_TITLE = 500
_MAX_CATEGORIES = 50
_MAX_SUMMARY = 1000

_TRACKING_PARAM = re.compile(
    r"^(utm_.*|mc_.*|fbclid|gclid|dclid|gbraid|wbraid|msclkid|yclid|twclid|igshid|_hsenc|_hsmi|mkt_tok"
    r"|ref|ref_src|ref_url|referrer)$"
)
_PERCENT_ESCAPE = re.compile(r"%[0-9a-fA-F]{2}")
_LEFTOVER_ENTITY = re.compile(r"&(#[0-9]{1,7}|#[xX][0-9a-fA-F]{1,6}|[A-Za-z][A-Za-z0-9]{1,31});")
_TAG = re.compile(r"</?[A-Za-z][A-Za-z0-9]*(\s[^<>]*)?/?>")
_DEFAULT_PORTS = {"http": 80, "https": 443}
_BLOCK_TAGS = frozenset(
    {"br", "p", "div", "li", "ul", "ol", "tr", "td", "th", "blockquote", "hr", "h1", "h2"}
)
_SKIP_TAGS = frozenset({"script", "style"})


@dataclass(frozen=True, slots=True)
class FetchResult:
    """One poll's answer: the stories in the feed, and the validators to send next time."""

    items: tuple[FeedItem, ...]
    etag: str | None
    last_modified: str | None
    not_modified: bool
    """True on 304: the feed did not change, nothing to parse."""


@dataclass(frozen=True, slots=True)
class Selection:
    """What to do with one poll's new stories."""

    announce: tuple[FeedItem, ...]
    """Every new story to announce, oldest first (``pace`` spreads them over polls)."""
    mark_seen: tuple[FeedItem, ...]
    """New stories to record as seen without announcing them (first run)."""


def make_client(timeout: float = 15.0, max_redirects: int = 5, *, allow_private: bool = False) -> Fetcher:
    """The bot's fetcher for the feed; ``allow_private`` only when settings ``feed.allow_private_address`` say so."""
    return Fetcher(
        allow_private=allow_private,
        timeout=timeout,
        max_redirects=max_redirects,
        headers={"User-Agent": USER_AGENT, "Accept": _ACCEPT},
    )


def fetch_feed(
    url: str,
    client: Fetcher,
    *,
    etag: str | None = None,
    last_modified: str | None = None,
    max_bytes: int = 5_000_000,
    deadline: float = 120.0,
    clock: Callable[[], float] = time.monotonic,
) -> FetchResult:
    """Fetch and parse the feed at ``url``; raise ``FeedError`` for anything short of a usable feed.

    ``deadline`` bounds the whole fetch in seconds, headers and body, however slowly a server sends them
    (the fetcher enforces it on the socket); ``clock`` is injectable for tests.
    """
    shown = _display(url)
    headers: dict[str, str] = {}
    if etag and _header_safe(etag):
        headers["If-None-Match"] = etag
    if last_modified and _header_safe(last_modified):
        headers["If-Modified-Since"] = last_modified

    def accept(response: httpx.Response) -> None:
        status = response.status_code
        if status == 304:
            raise _NotModified(response.headers)
        if not 200 <= status < 300:
            raise FeedError(
                f"{shown}: HTTP {status} {response.reason_phrase}".rstrip(), hint=_status_hint(status)
            )

    try:
        fetched = client.get(
            url, max_bytes=max_bytes, deadline=deadline, headers=headers, accept=accept, clock=clock
        )
    except _NotModified as answer:
        log.debug("feed %s not modified", shown)
        return FetchResult(
            items=(),
            etag=answer.headers.get("etag") or etag,
            last_modified=answer.headers.get("last-modified") or last_modified,
            not_modified=True,
        )
    except FetchError as exc:
        detail = f"{shown}: {_display_error(exc, url)}"
        plain = _unreachable(url, exc.cause) if exc.cause is not None else None
        if exc.kind == "timeout":
            plain = _unreachable(url, httpx.ReadTimeout("deadline"))
        raise FeedError(plain or detail, hint=_fetch_hint(exc), detail=detail) from None
    content_type = fetched.headers.get("content-type")
    items = parse_feed(fetched.body, url=fetched.url, content_type=content_type)
    log.debug("feed %s: %d items", shown, len(items))
    return FetchResult(
        items=items,
        etag=fetched.headers.get("etag"),
        last_modified=fetched.headers.get("last-modified"),
        not_modified=False,
    )


class _NotModified(Exception):
    def __init__(self, headers: httpx.Headers) -> None:
        super().__init__("304")
        self.headers = headers


def _display_error(exc: FetchError, url: str) -> str:
    text = str(exc)
    if exc.kind == "redirects":
        return "redirect loop or too many redirects"
    try:
        password = urlsplit(url).password
    except ValueError:
        password = None
    return text.replace(password, "***") if password else text


def _fetch_hint(exc: FetchError) -> str:
    if exc.kind == "too_large":
        return _SIZE_HINT
    if exc.kind in ("redirects", "url"):
        return "check the feed URL"
    if exc.kind == "blocked":
        return (
            "the feed URL points at a private address; if that is intended, set feed.allow_private_address: "
            "true in settings.yaml"
        )
    return _RETRY_HINT


def parse_feed(data: bytes, *, url: str, content_type: str | None = None) -> tuple[FeedItem, ...]:
    """Turn a feed document into items in feed order; raise ``FeedError`` if it is not a feed at all.

    ``url`` is where the document came from (after redirects), used to resolve relative links.
    """
    shown = _display(url)
    response_headers = {"content-location": url}
    if content_type:
        response_headers["content-type"] = content_type
    try:
        # A BytesIO, never a str or bare bytes: feedparser treats those as a possible URL or file path.
        parsed: Any = feedparser.parse(io.BytesIO(data), response_headers=response_headers)
    except Exception as exc:  # feedparser has no error contract; anything it raises means "unusable"
        raise FeedError(
            f"{shown}: could not parse the feed ({type(exc).__name__})", hint=_RETRY_HINT
        ) from exc
    entries = parsed.get("entries") or []
    items: list[FeedItem] = []
    skipped = 0
    for entry in entries:
        item = _item(entry, url)
        if item is None:
            skipped += 1
        else:
            items.append(item)
    version = parsed.get("version") or ""
    got = _media_type(content_type)
    if not items:
        if not version:
            raise FeedError(f"{shown}: not an RSS/Atom feed (got {got})", hint="check the feed URL")
        if parsed.get("bozo") and (entries or _is_xml_error(parsed.get("bozo_exception"))):
            reason = _one_line(str(parsed.get("bozo_exception") or "malformed"))
            raise FeedError(f"{shown}: malformed feed (got {got}): {reason}", hint=_RETRY_HINT)
    elif parsed.get("bozo"):
        log.warning(
            "feed %s is not well-formed but yielded %d items: %s",
            shown,
            len(items),
            parsed.get("bozo_exception"),
        )
    if skipped:
        log.warning("feed %s: skipped %d entries without a usable http(s) link", shown, skipped)
    return tuple(items)


_NOT_IN_URLS = re.compile(r"[\s\x00-\x1f\x7f]+")


def normalise_url(url: str) -> str:
    """A comparison key for a story URL, so tracking variants of one link count as the same story.

    Lowercases scheme and host, treats http and https as one (sites move to https without changing their
    stories), drops user info, default ports, the fragment and tracking parameters (utm_*, mc_*, fbclid,
    gclid, ref, ...), sorts the remaining parameters and strips trailing slashes from the path.
    """
    # A URL never holds raw white space or control characters (browsers drop them too); removing them all,
    # not only at the ends, keeps the key stable however a feed pads its links.
    text = _NOT_IN_URLS.sub("", url)
    try:
        parts = urlsplit(text)
        host = parts.hostname or ""
        port = parts.port
    except ValueError:
        return text.split("#", 1)[0]
    scheme = parts.scheme.lower()
    if port is not None and _DEFAULT_PORTS.get(scheme) == port:
        port = None
    if scheme == "http":
        scheme = "https"
        if port == 443:
            port = None
    host = host.rstrip(".")
    netloc = f"[{host}]" if ":" in host else host
    if port is not None:
        netloc += f":{port}"
    path = _PERCENT_ESCAPE.sub(lambda m: m.group(0).upper(), parts.path).rstrip("/")
    kept = []
    for pair in parts.query.split("&"):
        if not pair:
            continue
        name = unquote_plus(pair.split("=", 1)[0]).strip().lower()
        if not _TRACKING_PARAM.match(name):
            kept.append(_PERCENT_ESCAPE.sub(lambda m: m.group(0).upper(), pair))
    return urlunsplit((scheme, netloc, path, "&".join(sorted(kept)), ""))


def item_key(item: FeedItem) -> str:
    """Stable ledger key ``feed/<16 hex>`` from the story's guid (or its normalised URL if it has none)."""
    guid = item.guid.strip()
    if not guid:
        source = normalise_url(item.url)
    elif guid.lower().startswith(("http://", "https://")):
        source = normalise_url(guid)
    else:
        source = guid
    return "feed/" + hashlib.sha256(source.encode("utf-8", "surrogatepass")).hexdigest()[:16]


def select_new(
    items: Sequence[FeedItem],
    is_seen: Callable[[FeedItem], bool],
    *,
    first_run: bool,
    first_run_post_newest: int,
) -> Selection:
    """Pick this poll's announcements from the feed's items.

    New means ``is_seen`` is false (the caller checks guid and normalised URL against the ledger); two new
    entries for one story (same key or same normalised URL) count once. New stories are ordered oldest first
    by published date, or by reverse feed order when any lacks a date. On the first run all of them are marked
    seen except the newest ``first_run_post_newest``. Every other new story is announced: none is left for "the
    next poll will find it again" (a conditional GET may never show it again); ``pace`` keeps the flood rule.
    """
    new: list[FeedItem] = []
    keys: set[str] = set()
    urls: set[str] = set()
    for item in items:
        key, url = item_key(item), normalise_url(item.url)
        if key in keys or url in urls or is_seen(item):
            continue
        keys.add(key)
        urls.add(url)
        new.append(item)
    ordered = _oldest_first(new)
    mark_seen: list[FeedItem] = []
    if first_run:
        keep = max(first_run_post_newest, 0)
        split = len(ordered) - keep if keep < len(ordered) else 0
        mark_seen, ordered = ordered[:split], ordered[split:]
    return Selection(announce=tuple(ordered), mark_seen=tuple(mark_seen))


def pace(
    count: int, now: datetime, *, per_poll: int, every: timedelta, queued: Sequence[datetime] = ()
) -> list[datetime]:
    """Due times for ``count`` new stories (oldest first): at most ``per_poll`` per poll, polls ``every`` apart.

    The first poll's slot is ``now``; ``queued`` are the due times of stories still waiting from earlier polls,
    which keep their places, so two bursts in a row never put more than ``per_poll`` in one poll either. The
    stories of one poll are a millisecond apart (ending at the poll's instant), so they go out oldest first.
    """
    per_poll = max(per_poll, 1)
    step = every.total_seconds()
    taken: dict[int, int] = {}
    for due in queued:
        late = (due - now).total_seconds()
        slot = 0 if late <= _SLOT_TOLERANCE else math.ceil((late - _SLOT_TOLERANCE) / step)
        taken[slot] = taken.get(slot, 0) + 1
    times: list[datetime] = []
    slot = 0
    while len(times) < count:
        used = taken.get(slot, 0)
        while used < per_poll and len(times) < count:
            # Offsets end at the poll's instant, so the whole first wave is due now.
            times.append(now + slot * every - timedelta(milliseconds=per_poll - 1 - used))
            used += 1
        slot += 1
    return times


_SLOT_TOLERANCE = 60.0
"""Seconds a queued due time may lie after a poll's instant and still belong to it."""


_RETRY_HINT = "the bot tries again at the next poll"


def _oldest_first(items: list[FeedItem]) -> list[FeedItem]:
    """Oldest first by date; ties and undated feeds use reverse feed order (feeds list newest first)."""
    dated = [(item.published, -index, item) for index, item in enumerate(items) if item.published is not None]
    if len(dated) != len(items):
        return items[::-1]
    return [item for _, _, item in sorted(dated, key=lambda row: (row[0], row[1]))]


_SIZE_HINT = "a feed is normally well under 1 MB; check the feed URL"


def _item(entry: dict[str, Any], base: str) -> FeedItem | None:
    link = entry.get("link")
    if not isinstance(link, str) or not link.strip():
        return None
    url = urljoin(base, link.strip())
    if urlsplit(url).scheme.lower() not in ("http", "https"):
        return None
    guid = entry.get("id")
    guid = guid.strip() if isinstance(guid, str) and guid.strip() else url
    title = _text(entry.get("title"), entry.get("title_detail"))[:_MAX_TITLE]
    summary = _text(entry.get("summary"), entry.get("summary_detail"))[:_MAX_SUMMARY]
    # dict.get: FeedParserDict's own get() warns when it maps updated_parsed to published_parsed.
    published = _date(dict.get(entry, "published_parsed")) or _date(dict.get(entry, "updated_parsed"))
    categories = tuple(
        dict.fromkeys(
            " ".join(str(tag.get("term") or "").split())
            for tag in entry.get("tags") or []
            if isinstance(tag, Mapping) and str(tag.get("term") or "").strip()
        )
    )[:_MAX_CATEGORIES]
    return FeedItem(
        guid=guid, url=url, title=title, published=published, summary=summary, categories=categories
    )


def _text(value: object, detail: object) -> str:
    """Plain one-line text from a feedparser field: tags stripped, entities decoded, whitespace collapsed."""
    if not isinstance(value, str):
        return ""
    kind = detail.get("type", "text/html") if isinstance(detail, Mapping) else "text/html"
    # feedparser calls RSS text "text/plain" when it does not look like safe HTML (a <script>, say), but
    # feeds in the wild mean markup either way and nobody wants tags in a post.
    text = value if kind == "text/plain" and not _TAG.search(value) else _strip_html(value)
    if _LEFTOVER_ENTITY.search(text):
        # Double-escaped entities (``&amp;#8217;``) are a common publishing bug; no title means "&#8217;".
        text = html.unescape(text)
    return " ".join("".join(ch if ch.isprintable() else " " for ch in text).split())


class _TextExtractor(HTMLParser):
    """Collects the text of an HTML fragment, dropping tags, scripts and styles."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._skipping = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _SKIP_TAGS:
            self._skipping += 1
        elif tag in _BLOCK_TAGS:
            self.parts.append(" ")

    def handle_endtag(self, tag: str) -> None:
        if tag in _SKIP_TAGS and self._skipping:
            self._skipping -= 1
        elif tag in _BLOCK_TAGS:
            self.parts.append(" ")

    def handle_data(self, data: str) -> None:
        if not self._skipping:
            self.parts.append(data)


def _strip_html(value: str) -> str:
    extractor = _TextExtractor()
    try:
        extractor.feed(value)
        extractor.close()
    except (
        Exception
    ):  # HTMLParser has raised on odd markup in some Python versions; fall back to a crude strip
        return html.unescape(re.sub(r"<[^>]*>", " ", value))
    return "".join(extractor.parts)


def _date(value: object) -> datetime | None:
    """feedparser's UTC struct_time -> aware UTC datetime, or None if absent or impossible."""
    if not isinstance(value, time.struct_time):
        return None
    try:
        return datetime(*value[:5], min(value[5], 59), tzinfo=UTC)
    except (ValueError, OverflowError):
        return None


def _is_xml_error(exc: object) -> bool:
    """True when feedparser gave up on the XML itself (not just a content-type or encoding complaint)."""
    return exc is not None and type(exc).__name__ in ("SAXParseException", "CharacterEncodingUnknown")


def _media_type(content_type: str | None) -> str:
    media = (content_type or "").split(";", 1)[0].strip().lower()
    return media or "no content type"


def _status_hint(status: int) -> str:
    if status == 429 or status >= 500:
        return "the site is down or busy; " + _RETRY_HINT
    if status in (401, 403, 404, 410):
        return "check the feed URL (settings feed.url)"
    return _RETRY_HINT


_DNS_FAILURES = (
    "name or service not known",  # glibc EAI_NONAME (-2)
    "temporary failure in name resolution",  # EAI_AGAIN (-3)
    "no address associated with hostname",  # EAI_NODATA (-5)
    "nodename nor servname provided",  # macOS
    "getaddrinfo failed",  # Windows
)


def _unreachable(url: str, exc: Exception) -> str | None:
    """What a transport failure means, in words a volunteer understands; None for anything else."""
    try:
        host = urlsplit(url).hostname or "the feed's site"
    except ValueError:
        return None
    text = str(exc).lower()
    if isinstance(exc, httpx.TimeoutException):
        return f"{host} did not answer in time (the site may be slow or down, or the connection is poor)"
    if isinstance(exc, httpx.ConnectError):
        if any(words in text for words in _DNS_FAILURES):
            return f"can't reach {host}: no internet connection, or the name {host} can't be looked up (DNS)"
        if "refused" in text:
            return f"can't reach {host}: it refused the connection (the site may be down)"
        if "certificate" in text or "ssl" in text:
            return f"can't reach {host} safely: its security certificate was not accepted"
        return f"can't reach {host}: the connection failed (no internet connection, or the site is down)"
    if isinstance(exc, httpx.RemoteProtocolError | httpx.ReadError):
        return f"{host} broke off the connection before sending the whole feed"
    return None


def _header_safe(value: str) -> bool:
    """Validators are echoed back verbatim; skip any a server sent that cannot go in a request header."""
    return value.isascii() and value.isprintable()


def _display(url: str) -> str:
    """The URL for messages, without any user:password part."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return "feed URL"
    if "@" not in parts.netloc:
        return url
    return urlunsplit(parts._replace(netloc=parts.netloc.rsplit("@", 1)[1]))


def _one_line(text: str) -> str:
    return " ".join(text.split())[:300]
