"""Fixtures of the integration tests: the same API suite on both stores."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from graph.port import GraphStore

STORES = ["duckdb", pytest.param("neo4j", marks=pytest.mark.neo4j)]


def open_test_store(kind: str, request: pytest.FixtureRequest, folder: Path) -> GraphStore:
    """An empty store of ``kind`` with the schema applied (Neo4j: the live server, wiped)."""
    if kind == "duckdb":
        from graph.duckdb.store import DuckDBStore

        duck = DuckDBStore(folder / "graph.duckdb")
        duck.apply_schema()
        return duck
    from tests.neo4j_live import wipe

    server = request.getfixturevalue("neo4j_server")
    wipe(server)
    neo = server.open_store()
    neo.apply_schema()
    return neo


@pytest.fixture(scope="module", params=STORES)
def api_store(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """An empty store per test module and store kind; the API suite runs once on each."""
    store = open_test_store(request.param, request, tmp_path_factory.mktemp(request.param))
    try:
        yield store
    finally:
        store.close()
