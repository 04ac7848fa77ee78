"""Shared pytest configuration. Area fixtures live in tests/*_fixtures.py and are registered here."""

from __future__ import annotations

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


@pytest.fixture(autouse=True)
def _instant_retries() -> Iterator[None]:
    """stamina retries without waiting (hynek/stamina's own testing switch), keeping the attempt count."""
    with stamina.set_testing(True, attempts=3):
        yield
