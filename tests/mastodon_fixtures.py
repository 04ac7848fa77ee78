"""Mastodon for tests: ``mastodon-mock`` on 127.0.0.1, a checker that validates every request the adapter sends
and every answer it gets against Mastodon's OpenAPI spec, and a small stand-in for what the mock never does
(a ``202`` while an image is processed).
"""

from __future__ import annotations

import io
import json
import threading
from collections.abc import Iterator
from functools import lru_cache
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import pytest
import requests
from openapi_core import Config, OpenAPI
from openapi_core.datatypes import RequestParameters
from openapi_core.security.exceptions import SecurityProviderError
from openapi_core.security.factories import SecurityProviderFactory
from openapi_core.security.providers import BaseProvider
from werkzeug.datastructures import Headers, ImmutableMultiDict

from tests.openapi_check import SpecRequest, SpecResponse, one_line
from tests.shared import REFERENCE, skip_reason

SPEC_PATH = REFERENCE / "mastodon-api" / "openapi.json"
SPEC_HOST = "https://mastodon.example"


class _BearerProvider(BaseProvider):
    """Mastodon's ``OAuth2`` scheme as it reaches the API: a bearer token in ``Authorization``."""

    def __call__(self, parameters: RequestParameters) -> Any:
        kind, _, token = str(parameters.header.get("Authorization", "")).partition(" ")
        if kind.lower() != "bearer" or not token:
            raise SecurityProviderError("no bearer token")
        return token


class _Providers(SecurityProviderFactory):
    PROVIDERS = {"oauth2": _BearerProvider, "http": _BearerProvider}  # noqa: RUF012


@lru_cache(maxsize=1)
def load_spec(path: Path = SPEC_PATH) -> OpenAPI:
    """Mastodon's spec as an openapi-core app; spec validation off (the file has a string "null" default on an
    integer field, which fails it, while every schema the bot uses is sound)."""
    data = json.loads(path.read_text(encoding="utf-8"))
    return OpenAPI.from_dict(
        data, config=Config(spec_validator_cls=None, security_provider_factory=_Providers())
    )


def spec_or_skip() -> OpenAPI:
    if not SPEC_PATH.is_file():
        pytest.skip(
            skip_reason(SPEC_PATH, "checks of Mastodon requests and answers against Mastodon's API spec")
        )
    return load_spec()


_FORM_BOOLEANS = frozenset({"sensitive"})


def _form_as_json(body: bytes) -> bytes:
    """A form-encoded status create as the JSON body the spec describes (Mastodon takes either; Mastodon.py
    sends the form, ``media_ids[]`` repeated)."""
    found: dict[str, Any] = {}
    for key, value in parse_qsl(body.decode(), keep_blank_values=True):
        if key.endswith("[]"):
            found.setdefault(key[:-2], []).append(value)
        elif key in _FORM_BOOLEANS:
            found[key] = value.lower() in ("1", "true")
        else:
            found[key] = value
    return json.dumps(found).encode()


def spec_request(method: str, url: str, headers: Any, body: bytes | None) -> SpecRequest:
    parts = urlsplit(url)
    content_type = str(headers.get("Content-Type", "") or "")
    if content_type.startswith("application/x-www-form-urlencoded") and body is not None:
        body, content_type = _form_as_json(body), "application/json"
    return SpecRequest(
        method=method.lower(),
        path=parts.path,
        body=body,
        content_type=content_type,
        parameters=RequestParameters(
            query=ImmutableMultiDict(parse_qsl(parts.query, keep_blank_values=True)),
            header=Headers(dict(headers)),
            cookie=ImmutableMultiDict(),
        ),
        host_url=SPEC_HOST,
    )


SPEC_ONE_OF = "is valid under each of"
"""The spec's create-status body is ``oneOf`` text, media or poll statuses, so a post with text and images
(which Mastodon takes) matches two of them; matching several is not a departure from the API."""
MOCK_DEVIATIONS = ("is not a 'date'", "'authors' is a required property")
"""Where mastodon-mock 0.6.1's answers depart from the spec on fields the bot never reads: an account's
``last_status_at`` is a date-time where Mastodon sends a date, and its synthesized link cards lack ``authors``
(Mastodon 4.3+). Every other departure fails the tests."""


def _multipart_problems(spec_data: dict[str, Any], request: SpecRequest) -> list[str]:
    """A multipart body's fields checked against the operation's schema, files as text: openapi-core reads a
    file part as bytes, which an OpenAPI 3.1 ``string`` schema refuses whatever it holds."""
    from openapi_schema_validator import OAS31Validator
    from werkzeug.formparser import parse_form_data

    environ = {
        "REQUEST_METHOD": "POST",
        "CONTENT_TYPE": request.content_type,
        "CONTENT_LENGTH": str(len(request.body or b"")),
        "wsgi.input": io.BytesIO(request.body or b""),
    }
    _, form, files = parse_form_data(environ)
    fields: dict[str, Any] = dict(form.items())
    for name, part in files.items():
        fields[name] = part.read().decode("latin-1")
        part.close()
    operation = spec_data["paths"][request.path][request.method]
    schema = operation["requestBody"]["content"]["multipart/form-data"]["schema"]
    return [f"multipart body: {e.message}" for e in OAS31Validator(schema).iter_errors(fields)]


def check_exchange(spec: OpenAPI, request: SpecRequest, status: int, headers: Any, data: bytes) -> list[str]:
    """Every way a request and its answer depart from the spec, one line each."""
    multipart = request.content_type.startswith("multipart/form-data")
    found = []
    for err in spec.request_validator.iter_errors(request):
        if multipart and str(err).startswith("Request body validation error"):
            continue
        if _only(err, (SPEC_ONE_OF,)):
            continue
        found.append(one_line(err, 600) + " | " + "; ".join(_reasons(err)))
    if multipart:
        found += _multipart_problems(_spec_data(), request)
    response = SpecResponse(status, str(headers.get("Content-Type", "")).split(";")[0], data, headers)
    for err in spec.response_validator.iter_errors(request, response):
        if _only(err, MOCK_DEVIATIONS):
            continue
        found.append(one_line(err, 600) + " | " + "; ".join(_reasons(err)))
    return [f"{request.method.upper()} {request.path} -> {status}: {line}" for line in found]


@lru_cache(maxsize=1)
def _spec_data() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(SPEC_PATH.read_text(encoding="utf-8"))
    return data


def _schema_errors(err: BaseException) -> list[Any]:
    cause: BaseException | None = err
    while cause is not None and not getattr(cause, "schema_errors", None):
        cause = cause.__cause__
    return list(getattr(cause, "schema_errors", None) or [])


def _only(err: BaseException, allowed: tuple[str, ...]) -> bool:
    """Whether every reason behind ``err`` is one of ``allowed``; for a oneOf/anyOf, in at least one branch."""

    def fine(error: Any) -> bool:
        if any(text in error.message for text in allowed):
            return True
        if not error.context:
            return False
        branches: dict[object, list[Any]] = {}
        for sub in error.context:
            branches.setdefault(sub.relative_schema_path[0] if sub.relative_schema_path else 0, []).append(
                sub
            )
        return any(all(fine(sub) for sub in subs) for subs in branches.values())

    found = _schema_errors(err)
    return bool(found) and all(fine(error) for error in found)


def _reasons(err: BaseException) -> list[str]:
    """The schema's own reasons (the leaves of jsonschema's error tree) behind an openapi-core error."""
    cause: BaseException | None = err
    while cause is not None and not getattr(cause, "schema_errors", None):
        cause = cause.__cause__
    leaves: list[str] = []

    def walk(error: Any) -> None:
        if error.context:
            for sub in error.context:
                walk(sub)
        else:
            leaves.append(f"{list(error.absolute_path)}: {error.message[:200]}")

    for error in getattr(cause, "schema_errors", None) or []:
        walk(error)
    return leaves


class CheckedSession(requests.Session):
    """The session the adapter's Mastodon.py client uses in tests: each exchange is checked against the spec."""

    def __init__(self, spec: OpenAPI) -> None:
        super().__init__()
        self.spec = spec
        self.problems: list[str] = []
        self.exchanges: list[tuple[str, str, int]] = []
        self.hooks["response"].append(self._check)

    def _check(self, response: requests.Response, **_: Any) -> None:
        prepared = response.request
        body = prepared.body if isinstance(prepared.body, bytes) else (prepared.body or "").encode() or None
        url = urlsplit(prepared.url or "")
        path = url.path.rstrip("/") or "/"  # Mastodon.py asks for /api/v2/instance/
        target = f"{path}?{url.query}" if url.query else path
        request = spec_request(prepared.method or "GET", target, prepared.headers, body)
        self.exchanges.append((request.method.upper(), path, response.status_code))
        self.problems += check_exchange(
            self.spec, request, response.status_code, response.headers, response.content
        )


@pytest.fixture
def mastodon_server() -> Iterator[Any]:
    """A fresh mastodon-mock instance on 127.0.0.1 (in memory; seeded accounts alice, bob and carol)."""
    from mastodon_mock.testing.server import MockServer

    server = MockServer().start()
    try:
        yield server
    finally:
        server.stop()


def fault(
    server: Any, *, path: str | None = None, path_regex: str | None = None, count: int = 1, **effect: Any
) -> None:
    """Register a fault rule with the mock (``POST /api/v1/_mock/faults``, as its own ``fault()`` does; that
    helper needs the undeclared ``httpx2`` package). ``effect``: type, status, delay_ms, headers, body."""
    import httpx

    effect.setdefault("truncate", True)
    effect.setdefault("delay_ms", 0)
    rule = {
        "match": {"methods": None, "path": path, "path_regex": path_regex},
        "effect": effect,
        "count": count,
    }
    httpx.post(f"{server.base_url}/api/v1/_mock/faults", json=rule, timeout=10).raise_for_status()


# --- a stand-in for the image-processing wait (mastodon-mock answers 200 at once) ---


class ProcessingStandIn:
    """``POST /api/v2/media`` answers ``202`` with no ``url``; ``GET /api/v1/media/{id}`` answers ``206`` until
    ``ready_after`` polls, then ``200`` with a ``url``; ``POST /api/v1/statuses`` records the status."""

    def __init__(self, spec: OpenAPI, ready_after: int) -> None:
        self.spec = spec
        self.ready_after = ready_after
        self.polls = 0
        self.statuses: list[dict[str, Any]] = []
        self.problems: list[str] = []
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.base_url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> ProcessingStandIn:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()

    def media(self, ready: bool) -> dict[str, Any]:
        url = f"{self.base_url}/files/1.png" if ready else None
        return {
            "id": "1",
            "type": "image",
            "url": url,
            "preview_url": url,
            "remote_url": None,
            "meta": {},
            "description": "A black square.",
            "blurhash": None,
        }

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        stand_in = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def _answer(self, status: int, data: dict[str, Any], body: bytes | None) -> None:
                payload = json.dumps(data).encode()
                headers = {"Content-Type": "application/json"}
                request = spec_request(self.command, self.path, self.headers, body)
                stand_in.problems += check_exchange(stand_in.spec, request, status, headers, payload)
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def _body(self) -> bytes:
                return self.rfile.read(int(self.headers.get("Content-Length") or 0))

            def do_POST(self) -> None:
                body = self._body()
                if self.path == "/api/v2/media":
                    self._answer(202, stand_in.media(False), body)
                elif self.path == "/api/v1/statuses":
                    form = dict(parse_qsl(body.decode()))
                    status = _status(stand_in.base_url, form.get("status", ""), [stand_in.media(True)])
                    stand_in.statuses.append({"form": body.decode(), "status": status})
                    self._answer(200, status, body)
                else:
                    self._answer(404, {"error": "not found"}, body)

            def do_GET(self) -> None:
                if self.path == "/api/v1/media/1":
                    stand_in.polls += 1
                    ready = stand_in.polls > stand_in.ready_after
                    self._answer(200 if ready else 206, stand_in.media(ready), None)
                else:
                    self._answer(404, {"error": "not found"}, None)

        return Handler


def _status(base_url: str, text: str, media: list[dict[str, Any]]) -> dict[str, Any]:
    account = {
        "id": "1",
        "username": "aasr",
        "acct": "aasr",
        "url": f"{base_url}/@aasr",
        "display_name": "AASR",
        "note": "",
        "avatar": f"{base_url}/a.png",
        "avatar_static": f"{base_url}/a.png",
        "header": f"{base_url}/h.png",
        "header_static": f"{base_url}/h.png",
        "locked": False,
        "fields": [],
        "emojis": [],
        "bot": True,
        "group": False,
        "indexable": False,
        "discoverable": None,
        "created_at": "2026-01-01T00:00:00.000Z",
        "last_status_at": None,
        "statuses_count": 1,
        "followers_count": 0,
        "following_count": 0,
        "uri": f"{base_url}/users/aasr",
    }
    return {
        "id": "100",
        "uri": f"{base_url}/users/aasr/statuses/100",
        "url": f"{base_url}/@aasr/100",
        "created_at": "2026-12-03T15:00:00.000Z",
        "account": account,
        "content": f"<p>{text}</p>",
        "visibility": "public",
        "sensitive": False,
        "spoiler_text": "",
        "media_attachments": media,
        "mentions": [],
        "tags": [],
        "emojis": [],
        "reblogs_count": 0,
        "favourites_count": 0,
        "replies_count": 0,
        "language": "en",
    }
