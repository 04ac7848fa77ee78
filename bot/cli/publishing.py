"""The commands that reach the networks: ``post``, ``check``, ``run``, ``tick``, ``retry`` and ``resume``.

Each opens the same wiring (``wiring.open_bot``) and sends through the service or the publishers it built.
"""

from __future__ import annotations

import argparse
import logging
import secrets
import sys
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime
from pathlib import Path
from types import MappingProxyType

from bot import contentfiles, settings, texthygiene
from bot.cli.common import load_logged
from bot.cli.wiring import open_bot, with_server_options
from bot.compose import compose
from bot.deliver import TAKEN, Deliverer, Outcome, receipt_of
from bot.errors import BotError, ConfigError, DuplicateError, PublishError
from bot.logs import setup_logging
from bot.models import EMPTY, Draft, Image, Receipt, ThreadPlace, part_key
from bot.publishers import factory, registry
from bot.publishers.base import Publisher
from bot.publishers.spec import TextRules
from bot.service import PAUSED_FLAG
from bot.settings import now

log = logging.getLogger(__name__)


def _rehearsal_only(args: argparse.Namespace) -> None:
    if args.rehearsal_ledger and not args.dry_run:
        raise ConfigError(
            "--rehearsal-ledger is for rehearsals", hint="add --dry-run, or leave --rehearsal-ledger out"
        )


def tick(args: argparse.Namespace) -> int:
    _rehearsal_only(args)
    setup_logging()
    with open_bot(args, dry_run=args.dry_run, rehearsal=args.dry_run) as bot:
        report = bot.service.run_pass(now())
    log.info("tick done: %s", report.summary())
    return 1 if report.count("failed") else 0


def run_forever(args: argparse.Namespace) -> int:
    _rehearsal_only(args)
    setup_logging()
    from bot.scheduler import BotScheduler

    with open_bot(args, dry_run=args.dry_run, rehearsal=args.dry_run) as bot:

        def reload() -> None:
            bot.service.reload(with_server_options(load_logged(args).schedules, bot.ledger))

        BotScheduler(
            bot.service, clock=now, reload=reload, watch=settings.schedules_dir(args.schedules)
        ).run()
    return 0


def _own_image(path: str) -> Path:
    """A ``post --image``: a maintainer's own file inside the working directory, under the image caps."""
    from bot.images import check_file

    try:
        real = contentfiles.confine(
            Path.cwd(),
            path,
            max_bytes=contentfiles.MAX_IMAGE_BYTES,
            folder_name="the working directory",
            allow_absolute=True,
        )
        check_file(real)
    except BotError as exc:
        raise ConfigError(f"image {texthygiene.for_terminal(exc.message)}", hint=exc.hint) from None
    return real


def post_now(args: argparse.Namespace) -> int:
    setup_logging(quiet=True)
    if len(args.alt) != len(args.image):
        raise ConfigError(
            f"{len(args.image)} --image but {len(args.alt)} --alt",
            hint="every image needs alt text for screen readers: give one --alt per --image",
        )
    max_images = min(spec.images.max_images for spec in registry.specs())
    if len(args.image) > max_images:
        raise ConfigError(f"at most {max_images} images per post")
    for what, value in (("the text", args.text), *((f"alt text {i + 1}", a) for i, a in enumerate(args.alt))):
        bad = texthygiene.control_characters(value)
        if bad:
            raise ConfigError(f"{what} contains control characters ({', '.join(bad)})", hint="delete them")
    images = []
    for path, alt in zip(args.image, args.alt, strict=True):
        shown = texthygiene.for_terminal(path)
        if not alt.strip() or texthygiene.is_invisible(alt):
            raise ConfigError(f"alt text for {shown} is empty", hint="describe what the image shows")
        images.append(Image(_own_image(path), alt.strip()))
    for n, part in enumerate(args.part, start=2):
        if not part.strip():
            raise ConfigError(f"--part {n} is empty", hint="give each --part the text of that part")
        bad = texthygiene.control_characters(part)
        if bad:
            raise ConfigError(
                f"--part {n} contains control characters ({', '.join(bad)})", hint="delete them"
            )
    moment = now()
    # Each `post` is its own ledger item, even for the same text: the network, not the ledger, judges duplicates.
    key = f"manual/{moment:%Y%m%dT%H%M%S}-{secrets.token_hex(4)}"
    first = Draft(
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
    # --part: a thread; the link, hashtags and images go on the first part, each part replies to the one before.
    texts = [args.text, *args.part]
    drafts = [first]
    if len(texts) > 1:
        later = replace(first, hashtags=(), link=None, images=(), context=EMPTY)
        drafts = [
            replace(
                first if n == 1 else later,
                key=part_key(key, n),
                text=text,
                thread=ThreadPlace(key, n, len(texts)),
            )
            for n, text in enumerate(texts, start=1)
        ]
    exit_code = 0
    with open_bot(args, dry_run=args.dry_run, banner=False, fetch_cards=True) as bot:
        chosen = [c for c in bot.choices if not args.network or c.network in args.network]
        if not chosen:
            raise ConfigError(
                "no network to post to", hint="check `networks:` in settings.yaml and --network"
            )
        for choice in chosen:
            rules = bot.service.rules(choice.network)
            exit_code |= _post_one(bot.service.deliverer, choice, drafts, moment, rules)
    return exit_code


def _post_one(
    deliverer: Deliverer, choice: factory.Choice, drafts: list[Draft], moment: datetime, rules: TextRules
) -> int:
    """One network of a ``post``: a one-off ledger item (one per part of a thread, all recorded first),
    delivered by the one path (no automatic retries); each part only after the one before it was sent."""
    publisher: Publisher = choice.publisher
    network = choice.network
    posts = [compose(draft, network, due_at=moment, rules=rules) for draft in drafts]
    for n, post in enumerate(posts, start=1):
        if not rules.fits(post.text, post.content_warning):
            what = "the text" if len(posts) == 1 else f"part {n}"
            print(
                f"{network}: not sent: {what} is too long ({post.length}/{post.limit}); shorten it",
                file=sys.stderr,
            )
            return 1
    if publisher.dry_run:
        print(f"{network}: {choice.why}")
    for post, draft in zip(posts, drafts, strict=True):
        deliverer.ensure(
            post, dry_run=publisher.dry_run, source="manual", name=draft.text[:60], due_at=moment, now=moment
        )
    parent: Receipt | None = None
    root: Receipt | None = None
    for post in posts:
        outcome = deliverer.send(
            publisher, post.key, moment, retry_later=False, reply_to=parent, reply_root=root
        )
        if outcome.status != "sent":
            break
        row = deliverer.ledger.get(post.key, network, dry_run=publisher.dry_run)
        parent = receipt_of(row) if row is not None else None
        root = root or parent
        if not publisher.dry_run:
            cost = f" (estimated cost ${outcome.cost:.3f})" if outcome.cost else ""
            print(f"{network}: posted {outcome.url}{cost}")
        if parent is None and post is not posts[-1]:
            print(
                f"{network}: thread held after part {post.thread.part if post.thread else 1}: "
                "it was confirmed only by a duplicate refusal, so the next part has nothing to reply to",
                file=sys.stderr,
            )
            return 1
    else:
        return 0
    error = outcome.error
    if isinstance(error, DuplicateError):
        message = f"{error.message} (the network already has this exact post)"
    elif isinstance(error, PublishError):
        message = _one_line(error)
    elif error is not None:
        message = str(error)
    else:
        message = outcome.detail
    where = ""
    if post.thread is not None:
        where = f" (thread held at part {post.thread.part} of {post.thread.of}; `retry {post.key}` resumes)"
    print(f"{network}: not sent: {message}{where}", file=sys.stderr)
    return 1


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


def retry(args: argparse.Namespace) -> int:
    """Requeue a failed or skipped item and send it right away, however late it is (the maintainer asked)."""
    setup_logging()
    moment = now()
    with open_bot(args, dry_run=False, banner=False) as bot:
        changed = bot.ledger.retry(args.key, args.network, now=moment)
        busy = [
            d
            for d in bot.ledger.deliveries(key=args.key, network=args.network, status="sending", limit=100)
            if not d.dry_run
        ]
        if not changed and busy:
            for d in busy:
                print(f"{d.key} on {d.network}: {TAKEN} ({d.claimed_by})", file=sys.stderr)
            return 1
        if not changed:
            print(
                f"nothing to retry: no failed or skipped delivery {args.key}"
                + (f" on {args.network}" if args.network else ""),
                file=sys.stderr,
            )
            return 1
        # A thread part retried: the parts after it, held behind it, go out in order in the same run.
        item = thread_item(args.key)
        keys = frozenset(d.key for d in bot.ledger.deliveries(key=item, network=args.network, limit=1000))
        outcomes = bot.service.send_due(moment, ignore_grace=True, keys=keys or frozenset({args.key}))
        tried = {o.network for o in outcomes}
        for d in bot.ledger.deliveries(key=args.key, network=args.network, status="sending", limit=100):
            if not d.dry_run and d.network not in tried:  # another process claimed it in between
                outcomes.append(Outcome(d.key, d.network, "waiting", TAKEN))
    for o in outcomes:
        print(
            f"{o.key} on {o.network}: {o.status}" + (f": {o.url or o.detail}" if (o.url or o.detail) else "")
        )
    return 1 if any(o.status == "failed" or o.detail == TAKEN for o in outcomes) else 0


def thread_item(key: str) -> str:
    """The item key of a thread part's key (``queue/idpd#2`` -> ``queue/idpd``); other keys as they are."""
    item, sep, part = key.rpartition("#")
    return item if sep and part.isdigit() else key


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


COMMANDS: dict[str, Callable[[argparse.Namespace], int]] = {
    "post": post_now,
    "check": check,
    "run": run_forever,
    "tick": tick,
    "retry": retry,
    "resume": resume,
}
