"""Analysts' named queries: one .cypher file each, with a DuckDB SQL twin where needed."""
