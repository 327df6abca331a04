"""Patterns of the bureaus' rule classes (DOMAIN.md 4-5), each planted with a lawful look-alike.

- 挂床住院 ``present_elsewhere_while_admitted``: a stay at one hospital and outpatient or pharmacy
  claims at other institutions on 2-5 days strictly inside it. Look-alike
  ``elsewhere_on_stay_edges``: a clinic visit on the admission day and a pharmacy purchase on the
  discharge day of a stay.
- 分解住院 ``split_admission``: 3-4 stays at one hospital with one principal diagnosis, each
  readmission 0-10 days after the discharge. Look-alike ``chemotherapy_cycles``: 4-6 planned
  cycles (Z51.1) 7-14 days apart at one hospital.
- 冒名就医 ``same_day_far_apart``: a local visit and one at a clinic or pharmacy in another
  province (the city's 异地定点 institutions) on 1-3 days. Look-alike ``far_transfer``: discharged
  from a local hospital and admitted to the hospital in the other province the same day.
- 刷卡套现 ``pharmacy_cash_out``: 8-30 recruits at one pharmacy on 3-8 days, each "buying" a round
  amount far above the usual basket. Look-alike ``chronic_refill_pharmacy``: 20-40 patients
  refilling the same chronic drug at one pharmacy every month, each on their own day.
"""

from __future__ import annotations

import numpy as np

from ingest.generator import vocab
from ingest.generator.fraud import _pending
from ingest.generator.lookalikes import institution_member, lookalike, patients, scale, take_free
from ingest.generator.population import EPOCH_2024, YEAR_DAYS, IntArray
from ingest.generator.records import (
    MEDICAL,
    OUTPATIENT,
    PHARMACY,
    City,
    amounts,
    full,
    medical_payer,
    pick_doctor,
)


def _stay(city: City, person: int, hospital: int, start: int, end: int, dx: str) -> IntArray:
    rng = city.rng
    total, reimb = amounts(rng, 1, 9.0, 0.5, 0.6, 0.85)
    return city.claims.add_stay(
        person=person,
        inst=hospital,
        doctor=pick_doctor(rng, city.inst, full(1, hospital)),
        start=start,
        end=end,
        dx=dx,
        total=int(total[0]),
        reimb=int(reimb[0]),
        scheme=MEDICAL,
        payer=medical_payer(city.pop, full(1, person)),
    )


def _visits(city: City, person: int, where: IntArray, days: IntArray) -> IntArray:
    """Outpatient visits (clinics) or purchases (pharmacies) of one person at ``where`` on ``days``."""
    rng, k = city.rng, len(days)
    pharmacy = city.inst.kind[where] == "pharmacy"
    total, reimb = amounts(rng, k, 5.0, 0.5, 0.4, 0.7)
    return city.claims.add(
        person=full(k, person),
        inst=where,
        doctor=np.where(pharmacy, -1, pick_doctor(rng, city.inst, where)),
        visit=np.where(pharmacy, PHARMACY, OUTPATIENT),
        start=days,
        end=None,
        dx=np.where(pharmacy, "I10", "J06.9"),
        total=total,
        reimb=reimb,
        scheme=MEDICAL,
        payer=medical_payer(city.pop, full(k, person)),
    )


def _hospitals(city: City) -> IntArray:
    return city.inst.of_group("hospital3", "hospital2")


def _elsewhere(city: City) -> IntArray:
    return city.inst.of_group("clinic", "community", "pharmacy")


def present_elsewhere(city: City) -> None:
    rng, pop = city.rng, city.pop
    no_stay = np.flatnonzero(~city.stays.booked)
    for person in take_free(city, scale(pop.n, 20_000, 2), min_age=30, pool=no_stay).tolist():
        hospital = int(rng.choice(_hospitals(city)))
        start = EPOCH_2024 + int(rng.integers(10, 320))
        end = start + int(rng.integers(10, 21))
        stay = _stay(city, person, hospital, start, end, str(rng.choice(vocab.DX_INPATIENT)))
        days = np.sort(rng.choice(np.arange(start + 1, end), int(rng.integers(2, 6)), replace=False))
        away = _visits(city, person, rng.choice(_elsewhere(city), len(days)).astype(np.int64), days)
        _pending(
            city,
            "anomalies",
            {"kind": "present_elsewhere_while_admitted", "person_id": str(pop.person_id[person])},
            np.r_[stay, away],
        )
    for person in take_free(city, scale(pop.n, 10_000, 2), min_age=30, pool=no_stay).tolist():
        hospital = int(rng.choice(_hospitals(city)))
        start = EPOCH_2024 + int(rng.integers(10, 320))
        end = start + int(rng.integers(5, 21))
        stay = _stay(city, person, hospital, start, end, str(rng.choice(vocab.DX_INPATIENT)))
        clinic = int(rng.choice(city.inst.of_group("clinic", "community")))
        pharmacy = int(rng.choice(city.inst.of_group("pharmacy")))
        edges = _visits(city, person, np.array([clinic, pharmacy]), np.array([start, end]))
        lookalike(city, "elsewhere_on_stay_edges", patients(city, np.array([person])), np.r_[stay, edges])


def split_admissions(city: City) -> None:
    rng, pop = city.rng, city.pop
    no_stay = np.flatnonzero(~city.stays.booked)
    for person in take_free(city, scale(pop.n, 20_000, 2), min_age=40, pool=no_stay).tolist():
        hospital = int(rng.choice(_hospitals(city)))
        dx = str(rng.choice(vocab.DX_INPATIENT))
        day = EPOCH_2024 + int(rng.integers(5, 250))
        rows = []
        for _ in range(int(rng.integers(3, 5))):
            end = day + int(rng.integers(3, 11))
            rows.append(_stay(city, person, hospital, day, end, dx))
            day = end + int(rng.integers(0, 11))
        _pending(
            city,
            "anomalies",
            {"kind": "split_admission", "person_id": str(pop.person_id[person])},
            np.concatenate(rows),
        )
    for person in take_free(city, scale(pop.n, 10_000, 2), min_age=30, pool=no_stay).tolist():
        hospital = int(rng.choice(_hospitals(city)))
        day = EPOCH_2024 + int(rng.integers(5, 200))
        rows = []
        for _ in range(int(rng.integers(4, 7))):
            end = day + int(rng.integers(1, 4))
            rows.append(_stay(city, person, hospital, day, end, vocab.DX_CHEMO_CYCLE))
            day = end + int(rng.integers(7, 15))
        lookalike(city, "chemotherapy_cycles", patients(city, np.array([person])), np.concatenate(rows))


ROUND_AMOUNTS = np.array([500, 800, 1000, 1200, 1500, 2000]) * 100  # cents


def pharmacy_cash_out(city: City) -> None:
    rng, pop = city.rng, city.pop
    pharmacies = city.inst.of_group("pharmacy")
    chosen = rng.choice(
        pharmacies, min(len(pharmacies), scale(pop.n, 50_000, 1) + scale(pop.n, 50_000, 1)), replace=False
    )
    half = len(chosen) // 2
    for r, pharmacy in enumerate(chosen[:half].tolist()):
        members = take_free(city, int(rng.integers(8, 31)), min_age=18)
        if len(members) < 5:
            return
        days = EPOCH_2024 + np.sort(rng.choice(YEAR_DAYS - 1, int(rng.integers(3, 9)), replace=False))
        for day in days.tolist():
            group = members[rng.random(len(members)) < rng.uniform(0.6, 1.0)]
            k = len(group)
            total = rng.choice(ROUND_AMOUNTS, k)
            city.claims.add(
                person=group,
                inst=full(k, pharmacy),
                doctor=full(k, -1),
                visit=PHARMACY,
                start=full(k, day),
                end=None,
                dx=np.array(["I10", "E11.9", "M17.9"])[rng.integers(0, 3, k)],
                total=total,
                reimb=np.floor(total * rng.uniform(0.6, 0.8, k)).astype(np.int64),
                scheme=MEDICAL,
                payer=medical_payer(pop, group),
            )
        city.truth["rings"].append(
            {
                "ring_id": f"R-P{r + 1:03d}",
                "kind": "pharmacy_cash_out",
                "members": [institution_member(city, pharmacy), *patients(city, members)],
                "shape": f"members={len(members)},days={len(days)}",
            }
        )
    for pharmacy in chosen[half:].tolist():
        members = take_free(city, int(rng.integers(20, 41)), min_age=50)
        if len(members) < 5:
            return
        price = rng.choice(np.array([8990, 12850, 15640, 21300]), len(members))
        first = EPOCH_2024 + rng.integers(0, 28, len(members))
        month = np.arange(12) * 30
        person = np.repeat(members, 12)
        day = (first[:, None] + month[None, :] + rng.integers(-1, 2, (len(members), 12))).ravel()
        ok = day < EPOCH_2024 + YEAR_DAYS
        person, day = person[ok], day[ok]
        total = np.repeat(price, 12)[ok]
        n = len(person)
        city.claims.add(
            person=person,
            inst=full(n, pharmacy),
            doctor=full(n, -1),
            visit=PHARMACY,
            start=day,
            end=None,
            dx="E11.9",
            total=total,
            reimb=np.floor(total * 0.7).astype(np.int64),
            scheme=MEDICAL,
            payer=medical_payer(pop, person),
        )
        lookalike(
            city, "chronic_refill_pharmacy", [institution_member(city, pharmacy), *patients(city, members)]
        )


def same_day_far_apart(city: City) -> None:
    """冒名就医: a local visit and a visit in another province on one day (1-3 days); a far transfer."""
    rng, pop, inst = city.rng, city.pop, city.inst
    remote = inst.of_group("remote_clinic", "remote_pharmacy")
    local = inst.of_group("clinic", "community", "pharmacy")
    for person in take_free(city, scale(pop.n, 20_000, 2), min_age=18).tolist():
        days = EPOCH_2024 + np.sort(rng.choice(YEAR_DAYS - 1, int(rng.integers(1, 4)), replace=False))
        k = len(days)
        here = _visits(city, person, rng.choice(local, k).astype(np.int64), days)
        there = _visits(city, person, rng.choice(remote, k).astype(np.int64), days)
        _pending(
            city,
            "anomalies",
            {"kind": "same_day_far_apart", "person_id": str(pop.person_id[person])},
            np.r_[here, there],
        )
    far_hospital = int(inst.of_group("remote_hospital2")[0])
    no_stay = np.flatnonzero(~city.stays.booked)
    for person in take_free(city, scale(pop.n, 20_000, 2), min_age=30, pool=no_stay).tolist():
        hospital = int(rng.choice(_hospitals(city)))
        start = EPOCH_2024 + int(rng.integers(10, 300))
        moved = start + int(rng.integers(3, 15))
        first = _stay(city, person, hospital, start, moved, "I63.9")
        second = _stay(city, person, far_hospital, moved, moved + int(rng.integers(5, 20)), "I63.9")
        lookalike(
            city,
            "far_transfer",
            [
                *patients(city, np.array([person])),
                institution_member(city, hospital),
                institution_member(city, far_hospital),
            ],
            np.r_[first, second],
        )
