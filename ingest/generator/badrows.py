"""Malformed rows of every kind the validator knows, each breaking exactly one rule.

Each bad row is a copy of a valid row of its table with a fresh key and one value broken, placed
at a random line; the reason recorded in the truth file is produced by the same functions
(``ingest.reasons``) the validator uses, so tests can compare the text exactly.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np
import pyarrow as pa

from graph.model import INJURY_CAUSES, INSTITUTION_KINDS, SCHEMES, VISIT_TYPES
from ingest import reasons
from ingest.contract import TABLES
from ingest.idnumber import check_digit, make_ids

Row = dict[str, str | None]


@dataclass
class BadRow:
    table: str
    row: Row | None  # None: a raw line (``text``) with the wrong number of fields
    reason: str
    text: str = ""
    duplicate_of: int | None = None  # index of the original row this one repeats


@dataclass
class Context:
    rng: np.random.Generator
    tables: dict[str, pa.Table]
    counter: int = 0

    def fresh(self) -> int:
        self.counter += 1
        return self.counter

    def template(self, table: str) -> tuple[int, Row]:
        t = self.tables[table]
        i = int(self.rng.integers(0, t.num_rows))
        return i, {k: (None if v is None else str(v)) for k, v in t.slice(i, 1).to_pylist()[0].items()}

    def new_person_id(self) -> str:
        seq = self.fresh()
        birth = 19500101 + (seq % 40) * 10000 + (seq % 12) * 100 + 1 + seq % 28
        return str(make_ids(np.array([110108]), np.array([birth]), np.array([500 + seq % 499]))[0])


def _derived(pid: str) -> tuple[str, str]:
    gender = "M" if int(pid[16]) % 2 else "F"
    return gender, f"{pid[6:10]}-{pid[10:12]}-{pid[12:14]}"


def _fresh_person(ctx: Context) -> Row:
    _, row = ctx.template("persons")
    pid = ctx.new_person_id()
    row["person_id"] = pid
    row["gender"], row["birth_date"] = _derived(pid)
    row["death_date"] = None
    return row


def _with(ctx: Context, table: str, **changes: str | None) -> Row:
    _, row = ctx.template(table)
    key = TABLES[table].key[-1]
    row[key] = {
        "claims": f"XX2024{ctx.fresh():09d}",
        "institutions": f"HX{ctx.fresh():05d}",
        "doctors": f"DX{ctx.fresh():06d}",
        "injury_cases": f"ICX{ctx.fresh():07d}",
    }[table]
    row.update(changes)
    return row


def _shift(day: str, by: int) -> str:
    return (date.fromisoformat(day) + timedelta(days=by)).isoformat()


# -- the kinds --------------------------------------------------------------------------------
Kind = Callable[[Context], BadRow]


def _set(table: str, reason: str, **changes: str | None) -> Kind:
    """A copy of a valid row of ``table`` (fresh key) with ``changes``; ``reason`` is the validator's."""

    def kind(ctx: Context) -> BadRow:
        return BadRow(table, _with(ctx, table, **changes), reason)

    return kind


def _bad_enum(table: str, column: str, value: str, allowed: tuple[str, ...]) -> Kind:
    return _set(table, reasons.bad_enum(column, value, allowed), **{column: value})


def _not_found(table: str, column: str, value: str, **also: str | None) -> Kind:
    return _set(table, reasons.not_found(column, value), **{column: value}, **also)


def _person_with(column: str, value: str | None, reason: str) -> Kind:
    """A new valid person with one value broken."""

    def kind(ctx: Context) -> BadRow:
        row = _fresh_person(ctx)
        row[column] = value
        return BadRow("persons", row, reason)

    return kind


def _duplicate(table: str) -> Kind:
    """A repeat of an earlier row of ``table`` (the original is chosen when the row is placed)."""

    def kind(ctx: Context) -> BadRow:
        return BadRow(table, None, "", duplicate_of=-1)

    return kind


def person_check_digit(ctx: Context) -> BadRow:
    row = _fresh_person(ctx)
    pid = str(row["person_id"])
    wrong = "0" if pid[-1] != "0" else "1"
    row["person_id"] = pid[:-1] + wrong
    return BadRow("persons", row, reasons.id_check_digit("person_id", pid[-1], wrong))


def person_id_birth_date(ctx: Context) -> BadRow:
    row = _fresh_person(ctx)
    body = f"110108199913{40 + ctx.fresh() % 50:02d}{ctx.fresh() % 1000:03d}"
    row["person_id"] = body + check_digit(body)
    row["gender"], row["birth_date"] = None, None
    return BadRow("persons", row, reasons.id_birth_date("person_id", body[6:14]))


def person_id_format(ctx: Context) -> BadRow:
    row = _fresh_person(ctx)
    row["person_id"] = str(row["person_id"])[:-2]
    return BadRow("persons", row, reasons.id_format("person_id", str(row["person_id"])))


def person_gender_mismatch(ctx: Context) -> BadRow:
    row = _fresh_person(ctx)
    derived = str(row["gender"])
    row["gender"] = "F" if derived == "M" else "M"
    return BadRow("persons", row, reasons.gender_mismatch(str(row["gender"]), derived))


def person_birth_mismatch(ctx: Context) -> BadRow:
    row = _fresh_person(ctx)
    derived = str(row["birth_date"])
    row["birth_date"] = _shift(derived, 1)
    return BadRow("persons", row, reasons.birth_date_mismatch(str(row["birth_date"]), derived))


def person_bad_phone(ctx: Context) -> BadRow:
    row = _fresh_person(ctx)
    row["phone"] = f"1380013{ctx.fresh() % 100:02d}"
    return BadRow("persons", row, reasons.bad_phone(str(row["phone"])))


person_bad_gender = _person_with("gender", "男", reasons.bad_enum("gender", "男", ("M", "F")))
person_bad_account = _person_with("bank_account", "6222-ABCD-0001", reasons.bad_account("6222-ABCD-0001"))
person_bad_death_date = _person_with("death_date", "2024-02-30", reasons.bad_date("death_date", "2024-02-30"))
person_missing_name = _person_with("name", None, reasons.missing("name"))
person_duplicate = _duplicate("persons")

institution_bad_kind = _bad_enum("institutions", "kind", "药店", INSTITUTION_KINDS)
institution_bad_level = _set("institutions", reasons.bad_int("level", "5", 0, 3), level="5")
institution_bad_ownership = _bad_enum("institutions", "ownership", "state", ("public", "private"))
institution_duplicate = _duplicate("institutions")

doctor_unknown_institution = _not_found("doctors", "institution_id", "H99999")


def doctor_bad_person_id(ctx: Context) -> BadRow:
    pid = ctx.new_person_id()
    wrong = "0" if pid[-1] != "0" else "1"
    return BadRow(
        "doctors",
        _with(ctx, "doctors", person_id=pid[:-1] + wrong),
        reasons.id_check_digit("person_id", pid[-1], wrong),
    )


doctor_duplicate = _duplicate("doctors")


def injury_unknown_person(ctx: Context) -> BadRow:
    pid = ctx.new_person_id()
    return BadRow(
        "injury_cases", _with(ctx, "injury_cases", person_id=pid), reasons.not_found("person_id", pid)
    )


injury_bad_date = _set(
    "injury_cases", reasons.bad_date("injury_date", "2024/03/05"), injury_date="2024/03/05"
)
injury_bad_cause = _bad_enum("injury_cases", "cause", "fight", INJURY_CAUSES)
injury_bad_bool = _set(
    "injury_cases", reasons.bad_bool("third_party_liable", "yes"), third_party_liable="yes"
)
injury_bad_reported_to = _bad_enum("injury_cases", "reported_to", "police", SCHEMES)


def claim_over_total(ctx: Context) -> BadRow:
    row = _with(ctx, "claims")
    total = str(row["total_amount"])
    cents = round(float(total) * 100) + 11_200
    over = f"{cents // 100}.{cents % 100:02d}"
    row["reimbursed_amount"] = over
    return BadRow("claims", row, reasons.reimbursed_over_total(over, total))


def claim_end_before_start(ctx: Context) -> BadRow:
    row = _with(ctx, "claims")
    end = _shift(str(row["start_date"]), -3)
    row["end_date"] = end
    return BadRow("claims", row, reasons.end_before_start(end, str(row["start_date"])))


def claim_unknown_person(ctx: Context) -> BadRow:
    pid = ctx.new_person_id()
    return BadRow("claims", _with(ctx, "claims", person_id=pid), reasons.not_found("person_id", pid))


def claim_pharmacy_at_hospital(ctx: Context) -> BadRow:
    inst = ctx.tables["institutions"]
    kinds = inst.column("kind").to_pylist()
    i = next(j for j, k in enumerate(kinds) if k == "hospital")
    hospital = str(inst.column("institution_id")[i])
    return BadRow(
        "claims",
        _with(ctx, "claims", visit_type="pharmacy", institution_id=hospital, doctor_id=None),
        reasons.pharmacy_visit_elsewhere(hospital, "hospital"),
    )


claim_negative = _set(
    "claims", reasons.negative_amount("reimbursed_amount", "-5.00"), reimbursed_amount="-5.00"
)
claim_bad_amount = _set("claims", reasons.bad_amount("total_amount", "12,50"), total_amount="12,50")
claim_bad_date = _set(
    "claims", reasons.bad_date("start_date", "2024-02-30"), start_date="2024-02-30", end_date=None
)
claim_bad_visit_type = _bad_enum("claims", "visit_type", "emergency", VISIT_TYPES)
claim_bad_scheme = _bad_enum("claims", "scheme", "medicare", SCHEMES)
claim_unknown_institution = _not_found("claims", "institution_id", "H99999", visit_type="outpatient")
claim_unknown_doctor = _not_found("claims", "doctor_id", "D999999")
claim_unknown_injury_case = _not_found("claims", "injury_case_id", "IC2024X000001")
claim_missing_person = _set("claims", reasons.missing("person_id"), person_id=None)
claim_duplicate = _duplicate("claims")


def claim_column_count(ctx: Context) -> BadRow:
    _, row = ctx.template("claims")
    fields = [str(row["claim_id"]), str(row["scheme"]), "", str(row["person_id"]), str(row["institution_id"])]
    return BadRow("claims", None, reasons.column_count(len(row), len(fields)), text=",".join(fields))


# Kinds that need a value a typed Parquet column cannot hold (or a CSV line) are text-only.
TEXT_ONLY: frozenset[Kind] = frozenset(
    {
        person_bad_death_date,
        injury_bad_date,
        injury_bad_bool,
        claim_bad_amount,
        claim_bad_date,
        claim_column_count,
    }
)
CSV_ONLY: frozenset[Kind] = frozenset({claim_column_count})
KINDS: tuple[Kind, ...] = (
    person_check_digit,
    claim_over_total,
    institution_bad_kind,
    doctor_unknown_institution,
    injury_unknown_person,
    claim_end_before_start,
    claim_unknown_institution,
    person_duplicate,
    claim_pharmacy_at_hospital,
    person_gender_mismatch,
    claim_duplicate,
    person_birth_mismatch,
    claim_unknown_person,
    person_bad_phone,
    claim_bad_date,
    person_bad_account,
    claim_negative,
    person_id_birth_date,
    claim_bad_amount,
    person_id_format,
    claim_bad_visit_type,
    person_bad_gender,
    claim_bad_scheme,
    person_missing_name,
    claim_unknown_doctor,
    person_bad_death_date,
    claim_unknown_injury_case,
    institution_bad_level,
    institution_bad_ownership,
    institution_duplicate,
    doctor_bad_person_id,
    doctor_duplicate,
    injury_bad_date,
    injury_bad_cause,
    injury_bad_bool,
    injury_bad_reported_to,
    claim_missing_person,
    claim_column_count,
)


@dataclass
class Placed:
    table: pa.Table  # rows in file order
    raw_lines: dict[int, str]  # data-row position -> raw text (lines with the wrong field count)
    truth: list[dict[str, object]]


def inject(rng: np.random.Generator, tables: dict[str, pa.Table], k: int, fmt: str) -> dict[str, Placed]:
    """Add ``k`` bad rows across the tables; returns each table in file order with its truth entries."""
    kinds = [
        kind
        for kind in KINDS
        if (fmt == "csv" or kind not in CSV_ONLY) and (fmt != "parquet" or kind not in TEXT_ONLY)
    ]
    ctx = Context(rng, tables)
    bad_by_table: dict[str, list[BadRow]] = {name: [] for name in tables}
    for i in range(k):
        bad = kinds[i % len(kinds)](ctx)
        bad_by_table[bad.table].append(bad)
    return {name: _place(rng, name, tables[name], bad_by_table[name]) for name in tables}


def _place(rng: np.random.Generator, name: str, table: pa.Table, bad: list[BadRow]) -> Placed:
    if not bad:
        return Placed(table, {}, [])
    total = table.num_rows + len(bad)
    # Slot 0 stays a good row so a duplicate always has an original before it.
    slots = np.sort(rng.choice(np.arange(1, total), len(bad), replace=False))
    order = rng.permutation(len(bad))
    is_bad = np.zeros(total, dtype=bool)
    is_bad[slots] = True
    original_at = np.cumsum(~is_bad) - 1  # index of the latest original row at or before each slot
    rows: list[Row] = []
    raw_lines: dict[int, str] = {}
    truth: list[dict[str, object]] = []
    pieces: list[pa.Table] = []
    previous = 0
    spec = TABLES[name]
    for slot, b in zip(slots.tolist(), (bad[j] for j in order), strict=True):
        good_before = int(original_at[slot])
        pieces.append(table.slice(previous, good_before + 1 - previous))
        previous = good_before + 1
        if b.duplicate_of is not None:
            src = int(rng.integers(0, good_before + 1))
            row = {k: (None if v is None else str(v)) for k, v in table.slice(src, 1).to_pylist()[0].items()}
            src_line = int(np.flatnonzero(~is_bad)[src]) + 2
            key_vals = tuple(str(row[c]).upper() if c == "person_id" else str(row[c]) for c in spec.key)
            b = BadRow(name, row, reasons.duplicate(spec.key, key_vals, src_line))
        if b.row is None:
            raw_lines[slot] = b.text
            pieces.append(table.slice(0, 0))
        else:
            rows.append(b.row)
            pieces.append(pa.Table.from_pylist([b.row], schema=table.schema))
        truth.append({"table": name, "line": slot + 2, "reason": b.reason})
    pieces.append(table.slice(previous))
    return Placed(pa.concat_tables(pieces), raw_lines, truth)
