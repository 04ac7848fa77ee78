"""The publishing commands: wire settings, ledger, publishers and the service together, then report.

Only this module (and the scheduler) reads the wall clock: ``now()`` honours ``BOT_NOW`` so rehearsals and
end-to-end tests can run the real CLI at any instant.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import secrets
import socket
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import MappingProxyType
from typing import Any

from bot import config
from bot.compose import compose
from bot.errors import BotError, ConfigError, DuplicateError, PublishError
from bot.logs import setup_logging
from bot.models import Draft, Image
from bot.publishers import factory
from bot.publishers.base import Publisher
from bot.service import PAUSED_FLAG, Service, post_to_payload
from bot.store import Ledger
from bot.textlen import fits

log = logging.getLogger(__name__)


def now() -> datetime:
    forced = config.env("BOT_NOW")
    if forced:
        try:
            value = datetime.fromisoformat(forced)
        except ValueError:
            raise ConfigError(f"BOT_NOW={forced!r} is not an ISO 8601 date and time") from None
        if value.tzinfo is None:
            raise ConfigError("BOT_NOW needs a UTC offset, e.g. 2026-12-03T10:00:00-05:00")
        return value.astimezone(UTC)
    return datetime.now(UTC)


def owner_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


@dataclass(slots=True)
class Bot:
    loaded: config.Loaded
    ledger: Ledger
    choices: list[factory.Choice]
    service: Service


def load_schedules(args: argparse.Namespace) -> config.Loaded:
    root = config.schedules_dir(getattr(args, "schedules", None))
    loaded = config.load_schedules(root, config.content_dir(getattr(args, "content", None), root))
    for problem in loaded.errors():
        log.error("schedule problem (item left out): %s", problem.format())
    return loaded


def open_ledger() -> Ledger:
    target = config.database_target()
    if "://" not in target:
        Path(target).parent.mkdir(parents=True, exist_ok=True)
    return Ledger.open(target)


def lease() -> timedelta:
    raw = config.env("BOT_LEASE_SECONDS")
    try:
        return timedelta(seconds=float(raw)) if raw else timedelta(minutes=10)
    except ValueError:
        raise ConfigError(f"BOT_LEASE_SECONDS={raw!r} is not a number of seconds") from None


@contextmanager
def open_bot(
    args: argparse.Namespace, *, dry_run: bool, banner: bool = True, fetch_cards: bool = False
) -> Iterator[Bot]:
    loaded = load_schedules(args)
    ledger = open_ledger()
    try:
        settings = loaded.schedules.settings
        choices = factory.build(settings.networks, settings, ledger, dry_run=dry_run, fetch_cards=fetch_cards)
        if banner:
            for choice in choices:
                level = logging.WARNING if choice.publisher.dry_run else logging.INFO
                log.log(level, "%s: %s", choice.network, choice.why)
            if not settings.networks:
                log.warning("no networks enabled in settings.yaml: nothing will be posted")
        from bot.feed import fetch_feed, make_client

        client = make_client()

        def fetch(url: str, etag: str | None, modified: str | None) -> Any:
            return fetch_feed(url, client, etag=etag, last_modified=modified)

        publishers = {c.network: c.publisher for c in choices}
        service = Service(
            loaded.schedules, ledger, publishers, owner=owner_name(), fetch_feed=fetch, lease=lease()
        )
        try:
            yield Bot(loaded, ledger, choices, service)
        finally:
            client.close()
            for choice in choices:
                close = getattr(choice.publisher, "close", None)
                if callable(close):
                    close()
    finally:
        ledger.close()


# ------------------------------------------------------------------------------------------------ commands


def tick(args: argparse.Namespace) -> int:
    setup_logging()
    with open_bot(args, dry_run=args.dry_run) as bot:
        report = bot.service.run_pass(now())
    log.info("tick done: %s", report.summary())
    return 1 if report.count("failed") else 0


def run_forever(args: argparse.Namespace) -> int:
    setup_logging()
    from bot.scheduler import BotScheduler

    with open_bot(args, dry_run=args.dry_run) as bot:

        def reload() -> None:
            bot.service.reload(load_schedules(args).schedules)

        BotScheduler(bot.service, clock=now, reload=reload, watch=config.schedules_dir(args.schedules)).run()
    return 0


def post_now(args: argparse.Namespace) -> int:
    setup_logging(quiet=True)
    if len(args.alt) != len(args.image):
        raise ConfigError(
            f"{len(args.image)} --image but {len(args.alt)} --alt",
            hint="every image needs alt text for screen readers: give one --alt per --image",
        )
    if len(args.image) > 4:
        raise ConfigError("at most 4 images per post")
    images = []
    for path, alt in zip(args.image, args.alt, strict=True):
        if not Path(path).is_file():
            raise ConfigError(f"image {path} not found")
        if not alt.strip():
            raise ConfigError(f"alt text for {path} is empty", hint="describe what the image shows")
        images.append(Image(Path(path), alt.strip()))
    moment = now()
    # Each `post` is its own ledger item, even for the same text: the network, not the ledger, judges duplicates.
    key = f"manual/{moment:%Y%m%dT%H%M%S}-{secrets.token_hex(4)}"
    draft = Draft(
        key=key,
        source="manual",
        name="manual post",
        file="command line",
        text=args.text,
        hashtags=tuple(t.lstrip("#") for t in args.hashtag),
        link=args.link,
        images=tuple(images),
        context=MappingProxyType({"link": args.link or ""}),
    )
    exit_code = 0
    with open_bot(args, dry_run=args.dry_run, banner=False, fetch_cards=True) as bot:
        chosen = [c for c in bot.choices if not args.network or c.network in args.network]
        if not chosen:
            raise ConfigError(
                "no network to post to", hint="check `networks:` in settings.yaml and --network"
            )
        for choice in chosen:
            exit_code |= _post_one(bot.ledger, choice, draft, moment)
    return exit_code


def _post_one(ledger: Ledger, choice: factory.Choice, draft: Draft, moment: datetime) -> int:
    publisher: Publisher = choice.publisher
    network = choice.network
    post = compose(draft, network, due_at=moment)
    if not fits(network, post.text):
        print(
            f"{network}: not sent: the text is too long ({post.length}/{post.limit}); shorten it",
            file=sys.stderr,
        )
        return 1
    if publisher.dry_run:
        print(f"{network}: {choice.why}")
    dry = publisher.dry_run
    ledger.ensure(
        post.key,
        network,
        dry_run=dry,
        source="manual",
        name=draft.text[:60],
        due_at=moment,
        payload=post_to_payload(post),
        now=moment,
    )
    ledger.claim(post.key, network, dry_run=dry, owner=owner_name(), now=moment)
    try:
        receipt = publisher.publish(post)
    except DuplicateError as exc:
        ledger.mark_failed(post.key, network, dry_run=dry, error=str(exc), retry_at=None, now=moment)
        print(
            f"{network}: not sent: {exc.message} (the network already has this exact post)", file=sys.stderr
        )
        return 1
    except PublishError as exc:
        ledger.mark_failed(post.key, network, dry_run=dry, error=str(exc), retry_at=None, now=moment)
        print(f"{network}: not sent: {_one_line(exc)}", file=sys.stderr)
        return 1
    except BotError as exc:
        ledger.mark_failed(post.key, network, dry_run=dry, error=str(exc), retry_at=None, now=moment)
        print(f"{network}: not sent: {exc}", file=sys.stderr)
        return 1
    ledger.mark_sent(
        post.key,
        network,
        dry_run=dry,
        remote_id=receipt.remote_id,
        url=receipt.url,
        cost=receipt.cost,
        now=moment,
    )
    if not dry:
        cost = f" (estimated cost ${receipt.cost:.3f})" if receipt.cost else ""
        print(f"{network}: posted {receipt.url}{cost}")
    return 0


def _one_line(exc: PublishError) -> str:
    text = exc.message
    if exc.hint:
        text += f" (hint: {exc.hint})"
    if exc.reset_at is not None:
        text += f"; the limit resets at {exc.reset_at.astimezone().isoformat(timespec='seconds')}"
    return text


def check(args: argparse.Namespace) -> int:
    setup_logging(quiet=True)
    exit_code = 0
    with open_bot(args, dry_run=False, banner=False) as bot:
        for choice in bot.choices:
            if choice.publisher.dry_run:
                print(
                    f"{choice.network}: not configured: {choice.why.removeprefix('DRY RUN: ')}; posts run dry"
                )
                continue
            try:
                who = choice.publisher.check()
            except PublishError as exc:
                print(f"{choice.network}: FAILED: {_one_line(exc)}")
                exit_code = 1
            else:
                print(f"{choice.network}: OK: posting will work as {who}")
    return exit_code


def status(args: argparse.Namespace) -> int:
    from bot.status import collect, format_status

    setup_logging(quiet=True)
    loaded = load_schedules(args)
    with open_ledger() as ledger:
        data = collect(loaded.schedules, ledger, now(), paused_flag=ledger.get_flag(PAUSED_FLAG) == "1")
    if args.json:
        print(json.dumps(data, indent=2, ensure_ascii=False, default=str))
    else:
        print(format_status(data))
    return 0


def retry(args: argparse.Namespace) -> int:
    """Requeue a failed or skipped item and send it right away, however late it is (the maintainer asked)."""
    setup_logging()
    moment = now()
    with open_bot(args, dry_run=False, banner=False) as bot:
        changed = bot.ledger.retry(args.key, args.network, now=moment)
        if not changed:
            print(
                f"nothing to retry: no failed or skipped delivery {args.key}"
                + (f" on {args.network}" if args.network else ""),
                file=sys.stderr,
            )
            return 1
        outcomes = bot.service.send_due(moment, ignore_grace=True, key=args.key)
    for o in outcomes:
        print(
            f"{o.key} on {o.network}: {o.status}" + (f": {o.url or o.detail}" if (o.url or o.detail) else "")
        )
    return 1 if any(o.status == "failed" for o in outcomes) else 0


def skip(args: argparse.Namespace) -> int:
    setup_logging(quiet=True)
    with open_ledger() as ledger:
        changed = ledger.skip(args.key, args.network, reason=args.reason, now=now())
    if not changed:
        print(f"nothing to skip: no pending or failed delivery {args.key}", file=sys.stderr)
        return 1
    print(f"{args.key}: {changed} delivery(ies) skipped")
    return 0


def pause(args: argparse.Namespace) -> int:
    setup_logging(quiet=True)
    with open_ledger() as ledger:
        ledger.set_flag(PAUSED_FLAG, "1")
    print("paused: nothing will be published until `resume`; posts that come due are held (see `status`)")
    return 0


def resume(args: argparse.Namespace) -> int:
    setup_logging()
    moment = now()
    with open_bot(args, dry_run=False, banner=False) as bot:
        held = [d for d in bot.ledger.due(now=moment, dry_run=False) if d.status in ("pending", "failed")]
        held += [d for d in bot.ledger.due(now=moment, dry_run=True) if d.status in ("pending", "failed")]
        if held and not (args.release or args.skip):
            bot.ledger.set_flag(PAUSED_FLAG, "1")
            print(
                f"{len(held)} post(s) came due while paused; say what to do with them: "
                "`resume --release` sends them now, `resume --skip` skips them",
                file=sys.stderr,
            )
            for d in held[:20]:
                print(
                    f"  {d.key} on {d.network} (due {d.due_at.isoformat(timespec='minutes')})",
                    file=sys.stderr,
                )
            return 2
        bot.ledger.set_flag(PAUSED_FLAG, None)
        if args.skip:
            for d in held:
                bot.ledger.mark_skipped(
                    d.key, d.network, dry_run=d.dry_run, reason="skipped on resume", now=moment
                )
            print(f"resumed; {len(held)} held post(s) skipped")
            return 0
        if bot.loaded.schedules.settings.paused:
            print(
                "note: settings.yaml still says `paused: true`; nothing is published until it is removed",
                file=sys.stderr,
            )
        report = bot.service.run_pass(moment, poll_feed=False, ignore_grace=bool(args.release))
        print(
            f"resumed; sent {report.count('sent')}, failed {report.count('failed')}, "
            f"retrying {report.count('retrying')}"
        )
    return 0
