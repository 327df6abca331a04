"""The export JSON of ``medfraud detect --export`` (the shape issue 4 fixes; extra fields allowed).

``{"rings":[{"ring_id","kind","score","members":[{"type","id"}],"evidence":[...]}],
"double_claims":[{"person_id","kind","claims":[{"scheme","claim_id"}],"excess_amount"}],
"anomalies":[{"kind","person_id","claims":[{"scheme","claim_id"}]}]}``

``evidence`` holds the sentences in Chinese (as before templates); ``evidence_data`` beside it
holds the same evidence as data (``{"id", "values"}``), from which any language can be rendered.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from algorithms.evidence import render_all, stored
from algorithms.results import Finding, Ring


def _finding(f: Finding) -> dict[str, Any]:
    out: dict[str, Any] = {
        "person_id": f.person_id,
        "kind": f.kind,
        "claims": [{"scheme": c.scheme, "claim_id": c.claim_id} for c in f.claims],
        "score": f.score,
        "evidence": render_all(f.evidence, "zh"),
        "evidence_data": stored(f.evidence),
    }
    if f.category == "double_claim" or f.excess_amount:
        out["excess_amount"] = f.excess_amount
    return out


def export_dict(rings: list[Ring], findings: list[Finding], *, run_id: str | None = None) -> dict[str, Any]:
    """Reported rings and findings as the export document."""
    doc: dict[str, Any] = {
        "rings": [
            {
                "ring_id": r.ring_id,
                "kind": r.kind,
                "score": r.score,
                "status": r.status,
                "members": [{"type": m.type, "id": m.id} for m in r.members],
                "evidence": render_all(r.evidence, "zh"),
                "evidence_data": stored(r.evidence),
            }
            for r in rings
        ],
        "double_claims": [_finding(f) for f in findings if f.category == "double_claim"],
        "anomalies": [_finding(f) for f in findings if f.category == "anomaly"],
    }
    if run_id:
        doc["run_id"] = run_id
    return doc


def write_export(
    path: Path, rings: list[Ring], findings: list[Finding], *, run_id: str | None = None
) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(
        json.dumps(export_dict(rings, findings, run_id=run_id), ensure_ascii=False, indent=1),
        encoding="utf-8",
    )
    tmp.replace(path)
