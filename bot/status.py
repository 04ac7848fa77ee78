"""What `status` reports: per network the latest deliveries, failures, pending and skipped items; spend; next posts."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from bot.deliver import thread_place
from bot.planner import due_between
from bot.publishers import registry
from bot.schedules import Schedules
from bot.service import network_usage, thread_held
from bot.store import Delivery, Ledger

RECENT = 10


def _row(d: Delivery) -> dict[str, Any]:
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
    }


def held_threads(ledger: Ledger, network: str) -> list[str]:
    """One line per thread standing still on ``network`` because a part failed (real rows only)."""
    lines: dict[str, str] = {}
    for row in ledger.deliveries(status="failed", network=network, dry_run=False, limit=100):
        place = thread_place(row)
        if place is not None and place.item not in lines:
            lines[place.item] = f"{thread_held(ledger, place, network, dry_run=False)} [{place.item}]"
    return list(lines.values())


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
        networks[network]["threads_held"] = held_threads(ledger, network)
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
