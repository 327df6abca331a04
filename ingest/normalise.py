"""Normalisation of identifiers, vectorised with Arrow compute kernels.

Every function takes a string column and returns the normalised column; functions that can fail
also return a mask of rows whose (present) value could not be normalised, so the validator can
reject them with a reason instead of fixing them silently.

Rules (docs/data-contract.md):
- text: leading/trailing whitespace trimmed; empty becomes missing.
- ID numbers: trimmed and upper-cased (a trailing ``x`` is the check character ``X``).
- phones: mobiles, landlines, 400/800 numbers, with extensions (see :func:`phone`).
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
    arr = arr.cast(pa.string())
    if _may_need_trim(arr):
        arr = pc.utf8_trim_whitespace(arr)
    if not _any_empty(arr):  # the usual case: no copy needed
        return arr
    return pc.if_else(pc.equal(arr, ""), pa.scalar(None, pa.string()), arr)


# First bytes of every whitespace character Unicode knows, in UTF-8: ASCII controls and space,
# U+0085/U+00A0 (C2), U+1680 (E1), U+2000-U+205F (E2) and U+3000 (E3). A value starting or
# ending with none of these has nothing to trim.
_WS_START = np.zeros(256, dtype=bool)
_WS_START[[0x09, 0x0A, 0x0B, 0x0C, 0x0D, 0x1C, 0x1D, 0x1E, 0x1F, 0x20, 0xC2, 0xE1, 0xE2, 0xE3]] = True
# ...and their last bytes: the ASCII ones, or a continuation byte (any non-ASCII end is suspect).
_WS_END = np.zeros(256, dtype=bool)
_WS_END[[0x09, 0x0A, 0x0B, 0x0C, 0x0D, 0x1C, 0x1D, 0x1E, 0x1F, 0x20]] = True
_WS_END[0x80:0xC0] = True


def _chunks(arr: StrColumn) -> list[pa.Array]:
    return list(arr.chunks) if isinstance(arr, pa.ChunkedArray) else [arr]


def _offsets_and_data(chunk: pa.Array) -> tuple[npt.NDArray[np.int32], npt.NDArray[np.uint8]]:
    bufs = chunk.buffers()
    offsets = np.frombuffer(bufs[1], dtype=np.int32)[chunk.offset : chunk.offset + len(chunk) + 1]
    data = np.frombuffer(bufs[2], dtype=np.uint8) if bufs[2] is not None else np.zeros(0, np.uint8)
    return offsets, data


def _may_need_trim(arr: StrColumn) -> bool:
    """Whether any value starts or ends with a byte that whitespace could begin or end with.

    A byte test over the first and last byte of each value instead of a full trim pass: most
    columns (ID numbers, codes, dates) have nothing to trim and keep their buffers untouched.
    """
    for chunk in _chunks(arr):
        if len(chunk) == 0 or chunk.null_count == len(chunk):
            continue
        offsets, data = _offsets_and_data(chunk)
        nonempty = offsets[1:] > offsets[:-1]
        starts, ends = offsets[:-1][nonempty], offsets[1:][nonempty] - 1
        if _WS_START[data[starts]].any() or _WS_END[data[ends]].any():
            return True
    return False


def _any_empty(arr: StrColumn) -> bool:
    for chunk in _chunks(arr):
        if len(chunk) == 0:
            continue
        offsets, _ = _offsets_and_data(chunk)
        empty = offsets[1:] == offsets[:-1]
        if chunk.null_count:
            empty &= np.asarray(chunk.is_valid().to_numpy(zero_copy_only=False), dtype=bool)
        if empty.any():
            return True
    return False


def id_number(arr: StrColumn) -> StrColumn:
    return pc.ascii_upper(text(arr))


# Phones as Chinese exports write them (docs/data-contract.md, "Phones"). The normal form is the
# digits a caller dials inside China: a mobile's 11 digits, a landline's area code (with its 0)
# and number, a 400/800 service number; an extension follows after a dash.
_EXT_MARK = r"^(?P<num>.*?)\s*(?:转|分机|ext\.?|x|#)\s*(?P<ext>[0-9]{1,6})$"
_EXT_DASH = r"^(?P<num>.*[0-9])-(?P<ext>[0-9]{1,6})$"
_SEPARATORS = r"[\s\-\.()]"
_MOBILE = r"^1[3-9][0-9]{9}$"
# 3-digit area codes (010 Beijing, 02x) have 8-digit numbers; 4-digit ones 7 or 8 digits.
_LANDLINE = r"^0(?:10|2[0-9])[0-9]{8}$|^0[3-9][0-9]{2}[0-9]{7,8}$"
_SERVICE = r"^[48]00[0-9]{7}$"


def _dial_digits(s: StrColumn) -> StrColumn:
    """Separators and a +86 / 0086 / 86 country prefix removed (a landline's area code gets its 0)."""
    s = pc.replace_substring_regex(s, _SEPARATORS, "")
    s = pc.replace_substring_regex(s, r"^(?:\+86|0086|86)(1[3-9][0-9]{9})$", r"\1")
    return pc.replace_substring_regex(s, r"^(?:\+86|0086)0?([1-9][0-9]{8,10})$", r"0\1")


def _matches(s: StrColumn, pattern: str) -> BoolArray:
    return _mask(pc.match_substring_regex(s, pattern))


def phone(arr: StrColumn) -> tuple[StrColumn, BoolArray]:
    """Normalised phones and the mask of present values that are no phone number afterwards.

    Mobiles, landlines (area code of 3 or 4 digits, number of 7 or 8, with or without dashes or
    brackets), 400/800 service numbers, each with an optional ``+86``/``0086`` prefix; a landline
    or service number may carry an extension after ``转``, ``分机``, ``ext``, ``x``, ``#`` or a
    last dash. ``0571-87654321``, ``(0571)8765 4321`` and ``+86 571 87654321`` are all
    ``057187654321``; ``0571-87654321-808`` and ``0571 87654321转808`` are ``057187654321-808``.
    Values with nothing to reshape (the bulk: mobiles written plainly) are matched once, and
    the extension rules run only on the others.
    """
    s = text(pc.utf8_normalize(arr.cast(pa.string()), form="NFKC"))
    if isinstance(s, pa.ChunkedArray):
        s = s.combine_chunks()
    plain = _matches(s, _MOBILE)
    if plain.all() or len(s) == 0:
        return s, np.zeros(len(s), dtype=bool)
    rest = pc.filter(s, pa.array(~plain))
    marked = pc.extract_regex(pc.utf8_lower(rest), _EXT_MARK)
    has_mark = _mask(marked.is_valid())
    num = pc.if_else(pa.array(has_mark), pc.struct_field(marked, "num"), rest)
    ext = pc.if_else(pa.array(has_mark), pc.struct_field(marked, "ext"), pa.scalar(None, pa.string()))
    # "0571-87654321-808": the last dash starts an extension only when what precedes it is
    # already a whole landline ("010-8765-4321" is one number written in three groups).
    dashed = pc.extract_regex(num, _EXT_DASH)
    head = _dial_digits(pc.struct_field(dashed, "num"))
    dash_ext = _mask(dashed.is_valid()) & ~has_mark & (_matches(head, _LANDLINE) | _matches(head, _SERVICE))
    digits = pc.if_else(pa.array(dash_ext), head, _dial_digits(num))
    ext = pc.if_else(pa.array(dash_ext), pc.struct_field(dashed, "ext"), ext)
    mobile = _matches(digits, _MOBILE)
    fixed = _matches(digits, _LANDLINE) | _matches(digits, _SERVICE)
    has_ext = _mask(ext.is_valid())
    ok = (mobile & ~has_ext) | fixed
    full = pc.if_else(pa.array(has_ext), pc.binary_join_element_wise(digits, ext, "-"), digits)
    present = _mask(rest.is_valid())
    out = pc.replace_with_mask(s, pa.array(~plain), pc.if_else(pa.array(ok), full, rest))
    bad = np.zeros(len(s), dtype=bool)
    bad[~plain] = present & ~ok
    return out, bad


def address(arr: StrColumn) -> StrColumn:
    # Households and care homes share addresses: normalise each distinct text once.
    flat = arr.combine_chunks() if isinstance(arr, pa.ChunkedArray) else arr
    encoded = pc.dictionary_encode(flat.cast(pa.string()))
    s = pc.utf8_normalize(encoded.dictionary, form="NFKC")
    spaced = _has_ascii_space(s)
    if spaced.any():  # the whitespace rules only where there is whitespace (regexes are slow)
        t = pc.filter(s, pa.array(spaced))
        t = pc.replace_substring_regex(t, r"\s+", " ")
        t = pc.replace_substring_regex(t, r"(\p{Han}) ", r"\1")
        t = pc.replace_substring_regex(t, r" (\p{Han})", r"\1")
        s = pc.replace_with_mask(s, pa.array(spaced), t)
    return text(pc.take(s, encoded.indices))


# What RE2's ``\s`` matches: ASCII tab, newline, form feed, carriage return and space (after
# NFKC, which has turned the other Unicode spaces into U+0020).
_RE2_SPACE = np.zeros(256, dtype=bool)
_RE2_SPACE[[0x09, 0x0A, 0x0C, 0x0D, 0x20]] = True


def _has_ascii_space(arr: pa.Array) -> BoolArray:
    r"""Per value: whether it holds a byte RE2's ``\s`` matches (found on the data buffer at once)."""
    out = np.zeros(len(arr), dtype=bool)
    if not len(arr):
        return out
    offsets, data = _offsets_and_data(arr)
    hits = np.flatnonzero(_RE2_SPACE[data[offsets[0] : offsets[-1]]]) + offsets[0]
    if len(hits):
        out[np.searchsorted(offsets, hits, side="right") - 1] = True
    return out


def account(arr: StrColumn) -> tuple[StrColumn, BoolArray]:
    s = text(pc.utf8_normalize(arr.cast(pa.string()), form="NFKC"))
    s = pc.replace_substring_regex(s, r"[\s\-]", "")
    bad = _mask(pc.invert(pc.match_substring_regex(s, r"^[0-9]{8,32}$")))
    return s, bad
