"""A label's node rows held in memory column by column, in key order, for reads by key.

Why: DuckDB fetches a row by key with an index probe plus a decompression per column, tens of
microseconds a key: a 300-claim picture spends 15-20 ms there, most of a first view's time. The
API server keeps the rows of the labels a picture draws next to the adjacency index (same key
order, so a node's position there is its row here): 300 rows then cost well under a millisecond.

Columns with few distinct values (a claim's scheme, payer, clinic, source file) are held as
integer codes into a list of their values: a third of the memory of the plain column and much
faster to turn back into Python values than Arrow's dictionary arrays. Other columns stay Arrow
arrays in one chunk. Values come back exactly as the SQL read gives them (``None`` dropped).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

# a string column is coded when it has at most one distinct value per this many rows
CODED_RATIO = 4
# keys are converted to fixed-width bytes this many at a time (bounded memory)
_KEY_CHUNK = 500_000


def fixed_width(keys: pa.ChunkedArray) -> np.ndarray:
    """UTF-8 keys as one numpy ``S<width>`` array (compares bytewise, like DuckDB's VARCHAR)."""
    arr = keys.combine_chunks().cast(pa.binary())
    n = len(arr)
    if n == 0:
        return np.zeros(0, dtype="S1")
    offsets = np.frombuffer(arr.buffers()[1], dtype=np.int32)[arr.offset:arr.offset + n + 1]
    data = np.frombuffer(arr.buffers()[2], dtype=np.uint8)
    lengths = np.diff(offsets)
    width = max(int(lengths.max()), 1)
    out = np.zeros((n, width), dtype=np.uint8)
    for lo in range(0, n, _KEY_CHUNK):
        hi = min(lo + _KEY_CHUNK, n)
        lens = lengths[lo:hi]
        rows = np.repeat(np.arange(lo, hi), lens)
        starts = np.repeat(offsets[lo:hi], lens)
        cols = np.arange(offsets[lo], offsets[hi]) - starts
        out[rows, cols] = data[offsets[lo]:offsets[hi]]
    return out.view(f"S{width}").ravel()




@dataclass(frozen=True)
class _Coded:
    codes: np.ndarray  # int32, -1 for null
    values: list[object]

    @property
    def nbytes(self) -> int:
        return int(self.codes.nbytes) + sum(len(str(v)) + 50 for v in self.values)

    def take(self, positions: np.ndarray) -> list[object]:
        values = self.values
        return [values[c] if c >= 0 else None for c in self.codes[positions].tolist()]


@dataclass(frozen=True)
class _Plain:
    array: pa.Array

    @property
    def nbytes(self) -> int:
        return int(self.array.nbytes)

    def take(self, positions: np.ndarray) -> list[object]:
        result: list[object] = self.array.take(pa.array(positions)).to_pylist()
        return result


class _ColumnBuilder:
    """Accumulates one column batch by batch; strings are coded while few values repeat a lot.

    Batches are coded against one growing dictionary, so a million-row table never exists twice
    in memory (as Arrow and as codes) while it is read.
    """

    def __init__(self, type_: pa.DataType) -> None:
        self.type = type_
        self.coding = pa.types.is_string(type_) or pa.types.is_large_string(type_)
        self.lookup: dict[object, int] = {}
        self.values: list[object] = []
        self.codes: list[np.ndarray] = []
        self.chunks: list[pa.Array] = []
        self.rows = 0

    def add(self, col: pa.Array) -> None:
        self.rows += len(col)
        if self.coding:
            local = pc.dictionary_encode(col)
            mapping = np.empty(len(local.dictionary) + 1, dtype=np.int32)
            for i, value in enumerate(local.dictionary.to_pylist()):
                code = self.lookup.get(value)
                if code is None:
                    code = self.lookup[value] = len(self.values)
                    self.values.append(value)
                mapping[i] = code
            mapping[-1] = -1  # null
            indices = pc.fill_null(local.indices, len(local.dictionary)).to_numpy(zero_copy_only=False)
            self.codes.append(mapping[indices])
            if len(self.values) * CODED_RATIO > self.rows and self.rows >= 10_000:
                self._uncode()  # mostly distinct values: plain text is smaller
        else:
            self.chunks.append(col)

    def _uncode(self) -> None:
        values = pa.array(self.values, type=self.type)
        for codes in self.codes:
            self.chunks.append(pc.take(values, pa.array(codes, mask=codes < 0, type=pa.int32())))
        self.coding, self.codes, self.values, self.lookup = False, [], [], {}

    def finish(self) -> _Coded | _Plain:
        if self.coding:
            codes = np.concatenate(self.codes) if self.codes else np.zeros(0, dtype=np.int32)
            return _Coded(codes, self.values)
        if not self.chunks:
            return _Plain(pa.array([], type=self.type))
        return _Plain(pa.concat_arrays(self.chunks))


@dataclass(frozen=True)
class NodeColumns:
    label: str
    names: tuple[str, ...]
    columns: tuple[_Coded | _Plain, ...]
    # the stored row of each position in key order (None: stored in key order)
    row_of: np.ndarray | None = None

    def ordered_by(self, sorted_keys: np.ndarray, stored_keys: np.ndarray) -> NodeColumns:
        """The same rows addressed by position in ``sorted_keys`` (both fixed-width key arrays)."""
        if len(sorted_keys) != len(stored_keys):
            raise ValueError(f"{self.label}: {len(stored_keys)} rows but {len(sorted_keys)} keys")
        if len(sorted_keys) == 0:
            return NodeColumns(self.label, self.names, self.columns, np.zeros(0, dtype=np.int64))
        probe = stored_keys.astype(sorted_keys.dtype)
        where = np.minimum(np.searchsorted(sorted_keys, probe), len(sorted_keys) - 1)
        if not bool(np.all(sorted_keys[where] == probe)):
            raise ValueError(f"{self.label}: the rows and the sorted keys differ")
        row_of = np.empty(len(sorted_keys), dtype=np.int64)
        row_of[where] = np.arange(len(stored_keys), dtype=np.int64)
        return NodeColumns(self.label, self.names, self.columns, row_of)

    @classmethod
    def from_batches(cls, label: str, schema: pa.Schema, batches: Iterable[pa.RecordBatch]) -> NodeColumns:
        """Build from record batches in key order (a stream: the whole table is never held twice)."""
        builders = [_ColumnBuilder(f.type) for f in schema]
        for batch in batches:
            for builder, col in zip(builders, batch.columns, strict=True):
                builder.add(col)
        return cls(label, tuple(schema.names), tuple(b.finish() for b in builders))

    @property
    def nbytes(self) -> int:
        return sum(c.nbytes for c in self.columns)

    def column(self, name: str) -> pa.Array:
        """One whole column as Arrow (the key column, to index the rows by)."""
        col = self.columns[self.names.index(name)]
        if isinstance(col, _Plain):
            return col.array
        return pc.take(pa.array(col.values), pa.array(col.codes, mask=col.codes < 0, type=pa.int32()))

    def rows(self, positions: np.ndarray) -> list[dict[str, object]]:
        """The property dicts of the rows at ``positions``, nulls left out as the store does."""
        if len(positions) == 0:
            return []
        if self.row_of is not None:
            positions = self.row_of[positions]
        values = [c.take(positions) for c in self.columns]
        names = self.names
        return [{n: v for n, v in zip(names, row, strict=True) if v is not None}
                for row in zip(*values, strict=True)]


def positions_of(keys: np.ndarray, wanted: Sequence[str]) -> tuple[np.ndarray, list[int]]:
    """Row positions of ``wanted`` keys in the sorted fixed-width ``keys``, and which were found."""
    if len(keys) == 0 or not wanted:
        return np.zeros(0, dtype=np.int64), []
    width = keys.dtype.itemsize
    encoded = [k.encode() for k in wanted]
    fits = [len(k) <= width for k in encoded]
    probe = np.array([k if f else b"" for k, f in zip(encoded, fits, strict=True)], dtype=keys.dtype)
    at = np.minimum(np.searchsorted(keys, probe), len(keys) - 1)
    hit = np.asarray(fits) & (keys[at] == probe)
    found = np.flatnonzero(hit)
    return at[found].astype(np.int64), found.tolist()
