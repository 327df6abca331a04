"""Row validation and normalisation of one table, column by column with Arrow/numpy kernels.

Every check is a vectorised mask over the whole column; Python only runs per row to format the
reason text of rows that are rejected (few, and never the bulk of a load). A row keeps every
reason found, joined with ``; ``. Nothing is fixed silently: a value that normalisation cannot
turn into the contract's form is a reject, not a null.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta

import duckdb
import numpy as np
import numpy.typing as npt
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from ingest import normalise, reasons
from ingest.contract import (
    DEFAULT_DATE_GRACE_DAYS,
    EARLIEST_DATE,
    MAX_CLAIM_AMOUNT_YUAN,
    TABLES,
    Column,
    Table,
)
from ingest.idnumber import analyse
from ingest.readers import RawTable

BoolArray = npt.NDArray[np.bool_]
IntArray = npt.NDArray[np.int64]
_EPOCH = date(1970, 1, 1)


def _np_bool(arr: pa.Array | pa.ChunkedArray) -> BoolArray:
    return np.asarray(pc.fill_null(arr, False).to_numpy(zero_copy_only=False), dtype=bool)


def _values(arr: pa.Array | pa.ChunkedArray, idx: IntArray) -> list[str]:
    """Display text of the given rows (for reasons only)."""
    taken = pc.take(arr, pa.array(idx, pa.int64())).to_pylist()
    return ["" if v is None else (v.isoformat() if isinstance(v, date) else str(v)) for v in taken]


def _day_text(days: int) -> str:
    return (_EPOCH + timedelta(days=int(days))).isoformat()


def _cents_text(cents: int) -> str:
    sign = "-" if cents < 0 else ""
    c = abs(int(cents))
    return f"{sign}{c // 100}.{c % 100:02d}"


@dataclass
class RefContext:
    """Keys known to the store or loaded earlier in this ingest, for reference checks."""

    persons: pa.Array = field(default_factory=lambda: pa.array([], pa.string()))
    institution_ids: pa.Array = field(default_factory=lambda: pa.array([], pa.string()))
    institution_kinds: pa.Array = field(default_factory=lambda: pa.array([], pa.string()))
    doctors: pa.Array = field(default_factory=lambda: pa.array([], pa.string()))
    injury_cases: pa.Array = field(default_factory=lambda: pa.array([], pa.string()))
    # keys rejected in this ingest, per attribute: (keys, their lines, file name), so that a row
    # referring to one says where it went rather than "not found"
    rejected: dict[str, tuple[pa.Array, IntArray, str]] = field(default_factory=dict)

    def add_rejected(self, attr: str, keys: pa.Array | pa.ChunkedArray, lines: IntArray, file: str) -> None:
        empty = (pa.array([], pa.string()), np.zeros(0, np.int64), file)
        old_keys, old_lines, _ = self.rejected.get(attr, empty)
        self.rejected[attr] = (pa.concat_arrays([old_keys, _flat(keys)]),
                               np.concatenate([old_lines, lines]).astype(np.int64), file)

    def add(self, attr: str, keys: pa.Array | pa.ChunkedArray) -> None:
        current = getattr(self, attr)
        merged = pa.concat_arrays([current, _flat(keys)])  # Arrow all the way: no Python objects
        setattr(self, attr, pc.unique(merged))

    def add_institutions(self, ids: pa.Array | pa.ChunkedArray, kinds: pa.Array | pa.ChunkedArray) -> None:
        # Later rows win: a re-typed institution takes its new kind.
        all_ids = pa.concat_arrays([_flat(ids), self.institution_ids])
        all_kinds = pa.concat_arrays([_flat(kinds), self.institution_kinds])
        first = pc.index_in(pc.unique(all_ids), all_ids)
        self.institution_ids = pc.take(all_ids, first)
        self.institution_kinds = pc.take(all_kinds, first)


def _flat(arr: pa.Array | pa.ChunkedArray) -> pa.Array:
    if isinstance(arr, pa.ChunkedArray):
        arr = arr.combine_chunks()
    return arr.cast(pa.string())


def _one_per_row(spec: Table, column: str) -> bool:
    """Whether an ID-number column is the table's own key (values unique, nothing to share)."""
    return spec.name in ("persons", "doctors") and column == spec.key[0]


class RepeatedIds:
    """A repeated ID-number column of a whole file, normalised and dictionary-encoded once.

    Claims repeat a person's number on every claim: each distinct number is analysed, and looked
    up among the known persons, once per file rather than once per chunk.
    """

    def __init__(self, raw: pa.Array | pa.ChunkedArray, today: date) -> None:
        flat = raw.combine_chunks() if isinstance(raw, pa.ChunkedArray) else raw
        self.values = normalise.id_number(flat.cast(pa.string()))
        self.encoded = pc.dictionary_encode(self.values)
        self.analysis = analyse(self.encoded.dictionary, today=today)
        self._found: tuple[pa.Array, BoolArray] | None = None

    def found(self, known: pa.Array) -> BoolArray:
        """Per distinct value: whether it is in ``known`` (cached for the same ``known``)."""
        if self._found is None or self._found[0] is not known:
            self._found = (known, _np_bool(pc.is_in(self.encoded.dictionary, known)))
        return self._found[1]


@dataclass
class _Lookup:
    """A chunk's rows as indexes into a :class:`RepeatedIds` dictionary."""

    ids: RepeatedIds
    idx: IntArray  # dictionary index per row (0 where null)

    def found(self, known: pa.Array) -> BoolArray:
        return self.ids.found(known)[self.idx]


class Rejections:
    """Reasons per row index, built check by check."""

    def __init__(self, n: int) -> None:
        self.n = n
        self.bad = np.zeros(n, dtype=bool)
        self.by_row: dict[int, list[str]] = {}

    def add(self, mask: BoolArray, reason: Callable[[IntArray], Sequence[str]]) -> None:
        idx = np.flatnonzero(mask)
        if not len(idx):
            return
        self.bad[idx] = True
        for i, text in zip(idx.tolist(), reason(idx), strict=True):
            self.by_row.setdefault(i, []).append(text)

    def reason_of(self, i: int) -> str:
        return "; ".join(self.by_row[i])


@dataclass
class Validated:
    name: str
    table: pa.Table  # valid rows: contract columns normalised and typed, plus ``extra``
    rejected_rows: IntArray  # row indexes into the raw table
    reasons: list[str]
    source_file: str
    provided: tuple[str, ...] = ()  # contract columns the file has (an absent one is "not provided")
    warnings: list[FieldWarning] = field(default_factory=list)
    rejected_keys: pa.Array = field(default_factory=lambda: pa.array([], pa.string()))  # first key column
    has_extra: bool = False  # whether the file has columns outside the contract


@dataclass
class FieldWarning:
    """A field left out of a loaded row: its row index (into the raw table), column, value, reason."""

    row: int
    column: str
    value: str
    reason: str


# what a rejected row of each referred-to table is called in a reason
_REFERRED = {"persons": "person", "institution_ids": "institution", "doctors": "doctor",
             "injury_cases": "injury case"}


def _const(text: str) -> Callable[[IntArray], list[str]]:
    return lambda idx: [text] * len(idx)


class _TableValidator:
    def __init__(self, raw: RawTable, refs: RefContext, today: date,
                 repeated: dict[str, tuple[RepeatedIds, int]] | None = None,
                 latest: date | None = None) -> None:
        self.raw = raw
        self.repeated = repeated or {}  # column -> (whole-file encoding, this chunk's first row)
        self.spec: Table = TABLES[raw.name]
        self.n = raw.table.num_rows
        self.rej = Rejections(self.n)
        self.refs = refs
        self.today = today
        self.out: dict[str, pa.Array] = {}
        self.cents: dict[str, IntArray] = {}
        self.col_bad: dict[str, BoolArray] = {}  # values already rejected, not looked up again
        self.lookups: dict[str, _Lookup] = {}  # repeated columns, as dictionary indexes
        self.warned: list[tuple[IntArray, str, list[str], str | None, Callable[[str], str]]] = []
        latest = latest or today + timedelta(days=DEFAULT_DATE_GRACE_DAYS)
        self.window = ((EARLIEST_DATE - _EPOCH).days, (latest - _EPOCH).days)

    def warn(self, mask: BoolArray, column: str, original: pa.Array, reason: Callable[[str], str]) -> None:
        """Rows whose ``column`` value is left out (not linked) rather than the row rejected."""
        idx = np.flatnonzero(mask)
        if len(idx):
            self.warned.append((idx, column, _values(original, idx), None, reason))

    # -- columns -------------------------------------------------------------------------
    def column(self, col: Column) -> None:
        if col.name in self.raw.table.column_names:
            raw = self.raw.table.column(col.name).combine_chunks()
        else:
            raw = pa.nulls(self.n, pa.string())
        handler = getattr(self, f"_col_{col.type}")
        values: pa.Array = handler(col, raw)
        if col.required:
            self.rej.add(_np_bool(values.is_null()) & ~self.rej.bad, _const(reasons.missing(col.name)))
        self.out[col.name] = values

    def _present(self, arr: pa.Array) -> BoolArray:
        return _np_bool(arr.is_valid())

    def _col_str(self, col: Column, raw: pa.Array) -> pa.Array:
        return normalise.text(raw.cast(pa.string()))

    def _col_enum(self, col: Column, raw: pa.Array) -> pa.Array:
        encoded = pc.dictionary_encode(raw.cast(pa.string()))
        values = pc.take(normalise.text(encoded.dictionary), encoded.indices)
        bad = self._present(values) & ~_np_bool(pc.is_in(values, pa.array(col.values)))
        self.rej.add(
            bad, lambda idx: [reasons.bad_enum(col.name, v, col.values) for v in _values(values, idx)]
        )
        return values

    def _col_id_number(self, col: Column, raw: pa.Array) -> pa.Array:
        if _one_per_row(self.spec, col.name):
            values = normalise.id_number(raw.cast(pa.string()))
            a = analyse(values, today=self.today)
        else:
            ids, start = self.repeated.get(col.name) or (RepeatedIds(raw, self.today), 0)
            values = ids.values.slice(start, self.n)
            if len(ids.encoded.dictionary):
                indices = ids.encoded.indices.slice(start, self.n)
                idx = np.asarray(pc.fill_null(indices, 0).to_numpy(zero_copy_only=False), dtype=np.int64)
                a = ids.analysis.take(idx, self._present(values))
                self.lookups[col.name] = _Lookup(ids, idx)
            else:  # no value at all
                a = analyse(values, today=self.today)
        fmt_bad = a.present & ~a.format_ok
        self.rej.add(fmt_bad, lambda idx: [reasons.id_format(col.name, v) for v in _values(values, idx)])
        check_bad = a.format_ok & ~a.check_ok
        self.rej.add(
            check_bad,
            lambda idx: [
                reasons.id_check_digit(col.name, e, g)
                for e, g in zip(a.expected_check(idx), a.got_check(idx), strict=True)
            ],
        )
        birth_bad = a.format_ok & a.check_ok & ~a.birth_ok
        self.col_bad[col.name] = fmt_bad | check_bad | birth_bad
        self.rej.add(
            birth_bad, lambda idx: [reasons.id_birth_date(col.name, v[6:14]) for v in _values(values, idx)]
        )
        if col.name == "person_id" and self.spec.name == "persons":
            self.id_analysis = a
        return values

    def _col_date(self, col: Column, raw: pa.Array) -> pa.Array:
        if pa.types.is_date(raw.type) or pa.types.is_timestamp(raw.type):
            return self._in_window(col, raw.cast(pa.date32()))
        # A year of claims has a few hundred distinct dates: parse each once.
        encoded = pc.dictionary_encode(raw.cast(pa.string()))
        text = normalise.text(encoded.dictionary)
        parsed = pc.strptime(text, format="%Y-%m-%d", unit="s", error_is_null=True)
        ok_value = _np_bool(pc.equal(pc.strftime(parsed, format="%Y-%m-%d"), text))
        idx = np.asarray(pc.fill_null(encoded.indices, 0).to_numpy(zero_copy_only=False), dtype=np.int64)
        if not len(text):
            return pa.nulls(self.n, pa.date32())
        present = self._present(raw) & _np_bool(text.is_valid())[idx]
        bad = present & ~ok_value[idx]
        self.rej.add(bad, lambda i: [reasons.bad_date(col.name, v) for v in _values(text, idx[i])])
        dates = pc.take(parsed.cast(pa.date32()), encoded.indices)
        return self._in_window(col, pc.if_else(pa.array(present & ~bad), dates, pa.scalar(None, pa.date32())))

    def _in_window(self, col: Column, dates: pa.Array) -> pa.Array:
        """Reject dates outside the contract's window (1900-01-01 to today + grace)."""
        days = self._days(dates)
        lo, hi = self.window
        out = self._present(dates) & ((days < lo) | (days > hi))
        self.rej.add(out, lambda idx: [
            reasons.date_outside_window(col.name, _day_text(d), _day_text(lo), _day_text(hi))
            for d in days[idx]])
        return dates

    @staticmethod
    def _days(dates: pa.Array) -> IntArray:
        days = pc.fill_null(dates.cast(pa.int32()), 0).to_numpy(zero_copy_only=False)
        return np.asarray(days, dtype=np.int64)

    def _col_amount(self, col: Column, raw: pa.Array) -> pa.Array:
        limit = MAX_CLAIM_AMOUNT_YUAN * 100
        present = self._present(raw)
        if pa.types.is_integer(raw.type) or pa.types.is_floating(raw.type) or pa.types.is_decimal(raw.type):
            x = np.where(present, raw.cast(pa.float64()).to_numpy(zero_copy_only=False), 0.0)
            finite = np.isfinite(x)
            text = raw.cast(pa.string())
            self.rej.add(present & ~finite,
                         lambda idx: [reasons.not_finite(col.name, v) for v in _values(text, idx)])
            # |x| capped before scaling so that no value overflows the cents (1e300 is "too large")
            x = np.where(finite, np.clip(x, -2.0 * MAX_CLAIM_AMOUNT_YUAN, 2.0 * MAX_CLAIM_AMOUNT_YUAN), 0.0)
            cents = np.round(x * 100)
            bad = present & finite & (np.abs(x * 100 - cents) > 1e-6)
            usable = present & finite
        else:
            text = normalise.text(raw.cast(pa.string()))
            present = self._present(text)
            ok = _np_bool(pc.match_substring_regex(text, r"^-?[0-9]+(\.[0-9]{1,2})?$"))
            bad = present & ~ok
            # more than 12 integer digits cannot be a claim (and would overflow 64-bit cents);
            # only values longer than 12 characters can have that many, so only they are matched
            huge = np.zeros(len(ok), dtype=bool)
            long = np.flatnonzero(ok & (_np_bool(pc.greater(pc.binary_length(text), 12))))
            if len(long):
                digits = pc.take(text, pa.array(long))
                huge[long] = ~_np_bool(pc.match_substring_regex(digits, r"^-?0*[0-9]{0,12}(\.|$)"))
            usable_text = ok & ~huge
            safe = text if usable_text.all() else pc.if_else(pa.array(usable_text), text, pa.scalar("0"))
            cents = np.round(safe.cast(pa.float64()).to_numpy(zero_copy_only=False) * 100)
            if huge.any():  # shown as written, beyond the limit whatever their size
                sign = np.where(_np_bool(pc.starts_with(text, "-")), -1.0, 1.0)
                cents = np.where(huge, sign * (limit + 1), cents)
            usable = present
        self.rej.add(bad, lambda idx: [reasons.bad_amount(col.name, v) for v in _values(text, idx)])
        good = usable & ~bad
        negative = good & (cents < 0)
        self.rej.add(negative, lambda idx: [
            reasons.negative_amount(col.name, _cents_text(c) if c >= -limit else v)
            for c, v in zip(cents[idx], _values(text, idx), strict=True)])
        over = good & (cents > limit)
        self.rej.add(over, lambda idx: [
            reasons.amount_over_limit(col.name, v, f"{MAX_CLAIM_AMOUNT_YUAN:.2f}")
            for v in _values(text, idx)])
        cents_arr = np.where(good, cents, 0).astype(np.int64)
        self.cents[col.name] = cents_arr
        return pa.array(cents_arr / 100.0, pa.float64(), mask=~good)

    def _col_int(self, col: Column, raw: pa.Array) -> pa.Array:
        lo, hi = col.int_range or (-(2**62), 2**62)
        if pa.types.is_integer(raw.type) or pa.types.is_floating(raw.type):
            x = raw.cast(pa.float64()).to_numpy(zero_copy_only=False)
            present = ~np.isnan(x)
            ok = present & (np.nan_to_num(x) == np.round(np.nan_to_num(x)))
            text = raw.cast(pa.string())
            ints = np.where(ok, np.nan_to_num(x), 0).astype(np.int64)
        else:
            text = normalise.text(raw.cast(pa.string()))
            present = self._present(text)
            ok = _np_bool(pc.match_substring_regex(text, r"^-?[0-9]{1,18}$"))
            ints = (
                pc.if_else(pa.array(ok), text, pa.scalar("0")).cast(pa.int64()).to_numpy(zero_copy_only=False)
            )
        ok &= (ints >= lo) & (ints <= hi)
        bad = present & ~ok
        self.rej.add(bad, lambda idx: [reasons.bad_int(col.name, v, lo, hi) for v in _values(text, idx)])
        return pa.array(ints, pa.int64(), mask=~(present & ok))

    def _col_degrees(self, col: Column, raw: pa.Array) -> pa.Array:
        lo, hi = col.float_range or (-180.0, 180.0)
        if pa.types.is_integer(raw.type) or pa.types.is_floating(raw.type) or pa.types.is_decimal(raw.type):
            x = raw.cast(pa.float64()).to_numpy(zero_copy_only=False)
            present = ~np.isnan(x)
            ok = present.copy()
            text = raw.cast(pa.string())
        else:
            text = normalise.text(raw.cast(pa.string()))
            present = self._present(text)
            ok = _np_bool(pc.match_substring_regex(text, r"^-?[0-9]{1,3}(\.[0-9]+)?$"))
            x = (
                pc.if_else(pa.array(ok), text, pa.scalar("0"))
                .cast(pa.float64())
                .to_numpy(zero_copy_only=False)
            )
        ok &= (np.nan_to_num(x) >= lo) & (np.nan_to_num(x) <= hi)
        bad = present & ~ok
        self.rej.add(bad, lambda idx: [reasons.bad_degrees(col.name, v, lo, hi) for v in _values(text, idx)])
        return pa.array(np.nan_to_num(x), pa.float64(), mask=~(present & ok))

    def _col_bool(self, col: Column, raw: pa.Array) -> pa.Array:
        if pa.types.is_boolean(raw.type):
            return raw
        text = normalise.text(raw.cast(pa.string()))
        low = pc.utf8_lower(text)
        is_true = _np_bool(pc.equal(low, "true"))
        is_false = _np_bool(pc.equal(low, "false"))
        present = self._present(text)
        bad = present & ~is_true & ~is_false
        self.rej.add(bad, lambda idx: [reasons.bad_bool(col.name, v) for v in _values(text, idx)])
        return pa.array(is_true, pa.bool_(), mask=~(present & ~bad))

    def _col_phone(self, col: Column, raw: pa.Array) -> pa.Array:
        original = raw.cast(pa.string())
        values, bad = normalise.phone(original)
        return self._bad_identifier(col, original, values, bad, reasons.bad_phone)

    def _bad_identifier(self, col: Column, original: pa.Array, values: pa.Array, bad: BoolArray,
                        reason: Callable[[str], str]) -> pa.Array:
        """A value that does not normalise: a warning (field left out) or a reject, per the contract."""
        if not bad.any():
            return values
        if col.warn_only:
            self.warn(bad, col.name, original, reason)
            return pc.if_else(pa.array(bad), pa.scalar(None, pa.string()), values)
        self.rej.add(bad, lambda idx: [reason(v) for v in _values(original, idx)])
        return values

    def _col_address(self, col: Column, raw: pa.Array) -> pa.Array:
        return normalise.address(raw)

    def _col_account(self, col: Column, raw: pa.Array) -> pa.Array:
        original = raw.cast(pa.string())
        values, bad = normalise.account(original)
        return self._bad_identifier(col, original, values, bad, reasons.bad_account)

    # -- rules across columns ------------------------------------------------------------
    def person_identity(self) -> None:
        a = self.id_analysis
        ok_id = a.valid
        derived_gender = np.where(a.male, "M", "F")
        gender = self.out["gender"]
        given_g = gender.to_numpy(zero_copy_only=False)
        has_g = self._present(gender)
        g_bad = ok_id & has_g & np.isin(given_g, ["M", "F"]) & (given_g != derived_gender)
        self.rej.add(
            g_bad,
            lambda idx: [
                reasons.gender_mismatch(g, d) for g, d in zip(given_g[idx], derived_gender[idx], strict=True)
            ],
        )
        birth = self.out["birth_date"]
        has_b = self._present(birth)
        given_days = pc.fill_null(birth.cast(pa.int32()), 0).to_numpy(zero_copy_only=False).astype(np.int64)
        b_bad = ok_id & has_b & (given_days != a.birth_days)
        self.rej.add(
            b_bad,
            lambda idx: [
                reasons.birth_date_mismatch(_day_text(g), _day_text(d))
                for g, d in zip(given_days[idx], a.birth_days[idx], strict=True)
            ],
        )
        # Derive what is absent (the documented normalisation, not a fix of a wrong value).
        self.out["gender"] = pa.array(
            np.where(has_g, given_g, derived_gender), pa.string(), mask=~(has_g | ok_id)
        )
        self.out["birth_date"] = pa.array(
            np.where(has_b, given_days, a.birth_days).astype(np.int32), pa.int32(), mask=~(has_b | ok_id)
        ).cast(pa.date32())
        birth, death = self.out["birth_date"], self.out["death_date"]
        b, d = self._days(birth), self._days(death)
        early = self._present(birth) & self._present(death) & (d < b)
        self.rej.add(early, lambda idx: [
            reasons.death_before_birth(_day_text(x), _day_text(y))
            for x, y in zip(d[idx], b[idx], strict=True)])

    def amounts_and_dates(self) -> None:
        total = self.cents["total_amount"]
        reimb = self.cents["reimbursed_amount"]
        both = self._present(self.out["total_amount"]) & self._present(self.out["reimbursed_amount"])
        over = both & (reimb > total)
        self.rej.add(
            over,
            lambda idx: [
                reasons.reimbursed_over_total(_cents_text(r), _cents_text(t))
                for r, t in zip(reimb[idx], total[idx], strict=True)
            ],
        )
        start, end = self.out["start_date"], self.out["end_date"]
        both_d = self._present(start) & self._present(end)
        s = pc.fill_null(start.cast(pa.int32()), 0).to_numpy(zero_copy_only=False)
        e = pc.fill_null(end.cast(pa.int32()), 0).to_numpy(zero_copy_only=False)
        before = both_d & (e < s)
        self.rej.add(
            before,
            lambda idx: [
                reasons.end_before_start(_day_text(x), _day_text(y))
                for x, y in zip(e[idx], s[idx], strict=True)
            ],
        )

    def reference(self, col: str, known: pa.Array, attr: str = "") -> None:
        values = self.out[col]
        lookup = self.lookups.get(col)
        # a repeated ID number is looked up once per distinct value (a person's claims repeat it)
        found = lookup.found(known) if lookup is not None else _np_bool(pc.is_in(values, known))
        missing = self._present(values) & ~found
        if col in self.col_bad:
            missing &= ~self.col_bad[col]
        rejected = self.refs.rejected.get(attr)
        if rejected is not None and missing.any():
            keys, lines, file = rejected
            idx = np.flatnonzero(missing)
            at = pc.index_in(pc.take(values, pa.array(idx)), keys)
            hit = _np_bool(at.is_valid())
            pos = np.asarray(pc.fill_null(at, 0).to_numpy(zero_copy_only=False), dtype=np.int64)
            where = {int(i): int(lines[p]) for i, p, h in zip(idx, pos, hit, strict=True) if h}
            was_rejected = np.zeros(self.n, dtype=bool)
            was_rejected[list(where)] = True
            what = _REFERRED[attr]
            self.rej.add(was_rejected, lambda ix: [
                reasons.referenced_row_rejected(col, v, what, file, where[int(i)])
                for i, v in zip(ix, _values(values, ix), strict=True)])
            missing &= ~was_rejected
        self.rej.add(missing, lambda idx: [reasons.not_found(col, v) for v in _values(values, idx)])

    def pharmacy_visits(self) -> None:
        pos = pc.index_in(self.out["institution_id"], self.refs.institution_ids)
        kinds = pc.take(self.refs.institution_kinds, pos)
        wrong = _np_bool(
            pc.and_(pc.equal(self.out["visit_type"], "pharmacy"), pc.not_equal(kinds, "pharmacy"))
        )
        inst = self.out["institution_id"]
        self.rej.add(
            wrong,
            lambda idx: [
                reasons.pharmacy_visit_elsewhere(i, k)
                for i, k in zip(_values(inst, idx), _values(kinds, idx), strict=True)
            ],
        )

    def duplicates(self, dup_reason: dict[int, str]) -> None:
        mask = np.zeros(self.n, dtype=bool)
        mask[list(dup_reason)] = True
        self.rej.add(mask, lambda idx: [dup_reason[i] for i in idx.tolist()])

    # -- result --------------------------------------------------------------------------
    def extra(self) -> pa.Array:
        extra_cols = self.raw.extra_columns
        if not extra_cols:
            return pa.nulls(self.n, pa.string())
        frame = pd.DataFrame({c: self.raw.table.column(c).cast(pa.string()).to_pandas() for c in extra_cols})
        frame = frame.astype(object).where(frame.notna(), None)
        text = frame.to_json(orient="records", lines=True, force_ascii=False).split("\n")[: self.n]
        return pa.array(text, pa.string())

    def result(self) -> Validated:
        columns = {c.name: self.out[c.name] for c in self.spec.columns}
        columns["extra"] = self.extra()
        table = pa.table(columns)
        good = ~self.rej.bad
        if not good.all():
            table = table.filter(pa.array(good))
        idx = np.flatnonzero(self.rej.bad)
        warnings = [
            FieldWarning(int(i), column, value, reason(value))
            for rows, column, values, _, reason in self.warned
            for i, value in zip(rows.tolist(), values, strict=True)
            if not self.rej.bad[i]  # a rejected row is reported once, in the rejects file
        ]
        warnings.sort(key=lambda w: w.row)
        provided = tuple(c for c in self.spec.column_names if c in self.raw.table.column_names)
        return Validated(
            self.spec.name, table, idx, [self.rej.reason_of(i) for i in idx.tolist()], str(self.raw.path),
            provided, warnings, pc.take(self.out[self.spec.key[0]], pa.array(idx, pa.int64())),
            bool(self.raw.extra_columns),
        )


def duplicate_reasons(raw: RawTable) -> dict[int, str]:
    """Second and later rows of a key in the file (whatever else is wrong with either), with reasons.

    Decided over the whole file before validating it in chunks; DuckDB's parallel hash aggregate
    finds the duplicated keys and only those reach Python.
    """
    spec = TABLES[raw.name]
    key = list(spec.key)
    columns: dict[str, pa.Array] = {}
    for k in key:
        values = (
            raw.table.column(k).cast(pa.string())
            if k in raw.table.column_names
            else pa.nulls(raw.table.num_rows, pa.string())
        )
        columns[k] = (normalise.id_number if spec.column(k).type == "id_number" else normalise.text)(values)
    keys = pa.table({**columns, "_row": pa.array(np.arange(raw.table.num_rows, dtype=np.int64))})
    present = pa.array(np.ones(raw.table.num_rows, dtype=bool))
    for k in key:
        present = pc.and_(present, columns[k].is_valid())
    cols = ", ".join(f'"{k}"' for k in key)
    con = duckdb.connect()
    try:
        con.register("keys", keys.filter(present))
        dup_keys = f"SELECT {cols} FROM keys GROUP BY {cols} HAVING count(*) > 1"
        rows = []
        # Grouping 64-bit hashes is far cheaper than grouping the text; a collision only costs
        # the exact query, which decides.
        dup_hashes = f"SELECT hash({cols}) AS h FROM keys GROUP BY h HAVING count(*) > 1"
        if (
            con.execute(f"SELECT count(*) FROM ({dup_hashes})").fetchall()[0][0]
            and con.execute(f"SELECT count(*) FROM ({dup_keys})").fetchall()[0][0]
        ):  # usually none
            rows = con.execute(
                f"SELECT _row, {cols} FROM keys SEMI JOIN ({dup_keys}) d USING ({cols}) ORDER BY _row"
            ).fetchall()
    finally:
        con.close()
    first: dict[tuple[str, ...], int] = {}
    out: dict[int, str] = {}
    for row, *values in rows:
        vals = tuple(str(v) for v in values)
        if vals in first:
            out[row] = reasons.duplicate(key, vals, int(raw.lines[first[vals]]))
        else:
            first[vals] = row
    return out


def validate(
    raw: RawTable,
    refs: RefContext,
    *,
    today: date | None = None,
    duplicates: dict[int, str] | None = None,
    repeated: dict[str, tuple[RepeatedIds, int]] | None = None,
    latest: date | None = None,
) -> Validated:
    """Validate and normalise one table; references resolve against ``refs`` (updated by the caller).

    ``duplicates`` (row -> reason, from :func:`duplicate_reasons`) and ``repeated`` (column ->
    its whole-file encoding and this chunk's first row) are given when ``raw`` is one chunk of a
    larger file; by default both are worked out from ``raw`` itself.
    """
    v = _TableValidator(raw, refs, today or date.today(), repeated, latest)
    for col in v.spec.columns:
        v.column(col)
    name = v.spec.name
    if name == "persons":
        v.person_identity()
    elif name == "doctors":
        v.reference("institution_id", refs.institution_ids, "institution_ids")
    elif name == "injury_cases":
        v.reference("person_id", refs.persons, "persons")
    elif name == "claims":
        v.amounts_and_dates()
        v.reference("person_id", refs.persons, "persons")
        v.reference("institution_id", refs.institution_ids, "institution_ids")
        v.reference("doctor_id", refs.doctors, "doctors")
        v.reference("injury_case_id", refs.injury_cases, "injury_cases")
        v.pharmacy_visits()
    v.duplicates(duplicate_reasons(raw) if duplicates is None else duplicates)
    return v.result()


def validate_chunks(
    raw: RawTable, refs: RefContext, rows: int, *, today: date | None = None, latest: date | None = None
) -> Iterator[Validated]:
    """Validate ``raw`` ``rows`` rows at a time (so loading a chunk can overlap validating the next).

    Row indexes in each result refer to the whole table; duplicates are decided over the whole file.
    """
    dups = duplicate_reasons(raw)
    n = raw.table.num_rows
    spec = TABLES[raw.name]
    repeated_ids = {
        c.name: RepeatedIds(raw.table.column(c.name), today or date.today())
        for c in spec.columns
        if c.type == "id_number" and c.name in raw.table.column_names and not _one_per_row(spec, c.name)
    }
    for start in range(0, max(n, 1), rows):
        end = min(n, start + rows)
        part = RawTable(
            raw.name,
            raw.path,
            raw.table.slice(start, end - start),
            raw.lines[start:end],
            raw.digest,
            raw.encoding,
        )
        local = {i - start: r for i, r in dups.items() if start <= i < end}
        v = validate(part, refs, today=today, duplicates=local,
                     repeated={c: (ids, start) for c, ids in repeated_ids.items()}, latest=latest)
        v.rejected_rows = v.rejected_rows + start
        for w in v.warnings:
            w.row += start
        yield v
