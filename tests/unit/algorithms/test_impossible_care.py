"""Known answers for impossible care: overlapping stays and claims after death."""

from __future__ import annotations

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
    assert "5 overlapping day(s)" in found[("overlapping_inpatient", "o1")].evidence[0]
    after = found[("claim_after_death", "d1")]
    assert {c.claim_id for c in after.claims} == {"after1", "after2"}
    assert after.excess_amount == 500.0
