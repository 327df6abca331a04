"""Analyst Cypher on Neo4j: refused unless Neo4j itself plans it as read-only.

The query is planned with ``EXPLAIN`` first and refused unless Neo4j classifies it as read-only
(``summary.query_type == "r"``) and its plan holds no writing or procedure-calling operator
(:mod:`graph.neo4j.guard`); it then runs in a READ transaction, which the server also refuses to
let write. A ``USE`` clause is refused: analysts query the configured database only.
"""

from __future__ import annotations

import itertools
from typing import Any

import neo4j
from neo4j import Driver, Query, RoutingControl

from graph.arguments import check_limit
from graph.errors import InvalidRequest
from graph.neo4j import statements as cy
from graph.neo4j.failures import neo4j_errors
from graph.neo4j.guard import check_analyst_plan
from graph.neo4j.values import from_neo4j
from graph.port import QueryResult


def run_analyst_cypher(driver: Driver, database: str, text: str, params: dict[str, Any] | None, *,
                       limit: int, timeout: float) -> QueryResult:
    """``GraphStore.read_query`` on Neo4j: planned with EXPLAIN, refused unless read-only, then run
    in a READ transaction; at most ``limit`` rows come back."""
    check_limit(limit)
    parameters = dict(params or {})
    if cy.names_a_database(text):
        # Analysts query the configured database only (USE system could list users).
        raise InvalidRequest("remove the USE clause: queries run against the configured database only")
    with neo4j_errors("plan the query", analyst=True):
        _, summary, _ = driver.execute_query(
            Query(cy.explain(text), timeout=timeout),
            parameters_=parameters,
            routing_=RoutingControl.READ,
            database_=database,
        )
    check_analyst_plan(summary.query_type, summary.plan, database)

    def take(result: neo4j.Result) -> tuple[list[str], list[list[Any]]]:
        keys = list(result.keys())
        head = itertools.islice(result, limit + 1)
        rows = [[from_neo4j(v) for v in record.values()] for record in head]
        return keys, rows

    with neo4j_errors("run the query", analyst=True):
        keys, rows = driver.execute_query(
            Query(text, timeout=timeout),
            parameters_=parameters,
            routing_=RoutingControl.READ,
            database_=database,
            result_transformer_=take,
        )
    return QueryResult(columns=keys, rows=rows[:limit], truncated=len(rows) > limit)
