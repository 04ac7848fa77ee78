"""The service's pass logic with an injected clock: recording, grace, retries, rate limits, budgets, pause,
blackout, crash recovery, and two processes on one ledger. Networks are scriptable fakes (their adapters are
tested against real servers elsewhere); the ledger is a real SQLite file."""

from __future__ import annotations

import itertools
import random
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from bot.errors import AuthError, DuplicateError, RateLimitError, TransientError
from bot.models import Post, Receipt
from bot.service import Service
from bot.store import Ledger
from tests.service_fixtures import IDPD, SETTINGS, FakePublisher, load_tree, write_tree

NY = ZoneInfo("America/New_York")


def ny(*args: int) -> datetime:
    return datetime(*args, tzinfo=NY)  # type: ignore[misc]


@pytest.fixture
def ledger(tmp_path: Path) -> Iterator[Ledger]:
    with Ledger.open(tmp_path / "ledger.sqlite3") as opened:
        yield opened


def make_service(
    tmp_path: Path,
    ledger: Ledger,
    *,
    settings: str = SETTINGS,
    queue: str | None = None,
    x: FakePublisher | None = None,
    bluesky: FakePublisher | None = None,
    owner: str = "test",
) -> tuple[Service, FakePublisher, FakePublisher]:
    schedules = load_tree(write_tree(tmp_path, settings=settings, awareness={"idpd": IDPD}, queue=queue))
    x = x or FakePublisher("x")
    bluesky = bluesky or FakePublisher("bluesky")
    service = Service(schedules, ledger, {"x": x, "bluesky": bluesky}, owner=owner, rng=random.Random(1))
    return service, x, bluesky


def test_due_post_goes_to_every_network_once(tmp_path: Path, ledger: Ledger) -> None:
    service, x, bsky = make_service(tmp_path, ledger)
    report = service.run_pass(ny(2026, 12, 3, 10, 0, 5))
    assert report.recorded == 2
    assert [p.key for p in x.published] == ["awareness/idpd/2026/1"]
    assert [p.key for p in bsky.published] == ["awareness/idpd/2026/1"]
    assert x.published[0].text.startswith("Today is the International Day")
    assert "#IDPD" in x.published[0].text
    row = ledger.get("awareness/idpd/2026/1", "x", dry_run=False)
    assert row is not None and row.status == "sent" and row.url == "https://x.example/1"
    # A second pass (and a third, later the same day) publishes nothing more.
    service.run_pass(ny(2026, 12, 3, 10, 5))
    service.run_pass(ny(2026, 12, 3, 12, 0))
    assert len(x.published) == 1 and len(bsky.published) == 1


def test_nothing_is_sent_before_it_is_due(tmp_path: Path, ledger: Ledger) -> None:
    service, x, _ = make_service(tmp_path, ledger)
    service.run_pass(ny(2026, 12, 3, 9, 59))
    assert x.published == []
    service.run_pass(ny(2026, 12, 3, 16, 0))
    assert [p.key for p in x.published] == ["awareness/idpd/2026/1", "awareness/idpd/2026/2"]


def test_missed_within_grace_goes_out_late_older_is_skipped_with_reason(
    tmp_path: Path, ledger: Ledger
) -> None:
    service, x, _ = make_service(tmp_path, ledger)
    # The bot was down from before 10:00 until 17:00: the 10:00 post is 7 h late, the 16:00 one 1 h late.
    report = service.run_pass(ny(2026, 12, 3, 17, 0))
    assert [p.key for p in x.published] == ["awareness/idpd/2026/2"]
    skipped = ledger.get("awareness/idpd/2026/1", "x", dry_run=False)
    assert skipped is not None and skipped.status == "skipped"
    assert skipped.last_error is not None and "7.0 h late" in skipped.last_error
    assert report.count("skipped") == 2  # x and bluesky, each with a ledger row


def test_one_network_failing_never_stops_the_other(tmp_path: Path, ledger: Ledger) -> None:
    x = FakePublisher("x", fail=lambda post, n: TransientError("503 Service Unavailable", network="x"))
    service, x, bsky = make_service(tmp_path, ledger, x=x)
    now = ny(2026, 12, 3, 10, 0)
    report = service.run_pass(now)
    assert len(bsky.published) == 1
    assert x.calls == 3  # one attempt and two immediate retries (stamina), then back-off across passes
    row = ledger.get("awareness/idpd/2026/1", "x", dry_run=False)
    assert row is not None and row.status == "failed" and row.next_attempt_at is not None
    assert now + timedelta(seconds=29) <= row.next_attempt_at <= now + timedelta(seconds=91)
    assert report.count("retrying") == 1
    # Before the back-off ends nothing is tried; after it, X recovers and the post goes out once.
    service.run_pass(now + timedelta(seconds=20))
    assert x.calls == 3
    x.fail = lambda post, n: None
    service.run_pass(now + timedelta(minutes=2))
    assert [p.key for p in x.published] == ["awareness/idpd/2026/1"]
    assert len(bsky.published) == 1


def test_backoff_grows_exponentially(tmp_path: Path, ledger: Ledger) -> None:
    x = FakePublisher("x", fail=lambda post, n: TransientError("timeout", network="x"))
    service, x, _ = make_service(tmp_path, ledger, x=x)
    now = ny(2026, 12, 3, 10, 0)
    delays = []
    for _ in range(5):
        service.run_pass(now)
        row = ledger.get("awareness/idpd/2026/1", "x", dry_run=False)
        assert row is not None and row.next_attempt_at is not None
        delays.append((row.next_attempt_at - now).total_seconds())
        now = row.next_attempt_at
    assert all(later > earlier for earlier, later in itertools.pairwise(delays))
    assert delays[-1] >= 8 * 60 * 0.5


def test_rate_limit_waits_for_the_reset_and_holds_the_rest(tmp_path: Path, ledger: Ledger) -> None:
    queue = """\
    posts:
      - id: one
        at: "2026-12-03 10:00"
        text: First queued post for the test.
      - id: two
        at: "2026-12-03 10:00"
        text: Second queued post for the test.
    """
    reset = datetime(2026, 12, 3, 16, 0, tzinfo=UTC)
    x = FakePublisher(
        "x", fail=lambda post, n: RateLimitError("429 Too Many Requests", network="x", reset_at=reset)
    )
    service, x, bsky = make_service(tmp_path, ledger, x=x, queue=queue)
    now = ny(2026, 12, 3, 10, 0, 30)
    report = service.run_pass(now)
    assert x.calls == 1  # never retried in-pass, never slept out, and the other rows were not tried
    assert len(bsky.published) == 3
    limited = [o for o in report.outcomes if o.network == "x" and o.status == "retrying"]
    assert len(limited) == 1 and "rate limited" in limited[0].detail
    row = ledger.get(limited[0].key, "x", dry_run=False)
    assert row is not None and row.next_attempt_at == reset
    x.fail = lambda post, n: None
    service.run_pass(reset.astimezone(NY) + timedelta(seconds=1))
    assert sorted(p.key for p in x.published) == ["awareness/idpd/2026/1", "queue/one", "queue/two"]


def test_permanent_failure_waits_for_a_maintainer(tmp_path: Path, ledger: Ledger) -> None:
    x = FakePublisher("x", fail=lambda post, n: AuthError("401 Unauthorized", network="x"))
    service, x, _ = make_service(tmp_path, ledger, x=x)
    service.run_pass(ny(2026, 12, 3, 10, 0))
    service.run_pass(ny(2026, 12, 3, 11, 0))
    assert x.calls == 1
    row = ledger.get("awareness/idpd/2026/1", "x", dry_run=False)
    assert row is not None and row.status == "failed" and row.next_attempt_at is None
    assert row.last_error is not None and "401" in row.last_error
    # The maintainer fixes the credentials and retries: it goes out even though it is now late.
    x.fail = lambda post, n: None
    assert ledger.retry("awareness/idpd/2026/1", "x") == 1
    outcomes = service.send_due(ny(2026, 12, 4, 9, 0), ignore_grace=True, key="awareness/idpd/2026/1")
    assert [o.status for o in outcomes] == ["sent"]
    assert len(x.published) == 1


def test_duplicate_refusal_on_a_first_attempt_is_a_failure_not_a_receipt(
    tmp_path: Path, ledger: Ledger
) -> None:
    x = FakePublisher("x", fail=lambda post, n: DuplicateError("duplicate content", network="x"))
    service, x, _ = make_service(tmp_path, ledger, x=x)
    report = service.run_pass(ny(2026, 12, 3, 10, 0))
    row = ledger.get("awareness/idpd/2026/1", "x", dry_run=False)
    assert row is not None and row.status == "failed" and row.remote_id is None
    assert (
        row.last_error == "X refused this text as a duplicate of a recent post: vary the text, then `retry`"
    )
    assert row.next_attempt_at is None  # a maintainer must change the text: retrying the same text won't help
    assert x.recovers == 0  # nothing was tried before, so there is nothing to look for
    assert report.count("failed") == 1 and report.count("sent") == 1  # Bluesky went out


def test_crash_after_posting_is_recovered_without_a_duplicate(tmp_path: Path, ledger: Ledger) -> None:
    service, x, bsky = make_service(tmp_path, ledger)
    now = ny(2026, 12, 3, 10, 0)
    service.record_due(now)
    # A process claimed the Bluesky row and posted, then was killed before recording the receipt.
    dead = ledger.claim("awareness/idpd/2026/1", "bluesky", dry_run=False, owner="dead", now=now)
    assert dead is not None
    bsky.existing["awareness/idpd/2026/1"] = Receipt(
        "bluesky", "at://did/app.bsky.feed.post/x", "https://b/x"
    )
    # Within the lease nobody touches it.
    service.send_due(now + timedelta(minutes=1))
    assert bsky.recovers == 0 and bsky.published == []
    # After the lease the survivor asks the network first, finds the post, and records it.
    service.send_due(now + timedelta(minutes=11))
    row = ledger.get("awareness/idpd/2026/1", "bluesky", dry_run=False)
    assert row is not None and row.status == "sent" and row.url == "https://b/x"
    assert bsky.published == [] and bsky.recovers == 1
    assert len(x.published) == 1


def test_crash_before_posting_is_sent_after_the_lease(tmp_path: Path, ledger: Ledger) -> None:
    service, x, _ = make_service(tmp_path, ledger)
    now = ny(2026, 12, 3, 10, 0)
    service.record_due(now)
    assert ledger.claim("awareness/idpd/2026/1", "x", dry_run=False, owner="dead", now=now) is not None
    service.send_due(now + timedelta(minutes=11))
    assert [p.key for p in x.published] == ["awareness/idpd/2026/1"]
    assert x.recovers == 1


def test_pause_holds_posts_and_release_sends_them(tmp_path: Path, ledger: Ledger) -> None:
    service, x, _ = make_service(tmp_path, ledger)
    ledger.set_flag("paused", "1")
    report = service.run_pass(ny(2026, 12, 3, 10, 0))
    assert x.published == [] and report.count("held") == 2
    # Still held hours later: a pause never turns into a silent skip.
    service.run_pass(ny(2026, 12, 3, 20, 0))
    assert ledger.get("awareness/idpd/2026/1", "x", dry_run=False).status == "pending"  # type: ignore[union-attr]
    ledger.set_flag("paused", None)
    service.run_pass(ny(2026, 12, 3, 20, 1), ignore_grace=True)
    assert [p.key for p in x.published] == ["awareness/idpd/2026/1", "awareness/idpd/2026/2"]


def test_paused_in_settings(tmp_path: Path, ledger: Ledger) -> None:
    service, x, _ = make_service(tmp_path, ledger, settings=SETTINGS + "paused: true\n")
    assert service.run_pass(ny(2026, 12, 3, 10, 0)).count("held") == 2
    assert x.published == []


def test_blackout_date_skips_with_a_record(tmp_path: Path, ledger: Ledger) -> None:
    service, x, _ = make_service(tmp_path, ledger, settings=SETTINGS + "blackout: [2026-12-03]\n")
    service.run_pass(ny(2026, 12, 3, 10, 0))
    row = ledger.get("awareness/idpd/2026/1", "x", dry_run=False)
    assert row is not None and row.status == "skipped" and "blackout" in (row.last_error or "")
    assert x.published == []


def test_x_daily_cap_defers_without_dropping(tmp_path: Path, ledger: Ledger) -> None:
    settings = SETTINGS.replace("daily_post_cap: 10", "daily_post_cap: 1")
    service, x, bsky = make_service(tmp_path, ledger, settings=settings)
    service.run_pass(ny(2026, 12, 3, 10, 0))
    report = service.run_pass(ny(2026, 12, 3, 16, 0))
    assert len(x.published) == 1 and len(bsky.published) == 2
    waiting = [o for o in report.outcomes if o.network == "x"]
    assert waiting and waiting[0].status == "waiting" and "daily X cap" in waiting[0].detail
    row = ledger.get("awareness/idpd/2026/2", "x", dry_run=False)
    assert row is not None and row.status == "pending"


def test_text_too_long_fails_with_a_clear_reason(tmp_path: Path, ledger: Ledger) -> None:
    service, x, _ = make_service(tmp_path, ledger)
    now = ny(2026, 12, 3, 10, 0)
    long_post = Post("manual/long", "x", "word " * 80, 400, 280)
    from bot.service import post_to_payload

    ledger.ensure(
        "manual/long",
        "x",
        dry_run=False,
        source="queue",
        name="long",
        due_at=now,
        payload=post_to_payload(long_post),
        now=now,
    )
    service.send_due(now)
    row = ledger.get("manual/long", "x", dry_run=False)
    assert row is not None and row.status == "failed" and "400/280" in (row.last_error or "")
    assert all(p.key != "manual/long" for p in x.published)


def test_two_services_on_one_ledger_post_each_item_once(tmp_path: Path) -> None:
    queue = "posts:\n" + "".join(
        f'  - id: q{i}\n    at: "2026-12-03 09:{i:02d}"\n    text: Queued post number {i} for the race test.\n'
        for i in range(40)
    )
    db = tmp_path / "shared.sqlite3"
    x = FakePublisher("x")
    bsky = FakePublisher("bluesky")
    settings = SETTINGS.replace("daily_post_cap: 10", "daily_post_cap: 500")
    services = []
    for n in range(2):
        ledger = Ledger.open(db)
        service, _, _ = make_service(
            tmp_path, ledger, settings=settings, queue=queue, x=x, bluesky=bsky, owner=f"proc{n}"
        )
        services.append(service)
    now = ny(2026, 12, 3, 10, 0)
    barrier = threading.Barrier(2)

    def go(service: Service) -> None:
        barrier.wait()
        service.run_pass(now)

    threads = [threading.Thread(target=go, args=(s,)) for s in services]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for publisher in (x, bsky):
        keys = [p.key for p in publisher.published]
        assert len(keys) == len(set(keys)) == 41
    for service in services:
        service.ledger.close()


def test_monthly_budget_defers_x_and_feed_waits_for_scheduled_posts(tmp_path: Path, ledger: Ledger) -> None:
    settings = SETTINGS.replace("monthly_budget_usd: 30", "monthly_budget_usd: 0.25")
    service, x, bsky = make_service(tmp_path, ledger, settings=settings)
    now = ny(2026, 12, 3, 10, 0)
    # $0.20 already spent this month: the 10:00 post ($0.015) fits, and a story announcement found at 10:00
    # (a URL post, $0.20) must leave room for the 16:00 post that is still to come today.
    ledger.ensure(
        "manual/earlier",
        "x",
        dry_run=False,
        source="manual",
        name="m",
        due_at=ny(2026, 12, 1, 9, 0),
        payload="{}",
        now=ny(2026, 12, 1, 9, 0),
    )
    ledger.mark_sent(
        "manual/earlier", "x", dry_run=False, remote_id="1", url="u", cost=0.20, now=ny(2026, 12, 1, 9, 0)
    )
    from bot.service import post_to_payload

    feed_post = Post(
        "feed/abc",
        "x",
        "New on endseclusion.org: a story https://endseclusion.org/s/",
        60,
        280,
        link="https://endseclusion.org/s/",
    )
    ledger.ensure(
        "feed/abc",
        "x",
        dry_run=False,
        source="feed",
        name="story",
        due_at=now,
        payload=post_to_payload(feed_post),
        now=now,
    )
    report = service.run_pass(now)
    assert [p.key for p in x.published] == ["awareness/idpd/2026/1"]
    waiting = [o for o in report.outcomes if o.key == "feed/abc"]
    assert waiting[0].status == "waiting" and "monthly X budget" in waiting[0].detail
    assert ledger.get("feed/abc", "x", dry_run=False).status == "pending"  # type: ignore[union-attr]
    assert len(bsky.published) == 1


def test_feed_is_not_polled_on_a_blackout_date(tmp_path: Path, ledger: Ledger) -> None:
    settings = SETTINGS.replace("feed:\n  url: null\n", "feed:\n  url: http://127.0.0.1:9/feed/\n")
    service, _, _ = make_service(tmp_path, ledger, settings=settings + "blackout: [2026-12-03]\n")
    calls: list[str] = []
    service.fetch_feed = lambda url, etag, modified: calls.append(url)
    assert service.poll_feed(ny(2026, 12, 3, 12, 0)) == "feed: not polled (blackout date)"
    assert calls == []
