"""The detectors' SQL engine interface: DuckDB by default, chosen per run, tables handed over as values."""

from __future__ import annotations

import pandas as pd

from algorithms import sql_engine
from algorithms.projections import covisit_projection
from algorithms.settings import DetectionSettings


def _claims() -> pd.DataFrame:
    """Four patients at clinic C on two days (a group each day), nothing else."""
    rows = [
        {"claim_id": f"c{d}{p}", "scheme": "medical", "person_id": f"P{p}", "institution_id": "C",
         "doctor_id": "D", "visit_type": "outpatient", "start_date": f"2024-01-0{d}",
         "end_date": f"2024-01-0{d}", "diagnosis_code": "J00", "total_amount": 100.0,
         "reimbursed_amount": 80.0, "injury_case_id": None}
        for d in (1, 2) for p in range(4)
    ]
    return pd.DataFrame(rows)


def test_projection_hands_its_tables_over_as_values_not_names() -> None:
    cv = covisit_projection(_claims(), DetectionSettings())
    try:
        names = {r[0] for r in cv.con.execute("SELECT table_name FROM duckdb_tables()").fetchall()}
        assert "visits" not in names and "idays" not in names  # nobody can read them by a shared name
        cv.con.register("mine", cv.idays)
        assert cv.con.execute("SELECT count(*), sum(n) FROM mine").fetchall() == [(2, 8)]
        assert len(cv.edges) == 6  # every pair of the four, two shared days each
    finally:
        cv.con.close()


def test_use_engine_chooses_the_connection_of_a_run_and_restores_the_default() -> None:
    opened: list[int | None] = []

    def factory(threads: int | None) -> sql_engine.SqlConnection:
        opened.append(threads)
        return sql_engine.duckdb_connection(threads)

    with sql_engine.use_engine(factory):
        cv = covisit_projection(_claims(), DetectionSettings(), threads=1)
        cv.con.close()
    assert opened == [1]
    sql_engine.connect().close()
    assert opened == [1]
