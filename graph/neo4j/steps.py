"""Write steps (:mod:`graph.writesteps`) as the Cypher statements the Neo4j adapter runs.

Each step becomes a list of ``(statement, parameters)`` pairs, batched like the single-call writes
(``UNWIND $rows`` of at most the batch size). :meth:`graph.neo4j.store.Neo4jStore.write_steps`
runs the pairs of a whole sequence in one managed transaction; ``replace_relationships`` runs the
pairs of one batch of sources per transaction. Every statement is an idempotent MERGE or DELETE,
so a driver retry that re-runs them from the top is safe.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

from graph.errors import InputError, SchemaError
from graph.model import node_type, rel_type
from graph.neo4j import statements as cy
from graph.neo4j.writes import ReplaceBatch, node_batches, relationship_batches, replace_batches
from graph.port import Rows
from graph.writesteps import (
    ReplaceRelationships,
    UpsertNodes,
    UpsertRelationships,
    WriteStep,
    check_node_columns,
    columns_of,
)

Statement = tuple[str, dict[str, Any]]


def delete_all_nodes(label: str) -> str:
    """Every node of a label with its relationships (the label comes from the model)."""
    return f"MATCH (n:{node_type(label).label}) DETACH DELETE n"


def replace_statements(rel: str, batch: ReplaceBatch, *, replacing: bool = True) -> list[Statement]:
    """One batch of sources: delete the links the rows no longer name, then merge the rows.

    ``replacing`` False: the type has no relationship yet (a first load), so there is nothing to
    delete and the delete is not sent.
    """
    rt = rel_type(rel)
    start = rt.start[0]
    out: list[Statement] = []
    for end in rt.end:
        links = [r for b in batch.links if b.dst_label == end for r in b.rows]
        if batch.sources and replacing:
            kept: dict[str, list[str]] = {k: [] for k in batch.sources}
            for r in links:
                if r["src"] in kept:
                    kept[r["src"]].append(r["dst"])
            keep = [{"src": k, "keep": v} for k, v in kept.items()]
            out.append((cy.delete_unkept_relationships(rel, start, end), {"rows": keep}))
        if links:
            out.append((cy.upsert_relationships(rel, start, end), {"rows": links}))
    return out


def replace_groups(rel: str, sources: Sequence[str], rows: Rows, size: int, *,
                   replacing: bool = True) -> Iterator[list[Statement]]:
    """The statements of a replacement, one list per batch of ``size`` sources."""
    for batch in replace_batches(rel, sources, rows, size):
        statements = replace_statements(rel, batch, replacing=replacing)
        if statements:
            yield statements


def node_rows(label: str, rows: Rows, size: int) -> Iterator[list[dict[str, Any]]]:
    """``node_batches`` under the port's error contract: a column outside the model is a
    ``SchemaError`` (checked first, as on DuckDB), so what the conversion still refuses — an empty
    key, a value that is not its property's type — is the rows' data: an ``InputError``."""
    check_node_columns(label, columns_of(rows))
    batches = node_batches(label, rows, size)
    while True:
        try:
            batch = next(batches)
        except StopIteration:
            return
        except SchemaError as exc:
            raise InputError(f"{label} rows: {exc}") from exc
        yield batch


def step_statements(step: WriteStep, size: int) -> Iterator[Statement]:
    if isinstance(step, UpsertNodes):
        statement = cy.upsert_nodes(step.label)
        for rows in node_rows(step.label, step.rows, size):
            yield statement, {"rows": rows}
    elif isinstance(step, UpsertRelationships):
        for b in relationship_batches(step.rel_type, step.rows, size):
            yield cy.upsert_relationships(step.rel_type, b.src_label, b.dst_label), {"rows": b.rows}
    elif isinstance(step, ReplaceRelationships):
        for group in replace_groups(step.rel_type, step.sources, step.rows, size):
            yield from group
    else:
        yield delete_all_nodes(step.label), {}
