"""Where a thread stands on one network, read from its parts' ledger rows: finished (on time or late), held at
a part, stopped, or still going. ``status``, the status page and the pass's "held" outcomes say it from here.

Parts share their thread's due time, so a part's lateness is when it went out minus that time. The grace period
counts for the first part only (``bot.service``): a later part that goes out past it is still sent, and the
thread is said to have *finished late*, never to have been missed.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from bot.deliver import receipt_of
from bot.models import ThreadPlace
from bot.store import Delivery, Ledger

STATES = ("finished", "finished late", "held", "stopped", "in progress", "waiting")
ALWAYS_FINISHED = "a thread once started is always finished"


@dataclass(frozen=True, slots=True)
class ThreadState:
    """One thread on one network."""

    place: ThreadPlace
    """The thread (``item``, ``of``); ``part`` is the part the state is about (where it is held, the first
    part that went out late, the next part to go)."""
    network: str
    state: str
    """One of ``STATES``."""
    line: str
    """The state in plain words, naming the network by its id, as ``status`` prints it."""
    parts: tuple[Delivery, ...]
    """The thread's rows on that network, in part order (a part without a row is left out)."""
    late: timedelta | None = None
    """For ``finished late``: how long after the thread's time ``place.part`` went out."""

    @property
    def name(self) -> str:
        return self.parts[0].name if self.parts else self.place.item


def span(delta: timedelta) -> str:
    """A duration in words a screen reader reads well: ``5 h 10 min``, ``1 day 2 h``, ``45 min``."""
    minutes = max(0, round(delta.total_seconds() / 60))
    days, rest = divmod(minutes, 24 * 60)
    hours, mins = divmod(rest, 60)
    out = [f"{days} day{'s' if days != 1 else ''}"] if days else []
    if hours:
        out.append(f"{hours} h")
    if mins or not out:
        out.append(f"{mins} min")
    return " ".join(out)


def thread_held(ledger: Ledger, place: ThreadPlace, network: str, *, dry_run: bool) -> str:
    """In plain words, where a thread stands still on ``network``: "thread held at part 2 of 4 on x: <why>"."""
    for part in range(1, place.of + 1):
        row = ledger.get(place.key(part), network, dry_run=dry_run)
        if row is None or receipt_of(row) is not None:
            continue
        return f"thread held at part {part} of {place.of} on {network}: {_held_why(row, network)}"
    return f"thread held at part {place.part} of {place.of} on {network}"


def _held_why(row: Delivery, network: str) -> str:
    if row.status == "sent":
        return "it was confirmed only by a duplicate refusal, so the next part has nothing to reply to"
    if row.status == "failed":
        why = (row.last_error or "failed").removeprefix(f"{network}: ")  # the line names it already
        if row.next_attempt_at is not None:
            why += f" (next try {row.next_attempt_at.isoformat(timespec='minutes')})"
        return why
    if row.status == "sending":
        return "it is being sent"
    if row.status == "skipped":
        return f"skipped: {row.last_error or 'by a maintainer'}"
    return "it is not sent yet"


def thread_state(
    ledger: Ledger, place: ThreadPlace, network: str, grace: timedelta, *, dry_run: bool = False
) -> ThreadState:
    """Where the thread of ``place`` stands on ``network``; ``grace`` is the schedules' grace period."""
    rows = {
        r.key: r
        for r in ledger.deliveries(key=place.item, network=network, dry_run=dry_run, limit=place.of + 1)
    }
    parts = tuple(rows[k] for k in (place.key(n) for n in range(1, place.of + 1)) if k in rows)
    of = place.of

    def at(part: int) -> ThreadPlace:
        return ThreadPlace(place.item, part, of)

    for n in range(1, of + 1):
        row = rows.get(place.key(n))
        if row is None:
            return ThreadState(
                at(n), network, "waiting", f"thread waiting at part {n} of {of} on {network}", parts
            )
        if row.status == "sent" and (receipt_of(row) is not None or n == of):
            continue  # the last part needs no receipt: nothing replies to it
        if row.status == "skipped":
            why = row.last_error or "by a maintainer"
            if n == 1:
                line = f"thread skipped on {network}: part 1 of {of} was skipped ({why}), so the whole thread was"
            else:
                line = f"thread stopped at part {n} of {of} on {network}: skipped ({why})"
            return ThreadState(at(n), network, "stopped", line, parts)
        if row.status in ("failed", "sent"):
            line = f"thread held at part {n} of {of} on {network}: {_held_why(row, network)}"
            return ThreadState(at(n), network, "held", line, parts)
        if n == 1 and row.status == "pending":
            return ThreadState(at(1), network, "waiting", f"thread waiting to start on {network}", parts)
        done = f"{n - 1} of {of} parts sent" if n > 1 else f"none of {of} parts sent yet"
        verb = "is being sent now" if row.status == "sending" else "goes next"
        line = f"thread in progress on {network}: {done}, part {n} {verb}"
        return ThreadState(at(n), network, "in progress", line, parts)
    for row in parts[1:]:
        late = (row.sent_at or row.updated_at) - row.due_at
        if late > grace:
            n = _part_of(row, place)
            line = (
                f"thread finished late on {network}: part {n} of {of} went out {span(late)} after its time "
                f"({ALWAYS_FINISHED})"
            )
            return ThreadState(at(n), network, "finished late", line, parts, late)
    return ThreadState(
        at(of), network, "finished", f"thread finished on {network}: all {of} parts sent", parts
    )


def _part_of(row: Delivery, place: ThreadPlace) -> int:
    return int(row.key.removeprefix(f"{place.item}#"))
