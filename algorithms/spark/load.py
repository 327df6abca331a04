"""``medfraud load-findings OUT``: the findings of a ``spark-detect`` job into the configured store.

Reads ``OUT/findings.json`` or ``OUT/rings.parquet`` + ``OUT/findings.parquet`` (the export shape)
and records them as one detection run through :func:`algorithms.job.record_run` — the embedded
job's own write: rings matched to the previous run's by member overlap (ids, statuses and score
history kept), findings replaced, under the same detection lock. Investigators then see the run in
the API like any other. Needs no Spark: only the files.
"""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
from pydantic import ValidationError

from algorithms.job import DetectionLock, DetectionResult, RunSummary, record_run
from algorithms.results import ClaimRef, Finding, Member, Ring
from algorithms.settings import DetectionSettings
from graph.errors import InputError
from graph.port import GraphStore

_CATEGORY = {"double_claims": "double_claim", "anomalies": "anomaly"}


def read_findings(out: Path) -> dict[str, Any]:
    """The export document of a job folder (JSON, or the two Parquet files)."""
    path = Path(out)
    if (path / "findings.json").is_file():
        doc: dict[str, Any] = json.loads((path / "findings.json").read_text(encoding="utf-8"))
        return doc
    if (path / "rings.parquet").is_file() and (path / "findings.parquet").is_file():
        rings = pq.read_table(path / "rings.parquet").to_pylist()
        doc = {"rings": rings, "double_claims": [], "anomalies": []}
        for row in pq.read_table(path / "findings.parquet").to_pylist():
            doc[row.pop("section")].append(row)
        return doc
    raise InputError(
        f"{path}: no findings.json nor rings.parquet + findings.parquet (run spark-detect first)"
    )


def result_of(doc: dict[str, Any], source: str) -> DetectionResult:
    """Typed rings and findings of an export document; a malformed one is refused with its place."""
    try:
        rings = [
            Ring(kind=r["kind"], score=r["score"], evidence=list(r["evidence"]),
                 members=[Member(type=m["type"], id=m["id"]) for m in r["members"]])
            for r in doc["rings"]
        ]
        findings = [
            Finding(category=_CATEGORY[section], kind=f["kind"], person_id=f["person_id"],
                    claims=[ClaimRef(scheme=c["scheme"], claim_id=c["claim_id"]) for c in f["claims"]],
                    excess_amount=float(f.get("excess_amount") or 0.0), score=f["score"],
                    evidence=list(f["evidence"]))
            for section in ("double_claims", "anomalies") for f in doc[section]
        ]
    except (KeyError, TypeError, ValidationError) as exc:
        raise InputError(f"{source}: not a findings export: {exc}") from exc
    return DetectionResult(rings=rings, findings=findings)


def load_findings(store: GraphStore, out: Path, settings: DetectionSettings | None = None) -> RunSummary:
    """Record the job's findings as a detection run of ``store`` (engine ``spark``)."""
    settings = settings or DetectionSettings()
    started = datetime.now(UTC).replace(tzinfo=None)
    t0 = time.perf_counter()
    result = result_of(read_findings(out), str(out))
    with DetectionLock.for_store(store):
        return record_run(store, result, settings, engine_name="spark", started=started, t0=t0)
