"""The analyst view of the DuckDB store: what is in it, what is not, and how it follows writes."""

from __future__ import annotations

import time
from pathlib import Path

import pandas as pd

from graph.duckdb.store import DuckDBStore
from graph.port import pseudonym
from tests.integration import api_graph as g

KEY = "view-key-0123456789"


def _store() -> DuckDBStore:
    store = DuckDBStore(":memory:")
    store.apply_schema()
    g.build(store)
    store.upsert_nodes("Case", pd.DataFrame([{"case_id": "CASE-1", "title": "张三 团伙"}]))
    return store


def test_personal_keys_are_the_pseudonyms_python_computes_and_names_are_gone() -> None:
    store = _store()
    rows = store.analyst_query(
        "SELECT person_id, name, birth_date, birth_year, phone FROM n_Patient WHERE birth_year = 1950",
        key=KEY,
    ).rows
    assert rows == [
        [pseudonym(KEY, "person", g.P1), None, None, 1950, pseudonym(KEY, "phone", g.BROKER_PHONE)]
    ]
    # the same person is the same pseudonym at both ends of a relationship, in every table
    claims = store.analyst_query(
        "SELECT count(*) FROM r_HAS_CLAIM WHERE src = $p", {"p": pseudonym(KEY, "person", g.P1)}, key=KEY
    ).rows
    assert claims == [[4]]
    members = store.analyst_query("SELECT dst FROM r_HAS_MEMBER WHERE dst_label = 'Phone'", key=KEY).rows
    assert members == [[pseudonym(KEY, "phone", g.BROKER_PHONE)]]
    # another key, other pseudonyms
    other = store.analyst_query("SELECT person_id FROM n_Patient WHERE birth_year = 1950", key="k2" * 10).rows
    assert other != [[rows[0][0]]]
    store.close()


def test_cases_and_notes_are_not_in_the_view() -> None:
    store = _store()
    tables = {
        r[0]
        for r in store.analyst_query(
            "SELECT table_name FROM information_schema.tables", key=KEY, limit=100
        ).rows
    }
    assert "n_Patient" in tables and not tables & {"n_Case", "n_CaseNote", "r_INCLUDES", "r_HAS_NOTE"}
    store.close()


def test_the_view_follows_writes() -> None:
    store = _store()
    count = "SELECT count(*) FROM n_Patient"
    assert store.analyst_query(count, key=KEY).rows == [[6]]
    store.upsert_nodes("Patient", pd.DataFrame([{"person_id": "110101199901011111", "name": "新人"}]))
    # the next queries may still answer from the previous copy while a new one is built
    deadline = time.monotonic() + 30
    while store.analyst_query(count, key=KEY).rows != [[7]]:
        assert time.monotonic() < deadline, "the view never caught up with the write"
        time.sleep(0.05)
    store.close()


def test_a_file_store_keeps_its_copy_in_a_private_file_removed_on_close(tmp_path: Path) -> None:
    store = DuckDBStore(tmp_path / "store.duckdb")
    store.apply_schema()
    g.build(store)
    assert store.analyst_query("SELECT count(*) FROM n_Patient", key=KEY).rows == [[6]]
    copies = [p for p in tmp_path.iterdir() if ".analyst-" in p.name and not p.name.endswith(".wal")]
    assert len(copies) == 1 and copies[0].stat().st_mode & 0o777 == 0o600
    store.close()
    assert not [p for p in tmp_path.iterdir() if ".analyst-" in p.name]
