"""The bulk importer's files: typed headers, and cells the importer reads as the Cypher writer writes.

The live test (tests/integration/test_neo4j_bulk_import.py) proves the whole graph equal on Neo4j;
these pin the cell forms that decide it: quoted strings (``""`` an empty string), unquoted empty
fields for missing values, ISO datetimes with a ``T``, NaN as missing, lists joined by U+001F.
"""

from __future__ import annotations

import csv
import math
from datetime import date, datetime
from pathlib import Path

import pyarrow as pa
import pytest

from graph.duckdb.store import DuckDBStore
from graph.errors import SchemaError
from graph.neo4j.import_files import write_import_files


@pytest.fixture
def store(tmp_path: Path) -> DuckDBStore:
    s = DuckDBStore(tmp_path / "g.duckdb")
    s.apply_schema()
    return s


def _rows(path: Path) -> list[list[str]]:
    with path.open(encoding="utf-8", newline="") as f:
        return list(csv.reader(f))


def test_headers_carry_the_model_types_and_cells_keep_empty_apart_from_missing(
        store: DuckDBStore, tmp_path: Path) -> None:
    store.upsert_nodes("Institution", pa.table({
        "institution_id": ["H1", "H2"], "name": ['医院 "一", 分院\n东区', ""], "kind": ["hospital", "clinic"],
        "level": pa.array([3, None], pa.int64()), "latitude": [23.1, math.nan],
    }))
    store.upsert_nodes("Case", pa.table({
        "case_id": ["C1"], "title": ["t"], "status": ["open"],
        "shared_with": pa.array([["市公安局", "区医保中心"]], pa.list_(pa.string())),
        "created_at": pa.array([datetime(2026, 3, 1, 8, 30, 15, 250000)], pa.timestamp("us")),
    }))
    store.upsert_nodes("Patient", pa.table({"person_id": ["P1"], "birth_date": [date(1980, 1, 2)]}))
    files = write_import_files(store, tmp_path / "files")
    assert files.nodes == {"Patient": 1, "Institution": 2, "Case": 1} and files.records == 4

    inst = _rows(files.directory / "nodes-Institution.csv")
    header = inst[0]
    assert header[0] == "institution_id:ID(Institution)"
    assert "level:long" in header and "latitude:double" in header and "extra:string" in header
    by_id = {row[0]: dict(zip(header, row, strict=True)) for row in inst[1:]}
    assert by_id["H1"]["name:string"] == '医院 "一", 分院\n东区' and by_id["H1"]["level:long"] == "3"
    raw = (files.directory / "nodes-Institution.csv").read_text(encoding="utf-8")
    assert '"H2",""' in raw  # an empty name is a quoted empty string, kept as ""
    assert by_id["H2"]["level:long"] == "" and by_id["H2"]["latitude:double"] == ""  # missing, NaN
    assert ',,' in raw.split('"H2"', 1)[1]  # ... written as unquoted empty fields

    case = _rows(files.directory / "nodes-Case.csv")
    cells = dict(zip(case[0], case[1], strict=True))
    assert cells["shared_with:string[]"] == "市公安局\x1f区医保中心"
    assert cells["created_at:localdatetime"] == "2026-03-01T08:30:15.250000"
    patient = _rows(files.directory / "nodes-Patient.csv")
    assert dict(zip(patient[0], patient[1], strict=True))["birth_date:date"] == "1980-01-02"

    args = files.args_file.read_text(encoding="utf-8").splitlines()
    assert f"--nodes=Case={files.directory / 'nodes-Case.csv'}" in args
    assert "--bad-tolerance=0" in args and args[-1] == "neo4j"
    assert "--array-delimiter=\\u001F" in args and not any("overwrite" in a for a in args)


def test_relationships_get_one_file_per_pair_of_end_labels(store: DuckDBStore, tmp_path: Path) -> None:
    store.upsert_nodes("Institution", pa.table({"institution_id": ["H1"], "kind": ["hospital"]}))
    store.upsert_nodes("Pharmacy", pa.table({"institution_id": ["Y1"], "kind": ["pharmacy"]}))
    store.upsert_nodes("Doctor", pa.table({"doctor_id": ["D1", "D2"]}))
    store.upsert_relationships("WORKS_AT", pa.table({
        "src": ["D1", "D2"], "dst": ["H1", "Y1"], "dst_label": ["Institution", "Pharmacy"]}))
    files = write_import_files(store, tmp_path / "files", overwrite=True)
    assert files.relationships == {"WORKS_AT Doctor->Institution": 1, "WORKS_AT Doctor->Pharmacy": 1}
    rows = _rows(files.directory / "rels-WORKS_AT-Doctor-Pharmacy.csv")
    assert rows == [[":START_ID(Doctor)", ":END_ID(Pharmacy)"], ["D2", "Y1"]]
    assert "--overwrite-destination=true" in files.args_file.read_text(encoding="utf-8")


def test_a_list_value_holding_the_delimiter_is_refused(store: DuckDBStore, tmp_path: Path) -> None:
    store.upsert_nodes("Case", pa.table({
        "case_id": ["C1"], "shared_with": pa.array([["a\x1fb"]], pa.list_(pa.string()))}))
    with pytest.raises(SchemaError, match="U\\+001F"):
        write_import_files(store, tmp_path / "files")
