"""The API on a generated city after real detection: rings to draw, police scope and masking on real data."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from algorithms.job import run_detection
from api.security.masking import KeyCipher
from graph.duckdb.store import DuckDBStore
from tests.integration.api_server import SECRET, ApiClient, serve

NODE = "id label key title props ringIds riskScore cutCount"


@pytest.fixture(scope="module")
def api(city_db_path: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ApiClient]:
    tmp = tmp_path_factory.mktemp("api_city")
    copy = tmp / "city.duckdb"
    shutil.copyfile(city_db_path, copy)
    wal = city_db_path.with_name(city_db_path.name + ".wal")
    if wal.exists():
        shutil.copyfile(wal, copy.with_name(copy.name + ".wal"))
    store = DuckDBStore(copy)
    store.apply_schema()
    run_detection(store)
    try:
        with serve(store, tmp) as client:
            yield client
    finally:
        store.close()


def top_ring(api: ApiClient, kind: str) -> dict[str, Any]:
    rings = api.data(
        "query($k: String) { rings(kind: $k, first: 1) { totalCount edges { node { ringId score } } } }",
        {"k": kind},
    )["rings"]
    assert rings["totalCount"] > 0, f"detection found no {kind} ring in the city"
    ring: dict[str, Any] = rings["edges"][0]["node"]
    return ring


def test_the_top_collusion_ring_draws_with_its_members_and_claims(
    api: ApiClient, city_truth: dict[str, Any]
) -> None:
    ring_id = top_ring(api, "collusion")["ringId"]
    ring = api.data(
        f"""query($id: ID!) {{ ring(id: $id) {{ kind evidence members {{ type id role }}
            subgraph(hops: 1, maxNodes: 300) {{ nodes {{ {NODE} }} edges {{ type source target }} truncated }}
            }} }}""",
        {"id": ring_id},
    )["ring"]
    patients = {m["id"] for m in ring["members"] if m["type"] == "Patient"}
    assert patients and ring["evidence"]
    planted = [
        {m["id"] for m in r["members"] if m["type"] == "Patient"}
        for r in city_truth["rings"]
        if r["kind"] == "collusion"
    ]
    assert max(len(patients & p) / len(patients | p) for p in planted) >= 0.5
    sub = ring["subgraph"]
    ids = {n["id"] for n in sub["nodes"]}
    assert {f"Patient:{p}" for p in patients} <= ids
    assert len(sub["nodes"]) <= 300
    assert any(e["type"] == "TREATED_AT" for e in sub["edges"])
    members = [n for n in sub["nodes"] if n["id"] in {f"Patient:{p}" for p in patients}]
    assert all(ring_id in n["ringIds"] and n["riskScore"] > 0 for n in members)


def test_police_on_a_shared_ring_sees_its_members_and_no_one_else(api: ApiClient) -> None:
    ring_id = top_ring(api, "shared_identifier")["ringId"]
    case = api.data(
        'mutation($r: [String!]) { openCase(title: "broker phone", ringIds: $r) { caseId } }',
        {"r": [ring_id]},
    )["openCase"]["caseId"]
    api.data('mutation($c: String!) { shareCase(caseId: $c, agency: "PSB-CITY") { caseId } }', {"c": case})
    members = api.data("query($id: ID!) { ring(id: $id) { members { type id } } }", {"id": ring_id})["ring"]
    inside = next(m["id"] for m in members["members"] if m["type"] == "Patient")
    outsider = api.data(
        '{ readQuery(text: "SELECT person_id FROM n_Patient ORDER BY person_id DESC LIMIT 1") { rows } }'
    )["readQuery"]["rows"][0][0]
    assert outsider not in {m["id"] for m in members["members"]}
    q = "query($p: String!) { patient(id: $p) { personId name } }"
    seen = api.gql(q, {"p": inside}, role="police", agency="PSB-CITY")["data"]["patient"]
    assert seen["personId"] == inside and "*" not in seen["name"]
    assert api.gql(q, {"p": outsider}, role="police", agency="PSB-CITY")["data"]["patient"] is None
    sub = api.gql(
        "query($s: [NodeRef!]!) { subgraph(seeds: $s, hops: 2) { nodes { id } } }",
        {"s": [{"label": "Patient", "key": inside}]},
        role="police",
        agency="PSB-CITY",
    )["data"]["subgraph"]["nodes"]
    allowed = {f"Patient:{m['id']}" for m in members["members"] if m["type"] == "Patient"}
    assert {n["id"] for n in sub if n["id"].startswith("Patient:")} <= allowed


def test_analyst_search_and_subgraph_on_real_data_are_masked(api: ApiClient) -> None:
    row = api.data('{ readQuery(text: "SELECT person_id, name FROM n_Patient LIMIT 1") { rows } }')
    person_id, name = row["readQuery"]["rows"][0]
    search = "query($t: String!) { search(text: $t) { label key title } }"
    # a guessed name or an ID prefix confirms nothing to an analyst
    for guess in (name, person_id[:10], person_id):
        assert api.data(search, {"t": guess}, role="analyst")["search"] == []
    token = KeyCipher(SECRET).seal("Patient", person_id)
    hits = api.data(search, {"t": token}, role="analyst")["search"]
    assert [(h["label"], h["key"]) for h in hits] == [("Patient", token)] and hits[0]["title"].endswith("*")
    sub = api.data(
        "query($s: [NodeRef!]!) { subgraph(seeds: $s, hops: 2) { nodes { key title props } } }",
        {"s": [{"label": "Patient", "key": token}]},
        role="analyst",
    )["subgraph"]
    assert person_id not in str(sub) and name not in str(sub)


@pytest.mark.parametrize("kind", ["collusion", "shared_identifier"])
def test_every_node_of_a_ring_picture_is_tied_into_it(api: ApiClient, kind: str) -> None:
    """A broker's phone or account drawn without its HAS_PHONE/HAS_ACCOUNT links reads as noise."""
    ring_id = top_ring(api, kind)["ringId"]
    sub = api.data(
        "query($id: ID!) { ring(id: $id) { subgraph(hops: 1, maxNodes: 300) { nodes { id label } "
        "edges { type source target } } } }",
        {"id": ring_id},
    )["ring"]["subgraph"]
    tied = {x for e in sub["edges"] for x in (e["source"], e["target"])}
    assert [n["id"] for n in sub["nodes"] if n["id"] not in tied] == []
    if kind == "shared_identifier":
        links = {e["type"] for e in sub["edges"]}
        assert links & {"HAS_PHONE", "HAS_ACCOUNT"}
