"""Shared pytest configuration. Area fixtures live in tests/*_fixtures.py and are registered here."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
import stamina

pytest_plugins = [
    "tests.feed_fixtures",
    "tests.store_fixtures",
    "tests.x_fixtures",
    "tests.pds_fixtures",
    "tests.browser_fixtures",
]


@pytest.fixture(autouse=True, scope="session")
def _readability_cache(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """Commands keep reading grades in a cache of this test session, never in the user's ~/.cache (tests of
    the cache itself set their own)."""
    before = os.environ.get("BOT_CACHE_DIR")
    os.environ["BOT_CACHE_DIR"] = str(tmp_path_factory.mktemp("cache"))
    yield
    if before is None:
        os.environ.pop("BOT_CACHE_DIR", None)
    else:
        os.environ["BOT_CACHE_DIR"] = before


@pytest.fixture(autouse=True)
def _instant_retries() -> Iterator[None]:
    """stamina retries without waiting (hynek/stamina's own testing switch), keeping the attempt count."""
    with stamina.set_testing(True, attempts=3):
        yield
