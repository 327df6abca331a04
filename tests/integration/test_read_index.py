"""The serving layer's in-memory index answers expansions exactly as the store itself does.

Pictures, paths and the API's hub control all read ``neighbours``/``degrees``; the index exists
only to make them fast, so any difference from the SQL answer (an edge, its order, a left-out
count) would be a bug an investigator sees as a different picture depending on server warm-up.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import date
from typing import Any

import pandas as pd
import pytest

from graph.duckdb.store import DuckDBStore
from graph.model import NodeRef
from graph.port import Expansion, GraphStore
from graph.serving.store import ServingOptions, ServingStore

DATA_TYPES = ["HAS_CLAIM", "TREATED_AT", "BY_DOCTOR", "FOR_INJURY", "HAS_INJURY", "WORKS_AT", "IS_PERSON",
              "HAS_PHONE", "HAS_ACCOUNT", "LIVES_AT", "EMPLOYED_BY", "INJURY_EMPLOYER"]


@pytest.fixture
def serving(city_store: DuckDBStore) -> Iterator[ServingStore]:
    wrapped = ServingStore(city_store, ServingOptions(), owns_inner=False)
    yield wrapped
    wrapped.stop()


def _sample(store: GraphStore, sql: str, label: str, n: int) -> list[NodeRef]:
    rows = store.read_query(sql, limit=100_000).rows
    rnd = random.Random(len(rows))
    return [NodeRef(label, str(r[0])) for r in rnd.sample(rows, min(n, len(rows)))]


def _seeds(store: GraphStore) -> list[list[NodeRef]]:
    patients = _sample(store, "SELECT person_id FROM n_Patient", "Patient", 40)
    claims = _sample(store, "SELECT claim_key FROM n_Claim", "Claim", 20)
    hubs = (_sample(store, "SELECT institution_id FROM n_Institution", "Institution", 6)
            + _sample(store, "SELECT institution_id FROM n_Pharmacy", "Pharmacy", 3)
            + _sample(store, "SELECT doctor_id FROM n_Doctor", "Doctor", 6))
    shared = (_sample(store, "SELECT phone FROM n_Phone", "Phone", 6)
              + _sample(store, "SELECT address FROM n_Address", "Address", 6)
              + _sample(store, "SELECT employer_id FROM n_Employer", "Employer", 4))
    groups = [[p] for p in patients[:15]] + [[h] for h in hubs] + [[s] for s in shared]
    groups += [patients[15:40], claims, hubs, shared, patients[:5] + hubs[:3] + shared[:4] + claims[:5]]
    groups.append([NodeRef("Patient", "no-such-person"), *patients[:2]])
    return groups


def _canon(exp: Expansion) -> dict[str, Any]:
    return {
        "edges": [(e.type, e.src, e.dst, sorted(e.props.items())) for e in exp.edges],
        "nodes": [(n.ref, sorted(n.props.items())) for n in exp.nodes],
        "cut": sorted(exp.cut.items()),
    }


@pytest.mark.slow
def test_index_and_sql_give_the_same_expansions(city_store: DuckDBStore, serving: ServingStore) -> None:
    seeds = _seeds(city_store)
    cases: list[dict[str, Any]] = [
        {"rel_types": DATA_TYPES, "cap": 300},
        {"rel_types": DATA_TYPES, "cap": 3},
        {"rel_types": DATA_TYPES, "cap": 0},
        {"rel_types": DATA_TYPES, "cap": 1},
        {"rel_types": ["TREATED_AT", "BY_DOCTOR"], "cap": 25, "direction": "in"},
        {"rel_types": ["HAS_CLAIM", "HAS_PHONE", "LIVES_AT"], "cap": 4, "direction": "out"},
        {"rel_types": DATA_TYPES, "cap": 10, "since": date(2025, 3, 1), "until": date(2025, 9, 30)},
        {"rel_types": DATA_TYPES, "cap": 7, "labels": ["Claim", "Phone"]},
        {"rel_types": ["WORKS_AT", "IS_PERSON", "EMPLOYED_BY"], "cap": 2},
    ]
    sql = [[_canon(city_store.neighbours(g, **c)) for c in cases] for g in seeds]
    sql_degrees = [city_store.degrees(g, DATA_TYPES) for g in seeds]

    serving.build_read_index(wait=True)
    assert serving.read_index_state == "ready"
    for g, expected, degrees in zip(seeds, sql, sql_degrees, strict=True):
        for c, want in zip(cases, expected, strict=True):
            assert _canon(serving.neighbours(g, **c)) == want, (g[:3], c)
        assert serving.degrees(g, DATA_TYPES) == degrees
    # something was compared: the seeds reach claims, hubs are cut, dates are carried
    assert any(w["cut"] for row in sql for w in row)
    assert any(props for row in sql for w in row for *_, props in w["edges"])


@pytest.mark.parametrize("through", ["serving layer", "bare adapter"])
def test_a_write_to_the_data_drops_the_index_and_it_comes_back(city_store: DuckDBStore, serving: ServingStore,
                                                                through: str) -> None:
    # a write through the bare adapter (another component of this process) is seen as well:
    # the serving layer reads the store's revisions before it answers
    writer: GraphStore = serving if through == "serving layer" else city_store
    patient = city_store.read_query("SELECT person_id FROM n_Patient LIMIT 1").rows[0][0]
    seed = NodeRef("Patient", str(patient))
    serving.build_read_index(wait=True)
    before = serving.neighbours([seed], rel_types=["HAS_PHONE"])
    writer.upsert_nodes("Phone", pd.DataFrame({"phone": ["13900000000"]}))
    writer.upsert_relationships(
        "HAS_PHONE", pd.DataFrame({"src": [str(patient)], "dst": ["13900000000"]}))
    # right after the write the answer already includes the new link (the store until the rebuild)
    after = serving.neighbours([seed], rel_types=["HAS_PHONE"])
    assert NodeRef("Phone", "13900000000") in {n.ref for n in after.nodes}
    serving.build_read_index(wait=True)
    assert serving.read_index_state == "ready"
    rebuilt = serving.neighbours([seed], rel_types=["HAS_PHONE"])
    assert _canon(rebuilt) == _canon(after)
    assert len(after.nodes) == len(before.nodes) + 1


def test_derived_writes_keep_the_index(serving: ServingStore) -> None:
    serving.build_read_index(wait=True)
    builds = serving.stats().read_index_builds
    serving.upsert_nodes("Case", pd.DataFrame({"case_id": ["C-1"], "title": ["t"], "status": ["open"]}))
    assert serving.read_index_state == "ready"
    assert serving.stats().read_index_builds == builds


def test_a_serving_layer_without_the_index_never_builds_it(city_db_path: Any) -> None:
    store = ServingStore(DuckDBStore(city_db_path, read_only=True), ServingOptions(read_index=False))
    try:
        store.build_read_index(wait=True)
        assert store.read_index_state == "off"
    finally:
        store.close()


def test_nodes_read_by_key_from_memory_equal_the_stored_rows(city_store: DuckDBStore,
                                                             serving: ServingStore) -> None:
    samples = {
        "Patient": "SELECT person_id FROM n_Patient", "Claim": "SELECT claim_key FROM n_Claim",
        "Institution": "SELECT institution_id FROM n_Institution",
        "Pharmacy": "SELECT institution_id FROM n_Pharmacy", "Doctor": "SELECT doctor_id FROM n_Doctor",
        "InjuryCase": "SELECT injury_case_id FROM n_InjuryCase", "Address": "SELECT address FROM n_Address",
        "Phone": "SELECT phone FROM n_Phone", "Employer": "SELECT employer_id FROM n_Employer",
    }
    keys = {label: [r.key for r in _sample(city_store, sql, label, 60)] + ["no-such-key"]
            for label, sql in samples.items()}
    stored = {label: [(n.key, sorted(n.props.items(), key=str)) for n in city_store.get_nodes(label, ks)]
              for label, ks in keys.items()}
    serving.build_read_index(wait=True)
    for label, ks in keys.items():
        held = [(n.key, sorted(n.props.items(), key=str)) for n in serving.get_nodes(label, ks)]
        assert held == stored[label], label
        assert len(held) == len(ks) - 1  # the absent key is left out


def test_a_node_write_renews_the_rows_held_in_memory(city_store: DuckDBStore, serving: ServingStore) -> None:
    person = city_store.read_query("SELECT person_id FROM n_Patient LIMIT 1").rows[0][0]
    serving.build_read_index(wait=True)
    city_store.upsert_nodes("Patient", pd.DataFrame({"person_id": [person], "name": ["改名"]}))
    assert serving.get_nodes("Patient", [person])[0].props["name"] == "改名"
    serving.build_read_index(wait=True)
    assert serving.read_index_state == "ready"
    assert serving.get_nodes("Patient", [person])[0].props["name"] == "改名"
