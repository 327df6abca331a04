"""An engine that works out of process (GDS) has the other detectors run while it works; same results."""

from __future__ import annotations

import threading
from typing import Any

import pandas as pd
import pytest

import algorithms.job as job
from algorithms.igraph_engine import IgraphEngine
from algorithms.settings import DetectionSettings
from tests.unit.algorithms.handmade import collusion_city

SETTINGS = DetectionSettings()


class _Remote:
    """igraph's answers, declared out of process; Leiden waits (up to 10 s) for the cash-out detector."""

    name = "remote"
    in_process = False

    def __init__(self, others_ran: threading.Event) -> None:
        self.inner = IgraphEngine()
        self.others_ran = others_ran
        self.overlapped: bool | None = None

    def communities(self, edges: pd.DataFrame, *, resolution: float, seed: int,
                    weight: str = "weight") -> pd.Series:
        self.overlapped = self.others_ran.wait(timeout=10)
        return self.inner.communities(edges, resolution=resolution, seed=seed, weight=weight)

    def components(self, edges: pd.DataFrame) -> pd.Series:
        return self.inner.components(edges)


def _summary(result: job.DetectionResult) -> tuple[list[Any], list[Any]]:
    rings = sorted((r.kind, sorted(r.member_refs), round(r.score, 6)) for r in result.rings)
    findings = sorted((f.kind, f.person_id, sorted(c.key for c in f.claims)) for f in result.findings)
    return rings, findings


def test_the_other_detectors_run_while_an_out_of_process_engine_works_and_find_the_same(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    inputs = collusion_city().inputs()
    sequential = job.detect_all(inputs, SETTINGS, IgraphEngine())
    assert any(r.kind == "collusion" for r in sequential.rings)  # the city has a ring to find

    others_ran = threading.Event()
    cash_out = job.detect_pharmacy_cash_out

    def marked(*args: Any, **kwargs: Any) -> Any:
        others_ran.set()
        return cash_out(*args, **kwargs)

    monkeypatch.setattr(job, "detect_pharmacy_cash_out", marked)
    remote = _Remote(others_ran)
    overlapped = job.detect_all(inputs, SETTINGS, remote)
    assert remote.overlapped is True  # the last of the other detectors ran while Leiden was under way
    assert _summary(overlapped) == _summary(sequential)
    assert set(overlapped.seconds) == set(sequential.seconds)
