"""What the X and Mastodon stand-ins share to check an exchange against a network's own OpenAPI spec with
openapi-core: a request and an answer in the shapes its protocols expect, and its errors on one line."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from openapi_core.datatypes import RequestParameters


@dataclass
class SpecRequest:
    """A request in the shape openapi-core's ``Request`` protocol expects, as if sent to ``host_url`` (the
    network's real host, which the spec's servers name)."""

    method: str
    path: str
    body: bytes | None
    content_type: str
    parameters: RequestParameters
    host_url: str


@dataclass
class SpecResponse:
    """An answer in the shape openapi-core's ``Response`` protocol expects."""

    status_code: int
    content_type: str
    data: bytes | None
    headers: Mapping[str, Any] = field(default_factory=dict)


def one_line(err: BaseException, limit: int | None = None) -> str:
    """openapi-core keeps the schema's reasons in the exception's causes; show them all, on one line."""
    parts = [str(err)]
    cause = err.__cause__
    while cause is not None:
        parts.append(str(cause))
        cause = cause.__cause__
    text = " ".join(" | ".join(parts).split())
    return text if limit is None else text[:limit]
