"""Write steps: the adapter primitives a multi-step write is made of, applied in one transaction.

A sequence such as a detection run's (:func:`graph.derived.derived_steps`) is written once, above
the adapters, as a list of these steps; each adapter only knows how to apply one step of each kind
inside its own transaction (:meth:`graph.port.GraphStore.write_steps`). So the order of the steps
and what each one means cannot drift apart between the embedded store and Neo4j.

Column checks run here, before any adapter sees the rows, so both adapters refuse a bad frame with
the same :class:`graph.errors.SchemaError` and nothing is written.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TypeAlias

import pandas as pd
import pyarrow as pa

from graph.errors import SchemaError
from graph.model import REL_TYPES, node_type, rel_type

Frame: TypeAlias = "pd.DataFrame | pa.Table"


@dataclass(frozen=True)
class UpsertNodes:
    """Insert or update nodes of ``label`` by key (as ``GraphStore.upsert_nodes``)."""

    label: str
    rows: Frame


@dataclass(frozen=True)
class UpsertRelationships:
    """Merge relationships of ``rel_type`` (as ``GraphStore.upsert_relationships``)."""

    rel_type: str
    rows: Frame


@dataclass(frozen=True)
class ReplaceRelationships:
    """Make ``rows`` the only ``rel_type`` relationships leaving ``sources``
    (as ``GraphStore.replace_relationships``)."""

    rel_type: str
    sources: tuple[str, ...]
    rows: Frame


@dataclass(frozen=True)
class DeleteAllNodes:
    """Delete every node of ``label`` and its relationships."""

    label: str


WriteStep = UpsertNodes | UpsertRelationships | ReplaceRelationships | DeleteAllNodes
REL_ENDS = ("src", "dst", "src_label", "dst_label")


def columns_of(rows: Frame) -> list[str]:
    return list(rows.column_names) if isinstance(rows, pa.Table) else [str(c) for c in rows.columns]


def check_node_columns(label: str, columns: Sequence[str]) -> None:
    """Every column a property of ``label``, the key among them; else ``SchemaError``."""
    nt = node_type(label)
    unknown = [c for c in columns if c not in nt.prop_names]
    if unknown:
        raise SchemaError(f"label {label} has no properties {', '.join(map(repr, unknown))}; "
                          f"known: {', '.join(nt.prop_names)}")
    if nt.key not in columns:
        raise SchemaError(f"rows for label {label} lack the key column {nt.key!r}")


def check_rel_columns(type_: str, columns: Sequence[str]) -> None:
    """Every column an end or a property of ``type_``, ``src`` and ``dst`` among them."""
    rt = rel_type(type_)
    unknown = [c for c in columns if c not in REL_ENDS and c not in rt.prop_names]
    if unknown:
        raise SchemaError(f"relationship type {type_} has no properties {', '.join(map(repr, unknown))}; "
                          f"known: {', '.join((*REL_ENDS, *rt.prop_names))}")
    for col in ("src", "dst"):
        if col not in columns:
            raise SchemaError(f"rows for relationship type {type_} lack the {col!r} column")


def check_steps(steps: Sequence[WriteStep]) -> None:
    """Refuse the whole sequence, before anything is written, if one step names a column wrongly."""
    for step in steps:
        if isinstance(step, UpsertNodes):
            check_node_columns(step.label, columns_of(step.rows))
        elif isinstance(step, UpsertRelationships):
            check_rel_columns(step.rel_type, columns_of(step.rows))
        elif isinstance(step, ReplaceRelationships):
            rt = rel_type(step.rel_type)
            if len(rt.start) != 1:
                raise SchemaError(f"{rt.type} starts at {' or '.join(rt.start)}: replacing its "
                                  "relationships needs a relationship type with one start label")
            if columns_of(step.rows):
                check_rel_columns(step.rel_type, columns_of(step.rows))
        else:
            node_type(step.label)


def touched_by(steps: Sequence[WriteStep]) -> list[str]:
    """The labels and relationship types the steps write (their revision tokens change)."""
    names: list[str] = []
    for step in steps:
        if isinstance(step, UpsertNodes | DeleteAllNodes):
            names.append(step.label)
            if isinstance(step, DeleteAllNodes):
                # deleting nodes deletes their relationships too
                names.extend(rt.type for rt in REL_TYPES if step.label in (*rt.start, *rt.end))
        else:
            names.append(step.rel_type)
    return sorted(set(names))
