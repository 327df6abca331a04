"""Reading one input table from CSV (UTF-8 or GB18030), Excel (.xlsx) or Parquet into Arrow.

CSV and Excel values are read as text so the validator sees exactly what the bureau wrote;
Parquet keeps its column types (dates, numbers, booleans), which the validator also accepts.
Each row carries its line number in the file (the header is line 1), and rows with the wrong
number of fields come back separately so they can be rejected with their text.
"""

from __future__ import annotations

import csv
import hashlib
import io
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.parquet as pq

from graph.errors import FatalInputError
from ingest.contract import TABLES, Table
from ingest.csvread import UTF8_BOM, Malformed, read_csv_rows
from ingest.folder import scan

_DETECT_BYTES = 4 << 20


@dataclass
class RawTable:
    name: str
    path: Path
    table: pa.Table
    lines: npt.NDArray[np.int64]
    digest: str
    encoding: str | None = None
    malformed: list[Malformed] = field(default_factory=list)

    @property
    def extra_columns(self) -> list[str]:
        known = set(TABLES[self.name].column_names)
        return [c for c in self.table.column_names if c not in known]


def find_tables(in_dir: Path) -> dict[str, Path]:
    """The input file of each table present in ``in_dir`` (see :mod:`ingest.folder`)."""
    return scan(in_dir).tables


@dataclass
class TableFile:
    """A table file opened and its header checked, not parsed yet.

    A CSV file is opened on its first bytes only (enough to detect the encoding and read the
    header); :func:`parse_table` reads the rest and works out ``digest``, so that the reading and
    hashing of a large file happen on the parsing thread, not before anything can start.
    """

    name: str
    path: Path
    data: bytes
    digest: str
    encoding: str | None
    parsed: RawTable | None = None  # Excel is parsed when opened
    size: int = 0  # bytes in the file
    whole: bool = True  # whether ``data`` holds the whole file


def _read_bytes(path: Path, limit: int | None = None) -> bytes:
    try:
        if limit is None:
            return path.read_bytes()
        with path.open("rb") as f:
            return f.read(limit)
    except OSError as exc:
        raise FatalInputError(f"cannot read file: {exc.strerror}", file=str(path)) from exc


def _load(tf: TableFile) -> None:
    """Read the rest of a file opened on its head, and its digest."""
    if not tf.whole:
        tf.data = _read_bytes(tf.path)
        tf.whole = True
    if not tf.digest:
        tf.digest = hashlib.sha256(tf.data).hexdigest()


def open_table(path: Path, name: str, *, encoding: str | None = None) -> TableFile:
    """Read the header (a CSV file's first bytes, other files whole); raises FatalInputError naming
    the file and column when it cannot be used."""
    suffix = path.suffix.lower()
    # one byte past what encoding detection reads, so it sees a file as long as the whole one
    data = _read_bytes(path, _DETECT_BYTES + 1 if suffix == ".csv" else None)
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise FatalInputError(f"cannot read file: {exc.strerror}", file=str(path)) from exc
    tf = TableFile(name, path, data, "", encoding, size=max(size, len(data)), whole=len(data) >= size)
    if suffix == ".csv":
        chosen = encoding or detect_encoding(data)
        header = _csv_header(path, _to_utf8(path, data[: _header_end(data)], chosen))
    elif suffix == ".parquet":
        try:
            header = [c.strip() for c in pq.read_schema(pa.BufferReader(data)).names]
        except (pa.ArrowInvalid, OSError) as exc:
            raise FatalInputError(f"cannot read Parquet: {exc}", file=str(path)) from exc
    elif suffix == ".xlsx":
        _load(tf)
        tf.parsed = parse_table(tf)
        header = tf.parsed.table.column_names
    else:
        raise FatalInputError(f"unsupported file type {suffix}", file=str(path))
    _check_columns(path, header, TABLES[name])
    return tf


def parse_table(tf: TableFile) -> RawTable:
    """Parse an opened table (the slow part, safe to run on another thread)."""
    if tf.parsed is not None:
        return tf.parsed
    _load(tf)
    suffix = tf.path.suffix.lower()
    if suffix == ".csv":
        raw = _read_csv(tf.path, tf.name, tf.data, tf.encoding)
    elif suffix == ".parquet":
        raw = _read_parquet(tf.path, tf.name, tf.data)
    else:
        raw = _read_xlsx(tf.path, tf.name, tf.data)
    raw.digest = tf.digest
    _check_columns(tf.path, raw.table.column_names, TABLES[tf.name])
    return raw


def read_table(path: Path, name: str, *, encoding: str | None = None) -> RawTable:
    """Read one table file; raises FatalInputError naming the file (and column) when it cannot be used."""
    return parse_table(open_table(path, name, encoding=encoding))


def _header_end(data: bytes) -> int:
    nl = data.find(b"\n")
    return len(data) if nl < 0 else nl


def _csv_header(path: Path, utf8_first_line: bytes) -> list[str]:
    if utf8_first_line.startswith(UTF8_BOM):
        utf8_first_line = utf8_first_line[len(UTF8_BOM) :]
    line = utf8_first_line.decode("utf-8", errors="replace").rstrip("\r")
    header = [h.strip() for h in next(csv.reader([line]), [])]
    if not any(header):
        raise FatalInputError("empty file or empty header line", file=str(path))
    return header


def _check_columns(path: Path, names: list[str], spec: Table) -> None:
    dupes = sorted({c for c in names if names.count(c) > 1})
    if dupes:
        raise FatalInputError("column given twice", file=str(path), column=dupes[0])
    for col in spec.required:
        if col not in names:
            raise FatalInputError(
                f"missing required column {col} (columns found: {', '.join(names)})",
                file=str(path),
                column=col,
            )


def detect_encoding(data: bytes) -> str:
    """UTF-8 when the start of the file decodes as UTF-8, else GB18030 (what Chinese Excel writes)."""
    if data.startswith(UTF8_BOM):
        return "utf-8"
    head = data[:_DETECT_BYTES]
    if len(data) > _DETECT_BYTES:
        cut = head.rfind(b"\n")
        head = head[: cut if cut > 0 else len(head)]
    try:
        head.decode("utf-8")
    except UnicodeDecodeError:
        return "gb18030"
    return "utf-8"


def _to_utf8(path: Path, data: bytes, encoding: str) -> bytes:
    if encoding.replace("-", "").replace("_", "").lower() in ("utf8", "utf8sig"):
        return data
    try:
        return data.decode(encoding).encode("utf-8")
    except LookupError as exc:
        raise FatalInputError(f"unknown encoding {encoding!r}", file=str(path)) from exc
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise FatalInputError(f"not valid {encoding} text", file=str(path), line=line) from exc


def _read_csv(path: Path, name: str, data: bytes, encoding: str | None) -> RawTable:
    head = data[: _header_end(data)]
    header = _csv_header(path, _to_utf8(path, head, encoding or detect_encoding(head)))
    rows = read_csv_rows(str(path), data, header, encoding)
    return RawTable(name, path, rows.table, rows.lines, "", rows.encoding, rows.malformed)


def _read_parquet(path: Path, name: str, data: bytes) -> RawTable:
    try:
        table = pq.read_table(pa.BufferReader(data))
    except (pa.ArrowInvalid, OSError) as exc:
        raise FatalInputError(f"cannot read Parquet: {exc}", file=str(path)) from exc
    table = table.rename_columns([c.strip() for c in table.column_names])
    lines = np.arange(table.num_rows, dtype=np.int64) + 2
    return RawTable(name, path, table, lines, "", None)


def _cell_text(value: object) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == datetime.min.time() else value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    return str(value)


def _read_xlsx(path: Path, name: str, data: bytes) -> RawTable:
    # Excel is for small exports (bureau desktops); openpyxl walks rows in Python.
    import openpyxl

    try:
        wb = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many unrelated types for a broken file
        raise FatalInputError(f"cannot read Excel workbook: {exc}", file=str(path)) from exc
    try:
        ws = wb.worksheets[0]
        rows = ws.iter_rows(values_only=True)
        header_cells = next(rows, None)
        if not header_cells:
            raise FatalInputError("empty sheet", file=str(path))
        header = [str(h).strip() if h is not None else "" for h in header_cells]
        while header and not header[-1]:
            header.pop()
        columns: list[list[str | None]] = [[] for _ in header]
        lines: list[int] = []
        for number, row in enumerate(rows, start=2):
            if row is None or all(v is None or v == "" for v in row):
                continue
            for i in range(len(header)):
                columns[i].append(_cell_text(row[i]) if i < len(row) else None)
            lines.append(number)
    finally:
        wb.close()
    table = pa.table({h: pa.array(col, pa.string()) for h, col in zip(header, columns, strict=True)})
    return RawTable(name, path, table, np.asarray(lines, dtype=np.int64), "", None)
