"""Communities on Spark: components, then Leiden/CPM per component, equal the global run.

The graph (weights on the edges)::

    ring A: a0..a5 all pairs, weight 3        ring B: b0..b5 all pairs, weight 3
              \\___ a0 - b0, weight 1 ___/       (A and B: one component, two communities)
    ring C: c0..c4 all pairs, weight 3        (a second component)
    chain:  p0 - p1 - ... - p40, weight 2     (a long path: many label-propagation rounds)
"""

from __future__ import annotations

from itertools import combinations
from typing import Any

import igraph as ig
import pandas as pd
import pytest

from algorithms.igraph_engine import IgraphEngine


def _graph() -> pd.DataFrame:
    rows: list[tuple[str, str, float]] = []
    for name, n in (("a", 6), ("b", 6), ("c", 5)):
        rows += [(f"{name}{i}", f"{name}{j}", 3.0) for i, j in combinations(range(n), 2)]
    rows.append(("a0", "b0", 1.0))
    rows += [(f"p{k:02d}", f"p{k + 1:02d}", 2.0) for k in range(40)]
    return pd.DataFrame(rows, columns=["src", "dst", "weight"])


def _groups(labels: pd.Series) -> set[frozenset[str]]:
    return {frozenset(idx) for _, idx in labels.groupby(labels).groups.items()}


def _cpm_quality(edges: pd.DataFrame, labels: pd.Series, resolution: float) -> float:
    """CPM: sum over communities of internal weight - resolution * n(n-1)/2."""
    comm = labels.to_dict()
    inside = edges[[comm[s] == comm[d] for s, d in zip(edges["src"], edges["dst"], strict=True)]]
    sizes = labels.value_counts()
    return float(inside["weight"].sum() - resolution * (sizes * (sizes - 1) / 2).sum())


@pytest.mark.spark
def test_components_and_per_component_leiden_match_the_global_run(spark: Any) -> None:
    from algorithms.spark.components import SparkCommunityEngine

    edges = _graph()
    engine = SparkCommunityEngine(spark, small_max=10, buckets=2)
    components = engine.components(edges)
    assert sorted(len(g) for g in _groups(components)) == [5, 12, 41]

    local = engine.communities(edges, resolution=1.0, seed=7)
    reference = IgraphEngine().communities(edges, resolution=1.0, seed=7)
    rings = {frozenset(f"{x}{i}" for i in range(n)) for x, n in (("a", 6), ("b", 6), ("c", 5))}
    assert rings <= _groups(local) and rings <= _groups(reference)
    # CPM has no term for the rest of the graph: the objective is a sum over components, so the
    # per-component optimum is the global optimum (on the rings, where Leiden reaches it; a long
    # chain has many near-equal cuts, found differently by any two seeded runs).
    ringed = edges[~edges["src"].str.startswith("p")]
    assert _cpm_quality(ringed, local[~local.index.str.startswith("p")], 1.0) == pytest.approx(
        _cpm_quality(ringed, reference[~reference.index.str.startswith("p")], 1.0)
    )
    # The largest component (the 41-node chain) is reported and partitioned, not dropped.
    assert engine.stats["giant_component_vertices"] == 41
    assert {f"p{k:02d}" for k in range(41)} <= set(local.index)


def test_cpm_quality_of_a_partition_is_the_sum_over_its_components() -> None:
    """Why per-component Leiden is exact for CPM (and would not be for modularity)."""
    edges = _graph()
    g = ig.Graph.DataFrame(edges, directed=False, use_vids=False)
    part = g.community_leiden(objective_function="CPM", weights="weight", resolution=1.0, n_iterations=-1)
    labels = pd.Series(part.membership, index=g.vs["name"])
    whole = _cpm_quality(edges, labels, 1.0)
    comps = IgraphEngine().components(edges)
    per_component = sum(
        _cpm_quality(edges[edges["src"].map(comps) == c], labels[comps[comps == c].index], 1.0)
        for c in comps.unique()
    )
    assert whole == pytest.approx(per_component)
    # Modularity is not additive: the same split scores differently inside one component alone.
    q_all = g.modularity(part.membership, weights="weight")
    sub = g.induced_subgraph([v.index for v in g.vs if v["name"].startswith("p")])
    sub_labels = [part.membership[g.vs.find(name=v["name"]).index] for v in sub.vs]
    assert sub.modularity(sub_labels, weights="weight") != pytest.approx(q_all)
