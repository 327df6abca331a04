"""GdsEngine against the live GDS: known answers, and no projection left behind, even on failure.

    P1 - P2 - P3 - P1   (a heavy triangle)        P7 - P8 - P9 - P7   (a second triangle)
                         P3 - P7 (one light bridge)
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pandas as pd
import pytest

from algorithms.gds_engine import GdsEngine
from graph.errors import StoreError
from graph.neo4j.store import Neo4jStore

pytestmark = pytest.mark.neo4j

EDGES = pd.DataFrame({
    "src": ["P1", "P2", "P3", "P7", "P8", "P9", "P3"],
    "dst": ["P2", "P3", "P1", "P8", "P9", "P7", "P7"],
    "weight": [5.0, 5.0, 5.0, 5.0, 5.0, 5.0, 0.1],
})


@pytest.fixture(scope="module")
def store(neo4j_db: Any) -> Iterator[Neo4jStore]:
    s = neo4j_db.open_store()
    yield s
    s.close()


def _graphs(store: Neo4jStore) -> list[str]:
    rows = store.read_query("RETURN gds.graph.exists('x') AS unused").rows  # GDS answers at all
    assert rows == [[False]]
    records, _, _ = store.driver.execute_query("CALL gds.graph.list() YIELD graphName RETURN graphName",
                                               database_=store.database)
    return [r["graphName"] for r in records]


def test_leiden_and_wcc_give_the_known_answer(store: Neo4jStore) -> None:
    engine = GdsEngine.from_store(store)
    communities = engine.communities(EDGES, resolution=0.5, seed=42)
    groups = {frozenset(g.index) for _, g in communities.groupby(communities)}
    assert groups == {frozenset({"P1", "P2", "P3"}), frozenset({"P7", "P8", "P9"})}
    components = engine.components(EDGES[EDGES["weight"] > 1])
    assert {frozenset(g.index) for _, g in components.groupby(components)} == groups
    assert _graphs(store) == []


def test_the_projection_is_dropped_when_the_algorithm_fails(store: Neo4jStore) -> None:
    engine = GdsEngine.from_store(store)
    engine.max_levels = 0  # GDS fails inside Leiden on maxLevels 0, after the graph was projected
    with pytest.raises(StoreError, match="failed to run Leiden"):
        engine.communities(EDGES, resolution=0.5, seed=42)
    assert _graphs(store) == []
