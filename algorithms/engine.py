"""Graph-algorithm engines: the in-process one (igraph) and the Neo4j one (GDS).

Detection builds its projections columnar (DuckDB/pandas) from the store port and hands a weighted
edge list to an engine. Both engines return the same shape — a node -> community/component mapping
— so the same input gives the same ring memberships, up to community labels.
"""

from __future__ import annotations

from typing import Protocol

import pandas as pd


class CommunityEngine(Protocol):
    """What detection needs from a graph-algorithm engine."""

    name: str
    # False when the algorithms run elsewhere (GDS: in the Neo4j server): detection then runs its
    # other detectors in this process while the engine's work is under way (algorithms/job.py).
    in_process: bool

    def communities(
        self, edges: pd.DataFrame, *, resolution: float, seed: int, weight: str = "weight"
    ) -> pd.Series:
        """Leiden communities of an undirected weighted graph.

        ``edges`` has columns ``src``, ``dst`` (string node ids) and ``weight`` (> 0). Returns a
        Series indexed by node id with an integer community label; isolated nodes are absent.
        ``resolution`` is the CPM/modularity resolution (see the engine's docstring); ``seed``
        makes the result repeatable.
        """
        ...

    def components(self, edges: pd.DataFrame) -> pd.Series:
        """Weakly connected components; same shape as :meth:`communities`."""
        ...
