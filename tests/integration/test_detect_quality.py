"""Quality smoke test: detection on the 3,000-person fixture city against its planted truth."""

from __future__ import annotations

from typing import Any

from algorithms.evaluate import Export, Truth, evaluate
from algorithms.export import export_dict
from algorithms.job import run_detection
from algorithms.settings import DetectionSettings


def test_planted_fraud_is_found_and_look_alikes_are_not(city_store: Any, city_truth: dict[str, Any]) -> None:
    summary = run_detection(city_store, DetectionSettings())
    assert summary.result is not None
    doc = export_dict(summary.result.rings, summary.result.findings)
    ev = evaluate(Truth.model_validate(city_truth), Export.model_validate(doc))
    for kind, score in ev.rings.items():
        assert score.recall >= 0.95 and score.precision >= 0.9, (kind, score)
    for kind, score in {**ev.double_claims, **ev.anomalies}.items():
        assert score.recall >= 0.98 and score.precision >= 0.95, (kind, score)
    assert all(c["flagged"] == 0 for c in ev.lookalikes_flagged.values()), ev.lookalikes_flagged
    # Every reported ring explains itself.
    assert all(r.evidence and 0.5 <= r.score <= 1.0 for r in summary.result.rings)
