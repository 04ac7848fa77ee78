"""One pass of the bot: plan -> compose -> record in the ledger -> deliver each due row (``bot.deliver``).

Both ``tick`` and every job of the long-running scheduler call ``Service.run_pass(now)``; nothing here reads the
clock or the environment, so tests drive it with any ``now``.

Rules a maintainer can rely on (see README "What the bot guarantees"):

* Every due post gets one ledger row per network before anything is sent; a post is never dropped without a
  row that says why (sent, failed with the reason, or skipped with the reason).
* Each row is sent through the one delivery path (``Deliverer.send``: claim, recover after a crash, publish,
  record; duplicates told honestly); the pass decides only which rows are due and which must wait.
* A post that comes due more than ``grace_hours`` late (the bot was down, or a network kept failing) is skipped
  with a reason, never posted days late. For a thread that is its first part: a started thread is finished,
  however late its later parts (``bot.threads`` says "finished late"). Posts held by a pause wait for ``resume``.
* Networks run side by side in threads: one network failing or rate-limited never delays the other.
"""

from __future__ import annotations

import json
import logging
import random
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta, tzinfo
from typing import Any

from bot.compose import TemplateError, compose, render
from bot.deliver import (
    LEASE,
    OUTCOME_STATUSES,
    Deliverer,
    Outcome,
    payload_to_post,
    post_to_payload,
    receipt_of,
    thread_place,
)
from bot.errors import FeedError
from bot.models import Receipt, ThreadPlace
from bot.planner import due_between, feed_draft
from bot.publishers import registry
from bot.publishers.base import Publisher
from bot.publishers.spec import CostPolicy, TextRules, Usage
from bot.schedules import Schedules
from bot.store import Delivery, Ledger
from bot.threads import thread_held

log = logging.getLogger(__name__)

LOOKBACK = timedelta(days=3)
"""How far back a pass looks for due posts that have no ledger row yet (the bot was down)."""
PAUSED_FLAG = "paused"
__all__ = ["OUTCOME_STATUSES", "Outcome", "PassReport", "Service", "payload_to_post", "post_to_payload"]


@dataclass(slots=True)
class PassReport:
    recorded: int = 0
    feed: str = ""
    outcomes: list[Outcome] = field(default_factory=list)
    rehearsal: frozenset[str] = frozenset()
    """Networks that ran dry: their "sent" outcomes were rehearsed, nothing was posted."""

    def count(self, status: str) -> int:
        return sum(1 for o in self.outcomes if o.status == status)

    def summary(self) -> str:
        """One log line in a volunteer's words: posts planned, the feed, and what happened to each delivery.

        A dry run's deliveries are "rehearsed", never "sent"; counts that are zero are left out."""
        rehearsed = sum(1 for o in self.outcomes if o.status == "sent" and o.network in self.rehearsal)
        counts = {status: self.count(status) for status in OUTCOME_STATUSES}
        counts["sent"] -= rehearsed
        said = [f"{status} {n}" for status, n in counts.items() if n]
        if rehearsed:
            said.insert(counts["sent"] > 0, f"rehearsed {rehearsed} (dry run: nothing posted)")
        planned = f"{self.recorded} new post{'' if self.recorded == 1 else 's'} planned"
        return f"{planned}; {self.feed or 'feed: not polled'}; {', '.join(said) or 'nothing to send'}"


def _payload_text(payload: str) -> str:
    """The text of a ledger payload, or "" if it cannot be decoded (sending it then fails with the reason)."""
    try:
        data = json.loads(payload)
    except ValueError:
        return ""
    text = data.get("text") if isinstance(data, dict) else None
    return text if isinstance(text, str) else ""


class Service:
    def __init__(
        self,
        schedules: Schedules,
        ledger: Ledger,
        publishers: Mapping[str, Publisher],
        *,
        owner: str,
        fetch_feed: Callable[[str, str | None, str | None], Any] | None = None,
        lease: timedelta = LEASE,
        rng: random.Random | None = None,
    ) -> None:
        self.schedules = schedules
        self.ledger = ledger
        self.publishers = dict(publishers)
        self.owner = owner
        self.fetch_feed = fetch_feed
        self.lease = lease
        self.rng = rng or random.Random()
        self.deliverer = Deliverer(ledger, owner=owner, rules=self.rules, lease=lease, rng=self.rng)
        """The one delivery path every send of this service goes through."""
        self._feed_problem: str | None = None
        """The feed problem last warned about: a daemon says it once, not at every poll."""

    # ------------------------------------------------------------------ state

    @property
    def networks(self) -> list[str]:
        return [n for n in self.schedules.settings.networks if n in self.publishers]

    def paused(self) -> bool:
        return self.schedules.settings.paused or self.ledger.get_flag(PAUSED_FLAG) == "1"

    def reload(self, schedules: Schedules) -> None:
        self.schedules = schedules

    def rules(self, network: str) -> TextRules:
        """How ``network`` counts text, with this bot's settings."""
        return registry.text_rules(network, self.schedules.settings.network_options)

    def cost_policy(self, network: str) -> CostPolicy | None:
        """The network's billing rules, if it bills per post."""
        return registry.get(network).cost(registry.options(network, self.schedules.settings.network_options))

    # ------------------------------------------------------------------ the pass

    def run_pass(self, now: datetime, *, poll_feed: bool = True, ignore_grace: bool = False) -> PassReport:
        report = PassReport(rehearsal=frozenset(n for n, p in self.publishers.items() if p.dry_run))
        report.recorded = self.record_due(now)
        # Due posts go out before the feed is polled: a slow or hostile feed server must never hold them up.
        report.outcomes = self.send_due(now, ignore_grace=ignore_grace)
        if poll_feed:
            report.feed, announced, created = self._poll_feed(now)
            report.recorded += created  # counts that add up: feed rows are new rows too
            if announced:
                report.outcomes += self.send_due(now, ignore_grace=ignore_grace, keys=announced)
        return report

    def record_due(self, now: datetime) -> int:
        """Give every post due in the last few days a ledger row per network (idempotent)."""
        created = 0
        for due in due_between(self.schedules, now - LOOKBACK, now):
            for network in self.networks:
                publisher = self.publishers[network]
                existing = self.ledger.get(due.draft.key, network, dry_run=publisher.dry_run)
                if existing is not None:
                    continue
                try:
                    post = compose(due.draft, network, due_at=due.at, rules=self.rules(network))
                except TemplateError as exc:  # validate reports it too; say it every pass until it is fixed
                    log.error(
                        "cannot compose %s for %s (%s): %s", due.draft.key, network, due.draft.file, exc
                    )
                    continue
                self.ledger.ensure(
                    due.draft.key,
                    network,
                    dry_run=publisher.dry_run,
                    source=due.draft.source,
                    name=due.draft.name,
                    due_at=due.at,
                    payload=post_to_payload(post),
                    now=now,
                )
                created += 1
        return created

    def poll_feed(self, now: datetime) -> str:
        """Fetch the site feed once and give each new story a ledger row per network."""
        return self._poll_feed(now)[0]

    def _poll_feed(self, now: datetime) -> tuple[str, frozenset[str], int]:
        """``poll_feed``, also returning the keys of the new stories due now (to send them in the same pass) and
        how many ledger rows it created."""
        from bot.feed import item_key, normalise_url, pace, select_new

        settings = self.schedules.settings
        url = settings.feed.url
        if not url or self.fetch_feed is None:
            return "feed: off", frozenset(), 0
        if now.astimezone(settings.timezone).date() in settings.blackout:
            # Stories published today are found by the first poll after the blackout, not skipped as late.
            return "feed: not polled (blackout date)", frozenset(), 0
        etag, modified = self.ledger.feed_validators(url)
        try:
            result = self.fetch_feed(url, etag, modified)
        except FeedError as exc:
            if exc.detail:
                log.debug("feed: %s", exc.detail)
            if str(exc) != self._feed_problem:
                log.warning("feed not read: %s", exc)
                self._feed_problem = str(exc)
            return "feed: not read", frozenset(), 0
        if self._feed_problem is not None:
            log.info("feed read again (the earlier problem is gone)")
            self._feed_problem = None
        if result.not_modified:
            log.info("feed not modified since last poll")
            return "feed: not modified", frozenset(), 0
        first_run = not self.ledger.feed_seeded()
        selection = select_new(
            result.items,
            lambda item: self.ledger.feed_seen(item_key(item), normalise_url(item.url)),
            first_run=first_run,
            first_run_post_newest=settings.feed.first_run_post_newest,
        )
        # Every story gets its rows now; the flood rule is pacing: max_per_poll due now, the rest a poll apart.
        due_times = pace(
            len(selection.announce),
            now,
            per_poll=settings.feed.max_per_poll,
            every=timedelta(minutes=settings.feed.poll_minutes),
            queued=self.ledger.pending_due("feed"),
        )
        created = 0
        for item, due_at in zip(selection.announce, due_times, strict=True):
            key = item_key(item)
            draft = feed_draft(item, key, settings, now)
            for network in self.networks:
                publisher = self.publishers[network]
                post = compose(draft, network, due_at=due_at, rules=self.rules(network))
                created += self.deliverer.ensure(
                    post, dry_run=publisher.dry_run, source="feed", name=item.title, due_at=due_at, now=now
                )
            when = "now" if due_at <= now else f"paced to {due_at.astimezone(settings.timezone):%H:%M %Z}"
            log.info("new story %s: %s (%s), due %s", key, item.title, item.url, when)
        # Seen is recorded only after the rows exist: a crash in between re-finds the story, and ensure() is
        # idempotent, so it is neither lost nor announced twice. One transaction, with the first run's "seeded"
        # mark inside it: a half-written seeding must never pass for history.
        self.ledger.mark_feed_seen_many(
            [
                (item_key(item), normalise_url(item.url))
                for item in (*selection.announce, *selection.mark_seen)
            ],
            now=now,
            seeded=first_run,
        )
        self.ledger.save_feed_validators(url, result.etag, result.last_modified)
        later = sum(1 for due_at in due_times if due_at > now)
        summary = (
            f"feed: {len(result.items)} entries, {len(selection.announce)} new to announce"
            + (f" ({later} paced over later polls)" if later else "")
            + f", {len(selection.mark_seen)} recorded as seen"
        )
        log.info(summary)
        due_now = frozenset(
            item_key(item)
            for item, due_at in zip(selection.announce, due_times, strict=True)
            if due_at <= now
        )
        return summary, due_now, created

    def send_due(
        self,
        now: datetime,
        *,
        ignore_grace: bool = False,
        key: str | None = None,
        keys: frozenset[str] | None = None,
    ) -> list[Outcome]:
        """Send what is due on every network at once; ``key`` limits the pass to one item (maintainer retry),
        ``keys`` to a few (the stories a feed poll just found)."""
        networks = self.networks
        if not networks:
            return []
        with ThreadPoolExecutor(max_workers=len(networks), thread_name_prefix="send") as pool:
            futures = [
                pool.submit(self._send_network, network, now, ignore_grace, key, keys) for network in networks
            ]
            outcomes: list[Outcome] = []
            for future in futures:
                outcomes.extend(future.result())
        return outcomes

    # ------------------------------------------------------------------ one network

    def _send_network(
        self, network: str, now: datetime, ignore_grace: bool, key: str | None, keys: frozenset[str] | None
    ) -> list[Outcome]:
        publisher = self.publishers[network]
        settings = self.schedules.settings
        rows = [
            r
            for r in self.ledger.due(now=now, dry_run=publisher.dry_run, lease=self.lease)
            if r.network == network and (key is None or r.key == key) and (keys is None or r.key in keys)
        ]
        # Scheduled posts before story announcements; oldest first within each; a thread's parts in order.
        places = {r.key: thread_place(r) for r in rows}

        def order(r: Delivery) -> tuple[bool, datetime, str, int]:
            place = places[r.key]
            return (r.source == "feed", r.due_at, place.item if place else r.key, place.part if place else 0)

        rows.sort(key=order)
        outcomes: list[Outcome] = []
        paused = self.paused()
        today = now.astimezone(settings.timezone).date()
        for row in rows:
            stale = row.status == "sending"  # due() only returns `sending` rows whose claim has expired
            due_local = row.due_at.astimezone(settings.timezone).date()
            if paused:
                outcomes.append(Outcome(row.key, network, "held", "paused"))
                continue
            if row.source != "feed" and due_local in settings.blackout and not stale:
                self.ledger.mark_skipped(
                    row.key, network, dry_run=publisher.dry_run, reason=f"blackout date {due_local}", now=now
                )
                log.info("skipped %s on %s: blackout date %s", row.key, network, due_local)
                outcomes.append(Outcome(row.key, network, "skipped", "blackout"))
                continue
            if today in settings.blackout:
                outcomes.append(Outcome(row.key, network, "waiting", "blackout today"))
                continue
            place = places[row.key]
            reply_to = reply_root = None
            if place is not None and place.part > 1:
                link = self._thread_link(publisher, row, place, now)
                if isinstance(link, Outcome):
                    outcomes.append(link)
                    continue
                reply_to, reply_root = link
            late = now - row.due_at
            too_late = None
            started = place is not None and place.part > 1  # its first part went out: finish the thread
            if not ignore_grace and not started and late > timedelta(hours=settings.grace_hours):
                too_late = (
                    f"missed: due {row.due_at.astimezone(settings.timezone):%Y-%m-%d %H:%M %Z}, "
                    f"{late.total_seconds() / 3600:.1f} h late (grace is {settings.grace_hours:g} h)"
                )
                if not stale:
                    outcomes.append(self._skip(publisher, row, too_late, now))
                    continue
            policy = self.cost_policy(network)
            if policy is not None and not publisher.dry_run and not stale:
                wait = self._budget_wait(network, policy, row, now)
                if wait:
                    log.info("waiting %s on %s: %s", row.key, network, wait)
                    outcomes.append(Outcome(row.key, network, "waiting", wait))
                    continue
            outcome = self.deliverer.send(
                publisher, row.key, now, too_late=too_late, reply_to=reply_to, reply_root=reply_root
            )
            outcomes.append(outcome)
            if outcome.status == "retrying" and outcome.detail.startswith("rate limited"):
                break  # the rest would hit the same limit; they stay pending for the next pass
        return outcomes

    def _thread_link(
        self, publisher: Publisher, row: Delivery, place: ThreadPlace, now: datetime
    ) -> tuple[Receipt, Receipt] | Outcome:
        """The receipts a thread part replies to (the part before it, the first part), or the outcome of a
        part that must not go out yet: held behind an unsent part, or skipped with a skipped part."""
        network, dry = publisher.network, publisher.dry_run
        before = self.ledger.get(place.key(place.part - 1), network, dry_run=dry)
        first = self.ledger.get(place.key(1), network, dry_run=dry)
        parent = receipt_of(before) if before is not None else None
        root = receipt_of(first) if first is not None else None
        if parent is not None and root is not None:
            return parent, root
        if before is not None and before.status == "skipped" and row.status == "pending":
            return self._skip(publisher, row, f"thread stopped: part {place.part - 1} was skipped", now)
        return Outcome(row.key, network, "held", thread_held(self.ledger, place, network, dry_run=dry))

    def _skip(self, publisher: Publisher, row: Delivery, reason: str, now: datetime) -> Outcome:
        self.ledger.mark_skipped(
            row.key, publisher.network, dry_run=publisher.dry_run, reason=reason, now=now
        )
        log.warning("skipped %s on %s: %s", row.key, publisher.network, reason)
        return Outcome(row.key, publisher.network, "skipped", reason)

    # ------------------------------------------------------------------ budgets

    def _budget_wait(self, network: str, policy: CostPolicy, row: Delivery, now: datetime) -> str | None:
        """Why a post must wait for the network's daily cap or budget (its cost policy decides), or None."""
        usage = network_usage(self.ledger, network, now, self.schedules.settings.timezone)
        cost = policy.price(_payload_text(row.payload))
        reserved: list[float] = []
        if row.source == "feed":
            # Scheduled posts still to come today go first: a story announcement may not use their room.
            day_end = _day_start(now, self.schedules.settings.timezone) + timedelta(days=1)
            reserved = [
                policy.price(render(d.draft, network)) for d in due_between(self.schedules, now, day_end)
            ]
        return policy.wait(usage, cost, reserved)


def _day_start(now: datetime, tz: tzinfo) -> datetime:
    return now.astimezone(tz).replace(hour=0, minute=0, second=0, microsecond=0)


def network_usage(ledger: Ledger, network: str, now: datetime, tz: tzinfo) -> Usage:
    """What ``network`` has sent today and spent today and this month (local days and months)."""
    day_start = _day_start(now, tz)
    return Usage(
        sent_today=ledger.sent_count(network, since=day_start),
        spent_today=ledger.spend(network, since=day_start),
        spent_month=ledger.spend(network, since=day_start.replace(day=1)),
    )


def next_wakeups(schedules: Schedules, now: datetime, horizon: timedelta) -> Sequence[datetime]:
    """The distinct instants in (now, now + horizon] at which something is due: the scheduler's job times."""
    return sorted({due.at for due in due_between(schedules, now + timedelta(microseconds=1), now + horizon)})
