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
from datetime import date
from typing import Any

import pandas as pd
import pyarrow as pa
import pytest

from graph.errors import WriteRefused
from graph.model import NODES, REL_TYPES, NodeRef
from graph.port import DerivedData, GraphStore

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
        from graph.duckdb_store import DuckDBStore

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
