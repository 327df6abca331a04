"""Whole labels and relationship types out of Neo4j as Arrow batches, a bounded page at a time.

Pages are keyed on the key index (``WHERE key > $last ... LIMIT``), never ``SKIP``, so each page
costs the same however far the stream has gone, and stays well inside the transaction timeout.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import neo4j
import pyarrow as pa
from neo4j import Record

from graph.errors import SchemaError
from graph.model import node_type
from graph.model import rel_type as model_rel_type
from graph.neo4j import statements as cy
from graph.neo4j.values import arrow_batch, arrow_column, arrow_type

# Keyed paging on the key index: pages small enough to stay well inside the transaction timeout
# (100,000 claims of 13 columns take about half a second) and few enough round trips.
_STREAM_PAGE = 100_000
# Neo4jStore._read_as: a READ-routed query whose answer ``take`` lifts off the driver
ReadAs = Callable[[str, dict[str, Any], str, Callable[[neo4j.Result], Any]], Any]


def _records(result: neo4j.Result) -> list[Record]:
    return list(result)


def _values(result: neo4j.Result) -> list[list[Any]]:
    """Rows as plain lists: the cheapest way to take a large answer off the driver."""
    return result.values()


def _column_lists(result: neo4j.Result) -> list[list[Any]]:
    """The one record of a page returned as column lists (see ``cy.stream_nodes_page``)."""
    record = result.single()
    return list(record.values()) if record is not None else []


def stream_nodes(read_as: ReadAs, label: str, columns: Sequence[str] | None,
                 batch_size: int) -> Iterator[pa.RecordBatch]:
    """``GraphStore.stream_nodes``: keyed pages on the key index (no SKIP), each one Arrow batch.

    A label of more than two pages is read as two parts of its key range on two connections: the
    server reads one part while the other's pages travel and are converted (each part's pages
    still come in key order, the first part before the second).
    """
    nt = node_type(label)
    wanted = tuple(columns) if columns is not None else nt.prop_names
    for c in wanted:
        nt.prop(c)
    page = max(1, min(batch_size, _STREAM_PAGE))
    ranges: list[tuple[str, str | None]] = [("", None)]  # "" is before every key
    counted = read_as(cy.count_label(label), {}, f"count {label} nodes", _records)
    total = int(counted[0]["nodes"]) if counted else 0
    if total > 2 * page:
        found = read_as(cy.key_at(label), {"last": "", "skip": total // 2}, f"split {label} keys", _records)
        if found and found[0]["split"] is not None:
            split = str(found[0]["split"])
            ranges = [("", split), (split, None)]
    if len(ranges) == 1:
        yield from _stream_range(read_as, label, wanted, page, *ranges[0])
        return
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="neo4j-stream") as pool:
        later = pool.submit(lambda: list(_stream_range(read_as, label, wanted, page, *ranges[1])))
        yield from _stream_range(read_as, label, wanted, page, *ranges[0])
        yield from later.result()


def _stream_range(read_as: ReadAs, label: str, wanted: tuple[str, ...], page: int, after: str,
                  upto: str | None) -> Iterator[pa.RecordBatch]:
    """Pages of nodes with ``after < key (<= upto)``, in key order."""
    nt = node_type(label)
    statement = cy.stream_nodes_page(label, wanted, bounded=upto is not None)
    last = after
    while True:
        params: dict[str, Any] = {"last": last, "limit": page}
        if upto is not None:
            params["upto"] = upto
        lists = read_as(statement, params, f"stream {label} nodes", _column_lists)
        keys = lists[0] if lists else []
        if not keys:
            return
        # the key comes back once, as ``keys``; the other columns follow in order (c0, c1, ...)
        others = iter(lists[1:])
        yield pa.RecordBatch.from_arrays(
            [arrow_column(nt.prop(c), keys if c == nt.key else next(others)) for c in wanted],
            names=list(wanted),
        )
        if len(keys) < page:
            return
        last = str(keys[-1])


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
