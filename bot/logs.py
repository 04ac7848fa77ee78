"""Logging, configured once by the CLI: one readable line per event, secrets scrubbed from every line."""

from __future__ import annotations

import logging
import sys
from urllib.parse import urlsplit

from bot.publishers import registry
from bot.settings import env, log_level


def secret_values() -> list[str]:
    """Every secret this process knows, so no log line can carry one, whatever code wrote it."""
    values = [v for v in (env(name) for name in registry.secret_variables()) if v and len(v) >= 4]
    url = env("DATABASE_URL")
    if url:
        password = urlsplit(url).password
        if password:
            values.append(password)
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


def setup_logging(*, quiet: bool = False) -> None:
    level_name = log_level()
    level = logging.getLevelName(level_name)
    if not isinstance(level, int):
        level = logging.INFO
    if quiet and level < logging.WARNING:
        level = logging.WARNING
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)-7s %(message)s", "%Y-%m-%d %H:%M:%S"))
    handler.addFilter(RedactSecrets(secret_values()))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    for noisy in ("httpx", "httpcore", "apscheduler", "urllib3", "requests_oauthlib", "oauthlib"):
        logging.getLogger(noisy).setLevel(max(level, logging.WARNING))
