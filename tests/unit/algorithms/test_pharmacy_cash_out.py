"""Known answers for pharmacy card cash-out (刷卡套现) on a small hand-made city.

Background: 300 persons buying at pharmacies P1..P3 on random days (¥20-¥150 baskets).
    P1  cash-out: 8 recruits at 8 addresses buy ¥800/¥1,000 on days 30, 75 and 140  -> ring P1 + 8
    P2  chronic refills: 30 patients buy ¥356.40 every 30 days, each on their own day -> not reported
    P3  one crowded day: 6 recruits buy ¥1,000 on day 50 only                        -> not reported
    P1  a family of 4 (one address) buys ¥500 each on day 200 and 230                  -> not members
"""

from __future__ import annotations

from datetime import timedelta

from algorithms.evidence import render_all
from algorithms.pharmacy_cash_out import detect_pharmacy_cash_out
from algorithms.settings import DetectionSettings
from tests.unit.algorithms.handmade import START, CityBuilder, day

S = DetectionSettings()


def _city() -> CityBuilder:
    b = CityBuilder(seed=4)
    for iid in ("P1", "P2", "P3"):
        b.institution(iid, "pharmacy", name=f"{iid}大药房")
    for i in range(300):
        pid = b.person(f"bg{i:03d}")
        for _ in range(6):
            at = ("P1", "P2", "P3")[int(b.rng.integers(3))]
            amount = round(float(b.rng.uniform(20, 150)), 2)
            b.claim(
                pid,
                at,
                START + timedelta(days=int(b.rng.integers(365))),
                visit_type="pharmacy",
                total=amount,
                paid=round(amount * 0.6, 2),
            )
    for i in range(8):
        b.person(f"cash{i}")
    for d in (30, 75, 140):
        for i in range(8):
            amount = 800.0 if i % 2 else 1000.0
            b.claim(f"cash{i}", "P1", day(d), visit_type="pharmacy", total=amount, paid=amount * 0.7)
    for i in range(30):
        b.person(f"chronic{i:02d}")
        for month in range(12):
            b.claim(
                f"chronic{i:02d}",
                "P2",
                day(month * 30 + i),
                visit_type="pharmacy",
                dx="E11.9",
                total=356.4,
                paid=250.0,
            )
    for i in range(6):
        b.person(f"once{i}")
        b.claim(f"once{i}", "P3", day(50), visit_type="pharmacy", total=1000.0, paid=700.0)
    for i in range(4):
        b.person(f"fam{i}", address="幸福路8号")
        for d in (200, 230):
            b.claim(f"fam{i}", "P1", day(d), visit_type="pharmacy", total=500.0, paid=300.0)
    return b


def test_crowd_of_round_purchases_far_above_the_basket_on_several_days_is_a_ring() -> None:
    inputs = _city().inputs()
    rings = [
        r
        for r in detect_pharmacy_cash_out(inputs.claims, inputs.persons, inputs.institutions, S)
        if r.score >= S.report_threshold
    ]
    assert len(rings) == 1
    ring = rings[0]
    assert ring.kind == "pharmacy_cash_out"
    assert sorted(ring.patient_ids) == [f"cash{i}" for i in range(8)]
    assert "Pharmacy:P1" in ring.member_refs
    assert any("3 天" in e and "刷卡购药" in e for e in render_all(ring.evidence))
    assert any("整百" in e for e in render_all(ring.evidence))


def test_chronic_refills_one_crowded_day_and_a_family_are_not_cash_out() -> None:
    inputs = _city().inputs()
    rings = detect_pharmacy_cash_out(inputs.claims, inputs.persons, inputs.institutions, S)
    members = {p for r in rings for p in r.patient_ids}
    assert not any(p.startswith(("chronic", "once", "fam")) for p in members)
    assert all("Pharmacy:P2" not in r.member_refs and "Pharmacy:P3" not in r.member_refs for r in rings)
