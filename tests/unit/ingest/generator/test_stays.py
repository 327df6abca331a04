"""The generator books every inpatient stay, so no legitimate stay overlaps another by accident."""

from __future__ import annotations

import numpy as np
import pytest

from ingest.generator import lookalikes, vocab
from ingest.generator.background import everyday_claims
from ingest.generator.institutions import build_doctors, build_institutions
from ingest.generator.population import EPOCH_2024, YEAR_DAYS, build_population
from ingest.generator.records import INPATIENT, MEDICAL, OUTPATIENT, City, StayBook


def _book(*stays: tuple[int, int]) -> StayBook:
    book = StayBook(np.zeros(3, dtype=bool))
    for start, end in stays:
        book.book(np.array([1]), np.array([start]), np.array([end]))
    return book


def test_a_stay_starting_on_a_discharge_day_is_free_an_overlapping_one_is_not() -> None:
    book = _book((10, 20))
    assert book.is_free(1, 20, 25) and book.is_free(1, 5, 10)  # same-day transfers
    assert not book.is_free(1, 19, 25) and not book.is_free(1, 5, 11) and not book.is_free(1, 12, 14)
    assert book.is_free(0, 12, 14)  # another person
    assert book.booked.tolist() == [False, True, False]


def test_free_days_avoid_every_booked_stay() -> None:
    book = _book((0, 40), (52, 100))
    rng = np.random.default_rng(5)
    days = {book.free_day(rng, 1, 0, 100, 5) for _ in range(200)}
    assert days == set(range(40, 48))  # a 5-night stay fits only between day 40 and day 52
    with pytest.raises(ValueError, match="no free 20-night period"):
        book.free_day(rng, 1, 0, 100, 20)


def _city(persons: int, seed: int) -> City:
    rng = np.random.default_rng(seed)
    pop = build_population(rng, persons)
    inst = build_institutions(rng, pop)
    return City(rng=rng, pop=pop, inst=inst, docs=build_doctors(rng, pop, inst))


def test_claims_book_inpatient_rows_only() -> None:
    city = _city(600, 3)
    city.claims.add(
        person=np.array([4, 5]),
        inst=np.array([0, 0]),
        doctor=np.array([-1, -1]),
        visit=np.array([INPATIENT, OUTPATIENT]),
        start=np.array([EPOCH_2024 + 3, EPOCH_2024 + 3]),
        end=np.array([EPOCH_2024 + 9, -1]),
        dx="J18.9",
        total=np.array([100, 100]),
        reimb=np.array([50, 50]),
        scheme=MEDICAL,
        payer=vocab.PAYER_MEDICAL_RESIDENT,
    )
    assert city.stays.nights == {4: [(EPOCH_2024 + 3, EPOCH_2024 + 9)]}


def _overlapping_persons(city: City) -> set[int]:
    cols = {
        c: np.concatenate([b[c] for b in city.claims.blocks])
        for c in ("person", "inst", "visit", "start", "end")
    }
    stay = cols["visit"] == INPATIENT
    person, inst, start, end = (cols[c][stay] for c in ("person", "inst", "start", "end"))
    found: set[int] = set()
    for p in np.unique(person).tolist():
        i = np.flatnonzero(person == p)
        for a in i:
            for b in i:
                if inst[a] < inst[b] and start[a] < end[b] and start[b] < end[a]:
                    found.add(p)
    return found


def test_injuries_of_persons_in_hospital_never_overlap_their_stays() -> None:
    city = _city(4000, 11)
    everyday_claims(city)
    in_hospital = np.flatnonzero(city.stays.booked)
    assert len(in_hospital) > 150
    # Every person with a stay is injured twice (about a third of first visits are admissions):
    # drawn at random, dozens of these admissions would overlap the stays.
    for person in np.repeat(in_hospital, 2).tolist():
        day = lookalikes.injury_day(city, person)
        case = city.injuries.add(person, day, "fall", False, -1, "medical")
        lookalikes._injury_claims(
            city, person, day, case, MEDICAL, vocab.PAYER_MEDICAL_RESIDENT, vocab.DX_FALL, 2
        )
    assert _overlapping_persons(city) == set()
    assert max(s for stays in city.stays.nights.values() for s, _ in stays) < EPOCH_2024 + YEAR_DAYS
