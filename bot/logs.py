"""Logging, configured once by the CLI: one readable line per event, secrets scrubbed from every line."""

from __future__ import annotations

import logging
import sys
from contextlib import suppress
from datetime import UTC, datetime, tzinfo
from urllib.parse import quote

from bot.errors import ConfigError
from bot.models import Settings
from bot.publishers import registry
from bot.settings import database_password, env, log_level, now


def secret_values() -> list[str]:
    """Every secret this process knows, so no log line can carry one, whatever code wrote it."""
    values = [v for v in (env(name) for name in registry.secret_variables()) if v and len(v) >= 4]
    password = database_password()
    if password:
        values.append(password)
        values.append(quote(password, safe=""))
    return values


class RedactSecrets(logging.Filter):
    def __init__(self, secrets: list[str]) -> None:
        super().__init__()
        self.secrets = sorted(set(secrets), key=len, reverse=True)

    def filter(self, record: logging.LogRecord) -> bool:
        if self.secrets:
            message = record.getMessage()
            for secret in self.secrets:
                message = message.replace(secret, "***")
            record.msg, record.args = message, None
        return True


class OrgTime(logging.Formatter):
    """Each line's time in the org's time zone, with its UTC offset, as everything else the bot shows.

    Under ``BOT_NOW`` (a rehearsal) the time is the pretended one, the instant the bot acts as if it were."""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)-7s %(message)s")
        self.timezone: tzinfo = Settings().timezone

    def formatTime(self, record: logging.LogRecord, datefmt: str | None = None) -> str:
        moment = datetime.fromtimestamp(record.created, UTC)
        if env("BOT_NOW"):
            with suppress(ConfigError):  # the command itself says what is wrong with BOT_NOW
                moment = now()
        return moment.astimezone(self.timezone).isoformat(sep=" ", timespec="seconds")


def use_timezone(timezone: tzinfo) -> None:
    """Log times in ``timezone`` from now on (the schedules' settings are read after logging starts)."""
    for handler in logging.getLogger().handlers:
        if isinstance(handler.formatter, OrgTime):
            handler.formatter.timezone = timezone


def setup_logging(*, quiet: bool = False) -> None:
    level_name = log_level()
    level = logging.getLevelName(level_name)
    if not isinstance(level, int):
        level = logging.INFO
    if quiet and level < logging.WARNING:
        level = logging.WARNING
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(OrgTime())
    handler.addFilter(RedactSecrets(secret_values()))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    for noisy in ("httpx", "httpcore", "apscheduler", "urllib3", "requests_oauthlib", "oauthlib"):
        logging.getLogger(noisy).setLevel(max(level, logging.WARNING))
