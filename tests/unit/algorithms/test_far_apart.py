"""Known answers for same-day claims too far apart (冒名就医) on a small hand-made city.

Institutions: SJZ-C (clinic, Shijiazhuang 38.04N 114.51E), SJZ-H (hospital, same city, 10 km away),
HZ-P (pharmacy, Hangzhou 30.27N 120.16E, ~1000 km away), HZ-H (hospital, Hangzhou), NOLOC (no
coordinates)::

    fake     : SJZ-C and HZ-P on day 40, and again on day 90     -> reported (2 days, ~1000 km)
    local    : SJZ-C and SJZ-H on day 40                         -> not reported (10 km)
    transfer : stay at SJZ-H days 30-40, admitted to HZ-H day 40 -> not reported (a transfer)
    unknown  : SJZ-C and NOLOC on day 40                         -> not reported (no coordinates)
"""

from __future__ import annotations

import pandas as pd

from algorithms.evidence import render_all
from algorithms.far_apart import detect_far_apart
from algorithms.settings import DetectionSettings
from tests.unit.algorithms.handmade import CityBuilder, day

S = DetectionSettings()
PLACES = {
    "SJZ-C": (38.04, 114.51),
    "SJZ-H": (38.10, 114.60),
    "HZ-P": (30.27, 120.16),
    "HZ-H": (30.25, 120.20),
}


def _city() -> tuple[CityBuilder, pd.DataFrame]:
    b = CityBuilder()
    for iid in ("SJZ-C", "SJZ-H", "HZ-P", "HZ-H", "NOLOC"):
        b.institution(iid, "pharmacy" if iid == "HZ-P" else "clinic")
    for pid in ("fake", "local", "transfer", "unknown"):
        b.person(pid)
    for d in (40, 90):
        b.claim("fake", "SJZ-C", day(d))
        b.claim("fake", "HZ-P", day(d), visit_type="pharmacy")
    b.claim("local", "SJZ-C", day(40))
    b.claim("local", "SJZ-H", day(40))
    b.claim("transfer", "SJZ-H", day(30), visit_type="inpatient", end=day(40))
    b.claim("transfer", "HZ-H", day(40), visit_type="inpatient", end=day(50))
    b.claim("unknown", "SJZ-C", day(40))
    b.claim("unknown", "NOLOC", day(40))
    inst = pd.DataFrame(b.institutions)
    inst["latitude"] = inst["institution_id"].map(lambda i: PLACES.get(i, (None, None))[0])
    inst["longitude"] = inst["institution_id"].map(lambda i: PLACES.get(i, (None, None))[1])
    return b, inst


def test_claims_a_thousand_km_apart_on_one_day_are_reported_and_transfers_are_not() -> None:
    b, inst = _city()
    findings = detect_far_apart(b.inputs().claims, inst, S)
    assert [f.person_id for f in findings] == ["fake"]
    f = findings[0]
    assert len(f.claims) == 4 and f.score == 1.0
    assert "2 天" in render_all(f.evidence)[0] and "冒名就医" in render_all(f.evidence)[0]


def test_the_distance_is_a_setting() -> None:
    b, inst = _city()
    near = DetectionSettings(far_apart_km=5.0)
    assert {f.person_id for f in detect_far_apart(b.inputs().claims, inst, near)} == {"fake", "local"}


def test_without_coordinates_nothing_is_compared() -> None:
    b, _ = _city()
    assert detect_far_apart(b.inputs().claims, b.inputs().institutions, S) == []


def test_a_chain_of_towns_wider_than_the_distance_is_still_measured_pair_by_pair() -> None:
    """Towns A, B, C on one meridian 200 km apart: no zone split settles it (A-C is 400 km)."""
    b = CityBuilder()
    for iid in ("A", "B", "C"):
        b.institution(iid, "clinic")
    b.person("ac")
    b.person("ab")
    b.claim("ac", "A", day(5))
    b.claim("ac", "C", day(5))
    b.claim("ab", "A", day(6))
    b.claim("ab", "B", day(6))
    inst = pd.DataFrame(b.institutions)
    inst["latitude"] = inst["institution_id"].map({"A": 30.0, "B": 31.8, "C": 33.6})
    inst["longitude"] = 114.0
    assert [f.person_id for f in detect_far_apart(b.inputs().claims, inst, S)] == ["ac"]
