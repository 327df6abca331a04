"""Bulk upserts into the DuckDB tables, set-based and free of per-row Python.

Every function here runs on a cursor whose transaction the caller opened, so a batch commits or
rolls back as a whole. Each write:

1. registers the Arrow batch as a view and casts its columns to the model types in SQL;
2. drops duplicate keys inside the batch (last row wins) — checked with a cheap hash aggregate
   first, because a real de-duplication (a window over the batch) is ten times dearer and rarely
   needed;
3. keeps only relationships whose endpoints exist: a join count per end label first (which also
   proves a batch free of duplicates when one end's keys are unique in it), and a filter on the
   rows only when some endpoint is missing (the usual count is 0);
4. inserts straight away into an empty table or when no incoming key exists yet (the bulk-load
   case), otherwise updates the matching rows' given columns and anti-join inserts the rest.

``replace_relationships`` (``delete_unnamed_relationships`` then the upsert) also deletes a start
node's links that its new rows no longer name: a person's old phone, say.

Unique keys are the adapter's job, not a ``PRIMARY KEY``'s: one writer per process (a lock in
``DuckDBStore``) and one process per file make the anti-join insert sufficient.
"""

from __future__ import annotations

import contextlib
import json
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from graph import writesteps
from graph.arguments import check_batch_size
from graph.duckdb.schema import SQL_TYPES, node_table, quote, rel_table
from graph.errors import InputError, SchemaError
from graph.model import NodeType, Prop, RelType, node_type, rel_type
from graph.port import Rows
from graph.writesteps import ReplaceRelationships, UpsertNodes, UpsertRelationships, WriteStep

_ROWNUM = "__medfraud_rn"


def to_arrow(rows: Rows, props: Sequence[Prop], what: str) -> pa.Table:
    """Accept a DataFrame or an Arrow table; JSON properties given as Python objects become text."""
    if isinstance(rows, pa.Table):
        return rows
    if not isinstance(rows, pd.DataFrame):
        raise InputError(f"{what}: rows must be a pandas DataFrame or an Arrow table, "
                         f"not {type(rows).__name__}")
    json_cols = {p.name for p in props if p.type == "json"}
    frame = rows
    for col in json_cols & set(map(str, frame.columns)):
        if frame[col].dtype == object:
            if frame is rows:
                frame = rows.copy(deep=False)
            frame[col] = frame[col].map(_json_text)
    arrays: dict[str, pa.Array | pa.ChunkedArray] = {}
    for col in frame.columns:
        try:
            arrays[str(col)] = pa.array(frame[col], from_pandas=True)
        except (pa.ArrowInvalid, pa.ArrowTypeError) as exc:
            raise InputError(f"{what}: column {col!r} mixes incompatible values ({exc})",
                             column=str(col)) from exc
    return pa.table(arrays) if arrays else pa.table({})


def _json_text(value: object) -> object:
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, float) and np.isnan(value):
        return None
    return json.dumps(value, ensure_ascii=False, default=str)


def batches(table: pa.Table, batch_size: int | None) -> Iterator[pa.Table]:
    check_batch_size(batch_size)
    if batch_size is None or batch_size >= table.num_rows:
        yield table
        return
    for offset in range(0, table.num_rows, batch_size):
        yield table.slice(offset, batch_size)


def _cast(column: str, prop: Prop, arrow_type: pa.DataType) -> str:
    col = quote(column)
    if prop.type == "json" and not (pa.types.is_string(arrow_type) or pa.types.is_large_string(arrow_type)
                                    or pa.types.is_null(arrow_type)):
        return f"CAST(to_json({col}) AS VARCHAR) AS {col}"
    return f"CAST({col} AS {SQL_TYPES[prop.type]}) AS {col}"


class _View:
    """An Arrow batch registered on a cursor under a unique name, unregistered on exit."""

    def __init__(self, cur: duckdb.DuckDBPyConnection, table: pa.Table) -> None:
        self.cur = cur
        self.table = table
        self.name = f"__in_{uuid.uuid4().hex}"

    def __enter__(self) -> str:
        self.cur.register(self.name, self.table)
        return self.name

    def __exit__(self, *exc: object) -> None:
        # after a failed statement the transaction is aborted and unregistering fails too;
        # the original error matters, and the view dies with the cursor anyway
        with contextlib.suppress(duckdb.Error):
            self.cur.unregister(self.name)


def _scalar(cur: duckdb.DuckDBPyConnection, sql: str, params: Sequence[Any] | None = None) -> int:
    # fetchall, not fetchone: DuckDB refuses further work on a cursor with an unfinished result
    rows = cur.execute(sql, params).fetchall() if params else cur.execute(sql).fetchall()
    return int(rows[0][0]) if rows and rows[0][0] is not None else 0


def _has_duplicates(cur: duckdb.DuckDBPyConnection, view: str, key_cols: Sequence[str]) -> bool:
    cols = ", ".join(quote(c) for c in key_cols)
    # Grouping 64-bit hashes is cheap; DuckDB's string hash does collide now and then (one pair
    # among the 700,000 bank accounts of a million-person city), so a hit is confirmed on the keys.
    rows = quote(view)
    return _scalar(cur, f"SELECT count(*) FROM (SELECT hash({cols}) AS h FROM {rows} "
                        f"GROUP BY h HAVING count(*) > 1)") > 0 and _scalar(
        cur, f"SELECT count(*) FROM (SELECT {cols} FROM {rows} GROUP BY {cols} HAVING count(*) > 1)") > 0


def _dedupe_source(view: str, key_cols: Sequence[str], select_cols: str) -> str:
    keys = ", ".join(quote(c) for c in key_cols)
    return (f"SELECT {select_cols} FROM {quote(view)} "
            f"QUALIFY row_number() OVER (PARTITION BY {keys} ORDER BY {_ROWNUM} DESC) = 1")


def _with_rownum(table: pa.Table) -> pa.Table:
    return table.append_column(_ROWNUM, pa.array(np.arange(table.num_rows, dtype=np.int64)))


def _write(cur: duckdb.DuckDBPyConnection, target: str, source_sql: str, key_cols: Sequence[str],
           cols: Sequence[str], update_cols: Sequence[str], *, costly: bool = False) -> int:
    """Insert or update ``source_sql``'s rows (already unique on ``key_cols``) into ``target``.

    An empty target takes the rows straight away. Otherwise the source is matched against the
    target once; a ``costly`` source (a de-duplication window, an endpoint filter) is staged in a
    temporary table first, so that it is computed once, not once per step. A plain cast of the
    input costs less to read twice than to stage.
    """
    tgt = quote(target)
    col_list = ", ".join(quote(c) for c in cols)
    on = " AND ".join(f"t.{quote(k)} = s.{quote(k)}" for k in key_cols)
    if _scalar(cur, f"SELECT count(*) FROM {tgt}") == 0:
        return _scalar(cur, f"INSERT INTO {tgt} ({col_list}) SELECT {col_list} FROM ({source_sql})")
    stage: str | None = None
    try:
        if costly:
            stage = f"__stage_{uuid.uuid4().hex}"
            cur.execute(f"CREATE TEMP TABLE {quote(stage)} AS {source_sql}")
            source_sql = f"SELECT * FROM {quote(stage)}"
        keys = ", ".join(quote(k) for k in key_cols)
        matched = _scalar(cur, f"SELECT count(*) FROM (SELECT {keys} FROM ({source_sql})) s "
                               f"SEMI JOIN {tgt} t ON {on}")
        if matched == 0:
            return _scalar(cur, f"INSERT INTO {tgt} ({col_list}) SELECT {col_list} FROM ({source_sql})")
        if stage is None:
            stage = f"__stage_{uuid.uuid4().hex}"
            cur.execute(f"CREATE TEMP TABLE {quote(stage)} AS {source_sql}")
        written = 0
        if update_cols:
            sets = ", ".join(f"{quote(c)} = s.{quote(c)}" for c in update_cols)
            where = " AND ".join(f"{tgt}.{quote(k)} = s.{quote(k)}" for k in key_cols)
            written += _scalar(cur, f"UPDATE {tgt} SET {sets} FROM {quote(stage)} s WHERE {where}")
        else:
            written += matched
        written += _scalar(
            cur, f"INSERT INTO {tgt} ({col_list}) SELECT {col_list} FROM {quote(stage)} s "
                 f"ANTI JOIN {tgt} t ON {on}")
        return written
    finally:
        if stage is not None:
            with contextlib.suppress(duckdb.Error):
                cur.execute(f"DROP TABLE {quote(stage)}")


def check_node_columns(nt: NodeType, columns: Sequence[str]) -> None:
    """The port's one column check (graph/writesteps.py), so both adapters refuse alike."""
    writesteps.check_node_columns(nt.label, columns)


def upsert_nodes_batch(cur: duckdb.DuckDBPyConnection, nt: NodeType, table: pa.Table) -> int:
    """Upsert one batch of node rows; the caller holds the transaction."""
    if table.num_rows == 0:
        return 0
    key = table.column(nt.key)
    if key.null_count:
        raise InputError(f"{key.null_count} {nt.label} row(s) have no {nt.key}", column=nt.key)
    cols = list(table.column_names)
    casts = ", ".join(_cast(c, nt.prop(c), table.schema.field(c).type) for c in cols)
    with _View(cur, table) as view:
        if _has_duplicates(cur, view, [nt.key]):
            with _View(cur, _with_rownum(table)) as numbered:
                source = (f"SELECT {casts} FROM "
                          f"({_dedupe_source(numbered, [nt.key], '*')})")
                return _write(cur, node_table(nt.label), source, [nt.key], cols,
                              [c for c in cols if c != nt.key], costly=True)
        source = f"SELECT {casts} FROM {quote(view)}"
        return _write(cur, node_table(nt.label), source, [nt.key], cols, [c for c in cols if c != nt.key])


def check_rel_columns(rt: RelType, columns: Sequence[str]) -> None:
    writesteps.check_rel_columns(rt.type, columns)


@dataclass(frozen=True)
class _End:
    """How one end of a relationship batch is labelled and checked against the node tables.

    ``probes`` lists (label, filter on the input rows) pairs whose keys can be checked with one
    anti-join each; ``None`` when the label itself depends on which node exists, so only the
    ``exists`` filter can tell.
    """

    label_sql: str
    exists: str
    probes: tuple[tuple[str, str | None], ...] | None


def _end(cur: duckdb.DuckDBPyConnection, view: str, table: pa.Table, rt: RelType, end: str) -> _End:
    allowed = rt.start if end == "src" else rt.end
    col = f"{end}_label"
    key_col = quote(end)

    def member(lab: str) -> str:
        return f"{key_col} IN (SELECT {quote(node_type(lab).key)} FROM {quote(node_table(lab))})"

    if col in table.column_names:
        given = [str(r[0]) for r in cur.execute(
            f"SELECT DISTINCT CAST({quote(col)} AS VARCHAR) FROM {quote(view)}").fetchall()
            if r[0] is not None]
        bad = sorted(set(given) - set(allowed))
        if bad or (table.column(col).null_count and len(allowed) > 1):
            shown = ", ".join(bad) if bad else "(missing)"
            raise SchemaError(f"{rt.type}.{col} must be one of {', '.join(allowed)}; got {shown}")
        labels = [lab for lab in allowed if lab in given] or list(allowed[:1])
        if len(allowed) == 1:
            return _End(f"coalesce(CAST({quote(col)} AS VARCHAR), '{allowed[0]}')", member(allowed[0]),
                        ((allowed[0], None),))
        label_sql = f"CAST({quote(col)} AS VARCHAR)"
        if len(labels) == 1:  # one label in this batch (the loader's case): no per-row branching
            return _End(label_sql, member(labels[0]), ((labels[0], None),))
        exists = " OR ".join(f"({label_sql} = '{lab}' AND {member(lab)})" for lab in labels)
        return _End(label_sql, f"({exists})", tuple((lab, f"{label_sql} = '{lab}'") for lab in labels))
    if len(allowed) == 1:
        return _End(f"'{allowed[0]}'", member(allowed[0]), ((allowed[0], None),))
    # several labels possible and none given: the node that exists decides, in model order
    cases = " ".join(f"WHEN {member(lab)} THEN '{lab}'" for lab in allowed)
    label_sql = f"(CASE {cases} END)"
    return _End(label_sql, f"{label_sql} IS NOT NULL", None)


def _probe_end(cur: duckdb.DuckDBPyConnection, view: str, end: str, e: _End, rows: int) -> tuple[bool, bool]:
    """(every row's endpoint exists, the end's keys are unique in the batch), by joins, not a filter.

    Far cheaper than filtering inside the insert: an ``IN (SELECT key ...)`` filter is evaluated
    in the insert's pipeline, a count over a join runs fully parallel and usually says "all".
    When the node tables hold at least as many nodes as the batch has rows, counting the nodes
    the batch names (node keys are unique) answers both questions at once: as many as there are
    rows means every endpoint exists and no two rows share it — then the batch needs no duplicate
    check either. Otherwise an anti-join counts the rows whose endpoint is missing.
    """
    if e.probes is None:
        return False, False
    keyed = []
    for label, where in e.probes:
        nt = node_type(label)
        keys = f"SELECT CAST({quote(end)} AS VARCHAR) AS k FROM {quote(view)}" + (
            f" WHERE {where}" if where else "")
        keyed.append((quote(node_table(label)), quote(nt.key), keys))
    if sum(_scalar(cur, f"SELECT count(*) FROM {table}") for table, _, _ in keyed) >= rows and sum(
            _scalar(cur, f"SELECT count(*) FROM {table} n SEMI JOIN ({keys}) v ON n.{key} = v.k")
            for table, key, keys in keyed) == rows:
        return True, True
    missing = any(_scalar(cur, f"SELECT count(*) FROM ({keys}) v ANTI JOIN {table} n ON v.k = n.{key}")
                  for table, key, keys in keyed)
    return not missing, False


def upsert_relationships_batch(cur: duckdb.DuckDBPyConnection, rt: RelType, table: pa.Table) -> int:
    """Upsert one batch of relationship rows whose endpoints exist; the caller holds the transaction."""
    if table.num_rows == 0:
        return 0
    for end in ("src", "dst"):
        if table.column(end).null_count:
            raise InputError(f"{table.column(end).null_count} {rt.type} row(s) have no {end}", column=end)
    props = [c for c in table.column_names if c in rt.prop_names]
    prop_casts = [_cast(c, next(p for p in rt.props if p.name == c), table.schema.field(c).type)
                  for c in props]
    with _View(cur, table) as view:
        src = _end(cur, view, table, rt, "src")
        dst = _end(cur, view, table, rt, "dst")
        select = ", ".join([
            "CAST(src AS VARCHAR) AS src", "CAST(dst AS VARCHAR) AS dst",
            f"{src.label_sql} AS src_label", f"{dst.label_sql} AS dst_label", *prop_casts])
        src_exist, src_unique = _probe_end(cur, view, "src", src, table.num_rows)
        dst_exist, dst_unique = _probe_end(cur, view, "dst", dst, table.num_rows)
        checked = src_exist and dst_exist
        where = "" if checked else f" WHERE {src.exists} AND {dst.exists}"
        labelled = f"SELECT {select} FROM {{source}}{where}"
        identity = ["src", "dst", "src_label", "dst_label"]
        cols = [*identity, *props]
        key_in_input = [c for c in identity if c in table.column_names]
        if not (src_unique or dst_unique) and _has_duplicates(cur, view, key_in_input):
            with _View(cur, _with_rownum(table)) as numbered:
                inner = labelled.format(source=quote(numbered)).replace(
                    f"SELECT {select}", f"SELECT {select}, {_ROWNUM}", 1)
                source = (f"SELECT {', '.join(quote(c) for c in cols)} FROM ({inner}) "
                          f"QUALIFY row_number() OVER (PARTITION BY src, dst, src_label, dst_label "
                          f"ORDER BY {_ROWNUM} DESC) = 1")
                return _write(cur, rel_table(rt.type), source, identity, cols, props, costly=True)
        return _write(cur, rel_table(rt.type), labelled.format(source=quote(view)), identity, cols, props,
                      costly=not checked)


def source_keys(rt: RelType, sources: Sequence[str] | pa.Array | pa.ChunkedArray) -> pa.Table:
    """The start keys of a replacement, as a one-column table ``k``."""
    if len(rt.start) != 1:
        raise SchemaError(f"{rt.type} starts at {' or '.join(rt.start)}: replacing its relationships "
                          "needs a relationship type with one start label")
    if isinstance(sources, pa.ChunkedArray):
        keys = sources.combine_chunks() if sources.num_chunks else pa.array([], pa.string())
    elif isinstance(sources, pa.Array):
        keys = sources
    else:
        keys = pa.array([str(k) for k in sources], pa.string())
    keys = pc.drop_null(keys.cast(pa.string()))
    return pa.table({"k": keys})


def delete_unnamed_relationships(cur: duckdb.DuckDBPyConnection, rt: RelType, starts: pa.Table,
                                 table: pa.Table) -> int:
    """Delete the relationships of ``rt`` leaving ``starts`` that ``table`` does not name.

    Links that stay the same are kept rather than deleted and inserted again; the caller then
    upserts ``table`` in the same transaction.
    """
    tgt = quote(rel_table(rt.type))
    if starts.num_rows == 0 or _scalar(cur, f"SELECT count(*) FROM {tgt}") == 0:
        return 0  # nothing to replace (a first load)
    where = f"t.src_label = '{rt.start[0]}' AND t.src IN (SELECT k FROM {{starts}})"
    with _View(cur, starts) as starts_view:
        if table.num_rows == 0:
            return _scalar(cur, f"DELETE FROM {tgt} AS t WHERE {where.format(starts=quote(starts_view))}")
        with _View(cur, table) as view:
            dst = _end(cur, view, table, rt, "dst")
            named = (f"SELECT CAST(src AS VARCHAR) AS src, CAST(dst AS VARCHAR) AS dst, "
                     f"{dst.label_sql} AS dst_label FROM {quote(view)}")
            return _scalar(
                cur, f"DELETE FROM {tgt} AS t WHERE {where.format(starts=quote(starts_view))} "
                     f"AND NOT EXISTS (SELECT 1 FROM ({named}) n "
                     f"WHERE n.src = t.src AND n.dst = t.dst AND n.dst_label = t.dst_label)")


def prepared_step(step: WriteStep) -> WriteStep:
    """A step whose rows are an Arrow table with the model's types (what the ``_tx`` methods take)."""
    if isinstance(step, UpsertNodes):
        return UpsertNodes(step.label, to_arrow(step.rows, node_type(step.label).props, step.label))
    if isinstance(step, UpsertRelationships | ReplaceRelationships):
        table = to_arrow(step.rows, rel_type(step.rel_type).props, step.rel_type)
        if isinstance(step, UpsertRelationships):
            return UpsertRelationships(step.rel_type, table)
        return ReplaceRelationships(step.rel_type, step.sources, table)
    return step
