import time
from datetime import UTC, datetime
from tests.pds_fixtures import local_pds  # noqa: F401
from bot.models import BlueskyCredentials, Post
from bot.publishers.bluesky import BlueskyPublisher

class D(dict):
    def load_session(self, n): return self.get(n)
    def save_session(self, n, v): self[n] = v

def test_smoke(local_pds):
    s = D()
    p = BlueskyPublisher(BlueskyCredentials(local_pds.handle, local_pds.password, local_pds.url), s)
    print(p.check())
    t = time.time()
    r = p.publish(Post(key="k/1", network="bluesky", text="Ünï 🧒🏽 https://endseclusion.org/x #EndSeclusion @aasr-bot.test @nobody.test", length=0, limit=300, langs=("en",), labels=("graphic-media",), due_at=datetime(2026,5,1,14,0,tzinfo=UTC)))
    print(time.time()-t, r)
    print(local_pds.get_record(r.remote_id))
    print(p.publish(Post(key="k/1", network="bluesky", text="x", length=0, limit=300, due_at=datetime(2026,5,1,14,0,tzinfo=UTC))))
    print(local_pds.counts())
