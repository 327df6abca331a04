"""Known answers for collusion rings: the planted ring is reported, legitimate cohorts are not."""

from __future__ import annotations

import numpy as np

from algorithms.collusion import detect_collusion
from algorithms.evidence import render_all
from algorithms.igraph_engine import IgraphEngine
from algorithms.results import Ring
from algorithms.settings import DetectionSettings
from tests.unit.algorithms.handmade import CityBuilder, collusion_city, day

SETTINGS = DetectionSettings()


def _rings(builder: CityBuilder) -> list[Ring]:
    return detect_collusion(builder.inputs(), SETTINGS, IgraphEngine())


def _reported(rings: list[Ring]) -> list[Ring]:
    return [r for r in rings if r.score >= SETTINGS.report_threshold]


def _find(rings: list[Ring], prefix: str) -> Ring:
    return next(r for r in rings if any(p.startswith(prefix) for p in r.patient_ids))


def test_ring_of_six_on_four_days_is_reported_with_its_clinic_and_doctor() -> None:
    rings = _rings(collusion_city())
    reported = _reported(rings)
    assert len(reported) == 1
    ring = reported[0]
    assert sorted(ring.patient_ids) == [f"ring{i}" for i in range(6)]
    assert {m.ref for m in ring.members if m.type != "Patient"} == {"Institution:CL1", "Doctor:DR1"}
    assert any("在 4 个不同日期同日到 诊所1 就诊" in e for e in render_all(ring.evidence))
    assert any("医保报销" in e for e in render_all(ring.evidence))


def test_dialysis_shift_is_found_but_scored_below_threshold_with_the_reason() -> None:
    rings = _rings(collusion_city())
    dialysis = _find(rings, "dial")
    assert dialysis.score < SETTINGS.report_threshold
    assert sorted(dialysis.patient_ids) == [f"dial{i}" for i in range(10)]
    assert any("固定治疗班次" in e for e in render_all(dialysis.evidence))


def test_household_and_care_home_are_not_reported() -> None:
    rings = _rings(collusion_city())
    family = _find(rings, "fam")
    home = _find(rings, "home")
    assert family.score < SETTINGS.report_threshold
    assert any("同住家庭" in e for e in render_all(family.evidence))
    assert home.score < SETTINGS.report_threshold
    assert any("集中居住" in e for e in render_all(home.evidence))


def test_ring_meeting_in_changing_subgroups_at_two_clinics_is_found() -> None:
    b = collusion_city(seed=2)
    rng = np.random.default_rng(5)
    members = [b.person(f"sub{i:02d}") for i in range(12)]
    b.doctor("DR2", "CL2")
    for d, clinic in ((15, "CL2"), (48, "CL2"), (101, "CL3"), (160, "CL2"), (210, "CL3"), (250, "CL2")):
        for p in rng.choice(members, size=int(rng.integers(6, 9)), replace=False):
            b.claim(
                str(p), clinic, day(d), doctor="DR2" if clinic == "CL2" else None, total=700.0, paid=600.0
            )
    reported = _reported(_rings(b))
    ring = _find(reported, "sub")
    # Pairs of this ring share only one or two days; the group is found from the whole pattern.
    assert sorted(ring.patient_ids) == members
    assert {"Institution:CL2", "Institution:CL3", "Doctor:DR2"} <= ring.member_refs


def test_large_hospital_day_does_not_glue_strangers_together() -> None:
    b = CityBuilder(seed=3)
    b.institution("BIG", "hospital")
    rng = np.random.default_rng(9)
    persons = [b.person(f"p{i:04d}") for i in range(2000)]
    # Everyone visits the big hospital on the same 5 days, spread over 80 doctors.
    for d in (5, 6, 7, 8, 9):
        for p in persons:
            b.claim(p, "BIG", day(d), doctor=f"BIG-d{int(rng.integers(80))}")
    stats: dict[str, object] = {}
    rings = detect_collusion(b.inputs(), SETTINGS, IgraphEngine(), stats=stats)
    assert _reported(rings) == []
    assert stats["split_or_dropped_hub_days"] == 5
