"""``medfraud stats`` run as a user runs it: the installed console command in a subprocess."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from graph.duckdb.store import DuckDBStore
from graph.model import NODES, RELS


def medfraud(*args: str, db: Path) -> subprocess.CompletedProcess[str]:
    exe = shutil.which("medfraud") or str(Path(sys.executable).parent / "medfraud")
    env = {**os.environ, "MEDFRAUD_DUCKDB_PATH": str(db), "MEDFRAUD_STORE": "duckdb"}
    return subprocess.run([exe, *args], capture_output=True, text=True, env=env, timeout=120)


@pytest.fixture
def db(tmp_path: Path) -> Path:
    path = tmp_path / "city.duckdb"
    store = DuckDBStore(path)
    store.apply_schema()
    store.upsert_nodes("Patient", pd.DataFrame({"person_id": ["P1", "P2", "P3"]}))
    store.upsert_nodes("Claim", pd.DataFrame({"claim_key": ["medical:1", "medical:2"]}))
    store.upsert_relationships("HAS_CLAIM", pd.DataFrame({"src": ["P1", "P2"],
                                                          "dst": ["medical:1", "medical:2"]}))
    store.close()
    return path


def test_stats_json_counts_every_label_and_type(db: Path) -> None:
    done = medfraud("stats", "--json", db=db)
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert report["store"] == "duckdb"
    assert set(report["nodes"]) == set(NODES) and set(report["relationships"]) == set(RELS)
    assert (report["nodes"]["Patient"], report["nodes"]["Claim"], report["nodes"]["Ring"]) == (3, 2, 0)
    assert report["relationships"]["HAS_CLAIM"] == 2


def test_stats_table_for_people(db: Path) -> None:
    done = medfraud("stats", db=db)
    assert done.returncode == 0, done.stderr
    rows = {line.split()[0]: line.split()[-1] for line in done.stdout.splitlines() if line.strip()}
    assert rows["Patient"] == "3" and rows["HAS_CLAIM"] == "2" and rows["CaseNote"] == "0"


def test_stats_while_another_process_owns_the_file(db: Path) -> None:
    owner = DuckDBStore(db)
    try:
        done = medfraud("stats", db=db)
    finally:
        owner.close()
    assert done.returncode == 1
    assert "in use by another process" in done.stderr and "Traceback" not in done.stderr
