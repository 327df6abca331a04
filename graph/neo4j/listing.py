""":class:`graph.listing.Listing` as Cypher: one READ query for the page, one for the count.

Only model labels and property names are interpolated; every value is a parameter. Missing values
sort last whatever the direction (``n.p IS NULL`` first in the ORDER BY), as on the embedded store.
"""

from __future__ import annotations

from typing import Any

from graph.listing import Listing
from graph.model import node_type


def _where(listing: Listing) -> tuple[str, dict[str, Any]]:
    conds: list[str] = []
    params: dict[str, Any] = {}
    for i, (name, value) in enumerate(listing.equals.items()):
        conds.append(f"n.{name} = $eq{i}")
        params[f"eq{i}"] = value
    for i, (name, values) in enumerate(listing.within.items()):
        conds.append(f"n.{name} IN $in{i}")
        params[f"in{i}"] = sorted(str(v) for v in values)
    for i, (name, value) in enumerate(listing.contains.items()):
        conds.append(f"$has{i} IN n.{name}")
        params[f"has{i}"] = value
    for i, (name, minimum) in enumerate(listing.at_least.items()):
        conds.append(f"n.{name} >= $min{i}")
        params[f"min{i}"] = float(minimum)
    return (" WHERE " + " AND ".join(conds)) if conds else "", params


def page_statement(listing: Listing) -> tuple[str, dict[str, Any]]:
    """The page: ``key`` and ``props`` of up to ``$limit`` nodes after ``$skip``."""
    nt = node_type(listing.label)
    where, params = _where(listing)
    order = ", ".join(f"n.{p} IS NULL, n.{p}{' DESC' if desc else ''}" for p, desc in listing.ordering())
    statement = (f"MATCH (n:{nt.label}){where} RETURN n.{nt.key} AS key, properties(n) AS props "
                 f"ORDER BY {order} SKIP $skip LIMIT $limit")
    return statement, params


def count_statement(listing: Listing) -> tuple[str, dict[str, Any]]:
    nt = node_type(listing.label)
    where, params = _where(listing)
    return f"MATCH (n:{nt.label}){where} RETURN count(n) AS total", params
