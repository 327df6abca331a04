"""Fraud hiding among legitimate cohorts (DOMAIN.md 6), planted next to the look-alikes it mimics.

Organisers recruit to care homes, dialysis/rehabilitation centres and health-check days because
group visits there look normal. Each planter takes a place a look-alike already uses
(``city.places``) and plants, with its truth:

- ``care_home``: outsiders (own addresses) meeting at a care home on irregular days, billed far
  above the home's usual visit;
- ``care_home_cover``: the same with 2-4 genuine residents of the home recruited as cover (they
  are ring members in the truth; their home stays a look-alike);
- ``chronic_centre``: outsiders meeting at a dialysis/rehabilitation site with its doctors and
  the cohort's own diagnosis, on irregular days;
- ``health_check_day``: a ring at a community health centre one of whose meetings is the
  centre's health-check day, among the neighbours;
- a broker ring whose phone is a care home's front-desk landline (shared-identifier kind).
"""

from __future__ import annotations

import numpy as np

from ingest.generator.fraud import plant_ring, recruits
from ingest.generator.lookalikes import inst_doctors, patients, scale, take_free
from ingest.generator.population import EPOCH_2024, YEAR_DAYS, IntArray
from ingest.generator.records import City

RINGS_PER = 100_000  # one ring of each hidden kind per this many persons (at least one)


def _days(city: City, n: int, avoid: IntArray | None = None) -> IntArray:
    rng = city.rng
    pool = np.arange(EPOCH_2024, EPOCH_2024 + YEAR_DAYS - 1, dtype=np.int64)
    if avoid is not None:
        pool = pool[~np.isin(pool, avoid)]
    return np.sort(rng.choice(pool, n, replace=False)).astype(np.int64)


def _entry_int(entry: dict[str, object], key: str) -> int:
    value = entry[key]
    assert isinstance(value, int | np.integer)
    return int(value)


def _entry_array(entry: dict[str, object], key: str) -> IntArray:
    value = entry[key]
    assert isinstance(value, np.ndarray)
    return value


def hidden_collusion_rings(city: City) -> None:
    rng, n = city.rng, city.pop.n
    count = scale(n, RINGS_PER, 1)
    homes = city.places["care_home"]
    number = 0

    def ring_id() -> str:
        nonlocal number
        number += 1
        return f"R-H{number:03d}"

    for i in range(min(count, len(homes))):
        home = homes[(2 * i) % len(homes)]
        inst = _entry_int(home, "inst")
        members = recruits(city, int(rng.integers(6, 26)))
        if len(members) < 5:  # a small city has run out of free persons
            return
        days = _days(city, int(rng.integers(4, 11)))  # a meeting may fall on a check-up day
        plant_ring(
            city,
            ring_id(),
            members,
            [(inst, _entry_array(home, "doctors"))],
            days,
            np.array(["I10", "E11.9", "M17.9"]),
            where="care_home",
        )
    for i in range(min(count, len(homes))):
        home = homes[(2 * i + 1) % len(homes)]
        inst = _entry_int(home, "inst")
        members = recruits(city, int(rng.integers(6, 26)))
        if len(members) < 5:  # a small city has run out of free persons
            return
        residents = _entry_array(home, "residents")
        cover = np.sort(rng.choice(residents, min(len(residents), int(rng.integers(2, 5))), replace=False))
        days = _days(city, int(rng.integers(4, 11)))  # a meeting may fall on a check-up day
        plant_ring(
            city,
            ring_id(),
            members,
            [(inst, _entry_array(home, "doctors"))],
            days,
            np.array(["I10", "E11.9", "M17.9"]),
            where="care_home_cover",
            cover=cover.astype(np.int64),
        )
    cohorts = city.places["chronic_cohort"]
    for i in range(min(count, len(cohorts))):
        cohort = cohorts[i % len(cohorts)]
        inst = _entry_int(cohort, "inst")
        members = recruits(city, int(rng.integers(6, 26)))
        if len(members) < 5:  # a small city has run out of free persons
            return
        days = _days(city, int(rng.integers(4, 11)))
        plant_ring(
            city,
            ring_id(),
            members,
            [(inst, _entry_array(cohort, "doctors"))],
            days,
            np.array([str(cohort["dx"])]),
            mean_log=8.0,
            where="chronic_centre",
        )
    checks = city.places["health_check_day"]
    for i in range(min(count, len(checks))):
        check = checks[i % len(checks)]
        inst, day = _entry_int(check, "inst"), _entry_int(check, "day")
        members = recruits(city, int(rng.integers(6, 26)))
        if len(members) < 5:  # a small city has run out of free persons
            return
        days = np.sort(np.r_[_days(city, int(rng.integers(3, 10)), np.array([day])), day]).astype(np.int64)
        plant_ring(
            city,
            ring_id(),
            members,
            [(inst, inst_doctors(city, inst, 1))],
            days,
            np.array(["Z00.0", "I10"]),
            where="health_check_day",
            always=np.flatnonzero(days == day),
        )


def landline_broker_rings(city: City) -> None:
    """Recruits at their own addresses registered with a care home's front-desk phone."""
    rng = city.rng
    homes = city.places["care_home"]
    for i in range(min(scale(city.pop.n, RINGS_PER, 1), len(homes))):
        home = homes[i % len(homes)]
        phone = str(home["phone"])
        members = take_free(city, int(rng.integers(6, 21)), min_age=18, max_age=80)
        if len(members) < 3:
            return
        city.pop.phone[members] = phone
        city.truth["rings"].append(
            {
                "ring_id": f"R-L{i + 1:03d}",
                "kind": "shared_identifier",
                "members": [*patients(city, members), {"type": "Phone", "id": phone}],
                "shape": f"institution_landline:members={len(members)}",
            }
        )
