"""Analyst SQL on DuckDB: only one SELECT passes, files and network stay shut, time and rows bounded."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest

from graph.duckdb.store import DuckDBStore
from graph.errors import InvalidRequest, QueryTimeout, WriteRefused


@pytest.fixture
def store() -> Iterator[DuckDBStore]:
    s = DuckDBStore(":memory:", threads=2, read_query_row_limit=2)
    s.apply_schema()
    s.upsert_nodes("Patient", pd.DataFrame({"person_id": ["P1", "P2", "P3"],
                                            "name": ["张三", "李四", "王五"]}))
    yield s
    s.close()


def test_with_select_and_from_shorthand_are_reads(store: DuckDBStore) -> None:
    res = store.read_query("WITH p AS (SELECT * FROM n_Patient) SELECT count(*) AS n FROM p")
    assert res.columns == ["n"] and res.rows == [[3]]
    assert store.read_query("FROM n_Patient SELECT name WHERE person_id = 'P2'").rows == [["李四"]]


def test_default_row_limit_comes_from_settings(store: DuckDBStore) -> None:
    res = store.read_query("SELECT person_id FROM n_Patient ORDER BY 1")
    assert res.rows == [["P1"], ["P2"]] and res.truncated


@pytest.mark.parametrize("text", [
    "UPDATE n_Patient SET name = 'x'",
    "DELETE FROM n_Patient",
    "CREATE TABLE t AS SELECT 1",
    "SELECT 1; DELETE FROM n_Patient",
    "PRAGMA database_list",
    "SET threads = 1",
    "CALL checkpoint()",
    "EXPLAIN ANALYZE SELECT 1",
    "INSTALL httpfs",
    "DETACH DATABASE memory",
])
def test_anything_but_one_select_is_refused(store: DuckDBStore, text: str) -> None:
    with pytest.raises(WriteRefused):
        store.read_query(text)
    assert store.count_nodes()["Patient"] == 3


@pytest.mark.parametrize("text", [
    "SELECT * FROM read_csv('/etc/passwd')",
    "SELECT * FROM read_text('/etc/hostname')",
    "SELECT * FROM 'https://example.com/data.parquet'",
    "SELECT * FROM glob('/*')",
])
def test_file_and_network_access_is_blocked(store: DuckDBStore, text: str) -> None:
    with pytest.raises((WriteRefused, InvalidRequest)) as caught:
        store.read_query(text)
    assert "disabled" in str(caught.value) or "not" in str(caught.value)


def test_copy_to_a_file_writes_nothing(store: DuckDBStore, tmp_path: Path) -> None:
    target = tmp_path / "out.csv"
    with pytest.raises(WriteRefused):
        store.read_query(f"COPY n_Patient TO '{target}'")
    assert not target.exists()


def test_a_long_query_is_interrupted(store: DuckDBStore) -> None:
    started = time.monotonic()
    with pytest.raises(QueryTimeout, match=r"0\.3 s"):
        store.read_query("SELECT count(*) FROM range(1000000000000) a", timeout_s=0.3)
    assert time.monotonic() - started < 5
    assert store.read_query("SELECT 1 AS one").rows == [[1]]  # the store still answers


def test_a_huge_result_is_cut_without_being_computed(store: DuckDBStore) -> None:
    started = time.monotonic()
    res = store.read_query("SELECT * FROM range(10000000000) t(i)", limit=5, timeout_s=10)
    assert res.rows == [[0], [1], [2], [3], [4]] and res.truncated
    assert time.monotonic() - started < 5


def test_bad_sql_is_an_invalid_request(store: DuckDBStore) -> None:
    with pytest.raises(InvalidRequest):
        store.read_query("SELEC nothing")
    with pytest.raises(InvalidRequest, match="no_such_table"):
        store.read_query("SELECT * FROM no_such_table")


def test_parameters_are_bound(store: DuckDBStore) -> None:
    res = store.read_query("SELECT person_id FROM n_Patient WHERE name = $name", {"name": "王五"})
    assert res.rows == [["P3"]]
    evil = "x'; DROP TABLE n_Patient; --"
    assert store.read_query("SELECT person_id FROM n_Patient WHERE name = $name", {"name": evil}).rows == []
    assert store.count_nodes()["Patient"] == 3
