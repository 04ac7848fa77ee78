"""A local stand-in for X's API that checks every request the way X would, and against X's own OpenAPI spec.

It owns the X side of the X adapter's tests (and of any other test that needs X): a real HTTP server on
127.0.0.1 that verifies each request's OAuth 1.0a HMAC-SHA1 signature, validates path, method, query and body
with ``openapi-core`` against ``openapi.json`` from X, answers with X's response shapes, refuses duplicate
text as X does, and plays scripted faults (401, 403, 402, 429, 5xx, slow answers, dropped connections).

Every request is recorded in ``server.requests`` (without secrets); every request that breaks the spec or
X's rules is answered with X's error shape and also listed in ``server.errors`` for the test to assert on.
"""

from __future__ import annotations

import io
import itertools
import json
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from functools import lru_cache
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from oauthlib.common import Request as OAuthRequest
from oauthlib.oauth1.rfc5849 import signature as oauth_signature
from oauthlib.oauth1.rfc5849 import utils as oauth_utils
from openapi_core import Config, OpenAPI
from openapi_core.datatypes import RequestParameters
from openapi_core.security.exceptions import SecurityProviderError
from openapi_core.security.factories import SecurityProviderFactory
from openapi_core.security.providers import BaseProvider
from PIL import Image as PILImage
from werkzeug.datastructures import Headers, ImmutableMultiDict
from werkzeug.formparser import parse_form_data

from tests.openapi_check import SpecRequest, SpecResponse, one_line
from tests.shared import REFERENCE

SPEC_PATH = REFERENCE / "x-api" / "openapi.json"
SPEC_HOST = "https://api.x.com"
"""Requests are matched against the spec as if they had been sent to X's real host."""
MAX_IMAGE_BYTES = 5 * 1024 * 1024
MAX_CLOCK_SKEW = 300
DUPLICATE_DETAIL = "You are not allowed to create a Tweet with duplicate content."


# --- openapi-core wiring ---


class _HttpSchemeProvider(BaseProvider):
    """``http`` security schemes, compared case-insensitively.

    openapi-core 0.23 compares the lower-cased header scheme with the spec's scheme as written, so X's
    ``scheme: OAuth`` (OAuth 1.0a user context) could never match.
    """

    def __call__(self, parameters: RequestParameters) -> Any:
        kind, _, credentials = str(parameters.header.get("Authorization", "")).partition(" ")
        if kind.lower() != (self.scheme / "scheme").read_str().lower() or not credentials:
            raise SecurityProviderError("no matching Authorization header")
        return credentials


class _UnusedProvider(BaseProvider):
    """Schemes the bot never uses (OAuth 2, API keys); openapi-core would only warn about them."""

    def __call__(self, parameters: RequestParameters) -> Any:
        raise SecurityProviderError("scheme not used by the bot")


class _SecurityProviders(SecurityProviderFactory):
    PROVIDERS = {  # noqa: RUF012 - overrides the base class's table
        "apiKey": _UnusedProvider,
        "http": _HttpSchemeProvider,
        "oauth2": _UnusedProvider,
        "openIdConnect": _UnusedProvider,
    }


@lru_cache(maxsize=2)
def load_spec(path: Path = SPEC_PATH) -> OpenAPI:
    """X's spec as an openapi-core app.

    ``spec_validator_cls=None`` switches off validation of the spec itself: X's file fails it (an enum lists a
    value twice) although every request and response schema in it is usable.
    """
    data = json.loads(path.read_text(encoding="utf-8"))
    config = Config(spec_validator_cls=None, security_provider_factory=_SecurityProviders())
    return OpenAPI.from_dict(data, config=config)


# --- what tests see ---


@dataclass(frozen=True, slots=True)
class Fault:
    """One scripted misbehaviour, played for the next request (to ``path``, if given) and then forgotten."""

    status: int = 0
    """HTTP status to answer with; 0 answers normally (after ``delay``)."""
    body: Mapping[str, Any] | None = None
    headers: Mapping[str, str] = field(default_factory=dict)
    delay: float = 0.0
    """Seconds to wait before answering; cut short when the server stops."""
    drop: bool = False
    """Close the connection without any answer."""
    gate: bool = False
    """Wait for ``open_gate()`` (or the server stopping) before handling the request."""
    hang_after: bool = False
    """Handle the request (a post is created), then never answer: the client sees no receipt."""

    @staticmethod
    def unauthorized() -> Fault:
        return Fault(401, _problem(401, "Unauthorized", "Unauthorized"))

    @staticmethod
    def duplicate() -> Fault:
        return Fault(403, _problem(403, "Forbidden", DUPLICATE_DETAIL))

    @staticmethod
    def forbidden(detail: str, kind: str = "about:blank", title: str = "Forbidden") -> Fault:
        return Fault(403, _problem(403, title, detail, kind))

    @staticmethod
    def v1_error(status: int, code: int, message: str) -> Fault:
        return Fault(status, {"errors": [{"code": code, "message": message}]})

    @staticmethod
    def credits_depleted() -> Fault:
        """X's pay-per-use answer once credits run out: a 402, which tweepy raises as a bare HTTPException."""
        detail = "Your enrolled account [1234567890] does not have any credits to fulfill this request."
        return Fault(
            402,
            {
                "title": "CreditsDepleted",
                "detail": detail,
                "type": "https://api.twitter.com/2/problems/credits",
            },
        )

    @staticmethod
    def rate_limited(reset: int, day_reset: int | None = None, day_remaining: int = 0) -> Fault:
        """429 with the 15-minute window headers and, if ``day_reset`` is given, the per-user 24-hour ones."""
        headers = {
            "x-rate-limit-limit": "100",
            "x-rate-limit-remaining": "0",
            "x-rate-limit-reset": str(reset),
        }
        if day_reset is not None:
            headers |= {
                "x-user-limit-24hour-limit": "17",
                "x-user-limit-24hour-remaining": str(day_remaining),
                "x-user-limit-24hour-reset": str(day_reset),
            }
        return Fault(429, _problem(429, "Too Many Requests", "Too Many Requests"), headers)

    @staticmethod
    def server_error(status: int = 503) -> Fault:
        if status == 503:
            return Fault(503, _problem(503, "Service Unavailable", "Service Unavailable"))
        return Fault(status, {"errors": [{"code": 131, "message": "Internal error"}]})

    @staticmethod
    def slow(seconds: float) -> Fault:
        return Fault(delay=seconds)

    @staticmethod
    def dropped() -> Fault:
        return Fault(drop=True)

    @staticmethod
    def gated() -> Fault:
        return Fault(gate=True)

    @staticmethod
    def created_then_hang() -> Fault:
        return Fault(hang_after=True)


@dataclass(frozen=True, slots=True)
class Recorded:
    """One request as received, minus secrets (the Authorization header is replaced by its OAuth fields)."""

    method: str
    path: str
    query: Mapping[str, str]
    headers: Mapping[str, str]
    oauth: Mapping[str, str]
    """The OAuth 1.0a header fields except the signature."""
    content_type: str
    json: Any = None
    form: Mapping[str, str] = field(default_factory=dict)
    files: Mapping[str, bytes] = field(default_factory=dict)
    """Multipart file parts by field name."""


@dataclass(frozen=True, slots=True)
class Keys:
    """The OAuth 1.0a keys the stand-in expects (the test's credentials)."""

    consumer_key: str
    consumer_secret: str
    token: str
    token_secret: str


class XStandIn:
    """The stand-in server. Use as a context manager, or ``start()`` and ``stop()``."""

    def __init__(
        self,
        keys: Keys,
        *,
        spec: OpenAPI | None = None,
        user_id: str = "1585000000000000001",
        username: str = "EndSeclusionBot",
        clock: Callable[[], float] = time.time,
        post_clock: Callable[[], float] | None = None,
    ) -> None:
        """``clock`` checks OAuth timestamps (real time); ``post_clock`` stamps created posts' ``created_at``
        (set it to the bot's pretended clock when the bot runs under ``BOT_NOW``)."""
        self.keys = keys
        self.spec = spec or load_spec()
        self.user_id = user_id
        self.username = username
        self.clock = clock
        self.post_clock = post_clock or clock
        self.requests: list[Recorded] = []
        self.errors: list[str] = []
        """Requests that broke X's spec or rules (each also got an error answer)."""
        self.auth_failures: list[str] = []
        """Requests refused because their OAuth signature or keys were wrong."""
        self.tweets: dict[str, dict[str, Any]] = {}
        self.media: dict[str, dict[str, Any]] = {}
        self._faults: list[tuple[str | None, Fault]] = []
        self._nonces: set[str] = set()
        self._ids = itertools.count(1860000000000000001)
        self._lock = threading.Lock()
        self._release = threading.Event()
        self._gate = threading.Event()
        self._httpd: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # lifecycle

    def start(self) -> XStandIn:
        handler = type("_BoundHandler", (_Handler,), {"standin": self})
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self._httpd.daemon_threads = True
        httpd = self._httpd
        # A short poll interval: shutdown() waits up to one interval, once per test.
        self._thread = threading.Thread(
            target=lambda: httpd.serve_forever(0.01), name="x-standin", daemon=True
        )
        self._thread.start()
        return self

    def open_gate(self) -> None:
        """Let requests held by ``Fault.gated()`` go on (and every later one)."""
        self._gate.set()

    def stop(self) -> None:
        self._release.set()
        self._gate.set()
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def __enter__(self) -> XStandIn:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def url(self) -> str:
        assert self._httpd is not None, "server not started"
        host, port = self._httpd.server_address[:2]
        return f"http://{host!s}:{port}"

    # scripting and inspection

    def inject(self, fault: Fault, *, path: str | None = None) -> None:
        """Play ``fault`` for the next request (to ``path`` if given)."""
        with self._lock:
            self._faults.append((path, fault))

    def requests_to(self, path: str) -> list[Recorded]:
        with self._lock:
            return [r for r in self.requests if r.path == path]

    # request handling (called from handler threads)

    def _take_fault(self, path: str) -> Fault | None:
        with self._lock:
            for i, (wanted, fault) in enumerate(self._faults):
                if wanted is None or wanted == path:
                    del self._faults[i]
                    return fault
        return None

    def _next_id(self) -> str:
        with self._lock:
            return str(next(self._ids))

    def _fail(self, message: str) -> None:
        with self._lock:
            self.errors.append(message)

    def verify_oauth(
        self, method: str, url: str, headers: Mapping[str, str], body: bytes, ctype: str
    ) -> str | None:
        """The reason the request's OAuth 1.0a signature is unacceptable, or None.

        Body parameters are part of the signature only for form-encoded bodies (RFC 5849 section 3.4.1.3.1);
        JSON and multipart bodies are not signed.
        """
        header = headers.get("Authorization", "")
        if not header.startswith("OAuth "):
            return "no OAuth 1.0a Authorization header"
        try:
            fields = {k: oauth_utils.unescape(v) for k, v in oauth_utils.parse_authorization_header(header)}
        except ValueError:
            return "unparsable Authorization header"
        if fields.get("oauth_signature_method") != "HMAC-SHA1":
            return f"signature method {fields.get('oauth_signature_method')!r} is not HMAC-SHA1"
        if fields.get("oauth_version", "1.0") != "1.0":
            return "oauth_version is not 1.0"
        if (
            fields.get("oauth_consumer_key") != self.keys.consumer_key
            or fields.get("oauth_token") != self.keys.token
        ):
            return "unknown consumer key or access token"
        try:
            skew = abs(int(fields.get("oauth_timestamp", "")) - self.clock())
        except ValueError:
            return "bad oauth_timestamp"
        if skew > MAX_CLOCK_SKEW:
            return "oauth_timestamp too far from the server's clock"
        nonce = fields.get("oauth_nonce", "")
        with self._lock:
            if not nonce or nonce in self._nonces:
                return "missing or reused oauth_nonce"
            self._nonces.add(nonce)
        form_body = body.decode("utf-8") if "application/x-www-form-urlencoded" in ctype else None
        request = OAuthRequest(url, method, form_body, dict(headers))
        request.params = oauth_signature.collect_parameters(
            uri_query=urlsplit(url).query, body=form_body, headers=dict(headers), exclude_oauth_signature=True
        )
        request.signature = fields.get("oauth_signature", "")
        if not oauth_signature.verify_hmac_sha1(request, self.keys.consumer_secret, self.keys.token_secret):
            return "signature does not match"
        return None

    def validate(self, request: SpecRequest) -> list[str]:
        return [one_line(err) for err in self.spec.request_validator.iter_errors(request)]

    def validate_response(self, request: SpecRequest, response: SpecResponse) -> list[str]:
        return [
            one_line(err) for err in self.spec.response_validator.iter_errors(request, response)
        ]

    def answer(self, method: str, path: str, rec: Recorded) -> tuple[int, dict[str, Any]]:
        """X's answer to a valid, correctly signed request."""
        route = (method, path)
        if route == ("GET", "/2/users/me"):
            return 200, {"data": {"id": self.user_id, "name": "AASR (test)", "username": self.username}}
        if route == ("POST", "/2/media/upload"):
            return self._upload(rec)
        if route == ("POST", "/2/media/metadata"):
            return self._metadata(rec.json)
        if route == ("POST", "/2/tweets"):
            return self._create(rec.json)
        if method == "GET" and path.startswith("/2/users/") and path.endswith("/tweets"):
            return self._timeline(path.split("/")[3], rec.query)
        return 404, _problem(404, "Not Found Error", f"the stand-in does not implement {method} {path}")

    def _upload(self, rec: Recorded) -> tuple[int, dict[str, Any]]:
        data = rec.files.get("media")
        if data is None:
            self._fail("media upload: no multipart file part named 'media'")
            return 400, _invalid("no media file part")
        if len(data) > MAX_IMAGE_BYTES:
            self._fail(f"media upload: {len(data)} bytes is over X's 5 MB image limit")
            return 400, _invalid("media too large: images must be 5 MB or smaller")
        try:
            with PILImage.open(io.BytesIO(data)) as img:
                width, height, fmt = img.width, img.height, (img.format or "").lower()
        except OSError:
            self._fail("media upload: the media part is not an image")
            return 400, _invalid("unsupported media")
        media_id = self._next_id()
        with self._lock:
            self.media[media_id] = {"bytes": data, "category": rec.form.get("media_category"), "alt": None}
        info = {"image_type": f"image/{fmt}", "w": width, "h": height}
        return 200, {
            "data": {
                "id": media_id,
                "media_key": f"3_{media_id}",
                "size": len(data),
                "expires_after_secs": 86400,
                "image": info,
            }
        }

    def _metadata(self, body: Any) -> tuple[int, dict[str, Any]]:
        media_id = body["id"]
        with self._lock:
            media = self.media.get(media_id)
            if media is not None:
                media["alt"] = body.get("metadata", {}).get("alt_text", {}).get("text")
        if media is None:
            self._fail(f"media metadata: unknown media id {media_id}")
            return 400, _invalid(f"unknown media id {media_id}")
        return 200, {"data": {"id": media_id, "associated_metadata": body.get("metadata", {})}}

    def _create(self, body: Any) -> tuple[int, dict[str, Any]]:
        text = body.get("text", "")
        media_ids = body.get("media", {}).get("media_ids", [])
        reply_to = body.get("reply", {}).get("in_reply_to_tweet_id")
        with self._lock:
            unknown = [m for m in media_ids if m not in self.media]
            missing_reply = reply_to is not None and reply_to not in self.tweets
            duplicate = any(t["text"] == text for t in self.tweets.values())
        if unknown:
            self._fail(f"create post: unknown media ids {unknown}")
            return 400, _invalid(f"media ids {unknown} were not uploaded")
        if missing_reply:
            detail = "You attempted to reply to a Tweet that is deleted or not visible to you."
            return 403, _problem(403, "Forbidden", detail)
        if duplicate:
            return 403, _problem(403, "Forbidden", DUPLICATE_DETAIL)
        tweet_id = self._next_id()
        with self._lock:
            self.tweets[tweet_id] = {
                "text": text,
                "reply_to": reply_to,
                "media_ids": list(media_ids),
                "created_at": self.post_clock(),
            }
        return 201, {"data": {"id": tweet_id, "text": text, "edit_history_post_ids": [tweet_id]}}

    def _timeline(self, user_id: str, query: Mapping[str, str]) -> tuple[int, dict[str, Any]]:
        """``GET /2/users/:id/tweets``: the account's posts, newest first, as X returns them (links as t.co
        addresses, ``&``, ``<`` and ``>`` HTML-escaped), from ``start_time``, ``max_results`` per page."""
        if user_id != self.user_id:
            self._fail(f"timeline of user {user_id}, but the keys belong to {self.user_id}")
            return 403, _problem(403, "Forbidden", "You can only read your own timeline in this stand-in.")
        start = query.get("start_time")
        since = datetime.fromisoformat(start.replace("Z", "+00:00")).timestamp() if start else 0.0
        page_size = int(query.get("max_results", "10"))
        offset = int(query.get("pagination_token", "0") or "0")
        with self._lock:
            posts = [
                (tweet_id, tweet) for tweet_id, tweet in self.tweets.items() if tweet["created_at"] >= since
            ]
        posts.sort(key=lambda pair: int(pair[0]), reverse=True)
        page = posts[offset : offset + page_size]
        data = [
            {"id": tweet_id, "text": _as_x_shows(tweet["text"]), "edit_history_post_ids": [tweet_id]}
            for tweet_id, tweet in page
        ]
        meta: dict[str, Any] = {"result_count": len(data)}
        if data:
            meta |= {"newest_id": data[0]["id"], "oldest_id": data[-1]["id"]}
        if offset + page_size < len(posts):
            meta["next_token"] = str(offset + page_size)
        return 200, ({"data": data, "meta": meta} if data else {"meta": meta})


def _as_x_shows(text: str) -> str:
    """A post's text as X's API returns it: every link shortened to t.co, then ``& < >`` HTML-escaped."""
    from bot.textlen import url_spans

    for n, (start, end) in enumerate(reversed(url_spans(text))):
        text = text[:start] + f"https://t.co/{n:010d}" + text[end:]
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    standin: XStandIn

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_GET(self) -> None:
        self._handle()

    def do_POST(self) -> None:
        self._handle()

    def do_PUT(self) -> None:
        self._handle()

    def do_DELETE(self) -> None:
        self._handle()

    def _handle(self) -> None:
        try:
            self._handle_one()
        except Exception as exc:
            # A bug in the stand-in must fail the test loudly, not look like a flaky X.
            self.standin._fail(f"stand-in crashed on {self.command} {self.path}: {exc!r}")
            self._send(500, _problem(500, "Internal Server Error", "stand-in crashed"))

    def _handle_one(self) -> None:
        s = self.standin
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        if len(body) < length:
            # The client went away mid-request (a test's kill -9): X never gets a whole request, so neither
            # answers nor records it, and there is nothing to check against the spec.
            self.close_connection = True
            return
        split = urlsplit(self.path)
        path, method = split.path, self.command
        ctype = self.headers.get("Content-Type", "")
        headers = {k: v for k, v in self.headers.items()}
        rec = _record(method, path, split.query, headers, ctype, body)
        with s._lock:
            s.requests.append(rec)

        problem = s.verify_oauth(method, f"http://{self.headers['Host']}{self.path}", headers, body, ctype)
        if problem is not None:
            with s._lock:
                s.auth_failures.append(f"{method} {path}: {problem}")
            self._send(401, _problem(401, "Unauthorized", "Unauthorized"))
            return

        spec_request = SpecRequest(
            method=method.lower(),
            path=path,
            body=body or None,
            content_type=ctype,
            parameters=RequestParameters(
                query=ImmutableMultiDict(parse_qsl(split.query, keep_blank_values=True)),
                header=Headers(headers),
            ),
            host_url=SPEC_HOST,
        )
        invalid = s.validate(spec_request)
        if invalid:
            for message in invalid:
                s._fail(f"{method} {path}: {message}")
            self._send(400, _invalid("; ".join(invalid)))
            return

        fault = s._take_fault(path)
        if fault is not None and fault.gate:
            s._gate.wait(60)
            fault = None
        if fault is not None and fault.hang_after:
            s.answer(method, path, rec)
            s._release.wait(60)
            self.close_connection = True
            return
        if fault is not None:
            if fault.delay:
                s._release.wait(fault.delay)
            if fault.drop:
                self.close_connection = True
                return
            if fault.status:
                self._send(fault.status, dict(fault.body or {}), fault.headers)
                return

        status, payload = s.answer(method, path, rec)
        if 200 <= status < 300:
            data = json.dumps(payload).encode()
            response = SpecResponse(status, "application/json", data, {"Content-Type": "application/json"})
            for message in s.validate_response(spec_request, response):
                s._fail(f"stand-in answer to {method} {path} breaks the spec: {message}")
        self._send(status, payload)

    def _send(
        self, status: int, payload: Mapping[str, Any], headers: Mapping[str, str] | None = None
    ) -> None:
        data = json.dumps(payload).encode()
        ctype = "application/json; charset=utf-8" if status < 400 else "application/problem+json"
        try:
            self.send_response(status)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(data)))
            for name, value in (headers or {}).items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(data)
        except OSError:
            # The client gave up (its timeout): nobody is listening any more.
            self.close_connection = True


def _record(method: str, path: str, query: str, headers: dict[str, str], ctype: str, body: bytes) -> Recorded:
    oauth: dict[str, str] = {}
    auth = headers.get("Authorization", "")
    if auth.startswith("OAuth "):
        try:
            oauth = {
                k: oauth_utils.unescape(v)
                for k, v in oauth_utils.parse_authorization_header(auth)
                if k != "oauth_signature"
            }
        except ValueError:
            oauth = {}
    safe_headers = {k: ("<redacted>" if k.lower() == "authorization" else v) for k, v in headers.items()}
    parsed_json: Any = None
    form: dict[str, str] = {}
    files: dict[str, bytes] = {}
    if "application/json" in ctype and body:
        try:
            parsed_json = json.loads(body)
        except ValueError:
            parsed_json = None
    elif "multipart/form-data" in ctype or "application/x-www-form-urlencoded" in ctype:
        environ = {
            "wsgi.input": io.BytesIO(body),
            "CONTENT_LENGTH": str(len(body)),
            "CONTENT_TYPE": ctype,
            "REQUEST_METHOD": method,
        }
        _, form_data, file_data = parse_form_data(environ)
        form = dict(form_data.items())
        for name, part in file_data.items():
            try:
                files[name] = part.read()
            finally:
                part.close()  # big parts are spooled to a temporary file
    return Recorded(
        method=method,
        path=path,
        query=dict(parse_qsl(query, keep_blank_values=True)),
        headers=safe_headers,
        oauth=oauth,
        content_type=ctype,
        json=parsed_json,
        form=form,
        files=files,
    )


def _problem(status: int, title: str, detail: str, kind: str = "about:blank") -> dict[str, Any]:
    return {"title": title, "detail": detail, "type": kind, "status": status}


def _invalid(detail: str) -> dict[str, Any]:
    return {
        "errors": [{"message": detail}],
        "title": "Invalid Request",
        "detail": "One or more parameters to your request was invalid.",
        "type": "https://api.twitter.com/2/problems/invalid-request",
    }
