"""Rows for the Neo4j adapter's ``UNWIND $rows`` writes, produced one bounded batch at a time.

A city's claims table has millions of rows; as Python dicts it would take gigabytes. So the table is
checked once as columns (names, key presence, end labels), then sliced, and only one slice at a time
is turned into the list of maps a Bolt parameter needs. Values are converted by the model's
property types (:func:`graph.neo4j.values.to_neo4j`).

:func:`replace_batches` serves ``replace_relationships``: it sorts the rows by source once
(columnar), so that each batch of sources finds its rows in one contiguous slice.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from graph.errors import SchemaError
from graph.model import node_type, rel_type
from graph.neo4j.values import rows_as_columns, to_neo4j
from graph.port import Rows

Record = dict[str, Any]


def _as_table(rows: Rows) -> pa.Table:
    if isinstance(rows, pa.Table):
        return rows
    # object columns of mixed Python values (dates, lists) go through as they are
    return pa.Table.from_pandas(rows, preserve_index=False) if len(rows.columns) else pa.table({})


def _columns(rows: Rows) -> list[str]:
    return list(rows.column_names) if isinstance(rows, pa.Table) else [str(c) for c in rows.columns]


def _length(rows: Rows) -> int:
    return rows.num_rows if isinstance(rows, pa.Table) else len(rows)


def _slice(rows: Rows, start: int, stop: int) -> Rows:
    return rows.slice(start, stop - start) if isinstance(rows, pa.Table) else rows.iloc[start:stop]


def check_node_rows(label: str, rows: Rows) -> list[str]:
    """The columns of ``rows`` once they are known to be properties of ``label`` with no empty key."""
    nt = node_type(label)
    columns = _columns(rows)
    unknown = [c for c in columns if c not in nt.prop_names]
    if unknown:
        raise SchemaError(f"label {label} has no properties {', '.join(map(repr, unknown))}")
    if nt.key not in columns:
        raise SchemaError(f"rows for {label} lack the key column {nt.key!r}")
    _check_keys(label, nt.key, rows)
    return columns


def node_batches(label: str, rows: Rows, size: int) -> Iterator[list[Record]]:
    """Property maps of ``rows`` for ``MERGE (n:label {key: row.key}) SET n += row``, ``size`` at a time."""
    nt = node_type(label)
    columns = check_node_rows(label, rows)
    for start in range(0, _length(rows), size):
        _, values = rows_as_columns(_slice(rows, start, start + size))
        converted = [[to_neo4j(nt.prop(c), v) for v in values[c]] for c in columns]
        yield [dict(zip(columns, cells, strict=True)) for cells in zip(*converted, strict=True)]


def _check_keys(label: str, key: str, rows: Rows) -> None:
    """An empty key anywhere refuses the whole table before anything is written."""
    if isinstance(rows, pa.Table):
        column = rows.column(key)
    else:
        column = pa.array(rows[key].astype(object), from_pandas=True)
    if isinstance(column, pa.ChunkedArray):
        column = column.combine_chunks()
    empty = pc.is_null(column)
    if pa.types.is_string(column.type) or pa.types.is_large_string(column.type):
        empty = pc.or_(empty, pc.equal(pc.utf8_trim_whitespace(column), ""))
    bad = np.flatnonzero(empty.fill_null(True).to_numpy(zero_copy_only=False))
    if len(bad):
        raise SchemaError(f"rows for {label} have an empty key {key!r} at row(s) {bad[:10].tolist()}")


@dataclass(frozen=True)
class RelBatch:
    src_label: str
    dst_label: str
    rows: list[Record]  # {"src", "dst", "props"}


def relationship_batches(rel: str, rows: Rows, size: int) -> Iterator[RelBatch]:
    """``rows`` (src, dst, [src_label, dst_label], properties...) as batches per pair of end labels."""
    rt = rel_type(rel)
    prop_cols = check_relationship_rows(rel, rows)
    props = {p.name: p for p in rt.props}
    for start in range(0, _length(rows), size):
        _, values = rows_as_columns(_slice(rows, start, start + size))
        n = len(values["src"])
        src_labels = [str(v) for v in values["src_label"]] if "src_label" in values else [rt.start[0]] * n
        dst_labels = [str(v) for v in values["dst_label"]] if "dst_label" in values else [rt.end[0]] * n
        converted = {c: [to_neo4j(props[c], v) for v in values[c]] for c in prop_cols}
        groups: dict[tuple[str, str], list[Record]] = defaultdict(list)
        for i in range(n):
            groups[(src_labels[i], dst_labels[i])].append({
                "src": str(values["src"][i]),
                "dst": str(values["dst"][i]),
                "props": {c: converted[c][i] for c in prop_cols},
            })
        for (src_label, dst_label), group in groups.items():
            yield RelBatch(src_label, dst_label, group)


def check_relationship_rows(rel: str, rows: Rows) -> list[str]:
    """The property columns of ``rows`` once src, dst and the end labels are known to fit ``rel``."""
    rt = rel_type(rel)
    columns = _columns(rows)
    for needed in ("src", "dst"):
        if needed not in columns:
            raise SchemaError(f"rows for {rel} lack the column {needed!r}")
    prop_cols = [c for c in columns if c not in ("src", "dst", "src_label", "dst_label")]
    unknown = [c for c in prop_cols if c not in rt.prop_names]
    if unknown:
        raise SchemaError(f"relationship {rel} has no properties {', '.join(map(repr, unknown))}")
    for column, allowed in (("src_label", rt.start), ("dst_label", rt.end)):
        if column in columns:
            found = {str(v) for v in _distinct(rows, column)}
            bad = sorted(found - set(allowed))
            if bad:
                raise SchemaError(
                    f"{rel} cannot connect {column} {', '.join(bad)} (allowed: {', '.join(allowed)})")
        elif len(allowed) > 1:
            raise SchemaError(f"rows for {rel} need a {column} column: it may be {', '.join(allowed)}")
    return prop_cols


def _distinct(rows: Rows, column: str) -> list[Any]:
    if isinstance(rows, pa.Table):
        return list(pc.unique(rows.column(column)).to_pylist())
    return list(pd.unique(rows[column]))


@dataclass(frozen=True)
class ReplaceBatch:
    sources: list[str]      # whose links of the type are replaced, all in one transaction
    links: list[RelBatch]   # the rows to merge (their sources are these, or not among the sources)


def replace_batches(rel: str, sources: Sequence[str] | pa.Array | pa.ChunkedArray, rows: Rows,
                    size: int) -> Iterator[ReplaceBatch]:
    """Batches of ``size`` sources, each with the rows that start at them (rows sorted once by source).

    Rows whose source is not among ``sources`` ride along with the batch whose key range holds them:
    they are merged like any upsert, and the delete step only concerns the batch's sources.
    """
    listed = sources.to_pylist() if isinstance(sources, pa.Array | pa.ChunkedArray) else list(sources)
    keys = sorted({str(k) for k in listed if k is not None})
    table = _as_table(rows) if _columns(rows) else pa.table({"src": pa.array([], pa.string()),
                                                             "dst": pa.array([], pa.string())})
    if table.num_rows:
        at = table.column_names.index("src")
        table = table.set_column(at, "src", pc.cast(table.column("src"), pa.string())).sort_by("src")
    src = np.asarray(table.column("src").to_numpy(zero_copy_only=False), dtype=object)
    if not keys:
        for start in range(0, table.num_rows, size):
            yield ReplaceBatch([], list(relationship_batches(rel, table.slice(start, size), size)))
        return
    bounds = [0] + [int(np.searchsorted(src, keys[i], side="left")) for i in range(size, len(keys), size)]
    bounds.append(table.num_rows)
    for b, start in enumerate(range(0, len(keys), size)):
        part = table.slice(bounds[b], bounds[b + 1] - bounds[b])
        links = list(relationship_batches(rel, part, max(part.num_rows, 1)))
        yield ReplaceBatch(keys[start:start + size], links)
