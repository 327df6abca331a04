"""A generated city through the CLI on a live Neo4j, side by side with the embedded store.

What a deployment on Neo4j must give: the same graph from the same export (bad rows rejected the
same way, a re-ingest changing nothing, an updated person's links replaced), the same findings from
``detect`` with either engine, and the same answers from every named query.
"""

from __future__ import annotations

import csv
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from algorithms.evaluate import evaluate_files
from algorithms.parity import compare_exports, format_parity
from graph.duckdb.store import DuckDBStore
from graph.model import NodeRef
from graph.neo4j.store import Neo4jStore
from graph.port import GraphStore
from graph.settings import load_settings
from queries.library import list_named_queries, run_named_query

pytestmark = [pytest.mark.neo4j, pytest.mark.slow]

PERSONS, SEED, BAD_ROWS = 2000, 11, 25


@dataclass
class Side:
    name: str
    env: dict[str, str]
    folder: Path

    def cli(self, *args: str, ok: tuple[int, ...] = (0,)) -> str:
        done = subprocess.run([sys.executable, "-m", "api.cli", *args], capture_output=True, text=True,
                              env=self.env, timeout=600, check=False)
        assert done.returncode in ok, f"{self.name}: medfraud {' '.join(args)}\n{done.stdout}\n{done.stderr}"
        return done.stdout

    def stats(self) -> dict[str, Any]:
        answer: dict[str, Any] = json.loads(self.cli("stats", "--json"))
        return {k: v for k, v in answer.items() if k not in ("store", "location")}


@dataclass
class Cities:
    truth: Path
    embedded: Side
    neo4j: Side


@pytest.fixture(scope="module")
def cities(neo4j_db: Any, tmp_path_factory: pytest.TempPathFactory) -> Cities:
    from ingest.generator import generate_city, truth_path

    base = tmp_path_factory.mktemp("neo4j-city")
    source = base / "city"
    generate_city(source, persons=PERSONS, seed=SEED, bad_rows=BAD_ROWS)
    clean = {k: v for k, v in os.environ.items() if not k.startswith("MEDFRAUD_")}
    sides = []
    for name, extra in (("embedded", {"MEDFRAUD_STORE": "duckdb",
                                      "MEDFRAUD_DUCKDB_PATH": str(base / "city.duckdb")}),
                        ("neo4j", neo4j_db.env())):
        folder = base / name
        shutil.copytree(source, folder)
        sides.append(Side(name, {**clean, **extra}, folder))
    for side in sides:
        side.cli("ingest", str(side.folder), ok=(0, 2))
    return Cities(truth_path(source), sides[0], sides[1])


def _rejects(folder: Path) -> dict[str, str]:
    return {p.name: p.read_text(encoding="utf-8") for p in sorted((folder / "_rejects").glob("*.csv"))}


def test_ingest_builds_the_same_graph_and_rejects_the_same_rows(cities: Cities) -> None:
    assert cities.neo4j.stats() == cities.embedded.stats()
    rejects = _rejects(cities.neo4j.folder)
    assert rejects and rejects == _rejects(cities.embedded.folder)


def test_reingest_changes_nothing(cities: Cities) -> None:
    before = cities.neo4j.stats()
    cities.neo4j.cli("ingest", str(cities.neo4j.folder), ok=(0, 2))
    assert cities.neo4j.stats() == before


@pytest.fixture(scope="module")
def exports(cities: Cities) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    for side, engine in ((cities.embedded, "igraph"), (cities.neo4j, "gds"), (cities.neo4j, "igraph")):
        path = side.folder.parent / f"{side.name}-{engine}.json"
        side.cli("detect", "--engine", engine, "--export", str(path))
        out[f"{side.name}-{engine}"] = json.loads(path.read_text(encoding="utf-8"))
    return out


@pytest.mark.parametrize("variant", ["neo4j-gds", "neo4j-igraph"])
def test_detection_on_neo4j_finds_what_the_embedded_store_finds(
    cities: Cities, exports: dict[str, dict[str, Any]], variant: str
) -> None:
    parity = compare_exports(exports["embedded-igraph"], exports[variant], min_jaccard=0.9)
    assert parity.same, format_parity(parity, "embedded", variant)
    assert all(r.rings_a == r.rings_b for r in parity.rings)
    folder = cities.neo4j.folder.parent
    quality = {name: evaluate_files(cities.truth, folder / f"{name}.json").as_dict()
               for name in ("embedded-igraph", variant)}
    assert quality[variant] == quality["embedded-igraph"]


def _open(side: Side) -> GraphStore:
    if side.name == "neo4j":
        env = side.env
        return Neo4jStore.from_settings(load_settings(
            store="neo4j", neo4j_uri=env["MEDFRAUD_NEO4J_URI"], neo4j_user=env["MEDFRAUD_NEO4J_USER"],
            neo4j_password=env["MEDFRAUD_NEO4J_PASSWORD"], neo4j_database=env["MEDFRAUD_NEO4J_DATABASE"]))
    return DuckDBStore(Path(side.env["MEDFRAUD_DUCKDB_PATH"]), read_only=True)


@pytest.fixture
def both(cities: Cities, exports: dict[str, dict[str, Any]]) -> Iterator[tuple[GraphStore, GraphStore]]:
    embedded, neo4j = _open(cities.embedded), _open(cities.neo4j)
    try:
        yield embedded, neo4j
    finally:
        embedded.close()
        neo4j.close()


def _matching_ring(exports: dict[str, dict[str, Any]]) -> tuple[dict[str, Any], dict[str, Any]]:
    """The best-scored collusion ring of the embedded run and the same ring as Neo4j (igraph) named it."""
    ring = max((r for r in exports["embedded-igraph"]["rings"] if r["kind"] == "collusion"),
               key=lambda r: (r["score"], r["ring_id"]))
    members = {(m["type"], m["id"]) for m in ring["members"]}
    twin = max(exports["neo4j-igraph"]["rings"],
               key=lambda r: len(members & {(m["type"], m["id"]) for m in r["members"]}))
    return ring, twin


def test_every_named_query_gives_the_same_rows_on_both_stores(
    both: tuple[GraphStore, GraphStore], exports: dict[str, dict[str, Any]]
) -> None:
    embedded, neo4j = both
    ring, twin = _matching_ring(exports)
    patient = next(m["id"] for m in ring["members"] if m["type"] == "Patient")
    site = next(m["id"] for m in ring["members"] if m["type"] == "Institution")
    doctor = next(m["id"] for m in ring["members"] if m["type"] == "Doctor")
    sharer = next(m["id"] for r in exports["embedded-igraph"]["rings"] if r["kind"] == "shared_identifier"
                  for m in r["members"] if m["type"] == "Patient")
    pharmacy = embedded.read_query(
        "SELECT t.dst FROM r_TREATED_AT t WHERE t.dst_label = 'Pharmacy' ORDER BY t.dst LIMIT 1").rows[0][0]
    common: dict[str, dict[str, Any]] = {
        "co_visitors_of_person": {"person_id": patient},
        "doctor_patients_also_at_pharmacy": {"doctor_id": doctor, "pharmacy_id": pharmacy},
        "persons_sharing_identifier": {"person_id": sharer},
        "institutions_by_ring_exposure": {"min_score": 0.0},
        "claims_after_death": {},
        "top_reimbursed_patients_at_institution": {
            "institution_id": site, "since": "2000-01-01", "until": "2100-12-31", "top": 10},
        "doctors_sharing_patients": {"doctor_id": doctor},
    }
    assert set(common) | {"ring_claims_over_time"} == {q.name for q in list_named_queries()}
    for name, params in common.items():
        a, b = run_named_query(embedded, name, params), run_named_query(neo4j, name, params)
        assert (a.columns, a.rows, a.truncated) == (b.columns, b.rows, b.truncated), name
        if name != "claims_after_death":
            assert a.rows, f"{name} found nothing to compare"
    a = run_named_query(embedded, "ring_claims_over_time", {"ring_id": ring["ring_id"]})
    b = run_named_query(neo4j, "ring_claims_over_time", {"ring_id": twin["ring_id"]})
    assert a.rows and (a.columns, a.rows) == (b.columns, b.rows)


def test_an_updated_person_replaces_their_links_on_both_stores(cities: Cities, tmp_path: Path) -> None:
    persons = cities.embedded.folder / "persons.csv"
    with persons.open(encoding="utf-8", newline="") as f:
        reader = csv.DictReader(f)
        fields = list(reader.fieldnames or [])
        row = next(r for r in reader if r.get("phone") and r.get("bank_account"))
    row["phone"] = "13912345678"
    update = tmp_path / "update"
    update.mkdir()
    with (update / "persons.csv").open("w", encoding="utf-8", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=fields)
        writer.writeheader()
        writer.writerow(row)
    phones = {}
    for side in (cities.embedded, cities.neo4j):
        side.cli("ingest", str(update))
        store = _open(side)
        try:
            around = store.neighbours([NodeRef("Patient", row["person_id"])], rel_types=["HAS_PHONE"])
            phones[side.name] = {n.key for n in around.nodes if n.label == "Phone"}
        finally:
            store.close()
    assert phones["neo4j"] == phones["embedded"] == {"13912345678"}
