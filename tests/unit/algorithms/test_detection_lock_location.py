"""Two Neo4j servers are two graphs: a detection run on one must not lock out a run on the other."""

from __future__ import annotations

from algorithms.job import lock_path_for
from graph.neo4j.store import Neo4jStore
from graph.settings import load_settings


def _store(uri: str) -> Neo4jStore:
    return Neo4jStore.from_settings(load_settings(store="neo4j", neo4j_uri=uri, neo4j_password="x" * 12))


def test_each_server_has_its_own_detection_lock() -> None:
    a, b, a_again = _store("bolt://127.0.0.1:7687"), _store("bolt://127.0.0.1:7688"), _store("bolt://127.0.0.1")
    try:
        assert lock_path_for(a) != lock_path_for(b)
        assert lock_path_for(a) == lock_path_for(a_again)  # 7687 is Bolt's port when none is given
        assert a.location == "neo4j database neo4j at bolt://127.0.0.1:7687"
    finally:
        for store in (a, b, a_again):
            store.close()
