"""Normalisation of identifiers, vectorised with Arrow compute kernels.

Every function takes a string column and returns the normalised column; functions that can fail
also return a mask of rows whose (present) value could not be normalised, so the validator can
reject them with a reason instead of fixing them silently.

Rules (docs/data-contract.md):
- text: leading/trailing whitespace trimmed; empty becomes missing.
- ID numbers: trimmed and upper-cased (a trailing ``x`` is the check character ``X``).
- phones: full-width digits made half-width; spaces, dashes, dots and brackets removed; a
  ``+86`` / ``0086`` / ``86`` country prefix removed; the result must be 11 digits.
- addresses: NFKC (full-width letters, digits and punctuation made half-width), whitespace runs
  collapsed to one space and removed next to Chinese characters, so ``３号 楼`` and ``3号楼`` are
  the same address.
- bank accounts: full-width digits made half-width, spaces and dashes removed; 8-32 digits.
"""

from __future__ import annotations

from typing import TypeAlias

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

BoolArray = npt.NDArray[np.bool_]
StrColumn: TypeAlias = "pa.Array | pa.ChunkedArray"


def _mask(arr: StrColumn) -> BoolArray:
    return np.asarray(pc.fill_null(arr, False).to_numpy(zero_copy_only=False), dtype=bool)


def text(arr: StrColumn) -> StrColumn:
    """Trim whitespace (full-width spaces included); empty strings become null."""
    arr = pc.utf8_trim_whitespace(arr.cast(pa.string()))
    empty = pc.equal(pc.utf8_length(arr), 0)
    if not pc.any(empty).as_py():  # the usual case: no copy needed
        return arr
    return pc.if_else(empty, pa.scalar(None, pa.string()), arr)


def id_number(arr: StrColumn) -> StrColumn:
    return pc.ascii_upper(text(arr))


def phone(arr: StrColumn) -> tuple[StrColumn, BoolArray]:
    """Normalised phones and the mask of present values that are not 11 digits afterwards."""
    s = text(pc.utf8_normalize(arr.cast(pa.string()), form="NFKC"))
    s = pc.replace_substring_regex(s, r"[\s\-\.()]", "")
    s = pc.replace_substring_regex(s, r"^(?:\+86|0086|86)([0-9]{11})$", r"\1")
    bad = _mask(pc.invert(pc.match_substring_regex(s, r"^[0-9]{11}$")))
    return s, bad


def address(arr: StrColumn) -> StrColumn:
    s = pc.utf8_normalize(arr.cast(pa.string()), form="NFKC")
    s = pc.replace_substring_regex(s, r"\s+", " ")
    s = pc.replace_substring_regex(s, r"(\p{Han}) ", r"\1")
    s = pc.replace_substring_regex(s, r" (\p{Han})", r"\1")
    return text(s)


def account(arr: StrColumn) -> tuple[StrColumn, BoolArray]:
    s = text(pc.utf8_normalize(arr.cast(pa.string()), form="NFKC"))
    s = pc.replace_substring_regex(s, r"[\s\-]", "")
    bad = _mask(pc.invert(pc.match_substring_regex(s, r"^[0-9]{8,32}$")))
    return s, bad
