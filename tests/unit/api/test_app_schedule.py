"""A detection run scheduled inside the server renews the ring index and the prepared pictures."""

from __future__ import annotations

import threading
from typing import Any

import pytest

import api.http.app as app_module


def test_a_scheduled_run_is_followed_by_the_renewal(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MEDFRAUD_DETECT_SCHEDULE", "* * * * * *")
    ran = threading.Event()
    renewed = threading.Event()

    def fake_detection(store: Any, settings: Any, *, engine: str) -> None:
        ran.set()
        raise RuntimeError("the store failed")  # the renewal must happen even after a failed run

    monkeypatch.setattr(app_module, "run_detection", fake_detection)
    handle = app_module._start_scheduler(object(), renewed.set)  # type: ignore[arg-type]
    try:
        assert renewed.wait(5.0)
        assert ran.is_set()
    finally:
        handle.stop()
