"""DuckDB upserts: de-duplication, atomic batches, validation, input formats, index handling."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from typing import Any

import pandas as pd
import pyarrow as pa
import pytest

import graph.duckdb.store as duckdb_store
import graph.duckdb.writes as writes
from graph.duckdb import indexes as table_indexes
from graph.duckdb import reads
from graph.duckdb.store import DuckDBStore
from graph.errors import InputError, SchemaError, StoreError
from graph.model import NodeRef


@pytest.fixture
def store() -> Iterator[DuckDBStore]:
    s = DuckDBStore(":memory:", threads=2)
    s.apply_schema()
    yield s
    s.close()


def patients(store: DuckDBStore) -> dict[str, dict[str, object]]:
    return {n.key: n.props for n in store.get_nodes("Patient", ["P1", "P2", "P3", "P4"])}


def test_duplicate_keys_in_a_batch_last_row_wins(store: DuckDBStore) -> None:
    written = store.upsert_nodes("Patient", pd.DataFrame({
        "person_id": ["P1", "P2", "P1", "P1"], "name": ["first", "B", "second", "third"]}))
    assert written == 2
    assert patients(store)["P1"]["name"] == "third"
    assert store.count_nodes()["Patient"] == 2


def test_duplicate_relationships_in_a_batch_merge_last_row_wins(store: DuckDBStore) -> None:
    store.upsert_nodes("Patient", pd.DataFrame({"person_id": ["P1"]}))
    store.upsert_nodes("Claim", pd.DataFrame({"claim_key": ["c1"]}))
    written = store.upsert_relationships("HAS_CLAIM", pd.DataFrame({
        "src": ["P1", "P1"], "dst": ["c1", "c1"], "date": [date(2024, 1, 1), date(2024, 2, 2)]}))
    assert written == 1
    frame = store.relationships_frame("HAS_CLAIM")
    assert len(frame) == 1 and pd.Timestamp(frame.loc[0, "date"]).date() == date(2024, 2, 2)
    store.upsert_relationships("HAS_CLAIM", pd.DataFrame({"src": ["P1"], "dst": ["c1"],
                                                          "date": [date(2024, 3, 3)]}))
    frame = store.relationships_frame("HAS_CLAIM")
    assert len(frame) == 1 and pd.Timestamp(frame.loc[0, "date"]).date() == date(2024, 3, 3)


def test_duplicates_and_missing_ends_are_found_when_node_tables_outnumber_the_batch(
        store: DuckDBStore) -> None:
    # bigger node tables than batches: the join count that can prove a batch clean must not be
    # fooled by a repeated row or by a repeat hiding a missing end
    store.upsert_nodes("Patient", pd.DataFrame({"person_id": ["P1", "P2", "P3", "P4"]}))
    store.upsert_nodes("Claim", pd.DataFrame({"claim_key": ["c1", "c2", "c3", "c4"]}))
    written = store.upsert_relationships("HAS_CLAIM", pd.DataFrame({
        "src": ["P1", "P1", "P2"], "dst": ["c1", "c1", "c9"],
        "date": [date(2024, 1, 1), date(2024, 2, 2), date(2024, 3, 3)]}))
    assert written == 1
    frame = store.relationships_frame("HAS_CLAIM")
    assert list(frame["dst"]) == ["c1"] and pd.Timestamp(frame.loc[0, "date"]).date() == date(2024, 2, 2)
    clean = pd.DataFrame({"src": ["P3", "P4"], "dst": ["c3", "c4"]})
    assert store.upsert_relationships("HAS_CLAIM", clean) == 2
    assert store.count_relationships()["HAS_CLAIM"] == 3


def test_a_failing_batch_leaves_nothing_and_earlier_batches_stay(store: DuckDBStore) -> None:
    rows = pd.DataFrame({"person_id": ["P1", "P2", "P3", "P4"], "birth_date": ["1950-01-01", "1951-02-02",
                                                                               "not a date", "1953-04-04"]})
    with pytest.raises(InputError):
        store.upsert_nodes("Patient", rows, batch_size=2)
    # batch 1 (P1, P2) committed; batch 2 failed as a whole, P4 included
    assert sorted(patients(store)) == ["P1", "P2"]


def test_a_failure_after_the_update_step_rolls_the_update_back(store: DuckDBStore,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    store.upsert_nodes("Patient", pd.DataFrame({"person_id": ["P1"], "name": ["old"]}))
    real_scalar = writes._scalar

    def failing_insert(cur: Any, sql: str, params: Any = None) -> int:
        if sql.startswith("INSERT"):
            raise RuntimeError("disk full (injected)")
        return real_scalar(cur, sql, params)

    monkeypatch.setattr(writes, "_scalar", failing_insert)
    with pytest.raises(RuntimeError, match="injected"):
        store.upsert_nodes("Patient", pd.DataFrame({"person_id": ["P1", "P2"], "name": ["new", "x"]}))
    monkeypatch.undo()
    assert patients(store) == {"P1": {"person_id": "P1", "name": "old"}}


def test_replace_derived_is_one_transaction(store: DuckDBStore, monkeypatch: pytest.MonkeyPatch) -> None:
    from graph.derived import DerivedData

    store.upsert_nodes("Patient", pd.DataFrame({"person_id": ["P1", "P2"]}))
    store.upsert_nodes("Finding", pd.DataFrame({"finding_id": ["F-old"]}))
    real = DuckDBStore._upsert_rels_tx

    def fail_on_concerns(self: DuckDBStore, cur: Any, type_: str, table: pa.Table) -> int:
        if type_ == "CONCERNS":
            raise RuntimeError("crash while writing CONCERNS (injected)")
        return real(self, cur, type_, table)

    monkeypatch.setattr(DuckDBStore, "_upsert_rels_tx", fail_on_concerns)
    data = DerivedData(
        run=pd.DataFrame({"run_id": ["r1"]}),
        rings=pd.DataFrame({"ring_id": ["R1"], "kind": ["collusion"]}),
        ring_members=pd.DataFrame({"src": ["R1"], "dst": ["P1"], "dst_label": ["Patient"],
                                   "role": ["patient"]}),
        findings=pd.DataFrame({"finding_id": ["F-new"]}),
        finding_claims=pd.DataFrame({"src": [], "dst": []}),
        finding_persons=pd.DataFrame({"src": ["F-new"], "dst": ["P2"]}),
    )
    with pytest.raises(RuntimeError, match="injected"):
        store.replace_derived(data)
    counts = store.count_nodes()
    assert (counts["Ring"], counts["DetectionRun"], counts["Finding"]) == (0, 0, 1)
    assert store.get_nodes("Finding", ["F-old"]) != []
    assert store.count_relationships()["HAS_MEMBER"] == 0


def test_unknown_column_is_a_schema_error_naming_it(store: DuckDBStore) -> None:
    with pytest.raises(SchemaError, match="'shoe_size'"):
        store.upsert_nodes("Patient", pd.DataFrame({"person_id": ["P1"], "shoe_size": [42]}))
    with pytest.raises(SchemaError, match="'person_id'"):
        store.upsert_nodes("Patient", pd.DataFrame({"name": ["no key"]}))
    with pytest.raises(SchemaError, match="'weight'"):
        store.upsert_relationships("HAS_CLAIM", pd.DataFrame({"src": ["P1"], "dst": ["c"], "weight": [1]}))
    with pytest.raises(SchemaError, match="Unicorn"):
        store.upsert_nodes("Unicorn", pd.DataFrame({"id": ["1"]}))
    with pytest.raises(SchemaError, match="must be one of Institution, Pharmacy"):
        store.upsert_relationships("TREATED_AT", pd.DataFrame({"src": ["c"], "dst": ["D1"],
                                                               "dst_label": ["Doctor"]}))


def test_a_row_without_key_is_refused(store: DuckDBStore) -> None:
    with pytest.raises(InputError, match="no person_id"):
        store.upsert_nodes("Patient", pd.DataFrame({"person_id": ["P1", None]}))
    assert store.count_nodes()["Patient"] == 0


def test_arrow_input_with_native_types(store: DuckDBStore) -> None:
    table = pa.table({
        "claim_key": ["medical:1", "medical:2"],
        "start_date": pa.array([date(2024, 5, 1), None], pa.date32()),
        "total_amount": pa.array([10, 20], pa.int64()),  # ints land in a DOUBLE column
    })
    assert store.upsert_nodes("Claim", table) == 2
    [c1] = store.get_nodes("Claim", ["medical:1"])
    assert c1.props == {"claim_key": "medical:1", "start_date": date(2024, 5, 1), "total_amount": 10.0}


def test_json_and_list_properties(store: DuckDBStore) -> None:
    store.upsert_nodes("Ring", pd.DataFrame({"ring_id": ["R1"],
                                             "evidence": [["同日就诊 12 次", "共用电话"]]}))
    store.upsert_nodes("Case", pd.DataFrame({"case_id": ["K1"], "shared_with": [["公安局", "市局"]]}))
    [ring] = store.get_nodes("Ring", ["R1"])
    # stored as JSON text, read back parsed (graph/records.py): nobody above the port parses it
    assert ring.props["evidence"] == ["同日就诊 12 次", "共用电话"]
    stored = store.read_query("SELECT evidence FROM n_Ring").rows
    assert stored == [['["同日就诊 12 次", "共用电话"]']]
    [case] = store.get_nodes("Case", ["K1"])
    assert case.props["shared_with"] == ["公安局", "市局"]


def test_endpoint_label_is_resolved_when_not_given(store: DuckDBStore) -> None:
    store.upsert_nodes("Claim", pd.DataFrame({"claim_key": ["c1", "c2", "c3"]}))
    store.upsert_nodes("Institution", pd.DataFrame({"institution_id": ["H1"]}))
    store.upsert_nodes("Pharmacy", pd.DataFrame({"institution_id": ["PH1"]}))
    written = store.upsert_relationships("TREATED_AT", pd.DataFrame({
        "src": ["c1", "c2", "c3"], "dst": ["H1", "PH1", "nowhere"]}))
    assert written == 2
    frame = store.relationships_frame("TREATED_AT").sort_values("src")
    assert list(frame["dst_label"]) == ["Institution", "Pharmacy"]


def test_rows_with_a_missing_endpoint_are_skipped_per_given_label(store: DuckDBStore) -> None:
    store.upsert_nodes("Claim", pd.DataFrame({"claim_key": ["c1", "c2", "c3", "c4"]}))
    store.upsert_nodes("Institution", pd.DataFrame({"institution_id": ["H1"]}))
    store.upsert_nodes("Pharmacy", pd.DataFrame({"institution_id": ["PH1"]}))
    # c3 names a pharmacy under the institution label and c9 is no claim: both skipped
    written = store.upsert_relationships("TREATED_AT", pd.DataFrame({
        "src": ["c1", "c2", "c3", "c9"], "dst": ["H1", "PH1", "PH1", "H1"],
        "dst_label": ["Institution", "Pharmacy", "Institution", "Institution"]}))
    assert written == 2
    frame = store.relationships_frame("TREATED_AT").sort_values("src")
    assert list(zip(frame["src"], frame["dst_label"], strict=True)) == [("c1", "Institution"),
                                                                         ("c2", "Pharmacy")]
    # a second batch into the filled table: new rows added, a repeated one updated, none doubled
    written = store.upsert_relationships("TREATED_AT", pd.DataFrame({
        "src": ["c1", "c3", "c4"], "dst": ["H1", "PH1", "nowhere"], "dst_label": ["Institution"] * 3,
        "date": [date(2024, 5, 1)] * 3}))
    assert written == 1
    frame = store.relationships_frame("TREATED_AT").sort_values("src")
    assert list(frame["src"]) == ["c1", "c2"]
    assert pd.Timestamp(frame.iloc[0]["date"]).date() == date(2024, 5, 1)


def test_a_second_batch_of_new_keys_is_inserted_and_repeats_update(store: DuckDBStore) -> None:
    store.upsert_nodes("Patient", pd.DataFrame({"person_id": ["P1", "P2"], "name": ["a", "b"]}))
    assert store.upsert_nodes("Patient", pd.DataFrame({"person_id": ["P3", "P4"], "name": ["c", "d"]})) == 2
    assert store.upsert_nodes("Patient", pd.DataFrame({"person_id": ["P4", "P4", "P1"],
                                                       "name": ["x", "y", "z"]})) == 2
    assert {k: v["name"] for k, v in patients(store).items()} == {"P1": "z", "P2": "b", "P3": "c", "P4": "y"}


def test_bulk_batches_drop_indexes_and_the_next_read_rebuilds_them(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(table_indexes, "BULK_ROWS", 3)
    s = DuckDBStore(":memory:")
    s.apply_schema()
    s.ensure_indexes()
    assert "ix_n_Patient_key" in s.index_names()
    s.upsert_nodes("Patient", pd.DataFrame({"person_id": ["P1"]}))  # small: index kept up to date
    assert "ix_n_Patient_key" in s.index_names()
    s.upsert_nodes("Patient", pd.DataFrame({"person_id": ["P2", "P3", "P4"]}))
    assert "ix_n_Patient_key" not in s.index_names()
    assert [n.key for n in s.get_nodes("Patient", ["P3", "P1"])] == ["P3", "P1"]
    assert "ix_n_Patient_key" in s.index_names()
    s.close()


def test_index_rebuild_orders_shared_entity_tables_by_their_hub(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(table_indexes, "BULK_ROWS", 4)
    s = DuckDBStore(":memory:")
    s.apply_schema()
    s.upsert_nodes("Claim", pd.DataFrame({"claim_key": [f"c{i}" for i in range(8)]}))
    s.upsert_nodes("Institution", pd.DataFrame({"institution_id": ["H1", "H2", "H3"]}))
    hubs = ["H3", "H1", "H2", "H1", "H3", "H2", "H1", "H3"]
    s.upsert_relationships("TREATED_AT", pd.DataFrame({
        "src": [f"c{i}" for i in range(8)], "dst": hubs, "dst_label": ["Institution"] * 8,
        "date": [date(2024, 1, 1 + i) for i in range(8)]}))
    before = s.neighbours([NodeRef("Institution", "H1")], cap=2)
    s.ensure_indexes()
    frame = s.relationships_frame("TREATED_AT")
    assert list(frame["dst"]) == sorted(hubs)  # physical order: by institution, newest first
    assert list(frame["src"][:3]) == ["c6", "c3", "c1"]
    assert {"ix_r_TREATED_AT_src", "ix_r_TREATED_AT_dst"} <= set(s.index_names())
    after = s.neighbours([NodeRef("Institution", "H1")], cap=2)
    assert after.edges == before.edges and after.cut == before.cut == {NodeRef("Institution", "H1"): 1}
    s.close()


def test_neighbour_lookups_use_the_index(store: DuckDBStore) -> None:
    store.upsert_nodes("Claim", pd.DataFrame({"claim_key": [f"c{i}" for i in range(5000)]}))
    store.upsert_nodes("Institution", pd.DataFrame({"institution_id": ["H1", "H2"]}))
    store.upsert_relationships("TREATED_AT", pd.DataFrame({
        "src": [f"c{i}" for i in range(5000)], "dst": ["H1", "H2"] * 2500,
        "dst_label": ["Institution"] * 5000, "date": [date(2024, 1, 1)] * 5000}))
    store.ensure_indexes()

    captured: list[str] = []

    class Explaining:
        def __init__(self, cur: Any) -> None:
            self.cur = cur

        def execute(self, sql: str, params: Any = None) -> Any:
            if "row_number" in sql:
                captured.append(self.cur.execute("EXPLAIN ANALYZE " + sql, params).fetchall()[0][1])
            return self.cur.execute(sql, params)

    reads.neighbours(Explaining(store._cursor()), [NodeRef("Claim", "c7")], rel_types=["TREATED_AT"],
                            labels=["Institution"], since=date(2023, 1, 1), until=None, cap=10,
                            direction="out")
    assert "Index Scan" in captured[0] and "Sequential Scan" not in captured[0]


def test_read_only_store_refuses_writes(tmp_path: Any) -> None:
    path = tmp_path / "ro.duckdb"
    DuckDBStore(path).close()
    ro = DuckDBStore(path, read_only=True)
    with pytest.raises(StoreError, match="read-only"):
        ro.upsert_nodes("Patient", pd.DataFrame({"person_id": ["P1"]}))
    ro.close()


def test_small_and_large_table_read_paths_agree(monkeypatch: pytest.MonkeyPatch) -> None:
    answers = []
    for small_rows in (10**9, 0):  # every table scanned / every table probed by IN-list
        monkeypatch.setattr(duckdb_store, "SMALL_TABLE_ROWS", small_rows)
        s = DuckDBStore(":memory:")
        s.apply_schema()
        s.upsert_nodes("Patient", pd.DataFrame({"person_id": ["P1", "P2"], "name": ["张三", "李四"]}))
        s.upsert_nodes("Claim", pd.DataFrame({"claim_key": ["c1", "c2", "c3"]}))
        s.upsert_relationships("HAS_CLAIM", pd.DataFrame({
            "src": ["P1", "P1", "P2"], "dst": ["c1", "c2", "c3"],
            "date": [date(2024, 1, d) for d in (1, 2, 3)]}))
        p1, p2 = NodeRef("Patient", "P1"), NodeRef("Patient", "P2")
        exp = s.neighbours([p1, p2], cap=1)
        answers.append((
            [n.key for n in s.get_nodes("Patient", ["P2", "P1"])],
            sorted(n.key for n in exp.nodes), exp.cut,
            s.degrees([p1, p2]), [n.key for n in s.search("张")],
        ))
        s.close()
    assert answers[0] == answers[1]
    assert answers[0][1] == ["c2", "c3"] and answers[0][2] == {NodeRef("Patient", "P1"): 1}
