"""An in-memory adjacency index of the data relationships, for interactive one-hop expansion.

Why it exists: DuckDB is a column store. It answers "the relationships of these few nodes" with ART
index probes into each relationship table, paying query planning per call and per IN-list key:
5-40 ms a call on a 1,000,000-person city (6M claims), and a network picture needs two or three
calls. The API server asks this question on every request, so the store keeps every non-derived
relationship twice in memory — by source and by target — as integer arrays sorted by
(node, date descending, neighbour): one hop becomes array slicing.

Layout: every endpoint node gets a dense integer id, labels in name order and keys in byte order
within a label (so id order is key order within a label, which is the store's tie-break order).
Per direction: ``ptr`` (CSR offsets, one per node), and per relationship ``nbr`` (the other end's
id), ``typ`` (type code, types in name order) and ``day`` (days since 1970, ``NULL_DAY`` when the
relationship is undated). Keys are kept as fixed-width byte arrays per label for lookups both
ways. About 0.7 GB for a 1,000,000-person city; ``MEDFRAUD_DUCKDB_READ_INDEX=false`` turns it off.

The answers are exactly those of the SQL expansion in ``duckdb_reads`` (same relationships, same
order, same counts left out): the tests compare the two on a generated city.
"""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta

import duckdb
import numpy as np
import pyarrow as pa

from graph.duckdb.schema import node_table, quote, rel_table
from graph.model import Node, NodeRef, RelType, node_type
from graph.records import typed_props
from graph.serving.nodecolumns import NodeColumns, fixed_width, positions_of

NULL_DAY = int(np.iinfo(np.int32).min)
EPOCH = date(1970, 1, 1)

# (seed label, seed key, type, outgoing, neighbour label, neighbour key, date, total) — the row
# shape of the SQL expansion, so both paths share their post-processing
Row = tuple[str, str, str, bool, str, str, date | None, int]


class IndexUnusable(Exception):
    """The store's data cannot be indexed faithfully (e.g. an unexpected key order)."""


def indexable(rt: RelType) -> bool:
    """Data relationships whose only property is their date: what the index can answer for."""
    return not rt.derived and set(rt.prop_names) <= {"date"}


@dataclass(frozen=True)
class _Side:
    """One direction of the adjacency: CSR offsets and the relationships in index order."""

    ptr: np.ndarray
    nbr: np.ndarray
    typ: np.ndarray
    day: np.ndarray

    @property
    def nbytes(self) -> int:
        return int(self.ptr.nbytes + self.nbr.nbytes + self.typ.nbytes + self.day.nbytes)


@dataclass(frozen=True)
class AdjacencyIndex:
    labels: tuple[str, ...]
    starts: np.ndarray  # int64: first id of each label, plus the total
    keys: dict[str, np.ndarray]
    types: tuple[str, ...]
    out: _Side
    inn: _Side
    # full node rows of some labels, in key order (see duckdb_nodecolumns)
    rows: dict[str, NodeColumns] = field(default_factory=dict)

    @property
    def nbytes(self) -> int:
        return (self.out.nbytes + self.inn.nbytes + sum(int(k.nbytes) for k in self.keys.values())
                + sum(r.nbytes for r in self.rows.values()))

    # -- building ------------------------------------------------------------------------------
    @classmethod
    def build(cls, cur: duckdb.DuckDBPyConnection, rel_types: Sequence[RelType],
              row_labels: Sequence[str] = ()) -> AdjacencyIndex:
        """Read the relationships of ``rel_types`` (all indexable) and their endpoints' keys.

        The whole rows of ``row_labels`` (endpoint labels) are kept too, for reads by key. All
        reads happen in one transaction, so keys, rows and relationships are one snapshot.
        """
        cur.execute("BEGIN TRANSACTION")
        try:
            return cls._build(cur, rel_types, row_labels)
        finally:
            with contextlib.suppress(duckdb.Error):  # read only: nothing to keep
                cur.execute("ROLLBACK")

    @classmethod
    def _build(cls, cur: duckdb.DuckDBPyConnection, rel_types: Sequence[RelType],
               row_labels: Sequence[str]) -> AdjacencyIndex:
        types = tuple(sorted(rt.type for rt in rel_types))
        by_type = {rt.type: rt for rt in rel_types}
        labels = tuple(sorted({lab for rt in rel_types for lab in (*rt.start, *rt.end)}))
        keys: dict[str, np.ndarray] = {}
        rows: dict[str, NodeColumns] = {}
        starts = [0]
        for label in labels:
            nt = node_type(label)
            sql = f"SELECT {quote(nt.key)} FROM {quote(node_table(label))} ORDER BY 1"
            fixed = fixed_width(cur.sql(sql).to_arrow_table().column(0))
            if len(fixed) > 1 and not bool(np.all(fixed[1:] > fixed[:-1])):
                raise IndexUnusable(f"{label} keys are not unique in byte order")
            if label in row_labels:
                # the rows in the table's own order (sorting wide rows would cost DuckDB gigabytes),
                # placed by where each key sits in the sorted keys
                reader = cur.sql(f"SELECT * FROM {quote(node_table(label))}").to_arrow_reader(500_000)
                held = NodeColumns.from_batches(label, reader.schema, reader)
                stored = fixed_width(pa.chunked_array([held.column(nt.key)]))
                try:
                    rows[label] = held.ordered_by(fixed, stored)
                except ValueError as exc:
                    raise IndexUnusable(str(exc)) from exc
            keys[label] = fixed
            starts.append(starts[-1] + len(fixed))
        ix = "__adjacency_ids"
        edges = "__adjacency_edges"
        try:
            cur.execute(f"CREATE OR REPLACE TEMP TABLE {ix} AS " + " UNION ALL ".join(
                f"SELECT '{label}' AS label, {key} AS key, "
                f"({starts[i]} + row_number() OVER (ORDER BY {key}) - 1)::INTEGER AS id "
                f"FROM {quote(node_table(label))}"
                for i, label in enumerate(labels) for key in [quote(node_type(label).key)]))
            parts = []
            for code, name in enumerate(types):
                # parenthesised: -2147483648::INTEGER would cast before negating, and overflow
                day = (f"coalesce((date - DATE '1970-01-01')::INTEGER, ({NULL_DAY}))"
                       if by_type[name].dated else f"({NULL_DAY})")
                parts.append(f"SELECT src_label, src, dst_label, dst, {code}::TINYINT AS typ, "
                             f"{day}::INTEGER AS day FROM {quote(rel_table(name))}")
            cur.execute(
                f"CREATE OR REPLACE TEMP TABLE {edges} AS SELECT a.id AS s, b.id AS d, r.typ, r.day "
                f"FROM ({' UNION ALL '.join(parts)}) r "
                f"JOIN {ix} a ON a.label = r.src_label AND a.key = r.src "
                f"JOIN {ix} b ON b.label = r.dst_label AND b.key = r.dst")
            n_nodes = starts[-1]
            out = cls._side(cur, edges, "s", "d", n_nodes)
            inn = cls._side(cur, edges, "d", "s", n_nodes)
        finally:
            cur.execute(f"DROP TABLE IF EXISTS {edges}")
            cur.execute(f"DROP TABLE IF EXISTS {ix}")
        return cls(labels, np.asarray(starts, dtype=np.int64), keys, types, out, inn, rows)

    @staticmethod
    def _side(cur: duckdb.DuckDBPyConnection, edges: str, node: str, nbr: str, n_nodes: int) -> _Side:
        # the store's tie-break after the date is the neighbour's key then label then type: the
        # id order gives it within a label; mixed labels are settled exactly at query time
        got = cur.execute(f"SELECT {node} AS node, {nbr} AS nbr, typ, day FROM {edges} "
                          f"ORDER BY node, day DESC, nbr, typ").fetchnumpy()
        nodes = np.asarray(got["node"], dtype=np.int64)
        ptr = np.zeros(n_nodes + 1, dtype=np.int64)
        np.cumsum(np.bincount(nodes, minlength=n_nodes), out=ptr[1:])
        return _Side(ptr, np.asarray(got["nbr"], dtype=np.int32), np.asarray(got["typ"], dtype=np.int8),
                     np.asarray(got["day"], dtype=np.int32))

    # -- lookups -------------------------------------------------------------------------------
    def covers(self, rel_types: Sequence[str]) -> bool:
        return set(rel_types) <= set(self.types)

    def get_nodes(self, label: str, keys: Sequence[str]) -> list[Node] | None:
        """Nodes by key from the held rows (order asked, absent left out); None: not held."""
        held = self.rows.get(label)
        if held is None:
            return None
        wanted = list(dict.fromkeys(str(k) for k in keys))
        positions, found = positions_of(self.keys[label], wanted)
        return [Node(label, wanted[i], typed_props(label, props))
                for i, props in zip(found, held.rows(positions), strict=True)]

    def ids(self, refs: Sequence[NodeRef]) -> np.ndarray:
        """Each ref's id, or -1 when the node has no place in the index."""
        out = np.full(len(refs), -1, dtype=np.int64)
        by_label: dict[str, list[int]] = {}
        for i, r in enumerate(refs):
            by_label.setdefault(r.label, []).append(i)
        for label, where in by_label.items():
            if label not in self.keys:
                continue
            positions, found = positions_of(self.keys[label], [refs[i].key for i in where])
            base = self.starts[self.labels.index(label)]
            out[np.asarray(where, dtype=np.int64)[found]] = base + positions
        return out

    def label_of(self, ids: np.ndarray) -> np.ndarray:
        return np.searchsorted(self.starts, ids, side="right") - 1

    def key_of(self, label_code: int, node_id: int) -> str:
        local = node_id - int(self.starts[label_code])
        return bytes(self.keys[self.labels[label_code]][local]).decode()

    # -- expansion -----------------------------------------------------------------------------
    def expand(self, seeds: Sequence[NodeRef], *, rel_types: Sequence[str], labels: set[str] | None,
               since: date | None, until: date | None, cap: int,
               outgoing: bool, incoming: bool) -> tuple[list[Row], dict[NodeRef, int]]:
        """Rows of the one-hop expansion (at most ``cap`` per seed) and each seed's total.

        Same rows, order and totals as the SQL expansion: per seed by date descending (undated
        last), then neighbour key, label and type.
        """
        seeds = sorted(dict.fromkeys(seeds), key=lambda r: (r.label, r.key))
        ids = self.ids(seeds)
        present = ids >= 0
        seeds = [s for s, p in zip(seeds, present, strict=True) if p]
        ids = ids[present]
        if not seeds:
            return [], {}
        type_ok = np.zeros(len(self.types), dtype=bool)
        type_ok[[self.types.index(t) for t in rel_types]] = True
        label_ok = None
        if labels is not None:
            label_ok = np.array([lab in labels for lab in self.labels], dtype=bool)
        since_d = (since - EPOCH).days if since is not None else None
        until_d = (until - EPOCH).days if until is not None else None
        parts: list[tuple[np.ndarray, ...]] = []
        for side, flag in ((self.out, outgoing), (self.inn, incoming)):
            if not flag:
                continue
            lo, hi = side.ptr[ids], side.ptr[ids + 1]
            lens = hi - lo
            total = int(lens.sum())
            if total == 0:
                continue
            seed_ix = np.repeat(np.arange(len(ids)), lens)
            pos = np.arange(total) + np.repeat(lo - np.concatenate(([0], np.cumsum(lens)[:-1])), lens)
            nbr, typ, day = side.nbr[pos], side.typ[pos], side.day[pos]
            keep = type_ok[typ]
            if since_d is not None:
                keep &= (day == NULL_DAY) | (day >= since_d)
            if until_d is not None:
                keep &= (day == NULL_DAY) | (day <= until_d)
            if label_ok is not None:
                keep &= label_ok[self.label_of(nbr)]
            flags = np.full(int(keep.sum()), side is self.out, dtype=bool)
            parts.append((seed_ix[keep], nbr[keep], typ[keep], day[keep], flags))
        if not parts:
            return [], {}
        seed_ix, nbr, typ, day, out_flag = (np.concatenate(cols) for cols in zip(*parts, strict=True))
        if len(parts) > 1:
            # both directions: merge into the per-seed order of a single side
            order = np.lexsort((typ, nbr, -day.astype(np.int64), seed_ix))
            seed_ix, nbr, typ, day, out_flag = (a[order] for a in (seed_ix, nbr, typ, day, out_flag))
        counts = np.bincount(seed_ix, minlength=len(seeds))
        totals = {seeds[i]: int(c) for i, c in enumerate(counts) if c}
        group_start = np.concatenate(([0], np.cumsum(counts)[:-1]))
        rank = np.arange(len(seed_ix)) - group_start[seed_ix]
        chosen = np.flatnonzero(rank < cap)
        nb_label = self.label_of(nbr)
        settled: dict[int, list[int]] = {}
        for i in np.flatnonzero(counts > cap).tolist() if cap > 0 else []:
            kept = self._settle_ties(int(group_start[i]), int(counts[i]), cap, nbr, typ, day, nb_label)
            if kept is not None:
                settled[i] = kept
        if settled:
            chosen = np.concatenate([chosen[~np.isin(seed_ix[chosen], list(settled))],
                                     *(np.asarray(kept, dtype=np.int64) for kept in settled.values())])
        rows: list[Row] = []
        for j in chosen.tolist():
            seed = seeds[int(seed_ix[j])]
            lab = int(nb_label[j])
            d = int(day[j])
            rows.append((seed.label, seed.key, self.types[int(typ[j])], bool(out_flag[j]), self.labels[lab],
                         self.key_of(lab, int(nbr[j])), None if d == NULL_DAY else EPOCH + timedelta(days=d),
                         int(counts[seed_ix[j]])))
        rows.sort(key=lambda r: (r[0], r[1], -(r[6] - EPOCH).days if r[6] else 1 << 40, r[5], r[4], r[2]))
        return rows, totals

    def _settle_ties(self, start: int, count: int, cap: int, nbr: np.ndarray, typ: np.ndarray,
                     day: np.ndarray, nb_label: np.ndarray) -> list[int] | None:
        """Positions to keep for a seed whose cut falls inside a run of equal dates of mixed labels.

        The id order breaks date ties by key only within one label; across labels the keys are
        compared here. None when the id order already gives the right cut.
        """
        last, first_out = start + cap - 1, start + cap
        if day[last] != day[first_out]:
            return None
        same = np.flatnonzero(day[start:start + count] == day[last]) + start
        if np.unique(nb_label[same]).size == 1:
            return None
        ties = sorted(same.tolist(), key=lambda j: (self.key_of(int(nb_label[j]), int(nbr[j])),
                                                    self.labels[int(nb_label[j])], self.types[int(typ[j])]))
        before = list(range(start, int(same[0])))
        return before + ties[:cap - len(before)]

    def degrees(self, refs: Sequence[NodeRef], rel_types: Sequence[str]) -> dict[NodeRef, int]:
        result = dict.fromkeys(refs, 0)
        ids = self.ids(list(refs))
        type_ok = np.zeros(len(self.types), dtype=bool)
        type_ok[[self.types.index(t) for t in rel_types]] = True
        for ref, node_id in zip(refs, ids.tolist(), strict=True):
            if node_id < 0:
                continue
            n = 0
            for side in (self.out, self.inn):
                lo, hi = int(side.ptr[node_id]), int(side.ptr[node_id + 1])
                n += int(type_ok[side.typ[lo:hi]].sum())
            result[ref] = n
        return result
