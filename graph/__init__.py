"""The graph model, the store port and its two adapters (DuckDB embedded, Neo4j)."""
