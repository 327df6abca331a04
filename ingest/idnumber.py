"""公民身份号码 (GB 11643-1999): check digit, birth date and gender, vectorised over whole columns.

An ID number is 6 region digits, 8 birth-date digits (YYYYMMDD), a 3-digit sequence whose last
digit is odd for men and even for women, and a check character: the weighted sum of the 17 digits
with weights 2^(17-i) mod 11 (7 9 10 5 8 4 2 1 6 3 7 9 10 5 8 4 2), taken mod 11, indexes
``10X98765432``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

WEIGHTS = np.array([7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2], dtype=np.int64)
CHECK_CHARS = "10X98765432"
_CHECK_BYTES = np.frombuffer(CHECK_CHARS.encode("ascii"), dtype=np.uint8)
ID_PATTERN = r"^[0-9]{17}[0-9X]$"
_DAYS_IN_MONTH = np.array([0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31], dtype=np.int64)

BoolArray = npt.NDArray[np.bool_]
IntArray = npt.NDArray[np.int64]


def check_digit(body17: str) -> str:
    """The check character of the first 17 digits."""
    if len(body17) != 17 or not body17.isdigit():
        raise ValueError(f"need 17 digits, got {body17!r}")
    total = sum(int(c) * int(w) for c, w in zip(body17, WEIGHTS, strict=True))
    return CHECK_CHARS[total % 11]


def is_valid(id_number: str) -> bool:
    """Scalar convenience for tests and tools: format, check digit and birth date."""
    analysis = analyse(pa.array([id_number.strip().upper()]))
    return bool(analysis.valid[0])


def check_bytes(digits: npt.NDArray[np.integer]) -> npt.NDArray[np.uint8]:
    """ASCII check characters for an (n, 17) array of digit values 0-9."""
    sums = (digits.astype(np.int64) @ WEIGHTS) % 11
    return np.asarray(_CHECK_BYTES[sums], dtype=np.uint8)


def make_ids(region: IntArray, birth_yyyymmdd: IntArray, seq: IntArray) -> npt.NDArray[np.str_]:
    """Build valid ID numbers (as a numpy unicode array) from region codes, birth dates and sequences."""
    n = len(region)
    digits = np.empty((n, 17), dtype=np.int64)
    for i, (values, width) in enumerate(((region, 6), (birth_yyyymmdd, 8), (seq, 3))):
        start = (0, 6, 14)[i]
        v = np.asarray(values, dtype=np.int64).copy()
        for j in range(width - 1, -1, -1):
            digits[:, start + j] = v % 10
            v //= 10
    out = np.empty((n, 18), dtype=np.uint8)
    out[:, :17] = digits + 48
    out[:, 17] = check_bytes(digits)
    return out.view("S18").ravel().astype("U18")


@dataclass
class IdAnalysis:
    """Per-row findings for a column of ID numbers (upper-cased, trimmed, nulls allowed)."""

    present: BoolArray  # not null
    format_ok: BoolArray  # 17 digits + [0-9X]
    check_ok: BoolArray
    birth_ok: BoolArray
    expected_byte: npt.NDArray[np.uint8]  # ASCII check character the body implies (0 if no format)
    got_byte: npt.NDArray[np.uint8]
    birth_days: IntArray  # days since 1970-01-01 (valid only where birth_ok)
    male: BoolArray

    @property
    def valid(self) -> BoolArray:
        return self.format_ok & self.check_ok & self.birth_ok

    def expected_check(self, idx: IntArray) -> list[str]:
        return [chr(b) for b in self.expected_byte[idx].tolist()]

    def got_check(self, idx: IntArray) -> list[str]:
        return [chr(b) for b in self.got_byte[idx].tolist()]

    def take(self, idx: IntArray, present: BoolArray) -> IdAnalysis:
        """Findings of a dictionary's values spread back over the rows that use them."""
        return IdAnalysis(
            present,
            self.format_ok[idx] & present,
            self.check_ok[idx] & present,
            self.birth_ok[idx] & present,
            self.expected_byte[idx],
            self.got_byte[idx],
            self.birth_days[idx],
            self.male[idx],
        )


def _as_matrix(ids: pa.Array) -> npt.NDArray[np.uint8]:
    """(n, 18) bytes of a null-free string array whose values are all 18 ASCII characters."""
    arr = ids.cast(pa.string())
    n = len(arr)
    offsets = np.frombuffer(arr.buffers()[1], dtype=np.int32)
    start = int(offsets[arr.offset])
    data = np.frombuffer(arr.buffers()[2], dtype=np.uint8)
    return data[start : start + 18 * n].reshape(n, 18)


def _valid_ymd(y: IntArray, m: IntArray, d: IntArray, today: date) -> tuple[BoolArray, IntArray]:
    leap = ((y % 4 == 0) & (y % 100 != 0)) | (y % 400 == 0)
    month_ok = (m >= 1) & (m <= 12)
    dim = _DAYS_IN_MONTH[np.where(month_ok, m, 1)] + ((m == 2) & leap)
    ok = month_ok & (d >= 1) & (d <= dim) & (y >= 1900)
    ys = np.where(ok, y, 1970)
    ms = np.where(ok, m, 1)
    ds = np.where(ok, d, 1)
    days = (
        (ys - 1970).astype("datetime64[Y]").astype("datetime64[M]") + (ms - 1).astype("timedelta64[M]")
    ).astype("datetime64[D]") + (ds - 1).astype("timedelta64[D]")
    day_numbers = days.astype(np.int64)
    ok &= day_numbers <= (today - date(1970, 1, 1)).days
    return ok, day_numbers


def _number(mat: npt.NDArray[np.uint8], first: int, width: int) -> IntArray:
    value = np.zeros(len(mat), dtype=np.int64)
    for i in range(first, first + width):
        value = value * 10 + (mat[:, i].astype(np.int64) - 48)
    return value


def analyse(ids: pa.Array | pa.ChunkedArray, *, today: date | None = None) -> IdAnalysis:
    """Format, check digit, birth date and gender of every ID number, without a Python loop per row."""
    if isinstance(ids, pa.ChunkedArray):
        ids = ids.combine_chunks()
    n = len(ids)
    today = today or date.today()
    present = np.asarray(ids.is_valid().to_numpy(zero_copy_only=False), dtype=bool)
    fmt = np.asarray(
        pc.fill_null(pc.match_substring_regex(ids, ID_PATTERN), False).to_numpy(zero_copy_only=False),
        dtype=bool,
    )
    idx = np.flatnonzero(fmt)
    check_ok = np.zeros(n, dtype=bool)
    birth_ok = np.zeros(n, dtype=bool)
    birth_days = np.zeros(n, dtype=np.int64)
    male = np.zeros(n, dtype=bool)
    expected = np.zeros(n, dtype=np.uint8)
    got = np.zeros(n, dtype=np.uint8)
    if len(idx):
        mat = _as_matrix(pc.take(ids, pa.array(idx)))
        # Column by column: an integer matmul over millions of rows is far slower than 17 axpys.
        sums = np.zeros(len(idx), dtype=np.int64)
        for i in range(17):
            sums += mat[:, i].astype(np.int64) * int(WEIGHTS[i])
        sums = (sums - 48 * int(WEIGHTS.sum())) % 11
        exp = _CHECK_BYTES[sums]
        check_ok[idx] = exp == mat[:, 17]
        expected[idx] = exp
        got[idx] = mat[:, 17]
        ok, days = _valid_ymd(_number(mat, 6, 4), _number(mat, 10, 2), _number(mat, 12, 2), today)
        birth_ok[idx] = ok
        birth_days[idx] = days
        male[idx] = (mat[:, 16] - 48) % 2 == 1
    return IdAnalysis(present, fmt, check_ok, birth_ok, expected, got, birth_days, male)

