"""Known answers for double claims: each kind with its claims and excess; lawful combinations pass."""

from __future__ import annotations

from algorithms.double_claims import detect_double_claims
from algorithms.evidence import render_all
from algorithms.results import Finding
from algorithms.settings import DetectionSettings
from tests.unit.algorithms.handmade import CityBuilder, day


def _city() -> CityBuilder:
    b = CityBuilder()
    b.institution("H1", "hospital")
    for p in ("w1", "w2", "w3", "m1", "m2", "t1", "t2"):
        b.person(p)
    # w1: work injury by case id, paid by both schemes.
    b.injury_cases.append(
        {
            "injury_case_id": "IC1",
            "person_id": "w1",
            "injury_date": day(10),
            "cause": "work",
            "third_party_liable": "false",
            "employer_id": "E1",
            "reported_to": "work_injury",
        }
    )
    b.claim(
        "w1",
        "H1",
        day(10),
        scheme="work_injury",
        dx="S62.5",
        total=3000,
        paid=3000,
        case="IC1",
        claim_id="wi1",
    )
    b.claim(
        "w1", "H1", day(10), scheme="medical", dx="S62.5", total=3000, paid=2100, case="IC1", claim_id="md1"
    )
    # w2: the medical claim lacks the case id; injury diagnosis 3 days after the work-injury claim.
    b.claim("w2", "H1", day(40), scheme="work_injury", dx="S82.2", total=5000, paid=5000, claim_id="wi2")
    b.claim("w2", "H1", day(43), scheme="medical", dx="S82.2", total=1200, paid=840, claim_id="md2")
    # w3: lawful — work injury paid by work-injury insurance only; an unrelated cold 5 days later.
    b.claim("w3", "H1", day(60), scheme="work_injury", dx="S61.0", total=800, paid=800, claim_id="wi3")
    b.claim("w3", "H1", day(65), scheme="medical", dx="J06.9", total=150, paid=100, claim_id="md3")
    # m1: medical 700 + commercial 500 on an expense of 1000 -> 200 over.
    b.claim("m1", "H1", day(70), scheme="medical", total=1000, paid=700, claim_id="md4")
    b.claim("m1", "H1", day(70), scheme="commercial", total=1000, paid=500, claim_id="cm4")
    # m2: lawful top-up — 700 + 300 = 1000.
    b.claim("m2", "H1", day(80), scheme="medical", total=1000, paid=700, claim_id="md5")
    b.claim("m2", "H1", day(80), scheme="commercial", total=1000, paid=300, claim_id="cm5")
    # t1: traffic accident with a liable third party paid by medical.
    b.injury_cases.append(
        {
            "injury_case_id": "IC2",
            "person_id": "t1",
            "injury_date": day(90),
            "cause": "traffic",
            "third_party_liable": "true",
            "employer_id": None,
            "reported_to": "medical",
        }
    )
    b.claim(
        "t1", "H1", day(90), scheme="medical", dx="S06.0", total=6000, paid=4200, case="IC2", claim_id="md6"
    )
    # t2: lawful — a fall with no liable third party paid by medical.
    b.injury_cases.append(
        {
            "injury_case_id": "IC3",
            "person_id": "t2",
            "injury_date": day(95),
            "cause": "fall",
            "third_party_liable": "false",
            "employer_id": None,
            "reported_to": "medical",
        }
    )
    b.claim(
        "t2", "H1", day(95), scheme="medical", dx="S72.0", total=9000, paid=6300, case="IC3", claim_id="md7"
    )
    return b


def _by_person() -> dict[str, Finding]:
    inp = _city().inputs()
    found = detect_double_claims(inp.claims, inp.injury_cases, DetectionSettings())
    assert len({f.person_id for f in found}) == len(found)
    return {f.person_id: f for f in found}


def test_each_kind_is_found_with_its_claims_and_excess() -> None:
    found = _by_person()
    assert set(found) == {"w1", "w2", "m1", "t1"}
    w1, w2, m1, t1 = found["w1"], found["w2"], found["m1"], found["t1"]
    assert (w1.kind, w1.excess_amount) == ("medical_and_work_injury", 2100.0)
    assert {c.key for c in w1.claims} == {"work_injury:wi1", "medical:md1"}
    assert (w2.kind, w2.excess_amount) == ("medical_and_work_injury", 840.0)
    assert {c.key for c in w2.claims} == {"work_injury:wi2", "medical:md2"}
    assert (m1.kind, m1.excess_amount) == ("medical_and_commercial_over_expense", 200.0)
    assert {c.key for c in m1.claims} == {"medical:md4", "commercial:cm4"}
    assert (t1.kind, t1.excess_amount) == ("third_party_liable_paid_by_medical", 4200.0)
    assert [c.key for c in t1.claims] == ["medical:md6"]
    assert any("¥200" in e for e in render_all(m1.evidence))


def test_lawful_cover_combinations_are_not_reported() -> None:
    found = _by_person()
    assert not {"w3", "m2", "t2"} & set(found)
