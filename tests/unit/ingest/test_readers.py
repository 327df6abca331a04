"""Reading files: encodings, line numbers, malformed lines, fatal problems, Excel and Parquet."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import openpyxl
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from graph.errors import FatalInputError
from ingest.readers import detect_encoding, find_tables, read_table

HEADER = "institution_id,name,kind\n"


def write(path: Path, text: str, encoding: str = "utf-8") -> Path:
    path.write_bytes(text.encode(encoding))
    return path


def test_gb18030_is_detected_and_read(tmp_path: Path) -> None:
    path = write(tmp_path / "institutions.csv", HEADER + "H1,石家庄市第一医院,hospital\n", "gb18030")
    assert detect_encoding(path.read_bytes()) == "gb18030"
    raw = read_table(path, "institutions")
    assert raw.encoding == "gb18030"
    assert raw.table.column("name").to_pylist() == ["石家庄市第一医院"]


def test_utf8_with_bom_and_forced_encoding(tmp_path: Path) -> None:
    path = write(tmp_path / "institutions.csv", "\ufeff" + HEADER + "H1,一院,hospital\n")
    raw = read_table(path, "institutions")
    assert raw.table.column_names == ["institution_id", "name", "kind"]
    with pytest.raises(FatalInputError, match="not valid gb2312"):
        read_table(
            write(tmp_path / "x.csv", HEADER + "H1,一院,hospital\n"), "institutions", encoding="gb2312"
        )


def test_line_numbers_skip_blank_lines_and_report_wrong_field_counts(tmp_path: Path) -> None:
    text = HEADER + "H1,a,clinic\n\nH2,b\nH3,c,hospital\nH4,d,x,y\n\nH5,e,pharmacy\n"
    raw = read_table(write(tmp_path / "institutions.csv", text), "institutions")
    assert raw.table.column("institution_id").to_pylist() == ["H1", "H3", "H5"]
    assert raw.lines.tolist() == [2, 5, 8]
    assert [(m.line, m.text, m.reason) for m in raw.malformed] == [
        (4, "H2,b", "expected 3 columns, got 2"),
        (6, "H4,d,x,y", "expected 3 columns, got 4"),
    ]


def test_missing_required_column_is_fatal_and_named(tmp_path: Path) -> None:
    path = write(tmp_path / "institutions.csv", "institution_id,kind\nH1,clinic\n")
    with pytest.raises(FatalInputError) as err:
        read_table(path, "institutions")
    assert err.value.column == "name" and "institutions.csv" in str(err.value)


def test_a_table_given_twice_or_no_table_at_all_is_fatal(tmp_path: Path) -> None:
    with pytest.raises(FatalInputError, match="no input tables"):
        find_tables(tmp_path)
    write(tmp_path / "claims.csv", "claim_id\n")
    write(tmp_path / "claims.parquet", "")
    with pytest.raises(FatalInputError, match="given twice"):
        find_tables(tmp_path)


def test_excel_cells_become_text_with_sheet_row_numbers(tmp_path: Path) -> None:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["injury_case_id", "person_id", "injury_date", "third_party_liable", "备注"])
    ws.append(["I1", "11010519491231002X", date(2024, 3, 5), True, 1.5])
    ws.append([None, None, None, None, None])
    ws.append(["I2", "11010519491231002X", "2024-03-06", False, 2.0])
    wb.save(tmp_path / "injury_cases.xlsx")
    raw = read_table(tmp_path / "injury_cases.xlsx", "injury_cases")
    assert raw.lines.tolist() == [2, 4]
    assert raw.table.column("injury_date").to_pylist() == ["2024-03-05", "2024-03-06"]
    assert raw.table.column("third_party_liable").to_pylist() == ["true", "false"]
    assert raw.table.column("备注").to_pylist() == ["1.5", "2"]
    assert raw.extra_columns == ["备注"]


def test_parquet_keeps_its_types(tmp_path: Path) -> None:
    pq.write_table(
        pa.table(
            {
                "institution_id": ["H1"],
                "name": ["一院"],
                "kind": ["hospital"],
                "level": pa.array([3], pa.int64()),
            }
        ),
        tmp_path / "institutions.parquet",
    )
    raw = read_table(tmp_path / "institutions.parquet", "institutions")
    assert raw.table.schema.field("level").type == pa.int64()
    assert raw.lines.tolist() == [2]
