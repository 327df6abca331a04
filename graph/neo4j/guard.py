"""What analyst Cypher may do on Neo4j, decided from the query's ``EXPLAIN`` plan.

Neo4j's query type alone is not enough: it classifies ``LOAD CSV`` (reads server files and URLs),
``TERMINATE TRANSACTIONS`` (kills other users' work), ``gds.graph.project`` and every GDS ``mutate``
procedure (fill the server's heap with in-memory graphs) as read-only ``r``. So the planned operator
tree is walked as well, and the decision rests on what the planner will run, not on how the text is
spelled (case, comments, whitespace or parameters change nothing here).

Allowed: read-only clauses, functions, ``SHOW`` listings of the database, and the introspection
procedures in :data:`READ_PROCEDURES`. Everything else is refused with a reason the analyst can act on.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from graph.errors import WriteRefused

# Schema introspection an analyst needs to write queries; none changes or reveals server state.
READ_PROCEDURES = frozenset({
    "db.labels",
    "db.relationshipTypes",
    "db.propertyKeys",
    "db.schema.visualization",
    "db.schema.nodeTypeProperties",
    "db.schema.relTypeProperties",
})

_REFUSED_OPERATORS: dict[str, str] = {
    "LoadCSV": "LOAD CSV reads files and addresses on the server; load data with `medfraud ingest`",
    "TerminateTransactions": "TERMINATE TRANSACTIONS stops other users' work",
    "TransactionForeach": "CALL { ... } IN TRANSACTIONS commits as it goes",
    "TransactionApply": "CALL { ... } IN TRANSACTIONS commits as it goes",
    "AdministrationCommand": "administration commands are not available to analysts",
}


def check_analyst_plan(query_type: str | None, plan: Mapping[str, Any] | None, database: str) -> None:
    """Raise :class:`WriteRefused` unless the planned query only reads ``database``'s graph."""
    if query_type != "r":
        raise WriteRefused(
            f"only read-only Cypher may run here; Neo4j classifies this query as {query_type!r} "
            "(r = read, rw = read/write, w = write, s = schema or administration)"
        )
    if plan is None:
        raise WriteRefused("Neo4j returned no plan for this query, so it cannot be checked; it was not run")
    for operator, details in _operators(plan):
        name, _, on = operator.partition("@")
        if on and on != database:
            raise WriteRefused("queries run against the configured database only")
        if name in _REFUSED_OPERATORS:
            raise WriteRefused(_REFUSED_OPERATORS[name])
        if name == "ProcedureCall":
            procedure = (details or "").split("(", 1)[0].strip()
            if procedure not in READ_PROCEDURES:
                raise WriteRefused(
                    f"procedure {procedure or '?'} is not available to analysts; allowed: "
                    + ", ".join(sorted(READ_PROCEDURES))
                )


def _operators(plan: Mapping[str, Any]) -> Iterator[tuple[str, str | None]]:
    stack = [plan]
    while stack:
        node = stack.pop()
        args = node.get("args") or {}
        details = args.get("Details")
        yield str(node.get("operatorType", "")), None if details is None else str(details)
        stack.extend(node.get("children") or [])

