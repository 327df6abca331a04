"""Known answers for shared-identifier rings: brokers and chains yes, families and care homes no."""

from __future__ import annotations

import pandas as pd

from algorithms.evidence import render_all
from algorithms.igraph_engine import IgraphEngine
from algorithms.settings import DetectionSettings
from algorithms.shared_identifiers import classify_identifiers, detect_shared_identifiers

S = DetectionSettings()


def _persons() -> pd.DataFrame:
    rows = []
    # A broker phone registered for 12 unrelated persons (12 addresses).
    rows += [
        {
            "person_id": f"b{i:02d}",
            "phone": "13812345678",
            "address": f"broker-town {i}",
            "bank_account": None,
        }
        for i in range(12)
    ]
    # A household of 4: one address, one phone, one account.
    rows += [
        {
            "person_id": f"f{i}",
            "phone": "13900000001",
            "address": "幸福路1号",
            "bank_account": "6222000011112222",
        }
        for i in range(4)
    ]
    # A care home: 30 residents with the front-desk phone and the home's address.
    rows += [
        {"person_id": f"h{i:02d}", "phone": "02188886666", "address": "敬老路9号", "bank_account": None}
        for i in range(30)
    ]
    # Chained brokers: phone X for c0..c4, bank account Y for c4..c8, all at different addresses.
    rows += [
        {
            "person_id": f"c{i}",
            "phone": "13700000000" if i <= 4 else f"1360000000{i}",
            "address": f"chain street {i}",
            "bank_account": "6228480000004821" if i >= 4 else None,
        }
        for i in range(9)
    ]
    # Unrelated people with their own phones.
    rows += [
        {"person_id": f"u{i}", "phone": f"1500000{i:04d}", "address": f"u {i}", "bank_account": None}
        for i in range(50)
    ]
    return pd.DataFrame(rows)


def test_identifiers_are_classified_by_how_many_unrelated_persons_share_them() -> None:
    ids = classify_identifiers(_persons(), S).set_index("value")["klass"]
    assert ids["13812345678"] == "broker"
    assert ids["13900000001"] == "family"
    assert ids["6222000011112222"] == "family"
    assert ids["02188886666"] == "institutional"
    assert ids["13700000000"] == "broker"


def test_broker_phone_is_a_ring_and_chained_brokers_form_one_ring() -> None:
    stats: dict[str, object] = {}
    rings = detect_shared_identifiers(_persons(), S, IgraphEngine(), stats=stats)
    by_first = {r.patient_ids[0]: r for r in rings}
    assert set(by_first) == {"b00", "c0"}
    broker = by_first["b00"]
    assert broker.patient_ids == [f"b{i:02d}" for i in range(12)]
    assert {m.ref for m in broker.members if m.type != "Patient"} == {"Phone:13812345678"}
    assert broker.score >= S.report_threshold
    assert any("12 人共用电话 138****5678" in e for e in render_all(broker.evidence))
    chain = by_first["c0"]
    assert chain.patient_ids == [f"c{i}" for i in range(9)]
    assert {"Phone:13700000000", "BankAccount:6228480000004821"} <= chain.member_refs
    assert any("串联" in e for e in render_all(chain.evidence))
    assert any("****4821" in e for e in render_all(chain.evidence))
    assert stats["identifiers_institutional"] == 1


def test_placeholder_identifier_shared_by_hundreds_is_left_out() -> None:
    persons = pd.DataFrame(
        [{"person_id": f"x{i}", "phone": "00000000000", "address": f"a{i}"} for i in range(300)]
    )
    stats: dict[str, object] = {}
    assert detect_shared_identifiers(persons, S, IgraphEngine(), stats=stats) == []
    assert stats["identifiers_placeholder"] == 1


def test_broker_using_a_care_home_landline_is_a_ring_of_its_outsiders_only() -> None:
    """The home's 30 residents (敬老路9号) keep the desk phone; 35 recruits at 35 addresses share it too.

    The recruits outnumber the residents: the phone is still the home's (more than a household at
    one address), and the residents still stay out of the ring.
    """
    outsiders = pd.DataFrame(
        [
            {"person_id": f"o{i}", "phone": "02188886666", "address": f"远郊村{i}号", "bank_account": None}
            for i in range(35)
        ]
    )
    persons = pd.concat([_persons(), outsiders], ignore_index=True)
    ids = classify_identifiers(persons, S).set_index("value")["klass"]
    assert ids["02188886666"] == "institutional_broker"
    rings = [
        r for r in detect_shared_identifiers(persons, S, IgraphEngine()) if r.score >= S.report_threshold
    ]
    ring = next(r for r in rings if "Phone:02188886666" in r.member_refs)
    assert sorted(ring.patient_ids) == sorted(f"o{i}" for i in range(35))
    assert any("机构座机" in e for e in render_all(ring.evidence))


def test_a_relative_or_two_on_the_home_phone_is_not_a_broker() -> None:
    visitors = pd.DataFrame(
        [
            {"person_id": "v0", "phone": "02188886666", "address": "探亲路1号", "bank_account": None},
            {"person_id": "v1", "phone": "02188886666", "address": "探亲路2号", "bank_account": None},
        ]
    )
    persons = pd.concat([_persons(), visitors], ignore_index=True)
    ids = classify_identifiers(persons, S).set_index("value")["klass"]
    assert ids["02188886666"] == "institutional"
