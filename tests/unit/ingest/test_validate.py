"""Validation known answers on small hand-made tables: each rule, its reason text, derivations."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import numpy as np
import pyarrow as pa

from ingest.idnumber import check_digit
from ingest.readers import RawTable
from ingest.validate import RefContext, Validated, validate

WOMAN = "11010519491231002X"  # born 1949-12-31
MAN = "130181196002290014"  # born 1960-02-29
STRANGER = "320102198001011235"[:17] + check_digit("32010219800101123")  # valid, not a known person


def raw(name: str, columns: dict[str, list[str | None]]) -> RawTable:
    table = pa.table({k: pa.array(v, pa.string()) for k, v in columns.items()})
    return RawTable(name, Path(f"{name}.csv"), table, np.arange(table.num_rows, dtype=np.int64) + 2, "")


def reasons_by_line(v: Validated, r: RawTable) -> dict[int, str]:
    return {int(r.lines[i]): reason for i, reason in zip(v.rejected_rows, v.reasons, strict=True)}


def refs() -> RefContext:
    ctx = RefContext()
    ctx.add("persons", pa.array([WOMAN, MAN]))
    ctx.add_institutions(pa.array(["H1", "P1"]), pa.array(["hospital", "pharmacy"]))
    ctx.add("doctors", pa.array(["D1"]))
    ctx.add("injury_cases", pa.array(["IC1"]))
    return ctx


def test_persons_reasons_and_derived_gender_and_birth_date() -> None:
    r = raw(
        "persons",
        {
            "person_id": [WOMAN.lower(), "110105194912310023", MAN, WOMAN, "1101051949"],
            "name": ["王芳", "李娜", "张伟", None, "赵六"],
            "gender": [None, None, "F", "F", None],
            "birth_date": [None, None, None, "1949-12-30", None],
            "phone": ["+86 138-1234-5678", None, None, None, "12345"],
        },
    )
    v = validate(r, RefContext(), today=date(2024, 6, 1))
    assert reasons_by_line(v, r) == {
        3: "person_id: check digit should be X, got 3",
        4: "gender F does not match person_id (M)",
        5: "name: required value missing; birth_date 1949-12-30 does not match person_id (1949-12-31)"
        f"; duplicate person_id {WOMAN} (first on line 2)",
        # the bad phone of a rejected row is not reported again as a warning
        6: "person_id: '1101051949' is not an 18-character ID number (17 digits and a check digit 0-9 or X)",
    }
    assert v.warnings == []
    loaded = v.table.to_pylist()
    assert [p["person_id"] for p in loaded] == [WOMAN]
    assert loaded[0]["gender"] == "F" and loaded[0]["birth_date"] == date(1949, 12, 31)
    assert loaded[0]["phone"] == "13812345678"


def test_a_duplicate_key_is_rejected_after_its_first_line() -> None:
    r = raw("persons", {"person_id": [MAN, WOMAN, MAN], "name": ["a", "b", "c"]})
    v = validate(r, RefContext(), today=date(2024, 6, 1))
    assert reasons_by_line(v, r) == {4: f"duplicate person_id {MAN} (first on line 2)"}


def claim_columns(**over: list[str | None]) -> dict[str, list[str | None]]:
    base: dict[str, list[str | None]] = {
        "claim_id": ["C1"],
        "scheme": ["medical"],
        "person_id": [WOMAN],
        "institution_id": ["H1"],
        "doctor_id": ["D1"],
        "visit_type": ["outpatient"],
        "start_date": ["2024-01-05"],
        "end_date": [None],
        "total_amount": ["800.00"],
        "reimbursed_amount": ["500.00"],
        "injury_case_id": [None],
    }
    base.update(over)
    return base


def test_claim_rules_each_give_a_readable_reason() -> None:
    cases = {
        "reimbursed_amount 912.00 > total_amount 800.00": claim_columns(reimbursed_amount=["912"]),
        "end_date 2025-01-02 < start_date 2025-01-05": claim_columns(
            start_date=["2025-01-05"], end_date=["2025-01-02"]
        ),
        "institution_id H9999 not found": claim_columns(institution_id=["H9999"]),
        f"person_id {STRANGER} not found": claim_columns(person_id=[STRANGER]),
        "doctor_id D9 not found": claim_columns(doctor_id=["D9"]),
        "injury_case_id IC9 not found": claim_columns(injury_case_id=["IC9"]),
        "start_date: '2024-02-30' is not a valid YYYY-MM-DD date": claim_columns(start_date=["2024-02-30"]),
        "visit_type: 'er' is not one of outpatient, inpatient, pharmacy": claim_columns(visit_type=["er"]),
        "total_amount: '1.234' is not an amount in yuan with at most 2 decimals": claim_columns(
            total_amount=["1.234"]
        ),
        "reimbursed_amount -1.50 is negative": claim_columns(reimbursed_amount=["-1.5"]),
        "visit_type pharmacy at institution H1 of kind hospital, not a pharmacy": claim_columns(
            visit_type=["pharmacy"]
        ),
        "scheme: required value missing": claim_columns(scheme=[None]),
    }
    for reason, columns in cases.items():
        r = raw("claims", columns)
        v = validate(r, refs())
        assert v.reasons == [reason], reason
        assert v.table.num_rows == 0


def test_a_valid_claim_is_typed() -> None:
    r = raw("claims", claim_columns(visit_type=["pharmacy"], institution_id=["P1"], doctor_id=[None]))
    v = validate(r, refs())
    assert v.reasons == []
    row = v.table.to_pylist()[0]
    assert row["total_amount"] == 800.0 and row["start_date"] == date(2024, 1, 5)


def test_unknown_columns_are_kept_as_json() -> None:
    r = raw(
        "institutions",
        {
            "institution_id": ["H1"],
            "name": ["一院"],
            "kind": ["hospital"],
            "license_no": ["PDY1"],
            "备注": [None],
        },
    )
    v = validate(r, RefContext())
    assert json.loads(v.table.column("extra")[0].as_py()) == {"license_no": "PDY1", "备注": None}


def test_institution_enums_and_level_range() -> None:
    r = raw(
        "institutions",
        {
            "institution_id": ["H1", "H2", "H3"],
            "name": ["a", "b", "c"],
            "kind": ["hospital", "药店", "clinic"],
            "level": ["3", "1", "5"],
            "ownership": ["public", "private", "state"],
        },
    )
    v = validate(r, RefContext())
    assert reasons_by_line(v, r) == {
        3: "kind: '药店' is not one of hospital, clinic, tcm_clinic, elderly_care, pharmacy, other",
        4: "level: '5' is not an integer from 0 to 3; ownership: 'state' is not one of public, private",
    }


def test_injury_case_flags_and_person_reference() -> None:
    r = raw(
        "injury_cases",
        {
            "injury_case_id": ["I1", "I2", "I3"],
            "person_id": [WOMAN, MAN, "440524188001010014"],
            "injury_date": ["2024-03-01"] * 3,
            "third_party_liable": ["TRUE", "yes", "false"],
        },
    )
    ctx = refs()
    v = validate(r, ctx, today=date(2024, 6, 1))
    assert reasons_by_line(v, r) == {
        3: "third_party_liable: 'yes' is not true or false",
        4: "person_id: birth date 18800101 in the ID number is not a valid date",
    }
    assert v.table.column("third_party_liable").to_pylist() == [True]


def test_typed_parquet_columns_are_accepted() -> None:
    table = pa.table(
        {
            "claim_id": ["C1"],
            "scheme": ["medical"],
            "person_id": [WOMAN],
            "institution_id": ["H1"],
            "visit_type": ["outpatient"],
            "start_date": pa.array([date(2024, 1, 5)], pa.date32()),
            "total_amount": pa.array([800.0]),
            "reimbursed_amount": pa.array([912.0]),
        }
    )
    r = RawTable("claims", Path("claims.parquet"), table, np.array([2]), "")
    v = validate(r, refs())
    assert v.reasons == ["reimbursed_amount 912.00 > total_amount 800.00"]


def test_institution_coordinates_are_decimal_degrees_in_range() -> None:
    r = raw(
        "institutions",
        {
            "institution_id": ["H1", "H2", "H3", "H4"],
            "name": ["a", "b", "c", "d"],
            "kind": ["hospital"] * 4,
            "latitude": ["38.04212", "95.1", None, "北纬38"],
            "longitude": ["114.51", "114.5", None, "114.5"],
        },
    )
    v = validate(r, RefContext())
    assert reasons_by_line(v, r) == {
        3: "latitude: '95.1' is not decimal degrees from -90 to 90",
        5: "latitude: '北纬38' is not decimal degrees from -90 to 90",
    }
    assert v.table.column("latitude").to_pylist() == [38.04212, None]  # the optional column may be empty
