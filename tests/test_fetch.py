"""The one fetch helper against hostile servers on 127.0.0.1: slow drips, endless bodies, and SSRF attempts.

Every server here is on 127.0.0.1; the SSRF cases name other addresses only to show they are refused before a
connection is attempted (the refusal happens after resolution and before ``connect``).
"""

from __future__ import annotations

import socket
from collections.abc import Iterator

import pytest

from bot.errors import FeedError
from bot.feed import fetch_feed, make_client
from bot.fetch import Fetcher, FetchError, blocked_reason
from bot.linkcard import fetch_card
from tests.feed_fixtures import FeedServer, Reply
from tests.hostile_servers import HostileServer

DEADLINE = 0.5


@pytest.mark.parametrize("drip", ["headers", "body"])
def test_feed_deadline_holds_against_a_drip(drip: str) -> None:
    """Issue 8, failure 3: one byte every 20 ms kept the feed download going far past its deadline."""
    with HostileServer(drip=drip) as server, make_client(timeout=5.0, allow_private=True) as client:
        with pytest.raises(FeedError, match="did not answer in time") as caught:
            fetch_feed(server.url, client, deadline=DEADLINE)
        assert "timed out" in (caught.value.detail or "")
        assert server.client_left.wait(10), "the bot never hung up"
        assert not server.finished.is_set()
        assert server.sent < server.drip_for  # it stopped long before the drip ended


def test_card_deadline_holds_against_a_header_drip() -> None:
    """Issue 8, failure 3: a link-card page dripping its headers held a post 60 s against a 10 s timeout."""
    with HostileServer(drip="headers") as server:
        fetcher = Fetcher(allow_addresses=frozenset({("127.0.0.1", server.port)}))
        assert fetch_card(server.url, fetcher, timeout=DEADLINE) is None
        assert server.client_left.wait(10)
        assert not server.finished.is_set()


def test_endless_body_stops_at_the_size_cap() -> None:
    with HostileServer(endless=True) as server:
        fetcher = Fetcher(allow_private=True)
        with pytest.raises(FetchError) as caught:
            fetcher.get(server.url, max_bytes=1_000_000, deadline=30)
        assert caught.value.kind == "too_large"
        assert server.client_left.wait(10)


@pytest.fixture
def listener() -> Iterator[socket.socket]:
    """A port on 127.0.0.1 that counts connections: the SSRF cases must never reach it."""
    with socket.create_server(("127.0.0.1", 0)) as sock:
        sock.settimeout(0.05)
        yield sock


def connections(sock: socket.socket) -> int:
    count = 0
    while True:
        try:
            conn, _ = sock.accept()
        except (TimeoutError, OSError):
            return count
        conn.close()
        count += 1


PRIVATE_FORMS = [
    "http://127.0.0.1:{port}/",
    "http://localhost:{port}/",
    "http://[::1]:{port}/",
    "http://[::ffff:127.0.0.1]:{port}/",
    "http://[::ffff:7f00:1]:{port}/",
    "http://[64:ff9b::7f00:1]:{port}/",
    "http://2130706433:{port}/",  # decimal
    "http://017700000001:{port}/",  # octal
    "http://0x7f000001:{port}/",  # hexadecimal
    "http://0177.0.0.1:{port}/",  # dotted octal (httpx refuses the URL itself)
    "http://127.1:{port}/",
    "http://0.0.0.0:{port}/",
    "http://169.254.169.254/latest/meta-data/",
    "http://[::ffff:169.254.169.254]/",
    "http://[fe80::1]/",
    "http://10.0.0.1/",
    "http://192.168.1.1/",
    "http://224.0.0.1/",
    "https://127.0.0.1:{port}/",
]


@pytest.mark.parametrize("form", PRIVATE_FORMS)
def test_private_addresses_are_refused_before_connecting(form: str, listener: socket.socket) -> None:
    url = form.format(port=listener.getsockname()[1])
    with pytest.raises(FetchError) as caught:
        Fetcher().get(url, max_bytes=1000, deadline=5)
    assert caught.value.kind in ("blocked", "url"), caught.value
    assert connections(listener) == 0


@pytest.mark.parametrize("url", ["file:///etc/passwd", "gopher://127.0.0.1/", "ftp://127.0.0.1/", "//x/"])
def test_only_http_and_https(url: str) -> None:
    with pytest.raises(FetchError) as caught:
        Fetcher(allow_private=True).get(url, max_bytes=1000)
    assert caught.value.kind == "url"


def test_allow_private_never_allows_link_local_or_metadata() -> None:
    for address in ("169.254.169.254", "fe80::1", "::ffff:169.254.169.254", "224.0.0.1", "0.0.0.0"):
        assert blocked_reason(address, allow_private=True), address
    for address in ("127.0.0.1", "::1", "10.1.2.3", "fc00::1"):
        assert blocked_reason(address, allow_private=True) is None
        assert blocked_reason(address)
    for address in ("93.184.215.14", "2606:4700::1111"):
        assert blocked_reason(address) is None


def card_page(image: str) -> bytes:
    return (
        "<html><head><meta property='og:title' content='A story'>"
        f"<meta property='og:image' content='{image}'></head></html>"
    ).encode()


@pytest.mark.parametrize(
    "image",
    [
        "http://127.0.0.1:{port}/x.png",
        "http://localhost:{port}/x.png",
        "http://[::1]:{port}/x.png",
        "http://[::ffff:127.0.0.1]:{port}/x.png",
        "http://2130706433:{port}/x.png",
        "http://017700000001:{port}/x.png",
        "http://169.254.169.254/latest/meta-data/iam/x.png",
    ],
)
def test_card_image_on_a_private_address_is_refused(
    image: str, feed_server: FeedServer, listener: socket.socket
) -> None:
    """Issue 8, failure 5: og:image was fetched from localhost, another port and 2130706433."""
    port = listener.getsockname()[1]
    feed_server.set_reply(
        "/story/", Reply(body=card_page(image.format(port=port)), headers={"Content-Type": "text/html"})
    )
    # The page's own server is the one address this fetcher may reach (the real bot reaches no local one).
    fetcher = Fetcher(allow_addresses=frozenset({("127.0.0.1", feed_server.port)}))
    card = fetch_card(feed_server.base + "/story/", fetcher)
    assert card is not None and card.title == "A story"
    assert card.image is None
    assert connections(listener) == 0


@pytest.mark.parametrize(
    "target", ["http://127.0.0.1:{port}/", "http://[::1]:{port}/", "http://169.254.169.254/latest/meta-data/"]
)
def test_card_redirect_to_a_private_address_is_refused(
    target: str, feed_server: FeedServer, listener: socket.socket
) -> None:
    location = target.format(port=listener.getsockname()[1])
    feed_server.set_reply("/go", Reply(status=302, headers={"Location": location}))
    fetcher = Fetcher(allow_addresses=frozenset({("127.0.0.1", feed_server.port)}))
    assert fetch_card(feed_server.base + "/go", fetcher) is None
    assert connections(listener) == 0


def test_feed_redirect_to_cloud_metadata_is_refused_even_when_private_feeds_are_allowed(
    feed_server: FeedServer,
) -> None:
    """Issue 8, failure 5: the feed client followed a redirect to 169.254.169.254."""
    feed_server.set_reply(
        feed_server.FEED_PATH, Reply(status=301, headers={"Location": "http://169.254.169.254/"})
    )
    with make_client(allow_private=True) as client, pytest.raises(FeedError, match="link-local address"):
        fetch_feed(feed_server.url, client)


def test_private_feed_needs_the_setting(feed_server: FeedServer) -> None:
    feed_server.set_feed(b"<rss version='2.0'><channel><title>t</title></channel></rss>")
    with make_client() as client, pytest.raises(FeedError) as caught:
        fetch_feed(feed_server.url, client)
    assert "loopback address 127.0.0.1" in str(caught.value)
    assert "feed.allow_private_address" in (caught.value.hint or "")
    assert feed_server.requests == []
