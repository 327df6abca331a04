"""Build the configured store: the one place that knows both adapters."""

from __future__ import annotations

from graph.port import GraphStore
from graph.settings import Settings, load_settings


def open_store(settings: Settings | None = None, *, read_only: bool = False) -> GraphStore:
    """Open the store named by ``MEDFRAUD_STORE`` (DuckDB by default) and apply the schema.

    ``read_only`` opens the DuckDB file without write access (analyst tooling); Neo4j ignores it
    because read-only-ness there is enforced per transaction.
    """
    settings = settings or load_settings()
    store: GraphStore
    if settings.store == "neo4j":
        from graph.neo4j.store import Neo4jStore

        store = Neo4jStore.from_settings(settings)
    else:
        from graph.duckdb.store import DuckDBStore

        store = DuckDBStore.from_settings(settings, read_only=read_only)
    if not read_only:
        store.apply_schema()
    return store
