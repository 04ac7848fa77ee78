"""The Bluesky adapter against the real reference PDS on 127.0.0.1, and against stub servers for failures.

Records are read back with plain HTTP (com.atproto.repo.getRecord) and checked field by field; facet byte
ranges are checked against the UTF-8 bytes of the text, because the PDS itself does not check them.
"""

from __future__ import annotations

import base64
import io
import json
import os
import re
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any

import httpx
import pytest
from PIL import Image as PILImage

from bot.compose import compose
from bot.errors import AuthError, RateLimitError, RejectedError, TransientError
from bot.fetch import Fetcher
from bot.models import Draft, Image, Post, Receipt
from bot.publishers.base import Publisher
from bot.publishers.bluesky import BlueskyCredentials, BlueskyPublisher, record_key
from bot.publishers.registry import text_rules
from tests.hostile_images import bomb_png
from tests.pds_fixtures import LocalPds, listening_addresses, local_http, reply

REPO_ROOT = Path(__file__).resolve().parent.parent
TID = re.compile(r"^[234567abcdefghij][234567abcdefghijklmnopqrstuvwxyz]{12}$")
NOW = datetime(2026, 5, 4, 14, 0, 7, 250_000, tzinfo=UTC)
DUE = datetime(2026, 5, 4, 14, 0, tzinfo=UTC)


class DictSessions:
    """The SessionStore protocol, in memory."""

    def __init__(self, start: dict[str, str] | None = None) -> None:
        self.values: dict[str, str] = dict(start or {})
        self.saves = 0

    def load_session(self, name: str) -> str | None:
        return self.values.get(name)

    def save_session(self, name: str, value: str) -> None:
        self.values[name] = value
        self.saves += 1


_counter = iter(range(1_000_000))


def make_post(text: str, **fields: Any) -> Post:
    fields.setdefault("key", f"test/{next(_counter)}")
    fields.setdefault("due_at", DUE)
    return Post(network="bluesky", text=text, length=len(text), limit=300, **fields)


@pytest.fixture
def publisher_factory(local_pds: LocalPds) -> Iterator[Callable[..., BlueskyPublisher]]:
    made: list[BlueskyPublisher] = []

    def make(sessions: Any = None, *, password: str | None = None) -> BlueskyPublisher:
        creds = BlueskyCredentials(local_pds.handle, password or local_pds.password, local_pds.url)
        store = sessions if sessions is not None else DictSessions()
        # Cards come from pages on 127.0.0.1 here; the real bot fetches public addresses only (tests/test_ssrf.py).
        cards = Fetcher(allow_private=True)
        publisher = BlueskyPublisher(creds, store, http=cards, card_timeout=1.0, now=lambda: NOW)
        made.append(publisher)
        return publisher

    yield make
    for publisher in made:
        publisher.close()


@pytest.fixture
def bsky(publisher_factory: Callable[..., BlueskyPublisher]) -> BlueskyPublisher:
    return publisher_factory()


def value_of(pds: LocalPds, receipt: Receipt) -> dict[str, Any]:
    record = pds.get_record(receipt.remote_id)
    assert record is not None, f"{receipt.remote_id} is not in the repo"
    assert record["cid"] == receipt.cid
    return dict(record["value"])


def noisy_png(path: Path, size: int) -> Path:
    PILImage.frombytes("RGB", (size, size), os.urandom(size * size * 3)).save(path, "PNG", compress_level=1)
    return path


def test_pds_listens_on_loopback_only(local_pds: LocalPds) -> None:
    listening = listening_addresses(local_pds.pid)
    assert len(listening) == 3  # PDS, PLC, control
    assert {address for address, _ in listening} == {"127.0.0.1"}


# -- pure parts ----------------------------------------------------------------------------------------------


def test_is_a_publisher(bsky: BlueskyPublisher) -> None:
    assert isinstance(bsky, Publisher)
    assert (bsky.network, bsky.limit, bsky.dry_run) == ("bluesky", 300, False)


def test_measure_counts_graphemes(bsky: BlueskyPublisher) -> None:
    assert bsky.measure("abc") == 3
    assert bsky.measure("👨‍👩‍👧‍👦") == 1
    assert bsky.measure("é") == 1  # e + combining acute
    assert bsky.measure("🇺🇸🧒🏽") == 2


def test_record_key_is_a_stable_tid() -> None:
    key = record_key("queue/idpd", DUE)
    assert TID.match(key)
    assert key == record_key("queue/idpd", DUE)
    assert key != record_key("queue/idpd2", DUE)
    assert key != record_key("queue/idpd", DUE + timedelta(days=365))
    alphabet = "234567abcdefghijklmnopqrstuvwxyz"
    value = 0
    for char in key:
        value = value * 32 + alphabet.index(char)
    assert value >> 63 == 0
    assert (value >> 10) // 1_000_000 == int(DUE.timestamp())  # the whole seconds are due_at's
    keyless = record_key("feed/abc", None)
    assert TID.match(keyless) and keyless == record_key("feed/abc", None) != record_key("feed/abd", None)
    many = {record_key(f"recurring/x/{n}", DUE) for n in range(5000)}
    assert len(many) == 5000


def test_too_long_is_rejected_before_sending(bsky: BlueskyPublisher, local_pds: LocalPds) -> None:
    before = local_pds.counts()
    with pytest.raises(RejectedError, match="301 graphemes"):
        bsky.publish(make_post("a" * 301))
    with pytest.raises(RejectedError, match="UTF-8 bytes"):
        bsky.publish(make_post("👨‍👩‍👧‍👦" * 150))  # 150 graphemes, 3,750 bytes
    assert local_pds.counts() == before
    with pytest.raises(RejectedError) as err:
        bsky.publish(make_post("a" * 301))
    assert not err.value.retryable


# -- posting to the real PDS ---------------------------------------------------------------------------------


def test_text_facets_langs_labels(bsky: BlueskyPublisher, local_pds: LocalPds) -> None:
    text = (
        "Ünïcödé 🧒🏽👨‍👩‍👧 Schüler: read https://endseclusion.org/stories/?a=1&b=ü. "
        "#EndSeclusion #Niños @aasr-bot.test and @nobody-here.test"
    )
    receipt = bsky.publish(make_post(text, langs=("en", "de"), labels=("graphic-media",)))
    rkey = receipt.remote_id.rsplit("/", 1)[1]
    assert receipt.remote_id == f"at://{local_pds.did}/app.bsky.feed.post/{rkey}"
    assert receipt.url == f"https://bsky.app/profile/{local_pds.handle}/post/{rkey}"
    assert (receipt.network, receipt.cost, receipt.dry_run) == ("bluesky", 0.0, False)
    value = value_of(local_pds, receipt)
    assert value["text"] == text
    assert value["langs"] == ["en", "de"]
    assert value["labels"]["$type"] == "com.atproto.label.defs#selfLabels"
    assert [label["val"] for label in value["labels"]["values"]] == ["graphic-media"]
    assert value["createdAt"] == "2026-05-04T14:00:07.250Z"
    raw = text.encode()
    seen = []
    for facet in value["facets"]:
        piece = raw[facet["index"]["byteStart"] : facet["index"]["byteEnd"]].decode()
        (feature,) = facet["features"]
        kind = feature["$type"].rsplit("#", 1)[1]
        if kind == "link":
            assert piece == feature["uri"]
        elif kind == "tag":
            assert piece == "#" + feature["tag"]
        else:
            assert kind == "mention" and feature["did"] == local_pds.did
        seen.append((kind, piece))
    assert seen == [
        ("link", "https://endseclusion.org/stories/?a=1&b=ü"),
        ("tag", "#EndSeclusion"),
        ("tag", "#Niños"),
        ("mention", "@aasr-bot.test"),  # @nobody-here.test does not resolve: left as plain text
    ]


def test_link_card_whose_image_is_a_decompression_bomb_goes_out_without_a_thumbnail(
    bsky: BlueskyPublisher, local_pds: LocalPds, caplog: pytest.LogCaptureFixture
) -> None:
    """Issue 8, failure 4: any linked page's og:image could crash a pass with DecompressionBombError."""
    page = b"""<html><head><meta property="og:title" content="A story">
    <meta property="og:image" content="/bomb.png"></head></html>"""
    routes = {
        "/story/": lambda h: reply(h, 200, page, "text/html"),
        "/bomb.png": lambda h: reply(h, 200, bomb_png(30_000, 30_000), "image/png"),
    }
    with local_http(routes) as base:
        receipt = bsky.publish(make_post("A story worth reading", link=f"{base}/story/"))
    external = value_of(local_pds, receipt)["embed"]["external"]
    assert external["title"] == "A story" and "thumb" not in external
    assert "megapixels" in caplog.text


def test_link_card_with_downscaled_thumbnail(
    bsky: BlueskyPublisher,
    local_pds: LocalPds,
    tmp_path: Path,
) -> None:
    image = noisy_png(tmp_path / "card.png", 900).read_bytes()
    assert len(image) > 1_000_000
    page = b"""<html><head><meta property="og:title" content="Sample letters">
    <meta property="og:description" content="Ask your district for its policy."><meta property="og:image"
    content="img/card.png"></head></html>"""
    routes = {
        "/letters/": lambda h: reply(h, 200, page, "text/html"),
        "/letters/img/card.png": lambda h: reply(h, 200, image, "image/png"),
    }
    with local_http(routes) as base:
        receipt = bsky.publish(make_post("Sample letters for parents", link=f"{base}/letters/"))
    embed = value_of(local_pds, receipt)["embed"]
    assert embed["$type"] == "app.bsky.embed.external"
    external = embed["external"]
    assert (external["uri"], external["title"]) == (f"{base}/letters/", "Sample letters")
    assert external["description"] == "Ask your district for its policy."
    thumb = external["thumb"]
    assert thumb["$type"] == "blob" and thumb["mimeType"] == "image/jpeg"
    assert 0 < thumb["size"] <= 1_000_000
    blob = httpx.get(
        f"{local_pds.direct}/xrpc/com.atproto.sync.getBlob",
        params={"did": local_pds.did, "cid": thumb["ref"]["$link"]},
        timeout=10,
    )
    assert blob.status_code == 200 and len(blob.content) == thumb["size"]
    assert PILImage.open(io.BytesIO(blob.content)).format == "JPEG"


def test_first_link_in_the_text_gets_the_card_when_there_is_no_link(
    bsky: BlueskyPublisher, local_pds: LocalPds
) -> None:
    """`post "... https://..."` without --link: the card comes from the first URL in the text, as in Bluesky's app."""
    page = b"""<html><head><meta property="og:title" content="Our stories"></head></html>"""
    other = b"""<html><head><meta property="og:title" content="Not this one"></head></html>"""
    routes = {
        "/stories/": lambda h: reply(h, 200, page, "text/html"),
        "/other/": lambda h: reply(h, 200, other, "text/html"),
    }
    with local_http(routes) as base:
        draft = Draft(
            key="manual/20261203T150000-cafe",
            source="manual",
            name="manual post",
            file="command line",
            text=f"Read what families told us: {base}/stories/. And more at {base}/other/",
        )
        post = compose(draft, "bluesky", due_at=DUE, rules=text_rules("bluesky"))
        assert post.link is None
        receipt = bsky.publish(post)
    embed = value_of(local_pds, receipt)["embed"]
    assert embed["$type"] == "app.bsky.embed.external"
    assert (embed["external"]["uri"], embed["external"]["title"]) == (f"{base}/stories/", "Our stories")


@pytest.mark.parametrize("failure", ["404", "timeout", "huge"])
def test_link_card_failure_posts_without_card(
    failure: str,
    bsky: BlueskyPublisher,
    local_pds: LocalPds,
) -> None:
    release = threading.Event()

    def page(h: BaseHTTPRequestHandler) -> None:
        if failure == "404":
            reply(h, 404, b"not found", "text/html")
        elif failure == "timeout":
            release.wait(15)
        else:
            reply(h, 200, b"<html>" + b" " * 2_100_000, "text/html")

    with local_http({"/page": page}) as base:
        try:
            receipt = bsky.publish(make_post("Story", link=f"{base}/page"))
        finally:
            release.set()
    value = value_of(local_pds, receipt)
    assert value["text"] == "Story"
    assert "embed" not in value


def test_images_win_over_card_with_alt_and_aspect_ratio(
    bsky: BlueskyPublisher,
    local_pds: LocalPds,
    tmp_path: Path,
) -> None:
    big = noisy_png(tmp_path / "big.png", 2000)  # ~12 MB: under the 20 MB file cap, over Bluesky's 1 MB
    assert big.stat().st_size > 1_000_000
    small = tmp_path / "small.png"
    PILImage.new("RGB", (300, 200), (10, 120, 200)).save(small, "PNG")
    images = (Image(big, "Noise, for testing downscaling"), Image(small, "A blue rectangle"))
    receipt = bsky.publish(make_post("Two pictures", images=images, link="http://127.0.0.1:9/never-fetched"))
    embed = value_of(local_pds, receipt)["embed"]
    assert embed["$type"] == "app.bsky.embed.images"
    first, second = embed["images"]
    assert first["alt"] == "Noise, for testing downscaling"
    assert first["aspectRatio"]["width"] == first["aspectRatio"]["height"] < 2000
    assert first["image"]["size"] <= 1_000_000 and first["image"]["mimeType"] == "image/jpeg"
    assert second["alt"] == "A blue rectangle"
    assert (second["aspectRatio"]["width"], second["aspectRatio"]["height"]) == (300, 200)
    assert second["image"]["mimeType"] == "image/png"


def test_more_than_four_images_rejected(bsky: BlueskyPublisher, tmp_path: Path) -> None:
    path = tmp_path / "a.png"
    PILImage.new("RGB", (2, 2)).save(path)
    with pytest.raises(RejectedError, match="5 images"):
        bsky.publish(make_post("too many", images=tuple(Image(path, "x") for _ in range(5))))


def test_replies_carry_parent_and_root(bsky: BlueskyPublisher, local_pds: LocalPds) -> None:
    first = bsky.publish(make_post("Thread 1/3"))
    second = bsky.publish(make_post("Thread 2/3", reply_to=first))
    third = bsky.publish(make_post("Thread 3/3", reply_to=second))
    two, three = value_of(local_pds, second)["reply"], value_of(local_pds, third)["reply"]
    assert (two["parent"]["uri"], two["parent"]["cid"]) == (first.remote_id, first.cid)
    assert (two["root"]["uri"], two["root"]["cid"]) == (first.remote_id, first.cid)
    assert (three["parent"]["uri"], three["parent"]["cid"]) == (second.remote_id, second.cid)
    assert (three["root"]["uri"], three["root"]["cid"]) == (first.remote_id, first.cid)


def test_retry_does_not_duplicate_and_recover_finds_it(
    publisher_factory: Callable[..., BlueskyPublisher],
    local_pds: LocalPds,
) -> None:
    post = make_post("Only once, please")
    first = publisher_factory()
    assert first.recover(post, since=DUE) is None
    before = local_pds.counts()
    receipt = first.publish(post)
    after = local_pds.counts()
    # A first attempt is one request: no look-up before createRecord.
    assert (
        after.get("/xrpc/com.atproto.repo.createRecord", 0)
        == before.get("/xrpc/com.atproto.repo.createRecord", 0) + 1
    )
    assert after.get("/xrpc/com.atproto.repo.getRecord", 0) == before.get(
        "/xrpc/com.atproto.repo.getRecord", 0
    )
    # A fresh adapter (as after a lost answer) creates at the same key: the PDS refuses, the record there is
    # the answer.
    again = publisher_factory().publish(post)
    assert again == receipt
    texts = [record["value"]["text"] for record in local_pds.list_records()]
    assert texts.count("Only once, please") == 1
    assert first.recover(post, since=DUE) == receipt
    assert (
        first.recover(make_post("Only once, please", key=post.key, due_at=DUE + timedelta(days=1)), since=DUE)
        is None
    )


def test_check_names_the_account(bsky: BlueskyPublisher, local_pds: LocalPds) -> None:
    assert bsky.check() == f"@{local_pds.handle} ({local_pds.did})"


def test_wrong_password_is_auth_error(
    publisher_factory: Callable[..., BlueskyPublisher],
) -> None:
    wrong = "wrong-pass-word-1234"
    publisher = publisher_factory(password=wrong)
    with pytest.raises(AuthError) as err:
        publisher.check()
    assert not err.value.retryable
    assert err.value.status == 401
    assert wrong not in str(err.value)
    with pytest.raises(AuthError):
        publisher.publish(make_post("never"))


# -- sessions ------------------------------------------------------------------------------------------------


def test_session_is_stored_and_reused_by_a_fresh_process(
    publisher_factory: Callable[..., BlueskyPublisher],
    local_pds: LocalPds,
    tmp_path: Path,
) -> None:
    sessions = DictSessions()
    publisher_factory(sessions).check()
    name = f"bluesky:{local_pds.handle}"
    stored = sessions.values[name]
    assert local_pds.password not in stored
    store_file = tmp_path / "sessions.json"
    store_file.write_text(json.dumps(sessions.values))
    before = local_pds.counts()
    script = """
import json, os, sys
from pathlib import Path
from bot.models import Post
from bot.publishers.bluesky import BlueskyCredentials
from bot.publishers.bluesky import BlueskyPublisher

class FileSessions:
    def __init__(self, path): self.path = Path(path)
    def load_session(self, name): return json.loads(self.path.read_text()).get(name)
    def save_session(self, name, value):
        data = json.loads(self.path.read_text()); data[name] = value; self.path.write_text(json.dumps(data))

creds = BlueskyCredentials(os.environ["BSKY_HANDLE"], os.environ["BSKY_PASSWORD"], os.environ["BSKY_SERVICE"])
with BlueskyPublisher(creds, FileSessions(sys.argv[1])) as publisher:
    print(publisher.check())
    post = Post(key="test/fresh", network="bluesky", text="From a fresh process", length=20, limit=300)
    print(publisher.publish(post).remote_id)
"""
    env = {key: value for key, value in os.environ.items() if not key.startswith("BSKY_")}
    # A wrong password: the fresh process can only succeed through the stored session.
    env.update(BSKY_HANDLE=local_pds.handle, BSKY_PASSWORD="not-the-password", BSKY_SERVICE=local_pds.url)
    done = subprocess.run(
        [sys.executable, "-W", "error", "-c", script, str(store_file)],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    who, uri = done.stdout.split()[-3:-1], done.stdout.split()[-1]
    assert who == [f"@{local_pds.handle}", f"({local_pds.did})"]
    after = local_pds.counts()
    assert after.get("/xrpc/com.atproto.server.createSession", 0) == before.get(
        "/xrpc/com.atproto.server.createSession", 0
    )
    assert after["/xrpc/com.atproto.repo.createRecord"] == before["/xrpc/com.atproto.repo.createRecord"] + 1
    record = local_pds.get_record(uri)
    assert record is not None and record["value"]["text"] == "From a fresh process"


def fake_jwt(did: str, exp: datetime) -> str:
    def part(data: dict[str, Any]) -> str:
        return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()

    return (
        f"{part({'alg': 'ES256K', 'typ': 'at+jwt'})}.{part({'sub': did, 'exp': int(exp.timestamp())})}.c2ln"
    )


def test_dead_stored_session_falls_back_to_password_once(
    publisher_factory: Callable[..., BlueskyPublisher],
    local_pds: LocalPds,
) -> None:
    name = f"bluesky:{local_pds.handle}"
    dead_token = fake_jwt(local_pds.did, datetime.now(UTC) + timedelta(hours=2))
    dead = ":::".join([local_pds.handle, local_pds.did, dead_token, dead_token, local_pds.url])
    sessions = DictSessions({name: dead})
    before = local_pds.counts().get("/xrpc/com.atproto.server.createSession", 0)
    publisher = publisher_factory(sessions)
    receipt = publisher.publish(make_post("After a dead session"))
    assert value_of(local_pds, receipt)["text"] == "After a dead session"
    publisher.publish(make_post("And again"))
    assert local_pds.counts()["/xrpc/com.atproto.server.createSession"] == before + 1
    assert sessions.values[name] != dead and sessions.saves == 1


def test_garbage_stored_session_logs_in(
    publisher_factory: Callable[..., BlueskyPublisher],
    local_pds: LocalPds,
) -> None:
    sessions = DictSessions({f"bluesky:{local_pds.handle}": "garbage"})
    assert publisher_factory(sessions).check().startswith(f"@{local_pds.handle} ")
    assert sessions.saves == 1


# -- failures from stub servers ------------------------------------------------------------------------------

STUB_DID = "did:plc:stubstubstubstubstubstub"


def stub_session(h: BaseHTTPRequestHandler) -> None:
    token = fake_jwt(STUB_DID, datetime.now(UTC) + timedelta(hours=2))
    body = {"did": STUB_DID, "handle": "stub.test", "accessJwt": token, "refreshJwt": token}
    reply(h, 200, json.dumps(body).encode(), "application/json")


def xrpc_error(status: int, error: str, **headers: str) -> Callable[[BaseHTTPRequestHandler], None]:
    body = json.dumps({"error": error, "message": f"{error} from stub"}).encode()
    return lambda h: reply(h, status, body, "application/json", **headers)


NOT_FOUND = xrpc_error(400, "RecordNotFound")


def stub_publisher(base: str) -> BlueskyPublisher:
    return BlueskyPublisher(
        BlueskyCredentials("stub.test", "stub-app-password", base), DictSessions(), timeout=5
    )


def test_429_on_login_is_rate_limit_with_reset() -> None:
    reset = int(datetime(2030, 1, 1, tzinfo=UTC).timestamp())
    routes = {
        "/xrpc/com.atproto.server.createSession": xrpc_error(
            429, "RateLimitExceeded", ratelimit_reset=str(reset)
        )
    }
    with local_http(routes) as base, stub_publisher(base) as publisher, pytest.raises(RateLimitError) as err:
        publisher.publish(make_post("hi"))
    assert err.value.retryable
    assert err.value.reset_at == datetime(2030, 1, 1, tzinfo=UTC)
    assert "stub-app-password" not in str(err.value)


def test_429_on_create_is_rate_limit() -> None:
    routes = {
        "/xrpc/com.atproto.server.createSession": stub_session,
        "/xrpc/com.atproto.repo.getRecord": NOT_FOUND,
        "/xrpc/com.atproto.repo.createRecord": xrpc_error(
            429, "RateLimitExceeded", ratelimit_reset="1900000000"
        ),
    }
    with local_http(routes) as base, stub_publisher(base) as publisher, pytest.raises(RateLimitError) as err:
        publisher.publish(make_post("hi"))
    assert err.value.reset_at == datetime.fromtimestamp(1_900_000_000, tz=UTC)


def test_502_is_transient() -> None:
    routes = {
        "/xrpc/com.atproto.server.createSession": stub_session,
        "/xrpc/com.atproto.repo.getRecord": NOT_FOUND,
        "/xrpc/com.atproto.repo.createRecord": lambda h: reply(
            h, 502, b"<html>Bad Gateway</html>", "text/html"
        ),
    }
    with local_http(routes) as base, stub_publisher(base) as publisher, pytest.raises(TransientError) as err:
        publisher.publish(make_post("hi"))
    assert err.value.retryable and err.value.status == 502


def test_other_4xx_is_rejected() -> None:
    routes = {
        "/xrpc/com.atproto.server.createSession": stub_session,
        "/xrpc/com.atproto.repo.getRecord": NOT_FOUND,
        "/xrpc/com.atproto.repo.createRecord": xrpc_error(400, "InvalidRequest"),
    }
    with local_http(routes) as base, stub_publisher(base) as publisher, pytest.raises(RejectedError) as err:
        publisher.publish(make_post("hi"))
    assert not err.value.retryable and "InvalidRequest" in str(err.value)


def test_connection_refused_is_transient() -> None:
    with local_http({}) as base:
        pass  # closed again: nothing listens on that port now
    with stub_publisher(base) as publisher, pytest.raises(TransientError):
        publisher.check()


def test_failed_create_whose_record_exists_is_a_success() -> None:
    """The reference PDS answers a create at an existing key with 500: the record at our key is the answer."""
    lookups: list[str] = []
    uri = f"at://{STUB_DID}/app.bsky.feed.post/RKEY"

    def get_record(h: BaseHTTPRequestHandler) -> None:
        lookups.append(h.path)
        rkey = h.path.rsplit("rkey=", 1)[1]
        body = {"uri": uri.replace("RKEY", rkey), "cid": "bafyreistub", "value": {"text": "hi"}}
        reply(h, 200, json.dumps(body).encode(), "application/json")

    routes = {
        "/xrpc/com.atproto.server.createSession": stub_session,
        "/xrpc/com.atproto.repo.getRecord": get_record,
        "/xrpc/com.atproto.repo.createRecord": xrpc_error(500, "InternalServerError"),
    }
    post = make_post("hi")
    with local_http(routes) as base, stub_publisher(base) as publisher:
        receipt = publisher.publish(post)
    rkey = record_key(post.key, post.due_at)
    assert receipt.remote_id == uri.replace("RKEY", rkey) and receipt.cid == "bafyreistub"
    assert len(lookups) == 1  # looked only after the create failed
