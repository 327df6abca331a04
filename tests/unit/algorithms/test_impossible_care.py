"""Known answers for impossible care: overlapping stays and claims after death."""

from __future__ import annotations

from algorithms.evidence import render_all
from algorithms.impossible_care import detect_impossible_care
from tests.unit.algorithms.handmade import CityBuilder, day


def test_overlap_is_found_same_day_transfer_is_not_and_claims_after_death_are() -> None:
    b = CityBuilder()
    b.institution("H1", "hospital")
    b.institution("H2", "hospital")
    b.person("o1")
    b.person("tr")
    b.person("d1", death_date=str(day(100)))
    b.claim("o1", "H1", day(10), visit_type="inpatient", end=day(20), claim_id="s1")
    b.claim("o1", "H2", day(15), visit_type="inpatient", end=day(25), claim_id="s2")
    # Same-day transfer: discharged from H1 on day 40, admitted to H2 on day 40.
    b.claim("tr", "H1", day(30), visit_type="inpatient", end=day(40), claim_id="s3")
    b.claim("tr", "H2", day(40), visit_type="inpatient", end=day(45), claim_id="s4")
    b.claim("d1", "H1", day(99), claim_id="before")
    b.claim("d1", "H1", day(101), claim_id="after1", paid=300)
    b.claim("d1", "H2", day(130), claim_id="after2", paid=200)
    inp = b.inputs()
    found = {(f.kind, f.person_id): f for f in detect_impossible_care(inp.claims, inp.persons)}
    assert set(found) == {("overlapping_inpatient", "o1"), ("claim_after_death", "d1")}
    assert {c.claim_id for c in found[("overlapping_inpatient", "o1")].claims} == {"s1", "s2"}
    assert "重叠 5 天" in render_all(found[("overlapping_inpatient", "o1")].evidence)[0]
    after = found[("claim_after_death", "d1")]
    assert {c.claim_id for c in after.claims} == {"after1", "after2"}
    assert after.excess_amount == 500.0


def test_day_cases_and_missing_discharge_overlap_only_strictly_inside_another_stay() -> None:
    b = CityBuilder()
    for h in ("H1", "H2", "H3"):
        b.institution(h, "hospital")
    for p in ("dc_transfer", "dc_inside", "dc_after", "open_inside", "two_day_cases"):
        b.person(p)
    # Admitted and discharged at H1 on day 10, admitted to H2 the same day: a transfer.
    b.claim("dc_transfer", "H1", day(10), visit_type="inpatient", end=day(10), claim_id="a1")
    b.claim("dc_transfer", "H2", day(10), visit_type="inpatient", end=day(14), claim_id="a2")
    # A day case at H2 on day 22 while in a ward at H1 from day 20 to day 25.
    b.claim("dc_inside", "H1", day(20), visit_type="inpatient", end=day(25), claim_id="b1")
    b.claim("dc_inside", "H2", day(22), visit_type="inpatient", end=day(22), claim_id="b2")
    # Discharged from H1 on day 35, a day case at H2 that day: a transfer.
    b.claim("dc_after", "H1", day(30), visit_type="inpatient", end=day(35), claim_id="c1")
    b.claim("dc_after", "H2", day(35), visit_type="inpatient", end=day(35), claim_id="c2")
    # No discharge date at H2 on day 42, inside a stay at H1.
    b.claim("open_inside", "H1", day(40), visit_type="inpatient", end=day(45), claim_id="d1")
    b.claim("open_inside", "H2", day(42), visit_type="inpatient", claim_id="d2")
    # Two day cases at two hospitals on one day: no night spent at both.
    b.claim("two_day_cases", "H1", day(50), visit_type="inpatient", end=day(50), claim_id="e1")
    b.claim("two_day_cases", "H3", day(50), visit_type="inpatient", end=day(50), claim_id="e2")
    inp = b.inputs()
    found = {f.person_id: f for f in detect_impossible_care(inp.claims, inp.persons)}
    assert set(found) == {"dc_inside", "open_inside"}
    assert {c.claim_id for c in found["dc_inside"].claims} == {"b1", "b2"}
    assert "重叠 1 天" in render_all(found["dc_inside"].evidence)[0]


def test_overlapping_days_count_each_day_once_when_a_stay_has_a_top_up_claim() -> None:
    b = CityBuilder()
    b.institution("H1", "hospital")
    b.institution("H2", "hospital")
    b.person("p")
    # The H1 stay is claimed twice (medical and a commercial top-up); it overlaps H2 on days 12-15.
    b.claim("p", "H1", day(10), visit_type="inpatient", end=day(16), claim_id="m1")
    b.claim("p", "H1", day(10), visit_type="inpatient", end=day(16), scheme="commercial", claim_id="t1")
    b.claim("p", "H2", day(12), visit_type="inpatient", end=day(20), claim_id="m2")
    inp = b.inputs()
    (finding,) = detect_impossible_care(inp.claims, inp.persons)
    assert {(c.scheme, c.claim_id) for c in finding.claims} == {
        ("medical", "m1"),
        ("commercial", "t1"),
        ("medical", "m2"),
    }
    assert "重叠 4 天" in render_all(finding.evidence)[0]
