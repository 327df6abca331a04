"""Prepared ring pictures are the pictures the data gives now, never older ones.

The city (ring R1 = patients A and B, a collusion ring; C is outside it; a hub cap of 5)::

    A -HAS_CLAIM-> medical:c1 -TREATED_AT-> K     (and six older claims a0..a5 at K:
    B -HAS_CLAIM-> medical:c2 -TREATED_AT-> K      the picture draws 5 of A's 7, cutCount 2)
    C -HAS_CLAIM-> medical:c3 -TREATED_AT-> K
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date

import pandas as pd
import pytest

from graph.duckdb.store import DuckDBStore
from graph.model import NodeRef
from graph.serving import pictures as sg
from graph.serving import ring_pictures as rp
from graph.serving.store import ServingOptions, ServingStore
from tests.unit.api.test_ringindex import write_run

SHAPE = (rp.PICTURE_HOPS, rp.PICTURE_NODES, 5)


def _claims(store: DuckDBStore, rows: list[tuple[str, str, date]]) -> None:
    frame = pd.DataFrame(rows, columns=["claim_id", "person_id", "start_date"])
    frame["claim_key"] = "medical:" + frame["claim_id"]
    frame["scheme"] = "medical"
    frame["institution_id"] = "K"
    store.upsert_nodes("Claim", frame)
    store.upsert_relationships("HAS_CLAIM", pd.DataFrame(
        {"src": frame["person_id"], "dst": frame["claim_key"], "date": frame["start_date"]}))
    store.upsert_relationships("TREATED_AT", pd.DataFrame(
        {"src": frame["claim_key"], "dst": "K", "dst_label": "Institution", "date": frame["start_date"]}))


@pytest.fixture()
def serving() -> Iterator[ServingStore]:
    store = DuckDBStore(":memory:")
    store.apply_schema()
    store.upsert_nodes("Patient", pd.DataFrame({"person_id": ["A", "B", "C"], "name": ["甲", "乙", "丙"]}))
    store.upsert_nodes("Institution", pd.DataFrame({"institution_id": ["K"], "name": ["诊所"]}))
    _claims(store, [("c1", "A", date(2024, 3, 1)), ("c2", "B", date(2024, 3, 1)),
                    ("c3", "C", date(2024, 3, 2)),
                    *((f"a{i}", "A", date(2024, 1, 1 + i)) for i in range(6))])
    write_run(store, "run-1", ["A", "B"], 0.7)
    serving = ServingStore(store, ServingOptions(warm_rings=5, hub_cap=SHAPE[2]), owns_inner=False)
    serving.build_read_index(wait=True)
    serving.start()
    serving.warmup.wait(10)
    yield serving
    serving.stop()
    store.close()


def _assembled_now(serving: ServingStore) -> sg.Assembled:
    members = [n for n, _ in rp.ring_members(serving, serving.ring_index().members["R1"])]
    return rp.ring_picture(serving, "collusion", members, hops=SHAPE[0], max_nodes=SHAPE[1], cap=SHAPE[2])


def _drawn(picture: sg.Assembled) -> tuple[object, ...]:
    return (list(picture.nodes.items()), list(picture.edges.items()), picture.cut, picture.truncated)


def test_the_prepared_picture_is_the_one_assembled_now(serving: ServingStore) -> None:
    assert serving.read_index_state == "ready"  # also with labels that have no rows at all
    assert serving.stats().ring_pictures == 1
    prepared = serving.ring_picture("R1", *SHAPE)
    assert prepared is not None
    assert _drawn(prepared) == _drawn(_assembled_now(serving))
    assert set(prepared.nodes) == {NodeRef("Patient", "A"), NodeRef("Patient", "B"),
                                   NodeRef("Claim", "medical:c1"), NodeRef("Claim", "medical:c2"),
                                   *(NodeRef("Claim", f"medical:a{i}") for i in range(2, 6))}
    assert prepared.cut == {NodeRef("Patient", "A"): 2} and len(prepared.edges) == 6
    assert serving.stats().ring_picture_nodes == 8


def test_only_the_prepared_shape_is_served(serving: ServingStore) -> None:
    assert serving.ring_picture("R1", 2, 300, 50) is None
    assert serving.ring_picture("R1", 1, 300, 50) is None
    assert serving.ring_picture("R-unknown", *SHAPE) is None


def test_a_new_claim_of_a_member_is_in_the_next_picture(serving: ServingStore) -> None:
    # written past the serving layer, as the scheduled job or an ingest in this process would
    _claims(serving.adapter(), [("c4", "A", date(2024, 4, 1))])  # type: ignore[arg-type]
    assert serving.ring_picture("R1", *SHAPE) is None  # never the older picture
    serving.warmup.wait(10)
    prepared = serving.ring_picture("R1", *SHAPE)
    assert prepared is not None and NodeRef("Claim", "medical:c4") in prepared.nodes
    assert _drawn(prepared) == _drawn(_assembled_now(serving))


def test_a_case_write_keeps_the_pictures(serving: ServingStore) -> None:
    serving.upsert_nodes("Case", pd.DataFrame({"case_id": ["C-1"], "title": ["t"], "status": ["open"]}))
    assert serving.ring_picture("R1", *SHAPE) is not None


def test_a_picture_assembled_before_a_change_is_not_kept(serving: ServingStore) -> None:
    stamp = serving.picture_stamp()
    picture = _assembled_now(serving)
    serving.upsert_nodes("Patient", pd.DataFrame({"person_id": ["A"], "name": ["甲改"]}))
    serving.warmup.stop()  # so that only the stale picture below could be kept
    serving.keep_ring_picture("R1", stamp, *SHAPE, picture)
    assert serving.ring_picture("R1", *SHAPE) is None


def test_callers_get_their_own_copies(serving: ServingStore) -> None:
    first = serving.ring_picture("R1", *SHAPE)
    assert first is not None
    first.nodes[NodeRef("Patient", "A")].props["name"] = "changed"
    first.nodes.clear()
    again = serving.ring_picture("R1", *SHAPE)
    assert again is not None and again.nodes[NodeRef("Patient", "A")].props["name"] == "甲"
