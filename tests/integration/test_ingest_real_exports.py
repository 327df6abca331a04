"""Real bureau exports lose nothing (issue 11): one test per failure found, on small hand-made folders.

Each folder is a tiny city drawn in its own test: one hospital ``H1``, one pharmacy ``P1``, one
doctor ``D1`` at ``H1`` and a few persons with valid ID numbers, plus what the case needs.
"""

from __future__ import annotations

import csv
import io
import shutil
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from graph.duckdb.store import DuckDBStore
from graph.errors import FatalInputError, StoreError
from graph.model import NodeRef
from ingest.contract import TABLES
from ingest.generator import generate_city
from ingest.idnumber import make_ids
from ingest.loader import ingest_dir
from tests.integration.ingest_helpers import fingerprint, read_rejects, read_warnings

PIDS = [str(p) for p in make_ids(np.array([330106] * 6), np.array([19500101 + i for i in range(6)]),
                                 np.arange(1, 7) * 2)]  # women, born 1950-01-01 .. 06


def write_table(folder: Path, name: str, rows: list[dict[str, str]],
                columns: list[str] | None = None) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    cols = columns or list(TABLES[name].column_names)
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=cols, lineterminator="\n", extrasaction="ignore")
    writer.writeheader()
    writer.writerows(rows)
    path = folder / f"{name}.csv"
    path.write_text(out.getvalue(), encoding="utf-8")
    return path


def person(i: int, **over: str) -> dict[str, str]:
    return {"person_id": PIDS[i], "name": f"测试{i}", "address": "杭州市西湖区文三路1号", **over}


def claim(claim_id: str, pid: str, **over: str) -> dict[str, str]:
    return {"claim_id": claim_id, "scheme": "medical", "person_id": pid, "institution_id": "H1",
            "doctor_id": "D1", "visit_type": "outpatient", "start_date": "2024-03-01",
            "total_amount": "100.00", "reimbursed_amount": "60.00", **over}


def base(folder: Path, persons: list[dict[str, str]], claims: list[dict[str, str]] | None = None) -> Path:
    write_table(folder, "institutions", [
        {"institution_id": "H1", "name": "杭州某医院", "kind": "hospital"},
        {"institution_id": "P1", "name": "某药店", "kind": "pharmacy"},
    ])
    write_table(folder, "doctors", [{"doctor_id": "D1", "name": "李医生", "institution_id": "H1"}])
    write_table(folder, "persons", persons)
    if claims is not None:
        write_table(folder, "claims", claims)
    return folder


@pytest.fixture
def store(tmp_path: Path) -> Iterator[DuckDBStore]:
    s = DuckDBStore(tmp_path / "g.duckdb")
    s.apply_schema()
    yield s
    s.close()


def phones_of(store: DuckDBStore, pid: str) -> list[str]:
    return sorted(n.key for n in store.neighbours([NodeRef("Patient", pid)], rel_types=["HAS_PHONE"]).nodes)


# 1 ---------------------------------------------------------------------------------------------
def test_1_landlines_load_one_phone_node_and_a_bad_phone_costs_only_the_field(
        store: DuckDBStore, tmp_path: Path) -> None:
    folder = base(tmp_path / "in", [
        person(0, phone="057187654321"),  # a care home's front desk, 12 digits
        person(1, phone="0571-87654321"),  # the same desk, written with the dash
        person(2, phone="(0571) 8765 4321 转 808"),
        person(3, phone="前台电话"),  # not a phone: the person still loads
        person(4, name=""),  # unusable row: its claim says where it went
    ], [claim("C1", PIDS[0]), claim("C2", PIDS[3]), claim("C3", PIDS[4])])

    report = ingest_dir(store, folder)

    assert report.table("persons").loaded == 4 and report.table("persons").warnings == 1
    assert phones_of(store, PIDS[0]) == phones_of(store, PIDS[1]) == ["057187654321"]
    assert phones_of(store, PIDS[2]) == ["057187654321-808"]
    assert phones_of(store, PIDS[3]) == []
    assert read_warnings(folder / "_warnings") == {("persons", 5, (
        "phone: '前台电话' is not a phone number (mobile, landline with area code, 400/800 number, "
        "optional extension)"))}
    warning = pd.read_csv(folder / "_warnings" / "persons.csv", dtype=str, encoding="utf-8-sig")
    assert list(warning.columns) == ["line", "field", "value", "reason"]
    assert warning.iloc[0].tolist()[:3] == ["5", "phone", "前台电话"]
    assert read_rejects(folder / "_rejects") == {
        ("persons", 6, "name: required value missing"),
        ("claims", 4, f"person_id {PIDS[4]} not loaded: person rejected at persons.csv line 6"),
    }
    assert report.table("claims").loaded == 2
    assert "warnings" in str(report)


def test_1_only_warnings_exit_0(store: DuckDBStore, tmp_path: Path) -> None:
    folder = base(tmp_path / "in", [person(0, phone="12345", bank_account="6222-ABCD")])
    report = ingest_dir(store, folder)
    assert report.exit_code == 0 and report.warnings == 2 and report.rejected == 0
    assert not (folder / "_rejects").exists()


# 2 ---------------------------------------------------------------------------------------------
def test_2_an_absent_optional_column_keeps_links_and_an_empty_value_clears_them(
        store: DuckDBStore, tmp_path: Path) -> None:
    first = base(tmp_path / "first", [person(0, phone="13812345678", bank_account="6222021234567890"),
                                      person(1, phone="13912345678")])
    ingest_dir(store, first)
    later = tmp_path / "later"
    renamed = [{"person_id": PIDS[0], "name": "改名"}, {"person_id": PIDS[1], "name": "x"}]
    write_table(later, "persons", renamed, columns=["person_id", "name"])  # no phone, account, address

    assert ingest_dir(store, later).exit_code == 0

    assert phones_of(store, PIDS[0]) == ["13812345678"] and phones_of(store, PIDS[1]) == ["13912345678"]
    [p0] = store.get_nodes("Patient", [PIDS[0]])
    assert p0.props["name"] == "改名" and p0.props["address"] == "杭州市西湖区文三路1号"
    cleared = tmp_path / "cleared"
    write_table(cleared, "persons", [{"person_id": PIDS[0], "name": "改名", "phone": ""}],
                columns=["person_id", "name", "phone"])
    ingest_dir(store, cleared)
    assert phones_of(store, PIDS[0]) == []
    assert len(store.neighbours([NodeRef("Patient", PIDS[0])], rel_types=["HAS_ACCOUNT"]).nodes) == 1


# 3, 4 ------------------------------------------------------------------------------------------
@pytest.mark.parametrize(("value", "shown"), [(float("nan"), "nan"), (float("-inf"), "-inf"),
                                              (float("inf"), "inf")])
def test_3_4_parquet_amounts_that_are_no_number_are_rejected_with_a_reason(
        store: DuckDBStore, tmp_path: Path, value: float, shown: str) -> None:
    folder = base(tmp_path / "in", [person(0)])
    rows = pa.Table.from_pylist([claim("C1", PIDS[0]), claim("C2", PIDS[0])])
    rows = rows.set_column(rows.column_names.index("total_amount"), "total_amount",
                           pa.array([value, 100.0], pa.float64()))  # a real NaN, not a null
    rows = rows.set_column(rows.column_names.index("reimbursed_amount"), "reimbursed_amount",
                           pa.array([1.0, 60.0], pa.float64()))
    pq.write_table(rows, folder / "claims.parquet")

    report = ingest_dir(store, folder)

    assert report.exit_code == 2 and report.table("claims").loaded == 1
    assert read_rejects(folder / "_rejects") == {
        ("claims", 2, f"total_amount: '{shown}' is not a finite number")}
    assert store.count_nodes()["Patient"] == 1


# 5, 15 (amount) --------------------------------------------------------------------------------
def test_5_15_amounts_above_the_per_claim_limit_are_rejected_as_written(
        store: DuckDBStore, tmp_path: Path) -> None:
    folder = base(tmp_path / "in", [person(0)], [
        claim("C1", PIDS[0], total_amount="92233720368547758.08", reimbursed_amount="1"),
        claim("C2", PIDS[0], total_amount="1000000000000000", reimbursed_amount="1"),
        claim("C3", PIDS[0], total_amount="10000000.01", reimbursed_amount="1"),
        claim("C4", PIDS[0], total_amount="10000000.00", reimbursed_amount="1"),
    ])
    ingest_dir(store, folder)
    limit = "is above the per-claim limit of 10000000.00 yuan"
    assert read_rejects(folder / "_rejects") == {
        ("claims", 2, f"total_amount 92233720368547758.08 {limit}"),
        ("claims", 3, f"total_amount 1000000000000000 {limit}"),
        ("claims", 4, f"total_amount 10000000.01 {limit}"),
    }
    assert store.count_nodes()["Claim"] == 1


# 6 ---------------------------------------------------------------------------------------------
def test_6_null_words_are_values_not_guessed_empties(store: DuckDBStore, tmp_path: Path) -> None:
    folder = base(tmp_path / "in", [person(0, name="NA"), person(1, phone="NULL")],
                  [claim("C1", PIDS[0], doctor_id="N/A"), claim("C2", PIDS[1], doctor_id="")])

    ingest_dir(store, folder)

    [named] = store.get_nodes("Patient", [PIDS[0]])
    assert named.props["name"] == "NA"
    assert read_warnings(folder / "_warnings") == {("persons", 3, (
        "phone: 'NULL' is not a phone number (mobile, landline with area code, 400/800 number, "
        "optional extension)"))}
    # a doctor written as N/A is not silently "no doctor": the claim says what is wrong
    assert read_rejects(folder / "_rejects") == {("claims", 2, "doctor_id N/A not found")}
    assert store.count_nodes()["Claim"] == 1  # the claim with an empty doctor_id loads, unlinked


# 7 ---------------------------------------------------------------------------------------------
def test_7_a_stray_byte_in_a_utf8_file_is_an_error_with_line_and_offset(
        store: DuckDBStore, tmp_path: Path) -> None:
    folder = base(tmp_path / "in", [person(0), person(1), person(2)])
    path = folder / "persons.csv"
    data = path.read_bytes()
    third = data.index(PIDS[2].encode())
    path.write_bytes(data[:third] + b"\xff" + data[third:])
    before = fingerprint(store)

    with pytest.raises(FatalInputError) as err:
        ingest_dir(store, folder)

    assert err.value.line == 4
    assert f"not valid UTF-8 at line 4, byte offset {third}" in str(err.value)
    assert fingerprint(store) == before  # nothing loaded, nothing garbled


# 8 ---------------------------------------------------------------------------------------------
def test_8_binary_garbage_is_rejected_with_its_line(store: DuckDBStore, tmp_path: Path) -> None:
    folder = base(tmp_path / "in", [person(0)], [claim("C1", PIDS[0])])
    with (folder / "claims.csv").open("ab") as f:
        f.write(bytes(range(256)) * 8)
    with pytest.raises(FatalInputError) as err:
        ingest_dir(store, folder)
    # bytes 0x00-0x7f are text (a line break among them); 0x80 on the next line is not
    assert "claims.csv" in str(err.value) and err.value.line == 4
    nul = base(tmp_path / "nul", [person(0)], [claim("C1", PIDS[0])])
    with (nul / "claims.csv").open("ab") as f:
        f.write(b"C2,medical\x00\x01\x02,x\n")
    report = ingest_dir(store, nul)
    assert report.table("claims").loaded == 1
    assert read_rejects(nul / "_rejects") == {("claims", 3, "row holds binary data (a NUL byte), not text")}


# 9 ---------------------------------------------------------------------------------------------
def test_9_quoted_line_breaks_keep_true_lines_and_no_row_is_lost_at_a_block_boundary(
        store: DuckDBStore, tmp_path: Path) -> None:
    rows = [person(0, address="杭州市\n西湖区"), person(1, name="王\r\n芳\n\n3")]
    folder = base(tmp_path / "in", rows, [
        claim("C1", PIDS[0], diagnosis_code="x" * 700_000 + "\n" + "y" * 700_000),  # crosses 1 MiB
        claim("C2", PIDS[0], total_amount="bad"),
        claim("C3", PIDS[1]),
    ])
    report = ingest_dir(store, folder)
    [p1] = store.get_nodes("Patient", [PIDS[1]])
    assert p1.props["name"] == "王\r\n芳\n\n3"  # exactly as written
    assert report.table("claims").loaded == 2
    # the claim after the two-line one starts on line 4
    assert read_rejects(folder / "_rejects") == {
        ("claims", 4, "total_amount: 'bad' is not an amount in yuan with at most 2 decimals")}
    [c1] = store.get_nodes("Claim", ["medical:C1"])
    assert len(str(c1.props["diagnosis_code"])) == 1_400_001


# 10 --------------------------------------------------------------------------------------------
def test_10_long_rows_load_and_rows_over_the_limit_are_rejected_with_their_line(
        store: DuckDBStore, tmp_path: Path) -> None:
    folder = base(tmp_path / "in", [person(0)], [
        claim("C1", PIDS[0], diagnosis_code="x" * (3 << 20)),
        claim("C2", PIDS[0], diagnosis_code="y" * (17 << 20)),
        claim("C3", PIDS[0]),
    ])
    report = ingest_dir(store, folder)
    assert report.table("claims").loaded == 2
    [(table, line, reason)] = read_rejects(folder / "_rejects")
    assert (table, line) == ("claims", 3) and "longer than the 16,777,216-byte limit" in reason
    # a long row alone, in an otherwise plain file
    plain = base(tmp_path / "plain", [person(0)], [claim("C1", PIDS[0], diagnosis_code="x" * (5 << 20)),
                                                     claim("C2", PIDS[0])])
    assert ingest_dir(store, plain).table("claims").loaded == 2


# 11 --------------------------------------------------------------------------------------------
def test_11_a_header_without_trailing_newline_is_an_empty_table(store: DuckDBStore, tmp_path: Path) -> None:
    folder = base(tmp_path / "in", [person(0)])
    (folder / "claims.csv").write_text(",".join(TABLES["claims"].column_names), encoding="utf-8")
    report = ingest_dir(store, folder)
    assert report.exit_code == 0 and report.table("claims").read == 0


# 12 --------------------------------------------------------------------------------------------
def test_12_files_near_a_contract_name_and_unknown_files_are_reported(
        store: DuckDBStore, tmp_path: Path) -> None:
    folder = base(tmp_path / "in", [person(0)])
    write_table(folder, "claims", [claim("C1", PIDS[0])]).rename(folder / "claim.csv")
    shutil.copy(folder / "claim.csv", folder / "injury_cases.CSV")
    (folder / "notes.txt").write_text("hello", encoding="utf-8")

    report = ingest_dir(store, folder)

    assert report.file_warnings == [
        "claim.csv: looks like claims.csv but is not its exact name; the file was not loaded",
        "injury_cases.CSV: looks like injury_cases.csv but is not its exact name; the file was not loaded",
        "notes.txt: not a contract table name; the file was not loaded",
    ]
    assert report.exit_code == 0 and report.warnings == 3
    assert "warning: file claim.csv: looks like claims.csv" in str(report)


# 13 --------------------------------------------------------------------------------------------
def test_13_a_link_leaving_the_folder_is_refused_without_its_content(
        store: DuckDBStore, tmp_path: Path) -> None:
    secret = tmp_path / "secret.csv"
    secret.write_text("root:x:0:0:root:/root:/bin/bash\n", encoding="utf-8")
    folder = base(tmp_path / "in", [person(0)])
    (folder / "doctors.csv").unlink()
    (folder / "doctors.csv").symlink_to(secret)
    with pytest.raises(FatalInputError) as err:
        ingest_dir(store, folder)
    assert "doctors.csv" in str(err.value) and "outside the folder" in str(err.value)
    assert "root:x" not in str(err.value) and "/bin/bash" not in str(err.value)
    assert sum(store.count_nodes().values()) == 0


# 14 --------------------------------------------------------------------------------------------
def test_14_an_ingest_that_runs_out_of_memory_leaves_the_store_as_it_was(tmp_path: Path) -> None:
    city = tmp_path / "city"
    generate_city(city, persons=3000, seed=3)
    db = tmp_path / "g.duckdb"
    with DuckDBStore(db) as s:
        s.apply_schema()
        ingest_dir(s, city)
    update = tmp_path / "update"
    update.mkdir()
    for name, column, value in (("persons", "name", "改名"), ("claims", "diagnosis_code", "Z00.0")):
        frame = pd.read_csv(city / f"{name}.csv", dtype=str, keep_default_na=False)
        frame[column] = value  # every person and every claim changes
        frame.to_csv(update / f"{name}.csv", index=False)
    with DuckDBStore(db, read_only=True) as s:
        before = fingerprint(s)
    written: list[int] = []
    with DuckDBStore(db, memory_limit="14MB") as s, pytest.raises(StoreError, match="Out of Memory") as err:
        ingest_dir(s, update, on_batch=written.append)
    assert "Nothing of this ingest was written" in str(err.value)
    assert written  # some writes went through before memory ran out...
    with DuckDBStore(db, read_only=True) as s:
        assert fingerprint(s) == before  # ...yet none of them stayed


# 15 --------------------------------------------------------------------------------------------
def test_15_dates_outside_the_window_and_death_before_birth_are_rejected(
        store: DuckDBStore, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    folder = base(tmp_path / "in", [person(0), person(1, death_date="1949-12-31"),
                                    person(2, death_date="0001-01-01")],
                  [claim("C1", PIDS[0], start_date="2099-01-01"), claim("C2", PIDS[0])])
    monkeypatch.setenv("MEDFRAUD_INGEST_DATE_GRACE_DAYS", "0")
    ingest_dir(store, folder)
    today = pd.Timestamp.today().date().isoformat()
    window = f"is outside the accepted dates 1900-01-01 to {today}"
    assert read_rejects(folder / "_rejects") == {
        ("persons", 3, "death_date 1949-12-31 < birth_date 1950-01-02"),
        ("persons", 4, f"death_date 0001-01-01 {window}; death_date 0001-01-01 < birth_date 1950-01-03"),
        ("claims", 2, f"start_date 2099-01-01 {window}"),
    }
