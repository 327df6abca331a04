"""The column-wise bulk writes of the Neo4j adapter (Arrow tables, as ingest hands them over)."""

from __future__ import annotations

from datetime import date
from typing import Any

import pyarrow as pa
import pytest

from graph.errors import SchemaError
from graph.neo4j.store import Neo4jStore
from tests.unit.graph.neo4j_recording import RecordingDriver, Reply, default_reply


def make_store(responder: Any = None, **kwargs: Any) -> tuple[Neo4jStore, RecordingDriver]:
    driver = RecordingDriver(responder)
    return Neo4jStore(driver, database="neo4j", **kwargs), driver  # type: ignore[arg-type]


def _written(statement: str, params: dict[str, Any]) -> Reply:
    if "AS written" in statement:
        first = "keys" if "$keys" in statement else "src"
        return Reply([{"written": len(params[first])}])
    return default_reply(statement, params)


def test_nodes_travel_as_one_list_per_property_with_nulls_and_nan_as_null() -> None:
    store, driver = make_store(_written, batch_size=2)
    table = pa.table({
        "person_id": ["P1", "P2", "P3"],
        "birth_date": pa.array([date(1950, 1, 2), None, date(1960, 3, 4)], pa.date32()),
        "name": ["张伟", None, "Li"],
    })
    assert store.upsert_nodes("Patient", table) == 3
    calls = sorted(driver.calls, key=lambda c: c.parameters["keys"])
    assert [c.parameters["keys"] for c in calls] == [["P1", "P2"], ["P3"]]
    assert calls[0].statement == (
        "UNWIND range(0, size($keys) - 1) AS i MERGE (n:Patient {person_id: $keys[i]}) "
        "SET n.birth_date = $c0[i], n.name = $c1[i] RETURN count(n) AS written")
    assert calls[0].parameters["c0"] == [date(1950, 1, 2), None]  # a null removes the property
    assert calls[0].parameters["c1"] == ["张伟", None]
    assert {c.via for c in calls} == {"tx"} and len(driver.transactions) == 2

    driver.calls.clear()
    store.upsert_nodes("Claim", pa.table({"claim_key": ["medical:1"], "total_amount": [float("nan")],
                                          "start_date": ["2025-01-02"]}))
    (call,) = driver.calls
    assert call.parameters["c0"] == [None]  # NaN is missing, as in the row form
    assert call.parameters["c1"] == [date(2025, 1, 2)]  # text of a date property becomes a date


def test_repeated_keys_are_written_one_batch_after_the_other_in_order() -> None:
    store, driver = make_store(_written, batch_size=1)
    store.upsert_nodes("Patient", pa.table({"person_id": ["P1", "P1", "P2"], "name": ["a", "b", "c"]}))
    assert [c.parameters["c0"] for c in driver.calls] == [["a"], ["b"], ["c"]]  # the last row wins


def test_relationships_go_per_end_label_pair_with_their_properties() -> None:
    store, driver = make_store(_written)
    table = pa.table({
        "src": ["medical:1", "medical:2", "medical:3"],
        "dst": ["H1", "PH1", "H2"],
        "dst_label": ["Institution", "Pharmacy", "Institution"],
        "date": pa.array([date(2025, 1, 2), date(2025, 1, 3), None], pa.date32()),
    })
    assert store.upsert_relationships("TREATED_AT", table) == 3
    by_end = {("Pharmacy" if ":Pharmacy " in c.statement else "Institution"): c for c in driver.calls}
    inst = by_end["Institution"]
    assert inst.statement == (
        "UNWIND range(0, size($src) - 1) AS i "
        "MATCH (a:Claim {claim_key: $src[i]}) USING INDEX SEEK a:Claim(claim_key) "
        "MATCH (b:Institution {institution_id: $dst[i]}) USING INDEX SEEK b:Institution(institution_id) "
        "MERGE (a)-[r:TREATED_AT]->(b) SET r.date = $c0[i] RETURN count(r) AS written")
    assert inst.parameters == {"src": ["medical:1", "medical:3"], "dst": ["H1", "H2"],
                               "c0": [date(2025, 1, 2), None]}
    assert by_end["Pharmacy"].parameters["dst"] == ["PH1"]


def test_bad_tables_are_refused_before_anything_is_sent() -> None:
    store, driver = make_store(_written)
    with pytest.raises(SchemaError, match="empty key"):
        store.upsert_nodes("Patient", pa.table({"person_id": ["P1", " "]}))
    with pytest.raises(SchemaError, match="favourite_colour"):
        store.upsert_nodes("Patient", pa.table({"person_id": ["P1"], "favourite_colour": ["red"]}))
    with pytest.raises(SchemaError, match="cannot connect dst_label Doctor"):
        store.upsert_relationships("TREATED_AT",
                                   pa.table({"src": ["c"], "dst": ["d"], "dst_label": ["Doctor"]}))
    assert driver.calls == []


def test_a_first_load_of_replaced_links_merges_column_wise_without_deleting() -> None:
    store, driver = make_store(_written, batch_size=2)
    table = pa.table({"src": ["P1", "P2", "P3"], "dst": ["139", "138", "137"]})
    assert store.replace_relationships("HAS_PHONE", ["P1", "P2", "P3"], table) == 3
    sent = [c for c in driver.calls if c.via == "tx"]
    assert [c.parameters["src"] for c in sent] == [["P1", "P2"], ["P3"]]
    assert not any("DELETE" in s for s in driver.statements())
