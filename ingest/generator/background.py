"""Everyday claims of the whole population: outpatient visits, pharmacy refills, admissions."""

from __future__ import annotations

import numpy as np

from ingest.generator import vocab
from ingest.generator.population import EPOCH_2024, YEAR_DAYS
from ingest.generator.records import (
    INPATIENT,
    MEDICAL,
    OUTPATIENT,
    PHARMACY,
    City,
    amounts,
    medical_payer,
    pick_doctor,
)

CLAIMS_PER_PERSON = 5.6  # planted structures add the rest of the ~6 a year


def _choose(rng: np.random.Generator, candidates: np.ndarray, weights: np.ndarray, n: int) -> np.ndarray:
    w = weights[candidates]
    return np.asarray(candidates[rng.choice(len(candidates), n, p=w / w.sum())], dtype=np.int64)


def everyday_claims(city: City) -> None:
    rng, pop, inst = city.rng, city.pop, city.inst
    factor = np.select([pop.age < 15, pop.age < 45, pop.age < 60, pop.age < 75], [0.8, 0.6, 1.0, 1.6], 2.0)
    last_day = np.where(pop.death_day >= 0, pop.death_day - 1, EPOCH_2024 + YEAR_DAYS - 1)
    alive_share = (last_day - EPOCH_2024 + 1) / YEAR_DAYS
    lam = CLAIMS_PER_PERSON * factor / factor.mean() * alive_share * 0.97
    k = rng.poisson(lam)
    person = np.repeat(np.arange(pop.n, dtype=np.int64), k)
    m = len(person)
    start = EPOCH_2024 + np.floor(rng.random(m) * (last_day[person] - EPOCH_2024 + 1)).astype(np.int64)
    is_pharmacy = rng.random(m) < 0.42
    out_candidates = np.flatnonzero(inst.outpatient_weight > 0)
    ph_candidates = np.flatnonzero(inst.pharmacy_weight > 0)
    where = np.where(
        is_pharmacy,
        _choose(rng, ph_candidates, inst.pharmacy_weight, m),
        _choose(rng, out_candidates, inst.outpatient_weight, m),
    )
    doctor = np.where(is_pharmacy, -1, pick_doctor(rng, inst, where))
    doctor = np.where(rng.random(m) < 0.04, -1, doctor)  # some receipts do not name the doctor
    dx = np.where(
        is_pharmacy,
        np.array(vocab.DX_PHARMACY)[rng.integers(0, len(vocab.DX_PHARMACY), m)],
        np.array(vocab.DX_OUTPATIENT)[rng.integers(0, len(vocab.DX_OUTPATIENT), m)],
    )
    t_out, r_out = amounts(rng, m, 5.0, 0.7, 0.4, 0.7)
    t_ph, r_ph = amounts(rng, m, 4.4, 0.6, 0.3, 0.6)
    city.claims.add(
        person=person,
        inst=where,
        doctor=doctor,
        visit=np.where(is_pharmacy, PHARMACY, OUTPATIENT),
        start=start,
        end=None,
        dx=dx,
        total=np.where(is_pharmacy, t_ph, t_out),
        reimb=np.where(is_pharmacy, r_ph, r_out),
        scheme=MEDICAL,
        payer=medical_payer(pop, person),
    )
    _admissions(city)


def _admissions(city: City) -> None:
    """At most two stays a person, in separate halves of the year, so none overlap by accident."""
    rng, pop, inst = city.rng, city.pop, city.inst
    p = np.where(pop.age >= 60, 0.14, 0.04) * pop.alive  # the dying get no background stay
    first = np.flatnonzero(rng.random(pop.n) < p)
    second = first[rng.random(len(first)) < 0.15]
    hospitals = inst.of_group("hospital3", "hospital2", "community")
    weight = inst.outpatient_weight * np.where(inst.group == "community", 0.2, 1.0)
    for persons, lo, hi in ((first, 0, 160), (second, 190, 340)):
        n = len(persons)
        start = EPOCH_2024 + rng.integers(lo, hi, n)
        end = start + rng.integers(2, 21, n)
        where = _choose(rng, hospitals, weight, n)
        total, reimb = amounts(rng, n, 9.0, 0.7, 0.55, 0.85)
        rows = city.claims.add(
            person=persons,
            inst=where,
            doctor=pick_doctor(rng, inst, where),
            visit=INPATIENT,
            start=start,
            end=end,
            dx=np.array(vocab.DX_INPATIENT)[rng.integers(0, len(vocab.DX_INPATIENT), n)],
            total=total,
            reimb=reimb,
            scheme=MEDICAL,
            payer=medical_payer(pop, persons),
        )
        if lo == 0:
            only = ~np.isin(persons, second)
            city.single_stays = {
                "person": persons[only],
                "start": start[only],
                "end": end[only],
                "inst": where[only],
                "row": rows[only],
                "total": total[only],
                "reimb": reimb[only],
            }
