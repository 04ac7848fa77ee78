"""The ONE delivery path: ensure -> claim -> (recover) -> publish -> record.

Every way the bot sends a post (a pass of ``tick``/``run``, ``retry``, ``resume``, the one-off ``post``, thread
parts) goes through ``Deliverer``: ``ensure`` gives the post its ledger row, ``send`` delivers one row on one
network and records the outcome. Nothing else calls ``Publisher.publish``.

The rules ``send`` keeps (README "What the bot guarantees"):

* A row is claimed before anything is sent (one conditional UPDATE: of two processes one wins; the loser is
  told the row is taken and sends nothing).
* A row taken over from a crashed sender (``recovering``) is first looked up on the network
  (``Publisher.recover``, from the crashed attempt's claim time); found means sent, with the real URL.
* A duplicate refusal is a receipt only when an earlier attempt may have got through (a crash, a lost answer,
  an earlier attempt of this row): then the post is looked up, and only if that look-up itself fails is the
  refusal taken as confirmation. On a first attempt it is a failure with the reason in plain words.
"""

from __future__ import annotations

import json
import logging
import random
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import stamina

from bot.errors import BotError, DuplicateError, PublishError, RateLimitError, TransientError
from bot.models import Image, Post, Receipt, ThreadPlace
from bot.publishers import registry
from bot.publishers.base import Publisher
from bot.publishers.spec import TextRules
from bot.store import Delivery, Ledger

log = logging.getLogger(__name__)

LEASE = timedelta(minutes=10)
BACKOFF_FIRST = timedelta(minutes=1)
BACKOFF_MAX = timedelta(hours=1)
RECOVER_SLACK = timedelta(minutes=5)
"""Look for a crashed attempt's post from a little before its claim: clocks of bot and network differ."""
TAKEN = "taken: another process is sending it right now"

OUTCOME_STATUSES = ("sent", "retrying", "failed", "skipped", "waiting", "held")


@dataclass(frozen=True, slots=True)
class Outcome:
    """What became of one row on one network in one attempt."""

    key: str
    network: str
    status: str
    """sent | failed | retrying | skipped | waiting | held"""
    detail: str = ""
    url: str | None = None
    cost: float = 0.0
    error: BotError | None = field(default=None, compare=False)
    """The refusal behind a ``failed``/``retrying`` outcome (for one-line messages with hint and reset)."""
    receipt: Receipt | None = field(default=None, compare=False)
    """The network's receipt of a ``sent`` outcome (None when a duplicate refusal was the only proof)."""


def post_to_payload(post: Post) -> str:
    return json.dumps(
        {
            "text": post.text,
            "length": post.length,
            "limit": post.limit,
            "link": post.link,
            "images": [{"path": str(i.path), "alt": i.alt} for i in post.images],
            "langs": list(post.langs),
            "labels": list(post.labels),
            "content_warning": post.content_warning,
            **(
                {"thread": {"item": post.thread.item, "part": post.thread.part, "of": post.thread.of}}
                if post.thread
                else {}
            ),
        },
        ensure_ascii=False,
    )


def payload_to_post(row: Delivery) -> Post:
    data: dict[str, Any] = json.loads(row.payload)
    place = data.get("thread")
    return Post(
        key=row.key,
        network=row.network,
        text=data["text"],
        length=data["length"],
        limit=data["limit"],
        link=data.get("link"),
        images=tuple(Image(Path(i["path"]), i["alt"]) for i in data.get("images", [])),
        langs=tuple(data.get("langs", ["en"])),
        labels=tuple(data.get("labels", [])),
        due_at=row.due_at,
        content_warning=data.get("content_warning"),
        thread=ThreadPlace(str(place["item"]), int(place["part"]), int(place["of"])) if place else None,
    )


def thread_place(row: Delivery) -> ThreadPlace | None:
    """Where the row's post sits in a thread, or None (a single post, or a payload that cannot be read)."""
    try:
        return payload_to_post(row).thread
    except (ValueError, KeyError, TypeError, AttributeError):
        return None


def receipt_of(row: Delivery) -> Receipt | None:
    """The network's receipt of a sent row, as the ledger kept it; None when only a duplicate refusal
    confirmed it (the post's id is not known, so nothing can reply to it)."""
    if row.status != "sent" or not row.remote_id or row.remote_id == "duplicate":
        return None
    return Receipt(row.network, row.remote_id, row.url or "", row.cost, row.cid, row.dry_run)


def network_name(network: str) -> str:
    """The network's display name for messages ("X", "Bluesky")."""
    try:
        return registry.get(network).name
    except ValueError:
        return network


def duplicate_reason(network: str) -> str:
    return (
        f"{network_name(network)} refused this text as a duplicate of a recent post: vary the text, "
        "then `retry`"
    )


class Deliverer:
    """Delivers ledger rows through publishers; one per process (``owner`` names it in claims)."""

    def __init__(
        self,
        ledger: Ledger,
        *,
        owner: str,
        rules: Callable[[str], TextRules],
        lease: timedelta = LEASE,
        rng: random.Random | None = None,
    ) -> None:
        self.ledger = ledger
        self.owner = owner
        self.rules = rules
        self.lease = lease
        self.rng = rng or random.Random()

    def ensure(
        self, post: Post, *, dry_run: bool, source: str, name: str, due_at: datetime, now: datetime
    ) -> bool:
        """Give ``post`` its ledger row (idempotent); True if the row is new."""
        existing = self.ledger.get(post.key, post.network, dry_run=dry_run)
        if existing is not None:
            return False
        self.ledger.ensure(
            post.key,
            post.network,
            dry_run=dry_run,
            source=source,
            name=name,
            due_at=due_at,
            payload=post_to_payload(post),
            now=now,
        )
        return True

    def send(
        self,
        publisher: Publisher,
        key: str,
        now: datetime,
        *,
        too_late: str | None = None,
        retry_later: bool = True,
        reply_to: Receipt | None = None,
        reply_root: Receipt | None = None,
    ) -> Outcome:
        """Claim, (recover,) publish and record one row on ``publisher``'s network.

        ``too_late``: the reason to skip instead of publishing (a recovered post is still recorded as sent).
        ``retry_later``: False for the one-off ``post`` command, whose failures wait for a maintainer.
        ``reply_to``: the receipt of the post this one answers (a thread part); ``reply_root``: the thread's first.
        """
        network = publisher.network
        dry = publisher.dry_run
        claimed = self.ledger.claim(key, network, dry_run=dry, owner=self.owner, now=now, lease=self.lease)
        if claimed is None:
            current = self.ledger.get(key, network, dry_run=dry)
            if current is not None and current.status == "sending":
                log.info("%s on %s: %s (%s)", key, network, TAKEN, current.claimed_by)
                return Outcome(key, network, "waiting", TAKEN)
            state = current.status if current is not None else "missing"
            return Outcome(key, network, "waiting", f"not sendable now ({state})")
        try:
            post = payload_to_post(claimed)
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            # A row written by another version, or edited by hand: say so on the row instead of leaving it in
            # `sending` and crashing every pass that claims it.
            error = f"the ledger row cannot be decoded ({type(exc).__name__}: {str(exc)[:200]}); `skip` it"
            return self._fail(claimed, dry, error, now, loud=retry_later)
        if reply_to is not None:
            post = replace(post, reply_to=reply_to, reply_root=reply_root or reply_to)
        rules = self.rules(network)
        if not rules.fits(post.text, post.content_warning):
            size = f", or over {rules.max_bytes} bytes" if rules.max_bytes else ""
            error = (
                f"text is too long for {network} ({post.length}/{post.limit}{size}); "
                "fix the schedule file, then `retry`"
            )
            return self._fail(claimed, dry, error, now, loud=retry_later)
        # Any attempt at this row may have got through, and several takeovers in a row can each be cut short
        # (kill -9 during a recovery): the last claim is not the first attempt, so look from the row's creation.
        since = claimed.created_at - RECOVER_SLACK
        looked = False
        lookup_failed = False
        if claimed.recovering:
            try:
                found = publisher.recover(post, since=since)
            except PublishError as exc:
                lookup_failed = True
                log.warning("could not look for %s on %s after a crash: %s", key, network, exc)
            else:
                looked = True
                if found is not None:
                    log.info("recovered %s on %s: it was posted before a crash (%s)", key, network, found.url)
                    return self._sent(claimed, dry, found, now, "recovered")
        if too_late is not None:
            return self._skip(claimed, dry, too_late, now)
        # An earlier attempt may have got through when this row was tried before (a lost answer, a retry).
        earlier = claimed.recovering or claimed.attempts > 1
        tries = 0

        def once() -> Receipt:
            nonlocal tries
            tries += 1
            return publisher.publish(post)

        try:
            receipt = _with_quick_retries(once)
        except DuplicateError as exc:
            return self._duplicate(
                publisher,
                claimed,
                post,
                exc,
                now,
                since=since,
                earlier=earlier or tries > 1,
                looked=looked,
                lookup_failed=lookup_failed,
                loud=retry_later,
            )
        except PublishError as exc:
            return self._failed(claimed, dry, exc, now, retry_later=retry_later)
        except BotError as exc:
            return self._fail(claimed, dry, str(exc), now, error=exc, loud=retry_later)
        verb = "dry-run" if dry else "sent"
        return self._sent(claimed, dry, receipt, now, verb)

    # ------------------------------------------------------------------ outcomes

    def _duplicate(
        self,
        publisher: Publisher,
        row: Delivery,
        post: Post,
        exc: DuplicateError,
        now: datetime,
        *,
        since: datetime,
        earlier: bool,
        looked: bool,
        lookup_failed: bool,
        loud: bool,
    ) -> Outcome:
        network, dry = row.network, row.dry_run
        if not earlier:
            return self._fail(row, dry, duplicate_reason(network), now, error=exc, loud=loud)
        if not looked and not lookup_failed:
            try:
                found = publisher.recover(post, since=since)
            except PublishError as lookup:
                lookup_failed = True
                log.warning("could not look for %s on %s: %s", row.key, network, lookup)
            else:
                if found is not None:
                    log.info(
                        "found %s on %s: an earlier attempt got through (%s)", row.key, network, found.url
                    )
                    return self._sent(row, dry, found, now, "recovered")
        if lookup_failed:
            # The network has this text and we cannot look: the earlier attempt is the likeliest author.
            self.ledger.mark_sent(
                row.key, network, dry_run=dry, remote_id="duplicate", url=None, cost=0.0, now=now
            )
            log.warning(
                "confirmed %s on %s: an earlier attempt got through (the network refused a duplicate: %s)",
                row.key,
                network,
                exc.message,
            )
            return Outcome(row.key, network, "sent", "already posted (duplicate refused)")
        return self._fail(row, dry, duplicate_reason(network), now, error=exc, loud=loud)

    def _sent(self, row: Delivery, dry: bool, receipt: Receipt, now: datetime, verb: str) -> Outcome:
        self.ledger.mark_sent(
            row.key,
            row.network,
            dry_run=dry,
            remote_id=receipt.remote_id,
            url=receipt.url,
            cost=receipt.cost,
            now=now,
            cid=receipt.cid,
        )
        log.info("%s %s on %s: %s", verb, row.key, row.network, receipt.url or "(nothing sent)")
        return Outcome(row.key, row.network, "sent", verb, receipt.url, receipt.cost, receipt=receipt)

    def _skip(self, row: Delivery, dry: bool, reason: str, now: datetime) -> Outcome:
        self.ledger.mark_skipped(row.key, row.network, dry_run=dry, reason=reason, now=now)
        log.warning("skipped %s on %s: %s", row.key, row.network, reason)
        return Outcome(row.key, row.network, "skipped", reason)

    def _fail(
        self,
        row: Delivery,
        dry: bool,
        reason: str,
        now: datetime,
        *,
        error: BotError | None = None,
        loud: bool = True,
    ) -> Outcome:
        """``loud``: log it as an error (a pass); a one-off command prints its own line instead."""
        self.ledger.mark_failed(row.key, row.network, dry_run=dry, error=reason, retry_at=None, now=now)
        log.log(
            logging.ERROR if loud else logging.INFO,
            "failed %s on %s: %s (needs a maintainer: `retry` or `skip`)",
            row.key,
            row.network,
            reason,
        )
        return Outcome(row.key, row.network, "failed", reason, error=error)

    def _failed(
        self, row: Delivery, dry: bool, exc: PublishError, now: datetime, *, retry_later: bool
    ) -> Outcome:
        if not (exc.retryable and retry_later):
            return self._fail(row, dry, str(exc), now, error=exc, loud=retry_later)
        delay = min(BACKOFF_MAX, BACKOFF_FIRST * (2 ** max(0, row.attempts - 1)))
        retry_at = now + delay * self.rng.uniform(0.5, 1.5)
        if isinstance(exc, RateLimitError) and exc.reset_at is not None:
            retry_at = max(retry_at, exc.reset_at.astimezone(UTC))
        self.ledger.mark_failed(row.key, row.network, dry_run=dry, error=str(exc), retry_at=retry_at, now=now)
        label = "rate limited" if isinstance(exc, RateLimitError) else "will retry"
        log.warning(
            "%s %s on %s: %s; next try %s",
            label,
            row.key,
            row.network,
            exc,
            retry_at.isoformat(timespec="seconds"),
        )
        return Outcome(row.key, row.network, "retrying", f"{label}: {exc}", error=exc)


def _with_quick_retries(send: Callable[[], Receipt]) -> Receipt:
    """A quick in-pass retry for blips (a dropped connection, a 502). Safe: a retry of a post that did get
    through conflicts (a derived record key) or is refused as a duplicate, which ``send`` then looks up."""
    for attempt in stamina.retry_context(on=TransientError, attempts=3, timeout=30.0, wait_initial=0.5):
        with attempt:
            return send()
    raise AssertionError("unreachable")  # pragma: no cover
