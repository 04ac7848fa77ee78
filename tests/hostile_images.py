"""Images built byte by byte, as an attacker would: a PNG header claiming any size over a few bytes of data."""

from __future__ import annotations

import struct
import zlib
from pathlib import Path


def _chunk(kind: bytes, data: bytes) -> bytes:
    return (
        struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
    )


def bomb_png(width: int, height: int) -> bytes:
    """A valid PNG header for ``width`` x ``height`` grey pixels whose data is a few hundred bytes of zlib:
    a decoder would allocate ``width * height`` bytes before finding out the data is short."""
    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    rows = zlib.compress(b"\0" * 10_000, 9)
    return b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", header) + _chunk(b"IDAT", rows) + _chunk(b"IEND", b"")


def write_bomb(path: Path, width: int = 30_000, height: int = 30_000) -> Path:
    path.write_bytes(bomb_png(width, height))
    return path
