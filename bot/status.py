"""What `status` reports: per network the latest deliveries, failures, pending and skipped items; spend; next posts."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from bot.deliver import thread_place
from bot.planner import due_between
from bot.publishers import registry
from bot.schedules import Schedules
from bot.service import network_usage
from bot.store import Delivery, Ledger
from bot.threads import ThreadState, thread_state

RECENT = 10
LATE_SHOWN = timedelta(days=14)
"""How long ``status`` keeps saying that a thread finished late."""


def _row(d: Delivery) -> dict[str, Any]:
    place = thread_place(d)
    return {
        "key": d.key,
        "network": d.network,
        "status": d.status,
        "dry_run": d.dry_run,
        "name": d.name,
        "due_at": d.due_at.isoformat(timespec="seconds"),
        "attempts": d.attempts,
        "url": d.url,
        "error": d.last_error,
        "cost": d.cost,
        "next_attempt_at": d.next_attempt_at.isoformat(timespec="seconds") if d.next_attempt_at else None,
        "updated_at": d.updated_at.isoformat(timespec="seconds"),
        "sent_at": d.sent_at.isoformat(timespec="seconds") if d.sent_at else None,
        "thread": {"item": place.item, "part": place.part, "of": place.of} if place else None,
    }


def thread_states(ledger: Ledger, network: str, grace: timedelta) -> list[ThreadState]:
    """Every thread with a recently changed or failed part on ``network``, newest change first (real rows)."""
    items: dict[str, ThreadState] = {}
    recent = ledger.deliveries(network=network, dry_run=False, limit=100)
    failed = ledger.deliveries(status="failed", network=network, dry_run=False, limit=100)
    for row in (*recent, *failed):
        place = thread_place(row)
        if place is not None and place.item not in items:
            items[place.item] = thread_state(ledger, place, network, grace)
    return list(items.values())


def _thread(state: ThreadState) -> dict[str, Any]:
    return {
        "item": state.place.item,
        "name": state.name,
        "of": state.place.of,
        "state": state.state,
        "part": state.place.part,
        "line": state.line,
        "late_minutes": round(state.late.total_seconds() / 60) if state.late is not None else None,
        "parts": [_row(r) for r in state.parts],
    }


def held(states: list[ThreadState]) -> list[str]:
    """One line per thread standing still at a part that failed, or that has no receipt to reply to."""
    return [f"{s.line} [{s.place.item}]" for s in states if s.state == "held"]


def finished_late(states: list[ThreadState], now: datetime) -> list[str]:
    """One line per thread that finished late in the last ``LATE_SHOWN`` (a later part went out past the grace)."""
    return [
        f"{s.line} [{s.place.item}]"
        for s in states
        if s.state == "finished late" and max(r.updated_at for r in s.parts) >= now - LATE_SHOWN
    ]


def collect(schedules: Schedules, ledger: Ledger, now: datetime, *, paused_flag: bool) -> dict[str, Any]:
    settings = schedules.settings
    local = now.astimezone(settings.timezone)
    day_start = local.replace(hour=0, minute=0, second=0, microsecond=0)
    networks: dict[str, Any] = {}
    for network in settings.networks:
        networks[network] = {
            status: [_row(d) for d in ledger.deliveries(status=status, network=network, limit=RECENT)]
            for status in ("sent", "failed", "pending", "sending", "skipped")
        }
        networks[network]["sent_today"] = ledger.sent_count(network, since=day_start)
        states = thread_states(ledger, network, timedelta(hours=settings.grace_hours))
        networks[network]["threads_held"] = held(states)
        networks[network]["threads_finished_late"] = finished_late(states, now)
        networks[network]["threads"] = [_thread(s) for s in states[:RECENT]]
    upcoming = due_between(schedules, now, now + timedelta(days=14))[:RECENT]
    # Every network that bills per post gets its figures under its own id (``x`` in JSON is a contract).
    spend: dict[str, Any] = {}
    summaries: list[str] = []
    for network in settings.networks:
        policy = registry.get(network).cost(registry.options(network, settings.network_options))
        if policy is not None:
            usage = network_usage(ledger, network, now, settings.timezone)
            spend[network] = networks[network]["spend"] = policy.status(usage)
            summaries.append(policy.summary(usage))
    return {
        "now": local.isoformat(timespec="seconds"),
        "timezone": settings.timezone.key,
        "paused": paused_flag or settings.paused,
        "paused_by": "settings.yaml" if settings.paused else ("pause command" if paused_flag else None),
        "counts": ledger.counts(dry_run=False),
        "dry_run_counts": ledger.counts(dry_run=True),
        "networks": networks,
        "spend_summaries": summaries,
        **spend,
        "next": [
            {
                "at": d.at.astimezone(settings.timezone).isoformat(timespec="minutes"),
                "key": d.draft.key,
                "source": d.draft.source,
                "name": d.draft.name,
            }
            for d in upcoming
        ],
    }


def format_status(data: dict[str, Any]) -> str:
    lines = [f"aasr-bot status at {data['now']} ({data['timezone']})"]
    if data["paused"]:
        lines.append(f"PAUSED ({data['paused_by']}): nothing is published; `resume` to publish again")
    c = data["counts"]
    rehearsed = sum(data["dry_run_counts"].values())
    lines.append(
        f"posts: {c['sent']} sent, {c['pending']} waiting to be sent, {c['sending']} being sent now, "
        f"{c['failed']} failed, {c['skipped']} skipped"
        + (f" (and {rehearsed} rehearsed in dry runs: never posted)" if rehearsed else "")
    )
    lines.extend(data["spend_summaries"])
    for network, info in data["networks"].items():
        lines.append("")
        lines.append(f"== {network} ({info['sent_today']} sent today)")
        for held in info.get("threads_held", []):
            lines.append(f"  {held}; `retry` resumes from that part")
        lines.extend(f"  {late}" for late in info.get("threads_finished_late", []))
        sent = info["sent"]
        for status, label, rows in (
            ("sent", "last sent", [r for r in sent if not r["dry_run"]]),
            ("sent", "last rehearsed (dry run: nothing was posted)", [r for r in sent if r["dry_run"]]),
            ("failed", "FAILED", info["failed"]),
            ("sending", "being sent now", info["sending"]),
            ("pending", "waiting to be sent", info["pending"]),
            ("skipped", "skipped", info["skipped"]),
        ):
            if not rows:
                continue
            lines.append(f"  {label}:")
            for r in rows:
                dry = " [dry run]" if r["dry_run"] and status != "sent" else ""
                extra = r["url"] or r["error"] or ""
                if status == "failed" and r["next_attempt_at"]:
                    extra += f" (next try {r['next_attempt_at']})"
                elif status == "failed":
                    extra += " (needs `retry` or `skip`)"
                elif status == "pending":
                    due = datetime.fromisoformat(r["due_at"]).astimezone(ZoneInfo(data["timezone"]))
                    extra = f"due {due:%Y-%m-%d %H:%M %Z}  {r['name']}"
                lines.append(f"    {r['key']}{dry}  {extra}".rstrip())
    lines.append("")
    lines.append("next due:")
    for n in data["next"] or []:
        lines.append(f"  {n['at']}  {n['source']:<9} {n['name']}  [{n['key']}]")
    if not data["next"]:
        lines.append("  nothing in the next 14 days")
    return "\n".join(lines)
