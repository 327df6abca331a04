"""An :class:`~graph.port.Expansion` from the read index's rows, shaped as the adapters shape theirs."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Sequence

from graph.model import Edge, Node, NodeRef
from graph.port import Expansion
from graph.serving.adjacency import Row


def expansion_from_rows(seeds: Sequence[NodeRef], rows: Sequence[Row],
                        totals_without_rows: dict[NodeRef, int], cap: int,
                        get_nodes: Callable[[str, Sequence[str]], list[Node]]) -> Expansion:
    """Edges in row order, the counts left out per seed, and the neighbour nodes (not the seeds).

    ``totals_without_rows`` gives each seed's total when ``cap`` is 0 (no row carries it then).
    """
    expansion = Expansion()
    seen_edges: set[tuple[str, NodeRef, NodeRef]] = set()
    nb_keys: dict[str, list[str]] = defaultdict(list)
    seed_set = set(seeds)
    for seed_label, seed_key, type_, outgoing, nb_label, nb_key, day, total in rows:
        seed = NodeRef(seed_label, seed_key)
        if total > cap:
            expansion.cut[seed] = total - cap
        nb = NodeRef(nb_label, nb_key)
        src, dst = (seed, nb) if outgoing else (nb, seed)
        ident = (type_, src, dst)
        if ident not in seen_edges:
            seen_edges.add(ident)
            expansion.edges.append(Edge(type_, src, dst, {"date": day} if day is not None else {}))
        if nb not in seed_set:
            nb_keys[nb.label].append(nb.key)
    expansion.cut.update({s: n for s, n in totals_without_rows.items() if n > 0})
    for label, keys in nb_keys.items():
        expansion.nodes.extend(get_nodes(label, list(dict.fromkeys(keys))))
    return expansion
