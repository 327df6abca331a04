"""Neo4jStore against a recording driver: what it sends, how, and what it makes of the answers."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import pandas as pd
import pyarrow as pa
import pytest
from neo4j.exceptions import ServiceUnavailable
from neo4j.time import Date as Neo4jDate

from graph.derived import DerivedData
from graph.errors import (
    ConfigError,
    InvalidRequest,
    QueryTimeout,
    SchemaError,
    StoreUnavailable,
    WriteRefused,
)
from graph.model import NODE_TYPES, REL_TYPES, NodeRef, neo4j_schema_statements
from graph.neo4j import revisions
from graph.neo4j.store import Neo4jStore
from graph.settings import Settings
from tests.unit.graph.neo4j_recording import RecordingDriver, Reply, default_reply, neo4j_error

DB = "fraud-db"


def make_store(responder: Any = None, **kwargs: Any) -> tuple[Neo4jStore, RecordingDriver]:
    driver = RecordingDriver(responder)
    return Neo4jStore(driver, database=DB, **kwargs), driver  # type: ignore[arg-type]


def patients(n: int) -> pd.DataFrame:
    return pd.DataFrame({
        "person_id": [f"P{i:03d}" for i in range(n)],
        "name": [f"name {i}" for i in range(n)],
        "birth_date": [date(1950, 1, 1 + i % 28) for i in range(n)],
    })


def test_every_read_is_routed_to_readers_of_the_configured_database() -> None:
    store, driver = make_store()
    seed = NodeRef("Patient", "P001")
    store.get_nodes("Patient", ["P001"])
    store.neighbours([seed])
    store.degrees([seed])
    store.search("P0")
    list(store.stream_nodes("Patient"))
    list(store.stream_relationships("TREATED_AT"))
    store.count_nodes()
    store.count_relationships()
    store.read_query("MATCH (p:Patient) RETURN p.person_id AS id")
    store.ping()
    assert driver.calls
    assert {c.routing for c in driver.calls} == {"r"}
    assert {c.database for c in driver.calls} == {DB}
    assert {c.via for c in driver.calls} == {"execute_query"}
    assert all(c.timeout == 30.0 for c in driver.calls)


def test_upserts_are_batched_in_managed_write_transactions() -> None:
    store, driver = make_store(batch_size=10)
    assert store.upsert_nodes("Patient", patients(25)) == 25
    sizes = [len(c.parameters["rows"]) for c in driver.calls]
    assert sizes == [10, 10, 5]
    assert {c.via for c in driver.calls} == {"tx"}
    assert [c.transaction for c in driver.calls] == [0, 1, 2]  # one transaction per batch
    assert driver.transactions == ["w", "w", "w"]
    assert {c.database for c in driver.calls} == {DB}

    driver.calls.clear()
    assert store.upsert_nodes("Patient", patients(25), batch_size=20) == 25
    assert [len(c.parameters["rows"]) for c in driver.calls] == [20, 5]


def test_node_upsert_merges_on_the_key_and_converts_values() -> None:
    store, driver = make_store()
    rows = pd.DataFrame({
        "ring_id": ["R1"],
        "score": [0.75],
        "member_count": [pd.NA],
        "evidence": [["14 of 17 members visited together"]],
        "created_at": [pd.Timestamp("2025-03-01 08:00:00", tz="UTC")],
    })
    store.upsert_nodes("Ring", rows)
    (call,) = driver.calls
    assert call.statement.startswith("UNWIND $rows AS row MERGE (n:Ring {ring_id: row.ring_id}) SET n += row")
    (row,) = call.parameters["rows"]
    assert row["evidence"] == '["14 of 17 members visited together"]'  # JSON is stored as text
    assert row["member_count"] is None
    assert isinstance(row["created_at"], datetime) and row["created_at"].tzinfo is not None

    driver.calls.clear()
    store.upsert_nodes("Patient", pd.DataFrame({"person_id": ["P1"], "birth_date": ["1950-02-03"]}))
    assert driver.calls[0].parameters["rows"][0]["birth_date"] == date(1950, 2, 3)


def test_values_never_reach_the_statement_text() -> None:
    nasty = "O'Brien\"}) DETACH DELETE n //"
    store, driver = make_store()
    store.upsert_nodes("Patient", pd.DataFrame({"person_id": [nasty], "name": [nasty]}))
    store.upsert_relationships("HAS_PHONE", pd.DataFrame({"src": [nasty], "dst": [nasty]}))
    store.get_nodes("Patient", [nasty])
    store.neighbours([NodeRef("Patient", nasty)], since=date(2025, 1, 1))
    store.degrees([NodeRef("Patient", nasty)])
    store.search(nasty)
    store.delete_nodes("Patient", [nasty])
    store.read_query("MATCH (p:Patient {name: $name}) RETURN p", {"name": nasty})
    assert len(driver.calls) >= 8
    for call in driver.calls:
        assert "O'Brien" not in call.statement
    assert all(_mentions(c.parameters, nasty) for c in driver.calls)


def _mentions(value: object, needle: str) -> bool:
    if isinstance(value, dict):
        return any(_mentions(v, needle) for v in value.values())
    if isinstance(value, list | tuple):
        return any(_mentions(v, needle) for v in value)
    return value == needle


def test_unknown_labels_types_and_properties_are_refused_before_anything_is_sent() -> None:
    store, driver = make_store()
    with pytest.raises(SchemaError):
        store.upsert_nodes("Person", patients(1))
    with pytest.raises(SchemaError, match="favourite_colour"):
        store.upsert_nodes("Patient", patients(1).assign(favourite_colour="red"))
    with pytest.raises(SchemaError, match="person_id"):
        store.upsert_nodes("Patient", pd.DataFrame({"name": ["x"]}))
    with pytest.raises(SchemaError):
        store.neighbours([NodeRef("Patient", "P1")], rel_types=["KNOWS"])
    with pytest.raises(SchemaError, match="dst_label"):
        store.upsert_relationships("TREATED_AT", pd.DataFrame({"src": ["c1"], "dst": ["i1"]}))
    assert driver.calls == []


def test_relationships_are_grouped_by_endpoint_labels() -> None:
    store, driver = make_store()
    rows = pd.DataFrame({
        "src": ["medical:1", "medical:2", "medical:3"],
        "dst": ["H1", "PH1", "H2"],
        "dst_label": ["Institution", "Pharmacy", "Institution"],
        "date": [date(2025, 1, 2), date(2025, 1, 3), date(2025, 1, 4)],
    })
    assert store.upsert_relationships("TREATED_AT", rows) == 3
    by_target = {("Institution" if ":Institution " in c.statement else "Pharmacy"): c for c in driver.calls}
    assert set(by_target) == {"Institution", "Pharmacy"}
    inst = by_target["Institution"]
    assert "MATCH (a:Claim {claim_key: row.src})" in inst.statement
    assert "MATCH (b:Institution {institution_id: row.dst})" in inst.statement
    assert "MERGE (a)-[r:TREATED_AT]->(b) SET r += row.props" in inst.statement
    assert inst.parameters["rows"] == [
        {"src": "medical:1", "dst": "H1", "props": {"date": date(2025, 1, 2)}},
        {"src": "medical:3", "dst": "H2", "props": {"date": date(2025, 1, 4)}},
    ]


def test_relationship_rows_with_missing_endpoints_are_not_counted() -> None:
    def reply(statement: str, params: dict[str, Any]) -> Reply:
        if "AS written" in statement:
            return Reply([{"written": 1}])  # the MATCH found only one endpoint pair
        return default_reply(statement, params)

    store, _ = make_store(reply)
    assert store.upsert_relationships("HAS_PHONE", pd.DataFrame({"src": ["a", "b"], "dst": ["p", "q"]})) == 1


def _phones_exist(statement: str, params: dict[str, Any]) -> Reply:
    if statement == "MATCH ()-[r:HAS_PHONE]->() RETURN count(r) AS existing":
        return Reply([{"existing": 7}])
    return default_reply(statement, params)


def test_replacing_links_deletes_the_unkept_then_merges_in_one_transaction_per_batch() -> None:
    store, driver = make_store(_phones_exist, batch_size=2)
    rows = pd.DataFrame({"src": ["P1", "P3"], "dst": ["13900000009", "13800000001"]})
    assert store.replace_relationships("HAS_PHONE", ["P1", "P2", "P3"], rows) == 2
    calls = [(c.transaction, c.statement, c.parameters["rows"]) for c in driver.calls if c.via == "tx"]
    assert [c[0] for c in calls] == [0, 0, 1, 1]  # sources P1, P2 then P3, each batch atomic
    assert all(driver.transactions[t] == "w" for t, _, _ in calls)
    (_, delete1, keep1), (_, merge1, rows1), (_, _, keep2), (_, _, rows2) = calls
    assert delete1 == ("UNWIND $rows AS row MATCH (a:Patient {person_id: row.src})-[r:HAS_PHONE]->(b:Phone) "
                       "USING INDEX SEEK a:Patient(person_id) "
                       "WHERE NOT b.phone IN row.keep DELETE r RETURN count(*) AS deleted")
    assert keep1 == [{"src": "P1", "keep": ["13900000009"]}, {"src": "P2", "keep": []}]
    assert "MERGE (a)-[r:HAS_PHONE]->(b)" in merge1
    assert rows1 == [{"src": "P1", "dst": "13900000009", "props": {}}]
    assert keep2 == [{"src": "P3", "keep": ["13800000001"]}]
    assert rows2 == [{"src": "P3", "dst": "13800000001", "props": {}}]


def test_every_committed_write_gives_what_it_touched_new_revision_tokens() -> None:
    store, driver = make_store(batch_size=10)
    store.upsert_nodes("Patient", patients(25))
    assert driver.bumps == [["Patient"]] * 3  # one per batch, after its commit
    driver.bumps.clear()
    store.delete_nodes("Phone", ["13900000001"])
    (names,) = driver.bumps
    assert {"Phone", "HAS_PHONE", "HAS_MEMBER"} <= set(names)  # the node and every link it loses


def test_replacing_links_of_a_type_nobody_has_yet_only_merges() -> None:
    """A first load: nothing to delete, so no delete is sent (its plan, made while the type was
    empty, scanned the end label once per row)."""
    store, driver = make_store(batch_size=2)
    rows = pd.DataFrame({"src": ["P1", "P3"], "dst": ["13900000009", "13800000001"]})
    assert store.replace_relationships("HAS_PHONE", ["P1", "P2", "P3"], rows) == 2
    sent = [c.statement for c in driver.calls if c.via == "tx"]
    assert len(sent) == 2 and all("MERGE (a)-[r:HAS_PHONE]->(b)" in st for st in sent)
    assert not any("DELETE" in st for st in driver.statements())


def test_apply_schema_sends_the_model_statements_in_order() -> None:
    store, driver = make_store()
    store.apply_schema()
    # the model's, then the revision tokens' uniqueness (graph/neo4j/revisions.py)
    assert driver.statements() == [*neo4j_schema_statements(), revisions.CONSTRAINT]
    assert {c.database for c in driver.calls} == {DB}
    assert {c.parameters.get("rows") for c in driver.calls} == {None}


def test_read_query_refuses_anything_neo4j_would_not_plan_as_read_only() -> None:
    for query_type in ("rw", "w", "s"):
        def reply(statement: str, params: dict[str, Any], qt: str = query_type) -> Reply:
            return Reply(query_type=qt)

        store, driver = make_store(reply)
        with pytest.raises(WriteRefused, match=repr(query_type)):
            store.read_query("MATCH (n) DETACH DELETE n")
        assert driver.statements() == ["EXPLAIN MATCH (n) DETACH DELETE n"]  # never run for real


def test_read_query_stays_in_the_configured_database() -> None:
    store, driver = make_store()
    for text in ("USE system SHOW USERS", "use other MATCH (n) RETURN n",
                 "CALL { USE x MATCH (n) RETURN n } RETURN 1"):
        with pytest.raises(InvalidRequest, match="USE"):
            store.read_query(text)
    assert driver.calls == []
    # the word in a string, a quoted name or a comment is not a clause
    store.read_query("MATCH (n:Patient) WHERE n.name = 'USE me' RETURN n.`use`, n.use, $use // USE")
    assert len(driver.calls) == 2


def test_read_query_runs_read_only_with_a_row_limit_and_timeout() -> None:
    def reply(statement: str, params: dict[str, Any]) -> Reply:
        if statement.startswith("EXPLAIN"):
            return Reply(query_type="r")
        return Reply([{"id": f"P{i}", "born": Neo4jDate(1950, 1, 1 + i)} for i in range(5)])

    store, driver = make_store(reply)
    result = store.read_query("MATCH (p:Patient) RETURN p.person_id AS id, p.birth_date AS born",
                              limit=3, timeout_s=2.5)
    assert result.columns == ["id", "born"]
    assert result.rows == [["P0", date(1950, 1, 1)], ["P1", date(1950, 1, 2)], ["P2", date(1950, 1, 3)]]
    assert result.truncated is True
    assert [c.timeout for c in driver.calls] == [2.5, 2.5]
    assert store.read_query("MATCH (p:Patient) RETURN p", limit=5).truncated is False


def test_read_query_maps_server_refusals_and_bad_cypher() -> None:
    def refusal(statement: str, params: dict[str, Any]) -> Reply:
        if statement.startswith("EXPLAIN"):
            return Reply(query_type="r")
        return Reply(error=neo4j_error("Neo.ClientError.Statement.AccessMode"))

    with pytest.raises(WriteRefused):
        make_store(refusal)[0].read_query("CALL custom.sneakyWrite()")

    syntax = Reply(error=neo4j_error("Neo.ClientError.Statement.SyntaxError", "Invalid input 'RETRUN'"))
    with pytest.raises(InvalidRequest, match="RETRUN"):
        make_store(lambda s, p: syntax)[0].read_query("RETRUN 1")


def test_driver_errors_become_domain_errors() -> None:
    down = make_store(lambda s, p: Reply(error=ServiceUnavailable("connection refused")))[0]
    with pytest.raises(StoreUnavailable):
        down.count_nodes()
    with pytest.raises(StoreUnavailable):
        down.ping()
    timed_out = Reply(error=neo4j_error("Neo.ClientError.Transaction.TransactionTimedOutClientConfiguration"))
    with pytest.raises(QueryTimeout):
        make_store(lambda s, p: timed_out)[0].neighbours([NodeRef("Institution", "H1")])


def test_neighbours_caps_per_seed_and_reports_the_cut() -> None:
    hit = {
        "type": "TREATED_AT", "outgoing": False, "rel_props": {"date": Neo4jDate(2025, 3, 1)},
        "label": "Claim", "key": "medical:9", "props": {"claim_key": "medical:9"},
    }
    seed_hit = {**hit, "label": "Institution", "key": "H2", "type": "WORKS_AT", "props": {}}

    def reply(statement: str, params: dict[str, Any]) -> Reply:
        return Reply([{"seed": "H1", "total": 7, "kept": [hit, seed_hit]}])

    store, driver = make_store(reply)
    seeds = [NodeRef("Institution", "H1"), NodeRef("Institution", "H2")]
    exp = store.neighbours(seeds, rel_types=["TREATED_AT"], labels=["Claim"], since=date(2025, 1, 1),
                           cap=2, direction="in")
    (call,) = driver.calls
    assert call.parameters == {"keys": ["H1", "H2"], "outgoing": False, "types": ["TREATED_AT"],
                               "labels": ["Claim"],
                               "since": date(2025, 1, 1), "until": None, "cap": 2,
                               "key_props": {n.label: n.key for n in NODE_TYPES}}
    assert exp.cut == {NodeRef("Institution", "H1"): 5}
    assert [n.ref for n in exp.nodes] == [NodeRef("Claim", "medical:9")]  # seeds are not neighbours
    edge = exp.edges[0]
    assert (edge.type, edge.src, edge.dst) == ("TREATED_AT", NodeRef("Claim", "medical:9"),
                                               NodeRef("Institution", "H1"))
    assert edge.props == {"date": date(2025, 3, 1)}


def test_expansions_the_model_rules_out_are_not_sent() -> None:
    store, driver = make_store()
    assert store.neighbours([NodeRef("Phone", "13800000000")], direction="out").edges == []
    assert store.neighbours([NodeRef("Patient", "P1")], rel_types=["TREATED_AT"]).edges == []
    assert store.degrees([NodeRef("DetectionRun", "run-1")]) == {NodeRef("DetectionRun", "run-1"): 0}
    assert driver.calls == []


def test_search_ranks_exact_key_then_prefix_then_name_across_labels() -> None:
    answers = {
        "Patient": [{"key": "P1", "props": {}, "rank": 1}, {"key": "P10", "props": {}, "rank": 1}],
        "Institution": [{"key": "I9", "props": {"name": "P-Renhe"}, "rank": 2},
                        {"key": "P", "props": {}, "rank": 0}],
    }

    def reply(statement: str, params: dict[str, Any]) -> Reply:
        label = statement.split("(n:")[1].split(")")[0]
        return Reply(answers.get(label, []))

    store, driver = make_store(reply)
    found = store.search(" P ", limit=4)
    assert [(n.label, n.key) for n in found] == [
        ("Institution", "P"), ("Patient", "P1"), ("Patient", "P10"), ("Institution", "I9")]
    assert {c.parameters["text"] for c in driver.calls} == {"P"}
    inst = next(c.statement for c in driver.calls if "(n:Institution)" in c.statement)
    assert "toLower(n.name) CONTAINS toLower($text)" in inst  # names match case-insensitively
    assert store.search("   ") == []


def test_degrees_default_to_zero_for_nodes_neo4j_does_not_know() -> None:
    store, _ = make_store(lambda s, p: Reply([{"key": "P1", "degree": 4}]))
    refs = [NodeRef("Patient", "P1"), NodeRef("Patient", "P2")]
    assert store.degrees(refs) == {refs[0]: 4, refs[1]: 0}


def test_get_nodes_keeps_the_order_asked_and_converts_dates() -> None:
    def reply(statement: str, params: dict[str, Any]) -> Reply:
        return Reply([{"key": k, "props": {"person_id": k, "birth_date": Neo4jDate(1950, 1, 2)}}
                      for k in sorted(params["keys"]) if k != "ghost"])

    store, _ = make_store(reply)
    nodes = store.get_nodes("Patient", ["P2", "ghost", "P1"])
    assert [n.key for n in nodes] == ["P2", "P1"]
    assert nodes[0].props["birth_date"] == date(1950, 1, 2)


def test_stream_nodes_pages_by_key_without_skip() -> None:
    keys = [f"P{i:03d}" for i in range(7)]

    def reply(statement: str, params: dict[str, Any]) -> Reply:
        if statement.endswith("AS nodes"):
            return Reply([])  # no count: the label is read as one key range
        after = [k for k in keys if k > params["last"]][: params["limit"]]
        assert "toString(x.birth_date)] AS c0" in statement  # dates travel as text, parsed by Arrow
        assert statement.count("x.person_id") == 1  # the key is read once, as keys
        # one record per page, a list per column (an empty page still answers one record)
        return Reply([{"keys": after, "c0": ["1960-05-06"] * len(after)}])

    store, driver = make_store(reply)
    batches = list(store.stream_nodes("Patient", ["person_id", "birth_date"], batch_size=3))
    table = pa.Table.from_batches(batches)
    assert table.column("person_id").to_pylist() == keys
    assert table.schema.field("birth_date").type == pa.date32()
    assert table.column("birth_date").to_pylist()[0] == date(1960, 5, 6)
    assert [c.parameters["last"] for c in driver.calls[1:]] == ["", "P002", "P005"]
    assert not any("SKIP" in s for s in driver.statements())


def test_a_large_label_streams_as_two_key_ranges_read_at_once_in_key_order() -> None:
    keys = [f"P{i:03d}" for i in range(9)]

    def reply(statement: str, params: dict[str, Any]) -> Reply:
        if statement.endswith("AS nodes"):
            return Reply([{"nodes": len(keys)}])
        if statement.endswith("AS split"):
            return Reply([{"split": sorted(keys)[params["skip"]]}])
        after = [k for k in keys if k > params["last"] and ("upto" not in params or k <= params["upto"])]
        after = after[: params["limit"]]
        return Reply([{"keys": after}])

    store, driver = make_store(reply)
    table = pa.Table.from_batches(list(store.stream_nodes("Patient", ["person_id"], batch_size=2)))
    assert table.column("person_id").to_pylist() == keys  # complete, no key twice, in key order
    bounded = [c.parameters for c in driver.calls if "upto" in c.parameters]
    assert bounded and {b["upto"] for b in bounded} == {"P004"}  # the first part ends at the middle key
    assert {c.routing for c in driver.calls} == {"r"}


def test_stream_relationships_covers_every_endpoint_label_pair() -> None:
    def reply(statement: str, params: dict[str, Any]) -> Reply:
        if params["last"] != "":
            return Reply([])
        if ":Pharmacy" in statement:
            return Reply([{"src": "medical:1", "dst": "PH1", "props": {"date": Neo4jDate(2025, 1, 1)}},
                          {"src": "medical:2", "dst": None, "props": None}])
        return Reply([{"src": "medical:3", "dst": "H1", "props": {"date": Neo4jDate(2025, 2, 1)}}])

    store, _ = make_store(reply)
    frame = pa.Table.from_batches(list(store.stream_relationships("TREATED_AT", batch_size=10))).to_pandas()
    assert sorted(frame["dst_label"]) == ["Institution", "Pharmacy"]
    assert list(frame.columns) == ["src", "dst", "src_label", "dst_label", "date"]
    assert set(frame["src"]) == {"medical:1", "medical:3"}  # the start node without one is skipped


def test_counts_cover_every_model_label_and_type_with_zeros() -> None:
    store, driver = make_store()
    assert store.count_nodes() == {n.label: 0 for n in NODE_TYPES}
    assert store.count_relationships() == {r.type: 0 for r in REL_TYPES}
    assert len(driver.calls) == 2  # one round trip each

    def reply(statement: str, params: dict[str, Any]) -> Reply:
        return Reply([{"name": "Patient", "count": 5}, {"name": "Claim", "count": 7}])

    store, _ = make_store(reply)
    counts = store.count_nodes()
    assert (counts["Patient"], counts["Claim"], counts["Ring"]) == (5, 7, 0)


def test_delete_nodes_and_delete_everything_are_batched() -> None:
    remaining = {"n": 25}

    def reply(statement: str, params: dict[str, Any]) -> Reply:
        if "LIMIT $limit DETACH DELETE" in statement:
            gone = min(remaining["n"], params["limit"])
            remaining["n"] -= gone
            return Reply([{"deleted": gone}])
        return Reply([{"deleted": len(params.get("keys", []))}])

    store, driver = make_store(reply, batch_size=10)
    assert store.delete_nodes("Patient", [f"P{i}" for i in range(12)] + ["P1"]) == 12
    assert [len(c.parameters["keys"]) for c in driver.calls] == [10, 2]
    assert "DETACH DELETE" in driver.calls[0].statement
    driver.calls.clear()
    assert store.delete_everything() == 25
    assert len(driver.calls) == 4 and {c.via for c in driver.calls} == {"tx"}


def test_replace_derived_writes_one_run_in_one_transaction() -> None:
    store, driver = make_store()
    data = DerivedData(
        run=pd.DataFrame({"run_id": ["run-1"], "engine": ["igraph"]}),
        rings=pd.DataFrame({"ring_id": ["R1"], "kind": ["collusion"], "score": [0.9], "evidence": [["e1"]]}),
        ring_members=pd.DataFrame({
            "src": ["R1", "R1"], "dst": ["P1", "H1"],
            "dst_label": ["Patient", "Institution"], "role": ["patient", "institution"],
        }),
        findings=pd.DataFrame({"finding_id": ["F1"], "kind": ["claim_after_death"], "person_id": ["P1"]}),
        finding_claims=pd.DataFrame({"src": ["F1"], "dst": ["medical:1"]}),
        finding_persons=pd.DataFrame({"src": ["F1"], "dst": ["P1"]}),
    )
    store.replace_derived(data)
    assert driver.transactions == ["w"]
    statements = driver.statements()
    order = [
        "MERGE (n:DetectionRun", "MERGE (n:Ring", "-[r:HAS_MEMBER]->(b:Patient) ",
        "MERGE (a)-[r:HAS_MEMBER]->(b)", "MATCH (n:Finding) DETACH DELETE n", "MERGE (n:Finding",
        "MERGE (a)-[r:INVOLVES]->(b)", "MERGE (a)-[r:CONCERNS]->(b)",
    ]
    positions = [next(i for i, s in enumerate(statements) if part in s) for part in order]
    assert positions == sorted(positions)
    members = [c for c in driver.calls if "HAS_MEMBER]->(b)" in c.statement]
    assert {c.parameters["rows"][0]["props"]["role"] for c in members} == {"patient", "institution"}


def test_from_settings_requires_the_connection_settings() -> None:
    with pytest.raises(ConfigError, match="MEDFRAUD_NEO4J_URI"):
        Neo4jStore.from_settings(Settings(store="duckdb"))
    with pytest.raises(ConfigError, match="MEDFRAUD_NEO4J_PASSWORD"):
        Neo4jStore.from_settings(Settings(store="duckdb", neo4j_uri="bolt://localhost:7687"))
    with pytest.raises(ConfigError, match="MEDFRAUD_NEO4J_URI"):
        Neo4jStore.from_settings(Settings(store="duckdb", neo4j_uri="ftp://nowhere", neo4j_password="pw"))
    store = Neo4jStore.from_settings(Settings(store="neo4j", neo4j_uri="bolt://localhost:7687",
                                              neo4j_password="pw", neo4j_database="fraud"))
    assert store.kind == "neo4j" and store.query_language == "cypher"
    store.close()


def test_close_closes_the_driver() -> None:
    store, driver = make_store()
    with store:
        pass
    assert driver.closed
