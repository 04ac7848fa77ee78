"""Link cards against real pages served on 127.0.0.1: metadata, redirects, caps and failures."""

from __future__ import annotations

import io
import logging
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler

import pytest
from PIL import Image as PILImage

from bot.fetch import Fetcher
from bot.linkcard import MAX_REDIRECTS, fetch_card
from tests.pds_fixtures import local_http, reply


def png(width: int, height: int) -> bytes:
    out = io.BytesIO()
    PILImage.new("RGB", (width, height), (200, 40, 90)).save(out, "PNG")
    return out.getvalue()


PAGE = b"""<!doctype html><html><head>
<title>Ignored when og:title exists</title>
<meta property="og:title" content="Stop restraint &amp; seclusion">
<meta property="og:description" content="  Stories from   families.  ">
<meta property="og:image" content="/media/card.png">
<meta name="twitter:title" content="Twitter title loses">
</head><body><p>hello</p></body></html>"""


@pytest.fixture
def client() -> Iterator[Fetcher]:
    with Fetcher(allow_private=True) as http:
        yield http


def html(body: bytes, status: int = 200):  # type: ignore[no-untyped-def]
    return lambda h: reply(h, status, body, "text/html; charset=utf-8")


def redirect(to: str):  # type: ignore[no-untyped-def]
    def handle(h: BaseHTTPRequestHandler) -> None:
        h.send_response(302)
        h.send_header("Location", to)
        h.send_header("Content-Length", "0")
        h.end_headers()

    return handle


def test_og_metadata_relative_image_and_redirect(client: Fetcher) -> None:
    image = png(40, 20)
    routes = {
        "/go": redirect("/story/"),
        "/story/": html(PAGE),
        "/media/card.png": lambda h: reply(h, 200, image, "image/png"),
    }
    with local_http(routes) as base:
        card = fetch_card(f"{base}/go", client)
    assert card is not None
    assert card.url == f"{base}/go"
    assert card.title == "Stop restraint & seclusion"
    assert card.description == "Stories from families."
    assert card.image == image
    assert card.image_mime == "image/png"


def test_twitter_and_title_fallbacks(client: Fetcher) -> None:
    twitter = b"""<html><head><meta name="twitter:title" content="From Twitter">
    <meta name="twitter:description" content="Tw desc">
    <meta name="twitter:image" content="pic.png"></head></html>"""
    plain = b"<html><head><title> Plain \n title </title><meta name=description content='Meta desc'></head>"
    routes = {
        "/a/page": html(twitter),
        "/a/pic.png": lambda h: reply(h, 200, png(2, 2), "image/png"),
        "/b": html(plain),
    }
    with local_http(routes) as base:
        first = fetch_card(f"{base}/a/page", client)
        second = fetch_card(f"{base}/b", client)
    assert first is not None and (first.title, first.description) == ("From Twitter", "Tw desc")
    assert first.image is not None
    assert second is not None and (second.title, second.description) == ("Plain title", "Meta desc")
    assert second.image is None


def test_missing_image_still_gives_a_card(client: Fetcher, caplog: pytest.LogCaptureFixture) -> None:
    with local_http({"/": html(PAGE)}) as base, caplog.at_level(logging.WARNING):
        card = fetch_card(f"{base}/", client)
    assert card is not None and card.title == "Stop restraint & seclusion"
    assert card.image is None
    assert "without image" in caplog.text


def test_404_gives_no_card(client: Fetcher, caplog: pytest.LogCaptureFixture) -> None:
    with local_http({"/gone": html(b"nope", status=404)}) as base, caplog.at_level(logging.WARNING):
        assert fetch_card(f"{base}/gone", client) is None
    assert "HTTP 404" in caplog.text


def test_not_html_gives_no_card(client: Fetcher) -> None:
    with local_http({"/file.png": lambda h: reply(h, 200, png(2, 2), "image/png")}) as base:
        assert fetch_card(f"{base}/file.png", client) is None


def test_huge_page_gives_no_card(client: Fetcher) -> None:
    body = PAGE + b"<!--" + b"x" * 50_000 + b"-->"

    def chunked(h: BaseHTTPRequestHandler) -> None:
        # No Content-Length: only the streaming cap can stop this one.
        h.send_response(200)
        h.send_header("Content-Type", "text/html")
        h.send_header("Transfer-Encoding", "chunked")
        h.end_headers()
        for start in range(0, len(body), 4096):
            piece = body[start : start + 4096]
            h.wfile.write(f"{len(piece):x}\r\n".encode() + piece + b"\r\n")
        h.wfile.write(b"0\r\n\r\n")

    with local_http({"/declared": html(body), "/chunked": chunked}) as base:
        assert fetch_card(f"{base}/declared", client, max_bytes=10_000) is None
        assert fetch_card(f"{base}/chunked", client, max_bytes=10_000) is None
        assert fetch_card(f"{base}/chunked", client, max_bytes=100_000) is not None


def test_slow_page_times_out(client: Fetcher) -> None:
    release = threading.Event()

    def stall(h: BaseHTTPRequestHandler) -> None:
        release.wait(10)  # holds the response until the test is over
        reply(h, 200, PAGE, "text/html")

    with local_http({"/slow": stall}) as base:
        try:
            assert fetch_card(f"{base}/slow", client, timeout=0.3) is None
        finally:
            release.set()


def test_redirect_loop_is_cut(client: Fetcher) -> None:
    hits: list[str] = []

    def loop(h: BaseHTTPRequestHandler) -> None:
        hits.append(h.path)
        redirect("/loop")(h)

    with local_http({"/loop": loop}) as base:
        assert fetch_card(f"{base}/loop", client) is None
    assert len(hits) == MAX_REDIRECTS + 1


def test_unreachable_and_bad_urls(client: Fetcher) -> None:
    with local_http({}) as base:
        pass  # the server is gone: its port now refuses connections
    assert fetch_card(f"{base}/", client, timeout=2) is None
    assert fetch_card("ftp://example.org/", client) is None
    assert fetch_card("not a url", client) is None
