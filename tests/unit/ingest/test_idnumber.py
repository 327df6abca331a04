"""GB 11643 ID numbers: known answers for the check digit, birth date and gender."""

from __future__ import annotations

from datetime import date

import numpy as np
import pyarrow as pa
import pytest

from ingest.idnumber import analyse, check_digit, is_valid, make_ids


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ("11010519491231002", "X"),  # the example printed in GB 11643-1999
        ("44052418800101001", "4"),  # the other textbook example
        ("13018119900101001", "0"),  # worked by hand: sum 188, 188 mod 11 = 1
    ],
)
def test_check_digit_known_answers(body: str, expected: str) -> None:
    assert check_digit(body) == expected


def test_check_digit_refuses_a_wrong_body() -> None:
    with pytest.raises(ValueError):
        check_digit("1101051949123100")


def test_analyse_reports_each_problem_per_row() -> None:
    ids = pa.array(
        [
            "11010519491231002X",  # valid, woman
            "440524188001010014",  # right check digit, but born 1880: before 1900 counts as invalid
            "110105194912310023",  # check digit should be X
            "110105199913400015",  # month 13 (checked after the check digit)
            "1101051949123100",  # too short
            None,
        ]
    )
    a = analyse(ids, today=date(2024, 6, 1))
    assert a.valid.tolist() == [True, False, False, False, False, False]
    assert a.check_ok[1] and not a.birth_ok[1]
    assert a.present.tolist() == [True, True, True, True, True, False]
    assert a.format_ok.tolist() == [True, True, True, True, False, False]
    assert (a.expected_check(np.array([2])), a.got_check(np.array([2]))) == (["X"], ["3"])
    assert a.male[:2].tolist() == [False, True]
    assert (date(1970, 1, 1).toordinal() + int(a.birth_days[0])) == date(1949, 12, 31).toordinal()


def test_birth_date_in_the_future_is_invalid() -> None:
    body = "11010520300101001"
    assert not is_valid(body + check_digit(body))


def test_lower_case_x_is_the_check_character_after_normalisation() -> None:
    assert is_valid("11010519491231002x")


def test_make_ids_builds_valid_unique_numbers() -> None:
    ids = make_ids(np.array([130181, 330109]), np.array([19600229, 20010101]), np.array([1, 998]))
    assert ids[0] == "130181196002290014"  # sum 239, 239 mod 11 = 8 -> "4"
    assert all(is_valid(i) for i in ids)
    assert ids[0][16] in "13579" and ids[1][16] in "02468"
