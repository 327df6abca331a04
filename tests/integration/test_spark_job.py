"""``medfraud spark-detect`` and ``load-findings`` on the fixture city (3,000 persons, seed 7, 5 bad rows)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from graph.duckdb.store import DuckDBStore
from ingest.loader import ingest_dir
from tests.integration.spark_parity import assert_same_findings, embedded_export, spark_export

pytestmark = pytest.mark.spark


@pytest.fixture(scope="module")
def job(spark: Any, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """One Spark run of the city through the CLI, and the embedded run of the same folder."""
    from api.cli import app
    from ingest.generator import generate_city

    base = tmp_path_factory.mktemp("spark_job")
    city = base / "city"
    generate_city(city, persons=3000, seed=7, bad_rows=5)
    out = base / "out"
    result = CliRunner().invoke(app, ["spark-detect", str(city), str(out), "--master", "local[2]"])
    assert result.exit_code == 0, result.output
    embedded, rejected = embedded_export(city, base)
    return {"city": city, "out": out, "output": result.output, "embedded": embedded, "rejected": rejected}


def test_spark_job_finds_what_the_embedded_job_finds(job: dict[str, Any]) -> None:
    assert_same_findings(job["embedded"], spark_export(job["out"]))
    assert job["embedded"]["rings"] and job["embedded"]["double_claims"] and job["embedded"]["anomalies"]
    assert "co-visit graph:" in job["output"] and "the largest" in job["output"]  # giant reported


def test_bad_rows_are_rejected_by_the_ingest_rules_and_written(job: dict[str, Any]) -> None:
    assert job["rejected"] > 0
    assert f"rejected rows {job['rejected']}" in job["output"]
    # the same rejects files, row for row, as `medfraud ingest` of the folder writes
    spark_rejects = {p.name: p.read_bytes() for p in (job["out"] / "_rejects").glob("*.csv")}
    ingest_rejects = {p.name: p.read_bytes() for p in (job["city"].parent / "_rejects").glob("*.csv")}
    assert spark_rejects and spark_rejects == ingest_rejects
    assert not (job["out"] / "_staging").exists() and not (job["out"] / "_spark").exists()


def test_load_findings_records_a_run_investigators_see_with_stable_ring_ids(
    job: dict[str, Any], tmp_path: Path
) -> None:
    from algorithms.spark.load import load_findings

    store = DuckDBStore(tmp_path / "graph.duckdb")
    try:
        store.apply_schema()
        ingest_dir(store, job["city"], rejects_dir=tmp_path / "_rejects", warnings_dir=tmp_path / "_warnings")
        first = load_findings(store, job["out"])
        assert first.engine == "spark" and first.counts["rings"] == len(job["embedded"]["rings"])
        rings = store.nodes_frame("Ring", ["ring_id", "status"])
        assert len(rings) == first.counts["rings"] and set(rings["status"]) == {"new"}
        second = load_findings(store, job["out"])
        again = store.nodes_frame("Ring", ["ring_id", "status"])
        assert set(again["ring_id"]) == set(rings["ring_id"]) and set(again["status"]) == {"stable"}
        assert second.counts["double_claims"] == len(job["embedded"]["double_claims"])
    finally:
        store.close()


def test_load_findings_refuses_a_folder_without_findings(tmp_path: Path) -> None:
    from algorithms.spark.load import read_findings
    from graph.errors import InputError

    with pytest.raises(InputError, match="spark-detect"):
        read_findings(tmp_path)
