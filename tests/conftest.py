"""Shared test configuration: the ``neo4j`` marker and fixtures built from the synthetic generator."""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if os.environ.get("NEO4J_URI"):
        return
    skip = pytest.mark.skip(reason="needs a live Neo4j: set NEO4J_URI (and NEO4J_USER/NEO4J_PASSWORD)")
    for item in items:
        if "neo4j" in item.keywords:
            item.add_marker(skip)


# -- the synthetic city (ingest.generator), shared by the whole session ---------------------------
CITY_PERSONS = 3000
CITY_SEED = 7


@pytest.fixture(scope="session")
def city_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A generated city (3,000 persons, seed 7) as CSV files; its truth JSON lies next to it."""
    from ingest.generator import generate_city

    out = tmp_path_factory.mktemp("city") / "city"
    generate_city(out, persons=CITY_PERSONS, seed=CITY_SEED)
    return out


@pytest.fixture(scope="session")
def city_truth(city_dir: Path) -> dict[str, Any]:
    """The planted truth of ``city_dir`` (rings, double claims, anomalies, look-alikes)."""
    from ingest.generator import truth_path

    truth: dict[str, Any] = json.loads(truth_path(city_dir).read_text(encoding="utf-8"))
    return truth


@pytest.fixture(scope="session")
def city_db_path(city_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A DuckDB file holding ``city_dir`` ingested; copy it (see ``city_store``) before writing."""
    from graph.duckdb_store import DuckDBStore
    from ingest.loader import ingest_dir

    path = tmp_path_factory.mktemp("city_db") / "city.duckdb"
    store = DuckDBStore(path)
    try:
        store.apply_schema()
        ingest_dir(store, city_dir, rejects_dir=path.parent / "_rejects")
    finally:
        store.close()
    return path


@pytest.fixture
def city_store(city_db_path: Path, tmp_path: Path) -> Iterator[Any]:
    """A DuckDBStore on a fresh copy of the ingested city, closed after the test."""
    from graph.duckdb_store import DuckDBStore

    copy = tmp_path / "city.duckdb"
    shutil.copyfile(city_db_path, copy)
    wal = city_db_path.with_name(city_db_path.name + ".wal")
    if wal.exists():
        shutil.copyfile(wal, copy.with_name(copy.name + ".wal"))
    store = DuckDBStore(copy)
    store.apply_schema()
    try:
        yield store
    finally:
        store.close()
