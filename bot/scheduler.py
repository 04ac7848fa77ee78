"""The long-running bot: APScheduler 3.x jobs around ``Service.run_pass``.

Jobs (all run one at a time on a single worker thread, so passes never overlap):

* ``due:<instant>``: one DateTrigger job per instant at which a scheduled post is due in the next 36 hours,
  re-planned every 6 hours and whenever the schedules change;
* ``feed``: polls the site feed every ``feed.poll_minutes`` (with up to a minute of jitter);
* ``sweep``: every 5 minutes, retries failures whose back-off has passed and recovers crashed sends;
* ``watch``: every 30 seconds, reloads the schedules if a file under schedules/ or content/ changed
  (SIGHUP reloads at once).

SIGTERM and SIGINT stop it within a few seconds (Heroku allows 30): the scheduler is shut down without waiting
for queued jobs, and a pass in flight finishes its current post (each network call has a timeout).
"""

from __future__ import annotations

import contextlib
import logging
import select
import signal
import socket
import threading
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from types import FrameType

from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.date import DateTrigger
from apscheduler.triggers.interval import IntervalTrigger

from bot.service import Service, next_wakeups

log = logging.getLogger(__name__)

HORIZON = timedelta(hours=36)
REPLAN_EVERY = timedelta(hours=6)
SWEEP_EVERY = timedelta(minutes=5)
WATCH_EVERY = timedelta(seconds=30)


def snapshot(folders: list[Path]) -> dict[str, float]:
    """Modification times of every file below the folders: cheap enough to compare every 30 seconds."""
    found: dict[str, float] = {}
    for folder in folders:
        if folder.is_dir():
            for path in folder.rglob("*"):
                if path.is_file():
                    try:
                        found[str(path)] = path.stat().st_mtime
                    except OSError:
                        continue
    return found


class BotScheduler:
    def __init__(
        self,
        service: Service,
        *,
        clock: Callable[[], datetime],
        reload: Callable[[], None],
        watch: Path,
        content: Path | None = None,
    ) -> None:
        self.service = service
        self.clock = clock
        self.reload_schedules = reload
        self.folders = [watch] + ([content] if content else [])
        self.files = snapshot(self.folders)
        self.signals: list[int] = []
        """Signals received and not yet handled (appended by the handler, read by the main loop)."""
        self.lock = threading.Lock()
        self.scheduler = BackgroundScheduler(
            executors={"default": ThreadPoolExecutor(1)},
            job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": None},
            timezone=service.schedules.settings.timezone,
        )

    # ------------------------------------------------------------------ jobs

    def run_pass(self, *, poll_feed: bool) -> None:
        with self.lock:
            try:
                report = self.service.run_pass(self.clock(), poll_feed=poll_feed)
            except Exception:  # a bug must not kill the daemon: log it and keep the schedule running
                log.exception("pass failed unexpectedly; will try again at the next job")
                return
        if report.outcomes or report.recorded:
            log.info("pass: %s", report.summary())

    def plan(self) -> list[datetime]:
        """(Re)create one job per instant at which something is due soon; drop jobs no longer needed."""
        now = self.clock()
        wanted = {f"due:{at.isoformat()}": at for at in next_wakeups(self.service.schedules, now, HORIZON)}
        for job in self.scheduler.get_jobs():
            if job.id.startswith("due:") and job.id not in wanted:
                job.remove()
        for job_id, at in wanted.items():
            if self.scheduler.get_job(job_id) is not None:
                continue  # the id is the instant: an existing job is already right
            self.scheduler.add_job(
                self.run_pass,
                DateTrigger(run_date=at),
                id=job_id,
                replace_existing=True,
                kwargs={"poll_feed": False},
            )
        if wanted:
            log.info(
                "planned %d post time(s) in the next %d hours; next at %s",
                len(wanted),
                HORIZON.total_seconds() // 3600,
                min(wanted.values()).isoformat(timespec="minutes"),
            )
        return sorted(wanted.values())

    def reload(self) -> None:
        try:
            self.reload_schedules()
        except Exception:
            log.exception("reloading schedules failed; keeping the previous ones")
            return
        self.plan()
        self._schedule_feed()
        log.info("schedules reloaded")

    def watch(self) -> None:
        current = snapshot(self.folders)
        if current != self.files:
            self.files = current
            log.info("schedule files changed")
            self.reload()

    def _schedule_feed(self) -> None:
        minutes = self.service.schedules.settings.feed.poll_minutes
        if self.service.schedules.settings.feed.url:
            self.scheduler.add_job(
                self.run_pass,
                IntervalTrigger(minutes=minutes, jitter=60),
                id="feed",
                replace_existing=True,
                kwargs={"poll_feed": True},
            )
        elif self.scheduler.get_job("feed"):
            self.scheduler.remove_job("feed")

    def install(self) -> None:
        """Add the standing jobs (without starting the scheduler: tests inspect them)."""
        self.plan()
        self._schedule_feed()
        self.scheduler.add_job(
            self.run_pass,
            IntervalTrigger(seconds=SWEEP_EVERY.total_seconds()),
            id="sweep",
            replace_existing=True,
            kwargs={"poll_feed": False},
        )
        self.scheduler.add_job(
            self.plan,
            IntervalTrigger(seconds=REPLAN_EVERY.total_seconds()),
            id="replan",
            replace_existing=True,
        )
        self.scheduler.add_job(
            self.watch,
            IntervalTrigger(seconds=WATCH_EVERY.total_seconds()),
            id="watch",
            replace_existing=True,
        )

    # ------------------------------------------------------------------ process

    def _on_signal(self, signum: int, frame: FrameType | None) -> None:
        # Only set a flag: a signal handler runs between two bytecodes of the main thread, which may hold a
        # lock that logging, an Event or the scheduler would need, so anything more can deadlock.
        self.signals.append(signum)

    def run(self) -> None:
        for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
            signal.signal(sig, self._on_signal)
        self.install()
        self.scheduler.start()
        log.info("aasr-bot running; stop with SIGTERM or Ctrl-C")
        # Catch up at once: posts missed while the bot was down, and a first feed poll.
        self.scheduler.add_job(self.run_pass, id="startup", kwargs={"poll_feed": True})
        # Python writes each signal's number to this socket, so the main thread sleeps in select() (no
        # polling, no CPU while idle) and wakes as soon as a signal arrives.
        wake_read, wake_write = socket.socketpair()
        wake_read.setblocking(False)
        wake_write.setblocking(False)
        previous_fd = signal.set_wakeup_fd(wake_write.fileno(), warn_on_full_buffer=False)
        try:
            self._wait_for_stop(wake_read)
        finally:
            signal.set_wakeup_fd(previous_fd)
            wake_read.close()
            wake_write.close()
        self.scheduler.shutdown(wait=False)
        # Let a pass in flight finish its current network call (bounded by the adapters' timeouts).
        if self.lock.acquire(timeout=20):
            self.lock.release()
        log.info("stopped")

    def _wait_for_stop(self, wake: socket.socket) -> None:
        while True:
            while not self.signals:
                select.select([wake], [], [])
                with contextlib.suppress(BlockingIOError):
                    wake.recv(512)
            signum = self.signals.pop(0)
            if signum == signal.SIGHUP:
                log.info("SIGHUP: reloading schedules")
                self.scheduler.add_job(self.reload, id="reload-now", replace_existing=True)
                continue
            log.info("%s: stopping", signal.Signals(signum).name)
            return
