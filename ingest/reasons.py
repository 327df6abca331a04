"""The text of every reject reason, in one place.

The validator writes these into the rejects files and the generator writes the same text into the
truth file for the rows it breaks on purpose, so a test can compare them exactly.
"""

from __future__ import annotations

from collections.abc import Sequence


def missing(col: str) -> str:
    return f"{col}: required value missing"


def id_format(col: str, value: str) -> str:
    return f"{col}: '{value}' is not an 18-character ID number (17 digits and a check digit 0-9 or X)"


def id_check_digit(col: str, expected: str, got: str) -> str:
    return f"{col}: check digit should be {expected}, got {got}"


def id_birth_date(col: str, digits: str) -> str:
    return f"{col}: birth date {digits} in the ID number is not a valid date"


def gender_mismatch(given: str, derived: str) -> str:
    return f"gender {given} does not match person_id ({derived})"


def birth_date_mismatch(given: str, derived: str) -> str:
    return f"birth_date {given} does not match person_id ({derived})"


def bad_date(col: str, value: str) -> str:
    return f"{col}: '{value}' is not a valid YYYY-MM-DD date"


def bad_enum(col: str, value: str, allowed: Sequence[str]) -> str:
    return f"{col}: '{value}' is not one of {', '.join(allowed)}"


def bad_amount(col: str, value: str) -> str:
    return f"{col}: '{value}' is not an amount in yuan with at most 2 decimals"


def negative_amount(col: str, value: str) -> str:
    return f"{col} {value} is negative"


def reimbursed_over_total(reimbursed: str, total: str) -> str:
    return f"reimbursed_amount {reimbursed} > total_amount {total}"


def end_before_start(end: str, start: str) -> str:
    return f"end_date {end} < start_date {start}"


def bad_int(col: str, value: str, lo: int, hi: int) -> str:
    return f"{col}: '{value}' is not an integer from {lo} to {hi}"


def bad_degrees(col: str, value: str, lo: float, hi: float) -> str:
    return f"{col}: '{value}' is not decimal degrees from {lo:g} to {hi:g}"


def bad_bool(col: str, value: str) -> str:
    return f"{col}: '{value}' is not true or false"


def bad_phone(value: str) -> str:
    return (f"phone: '{value}' is not a phone number (mobile, landline with area code, 400/800 number, "
            "optional extension)")


def bad_account(value: str) -> str:
    return f"bank_account: '{value}' is not a bank account number (8-32 digits)"


def not_finite(col: str, value: str) -> str:
    return f"{col}: '{value}' is not a finite number"


def amount_over_limit(col: str, value: str, limit: str) -> str:
    return f"{col} {value} is above the per-claim limit of {limit} yuan"


def date_outside_window(col: str, value: str, earliest: str, latest: str) -> str:
    return f"{col} {value} is outside the accepted dates {earliest} to {latest}"


def death_before_birth(death: str, birth: str) -> str:
    return f"death_date {death} < birth_date {birth}"


def referenced_row_rejected(col: str, value: str, what: str, file: str, line: int) -> str:
    return f"{col} {value} not loaded: {what} rejected at {file} line {line}"


def row_too_long(size: int, limit: int) -> str:
    return f"row of {size:,} bytes is longer than the {limit:,}-byte limit"


def binary_row() -> str:
    return "row holds binary data (a NUL byte), not text"


# -- warnings: the row loads, the field does not --------------------------------------------
def unknown_file(name: str) -> str:
    return f"{name}: not a contract table name; the file was not loaded"


def near_table_name(name: str, expected: str) -> str:
    return f"{name}: looks like {expected} but is not its exact name; the file was not loaded"


def not_found(col: str, value: str) -> str:
    return f"{col} {value} not found"


def duplicate(key: Sequence[str], value: Sequence[str], first_line: int) -> str:
    if len(key) == 1:
        return f"duplicate {key[0]} {value[0]} (first on line {first_line})"
    return f"duplicate ({', '.join(key)}) ({', '.join(value)}) (first on line {first_line})"


def pharmacy_visit_elsewhere(institution_id: str, kind: str) -> str:
    return f"visit_type pharmacy at institution {institution_id} of kind {kind}, not a pharmacy"


def column_count(expected: int, actual: int) -> str:
    return f"expected {expected} columns, got {actual}"
