"""Images are judged from their header before anything is decoded: bombs, junk and oversized files are a clear
``BotError``, never a Pillow exception or gigabytes of memory."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from PIL import Image as PILImage

from bot.errors import BotError
from bot.images import MAX_FILE_BYTES, check_file, prepare_image
from tests.hostile_images import bomb_png


@pytest.mark.parametrize("size", [(30_000, 30_000), (12_000, 12_000), (100_000, 1_000)])
def test_bombs_are_refused_from_the_header(tmp_path: Path, size: tuple[int, int]) -> None:
    path = tmp_path / "bomb.png"
    path.write_bytes(bomb_png(*size))
    for judge in (lambda: check_file(path), lambda: prepare_image(path, 1_000_000)):
        with pytest.raises(BotError, match="megapixels"):
            judge()


@pytest.mark.parametrize(
    ("data", "words"),
    [
        (b"not an image at all", "not an image"),
        (b"", "not an image"),
        (bomb_png(100, 100)[:40], "not an image|damaged"),
        (b"BM" + b"\0" * 60, "not an image|BMP"),
    ],
)
def test_junk_is_a_clear_error(tmp_path: Path, data: bytes, words: str) -> None:
    path = tmp_path / "junk.png"
    path.write_bytes(data)
    with pytest.raises(BotError, match=words):
        prepare_image(path, 1_000_000)


def test_unknown_format_is_named(tmp_path: Path) -> None:
    path = tmp_path / "picture.png"
    PILImage.new("RGB", (10, 10)).save(path, "BMP")
    with pytest.raises(BotError, match="BMP image"):
        check_file(path)


def test_file_over_the_cap_is_refused_unread(tmp_path: Path) -> None:
    path = tmp_path / "huge.png"
    with path.open("wb") as handle:
        handle.truncate(MAX_FILE_BYTES + 1)
    with pytest.raises(BotError, match="MB"):
        prepare_image(path, 1_000_000)


def test_animated_gif_that_fits_goes_out_as_it_is(tmp_path: Path) -> None:
    frames = [PILImage.new("RGB", (40, 40), color) for color in ("red", "green", "blue")]
    out = io.BytesIO()
    frames[0].save(out, "GIF", save_all=True, append_images=frames[1:], duration=100, loop=0)
    path = tmp_path / "moving.gif"
    path.write_bytes(out.getvalue())
    assert check_file(path).animated
    prepared = prepare_image(path, 5_000_000)
    assert prepared.mime == "image/gif" and prepared.data == out.getvalue()
