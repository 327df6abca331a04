"""``medfraud spark-detect INPUT OUT``: the detection job on Spark, findings written to OUT.

1. **Validate** the contract tables exactly as ``medfraud ingest`` does — the same readers,
   rules, entity resolution and rejects files (``ingest.loader.ingest_dir``) — into a staging
   DuckDB file under ``OUT/_staging`` (removed afterwards); rejects go to ``OUT/_rejects``,
   warnings to ``OUT/_warnings``. This step runs on the driver: it is the ingest code, not a copy.
2. **Detect** on Spark: the inputs become Spark DataFrames (Parquet, read once), every detector
   runs its own SQL through :class:`algorithms.spark.sql.SparkConnection` and communities come
   from :class:`algorithms.spark.components.SparkCommunityEngine` — the same ``detect_all`` the
   embedded job runs, so no detector logic is written twice.
3. **Write** the reported rings and findings in the ``detect --export`` shape: ``findings.json``,
   or for many findings (``--format parquet``, or ``auto`` past :data:`JSON_MAX_ITEMS`)
   ``rings.parquet`` + ``findings.parquet`` with the same fields. ``medfraud load-findings OUT``
   writes them into the configured store as a detection run.
"""

from __future__ import annotations

import json
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import pyarrow as pa
import pyarrow.parquet as pq

from algorithms.export import export_dict
from algorithms.job import DetectionResult, detect_all
from algorithms.projections import DetectionInputs, load_inputs
from algorithms.settings import DetectionSettings
from algorithms.sql_engine import use_engine

JSON_MAX_ITEMS = 20_000
ExportFormat = Literal["auto", "json", "parquet"]


@dataclass
class SparkJobSummary:
    out: Path
    files: list[Path]
    rejected_rows: int
    counts: dict[str, int]
    seconds: dict[str, float] = field(default_factory=dict)
    stats: dict[str, Any] = field(default_factory=dict)


def validated_inputs(input_dir: Path, out: Path) -> tuple[DetectionInputs, int]:
    """The contract tables of ``input_dir`` after ``medfraud ingest``'s validation (module docstring)."""
    from graph.duckdb.store import DuckDBStore
    from ingest.loader import ingest_dir

    staging = out / "_staging"
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    store = DuckDBStore(staging / "graph.duckdb")
    try:
        store.apply_schema()
        report = ingest_dir(store, input_dir, rejects_dir=out / "_rejects", warnings_dir=out / "_warnings")
        inputs = load_inputs(store)
    finally:
        store.close()
        shutil.rmtree(staging, ignore_errors=True)
    return inputs, int(report.rejected)


def on_spark(inputs: DetectionInputs, spark: Any, scratch: Path) -> DetectionInputs:
    """The inputs as Spark DataFrames, each written once as Parquet and read by every detector."""
    from algorithms.spark.sql import spark_frame

    def frame(name: str, table: Any) -> Any:
        return spark_frame(spark, table, scratch / name).cache()

    return DetectionInputs(
        persons=frame("persons", inputs.persons),
        institutions=frame("institutions", inputs.institutions),
        doctors=frame("doctors", inputs.doctors),
        claims=frame("claims", inputs.claims),
        injury_cases=frame("injury_cases", inputs.injury_cases),
    )


def detect_on_spark(inputs: DetectionInputs, settings: DetectionSettings, spark: Any,
                    scratch: Path) -> DetectionResult:
    """``detect_all`` with Spark as the SQL and community engine."""
    from algorithms.spark.components import SparkCommunityEngine
    from algorithms.spark.sql import SparkConnection

    engine = SparkCommunityEngine(spark, scratch=scratch)
    with use_engine(lambda threads: SparkConnection(spark, scratch)):
        result = detect_all(inputs, settings, engine)
    result.stats.update(engine.stats)
    return result


def write_findings(out: Path, result: DetectionResult, fmt: ExportFormat = "auto") -> list[Path]:
    """The reported rings and findings in the export shape (see the module docstring)."""
    doc = export_dict(result.rings, result.findings)
    items = len(doc["rings"]) + len(doc["double_claims"]) + len(doc["anomalies"])
    use = fmt if fmt != "auto" else ("json" if items <= JSON_MAX_ITEMS else "parquet")
    out.mkdir(parents=True, exist_ok=True)
    for old in ("findings.json", "rings.parquet", "findings.parquet"):
        (out / old).unlink(missing_ok=True)
    if use == "json":
        path = out / "findings.json"
        path.write_text(json.dumps(doc, ensure_ascii=False, indent=1), encoding="utf-8")
        return [path]
    rings = pa.table({
        "ring_id": pa.array([r.get("ring_id") for r in doc["rings"]], pa.string()),
        "kind": [r["kind"] for r in doc["rings"]],
        "score": pa.array([r["score"] for r in doc["rings"]], pa.float64()),
        "members": pa.array([r["members"] for r in doc["rings"]],
                            pa.list_(pa.struct([("type", pa.string()), ("id", pa.string())]))),
        "evidence": pa.array([r["evidence"] for r in doc["rings"]], pa.list_(pa.string())),
    })
    rows = [dict(f, section=section) for section in ("double_claims", "anomalies") for f in doc[section]]
    findings = pa.table({
        "section": [f["section"] for f in rows],
        "person_id": [f["person_id"] for f in rows],
        "kind": [f["kind"] for f in rows],
        "claims": pa.array([f["claims"] for f in rows],
                           pa.list_(pa.struct([("scheme", pa.string()), ("claim_id", pa.string())]))),
        "score": pa.array([f["score"] for f in rows], pa.float64()),
        "excess_amount": pa.array([f.get("excess_amount") for f in rows], pa.float64()),
        "evidence": pa.array([f["evidence"] for f in rows], pa.list_(pa.string())),
    })
    pq.write_table(rings, out / "rings.parquet")
    pq.write_table(findings, out / "findings.parquet")
    return [out / "rings.parquet", out / "findings.parquet"]


def spark_detect(input_dir: Path, out: Path, *, master: str | None = None,
                 settings: DetectionSettings | None = None, fmt: ExportFormat = "auto",
                 driver_memory: str | None = None) -> SparkJobSummary:
    """Validate, detect on Spark, write the findings (see the module docstring)."""
    from algorithms.spark.session import spark_session

    settings = settings or DetectionSettings()
    seconds: dict[str, float] = {}
    t = time.perf_counter()
    inputs, rejected = validated_inputs(Path(input_dir), Path(out))
    seconds["validate"] = time.perf_counter() - t
    t = time.perf_counter()
    spark = spark_session(master, driver_memory=driver_memory)
    scratch = Path(out) / "_spark"
    shutil.rmtree(scratch, ignore_errors=True)
    try:
        result = detect_on_spark(on_spark(inputs, spark, scratch), settings, spark, scratch)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    seconds["detect"] = time.perf_counter() - t
    files = write_findings(Path(out), result, fmt)
    counts = {
        "rings": len(result.rings),
        "double_claims": len(result.double_claims),
        "anomalies": len(result.anomalies),
    }
    return SparkJobSummary(out=Path(out), files=files, rejected_rows=rejected, counts=counts,
                           seconds={**seconds, **result.seconds}, stats=result.stats)
