"""Files a schedule names (``text_file:``, ``images:``): always inside the content folder, always small.

A schedule is written by contributors and merged by volunteers, so a path in it is untrusted: ``../.env``,
``/proc/self/environ``, ``/dev/zero`` or a symlink out of ``content/`` must never be read, printed, stored in the
ledger or posted. Every such path resolves (symlinks followed) to a regular file inside the content folder, under
a size cap, or it is a ``ContentFileError`` with a plain reason. ``post --image`` uses the same checks for a
maintainer's own file relative to the working directory (``base``).
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

from bot.errors import BotError

MAX_TEXT_BYTES = 64_000
"""A text file holds one post's words; 64 KB is far more than any network allows."""
MAX_IMAGE_BYTES = 20_000_000
"""On disk; a phone photo is well under 15 MB."""


class ContentFileError(BotError):
    """A named file that may not be used: outside the folder, not a regular file, missing or too big."""


def confine(
    base: Path, rel: str, *, max_bytes: int, folder_name: str = "content/", allow_absolute: bool = False
) -> Path:
    """The real path of ``rel`` under ``base``, after following symlinks; ``ContentFileError`` unless it is a
    regular file inside ``base`` of at most ``max_bytes`` bytes. ``allow_absolute``: an absolute path is
    accepted when it, too, resolves inside ``base`` (a maintainer's shell may expand one)."""
    text = rel.strip()
    if not text:
        raise ContentFileError("the file name is empty")
    if "\x00" in text:
        raise ContentFileError("the file name contains a NUL character")
    candidate = Path(text)
    if candidate.is_absolute() and not allow_absolute:
        raise ContentFileError(
            f"{text!r} is an absolute path; files are named relative to {folder_name}",
            hint=f"put the file in {folder_name} and name it from there, e.g. images/photo.jpg",
        )
    root = base.resolve()
    try:
        real = (root / candidate).resolve(strict=True)
    except FileNotFoundError:
        raise ContentFileError(
            f"{text!r} not found under {base}", hint=f"paths are relative to {folder_name}"
        ) from None
    except (OSError, RuntimeError) as exc:  # a symlink loop, a name too long, no permission
        raise ContentFileError(f"{text!r} cannot be opened under {base}: {type(exc).__name__}") from None
    if not real.is_relative_to(root):
        raise ContentFileError(
            f"{text!r} leads outside {folder_name} (to {_shown(real)})",
            hint=f"only files inside {folder_name} may be used; copy the file there (no '..', no symlinks out)",
        )
    try:
        info = real.stat()
    except OSError as exc:
        raise ContentFileError(f"{text!r} cannot be read: {exc.strerror or type(exc).__name__}") from None
    if not stat.S_ISREG(info.st_mode):
        raise ContentFileError(f"{text!r} is not a regular file (a folder, device or pipe)")
    if info.st_size > max_bytes:
        raise ContentFileError(
            f"{text!r} is {_size(info.st_size)}; the limit is {_size(max_bytes)}",
            hint="use a smaller file",
        )
    return real


def read_capped(path: Path, max_bytes: int) -> bytes:
    """Read a regular file without following a symlink put in its place, and never more than ``max_bytes``."""
    flags = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0)
    try:
        fd = os.open(path, flags)
    except OSError as exc:
        raise ContentFileError(f"cannot read {path}: {exc.strerror or type(exc).__name__}") from None
    with os.fdopen(fd, "rb") as handle:
        if not stat.S_ISREG(os.fstat(handle.fileno()).st_mode):
            raise ContentFileError(f"{path} is not a regular file")
        data = handle.read(max_bytes + 1)
    if len(data) > max_bytes:
        raise ContentFileError(f"{path} is over the {_size(max_bytes)} limit")
    return data


def _size(n: int) -> str:
    return f"{n / 1e6:.1f} MB" if n >= 1_000_000 else f"{n / 1000:.0f} KB" if n >= 1000 else f"{n} bytes"


def _shown(path: Path) -> str:
    """Enough to recognise the target without echoing a long or strange path in full."""
    text = str(path)
    return text if len(text) <= 80 else "..." + text[-77:]
