"""The serving layer over a live Neo4j: the same answers from memory, and other processes' writes seen.

On Neo4j the API's pictures come from the same in-memory index as on the embedded store, built
from the port's streams. Its answers must be the adapter's own, and a write by another process
(``medfraud ingest``, another API worker: here a second adapter with its own driver) must reach
the serving layer through the revision tokens, not wait for a restart.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from graph.model import NodeRef
from graph.port import Expansion, GraphStore
from graph.serving.store import ServingOptions, ServingStore
from ingest.loader import ingest_dir

pytestmark = [pytest.mark.neo4j, pytest.mark.slow]

DATA_TYPES = ["HAS_CLAIM", "TREATED_AT", "BY_DOCTOR", "FOR_INJURY", "HAS_INJURY", "WORKS_AT", "IS_PERSON",
              "HAS_PHONE", "HAS_ACCOUNT", "LIVES_AT", "EMPLOYED_BY", "INJURY_EMPLOYER"]


@pytest.fixture(scope="module")
def neo4j_city(neo4j_db: Any, city_dir: Path,
               tmp_path_factory: pytest.TempPathFactory) -> Iterator[GraphStore]:
    store: GraphStore = neo4j_db.open_store()
    store.apply_schema()
    ingest_dir(store, city_dir, rejects_dir=tmp_path_factory.mktemp("rejects"))
    try:
        yield store
    finally:
        store.close()


def _canon(exp: Expansion) -> dict[str, Any]:
    # which edges the cap kept, not their order: the order within a seed is the contract suite's
    # (most recent first), and the adapters list seeds in different orders
    return {"edges": sorted(((e.type, e.src, e.dst, sorted(e.props.items())) for e in exp.edges), key=str),
            "nodes": sorted(((n.ref, sorted(n.props.items(), key=str)) for n in exp.nodes), key=str),
            "cut": sorted(exp.cut.items())}


def _keys(store: GraphStore, label: str, column: str, n: int) -> list[NodeRef]:
    keys = sorted(str(k) for k in store.nodes_frame(label, [column])[column])
    return [NodeRef(label, k) for k in random.Random(5).sample(keys, min(n, len(keys)))]


def test_the_index_over_neo4j_answers_as_neo4j_does(neo4j_city: GraphStore) -> None:
    patients = _keys(neo4j_city, "Patient", "person_id", 12)
    hubs = _keys(neo4j_city, "Institution", "institution_id", 3) + _keys(neo4j_city, "Doctor", "doctor_id", 3)
    shared = _keys(neo4j_city, "Phone", "phone", 3) + _keys(neo4j_city, "Employer", "employer_id", 2)
    groups = [[p] for p in patients[:6]] + [[h] for h in hubs]
    groups += [patients[6:], shared, patients[:3] + hubs[:2]]
    cases: list[dict[str, Any]] = [{"rel_types": DATA_TYPES, "cap": 50}, {"rel_types": DATA_TYPES, "cap": 3},
                                   {"rel_types": ["TREATED_AT", "BY_DOCTOR"], "cap": 20, "direction": "in"},
                                   {"rel_types": DATA_TYPES, "cap": 0}]
    direct = [[_canon(neo4j_city.neighbours(g, **c)) for c in cases] for g in groups]
    direct_degrees = [neo4j_city.degrees(g, DATA_TYPES) for g in groups]
    direct_nodes = [(n.ref, sorted(n.props.items(), key=str))
                    for n in neo4j_city.get_nodes("Patient", [p.key for p in patients])]
    serving = ServingStore(neo4j_city, ServingOptions(), owns_inner=False)
    serving.build_read_index(wait=True)
    assert serving.read_index_state == "ready"
    for g, want, degrees in zip(groups, direct, direct_degrees, strict=True):
        assert [_canon(serving.neighbours(g, **c)) for c in cases] == want, g[:2]
        assert serving.degrees(g, DATA_TYPES) == degrees
    held = [(n.ref, sorted(n.props.items(), key=str))
            for n in serving.get_nodes("Patient", [p.key for p in patients])]
    assert held == direct_nodes
    assert any(w["cut"] for row in direct for w in row)
    serving.stop()


def test_another_process_write_reaches_the_serving_layer(neo4j_city: GraphStore, neo4j_db: Any) -> None:
    serving = ServingStore(neo4j_city, ServingOptions(check_s=0.0), owns_inner=False)
    serving.build_read_index(wait=True)
    person = _keys(neo4j_city, "Patient", "person_id", 1)[0]
    version = serving.data_version
    before = serving.neighbours([person], rel_types=["HAS_PHONE"])
    other = neo4j_db.open_store()  # its own driver: to this serving layer, another process
    try:
        other.upsert_nodes("Phone", pd.DataFrame({"phone": ["13911112222"]}))
        other.upsert_relationships("HAS_PHONE", pd.DataFrame({"src": [person.key], "dst": ["13911112222"]}))
    finally:
        other.close()
    after = serving.neighbours([person], rel_types=["HAS_PHONE"])
    assert NodeRef("Phone", "13911112222") in {n.ref for n in after.nodes}
    assert len(after.nodes) == len(before.nodes) + 1
    assert serving.data_version > version
    serving.build_read_index(wait=True)
    assert _canon(serving.neighbours([person], rel_types=["HAS_PHONE"])) == _canon(after)
    serving.stop()
