"""Known answers for 挂床住院 and 分解住院 on small hand-made cities.

present elsewhere while admitted (one stay at H1, days 10 -> 20)::

    gua    : pharmacy P1 on day 13, clinic CL1 on day 16          -> reported (2 days inside)
    errand : pharmacy P1 on day 14 only                           -> not reported (one day)
    edges  : clinic CL1 on day 10 (admission) and 20 (discharge)  -> not reported
    transfer: discharged from H1 day 20, admitted to H2 day 20    -> not reported (inpatient)

split admission (H1, readmission within 15 days)::

    split  : I63.9 stays 1-8, 10-18, 21-30                        -> reported (2 readmissions)
    chemo  : Z51.1 stays 1-3, 15-17, 29-31, 43-45                 -> not reported (treatment cycle)
    twice  : J18.9 stays 1-8, 12-20                               -> not reported (one readmission)
    apart  : I63.9 stays 1-8, 40-48, 90-98                        -> not reported (gaps > 15 days)
"""

from __future__ import annotations

from algorithms.evidence import render_all
from algorithms.settings import DetectionSettings
from algorithms.stay_patterns import detect_stay_patterns
from tests.unit.algorithms.handmade import CityBuilder, day

S = DetectionSettings()


def _stay(b: CityBuilder, pid: str, inst: str, first: int, last: int, dx: str = "J18.9") -> str:
    return b.claim(
        pid, inst, day(first), visit_type="inpatient", end=day(last), dx=dx, total=9000.0, paid=7000.0
    )


def _city() -> CityBuilder:
    b = CityBuilder()
    for iid, kind in (("H1", "hospital"), ("H2", "hospital"), ("CL1", "clinic"), ("P1", "pharmacy")):
        b.institution(iid, kind)
    for pid in ("gua", "errand", "edges", "transfer", "split", "chemo", "twice", "apart"):
        b.person(pid)
    _stay(b, "gua", "H1", 10, 20)
    b.claim("gua", "P1", day(13), visit_type="pharmacy", total=300.0, paid=200.0)
    b.claim("gua", "CL1", day(16))
    _stay(b, "errand", "H1", 10, 20)
    b.claim("errand", "P1", day(14), visit_type="pharmacy")
    _stay(b, "edges", "H1", 10, 20)
    b.claim("edges", "CL1", day(10))
    b.claim("edges", "CL1", day(20))
    _stay(b, "transfer", "H1", 10, 20)
    _stay(b, "transfer", "H2", 20, 30)
    for first, last in ((1, 8), (10, 18), (21, 30)):
        _stay(b, "split", "H1", first, last, dx="I63.9")
    for first in (1, 15, 29, 43):
        _stay(b, "chemo", "H1", first, first + 2, dx="Z51.1")
    _stay(b, "twice", "H1", 1, 8)
    _stay(b, "twice", "H1", 12, 20)
    for first in (1, 40, 90):
        _stay(b, "apart", "H1", first, first + 7, dx="I63.9")
    return b


def test_claims_elsewhere_on_two_days_inside_a_stay_are_reported_and_lookalikes_are_not() -> None:
    findings = [
        f
        for f in detect_stay_patterns(_city().inputs().claims, S)
        if f.kind == "present_elsewhere_while_admitted"
    ]
    assert [f.person_id for f in findings] == ["gua"]
    f = findings[0]
    assert len(f.claims) == 3  # the stay and the two claims elsewhere
    assert f.excess_amount == 7000.0 and f.score >= S.report_threshold
    assert "2 天" in render_all(f.evidence)[0] and "挂床住院" in render_all(f.evidence)[1]


def test_a_chain_of_readmissions_with_one_diagnosis_is_a_split_admission_and_cycles_are_not() -> None:
    findings = [f for f in detect_stay_patterns(_city().inputs().claims, S) if f.kind == "split_admission"]
    assert [f.person_id for f in findings] == ["split"]
    f = findings[0]
    assert len(f.claims) == 3
    assert f.excess_amount == 14000.0  # the two readmissions
    assert "I63.9" in render_all(f.evidence)[0] and "分解住院" in render_all(f.evidence)[0]


def test_readmission_window_is_a_setting() -> None:
    wide = DetectionSettings(readmit_days=60)
    found = {
        f.person_id
        for f in detect_stay_patterns(_city().inputs().claims, wide)
        if f.kind == "split_admission"
    }
    assert found == {"split", "apart"}
