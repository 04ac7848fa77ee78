"""The one delivery path (bot/deliver.py): claim, recovery after a crash, honest duplicates, two senders at once.

Networks are scriptable fakes (tests/service_fixtures.py); the ledger is a real SQLite file.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.compose import compose
from bot.deliver import TAKEN, Deliverer
from bot.errors import DuplicateError, TransientError
from bot.models import Draft, Post, Receipt
from bot.publishers import registry
from bot.store import Ledger
from tests.service_fixtures import FakePublisher

T0 = datetime(2026, 12, 3, 15, 0, tzinfo=UTC)
KEY = "queue/hello"
DUPLICATE = "X refused this text as a duplicate of a recent post: vary the text, then `retry`"


@pytest.fixture
def ledger(tmp_path: Path) -> Iterator[Ledger]:
    with Ledger.open(tmp_path / "ledger.sqlite3") as opened:
        yield opened


def deliverer(ledger: Ledger, owner: str = "me") -> Deliverer:
    return Deliverer(ledger, owner=owner, rules=registry.text_rules, lease=timedelta(minutes=10))


def post(network: str = "x", text: str = "Children deserve safe schools.") -> Post:
    draft = Draft(key=KEY, source="queue", name="hello", file="queue/a.yaml", text=text)
    return compose(draft, network, due_at=T0, rules=registry.text_rules(network))


def ensured(ledger: Ledger, network: str = "x") -> Deliverer:
    d = deliverer(ledger)
    assert d.ensure(post(network), dry_run=False, source="queue", name="hello", due_at=T0, now=T0)
    assert not d.ensure(post(network), dry_run=False, source="queue", name="hello", due_at=T0, now=T0)
    return d


def crashed_claim(ledger: Ledger, network: str = "x") -> None:
    """Another process claimed the row and was killed before it recorded anything."""
    assert ledger.claim(KEY, network, dry_run=False, owner="dead", now=T0) is not None


def duplicate(post: Post, n: int) -> DuplicateError:
    return DuplicateError("create post: HTTP 403 duplicate content", network="x", status=403)


def test_first_attempt_duplicate_is_failed_with_the_reason(ledger: Ledger) -> None:
    x = FakePublisher("x", fail=duplicate)
    outcome = ensured(ledger).send(x, KEY, T0)
    assert (outcome.status, outcome.detail) == ("failed", DUPLICATE)
    row = ledger.get(KEY, "x", dry_run=False)
    assert row is not None and (row.status, row.last_error, row.url) == ("failed", DUPLICATE, None)
    assert x.recovers == 0


def test_recovering_row_found_on_the_network_is_sent_with_its_url_and_not_posted_again(
    ledger: Ledger,
) -> None:
    x = FakePublisher("x")
    x.existing[KEY] = Receipt("x", "1860000000000000001", "https://x.com/a/status/1860000000000000001")
    d = ensured(ledger)
    crashed_claim(ledger)
    outcome = d.send(x, KEY, T0 + timedelta(minutes=11))
    assert (outcome.status, outcome.url) == ("sent", "https://x.com/a/status/1860000000000000001")
    assert x.published == [] and x.recovers == 1
    row = ledger.get(KEY, "x", dry_run=False)
    assert row is not None and row.remote_id == "1860000000000000001"


def test_recovering_row_not_found_is_sent_once(ledger: Ledger) -> None:
    x = FakePublisher("x")
    d = ensured(ledger)
    crashed_claim(ledger)
    assert d.send(x, KEY, T0 + timedelta(minutes=11)).status == "sent"
    assert len(x.published) == 1 and x.recovers == 1


def test_recovering_row_whose_look_up_fails_takes_a_duplicate_refusal_as_confirmation(ledger: Ledger) -> None:
    x = FakePublisher("x", fail=duplicate, recover_fails=True)
    d = ensured(ledger)
    crashed_claim(ledger)
    outcome = d.send(x, KEY, T0 + timedelta(minutes=11))
    assert (outcome.status, outcome.detail) == ("sent", "already posted (duplicate refused)")
    row = ledger.get(KEY, "x", dry_run=False)
    assert row is not None and (row.status, row.remote_id) == ("sent", "duplicate")


def test_recovering_row_looked_up_and_absent_then_refused_is_failed(ledger: Ledger) -> None:
    """The look-up worked and found nothing: the duplicate is some other recent post, not ours."""
    x = FakePublisher("x", fail=duplicate)
    d = ensured(ledger)
    crashed_claim(ledger)
    outcome = d.send(x, KEY, T0 + timedelta(minutes=11))
    assert (outcome.status, outcome.detail) == ("failed", DUPLICATE)


def test_duplicate_after_a_lost_answer_is_looked_up(ledger: Ledger) -> None:
    """The first try timed out after X had created the post; the quick retry is refused as a duplicate."""

    def lost_then_duplicate(p: Post, n: int) -> TransientError | DuplicateError | None:
        if n == 1:
            x.existing[p.key] = Receipt(
                "x", "1860000000000000007", "https://x.com/a/status/1860000000000000007"
            )
            return TransientError("create post: X did not answer within 20 s", network="x")
        return duplicate(p, n)

    x = FakePublisher("x", fail=lost_then_duplicate)
    outcome = ensured(ledger).send(x, KEY, T0)
    assert (outcome.status, outcome.url) == ("sent", "https://x.com/a/status/1860000000000000007")
    assert x.recovers == 1


def test_two_senders_of_one_row_post_once_and_the_loser_says_it_is_taken(
    ledger: Ledger, tmp_path: Path
) -> None:
    inside = threading.Event()
    release = threading.Event()

    def hold(p: Post, n: int) -> None:
        inside.set()
        release.wait(30)
        return None

    x = FakePublisher("x", fail=hold)
    ensured(ledger)
    with Ledger.open(tmp_path / "ledger.sqlite3") as other_process:
        first = deliverer(ledger, "daemon")
        second = deliverer(other_process, "retry")
        results = []
        worker = threading.Thread(target=lambda: results.append(first.send(x, KEY, T0)))
        worker.start()
        assert inside.wait(30)
        loser = second.send(x, KEY, T0)
        release.set()
        worker.join(30)
    assert (loser.status, loser.detail) == ("waiting", TAKEN)
    assert [r.status for r in results] == ["sent"] and len(x.published) == 1


def test_one_off_post_failures_wait_for_a_maintainer(ledger: Ledger) -> None:
    x = FakePublisher("x", fail=lambda p, n: TransientError("HTTP 503", network="x", status=503))
    outcome = ensured(ledger).send(x, KEY, T0, retry_later=False)
    assert outcome.status == "failed" and isinstance(outcome.error, TransientError)
    row = ledger.get(KEY, "x", dry_run=False)
    assert row is not None and row.status == "failed" and row.next_attempt_at is None
