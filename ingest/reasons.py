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
    return f"phone: '{value}' is not an 11-digit phone number"


def bad_account(value: str) -> str:
    return f"bank_account: '{value}' is not a bank account number (8-32 digits)"


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
