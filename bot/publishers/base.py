"""The one interface every network adapter implements."""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime
from typing import Any, Protocol, runtime_checkable

from bot.models import Post, Receipt


@runtime_checkable
class Publisher(Protocol):
    """A network the bot can post to.

    Adapters are thin: they turn a composed ``Post`` into that network's API calls and the answer into a
    ``Receipt``, and map every failure into a ``bot.errors.PublishError`` subclass (retryable or not).
    """

    network: str
    """Short name used in settings, the ledger and messages: ``x`` or ``bluesky``."""
    limit: int
    """The longest text the network accepts, in its own unit (see ``measure``)."""
    dry_run: bool
    """True when nothing is really sent."""

    def measure(self, text: str) -> int:
        """Length of ``text`` the way this network counts it."""
        ...

    def publish(self, post: Post) -> Receipt:
        """Send the post; raise a ``PublishError`` subclass on failure."""
        ...

    def recover(self, post: Post, *, since: datetime) -> Receipt | None:
        """Find this post if an earlier attempt (cut short by a crash or a lost answer) created it, else None.

        ``since``: when that attempt began (look no further back). Called only when an earlier attempt may
        have got through (a row taken over from a crashed sender, a duplicate refusal after a retry). Raise a
        ``PublishError`` when the look-up itself fails: only then is a duplicate refusal taken as the receipt.
        """
        ...

    def check(self) -> str:
        """Verify the credentials; return who we post as. Raise ``AuthError`` if posting will not work."""
        ...


@runtime_checkable
class ReportsServerOptions(Protocol):
    """A publisher whose server states its own limits (a Mastodon instance): they are asked at start-up and by
    ``check``, kept in the ledger, and laid over the network's settings (``NetworkSpec.text`` reads them)."""

    def server_options(self) -> Mapping[str, int | float | bool | str]: ...


class SessionStore(Protocol):
    """Where an adapter keeps a login session across restarts (the ledger implements it)."""

    def load_session(self, name: str) -> str | None: ...

    def save_session(self, name: str, value: str) -> None: ...


def stored_account(sessions: SessionStore | None, name: str, account: str) -> dict[str, Any] | None:
    """The account record (``{"account", "id", ...}``) an adapter kept under ``name``, if it is still this
    account's and has an id; None when there is none, it is unreadable, or it belongs to other credentials."""
    stored = sessions.load_session(name) if sessions is not None else None
    if not stored:
        return None
    try:
        saved = json.loads(stored)
    except ValueError:
        return None
    if isinstance(saved, dict) and saved.get("account") == account and saved.get("id"):
        return saved
    return None
