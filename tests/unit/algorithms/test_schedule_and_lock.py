"""Scheduled runs never overlap; a second run (this process or another) is refused with Conflict."""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from algorithms.job import DetectionLock
from algorithms.schedule import start_background_scheduler
from algorithms.settings import DetectionSettings
from graph.errors import ConfigError, Conflict
from graph.settings import load_settings


def test_lock_refuses_a_second_run_in_this_process(tmp_path: Path) -> None:
    path = tmp_path / "store.duckdb.detect.lock"
    with DetectionLock(path), pytest.raises(Conflict, match="already in progress"), DetectionLock(path):
        pass
    with DetectionLock(path):  # released after the first run ended
        pass


def test_lock_refuses_a_second_run_in_another_process(tmp_path: Path) -> None:
    path = tmp_path / "x.lock"
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys, time; from pathlib import Path; from algorithms.job import DetectionLock\n"
            f"with DetectionLock(Path({str(path)!r})):\n    print('held', flush=True); time.sleep(30)",
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        with pytest.raises(Conflict, match="another process"), DetectionLock(path):
            pass
    finally:
        holder.kill()
        holder.wait()


def test_scheduler_runs_on_the_cron_and_never_overlaps() -> None:
    active, overlaps, runs = [0], [0], [0]
    guard = threading.Lock()

    def job() -> None:
        with guard:
            active[0] += 1
            overlaps[0] += active[0] > 1
        time.sleep(1.5)  # longer than the 1-second schedule
        with guard:
            active[0] -= 1
            runs[0] += 1

    settings = DetectionSettings(schedule="* * * * * *")
    handle = start_background_scheduler(object(), settings, job=job)  # type: ignore[arg-type]
    time.sleep(4.0)
    handle.stop()
    assert not handle.running
    assert runs[0] >= 2 and overlaps[0] == 0
    assert handle.runs == runs[0]


def test_scheduler_keeps_going_after_a_failed_or_refused_run() -> None:
    calls = [0]

    def job() -> None:
        calls[0] += 1
        raise Conflict("busy") if calls[0] == 1 else RuntimeError("boom")

    handle = start_background_scheduler(object(), DetectionSettings(schedule="* * * * * *"), job=job)  # type: ignore[arg-type]
    time.sleep(2.6)
    handle.stop()
    assert handle.skipped == 1 and handle.failures >= 1


def test_invalid_schedule_names_the_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MEDFRAUD_DETECT_SCHEDULE", "every night")
    with pytest.raises(ConfigError, match="MEDFRAUD_DETECT_SCHEDULE"):
        load_settings(DetectionSettings)
