"""The X adapter: posts through tweepy's v2 ``Client``, uploads images through X's v2 media endpoints.

It owns everything X-specific: how X counts text, where its API lives, how a post with images and alt text
is sent, what a post is estimated to cost, and how X's answers (problem JSON, v1 error lists, rate-limit
headers, the bare 402 for depleted credits) become ``bot.errors`` exceptions.
"""

from __future__ import annotations

import functools
import hashlib
import html
import json
import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from bot.errors import (
    AuthError,
    BotError,
    DuplicateError,
    PaymentError,
    PublishError,
    RateLimitError,
    RejectedError,
    TransientError,
)
from bot.models import Image, Post, Receipt
from bot.publishers.base import stored_account
from bot.publishers.spec import (
    Account,
    CostPolicy,
    Credential,
    ImageRules,
    NetworkSpec,
    Option,
    Options,
    TextRules,
    Usage,
    lazy_module,
)
from bot.textlen import extract_urls, url_spans, x_length

if TYPE_CHECKING:
    from bot.publishers.base import SessionStore

# The SDKs load on first use, so that reading this module's SPEC (every command does) stays cheap.
requests = lazy_module("requests")
tweepy = lazy_module("tweepy")
requests_oauthlib = lazy_module("requests_oauthlib")

log = logging.getLogger(__name__)

T = TypeVar("T")

NETWORK = "x"
LIMIT = 280
"""X's weighted length limit (twitter-text v3: every URL counts 23)."""
MAX_IMAGES = 4
MAX_IMAGE_BYTES = 5_000_000
"""X refuses images over 5 MB; bigger ones are downscaled first (to 5,000,000 bytes, under either reading)."""
MAX_ALT_CHARS = 1000
DEFAULT_BASE_URL = "https://api.x.com"
USER_SESSION = "x:account"
"""Ledger session entry holding the account's id and username (no secret), for crash recovery."""
RECOVER_PAGES = 3
"""At most 300 of our own posts are read back (the posts since a crashed attempt are a handful)."""
CREDENTIALS = ("X_API_KEY", "X_API_SECRET", "X_ACCESS_TOKEN", "X_ACCESS_TOKEN_SECRET")


@dataclass(frozen=True, slots=True)
class XCredentials:
    """OAuth 1.0a user-context credentials for X. Secrets never appear in repr()."""

    api_key: str = field(repr=False)
    api_secret: str = field(repr=False)
    access_token: str = field(repr=False)
    access_token_secret: str = field(repr=False)
    base_url: str = DEFAULT_BASE_URL
    """Where X's API lives; tests point it at a local stand-in server."""


@dataclass(frozen=True, slots=True)
class XCost(CostPolicy):
    """X's pay-per-use billing: a price per created post (higher when X finds a URL in it), a daily post cap
    and a monthly budget, all from the ``x:`` block of settings.yaml."""

    price_post_usd: float = 0.015
    price_post_with_url_usd: float = 0.20
    daily_post_cap: int = 50
    monthly_budget_usd: float = 30.0

    def price(self, text: str) -> float:
        """As X's receipts are priced: does X find a URL (bare ``endseclusion.org`` counts)."""
        return self.price_post_with_url_usd if extract_urls(text) else self.price_post_usd

    def wait(self, usage: Usage, cost: float, reserved: Sequence[float]) -> str | None:
        if usage.sent_today + len(reserved) >= self.daily_post_cap:
            return (
                f"daily X cap reached ({usage.sent_today} sent today, {len(reserved)} scheduled still to come, "
                f"cap {self.daily_post_cap})"
            )
        reserve_cost = sum(reserved)
        if usage.spent_month + reserve_cost + cost > self.monthly_budget_usd:
            return (
                f"monthly X budget reached (${usage.spent_month:.2f} spent, ${reserve_cost:.2f} reserved, "
                f"budget ${self.monthly_budget_usd:.2f})"
            )
        return None

    def status(self, usage: Usage) -> dict[str, object]:
        return {
            "posts_today": usage.sent_today,
            "daily_post_cap": self.daily_post_cap,
            "spend_today_usd": round(usage.spent_today, 4),
            "spend_month_usd": round(usage.spent_month, 4),
            "monthly_budget_usd": self.monthly_budget_usd,
        }

    def summary(self, usage: Usage) -> str:
        return (
            f"X today: {usage.sent_today}/{self.daily_post_cap} posts, ${usage.spent_today:.2f}; "
            f"this month ${usage.spent_month:.2f} of ${self.monthly_budget_usd:.2f}"
        )


def _cost(options: Options) -> XCost:
    return XCost(
        price_post_usd=float(options.get("price_post_usd", 0.015)),
        price_post_with_url_usd=float(options.get("price_post_with_url_usd", 0.20)),
        daily_post_cap=int(options.get("daily_post_cap", 50)),
        monthly_budget_usd=float(options.get("monthly_budget_usd", 30.0)),
    )


_RULES = TextRules(limit=LIMIT, unit="weighted characters (links count 23)", measure=x_length)


def _create(account: Account, options: Options, sessions: SessionStore) -> tuple[XPublisher, str]:
    key, secret, token, token_secret = (account.get(name) for name in CREDENTIALS)
    creds = XCredentials(
        key, secret, token, token_secret, base_url=account.get("X_API_BASE_URL") or DEFAULT_BASE_URL
    )
    cost = _cost(options)
    publisher = XPublisher(
        creds,
        price_post_usd=cost.price_post_usd,
        price_post_with_url_usd=cost.price_post_with_url_usd,
        sessions=sessions,
    )
    return publisher, f"posting for real via {creds.base_url}"


SPEC = NetworkSpec(
    id=NETWORK,
    name="X",
    order=10,
    text=lambda options: _RULES,
    images=ImageRules(max_images=MAX_IMAGES, max_bytes=MAX_IMAGE_BYTES, max_alt_chars=MAX_ALT_CHARS),
    credentials=(
        *(Credential(name, secret=True) for name in CREDENTIALS),
        Credential("X_API_BASE_URL", required=False, default=DEFAULT_BASE_URL),
    ),
    create=_create,
    repeat_window=timedelta(days=30),
    options={
        "daily_post_cap": Option("int", 50, "most posts a day (scheduled posts go first)"),
        "monthly_budget_usd": Option("number", 30.0, "most US dollars a calendar month"),
        "price_post_usd": Option("number", 0.015, "X's price of a post"),
        "price_post_with_url_usd": Option("number", 0.20, "X's price of a post with a link"),
    },
    cost=_cost,
)
TWEEPY_HOST = "https://api.twitter.com"
"""The host tweepy 4.x hard-codes in ``BaseClient.request``; ``_XSession`` rewrites it to ``base_url``."""

_AUTH_HINT = "check the X API key/secret and access token/secret, and that the app has Read and Write access"
_PAYMENT_HINT = "add credits (or raise the spending limit) in the X developer console"
_PERMISSION_MARKERS = (
    "oauth1-permissions",
    "oauth1 app permissions",
    "unsupported-authentication",
    "client-not-enrolled",
    "not configured with the appropriate",
)
"""Markers of a 403 about the app's access rather than the post: those are credential problems."""


def _XSession(base_url: str, timeout: float) -> Any:
    """A session for tweepy's calls to ``base_url`` (see ``_session_class``)."""
    return _session_class()(base_url, timeout)


@functools.cache
def _session_class() -> type:
    class Session(requests.Session):  # type: ignore[misc,name-defined]
        """A requests session that sends tweepy's calls to ``base_url`` and never waits forever.

        tweepy 4.17 builds every URL as ``"https://api.twitter.com" + route`` inside ``BaseClient.request`` and
        passes no timeout. Rather than copy that whole method, we give the client this session: the URL is
        rewritten in ``prepare_request``, i.e. before the OAuth 1.0a signature is computed (the signature covers
        the URL, so rewriting after signing would break it), and ``send`` fills in our timeout wherever requests
        would otherwise pass ``None``.
        """

        def __init__(self, base_url: str, timeout: float) -> None:
            super().__init__()
            self.base_url = base_url
            self.timeout = timeout

        def prepare_request(self, request: Any) -> Any:
            if isinstance(request.url, str) and request.url.startswith(TWEEPY_HOST):
                request.url = self.base_url + request.url[len(TWEEPY_HOST) :]
            return super().prepare_request(request)

        def send(self, request: Any, **kwargs: Any) -> Any:
            if kwargs.get("timeout") is None:
                kwargs["timeout"] = self.timeout
            return super().send(request, **kwargs)

    return Session


class XPublisher:
    """Publishes posts to X with OAuth 1.0a user context (the account's own keys, no OAuth 2 flow).

    Cost: X bills per created post. ``price_post_usd`` and ``price_post_with_url_usd`` come from settings
    (X's pay-per-use price list at the time of writing); a post whose text holds a link (as twitter-text finds
    links, so bare ``example.org`` counts) is priced at the URL rate. Media uploads are assumed free.
    """

    network = NETWORK
    limit = LIMIT
    dry_run = False

    def __init__(
        self,
        creds: XCredentials,
        *,
        price_post_usd: float,
        price_post_with_url_usd: float,
        timeout: float = 20.0,
        sessions: SessionStore | None = None,
    ) -> None:
        """``sessions`` keeps the account's user id between runs (a crash recovery needs it)."""
        self._base_url = creds.base_url.rstrip("/")
        self._secrets = tuple(
            s for s in (creds.api_key, creds.api_secret, creds.access_token, creds.access_token_secret) if s
        )
        self._sessions = sessions
        self._account = hashlib.sha256(creds.access_token.encode()).hexdigest()[:16]
        """Names the account in the cached user id without storing the token itself."""
        self._user_id: str | None = None
        self._price_post = price_post_usd
        self._price_post_with_url = price_post_with_url_usd
        self._session = _XSession(self._base_url, timeout)
        self._auth = requests_oauthlib.OAuth1(
            creds.api_key,
            client_secret=creds.api_secret,
            resource_owner_key=creds.access_token,
            resource_owner_secret=creds.access_token_secret,
        )
        self._client = tweepy.Client(
            consumer_key=creds.api_key,
            consumer_secret=creds.api_secret,
            access_token=creds.access_token,
            access_token_secret=creds.access_token_secret,
            return_type=dict,
        )
        self._client.session = self._session
        self._username: str | None = None

    def measure(self, text: str) -> int:
        """X's weighted length: most CJK characters and emoji count 2, every URL counts 23."""
        return x_length(text)

    def publish(self, post: Post) -> Receipt:
        """Upload the images (with alt text), then create the post; a reply when ``post.reply_to`` is set."""
        self._check_images(post.images)
        media_ids = [self._upload(image) for image in post.images]
        reply_to = post.reply_to.remote_id if post.reply_to is not None else None
        answer = self._call(
            "create post",
            lambda: self._client.create_tweet(
                text=post.text, media_ids=media_ids or None, in_reply_to_tweet_id=reply_to, user_auth=True
            ),
        )
        data = answer.get("data") if isinstance(answer, dict) else None
        tweet_id = data.get("id") if isinstance(data, dict) else None
        if not isinstance(tweet_id, str) or not tweet_id:
            raise RejectedError(
                f"create post: X answered without a post id: {_describe(answer)}", network=NETWORK
            )
        receipt = Receipt(
            network=NETWORK, remote_id=tweet_id, url=self._url(tweet_id), cost=self.cost(post.text)
        )
        log.info("x: posted %s (%s)", receipt.url, post.key)
        return receipt

    def recover(self, post: Post, *, since: datetime) -> Receipt | None:
        """Find the post among the account's own posts since ``since`` (``GET /2/users/:id/tweets``).

        Only after a crash or a lost answer. X bills it as an owned read (about $0.001 per post returned);
        the account id comes from ``GET /2/users/me`` once and is then kept in the ledger. Texts are compared
        without their links (X returns every link as a t.co address) and with X's HTML escapes undone.
        """
        user_id = self._own_id()
        wanted = _comparable(post.text)
        token: str | None = None
        for _ in range(RECOVER_PAGES):
            answer = self._call("look for the post", functools.partial(self._timeline, user_id, since, token))
            found = answer.get("data") if isinstance(answer, dict) else None
            for tweet in found if isinstance(found, list) else []:
                if isinstance(tweet, dict) and _comparable(str(tweet.get("text", ""))) == wanted:
                    tweet_id = str(tweet.get("id", ""))
                    log.info("x: found %s already posted as %s", post.key, tweet_id)
                    return Receipt(NETWORK, tweet_id, self._url(tweet_id), cost=self.cost(post.text))
            meta = answer.get("meta") if isinstance(answer, dict) else None
            token = meta.get("next_token") if isinstance(meta, dict) else None
            if not token:
                return None
        return None

    def _timeline(self, user_id: str, since: datetime, token: str | None) -> Any:
        return self._client.get_users_tweets(
            user_id,
            start_time=since.astimezone(UTC),
            max_results=100,
            exclude=["retweets"],
            pagination_token=token,
            user_auth=True,
        )

    def _own_id(self) -> str:
        """The account's numeric id: remembered, else from the ledger, else asked of X (and kept)."""
        if self._user_id:
            return self._user_id
        saved = stored_account(self._sessions, USER_SESSION, self._account)
        if saved is not None:
            self._user_id = str(saved["id"])
            self._username = self._username or saved.get("username") or None
            return self._user_id
        self.check()
        assert self._user_id is not None  # check() sets it or raises
        return self._user_id

    def check(self) -> str:
        """Ask X whose credentials these are (``GET /2/users/me``); a 401 or 403 there is an ``AuthError``."""
        try:
            answer = self._call("check credentials", lambda: self._client.get_me(user_auth=True))
        except (RejectedError, DuplicateError) as exc:
            if exc.status != 403:
                raise
            raise AuthError(exc.message, network=NETWORK, hint=_AUTH_HINT, status=exc.status) from exc
        data = answer.get("data") if isinstance(answer, dict) else None
        if not isinstance(data, dict) or not data.get("username"):
            raise AuthError(f"check credentials: unexpected answer {_describe(answer)}", network=NETWORK)
        self._username = str(data["username"])
        self._user_id = str(data.get("id") or "") or None
        if self._user_id and self._sessions is not None:
            value = {"account": self._account, "id": self._user_id, "username": self._username}
            try:
                self._sessions.save_session(USER_SESSION, json.dumps(value))
            except BotError as exc:
                log.warning("could not keep the X account id in the ledger: %s", exc)
        return f"@{self._username} ({data.get('id', '?')})"

    def close(self) -> None:
        """Release pooled connections (the service calls this on shutdown)."""
        self._session.close()

    def cost(self, text: str) -> float:
        """Estimated price of creating a post with this text (see the class docstring)."""
        return self._price_post_with_url if extract_urls(text) else self._price_post

    def _url(self, tweet_id: str) -> str:
        if self._username:
            return f"https://x.com/{self._username}/status/{tweet_id}"
        return f"https://x.com/i/web/status/{tweet_id}"

    def _check_images(self, images: tuple[Image, ...]) -> None:
        """Refuse before any upload, so a bad post costs nothing."""
        if len(images) > MAX_IMAGES:
            raise RejectedError(
                f"{len(images)} images, but X allows at most {MAX_IMAGES} per post", network=NETWORK
            )
        for image in images:
            if len(image.alt) > MAX_ALT_CHARS:
                raise RejectedError(
                    f"alt text of {image.path.name}: {len(image.alt)} characters, X allows {MAX_ALT_CHARS}",
                    network=NETWORK,
                )

    def _upload(self, image: Image) -> str:
        """``POST /2/media/upload`` (multipart, raw bytes), then ``POST /2/media/metadata`` (alt text)."""
        from bot.images import prepare_image

        try:
            prepared = prepare_image(image.path, MAX_IMAGE_BYTES)
        except BotError as exc:
            raise RejectedError(f"image {image.path}: {exc.message}", network=NETWORK, hint=exc.hint) from exc
        category = "tweet_gif" if prepared.mime == "image/gif" else "tweet_image"
        filename = Path(image.path).name or "image"
        answer = self._post_raw(
            "upload image",
            "/2/media/upload",
            data={"media_category": category},
            files={"media": (filename, prepared.data, prepared.mime)},
        )
        data = answer.get("data")
        media_id = data.get("id") if isinstance(data, dict) else None
        if not isinstance(media_id, str) or not media_id:
            raise RejectedError(
                f"upload image: X answered without a media id: {_describe(answer)}", network=NETWORK
            )
        if image.alt:
            self._post_raw(
                "set alt text",
                "/2/media/metadata",
                json={"id": media_id, "metadata": {"alt_text": {"text": image.alt}}},
            )
        log.debug("x: uploaded %s as media %s (%d bytes)", image.path.name, media_id, len(prepared.data))
        return media_id

    def _post_raw(self, action: str, route: str, **kwargs: Any) -> dict[str, Any]:
        """A signed POST to an endpoint tweepy 4.17 lacks; the answer as JSON."""

        def send() -> dict[str, Any]:
            response = self._session.post(self._base_url + route, auth=self._auth, **kwargs)
            if not 200 <= response.status_code < 300:
                raise self._scrubbed(error_from_response(action, response))
            try:
                answer = response.json()
            except requests.JSONDecodeError:
                answer = None
            if not isinstance(answer, dict):
                raise RejectedError(f"{action}: X answered with no JSON object", network=NETWORK)
            return answer

        return self._call(action, send)

    def _call(self, action: str, send: Callable[[], T]) -> T:
        """Run one request and turn every library or HTTP failure into a ``PublishError``."""
        try:
            return send()
        except tweepy.HTTPException as exc:
            raise self._scrubbed(error_from_response(action, exc.response)) from None
        except requests.Timeout:
            raise TransientError(
                f"{action}: X did not answer within {self._session.timeout:g} s", network=NETWORK
            ) from None
        except requests.RequestException as exc:
            raise TransientError(
                self._scrub(f"{action}: connection to X failed ({type(exc).__name__})"), network=NETWORK
            ) from None

    def _scrub(self, text: str) -> str:
        for secret in self._secrets:
            text = text.replace(secret, "***")
        return text

    def _scrubbed(self, err: PublishError) -> PublishError:
        err.message = self._scrub(err.message)
        err.args = (err.message,)
        return err


def error_from_response(action: str, response: Any) -> PublishError:
    """Map one failed X answer to the bot's error tree (see the module docstring of ``bot.errors``)."""
    status = response.status_code
    title, detail, kind, codes = _problem(response)
    reason = detail or title or response.reason or "no details"
    if title and detail and title.lower() not in detail.lower():
        reason = f"{title}: {detail}"
    message = _one_line(f"{action}: HTTP {status} {reason}")
    lowered = f"{kind} {title} {detail}".lower()
    if status == 401:
        return AuthError(message, network=NETWORK, hint=_AUTH_HINT, status=status)
    if status == 402 or "spending limit" in lowered or "credits" in kind.lower():
        return PaymentError(message, network=NETWORK, hint=_PAYMENT_HINT, status=status)
    if status == 403:
        if "duplicate content" in lowered or 187 in codes:
            return DuplicateError(message, network=NETWORK, status=status)
        if 453 in codes or any(marker in lowered for marker in _PERMISSION_MARKERS):
            return AuthError(message, network=NETWORK, hint=_AUTH_HINT, status=status)
        return RejectedError(message, network=NETWORK, status=status)
    if status == 429:
        return RateLimitError(
            message, network=NETWORK, reset_at=rate_limit_reset(response.headers), status=status
        )
    if status >= 500:
        return TransientError(message, network=NETWORK, status=status)
    return RejectedError(message, network=NETWORK, status=status)


def rate_limit_reset(headers: Mapping[str, str]) -> datetime | None:
    """When posting may resume: the 15-minute window's reset, or the later 24-hour reset once that is used up.

    tweepy reads only ``x-rate-limit-reset``; when the per-user daily cap is exhausted that window may reopen
    long before the day does, and retrying then would just earn another 429.
    """
    resets = [_epoch(headers.get("x-rate-limit-reset"))]
    if (headers.get("x-user-limit-24hour-remaining") or "").strip() == "0":
        resets.append(_epoch(headers.get("x-user-limit-24hour-reset")))
    known = [reset for reset in resets if reset is not None]
    return max(known) if known else None


def _epoch(value: str | None) -> datetime | None:
    try:
        return datetime.fromtimestamp(int((value or "").strip()), UTC)
    except (ValueError, OverflowError, OSError):
        return None


def _problem(response: Any) -> tuple[str, str, str, list[int]]:
    """Title, detail, type and v1 error codes from either a v2 problem body or a v1 ``errors`` list."""
    try:
        body = response.json()
    except requests.JSONDecodeError:
        return "", "", "", []
    if not isinstance(body, dict):
        return "", "", "", []
    title = str(body.get("title") or "")
    detail = str(body.get("detail") or "")
    kind = str(body.get("type") or "")
    codes: list[int] = []
    messages: list[str] = []
    errors = body.get("errors")
    for error in errors if isinstance(errors, list) else []:
        if isinstance(error, dict):
            if isinstance(error.get("code"), int):
                codes.append(error["code"])
            text = error.get("message") or error.get("detail")
            if text:
                messages.append(str(text))
    if isinstance(body.get("error"), str):
        messages.append(body["error"])
    if not detail and messages:
        detail = "; ".join(messages)
    return title, detail, kind, codes


def _comparable(text: str) -> str:
    """A post's text as X's answers and our ledger can both be compared: no links, X's escapes undone."""
    plain = html.unescape(text)
    spans = url_spans(plain)
    for start, end in reversed(spans):
        plain = plain[:start] + " " + plain[end:]
    return " ".join(plain.split())


def _describe(answer: object) -> str:
    return _one_line(repr(answer))[:200]


def _one_line(text: str) -> str:
    return " ".join(text.split())
