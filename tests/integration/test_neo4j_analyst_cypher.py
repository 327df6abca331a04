"""Analyst Cypher on a live Neo4j: reads answer, every way of writing or escaping is refused.

Each refused statement must leave the graph and the GDS catalog as they were, and the error must
tell the analyst why (these texts reach the API as the analyst's error message).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pandas as pd
import pytest

from graph.errors import InvalidRequest, WriteRefused
from graph.neo4j.store import Neo4jStore

pytestmark = pytest.mark.neo4j


@pytest.fixture(scope="module")
def store(neo4j_db: Any) -> Iterator[Neo4jStore]:
    s = neo4j_db.open_store()
    s.apply_schema()
    s.upsert_nodes("Patient", pd.DataFrame({"person_id": ["P1", "P2"], "name": ["张伟", "李娜"]}))
    s.upsert_nodes("Phone", pd.DataFrame({"phone": ["13800000001"]}))
    s.upsert_relationships("HAS_PHONE", pd.DataFrame({"src": ["P1", "P2"], "dst": ["13800000001"] * 2}))
    yield s
    s.close()


def _state(store: Neo4jStore) -> tuple[dict[str, int], dict[str, int], list[list[Any]]]:
    graphs = store.read_query("RETURN gds.graph.exists('g') AS g").rows
    return store.count_nodes(), store.count_relationships(), graphs


def test_reads_answer(store: Neo4jStore) -> None:
    res = store.read_query("MATCH (p:Patient)-[:HAS_PHONE]->(f:Phone) RETURN p.person_id AS p, f.phone AS f "
                           "ORDER BY p")
    assert res.rows == [["P1", "13800000001"], ["P2", "13800000001"]]
    labels = store.read_query("CALL db.labels() YIELD label RETURN label ORDER BY label")
    assert ["Patient"] in labels.rows and ["Phone"] in labels.rows
    assert store.read_query("RETURN gds.version() AS v").rows == [["2.13.9"]]
    assert store.read_query("SHOW INDEXES YIELD name RETURN count(*) AS n").rows[0][0] > 0


REFUSED: list[tuple[str, str]] = [
    ("CREATE (:Patient {person_id: 'X'})", "read-only"),
    ("MERGE (:Patient {person_id: 'X'})", "read-only"),
    ("MATCH (p:Patient) SET p.name = 'x'", "read-only"),
    ("MATCH (p:Patient) DETACH DELETE p", "read-only"),
    ("cReAtE /* spelled oddly */ (:Patient {person_id: 'Y'})", "read-only"),
    ("CALL db.createLabel('Stolen')", "read-only"),
    ("CALL db.clearQueryCaches()", "read-only"),
    ("CALL dbms.listConfig() YIELD name RETURN name", "read-only"),
    ("CALL dbms.components() YIELD name RETURN name", "read-only"),
    ("LOAD CSV FROM 'file:///etc/passwd' AS line RETURN line", "LOAD CSV"),
    ("TERMINATE TRANSACTIONS 'neo4j-transaction-1'", "TERMINATE"),
    ("SHOW USERS", "read-only"),
    ("CALL gds.graph.project('g', 'Patient', '*')", "gds.graph.project"),
    ("CALL gds.wcc.mutate('g', {mutateProperty: 'c'})", "gds.wcc.mutate"),
    ("CALL gds.wcc.write('g', {writeProperty: 'c'})", "read-only"),
    ("MATCH (n) CALL (n) { DETACH DELETE n } IN TRANSACTIONS", "read-only"),
    ("MATCH (n) CALL (n) { RETURN count(*) AS c } IN TRANSACTIONS RETURN c", "IN TRANSACTIONS"),
]


@pytest.mark.parametrize(("text", "reason"), REFUSED, ids=[t for t, _ in REFUSED])
def test_writes_and_escapes_are_refused(store: Neo4jStore, text: str, reason: str) -> None:
    before = _state(store)
    with pytest.raises(WriteRefused, match=reason):
        store.read_query(text)
    assert _state(store) == before


def test_use_clause_is_refused(store: Neo4jStore) -> None:
    before = _state(store)
    for text in ("USE system SHOW USERS", "use system show users", "USE neo4j MATCH (n) RETURN n"):
        with pytest.raises(InvalidRequest, match="configured database"):
            store.read_query(text)
    assert _state(store) == before


def test_bad_cypher_is_a_clear_error(store: Neo4jStore) -> None:
    with pytest.raises(InvalidRequest, match=r"(?i)invalid input|syntax"):
        store.read_query("MATCH (p:Patient RETURN p")
