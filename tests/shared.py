"""``../shared``: reference material kept beside the repository, never inside it.

It holds X's published OpenAPI spec (the X stand-in checks every request against it) and twitter-text's
conformance data (X's length rule). A clone from GitHub has no ``../shared``: the tests that need it skip with
``skip_reason``, which says what is missing and what that leaves untested, in the README's words.
"""

from __future__ import annotations

from pathlib import Path

SHARED = Path(__file__).resolve().parents[2] / "shared"
REFERENCE = SHARED / "reference"


def skip_reason(path: Path, untested: str) -> str:
    """The skip message of a test that needs ``path`` from ``../shared``."""
    return (
        f"skipped without ../shared: {untested} need {path}. ../shared is reference material kept beside the"
        " repository, not part of it (X's OpenAPI spec, twitter-text's conformance data); CI has it"
        " (README, Quickstart)"
    )
