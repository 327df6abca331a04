"""The store port's contract: the same known answers from every adapter.

Runs on DuckDB and on the live Neo4j of ``tests/neo4j_live.py`` (marker ``neo4j``). The graph is a
small hand-made town where every expected answer can be worked out on paper:

    P1 张伟  --HAS_CLAIM--> c1 (2024-01-10) --TREATED_AT--> I1 仁和诊所 <-- c2 (2024-01-10) <-- P2 李娜
                            c1 --BY_DOCTOR--> D1 (works at I1)            I1 <-- c3 (2024-02-01) <-- P3 王芳
    P1       --HAS_CLAIM--> c4 (2024-03-01) --TREATED_AT--> I2 Renhe Hospital
    P4 赵强  --HAS_CLAIM--> c5 (2024-04-01) --TREATED_AT--> PH1 (a Pharmacy)
    P1, P2   --HAS_PHONE--> 13800000001;   P5 has no claims at all
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime
from typing import Any

import pandas as pd
import pyarrow as pa
import pytest

from graph import listing
from graph.derived import DerivedData
from graph.errors import InputError, InvalidRequest, SchemaError, WriteRefused
from graph.listing import Page
from graph.model import NODES, REL_TYPES, NodeRef
from graph.port import GraphStore
from graph.record_types import CaseRecord, ClaimRecord, InjuryCaseRecord, PatientRecord, RingRecord
from graph.records import record_of
from graph.writesteps import DeleteAllNodes, ReplaceRelationships, UpsertNodes, UpsertRelationships

ADAPTERS = ["duckdb", pytest.param("neo4j", marks=pytest.mark.neo4j)]

# read_query texts per adapter: the port passes the store's own language through
QUERIES: dict[str, dict[str, str]] = {
    "duckdb": {
        "patients": "SELECT person_id FROM n_Patient ORDER BY person_id",
        "by_name": "SELECT person_id FROM n_Patient WHERE name = $name",
    },
    "neo4j": {
        "patients": "MATCH (p:Patient) RETURN p.person_id AS person_id ORDER BY person_id",
        "by_name": "MATCH (p:Patient {name: $name}) RETURN p.person_id AS person_id",
    },
}
WRITES: dict[str, list[str]] = {
    "duckdb": [
        "INSERT INTO n_Patient (person_id) VALUES ('X')",
        "DROP TABLE n_Patient",
        "COPY n_Patient TO 'stolen.csv'",
        "ATTACH 'other.duckdb' AS other",
    ],
    "neo4j": [
        "CREATE (:Patient {person_id: 'X'})",
        "MATCH (p:Patient) DETACH DELETE p",
        "MERGE (:Patient {person_id: 'X'})",
        "MATCH (p:Patient) SET p.name = 'x'",
    ],
}


@pytest.fixture(params=ADAPTERS)
def store(request: pytest.FixtureRequest, tmp_path: Any) -> Iterator[GraphStore]:
    kind: str = request.param
    s: GraphStore
    if kind == "duckdb":
        from graph.duckdb.store import DuckDBStore

        s = DuckDBStore(tmp_path / "contract.duckdb", threads=2)
        s.apply_schema()
        yield s
        s.close()
        return
    server = request.getfixturevalue("neo4j_db")
    n = server.open_store()
    n.apply_schema()
    n.delete_everything()
    yield n
    n.delete_everything()
    n.close()


PATIENTS = pd.DataFrame({
    "person_id": ["P1", "P2", "P3", "P4", "P5"],
    "name": ["张伟", "李娜", "王芳", "赵强", "Li Lei"],
    "gender": ["M", "F", "F", "M", "M"],
    "birth_date": [date(1950, 3, 1), date(1952, 7, 9), date(1948, 1, 30), date(1990, 5, 5), date(1985, 2, 2)],
})
CLAIMS = pd.DataFrame({
    "claim_key": ["medical:c1", "medical:c2", "medical:c3", "medical:c4", "medical:c5"],
    "claim_id": ["c1", "c2", "c3", "c4", "c5"],
    "scheme": ["medical"] * 5,
    "person_id": ["P1", "P2", "P3", "P1", "P4"],
    "institution_id": ["I1", "I1", "I1", "I2", "PH1"],
    "start_date": [date(2024, 1, 10), date(2024, 1, 10), date(2024, 2, 1), date(2024, 3, 1),
                   date(2024, 4, 1)],
    "total_amount": [120.5, 80.0, 300.0, 55.5, 20.0],
    "reimbursed_amount": [100.0, 60.0, 250.0, 40.0, 10.0],
})


def load_town(store: GraphStore) -> None:
    store.upsert_nodes("Patient", PATIENTS)
    store.upsert_nodes("Institution", pd.DataFrame({
        "institution_id": ["I1", "I2"], "name": ["仁和诊所", "Renhe Hospital"],
        "kind": ["clinic", "hospital"], "level": [0, 3]}))
    store.upsert_nodes("Pharmacy", pd.DataFrame({"institution_id": ["PH1"], "name": ["百姓药房"],
                                                 "kind": ["pharmacy"]}))
    store.upsert_nodes("Doctor", pd.DataFrame({"doctor_id": ["D1"], "name": ["孙医生"],
                                               "institution_id": ["I1"]}))
    store.upsert_nodes("Claim", CLAIMS)
    store.upsert_nodes("Phone", pd.DataFrame({"phone": ["13800000001"]}))
    dates = CLAIMS["start_date"].tolist()
    store.upsert_relationships("HAS_CLAIM", pd.DataFrame({
        "src": CLAIMS["person_id"], "dst": CLAIMS["claim_key"], "date": dates}))
    store.upsert_relationships("TREATED_AT", pd.DataFrame({
        "src": CLAIMS["claim_key"], "dst": CLAIMS["institution_id"],
        "dst_label": ["Institution"] * 4 + ["Pharmacy"], "date": dates}))
    store.upsert_relationships("BY_DOCTOR", pd.DataFrame({"src": ["medical:c1"], "dst": ["D1"],
                                                          "date": [date(2024, 1, 10)]}))
    store.upsert_relationships("WORKS_AT", pd.DataFrame({"src": ["D1"], "dst": ["I1"],
                                                         "dst_label": ["Institution"]}))
    store.upsert_relationships("HAS_PHONE", pd.DataFrame({"src": ["P1", "P2"], "dst": ["13800000001"] * 2}))


def keys(nodes: Any) -> set[str]:
    return {n.key for n in nodes}


def test_counts_cover_every_label_and_type(store: GraphStore) -> None:
    assert store.count_nodes() == dict.fromkeys(NODES, 0)
    load_town(store)
    nodes = store.count_nodes()
    assert set(nodes) == set(NODES)
    assert (nodes["Patient"], nodes["Claim"], nodes["Institution"], nodes["Pharmacy"]) == (5, 5, 2, 1)
    assert nodes["Ring"] == 0
    rels = store.count_relationships()
    assert set(rels) == {r.type for r in REL_TYPES}
    assert (rels["HAS_CLAIM"], rels["TREATED_AT"], rels["HAS_PHONE"], rels["HAS_MEMBER"]) == (5, 5, 2, 0)


def test_two_hop_co_registrants_exclude_the_seed(store: GraphStore) -> None:
    load_town(store)
    p1 = NodeRef("Patient", "P1")
    first = store.neighbours([p1], rel_types=["HAS_PHONE"])
    assert keys(first.nodes) == {"13800000001"}
    second = store.neighbours([p1, *(n.ref for n in first.nodes)], rel_types=["HAS_PHONE"])
    assert keys(second.nodes) == {"P2"}


def test_co_visitors_through_an_institution_exclude_the_patient(store: GraphStore) -> None:
    load_town(store)
    seen = [NodeRef("Patient", "P1")]
    for rel, direction in (("HAS_CLAIM", "out"), ("TREATED_AT", "out"), ("TREATED_AT", "in"),
                           ("HAS_CLAIM", "in")):
        hop = store.neighbours(seen, rel_types=[rel], direction=direction)  # type: ignore[arg-type]
        last = hop
        seen += [n.ref for n in hop.nodes]
    co_visitors = {n.key for n in last.nodes if n.label == "Patient"}
    assert co_visitors == {"P2", "P3"}


def test_neighbours_of_a_node_carry_properties_and_edges(store: GraphStore) -> None:
    load_town(store)
    exp = store.neighbours([NodeRef("Claim", "medical:c1")], direction="out")
    assert {(n.label, n.key) for n in exp.nodes} == {("Institution", "I1"), ("Doctor", "D1")}
    inst = next(n for n in exp.nodes if n.key == "I1")
    assert inst.props["name"] == "仁和诊所" and inst.props["level"] == 0
    edge = next(e for e in exp.edges if e.type == "TREATED_AT")
    assert edge.src == NodeRef("Claim", "medical:c1") and edge.dst == NodeRef("Institution", "I1")
    assert edge.props == {"date": date(2024, 1, 10)}
    assert exp.cut == {}
    incoming = store.neighbours([NodeRef("Claim", "medical:c1")], direction="in")
    assert keys(incoming.nodes) == {"P1"}


def test_cap_on_a_hub_reports_the_cut_most_recent_first(store: GraphStore) -> None:
    load_town(store)
    hub = NodeRef("Institution", "I1")
    exp = store.neighbours([hub], rel_types=["TREATED_AT"], cap=2)
    # c3 is the most recent; c1 and c2 share a date and are ordered by key
    assert [e.src.key for e in exp.edges] == ["medical:c3", "medical:c1"]
    assert exp.cut == {hub: 1}
    assert store.neighbours([hub], rel_types=["TREATED_AT"], cap=10).cut == {}


def test_date_window_filters_dated_relationships_only(store: GraphStore) -> None:
    load_town(store)
    hub = NodeRef("Institution", "I1")
    later = store.neighbours([hub], since=date(2024, 1, 15))
    assert keys(later.nodes) == {"medical:c3", "D1"}  # WORKS_AT has no date and always passes
    earlier = store.neighbours([hub], rel_types=["TREATED_AT"], until=date(2024, 1, 31))
    assert keys(earlier.nodes) == {"medical:c1", "medical:c2"}
    window = store.neighbours([hub], rel_types=["TREATED_AT"], since=date(2024, 1, 11),
                              until=date(2024, 1, 31))
    assert window.nodes == [] and window.edges == []


def test_label_and_type_filters(store: GraphStore) -> None:
    load_town(store)
    p1 = NodeRef("Patient", "P1")
    assert keys(store.neighbours([p1]).nodes) == {"medical:c1", "medical:c4", "13800000001"}
    assert keys(store.neighbours([p1], labels=["Claim"]).nodes) == {"medical:c1", "medical:c4"}
    assert keys(store.neighbours([p1], rel_types=["HAS_PHONE"]).nodes) == {"13800000001"}
    assert store.neighbours([p1], labels=["Doctor"]).nodes == []
    treated = store.neighbours([NodeRef("Claim", "medical:c5")], labels=["Pharmacy"])
    assert [(n.label, n.key) for n in treated.nodes] == [("Pharmacy", "PH1")]


def test_idempotent_re_upsert_keeps_counts(store: GraphStore) -> None:
    load_town(store)
    before = (store.count_nodes(), store.count_relationships())
    load_town(store)
    assert (store.count_nodes(), store.count_relationships()) == before


def test_partial_column_update_keeps_other_properties(store: GraphStore) -> None:
    load_town(store)
    written = store.upsert_nodes("Patient", pd.DataFrame({"person_id": ["P1"], "phone": ["13800000001"]}))
    assert written == 1
    [p1] = store.get_nodes("Patient", ["P1"])
    assert p1.props["name"] == "张伟" and p1.props["phone"] == "13800000001"
    assert p1.props["birth_date"] == date(1950, 3, 1)


def test_relationships_to_missing_nodes_are_skipped_and_not_counted(store: GraphStore) -> None:
    load_town(store)
    written = store.upsert_relationships("HAS_CLAIM", pd.DataFrame({
        "src": ["P5", "NOBODY", "P5"], "dst": ["medical:c5", "medical:c5", "medical:none"],
        "date": [date(2024, 4, 1)] * 3}))
    assert written == 1
    assert store.count_relationships()["HAS_CLAIM"] == 6
    assert store.count_nodes()["Patient"] == 5


def test_get_nodes_in_the_order_asked(store: GraphStore) -> None:
    load_town(store)
    got = store.get_nodes("Patient", ["P3", "missing", "P1"])
    assert [n.key for n in got] == ["P3", "P1"]
    assert got[0].props["name"] == "王芳"


def test_degrees(store: GraphStore) -> None:
    load_town(store)
    refs = [NodeRef("Institution", "I1"), NodeRef("Patient", "P1"), NodeRef("Patient", "P5")]
    assert store.degrees(refs) == {refs[0]: 4, refs[1]: 3, refs[2]: 0}
    assert store.degrees(refs, rel_types=["TREATED_AT"])[refs[0]] == 3


def test_search_by_key_prefix_and_name(store: GraphStore) -> None:
    load_town(store)
    assert [n.key for n in store.search("王", labels=["Patient"])] == ["P3"]
    assert [(n.label, n.key) for n in store.search("renhe")] == [("Institution", "I2")]
    assert [n.key for n in store.search("仁和")] == ["I1"]
    prefix = store.search("P", labels=["Patient"], limit=3)
    assert [n.key for n in prefix] == ["P1", "P2", "P3"]
    assert store.search("nothing-like-this") == []


def test_stream_round_trip(store: GraphStore) -> None:
    load_town(store)
    batches = list(store.stream_nodes("Patient", ["person_id", "name"], batch_size=2))
    assert all(isinstance(b, pa.RecordBatch) for b in batches)
    table = pa.Table.from_batches(batches)
    assert table.column_names == ["person_id", "name"]
    got = dict(zip(table.column("person_id").to_pylist(), table.column("name").to_pylist(), strict=True))
    assert got == dict(zip(PATIENTS["person_id"], PATIENTS["name"], strict=True))
    rels = store.relationships_frame("TREATED_AT").sort_values("src").reset_index(drop=True)
    assert list(rels["dst_label"]) == ["Institution"] * 4 + ["Pharmacy"]
    assert list(rels["src_label"].unique()) == ["Claim"]
    assert pd.Timestamp(rels.loc[0, "date"]).date() == date(2024, 1, 10)


def test_streamed_columns_keep_missing_values_in_their_rows(store: GraphStore) -> None:
    """A property only some nodes have streams as nulls at those nodes, across page boundaries."""
    load_town(store)
    store.upsert_nodes("Patient", pd.DataFrame({"person_id": ["P2", "P4"],
                                                "death_date": [date(2020, 1, 2), date(2021, 3, 4)]}))
    table = pa.Table.from_batches(list(store.stream_nodes(
        "Patient", ["person_id", "death_date", "birth_date"], batch_size=2)))
    rows = {r["person_id"]: (r["death_date"], r["birth_date"]) for r in table.to_pylist()}
    assert rows == {
        "P1": (None, date(1950, 3, 1)), "P2": (date(2020, 1, 2), date(1952, 7, 9)),
        "P3": (None, date(1948, 1, 30)), "P4": (date(2021, 3, 4), date(1990, 5, 5)),
        "P5": (None, date(1985, 2, 2)),
    }


def test_delete_nodes_removes_their_relationships(store: GraphStore) -> None:
    load_town(store)
    assert store.delete_nodes("Claim", ["medical:c1", "medical:none"]) == 1
    rels = store.count_relationships()
    assert (rels["HAS_CLAIM"], rels["TREATED_AT"], rels["BY_DOCTOR"]) == (4, 4, 0)
    assert keys(store.neighbours([NodeRef("Patient", "P1")], labels=["Claim"]).nodes) == {"medical:c4"}


def _run(run_id: str, rings: list[tuple[str, list[str]]],
         findings: list[tuple[str, str, str]]) -> DerivedData:
    return DerivedData(
        run=pd.DataFrame({"run_id": [run_id], "status": ["ok"], "engine": ["igraph"]}),
        rings=pd.DataFrame({"ring_id": [r for r, _ in rings], "kind": ["collusion"] * len(rings),
                            "score": [0.9] * len(rings), "member_count": [len(m) for _, m in rings],
                            "last_run_id": [run_id] * len(rings)}),
        ring_members=pd.DataFrame(
            [{"src": r, "dst": m, "dst_label": "Patient", "role": "patient"} for r, ms in rings for m in ms],
            columns=["src", "dst", "dst_label", "role"]),
        findings=pd.DataFrame({"finding_id": [f for f, _, _ in findings],
                               "category": ["double_claim"] * len(findings),
                               "kind": ["medical_and_work_injury"] * len(findings),
                               "person_id": [p for _, p, _ in findings], "run_id": [run_id] * len(findings)}),
        finding_claims=pd.DataFrame({"src": [f for f, _, _ in findings],
                                     "dst": [c for _, _, c in findings]}),
        finding_persons=pd.DataFrame({"src": [f for f, _, _ in findings],
                                      "dst": [p for _, p, _ in findings]}),
    )


def test_replace_relationships_swaps_changed_links_and_keeps_the_rest(store: GraphStore) -> None:
    load_town(store)
    store.upsert_nodes("Phone", pd.DataFrame({"phone": ["13900000009"]}))
    store.upsert_relationships("HAS_PHONE", pd.DataFrame({"src": ["P3"], "dst": ["13800000001"]}))
    # P1 changed phone, P2 kept it, P3 has none any more, P4 gains one; P5 is not a source
    written = store.replace_relationships("HAS_PHONE", ["P1", "P2", "P3", "P4"], pd.DataFrame({
        "src": ["P1", "P2", "P4"], "dst": ["13900000009", "13800000001", "13900000009"]}))
    assert written == 3
    links = store.relationships_frame("HAS_PHONE", ["src", "dst"])
    assert sorted(zip(links["src"], links["dst"], strict=True)) == [
        ("P1", "13900000009"), ("P2", "13800000001"), ("P4", "13900000009")]
    sharing = store.neighbours([NodeRef("Phone", "13800000001")], rel_types=["HAS_PHONE"])
    assert keys(sharing.nodes) == {"P2"}
    # the same replacement again changes nothing
    store.replace_relationships("HAS_PHONE", pa.array(["P1", "P2", "P3", "P4"]), pd.DataFrame({
        "src": ["P1", "P2", "P4"], "dst": ["13900000009", "13800000001", "13900000009"]}))
    assert store.count_relationships()["HAS_PHONE"] == 3


def test_replace_relationships_with_two_end_labels(store: GraphStore) -> None:
    load_town(store)
    store.replace_relationships("WORKS_AT", ["D1"], pd.DataFrame({
        "src": ["D1"], "dst": ["PH1"], "dst_label": ["Pharmacy"]}))
    links = store.relationships_frame("WORKS_AT", ["src", "dst", "dst_label"])
    assert list(zip(links["src"], links["dst"], links["dst_label"], strict=True)) == [
        ("D1", "PH1", "Pharmacy")]


def test_replace_derived_replaces_membership_and_findings(store: GraphStore) -> None:
    load_town(store)
    store.replace_derived(_run("run1", [("R1", ["P1", "P2"]), ("R0", ["P4"])], [("F1", "P1", "medical:c1")]))
    r1 = NodeRef("Ring", "R1")
    assert keys(store.neighbours([r1]).nodes) == {"P1", "P2"}
    store.replace_derived(_run("run2", [("R1", ["P2", "P3"])], [("F2", "P3", "medical:c3")]))
    assert keys(store.neighbours([r1]).nodes) == {"P2", "P3"}
    # a ring the run did not mention keeps its members (reviews and cases hang on it)
    assert keys(store.neighbours([NodeRef("Ring", "R0")]).nodes) == {"P4"}
    nodes = store.count_nodes()
    assert (nodes["Finding"], nodes["Ring"], nodes["DetectionRun"]) == (1, 2, 2)
    assert store.get_nodes("Finding", ["F1"]) == []
    f2 = store.neighbours([NodeRef("Finding", "F2")])
    assert {(n.label, n.key) for n in f2.nodes} == {("Claim", "medical:c3"), ("Patient", "P3")}
    rels = store.count_relationships()
    assert (rels["HAS_MEMBER"], rels["INVOLVES"], rels["CONCERNS"]) == (3, 1, 1)


def test_read_query_returns_rows_and_truncates(store: GraphStore) -> None:
    load_town(store)
    q = QUERIES[store.kind]
    res = store.read_query(q["patients"], limit=3)
    assert res.columns == ["person_id"]
    assert res.rows == [["P1"], ["P2"], ["P3"]] and res.truncated
    full = store.read_query(q["patients"], limit=10)
    assert len(full.rows) == 5 and not full.truncated
    bound = store.read_query(q["by_name"], {"name": "李娜"})
    assert bound.rows == [["P2"]]
    # a parameter is data, never query text
    assert store.read_query(q["by_name"], {"name": "x' OR '1'='1"}).rows == []


@pytest.mark.parametrize("index", range(4))
def test_read_query_refuses_writes(store: GraphStore, index: int) -> None:
    load_town(store)
    with pytest.raises(WriteRefused):
        store.read_query(WRITES[store.kind][index])
    assert store.count_nodes()["Patient"] == 5


# -- one error contract for bad arguments (graph/arguments.py) ------------------------------------
@pytest.mark.parametrize("call", [
    lambda s: s.neighbours([NodeRef("Patient", "P1")], cap=-1),
    lambda s: s.neighbours([NodeRef("Patient", "P1")], direction="sideways"),
    lambda s: s.upsert_nodes("Patient", PATIENTS, batch_size=0),
    lambda s: s.read_query(QUERIES[s.kind]["patients"], limit=-1),
], ids=["negative cap", "unknown direction", "batch size zero", "negative limit"])
def test_bad_arguments_are_invalid_requests(store: GraphStore, call: Any) -> None:
    load_town(store)
    with pytest.raises(InvalidRequest):
        call(store)
    assert store.count_nodes()["Patient"] == 5


@pytest.mark.parametrize("call", [
    lambda s: s.get_nodes("Villain", ["x"]),
    lambda s: s.neighbours([NodeRef("Patient", "P1")], rel_types=["KNOWS"]),
    lambda s: s.upsert_nodes("Patient", pd.DataFrame({"person_id": ["P9"], "shoe_size": [42]})),
    lambda s: s.upsert_nodes("Patient", pd.DataFrame({"name": ["no key"]})),
    lambda s: s.upsert_relationships("HAS_PHONE", pd.DataFrame({"src": ["P1"]})),
    lambda s: list(s.stream_nodes("Patient", ["shoe_size"])),
], ids=["unknown label", "unknown type", "unknown property", "no key column", "no dst column",
        "stream unknown column"])
def test_names_outside_the_model_are_schema_errors(store: GraphStore, call: Any) -> None:
    load_town(store)
    with pytest.raises(SchemaError):
        call(store)
    assert store.count_nodes()["Patient"] == 5


@pytest.mark.parametrize("rows", [
    pd.DataFrame({"person_id": ["P9", None]}),
    pd.DataFrame({"person_id": ["P9"], "birth_date": ["not a date"]}),
], ids=["missing key", "value not of its type"])
def test_bad_row_data_is_an_input_error(store: GraphStore, rows: pd.DataFrame) -> None:
    load_town(store)
    with pytest.raises(InputError):
        store.upsert_nodes("Patient", rows)
    assert store.get_nodes("Patient", ["P9"]) == []


def test_a_bad_frame_in_a_detection_run_writes_nothing(store: GraphStore) -> None:
    load_town(store)
    store.replace_derived(_run("run1", [("R1", ["P1", "P2"])], [("F1", "P1", "medical:c1")]))
    bad = _run("run2", [("R1", ["P3"])], [("F2", "P3", "medical:c3")])
    bad.finding_claims = bad.finding_claims.assign(weight=[1.0])  # INVOLVES has no property weight
    with pytest.raises(SchemaError):
        store.replace_derived(bad)
    assert keys(store.neighbours([NodeRef("Ring", "R1")]).nodes) == {"P1", "P2"}
    assert [n.key for n in store.get_nodes("Finding", ["F1", "F2"])] == ["F1"]
    assert store.count_nodes()["DetectionRun"] == 1


def test_write_steps_apply_in_order_in_one_transaction(store: GraphStore) -> None:
    load_town(store)
    member = pd.DataFrame({"src": ["R1"], "dst": ["P1"], "dst_label": ["Patient"], "role": ["patient"]})
    doctor = pd.DataFrame({"src": ["R1"], "dst": ["D1"], "dst_label": ["Doctor"], "role": ["doctor"]})
    store.write_steps([
        UpsertNodes("Ring", pd.DataFrame({"ring_id": ["R1"], "kind": ["collusion"]})),
        UpsertRelationships("HAS_MEMBER", member),
        ReplaceRelationships("HAS_MEMBER", ("R1",), doctor),
        DeleteAllNodes("Phone"),
    ])
    assert [(n.label, n.key) for n in store.neighbours([NodeRef("Ring", "R1")]).nodes] == [("Doctor", "D1")]
    assert store.count_nodes()["Phone"] == 0 and store.count_relationships()["HAS_PHONE"] == 0
    # one bad step (a relationship row without its end) refuses the whole sequence, earlier steps too
    with pytest.raises(SchemaError):
        store.write_steps([DeleteAllNodes("Ring"),
                           UpsertRelationships("HAS_CLAIM", pd.DataFrame({"src": ["P1"]}))])
    assert store.count_nodes()["Ring"] == 1


# -- typed records (graph/records.py) ------------------------------------------------------------
def test_nodes_come_back_with_their_declared_types(store: GraphStore) -> None:
    load_town(store)
    store.upsert_nodes("Institution", pd.DataFrame({"institution_id": ["I1"], "latitude": [31.2],
                                                    "extra": ['{"等级": "一级"}']}))
    store.upsert_nodes("Ring", pd.DataFrame({
        "ring_id": ["R1"], "kind": ["collusion"], "score": [0.82], "member_count": [2],
        "evidence": ['["同一诊所同日就诊 12 次"]'], "score_history": ['[{"run_id": "r1", "score": 0.82}]'],
        "created_at": [datetime(2026, 1, 2, 3, 4, 5)]}))
    store.upsert_nodes("Case", pd.DataFrame({"case_id": ["C1"], "title": ["案件一"],
                                             "shared_with": [["police:1", "police:2"]]}))
    store.upsert_nodes("InjuryCase", pd.DataFrame({"injury_case_id": ["J1"], "third_party_liable": [True],
                                                   "injury_date": [date(2024, 5, 1)]}))
    [inst] = store.get_nodes("Institution", ["I1"])
    assert inst.props["level"] == 0 and type(inst.props["level"]) is int
    assert inst.props["latitude"] == 31.2 and inst.props["extra"] == {"等级": "一级"}
    ring = record_of(store.get_nodes("Ring", ["R1"])[0], RingRecord)
    assert ring == RingRecord(ring_id="R1", kind="collusion", score=0.82, member_count=2,
                              evidence=["同一诊所同日就诊 12 次"],
                              score_history=[{"run_id": "r1", "score": 0.82}],
                              created_at=datetime(2026, 1, 2, 3, 4, 5))
    case = record_of(store.get_nodes("Case", ["C1"])[0], CaseRecord)
    assert case.shared_with == ["police:1", "police:2"] and case.status is None
    injury = record_of(store.get_nodes("InjuryCase", ["J1"])[0], InjuryCaseRecord)
    assert injury.third_party_liable is True and injury.injury_date == date(2024, 5, 1)
    # the same types on every read path: expansion and search too
    [claim] = [n for n in store.neighbours([NodeRef("Patient", "P3")]).nodes if n.label == "Claim"]
    assert record_of(claim, ClaimRecord).total_amount == 300.0
    assert record_of(claim, ClaimRecord).start_date == date(2024, 2, 1)
    [found] = store.search("王芳", labels=["Patient"])
    assert record_of(found, PatientRecord).birth_date == date(1948, 1, 30)


# -- listing (graph/listing.py) -------------------------------------------------------------------
def _listing_town(store: GraphStore) -> None:
    """Five rings, four findings and three cases with every filter's edge case:

    rings R1..R5: scores 0.9, 0.7, 0.7, 0.3 and none; R2/R3 tie on score (key decides); kinds and
    statuses mixed. Findings: two double claims of P1 (excess 500, none) and P2 (excess 80), one
    anomaly. Cases: C1 shared with police:1 (oldest), C2 with police:1 and police:2, C3 with none.
    """
    store.upsert_nodes("Ring", pd.DataFrame({
        "ring_id": ["R1", "R3", "R2", "R4", "R5"],
        "kind": ["collusion", "shared_identifier", "collusion", "collusion", "collusion"],
        "score": [0.9, 0.7, 0.7, 0.3, None],
        "status": ["new", "stable", "grown", "vanished", "new"],
        "evidence": ['["a"]', '["b"]', '["c"]', '["d"]', '["e"]']}))
    store.upsert_nodes("Finding", pd.DataFrame({
        "finding_id": ["F1", "F2", "F3", "F4"],
        "category": ["double_claim", "double_claim", "double_claim", "anomaly"],
        "kind": ["medical_and_work_injury", "medical_and_commercial", "medical_and_work_injury",
                 "after_death"],
        "person_id": ["P1", "P1", "P2", "P1"], "excess_amount": [500.0, None, 80.0, 20.0]}))
    store.upsert_nodes("Case", pd.DataFrame({
        "case_id": ["C1", "C2", "C3"], "status": ["open", "investigating", "open"],
        "agency": ["bureau:1"] * 3,
        "created_at": [datetime(2026, 1, 1), datetime(2026, 1, 3), datetime(2026, 1, 2)],
        "shared_with": [["police:1"], ["police:1", "police:2"], []]}))


def _keys_of(page: Page) -> list[str]:
    return [n.key for n in page.nodes]


def test_listing_filters_orders_and_counts(store: GraphStore) -> None:
    _listing_town(store)
    everything = store.list_nodes(listing.rings())
    assert _keys_of(everything) == ["R1", "R2", "R3", "R4", "R5"] and everything.total == 5
    assert not everything.has_next
    assert record_of(everything.nodes[0], RingRecord).evidence == ["a"]  # typed like get_nodes
    assert _keys_of(store.list_nodes(listing.rings(kind="collusion", min_score=0.5))) == ["R1", "R2"]
    assert _keys_of(store.list_nodes(listing.rings(status="new"))) == ["R1", "R5"]
    doubles = store.list_nodes(listing.findings(category="double_claim"))
    assert _keys_of(doubles) == ["F1", "F3", "F2"] and doubles.total == 3
    of_p1 = store.list_nodes(listing.findings(category="double_claim", person_id="P1"))
    assert _keys_of(of_p1) == ["F1", "F2"]
    assert _keys_of(store.list_nodes(listing.findings(category="anomaly", kind="after_death"))) == ["F4"]
    assert _keys_of(store.list_nodes(listing.cases())) == ["C2", "C3", "C1"]
    assert _keys_of(store.list_nodes(listing.cases(shared_with="police:1"))) == ["C2", "C1"]
    assert _keys_of(store.list_nodes(listing.cases(shared_with="police:2", status="open"))) == []
    scoped = listing.restricted(listing.rings(), "ring_id", {"R3", "R4", "nope"})
    assert _keys_of(store.list_nodes(scoped)) == ["R3", "R4"]
    assert store.list_nodes(listing.restricted(listing.rings(), "ring_id", set())).total == 0


def test_listing_pages_follow_cursors_without_overlap(store: GraphStore) -> None:
    _listing_town(store)
    seen: list[str] = []
    after = None
    while True:
        page = store.list_nodes(listing.rings(first=2, after=after))
        assert page.total == 5 and len(page.nodes) == len(page.cursors) <= 2
        seen += _keys_of(page)
        if not page.has_next:
            break
        after = page.end_cursor
    assert seen == ["R1", "R2", "R3", "R4", "R5"]
    # a cursor from the middle of a page continues right after its node
    first = store.list_nodes(listing.rings(first=3))
    assert _keys_of(store.list_nodes(listing.rings(first=2, after=first.cursors[0]))) == ["R2", "R3"]
    empty = store.list_nodes(listing.rings(first=0))
    assert empty.nodes == [] and empty.total == 5 and empty.has_next is False


@pytest.mark.parametrize("bad, error", [
    (listing.Listing("Ring", first=-1), InvalidRequest),
    (listing.Listing("Ring", first=100_000), InvalidRequest),
    (listing.rings(after="bm90IGEgY3Vyc29y"), InvalidRequest),
    (listing.Listing("Ring", at_least={"kind": 1.0}), InvalidRequest),
    (listing.Listing("Ring", contains={"kind": "x"}), InvalidRequest),
    (listing.Listing("Ring", equals={"shoe_size": "42"}), SchemaError),
    (listing.Listing("Ring", order=(("shoe_size", True),)), SchemaError),
    (listing.Listing("Villain"), SchemaError),
], ids=["negative page", "page too large", "foreign cursor", "minimum of text", "contains on text",
        "unknown filter property", "unknown order property", "unknown label"])
def test_bad_listings_follow_the_error_contract(store: GraphStore, bad: listing.Listing,
                                                 error: type[Exception]) -> None:
    with pytest.raises(error):
        store.list_nodes(bad)
