"""The co-visit projection's SQL gives the same tables on Spark as on DuckDB, at its edges.

Edge fixtures (claims made by hand, one clinic per case)::

    H60   60 patients, one doctor, on days 1 and 2        -> one group of 60 each day (the limit)
    H61   61 patients on days 1 and 2, doctors D1 (31) / D2 (30) -> split into doctor-days
    HND   61 patients on day 1, 20 of them without a doctor -> those 20 dropped (no doctor-day)
    TWO   P1, P2 at TWO-A and TWO-B on day 3, and at TWO-A on day 4 (a pair at two places a day):
          two shared days at TWO-A; their single day at TWO-B does not count
    BURST usually 4 a day (days 10-19); day 20 has 8 (exactly 2x, excess 4): a burst;
          day 21 has 7 (below 2x): not a burst
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pandas as pd
import pytest

from algorithms.projections import covisit_projection
from algorithms.settings import DetectionSettings
from algorithms.sql_engine import use_engine

START = date(2025, 3, 1)


def _claim(i: int, person: str, inst: str, doctor: str | None, day: int, amount: float = 50.0
           ) -> dict[str, Any]:
    d = (START + timedelta(days=day)).isoformat()
    return {"claim_id": f"c{i}", "scheme": "medical", "person_id": person, "institution_id": inst,
            "doctor_id": doctor, "visit_type": "outpatient", "start_date": d, "end_date": d,
            "diagnosis_code": "J06", "total_amount": amount * 1.25, "reimbursed_amount": amount,
            "injury_case_id": None}


def edge_claims() -> pd.DataFrame:
    rows: list[tuple[str, str, str | None, int]] = []
    for day in (1, 2):
        rows += [(f"a{p}", "H60", "DA", day) for p in range(60)]
        rows += [(f"b{p}", "H61", "D1" if p < 31 else "D2", day) for p in range(61)]
    rows += [(f"n{p}", "HND", None if p < 20 else "DN", 1) for p in range(61)]
    rows += [(f"n{p}", "HND", None if p < 20 else "DN", 2) for p in range(61)]
    rows += [("P1", "TWO-A", "DT", 3), ("P2", "TWO-A", "DT", 3), ("P1", "TWO-B", "DU", 3),
             ("P2", "TWO-B", "DU", 3), ("P1", "TWO-A", "DT", 4), ("P2", "TWO-A", "DT", 4)]
    for day in range(10, 20):
        rows += [(f"r{(day * 4 + k) % 12}", "BURST", "DB", day) for k in range(4)]
    rows += [(f"x{k}", "BURST", "DB", 20) for k in range(8)]
    rows += [(f"y{k}", "BURST", "DB", 21) for k in range(7)]
    return pd.DataFrame([_claim(i, *r) for i, r in enumerate(rows)])


def _tables(cv: Any, con_sql: str) -> pd.DataFrame:
    cv.con.register("idays_out", cv.idays)
    return cv.con.execute(con_sql).df()


IDAYS = "SELECT institution_id, day, n, base, burst FROM idays_out ORDER BY institution_id, day"


def _both(spark: Any, claims: pd.DataFrame) -> tuple[Any, Any]:
    from algorithms.spark.sql import SparkConnection

    settings = DetectionSettings()
    duck = covisit_projection(claims, settings)
    with use_engine(lambda threads: SparkConnection(spark)):
        on_spark = covisit_projection(claims, settings)
    return duck, on_spark


def _sorted(edges: pd.DataFrame) -> pd.DataFrame:
    return edges.sort_values(["src", "dst"]).reset_index(drop=True)


@pytest.mark.spark
def test_edge_fixtures_give_the_same_projection_on_both_engines(spark: Any) -> None:
    duck, on_spark = _both(spark, edge_claims())
    try:
        pd.testing.assert_frame_equal(_sorted(duck.edges), _sorted(on_spark.edges), check_dtype=False)
        assert duck.stats == on_spark.stats
        d_days, s_days = _tables(duck, IDAYS), _tables(on_spark, IDAYS)
        pd.testing.assert_frame_equal(d_days, s_days, check_dtype=False)
    finally:
        duck.con.close()
        on_spark.con.close()
    # What the fixtures are for, read off the reference engine.
    e = duck.edges
    pairs = set(zip(e["src"], e["dst"], strict=True))
    persons = set(e["src"]) | set(e["dst"])
    assert {f"a{p}" for p in range(60)} <= persons  # 60 a day: one group
    assert ("b0", "b1") in pairs and ("b0", "b40") not in pairs  # 61: split by doctor
    assert not persons & {f"n{p}" for p in range(20)}  # no doctor at a hub: no doctor-day, no group
    # Day 3 at TWO-B is their only visit there: a pair needs two days at one place (or a burst).
    assert e.loc[(e["src"] == "P1") & (e["dst"] == "P2"), "days"].tolist() == [2]
    bursts = d_days[d_days["institution_id"] == "BURST"].set_index("day")["burst"]
    assert bool(bursts[pd.Timestamp(START + timedelta(days=20))])  # exactly 2x the usual day
    assert not bool(bursts[pd.Timestamp(START + timedelta(days=21))])
