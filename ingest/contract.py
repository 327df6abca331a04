"""The input data contract: tables, columns, types, enums and keys (DOMAIN.md, docs/data-contract.md).

Readers, the validator, the loader and the generator all take column names, types and allowed
values from here, so the contract is stated once.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Literal

from graph.model import INJURY_CAUSES, INSTITUTION_KINDS, SCHEMES, VISIT_TYPES

ColType = Literal[
    "id_number", "str", "date", "amount", "int", "bool", "enum", "phone", "address", "account", "degrees"
]


@dataclass(frozen=True)
class Column:
    name: str
    type: ColType = "str"
    required: bool = False
    values: tuple[str, ...] = ()  # allowed values of an enum column
    int_range: tuple[int, int] | None = None
    float_range: tuple[float, float] | None = None  # allowed values of a ``degrees`` column
    # an optional identifier whose value cannot be normalised costs only the field (a warning),
    # not the row
    warn_only: bool = False


@dataclass(frozen=True)
class Table:
    name: str
    columns: tuple[Column, ...]
    key: tuple[str, ...]

    @property
    def column_names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns)

    @property
    def required(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns if c.required)

    def column(self, name: str) -> Column:
        for c in self.columns:
            if c.name == name:
                return c
        raise KeyError(name)


GENDERS = ("M", "F")
OWNERSHIPS = ("public", "private")
REPORTED_TO = SCHEMES

PERSONS = Table(
    "persons",
    (
        Column("person_id", "id_number", required=True),
        Column("name", required=True),
        Column("gender", "enum", values=GENDERS),
        Column("birth_date", "date"),
        Column("phone", "phone", warn_only=True),
        Column("address", "address"),
        Column("bank_account", "account", warn_only=True),
        Column("employer_id"),
        Column("death_date", "date"),
    ),
    key=("person_id",),
)

INSTITUTIONS = Table(
    "institutions",
    (
        Column("institution_id", required=True),
        Column("name", required=True),
        Column("kind", "enum", required=True, values=INSTITUTION_KINDS),
        Column("level", "int", int_range=(0, 3)),
        Column("ownership", "enum", values=OWNERSHIPS),
        Column("region"),
        Column("grid"),
        # WGS-84 decimal degrees of the institution (optional): same-day claims too far apart to
        # travel between (冒名就医) are measured with them
        Column("latitude", "degrees", float_range=(-90.0, 90.0)),
        Column("longitude", "degrees", float_range=(-180.0, 180.0)),
    ),
    key=("institution_id",),
)

DOCTORS = Table(
    "doctors",
    (
        Column("doctor_id", required=True),
        Column("name", required=True),
        Column("institution_id", required=True),
        Column("person_id", "id_number"),
    ),
    key=("doctor_id",),
)

INJURY_CASES = Table(
    "injury_cases",
    (
        Column("injury_case_id", required=True),
        Column("person_id", "id_number", required=True),
        Column("injury_date", "date", required=True),
        Column("cause", "enum", values=INJURY_CAUSES),
        Column("third_party_liable", "bool"),
        Column("employer_id"),
        Column("reported_to", "enum", values=REPORTED_TO),
    ),
    key=("injury_case_id",),
)

CLAIMS = Table(
    "claims",
    (
        Column("claim_id", required=True),
        Column("scheme", "enum", required=True, values=SCHEMES),
        Column("payer"),
        Column("person_id", "id_number", required=True),
        Column("institution_id", required=True),
        Column("doctor_id"),
        Column("visit_type", "enum", required=True, values=VISIT_TYPES),
        Column("start_date", "date", required=True),
        Column("end_date", "date"),
        Column("diagnosis_code"),
        Column("total_amount", "amount", required=True),
        Column("reimbursed_amount", "amount", required=True),
        Column("injury_case_id"),
    ),
    key=("scheme", "claim_id"),
)

# Load order: every table refers only to tables before it.
TABLES: dict[str, Table] = {t.name: t for t in (INSTITUTIONS, PERSONS, DOCTORS, INJURY_CASES, CLAIMS)}
LOAD_ORDER: tuple[str, ...] = tuple(TABLES)
FILE_SUFFIXES: tuple[str, ...] = (".csv", ".parquet", ".xlsx")


# -- limits (docs/data-contract.md, "Limits") ---------------------------------------------------
# The most one claim may state, total or reimbursed: far above any real stay (a year of
# intensive care is a few million yuan), far below where cents stop being exact in a float.
MAX_CLAIM_AMOUNT_YUAN = 10_000_000
# Dates before this, or after today plus the grace, are typing errors (0001-01-01, 2099-...).
EARLIEST_DATE = date(1900, 1, 1)
DEFAULT_DATE_GRACE_DAYS = 31
# A CSV row (one record, quoted line breaks included) may be this long; longer ones are rejected.
MAX_ROW_BYTES = 16 << 20
# The only value that means "empty" in a text file: no word (NA, NULL, N/A) is guessed to be one.
NULL_TOKENS: tuple[str, ...] = ("",)
