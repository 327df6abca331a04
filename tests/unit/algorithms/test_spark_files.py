"""The Spark job's pieces that need no Spark: the findings files and the SQL transpilation."""

from __future__ import annotations

from pathlib import Path

import pytest

from algorithms.job import DetectionResult
from algorithms.results import ClaimRef, Finding, Member, Ring


def _result() -> DetectionResult:
    ring = Ring(kind="collusion", score=0.91,
                evidence=["23 名成员中平均 17 人在 11 个不同日期同日到 康宁诊所 就诊"],
                members=[Member(type="Patient", id="P1"), Member(type="Institution", id="I1")])
    double = Finding(category="double_claim", kind="medical_and_work_injury", person_id="P1",
                     claims=[ClaimRef(scheme="medical", claim_id="m1"),
                             ClaimRef(scheme="work_injury", claim_id="w1")],
                     excess_amount=812.5, score=1.0, evidence=["同一工伤两险种均报销"])
    anomaly = Finding(category="anomaly", kind="claim_after_death", person_id="P2",
                      claims=[ClaimRef(scheme="medical", claim_id="m9")], score=1.0, evidence=["死亡后就诊"])
    return DetectionResult(rings=[ring], findings=[double, anomaly])


@pytest.mark.parametrize("fmt", ["json", "parquet"])
def test_findings_files_read_back_as_the_same_result(fmt: str, tmp_path: Path) -> None:
    from algorithms.spark.job import write_findings
    from algorithms.spark.load import read_findings, result_of

    files = write_findings(tmp_path, _result(), fmt)  # type: ignore[arg-type]
    assert [p.suffix for p in files] == ([".json"] if fmt == "json" else [".parquet", ".parquet"])
    back = result_of(read_findings(tmp_path), str(tmp_path))
    want = _result()
    assert [r.model_dump() for r in back.rings] == [r.model_dump() for r in want.rings]
    assert [f.model_dump() for f in back.findings] == [f.model_dump() for f in want.findings]


def test_a_malformed_findings_file_is_refused_with_its_place(tmp_path: Path) -> None:
    from algorithms.spark.load import read_findings, result_of
    from graph.errors import InputError

    (tmp_path / "findings.json").write_text(
        '{"rings": [{"kind": "collusion"}], "double_claims": [], "anomalies": []}'
    )
    with pytest.raises(InputError, match=str(tmp_path)):
        result_of(read_findings(tmp_path), str(tmp_path))


def test_parameters_are_bound_as_literals_both_dialects_read_alike() -> None:
    pytest.importorskip("pyspark")
    from algorithms.spark.sql import bind, to_spark_sql

    sql = bind("SELECT * FROM t WHERE n > $max AND f >= $f * base AND k = $k AND b = $b",
               {"max": 60, "f": 2.0, "k": "it's", "b": True})
    assert sql == ("SELECT * FROM t WHERE n > 60 AND f >= CAST(2.0 AS DOUBLE) * base AND k = 'it''s' "
                   "AND b = TRUE")
    with pytest.raises(KeyError, match=r"\$missing"):
        bind("SELECT $missing", {})
    # DuckDB's ordered and distinct lists keep their meaning in Spark
    assert "ARRAY_SORT(COLLECT_SET(x))" in to_spark_sql("SELECT list(DISTINCT x ORDER BY x) FROM t")
    assert "ARRAY_SORT(COLLECT_LIST(x))" in to_spark_sql("SELECT list(x ORDER BY x) FROM t")
    with pytest.raises(ValueError, match="descending"):
        to_spark_sql("SELECT list(x ORDER BY x DESC) FROM t")
