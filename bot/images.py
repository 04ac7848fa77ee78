"""Make an image fit a network's upload limit: downscale and re-encode with Pillow, never crop."""

from __future__ import annotations

import io
from dataclasses import dataclass
from pathlib import Path

from PIL import Image as PILImage
from PIL import ImageOps, UnidentifiedImageError

from bot.errors import BotError

MIME_BY_FORMAT = {"JPEG": "image/jpeg", "PNG": "image/png", "GIF": "image/gif", "WEBP": "image/webp"}


@dataclass(frozen=True, slots=True)
class PreparedImage:
    data: bytes
    mime: str
    width: int
    height: int


def prepare_image(path: Path, max_bytes: int, *, max_side: int = 4096) -> PreparedImage:
    """Return the image's bytes if they already fit, else a downscaled JPEG (or PNG with transparency) that does.

    A maintainer's 12 MB phone photo must work on both networks, so we shrink rather than refuse.
    """
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise BotError(
            f"cannot read image {path}: {exc.strerror}", hint="check the path under content/"
        ) from exc
    try:
        with PILImage.open(io.BytesIO(raw)) as opened:
            fmt = opened.format or ""
            img = ImageOps.exif_transpose(opened)
            img.load()
    except (UnidentifiedImageError, OSError) as exc:
        raise BotError(f"{path} is not an image Pillow can read", hint="use PNG, JPEG, GIF or WebP") from exc
    if len(raw) <= max_bytes and fmt in MIME_BY_FORMAT and max(img.size) <= max_side:
        return PreparedImage(raw, MIME_BY_FORMAT[fmt], img.width, img.height)
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
