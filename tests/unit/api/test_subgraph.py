"""Subgraph assembly above the port: hub caps, the node ceiling and which nodes win the room."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, timedelta

import pandas as pd
import pytest

from graph.duckdb.store import DuckDBStore
from graph.errors import InvalidRequest, NotFound
from graph.model import NodeRef
from graph.serving.pictures import expand, path_edges, paths

HUB = "INST-HUB"


@pytest.fixture(scope="module")
def store() -> Iterator[DuckDBStore]:
    """One clinic with 40 patients, one claim each; patient P00 also has 3 claims elsewhere."""
    s = DuckDBStore(":memory:")
    s.apply_schema()
    patients = [f"P{i:02d}" for i in range(40)]
    s.upsert_nodes("Patient", pd.DataFrame({"person_id": patients, "name": patients}))
    s.upsert_nodes(
        "Institution", pd.DataFrame({"institution_id": [HUB, "INST-OTHER"], "name": ["hub", "other"]})
    )
    day0 = date(2024, 1, 1)
    claims = [(f"C{i:02d}", p, HUB, day0 + timedelta(days=i)) for i, p in enumerate(patients)]
    claims += [(f"X{i}", "P00", "INST-OTHER", day0 + timedelta(days=100 + i)) for i in range(3)]
    frame = pd.DataFrame(claims, columns=["claim_id", "person_id", "institution_id", "start_date"])
    frame["claim_key"] = "medical:" + frame["claim_id"]
    frame["scheme"] = "medical"
    s.upsert_nodes("Claim", frame)
    s.upsert_relationships(
        "HAS_CLAIM",
        pd.DataFrame({"src": frame["person_id"], "dst": frame["claim_key"], "date": frame["start_date"]}),
    )
    s.upsert_relationships(
        "TREATED_AT",
        pd.DataFrame(
            {
                "src": frame["claim_key"],
                "dst": frame["institution_id"],
                "dst_label": "Institution",
                "date": frame["start_date"],
            }
        ),
    )
    yield s
    s.close()


def test_hub_cap_reports_what_was_left_out(store: DuckDBStore) -> None:
    out = expand(store, [NodeRef("Institution", HUB)], hops=1, max_nodes=1000, cap=10)
    assert len(out.nodes) == 11 and out.cut[NodeRef("Institution", HUB)] == 30
    assert not out.truncated


def test_the_ceiling_is_never_exceeded_and_is_reported(store: DuckDBStore) -> None:
    out = expand(store, [NodeRef("Institution", HUB)], hops=2, max_nodes=25, cap=100)
    assert len(out.nodes) == 25 and out.truncated
    assert all(e.src in out.nodes and e.dst in out.nodes for e in out.edges.values())


def test_nodes_tying_seeds_together_win_the_room(store: DuckDBStore) -> None:
    seeds = [NodeRef("Patient", "P00"), NodeRef("Institution", HUB)]
    out = expand(store, seeds, hops=1, max_nodes=3, cap=100)
    # C00 links the patient to the hub; the 42 other candidates touch only one seed
    assert list(out.nodes)[2] == NodeRef("Claim", "medical:C00")


def test_date_window_and_allow_filter(store: DuckDBStore) -> None:
    out = expand(store, [NodeRef("Patient", "P00")], hops=1, max_nodes=100, cap=100, since=date(2024, 4, 1))
    assert {r.key for r in out.nodes if r.label == "Claim"} == {"medical:X0", "medical:X1", "medical:X2"}
    hidden = expand(
        store,
        [NodeRef("Patient", "P00")],
        hops=1,
        max_nodes=100,
        cap=100,
        allow=lambda r: r.key != "medical:X1",
    )
    assert NodeRef("Claim", "medical:X1") not in hidden.nodes
    with pytest.raises(NotFound):
        expand(store, [NodeRef("Patient", "P00")], hops=1, max_nodes=10, cap=10, allow=lambda r: False)
    with pytest.raises(InvalidRequest):
        expand(store, [NodeRef("Patient", "P00")], hops=1, max_nodes=10, cap=10, rel_types=["HAS_MEMBER"])


def test_shortest_paths_between_two_patients_of_the_hub(store: DuckDBStore) -> None:
    a, b = NodeRef("Patient", "P01"), NodeRef("Patient", "P02")
    found, assembled = paths(store, a, b, max_hops=4, max_nodes=500, cap=100, max_paths=5)
    assert found == [
        [a, NodeRef("Claim", "medical:C01"), NodeRef("Institution", HUB), NodeRef("Claim", "medical:C02"), b]
    ]
    assert [e.type for e in path_edges(assembled, found[0])] == [
        "HAS_CLAIM",
        "TREATED_AT",
        "TREATED_AT",
        "HAS_CLAIM",
    ]
    assert paths(store, a, b, max_hops=3, max_nodes=500, cap=100, max_paths=5)[0] == []


def test_claims_reach_their_clinic_through_their_own_columns(store: DuckDBStore) -> None:
    # the hub is a seed but is not expanded: its 40 claims would crowd the picture
    seeds = [NodeRef("Patient", "P05"), NodeRef("Institution", HUB)]
    out = expand(store, seeds, hops=1, max_nodes=100, cap=100, skip_hub_seeds=True)
    assert set(out.nodes) == {*seeds, NodeRef("Claim", "medical:C05")}
    edges = {(t, s.key, d.key) for t, s, d in out.edges}
    assert ("TREATED_AT", "medical:C05", HUB) in edges and ("HAS_CLAIM", "P05", "medical:C05") in edges
    assert out.edges[("TREATED_AT", NodeRef("Claim", "medical:C05"), NodeRef("Institution", HUB))].props == {
        "date": date(2024, 1, 6)
    }


def test_expanding_claims_by_their_columns_matches_the_store(store: DuckDBStore) -> None:
    claim = NodeRef("Claim", "medical:X1")
    by_columns = expand(store, [claim], hops=1, max_nodes=100, cap=100)
    assert set(by_columns.nodes) == {claim, NodeRef("Patient", "P00"), NodeRef("Institution", "INST-OTHER")}
    direct = store.neighbours([claim], rel_types=["HAS_CLAIM", "TREATED_AT"], cap=100)
    assert {n.ref for n in direct.nodes} | {claim} == set(by_columns.nodes)
    outside = expand(store, [claim], hops=1, max_nodes=100, cap=100, until=date(2024, 3, 1))
    assert set(outside.nodes) == {claim}  # the claim's dated relationships fall outside the window


def test_a_reached_hub_above_the_skip_degree_is_drawn_not_expanded(
    store: DuckDBStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    import graph.serving.pictures as sg

    monkeypatch.setattr(sg, "HUB_SKIP_DEGREE", 30)
    out = expand(store, [NodeRef("Claim", "medical:C07")], hops=2, max_nodes=300, cap=100)
    hub = NodeRef("Institution", HUB)
    assert hub in out.nodes and out.cut[hub] == 40
    assert {r for r in out.nodes if r.label == "Claim"} == {NodeRef("Claim", "medical:C07")}
    asked = expand(store, [hub], hops=1, max_nodes=300, cap=100)  # a seed is always expanded
    assert len(asked.nodes) == 41
