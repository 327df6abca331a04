"""Starting a detection run from the API (``runDetection``) without blocking the request.

The run itself is ``algorithms.job.run_detection``, which holds ``DetectionLock`` for its whole
length (scheduled runs and CLI runs take the same lock). Before starting a thread the runner
refuses with ``Conflict`` when its own thread is still busy or the lock is held elsewhere, so the
admin gets the refusal in the answer rather than in a log.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import UTC, datetime

from algorithms.job import DetectionLock, RunSummary, run_detection
from algorithms.settings import DetectionSettings
from graph.errors import Conflict
from graph.port import GraphStore
from graph.settings import load_settings

log = logging.getLogger("medfraud.api.detection")


class DetectionRunner:
    def __init__(self, store: GraphStore, on_finished: Callable[[], None] | None = None) -> None:
        self.store = store
        self.on_finished = on_finished
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self.last_summary: RunSummary | None = None
        self.last_error: str | None = None

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def start(self) -> datetime:
        with self._lock:
            if self.running:
                raise Conflict("a detection run started from the API is still running")
            with DetectionLock.for_store(self.store):
                pass  # raises Conflict while a scheduled or CLI run holds the lock
            started = datetime.now(UTC)
            self._thread = threading.Thread(target=self._run, name="medfraud-api-detection", daemon=True)
            self._thread.start()
            return started

    def _run(self) -> None:
        try:
            self.last_summary = run_detection(self.store, load_settings(DetectionSettings))
            self.last_error = None
            log.info("detection run %s finished", self.last_summary.run_id)
        except Exception as exc:  # the thread has no caller to raise to; keep it for the log
            self.last_error = str(exc)
            log.exception("detection run failed")
        finally:
            if self.on_finished is not None:
                self.on_finished()

    def wait(self, timeout: float | None = None) -> None:
        thread = self._thread
        if thread is not None:
            thread.join(timeout)
