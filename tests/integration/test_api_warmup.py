"""The best-scored rings' pictures are read in the background, so the first investigator is fast."""

from __future__ import annotations

from algorithms.job import run_detection
from api.gql.entities import ring_picture_rels
from api.settings import ApiSettings
from graph.duckdb.store import DuckDBStore
from graph.serving import pictures as sg
from graph.serving.ring_index import RingIndexCache
from graph.serving.warmup import warm_ring_pictures


def test_the_top_rings_pictures_are_in_the_node_cache_after_warming(city_store: DuckDBStore) -> None:
    run_detection(city_store)
    rings = RingIndexCache()
    assert warm_ring_pictures(city_store, rings, ApiSettings(warm_rings=3)) == 3
    top, kind = city_store.read_query(
        "SELECT ring_id, kind FROM n_Ring WHERE status <> 'vanished' ORDER BY score DESC, ring_id LIMIT 1"
    ).rows[0]
    members = [ref for ref, _ in rings.get(city_store).members[top]]
    before = city_store.node_cache.misses
    known = list(sg.fetch_nodes(city_store, members).values())
    picture = sg.expand(city_store, [n.ref for n in known], hops=1, max_nodes=300, cap=50,
                        skip_hub_seeds=True, first_hop_rel_types=ring_picture_rels(str(kind), members),
                        known=known)
    assert len(picture.nodes) > len(members)
    assert city_store.node_cache.misses == before  # every node of the picture came from memory


def test_warming_can_be_turned_off(city_store: DuckDBStore) -> None:
    run_detection(city_store)
    assert warm_ring_pictures(city_store, RingIndexCache(), ApiSettings(warm_rings=0)) == 0
