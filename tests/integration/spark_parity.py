"""Helpers of the Spark tests: the embedded run of a city folder, and what "the same findings" means."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from algorithms.export import export_dict
from algorithms.job import run_detection
from algorithms.parity import compare_exports, format_parity
from graph.duckdb.store import DuckDBStore
from ingest.loader import ingest_dir

_NUMBER = re.compile(r"\d[\d,.]*")


def embedded_export(city: Path, work: Path) -> tuple[dict[str, Any], int]:
    """``ingest`` + ``detect`` of ``city`` in a fresh DuckDB store: the export and the rejected rows."""
    store = DuckDBStore(work / "embedded.duckdb")
    try:
        store.apply_schema()
        report = ingest_dir(store, city, rejects_dir=work / "_rejects", warnings_dir=work / "_warnings")
        summary = run_detection(store)
        assert summary.result is not None
        return export_dict(summary.result.rings, summary.result.findings), int(report.rejected)
    finally:
        store.close()


def spark_export(out: Path) -> dict[str, Any]:
    doc: dict[str, Any] = json.loads((out / "findings.json").read_text(encoding="utf-8"))
    for i, ring in enumerate(doc["rings"]):
        ring["ring_id"] = f"spark-{i}"
    return doc


def _numbers(evidence: list[str]) -> list[str]:
    return [n for line in evidence for n in _NUMBER.findall(line)]


def assert_same_findings(embedded: dict[str, Any], spark: dict[str, Any]) -> None:
    """Rings matched by member Jaccard >= 0.95 both ways, identical findings, same evidence numbers."""
    parity = compare_exports(embedded, spark, min_jaccard=0.95)
    report = format_parity(parity, "embedded", "spark")
    assert parity.same, report
    assert all(r.rings_a == r.rings_b == r.matched for r in parity.rings), report

    def findings(doc: dict[str, Any]) -> dict[tuple[str, str, frozenset[str]], dict[str, Any]]:
        return {
            (f["kind"], f["person_id"], frozenset(f"{c['scheme']}:{c['claim_id']}" for c in f["claims"])): f
            for section in ("double_claims", "anomalies") for f in doc[section]
        }

    fe, fs = findings(embedded), findings(spark)
    for key, f in fe.items():
        assert _numbers(f["evidence"]) == _numbers(fs[key]["evidence"]), (key, f["evidence"], fs[key])
        assert f.get("excess_amount") == fs[key].get("excess_amount"), key
    # A ring with the same members says the same numbers.
    by_members = {frozenset(f"{m['type']}:{m['id']}" for m in r["members"]): r for r in spark["rings"]}
    for ring in embedded["rings"]:
        twin = by_members.get(frozenset(f"{m['type']}:{m['id']}" for m in ring["members"]))
        if twin is not None:
            assert _numbers(ring["evidence"]) == _numbers(twin["evidence"]), ring["evidence"]
            assert ring["score"] == twin["score"]
