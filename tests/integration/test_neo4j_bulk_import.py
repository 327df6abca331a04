"""``medfraud neo4j-import`` on a live Neo4j: the bulk importer builds the graph Cypher writes.

An embedded store holds a generated city with bad rows, a detection run (rings, findings, JSON
evidence, datetimes, floats) and a hand-made case whose texts hold quotes, commas, a line break
and an empty string. The same store reaches Neo4j two ways: copied through the port (the Cypher
writer ``medfraud ingest`` uses) into the session's server, and bulk-imported into a new data
folder, on which a second server is started. Every node and relationship, read back by Cypher
with Neo4j's own types, must be the same; ``medfraud`` must work on the imported database.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections import Counter
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest

from graph.errors import StoreError
from graph.model import NODE_TYPES, REL_TYPES
from graph.neo4j.import_files import ImportFiles
from graph.settings import load_settings
from ingest.neo4j_import import database_dir, run_importer

pytestmark = [pytest.mark.neo4j, pytest.mark.slow]

PERSONS, SEED, BAD_ROWS = 1500, 5, 12
CLEAN_ENV = {k: v for k, v in os.environ.items() if not k.startswith("MEDFRAUD_")}


def cli(env: dict[str, str], *args: str, ok: tuple[int, ...] = (0,)) -> subprocess.CompletedProcess[str]:
    done = subprocess.run([sys.executable, "-m", "api.cli", *args], capture_output=True, text=True,
                          env={**CLEAN_ENV, **env}, timeout=600, check=False)
    assert done.returncode in ok, f"medfraud {' '.join(args)}\n{done.stdout}\n{done.stderr}"
    return done


def _add_case(db: Path) -> None:
    from graph.factory import open_store

    with open_store(load_settings(store="duckdb", duckdb_path=db)) as store:
        ring = store.stream_nodes("Ring", ["ring_id"])
        ring_id = pa.Table.from_batches(list(ring)).column("ring_id")[0].as_py()
        store.upsert_nodes("Case", pa.table({
            "case_id": ["C-1", "C-2"],
            "title": ['团伙 "甲", 第一批\n复核', ""],
            "status": ["open", "closed"],
            "agency": ["市医保局", "市医保局"],
            "shared_with": pa.array([["市公安局", "区医保中心"], []], pa.list_(pa.string())),
            "created_at": pa.array([datetime(2026, 3, 1, 8, 30, 15, 250000), datetime(2026, 3, 2)],
                                   pa.timestamp("us")),
        }))
        store.upsert_relationships("INCLUDES_RING", pa.table({"src": ["C-1"], "dst": [ring_id]}))


class Folders:
    def __init__(self, base: Path) -> None:
        self.base = base
        self.city = base / "city"
        self.db = base / "city.duckdb"
        self.data = base / "neo4j-data"
        self.embedded_env = {"MEDFRAUD_STORE": "duckdb", "MEDFRAUD_DUCKDB_PATH": str(self.db)}


@pytest.fixture(scope="module")
def folders(tmp_path_factory: pytest.TempPathFactory) -> Folders:
    from ingest.generator import generate_city

    f = Folders(tmp_path_factory.mktemp("bulk-import"))
    generate_city(f.city, persons=PERSONS, seed=SEED, bad_rows=BAD_ROWS)
    cli(f.embedded_env, "ingest", str(f.city), "--no-progress", ok=(2,))
    cli(f.embedded_env, "detect")
    _add_case(f.db)
    cli({}, "neo4j-import", "--from-duckdb", str(f.db), "--data", str(f.data))
    return f


@pytest.fixture(scope="module")
def imported(folders: Folders) -> Iterator[Any]:
    """A second server, started on the data folder the importer built."""
    from tests.neo4j_live import LocalNeo4j

    local = LocalNeo4j(folders.data, folders.base / "imported.log")
    try:
        yield local.wait_ready()
    finally:
        local.stop()


@pytest.fixture(scope="module")
def written(folders: Folders, neo4j_db: Any) -> Any:
    """The session's server, holding the same store written through the port (Cypher ``MERGE``)."""
    from graph.factory import open_store

    with open_store(load_settings(store="duckdb", duckdb_path=folders.db), read_only=True) as source, \
            neo4j_db.open_store() as target:
        target.apply_schema()
        for nt in NODE_TYPES:
            for batch in source.stream_nodes(nt.label):
                target.upsert_nodes(nt.label, pa.Table.from_batches([batch]))
        for rt in REL_TYPES:
            for batch in source.stream_relationships(rt.type):
                target.upsert_relationships(rt.type, pa.Table.from_batches([batch]))
    return neo4j_db


_KEYS = {nt.label: nt.key for nt in NODE_TYPES}


def dump(server: Any) -> tuple[Counter[str], Counter[str]]:
    """Every node and relationship with its properties, as Neo4j returns them (types included)."""
    from neo4j import GraphDatabase

    def text(value: Any) -> str:
        return repr(sorted(value.items())) if isinstance(value, dict) else repr(value)

    with GraphDatabase.driver(server.uri, auth=(server.user, server.password)) as driver:
        nodes, _, _ = driver.execute_query(
            "MATCH (n) WHERE NOT n:_Revision RETURN labels(n) AS labels, properties(n) AS props",
            database_=server.database)
        rels, _, _ = driver.execute_query(
            "MATCH (a)-[r]->(b) RETURN type(r) AS type, labels(a)[0] AS sl, properties(a) AS a, "
            "labels(b)[0] AS dl, properties(b) AS b, properties(r) AS props", database_=server.database)
    node_lines = Counter(f"{r['labels']} {text(r['props'])}" for r in nodes)
    rel_lines = Counter(
        f"{r['type']} {r['sl']}:{r['a'][_KEYS[r['sl']]]} -> {r['dl']}:{r['b'][_KEYS[r['dl']]]} "
        f"{text(r['props'])}" for r in rels)
    return node_lines, rel_lines


def test_the_imported_graph_equals_the_one_cypher_writes(imported: Any, written: Any) -> None:
    bulk_nodes, bulk_rels = dump(imported)
    cypher_nodes, cypher_rels = dump(written)
    # The one value the importer cannot write: an empty list arrives as an absent property, which
    # every reader takes for an empty list (graph/neo4j/import_files.py).
    cypher_nodes = Counter({line.replace("('shared_with', []), ", ""): n for line, n in cypher_nodes.items()})
    assert sum(bulk_nodes.values()) > PERSONS and sum(bulk_rels.values()) > PERSONS
    assert bulk_nodes == cypher_nodes
    assert bulk_rels == cypher_rels
    case = next(line for line in bulk_nodes if "'C-1'" in line)
    assert "'团伙 \"甲\", 第一批\\n复核'" in case and "['市公安局', '区医保中心']" in case
    assert "DateTime(2026, 3, 1, 8, 30, 15, 250000000)" in case
    unshared = next(line for line in bulk_nodes if "'C-2'" in line)
    assert "shared_with" not in unshared and "('title', '')" in unshared


def _constraints(server: Any) -> list[str]:
    from neo4j import GraphDatabase

    with GraphDatabase.driver(server.uri, auth=(server.user, server.password)) as driver:
        records, _, _ = driver.execute_query("SHOW CONSTRAINTS YIELD name RETURN name ORDER BY name",
                                             database_=server.database)
    return [r["name"] for r in records]


def test_medfraud_works_on_the_imported_database(folders: Folders, imported: Any, written: Any) -> None:
    env = imported.env()
    stats = json.loads(cli(env, "stats", "--json").stdout)
    embedded = json.loads(cli(folders.embedded_env, "stats", "--json").stdout)
    assert {k: v for k, v in stats.items() if k not in ("store", "location")} == \
        {k: v for k, v in embedded.items() if k not in ("store", "location")}
    # the first command created the constraints, so a later ingest merges on them as anywhere else
    assert len(_constraints(imported)) > len(NODE_TYPES) - 1
    assert _constraints(imported) == _constraints(written)
    cli(env, "ingest", str(folders.city), "--no-progress", ok=(2,))
    assert json.loads(cli(env, "stats", "--json").stdout) == stats


def test_a_running_server_or_an_existing_database_is_refused(folders: Folders, imported: Any,
                                                            tmp_path: Path) -> None:
    before = dump(imported)
    for extra in ((), ("--overwrite",)):
        done = cli({}, "neo4j-import", "--from-duckdb", str(folders.db), "--data", str(folders.data), *extra,
                   ok=(1,))
        assert "server is running" in done.stderr
    assert dump(imported) == before
    data = tmp_path / "data"
    database_dir(data, "neo4j").mkdir(parents=True)
    (database_dir(data, "neo4j") / "neostore").write_bytes(b"kept")
    done = cli({}, "neo4j-import", "--from-duckdb", str(folders.db), "--data", str(data), ok=(1,))
    assert "already exists" in done.stderr and "--overwrite" in done.stderr
    assert (database_dir(data, "neo4j") / "neostore").read_bytes() == b"kept"


def test_a_folder_is_validated_as_ingest_validates_it(folders: Folders, tmp_path: Path) -> None:
    """The folder path writes the same rejects and the same graph files as an embedded ingest."""
    city = tmp_path / "city"
    shutil.copytree(folders.city, city, ignore=shutil.ignore_patterns("_rejects", "_warnings"))
    from_folder, from_store = tmp_path / "from-folder", tmp_path / "from-store"
    done = cli({}, "neo4j-import", str(city), "--data", str(tmp_path / "unused"), "--files-only",
               str(from_folder), "--no-progress", ok=(2,))
    assert "rejected rows with line and reason" in done.stdout
    for name in ("persons.csv", "claims.csv", "institutions.csv"):
        assert (city / "_rejects" / name).read_text(encoding="utf-8") == \
            (folders.city / "_rejects" / name).read_text(encoding="utf-8")
    cli({}, "neo4j-import", "--from-duckdb", str(folders.db), "--data", str(tmp_path / "unused"),
        "--files-only", str(from_store))
    folder_files = sorted(p.name for p in from_folder.glob("*.csv"))
    assert "nodes-Patient.csv" in folder_files and "rels-HAS_CLAIM-Patient-Claim.csv" in folder_files
    for name in folder_files:
        if name.startswith(("nodes-Ring", "nodes-Finding", "nodes-DetectionRun", "nodes-Case")):
            continue
        # provenance names the file read: the copy's path stands where the original's does
        text = (from_folder / name).read_text(encoding="utf-8").replace(str(city), str(folders.city))
        lines = Counter(text.splitlines())
        assert lines == Counter((from_store / name).read_text(encoding="utf-8").splitlines()), name
    assert not (tmp_path / "unused" / "data").exists()


def test_a_failed_import_builds_no_database(folders: Folders, tmp_path: Path) -> None:
    files = tmp_path / "files"
    cli({}, "neo4j-import", "--from-duckdb", str(folders.db), "--data", str(tmp_path / "unused"),
        "--files-only", str(files))
    with (files / "rels-HAS_CLAIM-Patient-Claim.csv").open("a", encoding="utf-8") as out:
        out.write('"P-NOBODY","medical:NO-SUCH-CLAIM","2025-01-01"\n')
    data = tmp_path / "data"
    with pytest.raises(StoreError, match="bulk importer failed"):
        run_importer(data, ImportFiles(files, files / "import.args"))
    assert not database_dir(data, "neo4j").exists()
    # with --overwrite, a failure puts the old database back, file for file
    shutil.copytree(folders.data / "data" / "databases" / "neo4j", database_dir(data, "neo4j"))
    before = _files(data / "data")
    args = files / "import.args"
    text = args.read_text(encoding="utf-8").replace("\nneo4j\n", "\n--overwrite-destination=true\nneo4j\n")
    args.write_text(text, encoding="utf-8")
    with pytest.raises(StoreError, match="the data folder is as it was"):
        run_importer(data, ImportFiles(files, args))
    assert _files(data / "data") == before


def _files(folder: Path) -> list[tuple[str, int]]:
    return sorted((str(p.relative_to(folder)), p.stat().st_size) for p in folder.rglob("*") if p.is_file())
