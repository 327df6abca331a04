"""An in-memory adjacency index of the data relationships, for interactive one-hop expansion.

Why it exists: both stores answer "the relationships of these few nodes" with index probes and
per-call planning: 5-40 ms a call on DuckDB with a 1,000,000-person city, more over Bolt with Neo4j,
and a network picture needs two or three calls. The API server asks this question on every request,
so the serving layer keeps every non-derived relationship twice in memory — by source and by target
— as integer arrays sorted by (node, date descending, neighbour): one hop becomes array slicing.

Layout: every endpoint node gets a dense integer id, labels in name order and keys in byte order
within a label (so id order is key order within a label, which is the store's tie-break order).
Per direction: ``ptr`` (CSR offsets, one per node), and per relationship ``nbr`` (the other end's
id), ``typ`` (type code, types in name order) and ``day`` (days since 1970, ``NULL_DAY`` when the
relationship is undated). Keys are kept as fixed-width byte arrays per label for lookups both
ways. About 0.7 GB for a 1,000,000-person city; ``MEDFRAUD_READ_INDEX=false`` turns it off.

It is built from the port's streams alone (:meth:`graph.port.GraphStore.snapshot`), so it serves
either store. The answers are exactly those of the store's own expansion (same relationships, same
order, same counts left out): the tests compare the two on a generated city.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta

import numpy as np
import pyarrow as pa

from graph.model import Node, NodeRef, RelType, node_type
from graph.port import SnapshotReader
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
    # full node rows of some labels, in key order (see nodecolumns)
    rows: dict[str, NodeColumns] = field(default_factory=dict)
    # relationships left out because an end was not among the keys read (see build)
    dangling: int = 0

    @property
    def nbytes(self) -> int:
        return (self.out.nbytes + self.inn.nbytes + sum(int(k.nbytes) for k in self.keys.values())
                + sum(r.nbytes for r in self.rows.values()))

    # -- building ------------------------------------------------------------------------------
    @classmethod
    def build(cls, reader: SnapshotReader, rel_types: Sequence[RelType],
              row_labels: Sequence[str] = ()) -> AdjacencyIndex:
        """Read the relationships of ``rel_types`` (all indexable) and their endpoints' keys.

        The whole rows of ``row_labels`` (endpoint labels) are kept too, for reads by key. Every
        read goes through ``reader`` (the store's :meth:`~graph.port.GraphStore.snapshot`), so on a
        store that reads in one transaction keys, rows and relationships are one state; elsewhere
        the caller compares revisions before and after. A relationship whose end is not among the
        keys read (written in between) is left out and counted in ``dangling``.
        """
        types = tuple(sorted(rt.type for rt in rel_types))
        by_type = {rt.type: rt for rt in rel_types}
        labels = tuple(sorted({lab for rt in rel_types for lab in (*rt.start, *rt.end)}))
        keys: dict[str, np.ndarray] = {}
        rows: dict[str, NodeColumns] = {}
        starts = [0]
        for label in labels:
            nt = node_type(label)
            if label in row_labels:
                # the rows in the store's own order, placed by where each key sits in the sorted keys
                batches = reader.stream_nodes(label, batch_size=500_000)
                first = next(batches, None)
                schema = first.schema if first is not None else _schema_of(label)
                held = NodeColumns.from_batches(label, schema, _chain(first, batches))
                # an empty label's key column has no type yet (null): as text, like every key
                stored = fixed_width(pa.chunked_array([held.column(nt.key).cast(pa.string())]))
                fixed = np.sort(stored)
                _check_unique(label, fixed)
                try:
                    rows[label] = held.ordered_by(fixed, stored)
                except ValueError as exc:
                    raise IndexUnusable(str(exc)) from exc
            else:
                column = [b.column(0) for b in reader.stream_nodes(label, [nt.key], batch_size=1_000_000)]
                fixed = np.sort(fixed_width(pa.chunked_array(column, type=pa.string())))
                _check_unique(label, fixed)
            keys[label] = fixed
            starts.append(starts[-1] + len(fixed))
        label_base = {label: starts[i] for i, label in enumerate(labels)}
        src_parts: list[np.ndarray] = []
        dst_parts: list[np.ndarray] = []
        typ_parts: list[np.ndarray] = []
        day_parts: list[np.ndarray] = []
        dangling = 0
        for code, name in enumerate(types):
            rt = by_type[name]
            cols = ["src", "dst", "src_label", "dst_label", *(["date"] if rt.dated else [])]
            for batch in reader.stream_relationships(name, cols, batch_size=1_000_000):
                table = pa.Table.from_batches([batch])
                s = _ids(table, "src", keys, label_base)
                d = _ids(table, "dst", keys, label_base)
                ok = (s >= 0) & (d >= 0)
                dangling += int((~ok).sum())
                src_parts.append(s[ok].astype(np.int32))
                dst_parts.append(d[ok].astype(np.int32))
                typ_parts.append(np.full(int(ok.sum()), code, dtype=np.int8))
                if rt.dated:
                    days = table.column("date").cast(pa.date32()).cast(pa.int32())
                    day = days.fill_null(NULL_DAY).to_numpy()
                else:
                    day = np.full(table.num_rows, NULL_DAY, dtype=np.int32)
                day_parts.append(np.asarray(day, dtype=np.int32)[ok])
        src = np.concatenate(src_parts) if src_parts else np.zeros(0, dtype=np.int32)
        dst = np.concatenate(dst_parts) if dst_parts else np.zeros(0, dtype=np.int32)
        typ = np.concatenate(typ_parts) if typ_parts else np.zeros(0, dtype=np.int8)
        day = np.concatenate(day_parts) if day_parts else np.zeros(0, dtype=np.int32)
        n_nodes = starts[-1]
        out = cls._side(src, dst, typ, day, n_nodes)
        inn = cls._side(dst, src, typ, day, n_nodes)
        return cls(labels, np.asarray(starts, dtype=np.int64), keys, types, out, inn, rows, dangling)

    @staticmethod
    def _side(node: np.ndarray, nbr: np.ndarray, typ: np.ndarray, day: np.ndarray, n_nodes: int) -> _Side:
        # the store's tie-break after the date is the neighbour's key then label then type: the
        # id order gives it within a label; mixed labels are settled exactly at query time
        order = np.lexsort((typ, nbr, -day.astype(np.int64), node))
        ptr = np.zeros(n_nodes + 1, dtype=np.int64)
        np.cumsum(np.bincount(node, minlength=n_nodes), out=ptr[1:])
        return _Side(ptr, nbr[order], typ[order], day[order])

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


def _chain(first: pa.RecordBatch | None, rest: Iterator[pa.RecordBatch]) -> Iterable[pa.RecordBatch]:
    return rest if first is None else itertools.chain([first], rest)


def _schema_of(label: str) -> pa.Schema:
    """An empty label's columns (nothing was streamed to take them from)."""
    nt = node_type(label)
    return pa.schema([(name, pa.string()) for name in nt.prop_names])


def _check_unique(label: str, fixed: np.ndarray) -> None:
    if len(fixed) > 1 and not bool(np.all(fixed[1:] > fixed[:-1])):
        raise IndexUnusable(f"{label} keys are not unique in byte order")


def _ids(table: pa.Table, end: str, keys: dict[str, np.ndarray], base: dict[str, int]) -> np.ndarray:
    """Each row's ``end`` node id, -1 where that node is not among the keys read."""
    out = np.full(table.num_rows, -1, dtype=np.int64)
    key_col = table.column(end).cast(pa.string())
    label_col = table.column(f"{end}_label").cast(pa.string()).to_numpy(zero_copy_only=False)
    for label in np.unique(label_col).tolist():
        where = np.flatnonzero(label_col == label)
        sorted_keys = keys.get(str(label))
        if sorted_keys is None or len(sorted_keys) == 0:
            continue
        wanted = fixed_width(key_col.take(pa.array(where)))
        probe = wanted.astype(sorted_keys.dtype) if wanted.dtype.itemsize <= sorted_keys.dtype.itemsize \
            else None
        if probe is None:
            # longer than every key of the label: compare at the wider width
            probe, hay = wanted, sorted_keys.astype(wanted.dtype)
        else:
            hay = sorted_keys
        at = np.minimum(np.searchsorted(hay, probe), len(hay) - 1)
        hit = hay[at] == probe
        out[where[hit]] = base[str(label)] + at[hit]
    return out
