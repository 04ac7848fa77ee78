"""Make an image fit a network's upload limit: downscale and re-encode with Pillow, never crop.

Every image is judged from its header before a pixel is decoded (``Image.open`` reads only the header): more than
``MAX_PIXELS`` (50 megapixels) or more than ``MAX_FILE_BYTES`` on disk is refused with a clear ``BotError``, so
no decompression bomb is ever decoded, whether it comes from ``content/`` or a link card's ``og:image``.
Animated GIFs go out as they are when they already fit the network; one that must be shrunk keeps only its first
frame (a still image).
"""

from __future__ import annotations

import io
import warnings
from dataclasses import dataclass
from pathlib import Path

from PIL import Image as PILImage
from PIL import ImageOps, UnidentifiedImageError

from bot.contentfiles import MAX_IMAGE_BYTES, ContentFileError, read_capped
from bot.errors import BotError

MIME_BY_FORMAT = {"JPEG": "image/jpeg", "PNG": "image/png", "GIF": "image/gif", "WEBP": "image/webp"}
MAX_PIXELS = 50_000_000
"""Width x height of one frame; a 50-megapixel photo decodes to about 200 MB."""
MAX_FILE_BYTES = MAX_IMAGE_BYTES
_FORMATS_HINT = "use PNG, JPEG, GIF or WebP"


@dataclass(frozen=True, slots=True)
class Header:
    """What an image's header says, read without decoding it."""

    format: str
    width: int
    height: int
    animated: bool


def read_header(raw: bytes, name: str) -> Header:
    """The header of the image in ``raw``; ``BotError`` if it is not one, not a known format, or too big."""
    with _opened(raw, name) as opened:
        return Header(
            opened.format or "", opened.width, opened.height, bool(getattr(opened, "is_animated", False))
        )


def check_file(path: Path, *, max_bytes: int = MAX_FILE_BYTES) -> Header:
    """``read_header`` of a file on disk, refusing it before reading when it is over ``max_bytes``."""
    data = _read(path, max_bytes)
    return read_header(data, str(path))


def _read(path: Path, max_bytes: int) -> bytes:
    """The file's bytes: a regular file (a symlink swapped in after validation is refused), at most ``max_bytes``."""
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise BotError(
            f"cannot read image {path}: {exc.strerror or type(exc).__name__}",
            hint="check the path under content/",
        ) from None
    if size > max_bytes:
        raise BotError(
            f"image {path} is {size / 1e6:.1f} MB; the limit is {max_bytes / 1e6:g} MB",
            hint="save a smaller copy (a 4000-pixel JPEG is plenty)",
        )
    try:
        return read_capped(path, max_bytes)
    except ContentFileError as exc:
        raise BotError(f"image: {exc.message}", hint="check the path under content/") from None


class _opened:
    """``Image.open`` on bytes with every way Pillow refuses an image turned into one ``BotError``, and the
    pixel budget checked before anything is decoded."""

    def __init__(self, raw: bytes, name: str) -> None:
        self.raw = raw
        self.name = name
        self.image: PILImage.Image | None = None

    def __enter__(self) -> PILImage.Image:
        with warnings.catch_warnings():
            # Pillow warns above ~89 megapixels and refuses above ~179; our own budget is lower and says why.
            warnings.simplefilter("ignore", PILImage.DecompressionBombWarning)
            try:
                image = PILImage.open(io.BytesIO(self.raw))
            except PILImage.DecompressionBombError:
                raise BotError(
                    f"{self.name} is far more than {MAX_PIXELS // 1_000_000} megapixels; refused unread",
                    hint="save a smaller copy",
                ) from None
            except (UnidentifiedImageError, OSError, ValueError, SyntaxError, EOFError) as exc:
                raise BotError(f"{self.name} is not an image Pillow can read", hint=_FORMATS_HINT) from exc
        self.image = image
        if image.format not in MIME_BY_FORMAT:
            image.close()
            raise BotError(f"{self.name} is a {image.format or 'unknown'} image", hint=_FORMATS_HINT)
        pixels = image.width * image.height
        if pixels > MAX_PIXELS:
            image.close()
            raise BotError(
                f"{self.name} is {image.width}x{image.height} pixels ({pixels / 1e6:.0f} megapixels); "
                f"the limit is {MAX_PIXELS // 1_000_000}",
                hint="save a smaller copy (a 4000-pixel side is plenty)",
            )
        return image

    def __exit__(self, *exc_info: object) -> None:
        if self.image is not None:
            self.image.close()


@dataclass(frozen=True, slots=True)
class PreparedImage:
    data: bytes
    mime: str
    width: int
    height: int


def prepare_image(path: Path, max_bytes: int, *, max_side: int = 4096) -> PreparedImage:
    """Return the image's bytes if they already fit, else a downscaled JPEG (or PNG with transparency) that does.

    A maintainer's 12 MB phone photo must work on both networks, so we shrink rather than refuse; over
    ``MAX_FILE_BYTES`` or ``MAX_PIXELS`` (judged from the header, before decoding) it is a ``BotError``.
    """
    raw = _read(path, MAX_FILE_BYTES)
    with _opened(raw, str(path)) as opened:
        fmt = opened.format or ""
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", PILImage.DecompressionBombWarning)
                img = ImageOps.exif_transpose(opened)
                img.load()
        except (OSError, ValueError, SyntaxError, EOFError, PILImage.DecompressionBombError) as exc:
            raise BotError(f"{path} is damaged: Pillow cannot decode it", hint=_FORMATS_HINT) from exc
        if len(raw) <= max_bytes and fmt in MIME_BY_FORMAT and max(img.size) <= max_side:
            return PreparedImage(raw, MIME_BY_FORMAT[fmt], img.width, img.height)
        return _shrink(img, path, max_bytes, max_side)


def _shrink(img: PILImage.Image, path: Path, max_bytes: int, max_side: int) -> PreparedImage:
    keep_alpha = (img.mode in ("RGBA", "LA", "P") and "transparency" in img.info) or img.mode in (
        "RGBA",
        "LA",
    )
    scale = min(1.0, max_side / max(img.size))
    quality = 88
    while True:
        size = (max(1, round(img.width * scale)), max(1, round(img.height * scale)))
        frame = img.resize(size, PILImage.Resampling.LANCZOS) if size != img.size else img
        out = io.BytesIO()
        if keep_alpha:
            frame.convert("RGBA").save(out, "PNG", optimize=True)
            mime = "image/png"
        else:
            frame.convert("RGB").save(out, "JPEG", quality=quality, optimize=True, progressive=True)
            mime = "image/jpeg"
        data = out.getvalue()
        if len(data) <= max_bytes:
            return PreparedImage(data, mime, size[0], size[1])
        if size == (1, 1):
            raise BotError(f"{path} cannot be shrunk under {max_bytes} bytes")
        if not keep_alpha and quality > 70:
            quality -= 8
        else:
            scale *= 0.8
