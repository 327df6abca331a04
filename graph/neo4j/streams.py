"""Whole labels and relationship types out of Neo4j as Arrow batches, a bounded page at a time.

Pages are keyed on the key index (``WHERE key > $last ... LIMIT``), never ``SKIP``, so each page
costs the same however far the stream has gone, and stays well inside the transaction timeout.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import neo4j
import pyarrow as pa
from neo4j import Record

from graph.errors import SchemaError
from graph.model import node_type
from graph.model import rel_type as model_rel_type
from graph.neo4j import statements as cy
from graph.neo4j.values import arrow_batch, arrow_column, arrow_type

_STREAM_PAGE = 50_000
# Neo4jStore._read_as: a READ-routed query whose answer ``take`` lifts off the driver
ReadAs = Callable[[str, dict[str, Any], str, Callable[[neo4j.Result], Any]], Any]


def _records(result: neo4j.Result) -> list[Record]:
    return list(result)


def _values(result: neo4j.Result) -> list[list[Any]]:
    """Rows as plain lists: the cheapest way to take a large answer off the driver."""
    return result.values()


def stream_nodes(read_as: ReadAs, label: str, columns: Sequence[str] | None,
                 batch_size: int) -> Iterator[pa.RecordBatch]:
    """``GraphStore.stream_nodes``: keyed pages on the key index (no SKIP), each one Arrow batch."""
    nt = node_type(label)
    wanted = tuple(columns) if columns is not None else nt.prop_names
    for c in wanted:
        nt.prop(c)
    statement = cy.stream_nodes_page(label, wanted)
    page = max(1, min(batch_size, _STREAM_PAGE))
    last = ""  # before every key (see cy.stream_nodes_page)
    while True:
        rows = read_as(statement, {"last": last, "limit": page}, f"stream {label} nodes", _values)
        if not rows:
            return
        columns_ = list(zip(*rows, strict=True))
        yield pa.RecordBatch.from_arrays(
            [arrow_column(nt.prop(c), columns_[i + 1]) for i, c in enumerate(wanted)],
            names=list(wanted),
        )
        if len(rows) < page:
            return
        last = str(rows[-1][0])

def stream_relationships(read_as: ReadAs, rel_type: str, columns: Sequence[str] | None,
                         batch_size: int) -> Iterator[pa.RecordBatch]:
    """``GraphStore.stream_relationships``: per (start, end) label pair, keyed pages by start key."""
    rt = model_rel_type(rel_type)
    endpoint_cols = ("src", "dst", "src_label", "dst_label")
    wanted = tuple(columns) if columns is not None else (*endpoint_cols, *rt.prop_names)
    props = {p.name: p for p in rt.props}
    unknown = [c for c in wanted if c not in endpoint_cols and c not in props]
    if unknown:
        raise SchemaError(f"relationship {rel_type} has no columns {', '.join(map(repr, unknown))}")
    layout = [(c, arrow_type(props[c]) if c in props else pa.string(), props.get(c)) for c in wanted]
    page = max(1, min(batch_size, _STREAM_PAGE))
    for src_label, dst_label in itertools.product(rt.start, rt.end):
        statement = cy.stream_relationships_page(rel_type, src_label, dst_label)
        last = ""
        while True:
            records = read_as(statement, {"last": last, "limit": page}, f"stream {rel_type}", _records)
            if not records:
                break
            rows = [r for r in records if r["dst"] is not None]
            if rows:
                values: dict[str, list[Any]] = {
                    "src": [str(r["src"]) for r in rows],
                    "dst": [str(r["dst"]) for r in rows],
                    "src_label": [src_label] * len(rows),
                    "dst_label": [dst_label] * len(rows),
                }
                rel_props = [dict(r["props"] or {}) for r in rows]
                for name in props:
                    values[name] = [p.get(name) for p in rel_props]
                yield arrow_batch(layout, {c: values[c] for c in wanted})
            if len({r["src"] for r in records}) < page:
                break
            last = str(records[-1]["src"])
