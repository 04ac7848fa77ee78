"""The bot's own error classes.

Every module raises one of these, never a library's exception, so the CLI can print any failure on one line and
the service can decide whether to retry without knowing which SDK was underneath::

    BotError
     +-- ConfigError        a schedule/settings file or environment variable is wrong (file:line:col + hint)
     +-- FeedError          the site feed could not be fetched or parsed (retried next poll)
     +-- StoreError         the delivery ledger could not be read or written
     +-- PublishError       a network refused or failed a post; .network, .retryable, .reset_at
          +-- AuthError           credentials missing or refused (not retryable)
          +-- DuplicateError      the network already has this exact post (not retryable; confirms a send)
          +-- RateLimitError      too many requests; .reset_at says when to try again (retryable)
          +-- PaymentError        the account has no credits left (X 402; not retryable until topped up)
          +-- TransientError      5xx, timeout, connection reset (retryable)
          +-- RejectedError       any other refusal: bad request, too long, forbidden (not retryable)
"""

from __future__ import annotations

from datetime import datetime


class BotError(Exception):
    """Base of every error the bot raises on purpose. ``str(err)`` is a complete one-line message."""

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return f"{self.message} (hint: {self.hint})" if self.hint else self.message


class ConfigError(BotError):
    """A schedule, settings or content file (or an environment variable) is wrong."""

    def __init__(
        self,
        message: str,
        *,
        file: str | None = None,
        line: int | None = None,
        column: int | None = None,
        hint: str | None = None,
    ) -> None:
        super().__init__(message, hint=hint)
        self.file = file
        self.line = line
        self.column = column

    def __str__(self) -> str:
        where = ""
        if self.file:
            where = self.file
            if self.line is not None:
                where += f":{self.line}:{self.column or 1}"
            where += ": "
        return where + super().__str__()


class FeedError(BotError):
    """The site feed could not be fetched or parsed.

    The message is for a volunteer ("can't reach endseclusion.org: ..."); ``detail`` keeps what a programmer
    needs (the exception and its text), for DEBUG logs."""

    def __init__(self, message: str, *, hint: str | None = None, detail: str | None = None) -> None:
        super().__init__(message, hint=hint)
        self.detail = detail


class StoreError(BotError):
    """The delivery ledger could not be read or written."""


class PublishError(BotError):
    """A network refused or failed a post."""

    retryable = False

    def __init__(
        self,
        message: str,
        *,
        network: str,
        hint: str | None = None,
        reset_at: datetime | None = None,
        status: int | None = None,
    ) -> None:
        super().__init__(message, hint=hint)
        self.network = network
        self.reset_at = reset_at
        self.status = status

    def __str__(self) -> str:
        text = f"{self.network}: {super().__str__()}"
        if self.reset_at is not None:
            text += f" (limit resets at {self.reset_at.isoformat(timespec='seconds')})"
        return text


class AuthError(PublishError):
    """Credentials are missing, wrong or revoked."""


class DuplicateError(PublishError):
    """The network already holds this exact post; for the ledger this confirms an earlier send."""


class RateLimitError(PublishError):
    """Too many requests; try again after ``reset_at``."""

    retryable = True


class PaymentError(PublishError):
    """The account has no credits left (X answers 402)."""


class TransientError(PublishError):
    """A server error, a timeout or a dropped connection: worth retrying."""

    retryable = True


class RejectedError(PublishError):
    """Any other refusal of the post itself: retrying the same request will not help."""
