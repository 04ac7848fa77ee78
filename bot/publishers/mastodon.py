"""The Mastodon adapter: one ``Post`` -> one status on the account's instance, through ``Mastodon.py``.

Owns everything Mastodon-specific: how Mastodon counts text (graphemes; every URL as the instance's
``characters_reserved_per_url``; a mention counts only its username), the instance's own limits (from
``GET /api/v2/instance``, kept in the ledger by the bot), images with their descriptions (alt text) and the
wait while the instance processes them, content warnings as ``spoiler_text``, and mapping Mastodon.py's
exceptions onto ``bot.errors``.

Exactly once: every create sends an ``Idempotency-Key`` derived from the item key (the instance answers a
repeat within an hour with the same status), and ``recover`` reads the account's own statuses since the
crashed attempt began and matches the text, as the X adapter does, before anything is sent again.
"""

from __future__ import annotations

import functools
import hashlib
import html
import json
import logging
import re
import time
from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, TypeVar

from bot.errors import AuthError, BotError, PublishError, RateLimitError, RejectedError, TransientError
from bot.models import Image, Post, Receipt
from bot.publishers.base import stored_account
from bot.publishers.spec import (
    Account,
    Credential,
    ImageRules,
    NetworkSpec,
    Option,
    Options,
    TextRules,
    lazy_module,
)
from bot.textlen import bluesky_length, url_spans

if TYPE_CHECKING:
    from bot.publishers.base import SessionStore

# Loaded on first use, so that reading this module's SPEC (every command does) stays cheap.
mastodon = lazy_module("mastodon")

log = logging.getLogger(__name__)

T = TypeVar("T")

NETWORK = "mastodon"
LIMIT = 500
"""Mastodon's default ``max_characters``; an instance may allow more (it says so in /api/v2/instance)."""
URL_LENGTH = 23
MAX_IMAGES = 4
MAX_IMAGE_BYTES = 8_000_000
"""Mastodon's default image size limit is 16 MB (10 MB before 4.4); 8 MB keeps every instance happy."""
MAX_ALT_CHARS = 1500
"""Mastodon's default ``description_limit``."""
VISIBILITIES = ("public", "unlisted", "private")
RECOVER_LOOKBACK = 40
"""Statuses per page ``recover`` reads (newest first)."""
RECOVER_PAGES = 3
CLOCK_SLACK = timedelta(minutes=1)
"""The instance's clock and ours may differ a little: ``recover`` looks this much before ``since``."""
ACCOUNT_SESSION = "mastodon:account"
"""Ledger key of the account id (with a hash of the token it belongs to)."""
_AUTH_HINT = (
    "check MASTODON_ACCESS_TOKEN (an application token with write:statuses write:media read:accounts) "
    "and MASTODON_API_BASE_URL"
)
_BOT_HINT = (
    "mark it as automated: Preferences > Public profile > 'This is an automated account' "
    "(Mastodon's convention for bots)"
)
_MENTION = re.compile(r"(?<![/\w])@(\w+)@[\w.\-]*\w", re.IGNORECASE)
_TAGS = re.compile(r"<br\s*/?>|</p>\s*<p>|<[^>]+>", re.IGNORECASE)


def mastodon_length(text: str, url_length: int = URL_LENGTH) -> int:
    """Mastodon's count: graphemes, each http(s) URL as ``url_length``, ``@user@domain`` as ``@user``."""
    total, last = 0, 0
    for start, end in url_spans(text):
        if text[start:end].lower().startswith(("http://", "https://")):
            total += _plain_length(text[last:start]) + url_length
            last = end
    return total + _plain_length(text[last:])


def _plain_length(text: str) -> int:
    return bluesky_length(_MENTION.sub(r"@\1", text))


def _int(options: Options, key: str, default: int) -> int:
    value = options.get(key)
    return (
        int(value)
        if isinstance(value, int | float) and not isinstance(value, bool) and value > 0
        else default
    )


def _rules(options: Options) -> TextRules:
    """The instance's reported limits (kept in the ledger) win over ``mastodon: max_characters``."""
    limit = _int(options, "instance_max_characters", _int(options, "max_characters", LIMIT))
    url_length = _int(options, "instance_characters_reserved_per_url", URL_LENGTH)
    return TextRules(
        limit=limit,
        unit="characters (links count 23)"
        if url_length == URL_LENGTH
        else f"characters (links count {url_length})",
        measure=lambda text: mastodon_length(text, url_length),
    )


def idempotency_key(post: Post) -> str:
    """The same for every attempt at one item, distinct between items (the instance keeps it an hour)."""
    stamp = post.due_at.isoformat() if post.due_at is not None else ""
    return hashlib.sha256(f"aasr-bot\n{post.key}\n{stamp}".encode()).hexdigest()[:40]


def plain_text(content: str) -> str:
    """A status's HTML ``content`` as comparable plain text: tags out, entities decoded, white space folded."""
    return " ".join(html.unescape(_TAGS.sub(" ", content)).split())


class MastodonPublisher:
    """Posts to one Mastodon account. ``session`` (a ``requests.Session``) lets tests watch the traffic;
    ``sleep`` and ``clock`` pace the wait for image processing."""

    network = NETWORK
    dry_run = False

    def __init__(
        self,
        base_url: str,
        access_token: str,
        *,
        options: Options | None = None,
        timeout: float = 20.0,
        media_wait: float = 60.0,
        poll_interval: float = 1.0,
        sessions: SessionStore | None = None,
        session: Any = None,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._base_url = base_url.rstrip("/")
        self._token = access_token
        self._options = dict(options or SPEC.defaults())
        self.rules = _rules(self._options)
        self.limit = self.rules.limit
        self._media_wait = media_wait
        self._poll_interval = poll_interval
        self._sleep = sleep
        self._clock = clock
        self._timeout = timeout
        self._api = mastodon.Mastodon(
            access_token=access_token,
            api_base_url=self._base_url,
            request_timeout=timeout,
            ratelimit_method="throw",
            mastodon_version="4.0.0",  # /api/v2 endpoints, without asking the instance on every start
            version_check_mode="created",
            session=session,
            user_agent="aasr-bot (+https://endseclusion.org)",
        )
        self._account_id: str | None = None
        self._sessions = sessions
        self._account = hashlib.sha256(f"{self._base_url}\n{access_token}".encode()).hexdigest()[:16]

    def measure(self, text: str) -> int:
        return self.rules.measure(text)

    # ------------------------------------------------------------------ the Publisher interface

    def publish(self, post: Post) -> Receipt:
        """Upload the images with their descriptions, wait until the instance has processed them, then create
        the status with the item's idempotency key."""
        self._check_images(post.images)
        media_ids = [self._upload(image) for image in post.images]
        visibility = str(self._options.get("visibility", "public"))
        reply_to = post.reply_to.remote_id if post.reply_to is not None else None
        status = self._call(
            "create post",
            lambda: self._api.status_post(
                post.text,
                in_reply_to_id=reply_to,
                media_ids=media_ids or None,
                visibility=visibility,
                spoiler_text=post.content_warning or None,
                language=post.langs[0] if post.langs else None,
                idempotency_key=idempotency_key(post),
            ),
        )
        receipt = self._receipt(status)
        log.info("mastodon: posted %s (%s)", receipt.url, post.key)
        return receipt

    def recover(self, post: Post, *, since: datetime) -> Receipt | None:
        """Find the post among the account's own statuses since ``since`` (``GET
        /api/v1/accounts/:id/statuses``, newest first, a few pages at most), matching text and content warning.

        Only after a crash or a lost answer. The account id comes from ``verify_credentials`` once and is then
        kept in the ledger. A failed look-up raises (the delivery path then decides), it never guesses.
        """
        account = self._own_id()
        want = " ".join(post.text.split())
        warning = post.content_warning or ""
        page = self._call(
            "look for the post", lambda: self._api.account_statuses(account, limit=RECOVER_LOOKBACK)
        )
        for _ in range(RECOVER_PAGES):
            older = False
            for status in page or []:
                created = _aware(status.get("created_at"))
                if created is not None and created < since - CLOCK_SLACK:
                    older = True
                    continue
                same_warning = (status.get("spoiler_text") or "") == warning
                if same_warning and plain_text(str(status.get("content") or "")) == want:
                    log.info("mastodon: found %s already posted as %s", post.key, status.get("id"))
                    return self._receipt(status)
            if older or not page:
                return None
            page = self._call("look for the post", functools.partial(self._api.fetch_next, page))
        return None

    def _own_id(self) -> str:
        """The account's id: remembered, else from the ledger, else asked of the instance (and kept)."""
        if self._account_id:
            return self._account_id
        saved = stored_account(self._sessions, ACCOUNT_SESSION, self._account)
        if saved is not None:
            self._account_id = str(saved["id"])
            return self._account_id
        self.check()
        assert self._account_id is not None  # check() sets it or raises
        return self._account_id

    def check(self) -> str:
        """Whose token this is, and whether the account is marked as a bot (Mastodon's convention)."""
        me = self._call("check credentials", self._api.account_verify_credentials)
        self._account_id = str(me["id"])
        if self._sessions is not None:
            value = {"account": self._account, "id": self._account_id}
            self._sessions.save_session(ACCOUNT_SESSION, json.dumps(value))
        who = f"@{me.get('acct') or me.get('username')} on {self._base_url}"
        if me.get("bot"):
            return f"{who} (marked as a bot account)"
        return f"{who} (NOT marked as a bot account: {_BOT_HINT})"

    def server_options(self) -> Mapping[str, int | float | bool | str]:
        """The instance's limits (``GET /api/v2/instance``), kept in the ledger and used by every check."""
        instance = self._call("read the instance's limits", self._api.instance_v2)
        config = instance.get("configuration") or {}
        statuses = config.get("statuses") or {}
        media = config.get("media_attachments") or {}
        found = {
            "instance_max_characters": statuses.get("max_characters"),
            "instance_characters_reserved_per_url": statuses.get("characters_reserved_per_url"),
            "instance_max_media_attachments": statuses.get("max_media_attachments"),
            "instance_description_limit": media.get("description_limit"),
        }
        values = {
            k: int(v) for k, v in found.items() if isinstance(v, int) and not isinstance(v, bool) and v > 0
        }
        self._options.update(values)
        self.rules = _rules(self._options)
        self.limit = self.rules.limit
        return values

    def close(self) -> None:
        session = getattr(self._api, "session", None)
        if session is not None:
            session.close()

    # ------------------------------------------------------------------ helpers

    def _receipt(self, status: Any) -> Receipt:
        status_id = status.get("id") if isinstance(status, Mapping) else None
        if status_id is None:
            raise RejectedError("create post: the instance answered without a status id", network=NETWORK)
        url = str(status.get("url") or status.get("uri") or "")
        return Receipt(network=NETWORK, remote_id=str(status_id), url=url)

    def _check_images(self, images: tuple[Image, ...]) -> None:
        """Refuse before any upload, by the instance's own limits when it told them."""
        most = _int(self._options, "instance_max_media_attachments", MAX_IMAGES)
        if len(images) > most:
            raise RejectedError(
                f"{len(images)} images, but the instance allows {most} per post", network=NETWORK
            )
        alt_limit = _int(self._options, "instance_description_limit", MAX_ALT_CHARS)
        for image in images:
            if len(image.alt) > alt_limit:
                raise RejectedError(
                    f"alt text of {image.path.name}: {len(image.alt)} characters, the instance allows {alt_limit}",
                    network=NETWORK,
                )

    def _upload(self, image: Image) -> str:
        """``POST /api/v2/media`` with the description; a 202 (no ``url`` yet) means still processing: poll
        ``GET /api/v1/media/{id}`` until it is ready, for at most ``media_wait`` seconds."""
        from bot.images import prepare_image

        try:
            prepared = prepare_image(image.path, MAX_IMAGE_BYTES)
        except BotError as exc:
            raise RejectedError(f"image {image.path}: {exc.message}", network=NETWORK, hint=exc.hint) from exc
        media = self._call(
            "upload image",
            lambda: self._api.media_post(
                prepared.data,
                mime_type=prepared.mime,
                description=image.alt,
                file_name=image.path.name or "image",
            ),
        )
        deadline = self._clock() + self._media_wait
        while not media.get("url"):
            if self._clock() >= deadline:
                raise TransientError(
                    f"upload image: the instance was still processing {image.path.name} after "
                    f"{self._media_wait:g} s",
                    network=NETWORK,
                )
            self._sleep(self._poll_interval)
            media = self._call("wait for the image", functools.partial(self._api.media, media["id"]))
        return str(media["id"])

    def _call(self, action: str, send: Callable[[], T]) -> T:
        """Run one request and turn every Mastodon.py failure into a ``PublishError``."""
        errors = mastodon.errors
        try:
            return send()
        except errors.MastodonRatelimitError:
            reset = getattr(self._api, "ratelimit_reset", None)
            when = datetime.fromtimestamp(reset, UTC) if isinstance(reset, int | float) else None
            raise RateLimitError(
                f"{action}: rate limited by the instance", network=NETWORK, reset_at=when
            ) from None
        except errors.MastodonNetworkError as exc:
            raise TransientError(
                self._scrub(f"{action}: connection failed: {exc}"), network=NETWORK
            ) from None
        except errors.MastodonAPIError as exc:
            raise self._mapped(action, exc) from None
        except errors.MastodonError as exc:
            raise RejectedError(self._scrub(f"{action}: {exc}"), network=NETWORK) from None

    def _mapped(self, action: str, exc: Exception) -> PublishError:
        args = exc.args
        status = args[1] if len(args) > 1 and isinstance(args[1], int) else None
        reason = args[3] if len(args) > 3 and args[3] else (args[2] if len(args) > 2 else "")
        message = self._scrub(f"{action}: HTTP {status} {reason}".strip())
        if status in (401, 403):
            return AuthError(message, network=NETWORK, hint=_AUTH_HINT, status=status)
        if status == 429:
            return RateLimitError(message, network=NETWORK, status=status)
        if status is not None and status >= 500:
            return TransientError(message, network=NETWORK, status=status)
        return RejectedError(message, network=NETWORK, status=status)

    def _scrub(self, text: str) -> str:
        return " ".join(text.replace(self._token, "***").split()) if self._token else " ".join(text.split())


def _aware(value: object) -> datetime | None:
    if isinstance(value, datetime):
        return value if value.tzinfo is not None else value.replace(tzinfo=UTC)
    return None


def _create(account: Account, options: Options, sessions: SessionStore) -> tuple[MastodonPublisher, str]:
    base_url = account.get("MASTODON_API_BASE_URL")
    publisher = MastodonPublisher(
        base_url, account.get("MASTODON_ACCESS_TOKEN"), options=options, sessions=sessions
    )
    return publisher, f"posting for real via {base_url}"


SPEC = NetworkSpec(
    id=NETWORK,
    name="Mastodon",
    order=30,
    text=_rules,
    images=ImageRules(max_images=MAX_IMAGES, max_bytes=MAX_IMAGE_BYTES, max_alt_chars=MAX_ALT_CHARS),
    credentials=(
        Credential("MASTODON_API_BASE_URL"),
        Credential("MASTODON_ACCESS_TOKEN", secret=True),
    ),
    create=_create,
    options={
        "max_characters": Option("int", LIMIT, "the instance's post length, until the bot has asked it", 1),
        "visibility": Option("choice", "public", "who sees the posts", choices=VISIBILITIES),
    },
    spoilers=True,
)
