"""Rings hiding among legitimate cohorts: legitimacy comes from the members' ties, not the place.

The base city (``handmade.collusion_city``) holds a care home ``EC1`` whose 15 residents live at
敬老路9号 and meet there monthly, a dialysis shift at hospital ``H1`` (10 patients, Mon/Wed/Fri,
N18.5), a household and background traffic. Each test adds one hard case::

    outsiders at the care home        EC1 <- 8 recruits from 8 addresses, 5 irregular days, costly
    outsiders + 3 genuine residents    EC1 <- 8 recruits + home0..home2, same days
    outsiders at the dialysis centre   H1/H1-neph <- 7 recruits, 5 irregular days, N18.5 billed
    ring on a health-check day         CC1 <- 40 neighbours on day 100; 6 recruits on 5 days incl. 100
    residents without their address    EC2 <- 12 "residents" at 12 addresses, monthly: nothing explains them
"""

from __future__ import annotations

from algorithms.collusion import detect_collusion
from algorithms.evidence import render_all
from algorithms.igraph_engine import IgraphEngine
from algorithms.results import Ring
from algorithms.settings import DetectionSettings
from tests.unit.algorithms.handmade import CityBuilder, collusion_city, day

SETTINGS = DetectionSettings()
RING_DAYS = (33, 61, 118, 187, 244)  # irregular weekdays, none a check-up day of EC1 (30k + 3)


def _reported(b: CityBuilder) -> list[Ring]:
    rings = detect_collusion(b.inputs(), SETTINGS, IgraphEngine())
    return [r for r in rings if r.score >= SETTINGS.report_threshold]


def _recruits(b: CityBuilder, prefix: str, n: int) -> list[str]:
    return [b.person(f"{prefix}{i}") for i in range(n)]


def test_outsiders_meeting_at_a_care_home_are_a_ring_and_the_residents_are_not() -> None:
    b = collusion_city()
    recruits = _recruits(b, "out", 8)
    for d in RING_DAYS:
        for p in recruits:
            b.claim(p, "EC1", day(d), doctor="EC1-d0", dx="I10", total=1500.0, paid=1300.0)
    reported = _reported(b)
    assert [sorted(r.patient_ids) for r in reported if r.patient_ids[0].startswith("out")] == [recruits]
    assert not any(p.startswith("home") for r in reported for p in r.patient_ids)


def test_ring_with_genuine_residents_as_cover_is_reported_and_names_them_apart() -> None:
    b = collusion_city()
    recruits = _recruits(b, "out", 8)
    cover = ["home0", "home1", "home2"]
    for d in RING_DAYS:
        for p in [*recruits, *cover]:
            b.claim(p, "EC1", day(d), doctor="EC1-d0", dx="I10", total=1500.0, paid=1300.0)
    reported = _reported(b)
    ring = next(r for r in reported if "out0" in r.patient_ids)
    assert set(recruits) <= set(ring.patient_ids)
    cover_line = next(e for e in render_all(ring.evidence) if "掩护" in e)
    named = [p for p in cover if p in ring.patient_ids]
    assert named, "the recruited residents belong to the ring"
    assert all(p[:2] in cover_line for p in named)
    assert any("敬老路9号" in e for e in render_all(ring.evidence))
    # the rest of the home stays a cohort
    assert not any(p in r.patient_ids for r in reported for p in ("home5", "home9", "home14"))


def test_outsiders_on_irregular_days_at_a_dialysis_centre_are_a_ring_even_with_dialysis_codes() -> None:
    b = collusion_city()
    recruits = _recruits(b, "out", 7)
    for d in RING_DAYS:
        for p in recruits:
            b.claim(p, "H1", day(d), doctor="H1-neph", dx="N18.5", total=2500.0, paid=2200.0)
    reported = _reported(b)
    ring = next(r for r in reported if "out0" in r.patient_ids)
    assert sorted(ring.patient_ids) == recruits
    assert not any(p.startswith("dial") for r in reported for p in r.patient_ids)


def test_ring_whose_meetings_coincide_with_a_health_check_day_keeps_only_its_recruits() -> None:
    b = collusion_city()
    b.institution("CC1", "hospital", name="社区卫生服务中心")
    neighbours = [b.person(f"nb{i:02d}", address=f"和平小区{i}栋") for i in range(40)]
    for p in neighbours:
        b.claim(p, "CC1", day(100), doctor="CC1-d0", dx="Z00.0", total=150.0, paid=100.0)
    recruits = _recruits(b, "out", 6)
    for d in (40, 100, 150, 200, 230):
        for p in recruits:
            b.claim(p, "CC1", day(d), doctor="CC1-d0", dx="Z00.0", total=1200.0, paid=1000.0)
    reported = _reported(b)
    ring = next(r for r in reported if "out0" in r.patient_ids)
    assert sorted(ring.patient_ids) == recruits
    assert not any(p.startswith("nb") for r in reported for p in r.patient_ids)


def test_an_elderly_care_institution_alone_explains_nothing() -> None:
    b = collusion_city()
    b.institution("EC2", "elderly_care", name="康养中心")
    group = [b.person(f"res{i:02d}") for i in range(12)]  # each at their own address
    for month in range(8):
        for p in group:
            b.claim(p, "EC2", day(30 * month + 11), doctor="EC2-d0", dx="I10", total=900.0, paid=800.0)
    reported = _reported(b)
    assert any(set(group) <= set(r.patient_ids) for r in reported)


def test_ring_sharing_its_visits_between_two_doctors_of_a_busy_hospital_is_one_ring() -> None:
    """BIG sees 120 patients a day over 40 doctors; 8 recruits meet there on 5 days, half with
    each of two doctors, billed ¥2,000 against a usual ¥140: the doctor-days alone split them."""
    b = collusion_city()
    b.institution("BIG", "hospital", name="市第一医院")
    crowd = [b.person(f"bg-big{i:03d}") for i in range(600)]
    for d in range(0, 300, 3):
        for p in b.rng.choice(crowd, 120, replace=False):
            b.claim(str(p), "BIG", day(d), doctor=f"BIG-d{int(b.rng.integers(40))}")
    recruits = _recruits(b, "out", 8)
    for d in (30, 90, 150, 210, 270):
        for i, p in enumerate(recruits):
            b.claim(p, "BIG", day(d), doctor="BIG-d0" if i % 2 else "BIG-d1", total=2500.0, paid=2000.0)
    reported = _reported(b)
    ring = next(r for r in reported if "out0" in r.patient_ids)
    assert sorted(ring.patient_ids) == recruits
    assert {"Doctor:BIG-d0", "Doctor:BIG-d1", "Institution:BIG"} <= ring.member_refs


def test_small_ring_at_a_quiet_clinic_with_one_meeting_on_a_busy_day_is_found() -> None:
    """CL4 sees two patients a day. 5 recruits meet on days 50, 120, 200 (4-5 at a time, ¥1,200
    each); on day 50, 12 strangers also came (a vaccination day), which glues the recruits to them
    in the communities; the costly visits shared on two days still make them one group."""
    b = collusion_city()
    strangers = [b.person(f"vac{i:02d}") for i in range(12)]
    for p in strangers:
        b.claim(p, "CL4", day(50), doctor="CL4-d0")
    recruits = _recruits(b, "out", 5)
    for d, present in ((50, recruits), (120, recruits[:4]), (200, recruits[1:])):
        for p in present:
            b.claim(p, "CL4", day(d), doctor="CL4-d0", total=1500.0, paid=1200.0)
    reported = _reported(b)
    ring = next(r for r in reported if "out1" in r.patient_ids)
    assert set(ring.patient_ids) >= set(recruits[1:4])
    assert not any(p.startswith("vac") for p in ring.patient_ids)
