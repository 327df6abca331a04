"""The community engine: seeded Leiden/CPM that keeps small dense groups apart (resolution limit)."""

from __future__ import annotations

import igraph as ig
import numpy as np
import pandas as pd

from algorithms.igraph_engine import IgraphEngine, _graph


def ring_of_cliques(n_cliques: int = 60, size: int = 5) -> pd.DataFrame:
    """Cliques joined in a circle by single light edges: the textbook resolution-limit graph."""
    rows = []
    for c in range(n_cliques):
        nodes = [f"c{c}n{i}" for i in range(size)]
        rows += [(a, b, 2.0) for i, a in enumerate(nodes) for b in nodes[i + 1 :]]
        rows.append((nodes[0], f"c{(c + 1) % n_cliques}n1", 1.0))
    return pd.DataFrame(rows, columns=["src", "dst", "weight"])


def test_cpm_keeps_every_small_ring_apart_where_modularity_merges_them() -> None:
    edges = ring_of_cliques()
    labels = IgraphEngine().communities(edges, resolution=1.0, seed=1)
    groups = labels.groupby(labels).apply(lambda s: frozenset(n.split("n")[0] for n in s.index))
    assert len(labels.unique()) == 60
    assert all(len(g) == 1 for g in groups)
    # Modularity on the same graph merges neighbouring rings (the limit CPM avoids).
    names = sorted(set(edges["src"]) | set(edges["dst"]))
    pos = {n: i for i, n in enumerate(names)}
    g = ig.Graph(
        n=len(names), edges=[(pos[a], pos[b]) for a, b in zip(edges["src"], edges["dst"], strict=True)]
    )
    modularity = g.community_multilevel(weights=list(edges["weight"]))
    assert len(set(modularity.membership)) < 45


def test_same_seed_same_communities_and_components_cover_all_nodes() -> None:
    edges = ring_of_cliques(12, 4)
    a = IgraphEngine().communities(edges, resolution=1.0, seed=3)
    b = IgraphEngine().communities(edges, resolution=1.0, seed=3)
    assert a.equals(b)
    comps = IgraphEngine().components(pd.DataFrame({"src": ["x", "y", "p"], "dst": ["y", "z", "q"]}))
    assert comps["x"] == comps["z"] != comps["p"]
    assert IgraphEngine().communities(edges.iloc[0:0], resolution=1.0, seed=1).empty


def test_row_order_of_the_edge_list_does_not_change_the_partition() -> None:
    edges = ring_of_cliques(20, 4)
    shuffled = edges.sample(frac=1.0, random_state=5).reset_index(drop=True)
    a = IgraphEngine().communities(edges, resolution=1.0, seed=3)
    b = IgraphEngine().communities(shuffled, resolution=1.0, seed=3)
    groups_a = {frozenset(a[a == c].index) for c in a.unique()}
    groups_b = {frozenset(b[b == c].index) for c in b.unique()}
    assert groups_a == groups_b


def test_graph_numbers_nodes_in_sorted_order_and_keeps_each_row_as_its_edge() -> None:
    edges = pd.DataFrame({"src": ["p3", "p1", "p2", "p1"], "dst": ["p1", "p2", "p4", "p4"]})
    graph, names = _graph(edges)
    assert list(names) == ["p1", "p2", "p3", "p4"]
    assert graph.vcount() == 4 and not graph.is_directed()
    assert graph.get_edgelist() == [(0, 2), (0, 1), (1, 3), (0, 3)]


def test_partition_is_the_one_of_the_graph_built_from_the_sorted_pair_array() -> None:
    # The engine hands igraph its edges as an iterator of int pairs: the graph, and so the seeded
    # partition, must be exactly the one built from the (sorted-id coded) NumPy pair array.
    edges = ring_of_cliques(30, 5).sample(frac=1.0, random_state=2).reset_index(drop=True)
    names = sorted(set(edges["src"]) | set(edges["dst"]))
    pos = {n: i for i, n in enumerate(names)}
    pairs = np.array([(pos[a], pos[b]) for a, b in zip(edges["src"], edges["dst"], strict=True)])
    reference = ig.Graph(n=len(names))
    reference.add_edges(pairs)
    engine = IgraphEngine()
    weights = edges["weight"].to_numpy()
    expected = engine.partition(reference, weights, resolution=1.5, seed=7)
    labels = engine.communities(edges, resolution=1.5, seed=7)
    assert list(labels.index) == names
    assert labels.to_list() == expected.tolist()
