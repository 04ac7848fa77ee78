"""A stateful property test of "nothing lost" for the feed: random feed changes, polls and kills.

hypothesis drives a ``RuleBasedStateMachine`` against the real pipeline: a real local feed server (ETags, so
unchanged polls are 304s), the real fetcher and parser, the service and its one delivery path, and a real SQLite
ledger that survives "kills" (a process dying mid-send: before or after the network took the post). Networks are
scriptable fakes. Invariant: every story that was in the feed at a poll after the first (seeding) poll is
announced exactly once on each network, however the feed changed (edited, re-dated, removed stories, 304s,
broken responses) and wherever the bot was killed.
"""

from __future__ import annotations

import random
import re
import tempfile
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from bot.feed import fetch_feed, make_client
from bot.models import Post, Receipt
from bot.service import Service
from bot.store import Ledger
from tests.feed_fixtures import FeedServer
from tests.service_fixtures import SETTINGS, load_tree, write_tree

POLL = timedelta(minutes=30)
LEASE = timedelta(minutes=1)
START = datetime(2026, 12, 3, 15, 0, tzinfo=UTC)
STORY_PATH = re.compile(r"/s/(\d+)/")


class Killed(BaseException):
    """The process died here (not an error the bot could catch)."""


@dataclass
class Network:
    """A network that can die with the bot: ``kill`` = 'before' or 'after' the post is taken, for the next post."""

    network: str
    dry_run: bool = False
    posts: dict[str, Receipt] = field(default_factory=dict)
    stories: Counter[int] = field(default_factory=Counter)
    kill: str | None = None

    @property
    def limit(self) -> int:
        return 300

    def measure(self, text: str) -> int:
        return len(text)

    def publish(self, post: Post) -> Receipt:
        if self.kill == "before":
            self.kill = None
            raise Killed
        found = STORY_PATH.search(post.text)
        assert found, post.text
        self.stories[int(found.group(1))] += 1
        receipt = Receipt(
            self.network, f"{self.network}-{len(self.posts)}", f"https://n.example/{len(self.posts)}"
        )
        self.posts[post.key] = receipt
        if self.kill == "after":
            self.kill = None
            raise Killed
        return receipt

    def recover(self, post: Post, *, since: datetime) -> Receipt | None:
        return self.posts.get(post.key)

    def check(self) -> str:
        return "fake"


def rss(stories: dict[int, dict[str, Any]]) -> bytes:
    entries = "".join(
        f"<item><title>{s['title']}</title><link>https://endseclusion.org/s/{n}/{s['query']}</link>"
        f'<guid isPermaLink="false">{s["guid"]}</guid>'
        f"<pubDate>{s['published']:%a, %d %b %Y %H:%M:%S +0000}</pubDate></item>"
        for n, s in sorted(stories.items(), key=lambda pair: pair[1]["published"], reverse=True)
    )
    return (
        '<?xml version="1.0"?><rss version="2.0"><channel><title>AASR</title>'
        f"<link>https://endseclusion.org/</link><description>d</description>{entries}</channel></rss>"
    ).encode()


class FeedMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.folder = tempfile.TemporaryDirectory(prefix="aasr-feed-machine-")
        root = Path(self.folder.name)
        self.server = FeedServer().start()
        feed = f"feed:\n  url: {self.server.url}\n  max_per_poll: 2\n  allow_private_address: true\n"
        tree = SETTINGS.replace("feed:\n  url: null\n", feed).replace(
            "daily_post_cap: 10", "daily_post_cap: 1000"
        )
        self.schedules = load_tree(write_tree(root, settings=tree))
        self.db = root / "ledger.sqlite3"
        self.client = make_client(allow_private=True)
        self.networks = {"x": Network("x"), "bluesky": Network("bluesky")}
        self.now = START
        self.stories: dict[int, dict[str, Any]] = {}
        self.next_id = 0
        self.version = 0
        self.broken = False
        self.seeded = False
        self.seed: set[int] = set()
        self.expected: set[int] = set()
        self.processes = 0
        self._start_process()
        self._serve()

    # -- the world -----------------------------------------------------------------------------------------------

    def _start_process(self) -> None:
        """A fresh bot process on the same ledger file (after a kill, or at the start)."""
        self.processes += 1
        self.ledger = Ledger.open(self.db)

        def fetch(url: str, etag: str | None, modified: str | None) -> Any:
            return fetch_feed(url, self.client, etag=etag, last_modified=modified)

        self.service = Service(
            self.schedules,
            self.ledger,
            self.networks,
            owner=f"process-{self.processes}",
            fetch_feed=fetch,
            lease=LEASE,
            rng=random.Random(self.processes),
        )

    def _serve(self) -> None:
        self.version += 1
        if self.broken:
            self.server.set_feed(b"<html>Maintenance</html>", headers={"Content-Type": "text/html"})
        else:
            self.server.set_feed(rss(self.stories), headers={"ETag": f'"v{self.version}"'})

    def teardown(self) -> None:
        self.ledger.close()
        self.client.close()
        self.server.close()
        self.folder.cleanup()

    # -- feed changes --------------------------------------------------------------------------------------------

    @rule()
    def publish_story(self) -> None:
        n = self.next_id
        self.next_id += 1
        self.stories[n] = {
            "title": f"Story {n}",
            "guid": f"post-{n}",
            "query": "",
            "published": START - timedelta(days=30) + timedelta(hours=n),
        }
        self._serve()

    @precondition(lambda self: self.stories)
    @rule(data=st.data())
    def edit_story(self, data: st.DataObject) -> None:
        n = data.draw(st.sampled_from(sorted(self.stories)))
        self.stories[n]["title"] += " (updated)"
        self._serve()

    @precondition(lambda self: self.stories)
    @rule(data=st.data())
    def redate_story(self, data: st.DataObject) -> None:
        """Republished: a new guid and date, a tracking parameter on the link; still the same story."""
        n = data.draw(st.sampled_from(sorted(self.stories)))
        story = self.stories[n]
        story["guid"] += "-again"
        story["query"] = "?utm_source=rss"
        story["published"] += timedelta(days=1)
        self._serve()

    @precondition(lambda self: self.stories)
    @rule(data=st.data())
    def remove_story(self, data: st.DataObject) -> None:
        del self.stories[data.draw(st.sampled_from(sorted(self.stories)))]
        self._serve()

    @rule(broken=st.booleans())
    def break_or_mend_the_feed(self, broken: bool) -> None:
        self.broken = broken
        self._serve()

    # -- the bot -------------------------------------------------------------------------------------------------

    @rule(kill=st.sampled_from([None, None, "x-before", "x-after", "bluesky-before", "bluesky-after"]))
    def tick(self, kill: str | None) -> None:
        if kill:
            network, moment = kill.split("-")
            self.networks[network].kill = moment
        self.now += POLL
        requests = len(self.server.requests)
        present = set(self.stories)
        try:
            self.service.run_pass(self.now)
        except Killed:
            self.ledger.close()  # the process is gone; its rows stay as they were
            self.now += LEASE + timedelta(seconds=1)
            self._start_process()
        for network in self.networks.values():
            network.kill = None  # a kill armed for a network with nothing to send never happened
        if len(self.server.requests) > requests and not self.broken:
            # The bot read the feed (200 or 304; a 304 means what it read last): these stories are its to tell.
            if self.seeded:
                self.expected |= present - self.seed
            else:  # the first poll records what is there as seen, without announcing it
                self.seed, self.seeded = present, True

    @invariant()
    def never_twice(self) -> None:
        for network in self.networks.values():
            assert all(count == 1 for count in network.stories.values()), (network.network, network.stories)

    def check_all_announced(self) -> None:
        """After the changes stop: a few more polls and every story seen is out, once, on both networks."""
        for network in self.networks.values():
            network.kill = None
        for _ in range(2 + len(self.expected)):
            self.now += POLL
            self.service.run_pass(self.now)
        for network in self.networks.values():
            assert set(network.stories) >= self.expected, (
                network.network,
                self.expected - set(network.stories),
            )
            assert all(count == 1 for count in network.stories.values()), (network.network, network.stories)


class FeedMachineToTheEnd(FeedMachine):
    def teardown(self) -> None:
        try:
            self.check_all_announced()
        finally:
            super().teardown()


FeedMachineToTheEnd.TestCase.settings = settings(
    max_examples=25,
    stateful_step_count=25,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
test_every_story_seen_is_announced_exactly_once_per_network = FeedMachineToTheEnd.TestCase
