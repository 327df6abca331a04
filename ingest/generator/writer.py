"""Writing the generated tables as CSV (UTF-8 or GB18030), Parquet (typed columns) or Excel."""

from __future__ import annotations

import io
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pcsv
import pyarrow.parquet as pq

from graph.errors import InvalidRequest
from ingest.contract import TABLES

FORMATS = ("csv", "parquet", "xlsx")
EXCEL_MAX_ROWS = 1_048_575  # one sheet, below the header
_CSV_CHUNK = 500_000


def write_table(
    out_dir: Path, name: str, table: pa.Table, raw_lines: dict[int, str], *, fmt: str, encoding: str
) -> Path:
    if fmt == "csv":
        return _write_csv(out_dir / f"{name}.csv", table, raw_lines, encoding)
    if fmt == "parquet":
        path = out_dir / f"{name}.parquet"
        pq.write_table(typed(name, table), path)
        return path
    if fmt == "xlsx":
        return _write_xlsx(out_dir / f"{name}.xlsx", table)
    raise InvalidRequest(f"unknown format {fmt!r}; use one of {', '.join(FORMATS)}")


def _csv_bytes(table: pa.Table, header: bool) -> bytes:
    # Unquoted like most bureau exports; quotes only for a chunk with a value that needs them.
    for style in ("none", "needed"):
        sink = io.BytesIO()
        try:
            pcsv.write_csv(table, sink, pcsv.WriteOptions(include_header=header, quoting_style=style))
        except pa.ArrowInvalid:
            continue
        return sink.getvalue()
    raise AssertionError("quoting_style 'needed' always writes")


def _write_csv(path: Path, table: pa.Table, raw_lines: dict[int, str], encoding: str) -> Path:
    with path.open("wb") as f:
        f.write(_encode(_csv_bytes(table.slice(0, 0), True), encoding))

        def rows(start: int, count: int) -> None:
            for at in range(start, start + count, _CSV_CHUNK):
                part = table.slice(at, min(_CSV_CHUNK, start + count - at))
                f.write(_encode(_csv_bytes(part, False), encoding))

        position, offset = 0, 0  # data-row position in the file, row of the table
        for slot, text in sorted(raw_lines.items()):  # raw lines sit between table rows
            rows(offset, slot - position)
            offset += slot - position
            f.write(_encode((text + "\n").encode("utf-8"), encoding))
            position = slot + 1
        rows(offset, table.num_rows - offset)
    return path


def _encode(utf8: bytes, encoding: str) -> bytes:
    if encoding.replace("-", "").lower() == "utf8":
        return utf8
    return utf8.decode("utf-8").encode(encoding)


def typed(name: str, table: pa.Table) -> pa.Table:
    """Parquet keeps types: dates as date32, amounts as float64, level as int64, flags as bool."""
    spec = TABLES[name]
    columns: dict[str, pa.Array] = {}
    for col in table.column_names:
        values = table.column(col)
        kind = spec.column(col).type if col in spec.column_names else "str"
        if kind == "date":
            values = pc.strptime(values, format="%Y-%m-%d", unit="s").cast(pa.date32())
        elif kind == "amount":
            values = values.cast(pa.float64())
        elif kind == "int":
            values = values.cast(pa.int64())
        elif kind == "bool":
            values = pc.equal(values, "true")
        columns[col] = values
    return pa.table(columns)


def _write_xlsx(path: Path, table: pa.Table) -> Path:
    if table.num_rows > EXCEL_MAX_ROWS:
        raise InvalidRequest(
            f"{path.name}: {table.num_rows} rows do not fit one Excel sheet ({EXCEL_MAX_ROWS}); "
            "use --format csv or parquet for cities this large"
        )
    import openpyxl

    wb = openpyxl.Workbook(write_only=True)
    ws = wb.create_sheet(path.stem)
    ws.append(table.column_names)
    for batch in table.to_batches(50_000):
        for row in zip(*(c.to_pylist() for c in batch.columns), strict=True):
            ws.append(list(row))
    wb.save(path)
    return path
