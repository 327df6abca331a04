"""Periodic detection: ``medfraud schedule`` and the API server's background job.

Both use :func:`start_background_scheduler`: one daemon thread sleeps until the next time of the
cron expression ``MEDFRAUD_DETECT_SCHEDULE`` (five fields, or six with seconds) and runs detection.
Runs never overlap: the thread runs them one after another, and :class:`algorithms.job.DetectionLock`
makes a scheduled run that meets a manual one skip (logged) instead of running twice. A run that
fails is logged and the schedule continues.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import datetime

from algorithms.job import run_detection
from algorithms.settings import DetectionSettings
from graph.errors import Conflict
from graph.port import GraphStore

log = logging.getLogger(__name__)


class SchedulerHandle:
    """A running scheduler; :meth:`stop` ends it after the current run (if any)."""

    def __init__(self, thread: threading.Thread, stop_event: threading.Event) -> None:
        self._thread = thread
        self._stop = stop_event
        self.runs = 0
        self.skipped = 0
        self.failures = 0
        self.next_run: datetime | None = None

    @property
    def running(self) -> bool:
        return self._thread.is_alive()

    def stop(self, timeout: float | None = 30.0) -> None:
        self._stop.set()
        if threading.current_thread() is not self._thread:
            self._thread.join(timeout)

    def wait(self) -> None:
        """Block until stopped (for the CLI); Ctrl-C stops cleanly."""
        try:
            while self._thread.is_alive():
                self._thread.join(0.5)
        except KeyboardInterrupt:
            self.stop()


def start_background_scheduler(
    store: GraphStore,
    settings: DetectionSettings | None = None,
    *,
    engine: str | None = None,
    job: Callable[[], object] | None = None,
) -> SchedulerHandle:
    """Start the cron-driven detection thread; ``job`` replaces the detection run (tests)."""
    settings = settings or DetectionSettings()
    engine_name = engine or settings.engine
    stop_event = threading.Event()

    def default_job() -> object:
        return run_detection(store, settings, engine=engine_name)

    work = job or default_job

    def loop() -> None:
        while not stop_event.is_set():
            nxt = settings.next_run_after(datetime.now())
            handle.next_run = nxt
            delay = (nxt - datetime.now()).total_seconds()
            if stop_event.wait(max(delay, 0.0)):
                break
            try:
                work()
                handle.runs += 1
                log.info("scheduled detection run finished")
            except Conflict as exc:
                handle.skipped += 1
                log.warning("scheduled detection skipped: %s", exc)
            except Exception:
                handle.failures += 1
                log.exception("scheduled detection run failed; the schedule continues")

    thread = threading.Thread(target=loop, name="medfraud-detect-scheduler", daemon=True)
    handle = SchedulerHandle(thread, stop_event)
    thread.start()
    return handle
