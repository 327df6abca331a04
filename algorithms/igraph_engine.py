"""The in-process community engine: igraph + leidenalg, seeded.

Communities use the Constant Potts Model (CPM) of Traag, Van Dooren and Nesterov, "Narrow scope
for resolution-limit-free community detection", Phys. Rev. E 84 (2011), optimised by Leiden
(Traag, Waltman and van Eck, Sci. Rep. 9, 5233, 2019). Modularity compares a community with a
random graph of the *whole* network, so in a city-sized graph it merges small dense groups (the
resolution limit, Fortunato and Barthélemy, PNAS 104, 2007) — exactly the 8-20 person rings we
hunt. CPM's resolution is a density: a community is kept when its internal weight exceeds
``resolution`` per member pair, whatever the size of the rest of the graph.
"""

from __future__ import annotations

import igraph as ig
import leidenalg
import numpy as np
import pandas as pd


def _graph(edges: pd.DataFrame) -> tuple[ig.Graph, np.ndarray]:
    src = edges["src"].astype(str).to_numpy()
    dst = edges["dst"].astype(str).to_numpy()
    names, codes = np.unique(np.concatenate([src, dst]), return_inverse=True)
    n = len(src)
    pairs = np.column_stack([codes[:n], codes[n:]])
    graph = ig.Graph(n=len(names), edges=pairs, directed=False)
    return graph, names


class IgraphEngine:
    """CommunityEngine on igraph/leidenalg; works with any store (it only sees an edge list)."""

    name = "igraph"

    def __init__(self, n_iterations: int = -1) -> None:
        # -1 iterates Leiden until no node moves: results then do not depend on the iteration cap.
        self.n_iterations = n_iterations

    def communities(
        self, edges: pd.DataFrame, *, resolution: float, seed: int, weight: str = "weight"
    ) -> pd.Series:
        if edges.empty:
            return pd.Series([], dtype="int64")
        graph, names = _graph(edges)
        weights = edges[weight].astype(float).to_numpy()
        partition = leidenalg.find_partition(
            graph,
            leidenalg.CPMVertexPartition,
            weights=list(weights),
            resolution_parameter=resolution,
            n_iterations=self.n_iterations,
            seed=seed,
        )
        labels = np.asarray(partition.membership, dtype=np.int64)
        return pd.Series(labels, index=pd.Index(names, name="node"), name="community")

    def components(self, edges: pd.DataFrame) -> pd.Series:
        if edges.empty:
            return pd.Series([], dtype="int64")
        graph, names = _graph(edges)
        labels = np.asarray(graph.connected_components(mode="weak").membership, dtype=np.int64)
        return pd.Series(labels, index=pd.Index(names, name="node"), name="component")
