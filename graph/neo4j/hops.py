"""One hop in Cypher: neighbours with the per-seed cap and left-out counts, and degrees."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Sequence
from datetime import date
from typing import Any

from neo4j import Record

from graph.arguments import check_cap, check_direction
from graph.model import Edge, Node, NodeRef, node_type, rel_type
from graph.neo4j import statements as cy
from graph.neo4j.values import props_from_neo4j
from graph.port import Direction, Expansion
from graph.records import typed_props, typed_rel_props

# Neo4jStore._read: a READ-routed query's records
Read = Callable[[str, dict[str, Any], str], list[Record]]


def neighbours(read: Read, seeds: Sequence[NodeRef], *, rel_types: Sequence[str] | None,
               labels: Sequence[str] | None, since: date | None, until: date | None, cap: int,
               direction: Direction) -> Expansion:
    """``GraphStore.neighbours``: one query per seed label; the cap and the counts in Cypher."""
    check_cap(cap)
    check_direction(direction)
    types = [rel_type(t).type for t in rel_types] if rel_types is not None else None
    label_filter = [node_type(lb).label for lb in labels] if labels is not None else None
    by_label: dict[str, list[str]] = defaultdict(list)
    for ref in dict.fromkeys(seeds):
        by_label[ref.label].append(ref.key)
    seed_set = set(seeds)
    expansion = Expansion()
    seen_nodes: set[NodeRef] = set()
    seen_edges: set[tuple[str, NodeRef, NodeRef]] = set()
    for label, keys in by_label.items():
        if not cy.can_connect(label, direction, types):
            continue
        params = {"keys": keys, "outgoing": {"out": True, "in": False, "both": None}[direction],
                  "types": types, "labels": label_filter, "since": since, "until": until, "cap": cap,
                  "key_props": cy.key_properties()}
        for record in read(cy.neighbours(label), params, "expand neighbours"):
            seed = NodeRef(label, str(record["seed"]))
            kept = list(record["kept"])
            if int(record["total"]) > len(kept):
                expansion.cut[seed] = int(record["total"]) - len(kept)
            for hit in kept:
                other = NodeRef(str(hit["label"]), str(hit["key"]))
                if other not in seed_set and other not in seen_nodes:
                    seen_nodes.add(other)
                    props = typed_props(other.label, props_from_neo4j(dict(hit["props"])))
                    expansion.nodes.append(Node(other.label, other.key, props))
                src, dst = (seed, other) if hit["outgoing"] else (other, seed)
                edge_id = (str(hit["type"]), src, dst)
                if edge_id not in seen_edges:
                    seen_edges.add(edge_id)
                    rel_props = typed_rel_props(edge_id[0], props_from_neo4j(dict(hit["rel_props"])))
                    expansion.edges.append(Edge(edge_id[0], src, dst, rel_props))
    return expansion


def degrees(read: Read, refs: Sequence[NodeRef], rel_types: Sequence[str] | None,
            batch_size: int) -> dict[NodeRef, int]:
    """``GraphStore.degrees``: relationships per node, both directions, in batches of keys."""
    types = [rel_type(t).type for t in rel_types] if rel_types is not None else None
    result = {ref: 0 for ref in refs}
    by_label: dict[str, list[str]] = defaultdict(list)
    for ref in dict.fromkeys(refs):
        by_label[ref.label].append(ref.key)
    for label, keys in by_label.items():
        if not cy.can_connect(label, "both", types):
            continue
        for start in range(0, len(keys), batch_size):
            batch = keys[start:start + batch_size]
            params = {"keys": list(batch), "types": types}
            for record in read(cy.degrees(label), params, "count degrees"):
                result[NodeRef(label, str(record["key"]))] = int(record["degree"])
    return result

