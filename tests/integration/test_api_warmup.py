"""The best-scored rings' pictures are read in the background, so the first investigator is fast."""

from __future__ import annotations

from algorithms.job import run_detection
from graph.duckdb.store import DuckDBStore
from graph.serving import pictures as sg
from graph.serving.store import ServingOptions, ServingStore
from graph.serving.warmup import warm_ring_pictures


def test_the_top_rings_pictures_are_in_the_node_cache_after_warming(city_store: DuckDBStore) -> None:
    run_detection(city_store)
    # without the read index pictures come from the store, so warming fills the node cache
    serving = ServingStore(city_store, ServingOptions(read_index=False, warm_rings=3), owns_inner=False)
    assert warm_ring_pictures(serving) == 3
    assert serving.stats().ring_pictures == 3  # kept, for the first view of each
    top, kind = city_store.read_query(
        "SELECT ring_id, kind FROM n_Ring WHERE status <> 'vanished' ORDER BY score DESC, ring_id LIMIT 1"
    ).rows[0]
    members = [ref for ref, _ in serving.ring_index().members[top]]
    before = serving.stats().node_cache_misses
    known = list(sg.fetch_nodes(serving, members).values())
    picture = sg.expand(serving, [n.ref for n in known], hops=1, max_nodes=300, cap=50,
                        skip_hub_seeds=True, first_hop_rel_types=sg.ring_picture_rels(str(kind), members),
                        known=known)
    assert len(picture.nodes) > len(members)
    assert serving.stats().node_cache_misses == before  # every node of the picture came from memory


def test_warming_can_be_turned_off(city_store: DuckDBStore) -> None:
    run_detection(city_store)
    serving = ServingStore(city_store, ServingOptions(warm_rings=0), owns_inner=False)
    assert warm_ring_pictures(serving) == 0
