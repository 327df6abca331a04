"""An exact CSV reader: every data row comes back with its true line, or as a malformed line.

What "exact" means here (docs/data-contract.md, "Formats and encodings"):

- The encoding is decided per file and proved for the whole file: UTF-8 (with or without BOM)
  when the whole file is UTF-8 (unless it decodes as GB18030 too and reads as more Chinese that
  way: short GB18030 texts can be valid UTF-8); GB18030 when the whole file is GB18030 and shows
  fewer than two Chinese characters in UTF-8 before its first byte that is not UTF-8. Otherwise
  (a UTF-8 file with a stray byte, binary data) it is an error naming the line and byte offset,
  never a silent re-read as another encoding.
- Only the empty value is empty: ``NA``, ``NULL`` and ``N/A`` are text (a person may be named NA).
- Quoted values may hold line breaks; a row's line is the line it starts on.
- Rows (records, quoted line breaks included) up to :data:`MAX_ROW_BYTES` are read; longer
  ones, and rows holding a NUL byte (binary data), are malformed lines, as are rows with the
  wrong number of fields. Blank lines are skipped.
- A header without a trailing line break is a valid, empty table.

Parsing is Arrow's multi-threaded reader; the line bookkeeping is numpy over the file's bytes.
Python walks records only for a file whose quoted values hold line breaks.
"""

from __future__ import annotations

import _csv
import csv
import io
import re
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.csv as pcsv

from graph.errors import FatalInputError
from ingest import reasons
from ingest.contract import MAX_ROW_BYTES

IntArray = npt.NDArray[np.int64]
UTF8_BOM = b"\xef\xbb\xbf"
_SCAN = 64 << 20  # bytes compared at a time when looking for line breaks (bounds the temporaries)
# Arrow parses in blocks, in parallel; a row may straddle one block boundary but not two, so a
# block holds the longest row. Small blocks parse faster (Arrow's 1 MiB: 1.1 s for a 150 MB file,
# 33 MiB: 2.4 s), so the block grows only for a file with long rows.
_BLOCK_BYTES = 1 << 20


def _block_bytes(longest: int) -> int:
    return max(_BLOCK_BYTES, 2 * longest + (64 << 10))
# Chinese characters that must decode as UTF-8 before a bad byte for the file to count as UTF-8
# (GB18030 text passes for a UTF-8 Chinese character only by chance, and breaks right after).
_UTF8_EVIDENCE = 2


@dataclass
class Malformed:
    line: int
    text: str
    reason: str


@dataclass
class CsvRows:
    table: pa.Table  # every column as text
    lines: IntArray  # the line each row starts on (the header is line 1)
    malformed: list[Malformed]
    encoding: str


def _is_utf8(data: bytes) -> bool:
    offsets = pa.py_buffer(np.array([0, len(data)], dtype=np.int64).tobytes())
    try:
        pa.LargeStringArray.from_buffers(1, offsets, pa.py_buffer(data)).validate(full=True)
    except pa.ArrowInvalid:
        return False
    return True


# Lead bytes of 2-byte UTF-8 sequences (U+0080-U+07FF: Latin, Greek, Cyrillic ... but no Chinese).
# Short GB18030 texts can be valid UTF-8 only through them ("医" is D2 BD, UTF-8 for "ҽ").
_TWO_BYTE_LEAD = re.compile(rb"[\xc2-\xdf][\x80-\xbf]")
_HAN = re.compile(r"[\u3400-\u9fff]")


def _may_be_gb18030(data: bytes) -> bool:
    """Whether a valid UTF-8 file could be GB18030 text: not when it is ASCII, nor when its first
    MiB reads as Chinese in UTF-8 (checked first: scanning a large file for 2-byte sequences costs
    seconds)."""
    if data.isascii():
        return False
    head = data[: 1 << 20].decode("utf-8", errors="ignore")
    if len(_HAN.findall(head)) >= _UTF8_EVIDENCE:
        return False
    return _TWO_BYTE_LEAD.search(data) is not None


def _reads_better_as_gb18030(data: bytes) -> bool:
    """Whether a file valid as UTF-8 is GB18030 after all: it decodes as GB18030 and reads as
    more Chinese characters that way."""
    try:
        gb = data.decode("gb18030")
    except UnicodeDecodeError:
        return False
    return len(_HAN.findall(gb)) > len(_HAN.findall(data.decode("utf-8")))


def _first_bad_utf8(data: bytes) -> int:
    try:
        data.decode("utf-8")
    except UnicodeDecodeError as exc:
        return exc.start
    return len(data)


def _where(data: bytes, offset: int) -> str:
    line = data.count(b"\n", 0, offset) + 1
    return f"line {line}, byte offset {offset}"


def decide_encoding(path: str, data: bytes, forced: str | None) -> tuple[bytes, str]:
    """The file's text as UTF-8 (BOM removed) and the encoding it was written in."""
    if forced is not None and forced.replace("-", "").replace("_", "").lower() not in ("utf8", "utf8sig"):
        return _decode(path, data, forced), forced
    if data.startswith(UTF8_BOM):
        data = data[len(UTF8_BOM):]
        forced = forced or "utf-8"
    if _is_utf8(data):
        if forced is None and _may_be_gb18030(data) and _reads_better_as_gb18030(data):
            return data.decode("gb18030").encode("utf-8"), "gb18030"
        return data, "utf-8"
    bad = _first_bad_utf8(data)
    han = len(_HAN.findall(data[:bad].decode("utf-8")))
    if forced is not None or han >= _UTF8_EVIDENCE:
        raise FatalInputError(
            f"not valid UTF-8 at {_where(data, bad)} (byte 0x{data[bad]:02x}); the file is UTF-8 "
            "before it, so it is not read as another encoding: correct that byte or export the file "
            "again", file=path, line=data.count(b"\n", 0, bad) + 1)
    return _decode(path, data, "gb18030", utf8_bad=bad), "gb18030"


def _decode(path: str, data: bytes, encoding: str, utf8_bad: int | None = None) -> bytes:
    try:
        return data.decode(encoding).encode("utf-8")
    except LookupError as exc:
        raise FatalInputError(f"unknown encoding {encoding!r}", file=path) from exc
    except UnicodeDecodeError as exc:
        also = f" nor UTF-8 (first bad byte at {_where(data, utf8_bad)})" if utf8_bad is not None else ""
        raise FatalInputError(
            f"not valid {encoding} text at {_where(data, exc.start)}{also}: binary data or a damaged file",
            file=path, line=data.count(b"\n", 0, exc.start) + 1) from exc


def _positions(buf: npt.NDArray[np.uint8], byte: int) -> IntArray:
    parts = [np.flatnonzero(buf[s:s + _SCAN] == byte) + s for s in range(0, len(buf), _SCAN)]
    return np.concatenate(parts).astype(np.int64) if parts else np.zeros(0, np.int64)


@dataclass
class _Records:
    """Data records (after the header) as byte ranges, with the line each starts on."""

    start: IntArray
    end: IntArray  # exclusive, without the line break
    line: IntArray


def _physical(buf: npt.NDArray[np.uint8], newlines: IntArray, body: int) -> _Records:
    """One record per line from offset ``body`` on (no quoted line breaks)."""
    nl = newlines[newlines >= body]
    start = np.concatenate([[body], nl + 1]).astype(np.int64)
    end = np.concatenate([nl, [len(buf)]]).astype(np.int64)
    line = np.searchsorted(newlines, start).astype(np.int64) + 1
    if start[-1] >= len(buf):  # the file ends with a line break: no last record
        start, end, line = start[:-1], end[:-1], line[:-1]
    return _Records(start, end, line)


def _csv_reader(text: str) -> _csv.Reader:
    # a field may be as long as a row (the module's default limit is 128 KiB)
    csv.field_size_limit(max(csv.field_size_limit(), 2 * MAX_ROW_BYTES))
    return csv.reader(io.StringIO(text, newline=""))


def _scanned(path: str, utf8: bytes, newlines: IntArray, body: int) -> _Records:
    """Records found by a CSV scan (quoted line breaks); the slow path, for such files only."""
    text = utf8[body:].decode("utf-8")
    first_line = int(np.searchsorted(newlines, body)) + 1
    line_start = np.concatenate([[0], newlines + 1]).astype(np.int64)  # offset of each line
    starts: list[int] = []
    ends: list[int] = []
    lines: list[int] = []
    reader = _csv_reader(text)
    before = 0
    try:
        for _ in reader:
            first, last = first_line + before, first_line + reader.line_num - 1
            starts.append(int(line_start[first - 1]))
            end = int(line_start[last]) - 1 if last < len(line_start) else len(utf8)
            ends.append(end)
            lines.append(first)
            before = reader.line_num
    except csv.Error as exc:  # a quoted value longer than any row may be (an unclosed quote)
        raise FatalInputError(f"cannot parse CSV: {exc} (an unclosed quote?)", file=path,
                              line=first_line + before) from exc
    return _Records(np.asarray(starts, np.int64), np.asarray(ends, np.int64), np.asarray(lines, np.int64))


def _strip_cr(buf: npt.NDArray[np.uint8], r: _Records) -> IntArray:
    end = r.end.copy()
    has = end > r.start
    cr = np.zeros(len(end), dtype=bool)
    cr[has] = buf[end[has] - 1] == 13
    end[cr] -= 1
    return end


def _excerpt(utf8: bytes, start: int, end: int, limit: int = 200) -> str:
    text = utf8[start:min(end, start + limit * 4)].decode("utf-8", errors="replace")
    return text if len(text) <= limit and end - start <= limit * 4 else text[:limit] + "…"


def read_csv_rows(path: str, data: bytes, header: list[str], forced: str | None) -> CsvRows:
    """Parse a whole CSV file (see the module docstring); raises FatalInputError naming file and line.

    The usual file (UTF-8 from its first MiB on; after the header no quotes, blank lines, lone
    CRs, NUL bytes or long lines) goes straight to Arrow, which proves the UTF-8 as it
    converts every value; its rows are then on consecutive lines. Anything else (or a file Arrow
    refuses as UTF-8, or with malformed rows) takes the exact path: the encoding proved over the
    whole file first, and every record's line worked out from the bytes. The fast path keeps the
    parsing thread inside Arrow, where it does not hold the GIL the validating thread needs.
    """
    if forced is None and _looks_utf8(data) and _plain(data):
        invalid: list[str] = []

        def on_invalid(row: pcsv.InvalidRow) -> str:
            invalid.append(row.text)
            return "skip"

        try:
            table = _arrow(path, data, header, False, on_invalid, 0, strict=True)
        except _NotUtf8:
            pass  # decided below, with the line and offset of the first bad byte
        else:
            # as many rows as lines after the header: no blank line, so row i is on line i + 2
            body = data.find(b"\n") + 1
            lines = data.count(b"\n", body) + (0 if data.endswith(b"\n") or len(data) <= body else 1)
            if not invalid and table.num_rows == lines:
                return CsvRows(table, np.arange(table.num_rows, dtype=np.int64) + 2, [], "utf-8")
    return _exact(path, data, header, forced)


def _looks_utf8(data: bytes) -> bool:
    """No BOM to strip, UTF-8 in the first MiB, and not a short GB18030 text passing for UTF-8."""
    head = data[: 1 << 20]
    cut = head.rfind(b"\n") if len(data) > len(head) else len(head)
    try:
        head[: max(cut, 0)].decode("utf-8")
    except UnicodeDecodeError:
        return False
    return not data.startswith(UTF8_BOM) and not (_may_be_gb18030(data) and _reads_better_as_gb18030(data))


def _plain(data: bytes) -> bool:
    """Whether every line after the header can be one row: no quotes (a quoted header is fine),
    lone CRs, NUL bytes or lines longer than half an Arrow block. Blank lines are found after the
    parse, by counting (a two-byte search for them costs more than the parse's own thread)."""
    body = data.find(b"\n") + 1
    if any(data.find(mark, body) >= 0 for mark in (b'"', b"\x00")):
        return False
    if data.find(b"\r", body) >= 0 and data.count(b"\r", body) != data.count(b"\r\n", body):
        return False
    # Arrow's blocks hold a row when a line break falls in every half block (longer rows take the
    # exact path, whose blocks are sized from the longest row)
    window = _BLOCK_BYTES // 2
    pos = body
    while len(data) - pos > window:
        nl = data.rfind(b"\n", pos, pos + window + 1)
        if nl < 0:
            return False
        pos = nl + 1
    return True


def _exact(path: str, data: bytes, header: list[str], forced: str | None) -> CsvRows:
    utf8, encoding = decide_encoding(path, data, forced)
    buf = np.frombuffer(utf8, dtype=np.uint8)
    newlines = _line_ends(utf8, buf)
    body = int(newlines[0]) + 1 if len(newlines) else len(utf8)
    records = _physical(buf, newlines, body)
    quoted = b'"' in utf8
    if quoted and _quotes_span_lines(buf, newlines, body):
        records = _scanned(path, utf8, newlines, body)
    rows = _parse(path, utf8, buf, records, header, quoted)
    if rows is None and quoted:  # rare: quotes that looked balanced per line but were not
        rows = _parse(path, utf8, buf, _scanned(path, utf8, newlines, body), header, quoted)
    if rows is None:
        raise FatalInputError("the rows Arrow parsed do not match the file's lines (unbalanced quotes?)",
                              file=path)
    table, lines, malformed = rows
    return CsvRows(table, lines, malformed, encoding)


def _line_ends(utf8: bytes, buf: npt.NDArray[np.uint8]) -> IntArray:
    """Offsets of the line ends: every ``\\n``, and a carriage return not followed by one (Arrow and
    editors take a lone ``\\r`` for a line end too)."""
    ends = _positions(buf, 10)
    if b"\r" in utf8:
        cr = _positions(buf, 13)
        after = np.minimum(cr + 1, len(buf) - 1)
        lone = cr[(cr + 1 >= len(buf)) | (buf[after] != 10)]
        if len(lone):
            ends = np.union1d(ends, lone).astype(np.int64)
    return ends


def _quotes_span_lines(buf: npt.NDArray[np.uint8], newlines: IntArray, body: int) -> bool:
    """Whether some line holds an odd number of quotes (a quoted value may cross a line break)."""
    quotes = _positions(buf[body:], 34)
    if not len(quotes):
        return False
    per_line = np.bincount(np.searchsorted(newlines, quotes + body))
    return bool((per_line % 2).any())


def _parse(path: str, utf8: bytes, buf: npt.NDArray[np.uint8], r: _Records, header: list[str],
           quoted: bool) -> tuple[pa.Table, IntArray, list[Malformed]] | None:
    """Arrow's parse of the records, aligned to their lines; None when the two disagree."""
    end = _strip_cr(buf, r)
    length = end - r.start
    blank = length == 0
    long = length > MAX_ROW_BYTES
    binary = np.zeros(len(length), dtype=bool)
    if b"\x00" in utf8:
        nul = _positions(buf, 0)
        hit = np.searchsorted(r.start, nul, side="right") - 1
        binary[hit[(hit >= 0) & (nul < r.end[np.maximum(hit, 0)])]] = True
    malformed = [Malformed(int(r.line[i]), _excerpt(utf8, int(r.start[i]), int(end[i])),
                           reasons.row_too_long(int(length[i]), MAX_ROW_BYTES))
                 for i in np.flatnonzero(long)]
    malformed += [Malformed(int(r.line[i]),
                            _excerpt(utf8, int(r.start[i]), int(end[i])).replace("\x00", "\\0"),
                            reasons.binary_row())
                  for i in np.flatnonzero(binary & ~long)]
    keep = ~(blank | long | binary)
    data = utf8
    if (long | binary).any():  # take them out so Arrow never sees them
        pieces = [utf8[:int(r.start[0])] if len(r.start) else utf8]
        pieces += [utf8[int(s):int(e)] + b"\n" for s, e in zip(r.start[keep], r.end[keep], strict=True)]
        data = b"".join(pieces)
    invalid: list[str] = []

    def on_invalid(row: pcsv.InvalidRow) -> str:
        invalid.append(row.text)
        return "skip"

    longest = int(length[keep].max()) if keep.any() else 0
    table = _arrow(path, data, header, quoted, on_invalid, longest) if keep.any() else _empty(header)
    cand = np.flatnonzero(keep)
    if table.num_rows + len(invalid) != len(cand):
        return None
    bad_rows = _locate(utf8, r.start[cand], end[cand], invalid)
    if bad_rows is None:
        return None
    good = np.ones(len(cand), dtype=bool)
    good[bad_rows] = False
    for i, text in zip(bad_rows, invalid, strict=True):
        malformed.append(Malformed(int(r.line[cand[i]]), text, _field_count_reason(text, len(header))))
    malformed.sort(key=lambda m: m.line)
    return table, r.line[cand[good]], malformed


def _field_count_reason(text: str, expected: int) -> str:
    fields = next(_csv_reader(text), [])
    return reasons.column_count(expected, len(fields))


def _locate(utf8: bytes, start: IntArray, end: IntArray, texts: list[str]) -> list[int] | None:
    """Which candidate records are the rows Arrow refused, found by their text.

    Arrow reports refused rows in file order within a block; the search goes on from the last
    find (so ordered reports cost one pass over the file) and wraps around once.
    """
    found: list[int] = []
    taken: set[int] = set()
    cursor = int(start[0]) if len(start) else 0
    for text in texts:
        raw = text.encode("utf-8")
        hit = _find_record(utf8, start, end, raw, cursor, taken)
        if hit is None:
            hit = _find_record(utf8, start, end, raw, int(start[0]), taken)
        if hit is None:
            return None
        found.append(hit)
        taken.add(hit)
        cursor = int(start[hit])
    return found


def _find_record(utf8: bytes, start: IntArray, end: IntArray, raw: bytes, pos: int,
                 taken: set[int]) -> int | None:
    while (pos := utf8.find(raw, pos)) >= 0:
        i = int(np.searchsorted(start, pos))
        if i < len(start) and start[i] == pos and end[i] - pos in (len(raw), len(raw.rstrip(b"\r"))) \
                and i not in taken:
            return i
        pos += 1
    return None


def _empty(header: list[str]) -> pa.Table:
    """No row at all (a header alone, with or without its line break): a valid, empty table."""
    return pa.table({h: pa.array([], pa.string()) for h in header})


class _NotUtf8(Exception):
    """Arrow found a value that is not UTF-8 in a file read as UTF-8 without proof."""


def _arrow(path: str, data: bytes, header: list[str], quoted: bool,
           on_invalid: Callable[[pcsv.InvalidRow], str], longest: int, *, strict: bool = False) -> pa.Table:
    """Arrow's parse; with ``strict`` a value that is not UTF-8 raises :class:`_NotUtf8`."""
    nl = data.find(b"\n")
    if nl < 0 or (len(data) - nl - 1 <= 2 and not data[nl + 1:].strip(b"\r\n")):
        return _empty(header)  # a header alone, with or without its line break
    try:
        return pcsv.read_csv(
            io.BytesIO(data),
            read_options=pcsv.ReadOptions(column_names=header, skip_rows=1, block_size=_block_bytes(longest)),
            parse_options=pcsv.ParseOptions(newlines_in_values=quoted, invalid_row_handler=on_invalid),
            convert_options=pcsv.ConvertOptions(
                column_types={h: pa.string() for h in header},
                null_values=[""],  # NA, NULL, N/A are values, not guessed to mean "empty"
                strings_can_be_null=True,
                quoted_strings_can_be_null=True,
            ),
        )
    except (pa.ArrowInvalid, UnicodeDecodeError) as exc:
        if strict and ("UTF8" in str(exc) or isinstance(exc, UnicodeDecodeError)):
            raise _NotUtf8 from exc
        raise FatalInputError(f"cannot parse CSV: {exc}", file=path) from exc
