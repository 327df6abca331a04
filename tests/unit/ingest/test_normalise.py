"""Normalisation known answers: phones, addresses, bank accounts, ID numbers, text."""

from __future__ import annotations

import pyarrow as pa

from ingest import normalise


def test_phones_become_eleven_digits() -> None:
    values, bad = normalise.phone(
        pa.array(
            [
                "+86 138-1234-5678",
                "138 1234 5678",
                "0086 13812345678",
                "8613812345678",
                "０３１１－８７６５４３２",
                "(0311) 8765432",
                "12345",
                "1381234567８9",
                None,
            ]
        )
    )
    assert values.to_pylist()[:6] == [
        "13812345678",
        "13812345678",
        "13812345678",
        "13812345678",
        "03118765432",
        "03118765432",
    ]
    assert bad.tolist() == [False, False, False, False, False, False, True, True, False]
    assert values[8].as_py() is None


def test_the_same_address_written_twice_normalises_to_one() -> None:
    values = normalise.address(
        pa.array(
            [
                "河北省石家庄市长安区建设路3号阳光花园12栋2单元301室",
                "河北省石家庄市 长安区建设路３号  阳光花园１２栋2单元301室",
                " 河北省石家庄市长安区建设路3 号阳光花园12 栋2单元301室\u3000",
            ]
        )
    )
    assert len(set(values.to_pylist())) == 1


def test_latin_words_keep_one_space() -> None:
    assert normalise.address(pa.array(["Room  3 ,\tBuilding  5"])).to_pylist() == ["Room 3 , Building 5"]


def test_bank_accounts_keep_digits_only() -> None:
    values, bad = normalise.account(
        pa.array(["6222 0212 3456 7890", "6222-0212-3456-7890-123", "62-22", "abc"])
    )
    assert values.to_pylist()[:2] == ["6222021234567890", "6222021234567890123"]
    assert bad.tolist() == [False, False, True, True]


def test_id_numbers_are_trimmed_and_upper_cased() -> None:
    assert normalise.id_number(pa.array([" 11010519491231002x "])).to_pylist() == ["11010519491231002X"]


def test_blank_text_is_missing() -> None:
    assert normalise.text(pa.array(["  ", "", " a "])).to_pylist() == [None, None, "a"]


def test_text_trims_every_unicode_space_at_either_end() -> None:
    # The fast path skips trimming when no value starts or ends with a byte whitespace can
    # begin or end with; it must never skip a value Arrow's trim would change.
    import pyarrow.compute as pc

    chars = [chr(c) for c in range(1, 0x3100) if not 0xD800 <= c < 0xE000]
    spaces = [c for c in chars if pc.utf8_trim_whitespace(pa.array([c + "a"])).to_pylist() == ["a"]]
    assert "\u3000" in spaces and " " in spaces and "\u00a0" in spaces
    for c in spaces:
        assert normalise.text(pa.array(["号" + c])).to_pylist() == ["号"], repr(c)
        assert normalise.text(pa.array([c + "号"])).to_pylist() == ["号"], repr(c)
        assert normalise.text(pa.chunked_array([["ok"], [c]])).to_pylist() == ["ok", None], repr(c)


def test_addresses_repeated_across_rows_normalise_alike() -> None:
    raw = ["３号 楼", None, "中 a 文", "３号 楼", "", "Rm\t3 号", "中 a 文"]
    assert normalise.address(pa.array(raw)).to_pylist() == [
        "3号楼", None, "中a文", "3号楼", None, "Rm 3号", "中a文"]
    sliced = pa.chunked_array([pa.array(raw).slice(3), pa.array(raw).slice(0, 3)])
    assert normalise.address(sliced).to_pylist() == ["3号楼", None, "Rm 3号", "中a文", "3号楼", None, "中a文"]


def test_landlines_service_numbers_and_extensions_have_one_normal_form() -> None:
    written = {
        "057187654321": "057187654321",  # Hangzhou: 4-digit area code, 8-digit number
        "0571-87654321": "057187654321",
        "(0571) 8765 4321": "057187654321",
        "+86 571 87654321": "057187654321",  # the area code's 0 dropped after +86
        "0086-571-87654321": "057187654321",
        "010-1234-5678": "01012345678",  # Beijing, written in groups: no extension
        "021 87654321": "02187654321",
        "0571-87654321-808": "057187654321-808",  # a last dash after a whole number
        "0571 87654321转808": "057187654321-808",
        "0571-87654321 ext. 808": "057187654321-808",
        "0571-87654321分机808": "057187654321-808",
        "400-123-4567": "4001234567",
        "800 123 4567 转 2": "8001234567-2",
    }
    values, bad = normalise.phone(pa.array(list(written)))
    assert values.to_pylist() == list(written.values())
    assert not bad.any()


def test_what_is_no_phone_number_is_flagged() -> None:
    values, bad = normalise.phone(
        pa.array(["0571-876", "13812345678转8", "前台", "NULL", "057187654321999", ""])
    )
    assert bad.tolist() == [True, True, True, True, True, False]
    # left as written: the validator reports the original text and links nothing
    assert values.to_pylist()[:4] == ["0571-876", "13812345678转8", "前台", "NULL"]
