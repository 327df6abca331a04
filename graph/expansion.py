"""An :class:`~graph.port.Expansion` from the rows of a one-hop read, the same for every reader.

The embedded adapter's SQL and the serving layer's in-memory index both produce one row per kept
relationship, per seed in the port's order; this turns them into edges, left-out counts and the
neighbour nodes, so the two can never shape an answer differently.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Sequence
from typing import Any

from graph.model import Edge, Node, NodeRef
from graph.port import Expansion

# (seed label, seed key, type, outgoing, neighbour label, neighbour key, seed's total, properties)
HopRow = tuple[str, str, str, bool, str, str, int, dict[str, Any]]


def assemble_expansion(seeds: Sequence[NodeRef], rows: Sequence[HopRow], cap: int,
                       totals_without_rows: dict[NodeRef, int],
                       get_nodes: Callable[[str, Sequence[str]], list[Node]]) -> Expansion:
    """Edges in row order, the counts left out per seed, and the neighbour nodes (not the seeds).

    ``totals_without_rows`` gives each seed's total when ``cap`` is 0 (no row carries it then).
    """
    expansion = Expansion()
    seen_edges: set[tuple[str, NodeRef, NodeRef]] = set()
    nb_keys: dict[str, list[str]] = defaultdict(list)
    seed_set = set(seeds)
    for seed_label, seed_key, type_, outgoing, nb_label, nb_key, total, props in rows:
        seed = NodeRef(seed_label, seed_key)
        if total > cap:
            expansion.cut[seed] = total - cap
        nb = NodeRef(nb_label, nb_key)
        src, dst = (seed, nb) if outgoing else (nb, seed)
        ident = (type_, src, dst)
        if ident not in seen_edges:
            seen_edges.add(ident)
            expansion.edges.append(Edge(type_, src, dst, props))
        if nb not in seed_set:
            nb_keys[nb.label].append(nb.key)
    expansion.cut.update({s: n for s, n in totals_without_rows.items() if n > 0})
    for label, keys in nb_keys.items():
        expansion.nodes.extend(get_nodes(label, list(dict.fromkeys(keys))))
    return expansion
