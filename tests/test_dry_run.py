"""Dry run prints what would be sent: by default what a follower sees (text, whether it fits, link card, images
and alt text); with ``--verbose`` also the technical detail (facets with byte ranges, fitted image sizes)."""

from __future__ import annotations

import io
import random
from pathlib import Path

from PIL import Image as PILImage

from bot.fetch import Fetcher
from bot.models import Image, Post
from bot.publishers.bluesky import bluesky_facets
from bot.publishers.dry_run import DryRunPublisher
from tests.e2e_helpers import bot, clean_env
from tests.feed_fixtures import FeedServer, Reply
from tests.service_fixtures import write_tree


def test_bluesky_facets_have_byte_ranges_that_match_the_text() -> None:
    text = "Café 👋🏽 parents: read https://endseclusion.org/resources/ #EndSeclusion @someone.bsky.social"
    facets = bluesky_facets(text)
    encoded = text.encode()
    link = encoded.index(b"https://")
    assert (
        f"link 'https://endseclusion.org/resources/' at bytes {link}-{link + len('https://endseclusion.org/resources/')}"
        in facets
    )
    tag = encoded.index(b"#EndSeclusion")
    assert f"tag '#EndSeclusion' at bytes {tag}-{tag + 13}" in facets
    assert any(f.startswith("mention @someone.bsky.social") for f in facets)


def noisy_png(path: Path, side: int) -> None:
    rng = random.Random(7)
    img = PILImage.frombytes("RGB", (side, side), bytes(rng.getrandbits(8) for _ in range(side * side * 3)))
    img.save(path)


def test_dry_run_shows_fitted_images_and_alt_text(tmp_path: Path) -> None:
    big = tmp_path / "big.png"
    noisy_png(big, 900)  # ~2.4 MB of noise: over Bluesky's 1 MB blob limit, under X's 5 MB
    assert big.stat().st_size > 1_000_000
    post = Post(
        "queue/img", "bluesky", "A post with an image", 20, 300, images=(Image(big, "Noise, for a test"),)
    )
    out = io.StringIO()
    DryRunPublisher("bluesky", out=out, verbose=True).publish(post)
    text = out.getvalue()
    assert "[dry run] bluesky: would post queue/img (20/300, fits)" in text
    assert "image/jpeg" in text and "alt: Noise, for a test" in text
    kb = int(text.split("image/jpeg, ")[1].split(" KB")[0])
    assert kb * 1024 <= 1_000_000
    x_out = io.StringIO()
    DryRunPublisher("x", out=x_out, verbose=True).publish(
        Post("queue/img", "x", "A post with an image", 20, 280, images=(Image(big, "Noise, for a test"),))
    )
    assert "900x900 image/png" in x_out.getvalue()  # fits X's 5 MB as it is
    plain = io.StringIO()
    DryRunPublisher("bluesky", out=plain).publish(post)
    assert plain.getvalue().splitlines() == [
        "[dry run] bluesky: would post queue/img (20/300, fits)",
        "    | A post with an image",
        f"    image: {big}",
        "      alt: Noise, for a test",
    ]


def test_dry_run_shows_technical_detail_only_when_verbose() -> None:
    text = "Read https://endseclusion.org/ #EndSeclusion"
    post = Post("queue/a", "bluesky", text, 44, 300, link="https://endseclusion.org/")
    plain, verbose = io.StringIO(), io.StringIO()
    DryRunPublisher("bluesky", out=plain).publish(post)
    DryRunPublisher("bluesky", out=verbose, verbose=True).publish(post)
    assert plain.getvalue() == (
        "[dry run] bluesky: would post queue/a (44/300, fits)\n"
        "    | Read https://endseclusion.org/ #EndSeclusion\n"
        "    link card: https://endseclusion.org/ (its title, description and picture are read from the page"
        " when posting)\n"
    )
    assert "bytes" not in plain.getvalue() and "facet" not in plain.getvalue()
    assert "UTF-8 bytes (limit 3000); langs: en" in verbose.getvalue()
    assert "facet: link 'https://endseclusion.org/' at bytes 5-30" in verbose.getvalue()


def test_unattended_dry_run_never_fetches_the_card(tmp_path: Path, feed_server: FeedServer) -> None:
    url = feed_server.base + "/story/"
    out = io.StringIO()
    DryRunPublisher("bluesky", out=out).publish(Post("k", "bluesky", f"Read {url}", 10, 300, link=url))
    assert "read from the page when posting" in out.getvalue()
    assert feed_server.requests == []


CARD_PAGE = (
    b"<html><head><meta property='og:title' content='Sample letters'>"
    b"<meta property='og:description' content='Letters you can send to your school.'></head></html>"
)


def test_dry_run_with_cards_fetches_and_shows_the_card(feed_server: FeedServer) -> None:
    feed_server.set_reply("/letters/", Reply(body=CARD_PAGE, headers={"Content-Type": "text/html"}))
    url = feed_server.base + "/letters/"
    out = io.StringIO()
    # The page is on 127.0.0.1, which the bot's own fetcher refuses (next test); this one is told to allow it.
    publisher = DryRunPublisher("bluesky", out=out, fetch_cards=True, cards=Fetcher(allow_private=True))
    publisher.publish(Post("k", "bluesky", f"Ask your school {url}", 30, 300, link=url))
    assert "link card: 'Sample letters' / 'Letters you can send to your school.'" in out.getvalue()


def test_post_dry_run_refuses_a_card_on_a_private_address(tmp_path: Path, feed_server: FeedServer) -> None:
    feed_server.set_reply("/letters/", Reply(body=CARD_PAGE, headers={"Content-Type": "text/html"}))
    write_tree(tmp_path)
    result = bot(
        [
            "post",
            "Ask your school for its policy.",
            "--link",
            feed_server.base + "/letters/",
            "--network",
            "bluesky",
            "--dry-run",
            "--verbose",
        ],
        clean_env(tmp_path),
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr
    assert "the page could not be read" in result.stdout
    assert "loopback address 127.0.0.1" in result.stderr
    assert "facet: link" in result.stdout
    assert feed_server.requests == []  # refused before connecting


def test_post_refuses_an_image_without_alt_text(tmp_path: Path) -> None:
    write_tree(tmp_path)
    image = tmp_path / "a.png"
    PILImage.new("RGB", (10, 10)).save(image)
    result = bot(["post", "Text", "--image", str(image), "--dry-run"], clean_env(tmp_path), cwd=tmp_path)
    assert result.returncode == 1
    assert "every image needs alt text" in result.stderr and "Traceback" not in result.stderr
