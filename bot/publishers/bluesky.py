"""The Bluesky adapter: one ``Post`` -> one ``app.bsky.feed.post`` record, through the ``atproto`` SDK.

Owns the Bluesky session (log in once, keep and refresh the session string in the ``SessionStore``),
rich-text facets, the one embed a post may carry (images win over a link card), replies, self-labels,
deterministic record keys for exactly-once posting, and mapping every SDK failure onto ``bot.errors``.

Exactly once: the record key (rkey) is a TID derived from ``post.key`` and ``post.due_at`` (see
``record_key``), so every attempt at the same item writes to the same ``at://`` address. ``publish`` creates
the record with no look-up first (one request per post); if ``createRecord`` fails it looks at that address,
because a create at an existing key fails (the reference PDS answers a plain 500) and because a response can
be lost after the record was written: a record there is "already posted". ``recover`` (after a crash) looks
before anything is sent.
"""

from __future__ import annotations

import hashlib
import logging
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from bot.errors import (
    AuthError,
    BotError,
    PublishError,
    RateLimitError,
    RejectedError,
    TransientError,
)
from bot.models import Image, Post, Receipt
from bot.publishers.spec import Account, Credential, ImageRules, NetworkSpec, Options, TextRules, lazy_module
from bot.textlen import bluesky_length, card_link

if TYPE_CHECKING:
    import httpx

    # The atproto SDK ships no type information (no py.typed), so its names are Any to mypy.
    from atproto_client import Client  # type: ignore[import-untyped]
    from atproto_client.client.session import Session, SessionEvent  # type: ignore[import-untyped]

    from bot.fetch import Fetcher
    from bot.linkcard import LinkCard
    from bot.publishers.base import SessionStore
else:
    # Loaded on first use, so that reading this module's SPEC (every command does) stays cheap.
    httpx = lazy_module("httpx")
_atproto = lazy_module("atproto_client")
_session = lazy_module("atproto_client.client.session")
_request = lazy_module("atproto_client.request")
_exceptions = lazy_module("atproto_client.exceptions")
_core_exceptions = lazy_module("atproto_core.exceptions")
_server_exceptions = lazy_module("atproto_server.exceptions")
_model_utils = lazy_module("atproto_client.models.utils")
models = lazy_module("atproto_client.models")
facet_detection = lazy_module("atproto_client.utils.facet_detection")

log = logging.getLogger(__name__)

NETWORK = "bluesky"
LIMIT = 300
"""Bluesky's limit in grapheme clusters (what its app counts)."""
MAX_BYTES = 3000
"""The record's ``text`` is also capped at 3,000 bytes of UTF-8."""
POST_COLLECTION = "app.bsky.feed.post"
MAX_BLOB_BYTES = 1_000_000
MAX_IMAGES = 4
MAX_ALT_CHARS = 2000
"""Bluesky's app caps alt text at 2,000 characters."""
DEFAULT_SERVICE = "https://bsky.social"
TID_ALPHABET = "234567abcdefghijklmnopqrstuvwxyz"
HASH_ONLY_EPOCH_US = 1_672_531_200_000_000
"""2023-01-01T00:00:00Z: keys of posts without ``due_at`` fall in the year after it (see record_key)."""
YEAR_US = 365 * 24 * 3600 * 1_000_000
SESSION_ERRORS = frozenset({"ExpiredToken", "InvalidToken", "AuthenticationRequired", "AuthMissing"})
"""XRPC error names meaning "this session is no longer good" (the PDS sends some as 400, some as 401)."""

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class BlueskyCredentials:
    handle: str
    app_password: str = field(repr=False)
    service: str = DEFAULT_SERVICE


_RULES = TextRules(limit=LIMIT, unit="graphemes", measure=bluesky_length, max_bytes=MAX_BYTES)


def _create(account: Account, options: Options, sessions: SessionStore) -> tuple[BlueskyPublisher, str]:
    creds = BlueskyCredentials(
        account.get("BLUESKY_HANDLE").lstrip("@"),
        account.get("BLUESKY_APP_PASSWORD"),
        account.get("BLUESKY_SERVICE") or DEFAULT_SERVICE,
    )
    return BlueskyPublisher(creds, sessions), f"posting for real as @{creds.handle} via {creds.service}"


def dry_run_lines(post: Post) -> list[str]:
    """What ``--dry-run`` adds for Bluesky: the UTF-8 size, languages and the rich-text facets."""
    lines = [f"    {len(post.text.encode())} UTF-8 bytes (limit {MAX_BYTES}); langs: {', '.join(post.langs)}"]
    return lines + [f"    facet: {facet}" for facet in bluesky_facets(post.text)]


def bluesky_facets(text: str) -> list[str]:
    """The facets the adapter would attach (mentions are resolved to DIDs only when really posting)."""
    found = []
    encoded = text.encode()
    for facet in facet_detection.detect_facets(text):
        start, end = int(facet.index.byte_start), int(facet.index.byte_end)
        kind = str(facet.features[0].py_type).rsplit("#", 1)[-1]
        found.append((start, f"{kind} {encoded[start:end].decode()!r} at bytes {start}-{end}"))
    for mention in facet_detection.detect_mentions(text):
        found.append(
            (
                mention.byte_start,
                f"mention @{mention.handle} at bytes {mention.byte_start}-{mention.byte_end}",
            )
        )
    return [description for _, description in sorted(found)]


SPEC = NetworkSpec(
    id=NETWORK,
    name="Bluesky",
    order=20,
    text=lambda options: _RULES,
    images=ImageRules(max_images=MAX_IMAGES, max_bytes=MAX_BLOB_BYTES, max_alt_chars=MAX_ALT_CHARS),
    credentials=(
        Credential("BLUESKY_HANDLE"),
        Credential("BLUESKY_APP_PASSWORD", secret=True),
        Credential("BLUESKY_SERVICE", required=False, default=DEFAULT_SERVICE),
    ),
    create=_create,
    link_cards=True,
    dry_run_lines=dry_run_lines,
)


def record_key(key: str, due_at: datetime | None) -> str:
    """A valid TID, the same for every attempt at one item, distinct between items.

    TID layout: 64 bits, top bit 0, then 53 bits of microseconds since the epoch, then a 10-bit clock id,
    written as 13 characters of the sortable base32 alphabet. We take due_at's whole seconds for the time and
    fill the sub-second microseconds and the clock id from a SHA-256 of the item key, so two items due in the
    same second collide only if 30 hash bits agree. Without due_at the key's hash alone picks an instant in
    2023; such keys sort by hash rather than by time, which only matters to tools ordering posts by key.
    """
    digest = int.from_bytes(hashlib.sha256(key.encode()).digest()[:8], "big")
    if due_at is None:
        micros = HASH_ONLY_EPOCH_US + digest % YEAR_US
    else:
        when = due_at if due_at.tzinfo is not None else due_at.replace(tzinfo=UTC)
        micros = int(when.timestamp()) * 1_000_000 + digest % 1_000_000
    clock_id = (digest >> 20) % 1024
    value = ((micros & ((1 << 53) - 1)) << 10) | clock_id
    return "".join(TID_ALPHABET[(value >> (5 * i)) & 31] for i in reversed(range(13)))


def _status(exc: BaseException) -> int | None:
    response = getattr(exc, "response", None)
    return getattr(response, "status_code", None) if response is not None else None


def _error_name(exc: BaseException) -> str:
    content = getattr(getattr(exc, "response", None), "content", None)
    return str(getattr(content, "error", "") or "")


def _is_session_problem(exc: BaseException) -> bool:
    if isinstance(exc, _exceptions.LoginRequiredError | _server_exceptions.InvalidTokenError):
        return True
    return _status(exc) == 401 or (_status(exc) == 400 and _error_name(exc) in SESSION_ERRORS)


def _reset_at(exc: BaseException) -> datetime | None:
    headers = getattr(getattr(exc, "response", None), "headers", None) or {}
    value = str(headers.get("ratelimit-reset", "")).strip()
    try:
        return datetime.fromtimestamp(int(value), tz=UTC)
    except (ValueError, OverflowError, OSError):
        return None


class BlueskyPublisher:
    """Posts to one Bluesky account. Not thread-safe: the service publishes one post at a time."""

    network = NETWORK
    limit = LIMIT
    dry_run = False

    def __init__(
        self,
        creds: BlueskyCredentials,
        sessions: SessionStore,
        *,
        http: Fetcher | None = None,
        timeout: float = 20.0,
        card_timeout: float = 10.0,
        now: Callable[[], datetime] | None = None,
    ) -> None:
        """``http`` fetches link-card pages and images, public addresses only unless a test passes a fetcher
        that allows more (the SDK keeps its own client for XRPC calls).

        ``timeout`` applies to each XRPC request; ``card_timeout`` bounds fetching one link card in total;
        ``now`` stamps ``createdAt``.
        """
        self._creds = creds
        self._sessions = sessions
        self._timeout = timeout
        self._card_timeout = card_timeout
        self._now = now or (lambda: datetime.now(UTC))
        from bot.fetch import Fetcher

        self._own_http = http is None
        self._http = http or Fetcher(timeout=timeout)
        self._client: Client | None = None
        self._logins = 0
        """Password logins so far (each is a rate-limited createSession)."""
        self._handle = creds.handle
        self._did: str | None = None

    @property
    def _session_name(self) -> str:
        return f"bluesky:{self._creds.handle}"

    # -- the Publisher protocol ------------------------------------------------------------------------------

    def measure(self, text: str) -> int:
        """Bluesky counts graphemes (an emoji with modifiers is one)."""
        return bluesky_length(text)

    def publish(self, post: Post) -> Receipt:
        length = self.measure(post.text)
        if length > self.limit:
            raise RejectedError(f"post {post.key} is {length} graphemes, over {self.limit}", network=NETWORK)
        size = len(post.text.encode())
        if size > MAX_BYTES:
            raise RejectedError(f"post {post.key} is {size} UTF-8 bytes, over {MAX_BYTES}", network=NETWORK)
        if len(post.images) > MAX_IMAGES:
            raise RejectedError(
                f"post {post.key} has {len(post.images)} images; Bluesky takes 4", network=NETWORK
            )
        rkey = record_key(post.key, post.due_at)
        # No look-up first: the derived key makes a repeat create fail, and then the record there is the answer.
        embed = self._call(lambda client: self._embed(client, post), f"upload media of {post.key}")
        try:
            return self._call(
                lambda client: self._create(client, post, rkey, embed), f"create post {post.key}"
            )
        except (AuthError, RateLimitError):
            raise
        except PublishError as err:
            # A create at a key that already holds a record fails: the reference PDS (@atproto/pds 0.4)
            # answers HTTP 500 {"error": "InternalServerError"}, nothing more specific. A lost response
            # also hides a success. In both cases the record at our key, if any, is the answer.
            try:
                found = self._call(lambda client: self._find(client, rkey), f"look up post {post.key}")
            except PublishError:
                raise err from None
            if found is None:
                raise
            log.info("post %s was created by an earlier attempt: %s", post.key, found.remote_id)
            return found

    def recover(self, post: Post, *, since: datetime) -> Receipt | None:
        """The record at the post's derived key (``since`` is not needed: the key says where to look)."""
        rkey = record_key(post.key, post.due_at)
        return self._call(lambda client: self._find(client, rkey), f"look up post {post.key}")

    def check(self) -> str:
        response = self._call(lambda client: client.com.atproto.server.get_session(), "check the session")
        self._handle, self._did = str(response.handle), str(response.did)
        return f"@{self._handle} ({self._did})"

    def close(self) -> None:
        """Close the HTTP connections this publisher opened (not an ``http`` client passed in)."""
        self._drop_client()
        if self._own_http:
            self._http.close()

    def __enter__(self) -> BlueskyPublisher:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # -- session ---------------------------------------------------------------------------------------------

    def _drop_client(self) -> None:
        if self._client is not None:
            self._client.request.close()
            self._client = None

    def _new_client(self, base_url: str) -> Client:
        client = _atproto.Client(base_url=base_url, request=_request.Request(timeout=self._timeout))
        client.on_session_change(self._on_session_change)
        return client

    def _on_session_change(self, event: SessionEvent, session: Session) -> None:
        self._handle, self._did = session.handle, session.did
        if event is _session.SessionEvent.IMPORT:
            return
        try:
            self._sessions.save_session(self._session_name, session.export())
        except (BotError, OSError) as exc:
            # Posting still works; the next process will just log in with the password once more.
            log.warning("could not save the Bluesky session of @%s: %s", self._creds.handle, exc)

    def _connect(self) -> Client:
        if self._client is not None:
            return self._client
        stored = self._sessions.load_session(self._session_name)
        if stored:
            client = self._new_client(self._creds.service)
            try:
                client.login(session_string=stored, fetch_bsky_profile=False)
            except (ValueError, _core_exceptions.AtProtocolError):
                client.request.close()
                log.warning("the stored Bluesky session of @%s is unreadable; logging in", self._creds.handle)
            else:
                self._client = client
                return client
        return self._login()

    def _login(self) -> Client:
        """Log in with the app password: rate-limited by Bluesky (30 per 5 minutes), so only when needed."""
        log.info("logging in to Bluesky as @%s", self._creds.handle)
        self._drop_client()
        client = self._new_client(self._creds.service)
        try:
            client.login(self._creds.handle, self._creds.app_password, fetch_bsky_profile=False)
        except (_core_exceptions.AtProtocolError, httpx.HTTPError) as exc:
            client.request.close()
            raise self._map(exc, f"log in as @{self._creds.handle}") from None
        self._client = client
        self._logins += 1
        return client

    def _call(self, action: Callable[[Client], T], what: str) -> T:
        """Run ``action`` with a live session; a session that stopped working is replaced by one new login.

        Not when the session was made by logging in during this very call: then the password itself is refused
        and a second createSession would only spend the rate limit.
        """
        logins = self._logins
        client = self._connect()
        try:
            return action(client)
        except (_core_exceptions.AtProtocolError, httpx.HTTPError) as exc:
            if self._logins != logins or not _is_session_problem(exc):
                raise self._map(exc, what) from None
            log.info("the Bluesky session of @%s no longer works; logging in again", self._creds.handle)
        client = self._login()
        try:
            return action(client)
        except (_core_exceptions.AtProtocolError, httpx.HTTPError) as exc:
            raise self._map(exc, what) from None

    # -- errors ----------------------------------------------------------------------------------------------

    def _map(self, exc: BaseException, what: str) -> PublishError:
        """Turn an SDK failure into the bot's error; the message never carries the password."""
        status = _status(exc)
        detail = str(exc) or type(exc).__name__
        if self._creds.app_password:
            detail = detail.replace(self._creds.app_password, "***")
        message = f"{what} failed: {detail}"
        hint_auth = (
            "check the Bluesky handle and app password (Settings > Privacy and security > App passwords)"
        )
        if isinstance(exc, _exceptions.LoginRequiredError | _server_exceptions.InvalidTokenError):
            return AuthError(message, network=NETWORK, hint=hint_auth)
        if status is None:
            if isinstance(exc, _exceptions.RequestErrorBase | httpx.HTTPError):
                cause = exc.__cause__ or exc.__context__
                reason = f"{type(cause).__name__}: {cause}" if cause else type(exc).__name__
                return TransientError(f"{what} failed: {reason}", network=NETWORK)
            return TransientError(f"{what} failed: unexpected answer ({detail})", network=NETWORK)
        if status == 429:
            return RateLimitError(message, network=NETWORK, reset_at=_reset_at(exc), status=status)
        if status in (401, 403) or _error_name(exc) in SESSION_ERRORS:
            return AuthError(message, network=NETWORK, hint=hint_auth, status=status)
        if status >= 500 or status == 408:
            return TransientError(message, network=NETWORK, status=status)
        return RejectedError(message, network=NETWORK, status=status)

    # -- records ---------------------------------------------------------------------------------------------

    def _repo(self) -> str:
        return self._did or self._handle

    def _receipt(self, uri: str, cid: str | None) -> Receipt:
        rkey = uri.rsplit("/", 1)[-1]
        return Receipt(
            network=NETWORK,
            remote_id=uri,
            url=f"https://bsky.app/profile/{self._handle}/post/{rkey}",
            cid=cid,
        )

    def _find(self, client: Client, rkey: str) -> Receipt | None:
        try:
            found = client.com.atproto.repo.get_record(
                params={"repo": self._repo(), "collection": POST_COLLECTION, "rkey": rkey}
            )
        except _exceptions.BadRequestError as exc:
            if _error_name(exc) == "RecordNotFound":
                return None
            raise
        return self._receipt(str(found.uri), found.cid)

    def _create(self, client: Client, post: Post, rkey: str, embed: Any) -> Receipt:
        labels = None
        if post.labels:
            labels = models.ComAtprotoLabelDefs.SelfLabels(
                values=[models.ComAtprotoLabelDefs.SelfLabel(val=label) for label in post.labels]
            )
        record = models.AppBskyFeedPost.Record(
            text=post.text,
            created_at=self._now().astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z"),
            facets=self._facets(client, post.text) or None,
            embed=embed,
            langs=list(post.langs) or None,
            labels=labels,
            reply=self._reply_ref(client, post.reply_to, post.reply_root) if post.reply_to else None,
        )
        created = client.com.atproto.repo.create_record(
            models.ComAtprotoRepoCreateRecord.Data(
                repo=self._repo(), collection=POST_COLLECTION, rkey=rkey, record=record
            )
        )
        return self._receipt(str(created.uri), str(created.cid))

    def _reply_ref(self, client: Client, parent: Receipt, root: Receipt | None = None) -> Any:
        """Reply to ``parent`` in the thread that starts at ``root`` (a thread part knows its first part);
        without ``root``, the root is read from the parent record when it is itself a reply."""
        if not parent.cid:
            raise RejectedError(f"cannot reply to {parent.remote_id} without its cid", network=NETWORK)
        parent_ref = models.ComAtprotoRepoStrongRef.Main(uri=parent.remote_id, cid=parent.cid)
        if root is not None and root.cid and root.remote_id != parent.remote_id:
            root_ref = models.ComAtprotoRepoStrongRef.Main(uri=root.remote_id, cid=root.cid)
            return models.AppBskyFeedPost.ReplyRef(parent=parent_ref, root=root_ref)
        if root is not None and root.remote_id == parent.remote_id:
            return models.AppBskyFeedPost.ReplyRef(parent=parent_ref, root=parent_ref)
        root_ref = parent_ref
        repo, _, rest = parent.remote_id.removeprefix("at://").partition("/")
        collection, _, rkey = rest.partition("/")
        try:
            found = client.com.atproto.repo.get_record(
                params={"repo": repo, "collection": collection, "rkey": rkey}
            )
            root = getattr(getattr(found.value, "reply", None), "root", None)
            if root is not None:
                root_ref = models.ComAtprotoRepoStrongRef.Main(uri=root.uri, cid=root.cid)
        except (_exceptions.RequestErrorBase, _exceptions.ModelError) as exc:
            # Without the parent record we cannot know its root; treating the parent as root keeps the reply
            # attached to the parent, which is what readers see.
            log.warning(
                "could not read %s to find its thread root (%s); using it as root", parent.remote_id, exc
            )
        return models.AppBskyFeedPost.ReplyRef(parent=parent_ref, root=root_ref)

    def _facets(self, client: Client, text: str) -> list[Any]:
        """Links, hashtags and cashtags from the SDK's detector; mentions whose handle resolves to a DID."""
        facets: list[Any] = list(facet_detection.detect_facets(text))
        dids: dict[str, str | None] = {}
        for mention in facet_detection.detect_mentions(text):
            handle = mention.handle.lower()
            if handle not in dids:
                try:
                    dids[handle] = str(client.resolve_handle(handle).did)
                except _exceptions.RequestErrorBase as exc:
                    if _status(exc) in (401, 429) or _is_session_problem(exc):
                        raise
                    log.warning("not linking @%s: the handle does not resolve (%s)", handle, exc)
                    dids[handle] = None
            did = dids[handle]
            if did is not None:
                facets.append(
                    models.AppBskyRichtextFacet.Main(
                        features=[models.AppBskyRichtextFacet.Mention(did=did)],
                        index=models.AppBskyRichtextFacet.ByteSlice(
                            byte_start=mention.byte_start, byte_end=mention.byte_end
                        ),
                    )
                )
        return sorted(facets, key=lambda facet: int(facet.index.byte_start))

    # -- media -----------------------------------------------------------------------------------------------

    def _upload(self, client: Client, data: bytes, mime: str) -> Any:
        # Not client.upload_blob(): it hands the bytes to httpx as data=, which httpx deprecates (a warning
        # that our tests turn into an error), and it sends Content-Type */* instead of the image's type.
        response = client.invoke_procedure(
            "com.atproto.repo.uploadBlob",
            content=data,
            headers={"Content-Type": mime},
            output_encoding="application/json",
        )
        return _model_utils.get_response_model(response, models.ComAtprotoRepoUploadBlob.Response).blob

    def _embed(self, client: Client, post: Post) -> Any:
        """Images if the post has any (Bluesky allows one embed), else a link card: from its link, or the first
        URL in its text (as Bluesky's own app does)."""
        if post.images:
            return models.AppBskyEmbedImages.Main(
                images=[self._image(client, image) for image in post.images]
            )
        url = card_link(post.link, post.text)
        if url:
            from bot.linkcard import fetch_card

            card = fetch_card(url, self._http, timeout=self._card_timeout)
            if card is not None:
                return self._card(client, card)
        return None

    def _image(self, client: Client, image: Image) -> Any:
        from bot.images import prepare_image

        try:
            prepared = prepare_image(image.path, MAX_BLOB_BYTES)
        except BotError as exc:
            raise RejectedError(f"image {image.path}: {exc}", network=NETWORK) from None
        return models.AppBskyEmbedImages.Image(
            alt=image.alt,
            image=self._upload(client, prepared.data, prepared.mime),
            aspect_ratio=models.AppBskyEmbedDefs.AspectRatio(width=prepared.width, height=prepared.height),
        )

    def _card(self, client: Client, card: LinkCard) -> Any:
        from bot.images import prepare_image

        thumb = None
        if card.image:
            with tempfile.TemporaryDirectory(prefix="aasr-card-") as folder:
                path = Path(folder) / "thumb"
                path.write_bytes(card.image)
                try:
                    prepared = prepare_image(path, MAX_BLOB_BYTES)
                except BotError as exc:
                    log.warning("link card for %s without image: %s", card.url, exc)
                    prepared = None
            if prepared is not None:
                thumb = self._upload(client, prepared.data, prepared.mime)
        return models.AppBskyEmbedExternal.Main(
            external=models.AppBskyEmbedExternal.External(
                uri=card.url, title=card.title, description=card.description, thumb=thumb
            )
        )
