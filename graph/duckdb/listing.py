""":class:`graph.listing.Listing` as SQL on the node table: one query for the page, one for the count.

Only model property names are interpolated (quoted); every value is a bound parameter. A set filter
is one list parameter (``IN (SELECT unnest(?))``), however many keys a police scope holds.
"""

from __future__ import annotations

from typing import Any

import duckdb

from graph.duckdb.schema import node_table, quote
from graph.listing import Listing
from graph.model import Node, node_type
from graph.records import typed_props


def _where(listing: Listing) -> tuple[str, list[Any]]:
    conds: list[str] = []
    params: list[Any] = []
    for name, value in listing.equals.items():
        conds.append(f"{quote(name)} = ?")
        params.append(value)
    for name, values in listing.within.items():
        conds.append(f"{quote(name)} IN (SELECT unnest(CAST(? AS VARCHAR[])))")
        params.append(sorted(str(v) for v in values))
    for name, value in listing.contains.items():
        conds.append(f"list_contains({quote(name)}, ?)")
        params.append(value)
    for name, minimum in listing.at_least.items():
        conds.append(f"{quote(name)} >= ?")
        params.append(float(minimum))
    return (" WHERE " + " AND ".join(conds)) if conds else "", params


def list_nodes(cur: duckdb.DuckDBPyConnection, listing: Listing) -> tuple[list[Node], int]:
    """Up to ``first + 1`` nodes from the listing's offset (the extra one says a next page exists),
    and how many match in all."""
    nt = node_type(listing.label)
    table = quote(node_table(nt.label))
    where, params = _where(listing)
    order = ", ".join(f"{quote(p)} {'DESC' if desc else 'ASC'} NULLS LAST" for p, desc in listing.ordering())
    total = int(cur.execute(f"SELECT count(*) FROM {table}{where}", params).fetchall()[0][0])
    if listing.first == 0 or listing.offset >= total:
        return [], total
    res = cur.execute(f"SELECT * FROM {table}{where} ORDER BY {order} LIMIT ? OFFSET ?",
                      [*params, listing.first + 1, listing.offset])
    cols = [d[0] for d in res.description]
    nodes = []
    for row in res.fetchall():
        props = typed_props(nt.label, {c: v for c, v in zip(cols, row, strict=True) if v is not None})
        nodes.append(Node(nt.label, str(props[nt.key]), props))
    return nodes, total
