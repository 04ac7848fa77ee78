"""Pytest fixtures for X: the stand-in server (``tests.xserver``), matching credentials and publishers.

Register with ``pytest_plugins = ["tests.x_fixtures"]`` in tests/conftest.py.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from openapi_core import OpenAPI

from bot.publishers.base import SessionStore
from bot.publishers.x import XCredentials, XPublisher
from tests.shared import skip_reason
from tests.xserver import SPEC_PATH, Keys, XStandIn, load_spec

X_KEYS = Keys(
    consumer_key="test-consumer-key",
    consumer_secret="test-consumer-secret-5b1f",
    token="1585000000000000001-test-access-token",
    token_secret="test-access-token-secret-9c2e",
)
X_PRICE_POST = 0.015
X_PRICE_POST_WITH_URL = 0.20


@pytest.fixture(scope="session")
def x_spec() -> OpenAPI:
    """X's OpenAPI spec, from ../shared beside the repository (absent on a maintainer's machine: skip)."""
    if not SPEC_PATH.is_file():
        pytest.skip(
            skip_reason(SPEC_PATH, "the X adapter tests (the X stand-in checks requests against X's spec)")
        )
    return load_spec(SPEC_PATH)


@pytest.fixture
def x_server(x_spec: OpenAPI) -> Iterator[XStandIn]:
    """A running stand-in; the test fails if a request broke X's spec or rules (unless it cleared errors)."""
    with XStandIn(X_KEYS, spec=x_spec) as server:
        yield server
    assert server.errors == [], "requests X would have refused:\n" + "\n".join(server.errors)


@pytest.fixture
def x_creds(x_server: XStandIn) -> XCredentials:
    return XCredentials(
        api_key=X_KEYS.consumer_key,
        api_secret=X_KEYS.consumer_secret,
        access_token=X_KEYS.token,
        access_token_secret=X_KEYS.token_secret,
        base_url=x_server.url,
    )


@pytest.fixture
def make_x_publisher(x_creds: XCredentials) -> Iterator[Callable[..., XPublisher]]:
    """Build publishers for the stand-in (keywords ``timeout``, ``creds``); they are closed afterwards."""
    made: list[XPublisher] = []

    def make(
        *, creds: XCredentials | None = None, timeout: float = 5.0, sessions: SessionStore | None = None
    ) -> XPublisher:
        publisher = XPublisher(
            creds or x_creds,
            price_post_usd=X_PRICE_POST,
            price_post_with_url_usd=X_PRICE_POST_WITH_URL,
            timeout=timeout,
            sessions=sessions,
        )
        made.append(publisher)
        return publisher

    yield make
    for publisher in made:
        publisher.close()


@pytest.fixture
def x_publisher(make_x_publisher: Callable[..., XPublisher]) -> XPublisher:
    return make_x_publisher()
