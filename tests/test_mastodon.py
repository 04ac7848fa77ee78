"""The Mastodon adapter against mastodon-mock on 127.0.0.1 (every request and answer checked against Mastodon's
OpenAPI spec), a small stand-in for the image-processing wait, and the real CLI end to end."""

from __future__ import annotations

import io
import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from PIL import Image as PILImage

from bot.errors import AuthError, RateLimitError, RejectedError, TransientError
from bot.models import Image, Post, Receipt
from bot.publishers import registry
from bot.publishers.base import Publisher, ReportsServerOptions
from bot.publishers.mastodon import SPEC, MastodonPublisher, idempotency_key, mastodon_length, plain_text
from tests.e2e_helpers import bot, clean_env, crash_ticks_then_finish, on_bot_clock
from tests.mastodon_fixtures import CheckedSession, ProcessingStandIn, fault, mastodon_server, spec_or_skip
from tests.service_fixtures import SETTINGS, queue_of, write_tree

__all__ = ["mastodon_server"]  # the fixture, used by name

NY = ZoneInfo("America/New_York")
DUE = datetime(2026, 12, 3, 15, 0, tzinfo=UTC)
MakePublisher = Callable[..., MastodonPublisher]


def png(path: Path, size: tuple[int, int] = (40, 30)) -> Path:
    buffer = io.BytesIO()
    PILImage.new("RGB", size, (20, 80, 160)).save(buffer, "PNG")
    path.write_bytes(buffer.getvalue())
    return path


def post(text: str, key: str = "queue/m", **kw: Any) -> Post:
    return Post(key=key, network="mastodon", text=text, length=len(text), limit=500, due_at=DUE, **kw)


@pytest.fixture
def session() -> CheckedSession:
    return CheckedSession(spec_or_skip())


@pytest.fixture
def make(mastodon_server: Any, session: CheckedSession) -> MakePublisher:
    token = mastodon_server.client("alice").access_token

    def make_publisher(**kw: Any) -> MastodonPublisher:
        kw.setdefault("session", session)
        return MastodonPublisher(mastodon_server.base_url, kw.pop("token", token), **kw)

    return make_publisher


def reader(server: Any) -> Any:
    """A separate Mastodon.py client reading back what the adapter did (as a follower's app would)."""
    return server.client("alice")


def test_is_a_publisher_that_reports_its_instance(make: MakePublisher) -> None:
    publisher = make()
    assert isinstance(publisher, Publisher)
    assert isinstance(publisher, ReportsServerOptions)
    assert registry.get("mastodon") is SPEC


def test_publish_reads_back_text_warning_language_and_alt_text(
    make: MakePublisher, mastodon_server: Any, session: CheckedSession, tmp_path: Path
) -> None:
    image = Image(png(tmp_path / "chart.png"), "A bar chart: restraint reports rose from 12 to 30.")
    receipt = make().publish(
        post(
            "A child was restrained for hours. https://endseclusion.org/stories/one/ #EndRestraint",
            content_warning="restraint of a child",
            langs=("en",),
            images=(image,),
        )
    )
    status = reader(mastodon_server).status(receipt.remote_id)
    assert plain_text(status.content).startswith("A child was restrained for hours.")
    assert status.spoiler_text == "restraint of a child"
    assert status.language == "en"
    assert [m.description for m in status.media_attachments] == [image.alt]
    assert receipt.url == status.url
    assert session.problems == []
    assert ("POST", "/api/v2/media", 200) in session.exchanges
    assert ("POST", "/api/v1/statuses", 200) in session.exchanges


def test_the_same_item_twice_is_one_status(make: MakePublisher, mastodon_server: Any) -> None:
    first = make().publish(post("Only once, please."))
    again = make().publish(post("Only once, please."))
    other = make().publish(post("Only once, please.", key="queue/other"))
    assert again.remote_id == first.remote_id
    assert other.remote_id != first.remote_id
    me = reader(mastodon_server).account_verify_credentials()
    texts = [plain_text(s.content) for s in reader(mastodon_server).account_statuses(me.id)]
    assert texts.count("Only once, please.") == 2
    assert idempotency_key(post("x")) == idempotency_key(post("y"))  # the key is the item, not the text
    assert idempotency_key(post("x")) != idempotency_key(post("x", key="queue/n"))


class Sessions:
    """The ledger's session store, as a dict."""

    def __init__(self) -> None:
        self.values: dict[str, str] = {}

    def load_session(self, name: str) -> str | None:
        return self.values.get(name)

    def save_session(self, name: str, value: str) -> None:
        self.values[name] = value


def test_recover_finds_a_post_that_got_through_and_nothing_else(
    make: MakePublisher, session: CheckedSession
) -> None:
    since = datetime.now(UTC)
    text = "Sent before the crash.\n\nhttps://endseclusion.org/ #EndSeclusion"
    sent = make().publish(post(text))
    sessions = Sessions()
    found = make(sessions=sessions).recover(post(text), since=since)
    assert found is not None and found.remote_id == sent.remote_id and found.url == sent.url
    assert make().recover(post("Never sent."), since=since) is None
    assert make().recover(post(text, content_warning="other"), since=since) is None
    # Only since the crashed attempt began: an identical post from long ago is not this one.
    assert make().recover(post(text), since=since + timedelta(hours=1)) is None
    # The account id is asked once, then kept in the ledger.
    assert "mastodon:account" in sessions.values
    before = len(session.exchanges)
    assert make(sessions=sessions).recover(post(text), since=since) is not None
    account = json.loads(sessions.values["mastodon:account"])["id"]
    assert [path for _, path, _ in session.exchanges[before:]] == [f"/api/v1/accounts/{account}/statuses"]
    assert session.problems == []


def test_a_failed_look_up_raises_instead_of_guessing(make: MakePublisher, mastodon_server: Any) -> None:
    publisher = make()
    publisher.check()
    fault(mastodon_server, type="status", status=503, path_regex=r"^/api/v1/accounts/.*/statuses$")
    with pytest.raises(TransientError):
        publisher.recover(post("Anything."), since=datetime.now(UTC))


def test_instance_limits_and_mastodon_s_way_of_counting(make: MakePublisher, session: CheckedSession) -> None:
    publisher = make()
    found = publisher.server_options()
    assert found["instance_max_characters"] == 500
    assert found["instance_characters_reserved_per_url"] == 23
    assert found["instance_max_media_attachments"] == 4
    rules = registry.text_rules(
        "mastodon", {"mastodon": {**SPEC.defaults(), "instance_max_characters": 1000}}
    )
    assert rules.limit == 1000 and rules.spoilers
    assert registry.text_rules("mastodon").limit == 500
    assert mastodon_length("Read https://endseclusion.org/a/very/long/path/to/a/story/") == 5 + 23
    assert mastodon_length("Thanks @alice@mastodon.social!") == len("Thanks @alice!")
    assert mastodon_length("endseclusion.org") == len("endseclusion.org")  # no scheme: plain text
    assert mastodon_length("\U0001f468\u200d\U0001f469\u200d\U0001f467") == 1
    assert rules.count("a" * 990, "ten chars!") == 1000
    assert session.problems == []


def test_check_says_whether_the_account_is_marked_as_a_bot(make: MakePublisher, mastodon_server: Any) -> None:
    assert "NOT marked as a bot account" in make().check()
    assert "'This is an automated account'" in make().check()
    reader(mastodon_server).account_update_credentials(bot=True)
    assert make().check().endswith("(marked as a bot account)")
    assert make().check().startswith("@alice on ")


def test_too_long_is_refused_not_retried(make: MakePublisher) -> None:
    with pytest.raises(RejectedError) as caught:
        make().publish(post("a" * 501))
    assert not caught.value.retryable
    assert "422" in str(caught.value)


def test_bad_token_is_an_auth_error_without_the_token(make: MakePublisher) -> None:
    with pytest.raises(AuthError) as caught:
        make(token="not-a-real-token-123").check()
    assert "not-a-real-token-123" not in str(caught.value)
    assert "MASTODON_ACCESS_TOKEN" in (caught.value.hint or "")


def test_rate_limit_says_when_it_resets(make: MakePublisher, mastodon_server: Any) -> None:
    fault(mastodon_server, type="ratelimit", path="/api/v1/statuses")
    with pytest.raises(RateLimitError) as caught:
        make().publish(post("Rate limited."))
    assert caught.value.retryable
    assert caught.value.reset_at is not None
    assert caught.value.reset_at > datetime.now(UTC) + timedelta(minutes=4)


@pytest.mark.parametrize("status", [500, 502, 503])
def test_server_errors_are_retryable(make: MakePublisher, mastodon_server: Any, status: int) -> None:
    fault(mastodon_server, type="status", status=status, path="/api/v1/statuses")
    with pytest.raises(TransientError) as caught:
        make().publish(post("Server trouble."))
    assert caught.value.retryable


def test_a_slow_instance_is_a_transient_timeout(make: MakePublisher, mastodon_server: Any) -> None:
    fault(mastodon_server, type="latency", delay_ms=2000, path="/api/v1/statuses")
    with pytest.raises(TransientError):
        make(timeout=0.3).publish(post("Slow."))


def test_a_refused_connection_is_transient() -> None:
    publisher = MastodonPublisher("http://127.0.0.1:9", "token-abc", timeout=2)
    with pytest.raises(TransientError) as caught:
        publisher.publish(post("Nobody there."))
    assert "token-abc" not in str(caught.value)


def test_images_over_the_instance_limits_are_refused_before_upload(
    make: MakePublisher, tmp_path: Path, session: CheckedSession
) -> None:
    image = png(tmp_path / "a.png")
    with pytest.raises(RejectedError, match="allows 4 per post"):
        make().publish(post("Five.", images=tuple(Image(image, "A square.") for _ in range(5))))
    with pytest.raises(RejectedError, match="1500"):
        make().publish(post("Long alt.", images=(Image(image, "a" * 1501),)))
    assert session.exchanges == []


def test_an_image_still_processing_is_waited_for_then_posted(tmp_path: Path) -> None:
    spec = spec_or_skip()
    slept: list[float] = []
    with ProcessingStandIn(spec, ready_after=2) as stand_in:
        publisher = MastodonPublisher(
            stand_in.base_url, "token", poll_interval=0.5, sleep=slept.append, clock=lambda: 0.0
        )
        receipt = publisher.publish(
            post("With a chart.", images=(Image(png(tmp_path / "c.png"), "A chart."),))
        )
    assert receipt.remote_id == "100"
    assert stand_in.polls == 3
    assert slept == [0.5, 0.5, 0.5]
    assert "media_ids%5B%5D=1" in stand_in.statuses[0]["form"]
    assert stand_in.problems == []


def test_an_image_that_never_finishes_processing_is_a_bounded_wait(tmp_path: Path) -> None:
    spec = spec_or_skip()
    now = [0.0]

    def sleep(seconds: float) -> None:
        now[0] += seconds

    with ProcessingStandIn(spec, ready_after=10_000) as stand_in:
        publisher = MastodonPublisher(
            stand_in.base_url, "token", media_wait=5.0, poll_interval=1.0, sleep=sleep, clock=lambda: now[0]
        )
        with pytest.raises(TransientError, match="still processing"):
            publisher.publish(post("Never ready.", images=(Image(png(tmp_path / "c.png"), "A chart."),)))
    assert stand_in.polls == 5
    assert stand_in.statuses == []


# ------------------------------------------------------------------ the real CLI


def mastodon_env(server: Any) -> dict[str, str]:
    return {
        "MASTODON_API_BASE_URL": server.base_url,
        "MASTODON_ACCESS_TOKEN": server.client("alice").access_token,
    }


def own_texts(server: Any) -> list[str]:
    client = reader(server)
    me = client.account_verify_credentials()
    return [plain_text(s.content) for s in client.account_statuses(me.id, limit=40)]


def test_tick_posts_to_mastodon_and_check_reports_the_account(tmp_path: Path, mastodon_server: Any) -> None:
    settings = SETTINGS.replace("networks: [x, bluesky]", "networks: [mastodon]")
    settings += "mastodon:\n  visibility: unlisted\n"
    queue = queue_of(["m-1"], "Post {i} for the fediverse.").replace(
        "    text:", "    content_warning: seclusion\n    text:"
    )
    write_tree(tmp_path, queue=queue, settings=settings)
    env = clean_env(
        tmp_path, now=datetime(2026, 12, 3, 10, 1, tzinfo=NY), extra=mastodon_env(mastodon_server)
    )
    first = bot(["tick"], env, cwd=tmp_path)
    assert first.returncode == 0, first.stderr
    statuses = reader(mastodon_server).account_statuses(
        reader(mastodon_server).account_verify_credentials().id
    )
    assert [(plain_text(s.content), s.spoiler_text, s.visibility) for s in statuses] == [
        ("Post 0 for the fediverse.", "seclusion", "unlisted")
    ]
    assert bot(["tick"], env, cwd=tmp_path).returncode == 0
    assert own_texts(mastodon_server) == ["Post 0 for the fediverse."]
    check = bot(["check"], env, cwd=tmp_path)
    assert "mastodon: OK: posting will work as @alice on " in check.stdout
    assert "NOT marked as a bot account" in check.stdout
    status = bot(["status", "--json"], env, cwd=tmp_path)
    assert '"mastodon"' in status.stdout
    token = mastodon_env(mastodon_server)["MASTODON_ACCESS_TOKEN"]
    assert token not in first.stdout + first.stderr + check.stdout + check.stderr + status.stdout


def test_without_credentials_mastodon_runs_dry(tmp_path: Path) -> None:
    settings = SETTINGS.replace("networks: [x, bluesky]", "networks: [mastodon]")
    write_tree(tmp_path, queue=queue_of(["d-1"], "Dry {i}."), settings=settings)
    env = clean_env(tmp_path, now=datetime(2026, 12, 3, 10, 1, tzinfo=NY))
    result = bot(["check"], env, cwd=tmp_path)
    assert (
        "mastodon: not configured: no Mastodon credentials (set MASTODON_API_BASE_URL and " in result.stdout
    )
    half = bot(["check"], {**env, "MASTODON_API_BASE_URL": "http://127.0.0.1:9"}, cwd=tmp_path)
    assert "Mastodon credentials incomplete, missing MASTODON_ACCESS_TOKEN" in half.stdout


def test_kill_9_at_random_points_on_all_three_networks(
    tmp_path: Path, mastodon_server: Any, request: pytest.FixtureRequest
) -> None:
    x_server = request.getfixturevalue("x_server")
    x_creds = request.getfixturevalue("x_creds")
    local_pds = request.getfixturevalue("local_pds")
    from tests.test_e2e_bluesky import bluesky_env, posts_with
    from tests.xserver import Fault

    marker = "crash-three"
    total = 12
    queue = queue_of([f"{marker}-{i}" for i in range(total)], f"Post {{i}} of {total} in the {marker} test.")
    settings = SETTINGS.replace("networks: [x, bluesky]", "networks: [x, bluesky, mastodon]")
    write_tree(tmp_path, queue=queue, settings=settings.replace("daily_post_cap: 10", "daily_post_cap: 100"))
    for _ in range(300):
        x_server.inject(Fault.slow(0.02), path="/2/tweets")
    extra = {"BOT_LEASE_SECONDS": "60", **bluesky_env(local_pds), **mastodon_env(mastodon_server)}
    kills, rounds, final = crash_ticks_then_finish(
        tmp_path,
        on_bot_clock(x_server, lambda now: clean_env(tmp_path, now=now, x=x_creds, extra=extra)),
        lambda: len(x_server.requests),
        start=datetime(2026, 12, 3, 10, 0, 30, tzinfo=NY),
        seed=3122027,
    )
    assert final.returncode == 0, final.stderr
    expected = sorted(f"Post {i} of {total} in the {marker} test." for i in range(total))
    on_mastodon = sorted(t for t in own_texts(mastodon_server) if marker in t)
    on_bluesky = sorted(str(r["value"]["text"]) for r in posts_with(local_pds, marker))  # type: ignore[index]
    on_x = sorted(t["text"] for t in x_server.tweets.values() if marker in t["text"])
    assert on_mastodon == expected, "Mastodon: lost or duplicated posts"
    assert on_bluesky == expected, "Bluesky: lost or duplicated posts"
    assert on_x == expected, "X: lost or duplicated posts"
    assert kills >= 5, f"only {kills} kills in {rounds} runs"


def test_receipts_are_plain_data(make: MakePublisher) -> None:
    receipt = make().publish(post("A receipt."))
    assert isinstance(receipt, Receipt) and receipt.network == "mastodon" and receipt.cost == 0.0
