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
    """``neo4j`` tests run against a live server; ``MEDFRAUD_SKIP_NEO4J=1`` opts out, except in CI."""
    if os.environ.get("MEDFRAUD_SKIP_NEO4J") != "1":
        return
    if os.environ.get("CI"):
        raise pytest.UsageError("CI runs every neo4j test: unset MEDFRAUD_SKIP_NEO4J")
    skip = pytest.mark.skip(reason="MEDFRAUD_SKIP_NEO4J=1: the live Neo4j tests were opted out")
    for item in items:
        if "neo4j" in item.keywords:
            item.add_marker(skip)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
    """In CI a skipped ``neo4j`` or ``spark`` test is a failure: such a claim must be proved live there."""
    outcome = yield
    report: pytest.TestReport = outcome.get_result()  # type: ignore[attr-defined]
    for marker in ("neo4j", "spark"):
        if os.environ.get("CI") and report.skipped and marker in item.keywords:
            report.outcome = "failed"
            report.longrepr = f"{marker} test skipped in CI: {report.longrepr}"


@pytest.fixture(scope="session")
def neo4j_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """A live Neo4j + GDS for the session: ``NEO4J_URI``'s server, else ``deploy/neo4j-local``."""
    from tests.neo4j_live import LocalNeo4j, external_server

    server = external_server()
    if server is not None:
        yield server
        return
    base = tmp_path_factory.mktemp("neo4j")
    local = LocalNeo4j(base / "data", base / "neo4j.log")
    try:
        yield local.wait_ready()
    finally:
        local.stop()


@pytest.fixture(scope="session")
def spark() -> Any:
    """The one Spark session of the test run (``local[2]``, 4 shuffle partitions, UI off).

    Skips where pyspark or Java is missing — except in CI, where a skipped ``spark`` test fails.
    """
    pytest.importorskip("pyspark")
    if shutil.which("java") is None:
        pytest.skip("the spark tests need a Java 17 runtime")
    from algorithms.spark.session import spark_session

    return spark_session("local[2]")


@pytest.fixture(scope="module")
def neo4j_db(neo4j_server: Any) -> Any:
    """``neo4j_server`` with its database emptied for this test module."""
    from tests.neo4j_live import wipe

    wipe(neo4j_server)
    return neo4j_server


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
    from graph.duckdb.store import DuckDBStore
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
    from graph.duckdb.store import DuckDBStore

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
