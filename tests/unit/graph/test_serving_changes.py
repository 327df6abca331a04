"""The serving layer drops exactly what a write made stale, whoever wrote it.

Rings written by a detection run (scheduled in the server, or the CLI on the same store) renew the
ring membership and restart the picture preparation; a case note drops nothing of the data.
"""

from __future__ import annotations

import pandas as pd

from graph.duckdb.store import DuckDBStore
from graph.model import NodeRef
from graph.serving.store import ServingOptions, ServingStore
from tests.unit.api.test_ringindex import write_run


def _store() -> DuckDBStore:
    store = DuckDBStore(":memory:")
    store.apply_schema()
    store.upsert_nodes("Patient", pd.DataFrame({"person_id": ["A", "B", "C"]}))
    return store


def test_rings_written_past_the_serving_layer_renew_membership_and_pictures() -> None:
    store = _store()
    serving = ServingStore(store, ServingOptions(read_index=False, warm_rings=5), owns_inner=False)
    serving.start()
    serving.warmup.wait(5)
    write_run(store, "run-1", ["A", "B"], 0.6)  # e.g. the scheduled job holding the bare adapter
    assert serving.ring_index().memberships[NodeRef("Patient", "A")] == [("R1", 0.6)]
    assert serving.warmup.state == "preparing" or serving.warmup.prepared == 1
    serving.warmup.wait(5)
    assert serving.warmup.prepared == 1
    serving.stop()
    store.close()


def test_each_write_moves_the_data_version_and_a_read_alone_does_not() -> None:
    store = _store()
    serving = ServingStore(store, ServingOptions(read_index=False), owns_inner=False)
    version = serving.data_version
    serving.get_nodes("Patient", ["A"])
    assert serving.data_version == version
    serving.upsert_nodes("Case", pd.DataFrame({"case_id": ["C-1"], "title": ["t"], "status": ["open"]}))
    assert serving.data_version == version + 1
    store.upsert_nodes("Patient", pd.DataFrame({"person_id": ["A"], "name": ["甲"]}))
    assert serving.data_version == version + 2
    assert serving.get_nodes("Patient", ["A"])[0].props["name"] == "甲"
    store.close()


def test_a_case_write_keeps_the_cached_patients() -> None:
    store = _store()
    serving = ServingStore(store, ServingOptions(read_index=False), owns_inner=False)
    serving.get_nodes("Patient", ["A", "B"])
    misses = serving.stats().node_cache_misses
    serving.upsert_nodes("Case", pd.DataFrame({"case_id": ["C-1"], "title": ["t"], "status": ["open"]}))
    serving.get_nodes("Patient", ["A", "B"])
    assert serving.stats().node_cache_misses == misses
    store.close()


def test_a_listing_page_is_shared_until_its_label_changes() -> None:
    from graph.listing import Listing

    store = _store()
    write_run(store, "run-1", ["A", "B"], 0.6)
    serving = ServingStore(store, ServingOptions(read_index=False), owns_inner=False)
    rings = Listing("Ring", order=(("score", True),))
    first = serving.list_nodes(rings)
    assert [n.key for n in first.nodes] == ["R1"] and first.total == 1
    assert serving.list_nodes(rings).nodes[0].props["score"] == 0.6
    assert serving.stats().listing_cache_hits == 1
    # another caller's scope is another listing: not served from the first one's entry
    assert serving.list_nodes(Listing("Ring", within={"ring_id": []})).total == 0
    write_run(store, "run-2", ["B", "C"], 0.8)  # a detection run: Ring changes
    assert serving.list_nodes(rings).nodes[0].props["score"] == 0.8
    store.close()
