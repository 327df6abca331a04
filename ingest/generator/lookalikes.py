"""Legitimate structures that look like fraud (DOMAIN.md "Legitimate look-alikes"), with their truth."""

from __future__ import annotations

import numpy as np

from ingest.generator import vocab
from ingest.generator.population import EPOCH_2024, YEAR_DAYS, IntArray, share_household_identifiers
from ingest.generator.records import (
    COMMERCIAL,
    INPATIENT,
    MEDICAL,
    OUTPATIENT,
    WORK_INJURY,
    City,
    amounts,
    full,
    medical_payer,
    pick_doctor,
)

_AREA_CODES = ("0311", "0571", "020")


def take_free(
    city: City,
    k: int,
    *,
    min_age: int = 0,
    max_age: int = 200,
    alive: bool = True,
    pool: IntArray | None = None,
) -> IntArray:
    """k persons not yet part of a planted structure (fewer if the city is too small); marks them busy."""
    pop = city.pop
    ok = ~pop.busy & (pop.age >= min_age) & (pop.age <= max_age)
    if alive:
        ok &= pop.alive
    candidates = np.flatnonzero(ok) if pool is None else pool[ok[pool]]
    k = min(k, len(candidates))
    chosen = np.sort(city.rng.choice(candidates, k, replace=False)).astype(np.int64)
    pop.busy[chosen] = True
    return chosen


def patients(city: City, idx: IntArray) -> list[dict[str, str]]:
    return [{"type": "Patient", "id": str(p)} for p in city.pop.person_id[idx]]


def institution_member(city: City, i: int) -> dict[str, str]:
    label = "Pharmacy" if city.inst.kind[i] == "pharmacy" else "Institution"
    return {"type": label, "id": str(city.inst.institution_id[i])}


def doctor_members(city: City, doctors: IntArray) -> list[dict[str, str]]:
    return [{"type": "Doctor", "id": str(city.docs.doctor_id[d])} for d in doctors]


def lookalike(city: City, kind: str, members: list[dict[str, str]], rows: IntArray | None = None) -> None:
    """A legitimate structure; ``rows``: its claims, recorded so evaluation sees a finding flag it."""
    city.truth["lookalikes"].append({"kind": kind, "members": members})
    if rows is not None:
        city.pending_refs.append(("lookalikes", len(city.truth["lookalikes"]) - 1, rows))


def inst_doctors(city: City, i: int, k: int) -> IntArray:
    start, count = int(city.inst.doctor_start[i]), int(city.inst.doctor_count[i])
    k = min(k, count)
    return np.sort(city.rng.choice(np.arange(start, start + count), k, replace=False)).astype(np.int64)


def scale(n: int, per: int, minimum: int) -> int:
    return max(minimum, round(n / per))


def group_visit(
    city: City,
    persons: IntArray,
    where: int,
    day: int,
    dx: str | tuple[str, ...],
    cost: tuple[float, float, float, float],
) -> IntArray:
    """Outpatient visits of a group at one institution on one day (``cost``: see ``amounts``).

    ``dx`` is one diagnosis for all, or a pool each visitor draws one from.
    """
    rng, n = city.rng, len(persons)
    total, reimb = amounts(rng, n, *cost)
    doctor = pick_doctor(rng, city.inst, full(n, where))
    codes = dx if isinstance(dx, str) else np.array(dx)[rng.integers(0, len(dx), n)]
    return city.claims.add(
        person=persons,
        inst=full(n, where),
        doctor=doctor,
        visit=OUTPATIENT,
        start=full(n, day),
        end=None,
        dx=codes,
        total=total,
        reimb=reimb,
        scheme=MEDICAL,
        payer=medical_payer(city.pop, persons),
    )


def households(city: City) -> None:
    rng = city.rng
    sharing = share_household_identifiers(rng, city.pop)
    clinics = city.inst.of_group("hospital3", "hospital2", "community", "clinic")
    for members in sharing:
        city.pop.busy[members] = True
        together = rng.random() < 0.2 and len(members) >= 2
        if together:  # the family goes to the doctor together on a day or two
            for _ in range(int(rng.integers(1, 3))):
                day = EPOCH_2024 + int(rng.integers(0, YEAR_DAYS - 1))
                where = int(rng.choice(clinics))
                alive = members[(city.pop.death_day[members] < 0) | (city.pop.death_day[members] > day)]
                group_visit(city, alive, where, day, vocab.DX_OUTPATIENT, (5.0, 0.6, 0.4, 0.7))
        lookalike(city, "household", patients(city, members))


def _shift_days(weekdays: tuple[int, ...], first: int, last: int) -> IntArray:
    days = np.arange(EPOCH_2024 + first, EPOCH_2024 + last, dtype=np.int64)
    return days[np.isin((days - EPOCH_2024) % 7, weekdays)]  # 2024-01-01 was a Monday


def _cohort(
    city: City,
    kind: str,
    hospital: int,
    members: IntArray,
    doctors: IntArray,
    days: IntArray,
    attend: float,
    dx: str,
    mean_log: float,
    lo: float,
    hi: float,
) -> None:
    rng = city.rng
    grid = rng.random((len(days), len(members))) < attend
    d_idx, m_idx = np.nonzero(grid)
    person = members[m_idx]
    n = len(person)
    total, reimb = amounts(rng, n, mean_log, 0.12, lo, hi)
    city.claims.add(
        person=person,
        inst=full(n, hospital),
        doctor=doctors[rng.integers(0, len(doctors), n)],
        visit=OUTPATIENT,
        start=days[d_idx],
        end=None,
        dx=dx,
        total=total,
        reimb=reimb,
        scheme=MEDICAL,
        payer=medical_payer(city.pop, person),
    )
    lookalike(
        city,
        kind,
        [*patients(city, members), institution_member(city, hospital), *doctor_members(city, doctors)],
    )
    city.places["chronic_cohort"].append({"inst": hospital, "doctors": doctors, "dx": dx, "kind": kind})


def chronic_cohorts(city: City) -> None:
    """Haemodialysis on Mon/Wed/Fri or Tue/Thu/Sat all year; rehabilitation on weekdays for months."""
    rng, n = city.rng, city.pop.n
    big = city.inst.of_group("hospital3", "hospital2")
    for _ in range(scale(n, 45_000, 1)):
        hospital = int(rng.choice(big))
        members = take_free(city, int(rng.integers(8, 31)), min_age=40, max_age=85)
        shift = (0, 2, 4) if rng.random() < 0.5 else (1, 3, 5)
        _cohort(
            city,
            "dialysis_cohort",
            hospital,
            members,
            inst_doctors(city, hospital, int(rng.integers(1, 3))),
            _shift_days(shift, 0, YEAR_DAYS),
            0.96,
            str(rng.choice(["N18.5", "Z49.1"])),
            6.1,
            0.85,
            0.92,
        )
    rehab_sites = city.inst.of_group("hospital3", "hospital2", "community")
    for _ in range(scale(n, 60_000, 1)):
        site = int(rng.choice(rehab_sites))
        members = take_free(city, int(rng.integers(6, 21)), min_age=30, max_age=85)
        first = int(rng.integers(0, YEAR_DAYS - 190))
        _cohort(
            city,
            "rehab_cohort",
            site,
            members,
            inst_doctors(city, site, int(rng.integers(1, 3))),
            _shift_days((0, 1, 2, 3, 4), first, first + 182),
            0.9,
            str(rng.choice(["Z50.9", "I69.3"])),
            5.3,
            0.7,
            0.85,
        )


def care_homes(city: City) -> dict[int, str]:
    """Residents registered with the home's front-desk phone and address; monthly group check-ups.

    Returns the address written for each resident (index -> address) for the persons file.
    """
    rng, pop, inst = city.rng, city.pop, city.inst
    province, city_name, districts = vocab.CITIES[pop.city]
    addresses: dict[int, str] = {}
    for home in inst.of_group("elderly_care").tolist():
        residents = take_free(city, int(rng.integers(15, 61)), min_age=68)
        if len(residents) < 2:
            continue
        area = _AREA_CODES[pop.city]
        desk = area + "".join(str(d) for d in rng.integers(0, 10, 11 - len(area)))
        pop.phone[residents] = desk
        street = vocab.STREETS[int(rng.integers(0, len(vocab.STREETS)))]
        district = districts[int(rng.integers(0, len(districts)))][1]
        home_addr = f"{province}{city_name}{district}{street}{int(rng.integers(1, 300))}号{inst.name[home]}"
        for r in residents.tolist():
            addresses[r] = home_addr
        doctors = inst_doctors(city, home, 2)
        checkups = EPOCH_2024 + np.arange(12) * 30 + int(rng.integers(5, 20))
        grid = rng.random((len(checkups), len(residents))) < 0.9
        d_idx, m_idx = np.nonzero(grid)
        visits = int(rng.integers(3, 8)) * len(residents)
        person = np.r_[residents[m_idx], rng.choice(residents, visits)]
        day = np.r_[checkups[d_idx], EPOCH_2024 + rng.integers(0, YEAR_DAYS - 1, visits)]
        dx = np.r_[
            np.full(len(m_idx), vocab.DX_CHECKUP),
            np.array(["I10", "E11.9", "J06.9", "M17.9"])[rng.integers(0, 4, visits)],
        ]
        n = len(person)
        total, reimb = amounts(rng, n, 4.6, 0.3, 0.6, 0.8)
        city.claims.add(
            person=person,
            inst=full(n, home),
            doctor=doctors[rng.integers(0, len(doctors), n)],
            visit=OUTPATIENT,
            start=day,
            end=None,
            dx=dx,
            total=total,
            reimb=reimb,
            scheme=MEDICAL,
            payer=medical_payer(pop, person),
        )
        city.places["care_home"].append(
            {"inst": home, "residents": residents, "phone": desk, "doctors": doctors, "address": home_addr}
        )
        lookalike(
            city,
            "care_home",
            [
                *patients(city, residents),
                institution_member(city, home),
                *doctor_members(city, doctors),
                {"type": "Phone", "id": desk},
            ],
        )
    return addresses


def health_check_days(city: City) -> None:
    """Tens of neighbours from one estate at their community health centre on one day."""
    rng, pop = city.rng, city.pop
    for centre in city.inst.of_group("community").tolist():
        community = int(rng.integers(0, int(pop.community.max()) + 1))
        pool = np.flatnonzero(pop.community == community)
        members = take_free(city, int(rng.integers(20, 61)), min_age=30, pool=pool)
        if len(members) < 10:
            continue
        day = EPOCH_2024 + int(rng.integers(60, 300))
        group_visit(city, members, centre, day, vocab.DX_CHECKUP, (5.0, 0.2, 0.5, 0.8))
        city.places["health_check_day"].append({"inst": centre, "day": day})
        lookalike(city, "health_check_day", [*patients(city, members), institution_member(city, centre)])


def colleagues(city: City) -> None:
    """Employees of one employer (shared Employer node) at their company check-up on one day."""
    rng, pop = city.rng, city.pop
    free = (pop.employer >= 0) & ~pop.busy & pop.alive
    sizes = np.bincount(pop.employer[free], minlength=pop.n_employers)
    employers = np.flatnonzero(sizes >= 8)  # enough staff not already in another planted structure
    hospitals = city.inst.of_group("hospital3", "hospital2")
    count = min(len(employers), scale(pop.n, 25_000, 2))
    for employer in rng.choice(employers, count, replace=False).tolist():
        staff = take_free(city, int(rng.integers(8, 51)), pool=np.flatnonzero(pop.employer == employer))
        if len(staff) < 5:
            continue
        where, day = int(rng.choice(hospitals)), EPOCH_2024 + int(rng.integers(30, 330))
        group_visit(city, staff, where, day, vocab.DX_CHECKUP, (5.8, 0.2, 0.3, 0.6))
        lookalike(city, "colleagues", patients(city, staff))


INJURY_STAY_NIGHTS = 11  # the longest admission _injury_claims plants


def injury_day(city: City, person: int) -> int:
    """The day of a new injury, clear of the person's stays: its admission must not overlap one."""
    return city.stays.free_day(city.rng, person, EPOCH_2024, EPOCH_2024 + YEAR_DAYS - 60, INJURY_STAY_NIGHTS)


def _injury_claims(
    city: City, person: int, day: int, case: int, scheme: int, payer: str, dx_pool: tuple[str, ...], k: int
) -> IntArray:
    """The first visit (an admission in 3 of 10 cases) on the injury day, follow-ups within 40 days."""
    rng = city.rng
    hospital = int(rng.choice(city.inst.of_group("hospital3", "hospital2")))
    start = day + np.r_[0, np.sort(rng.integers(3, 40, k - 1))].astype(np.int64)
    start = np.minimum(start, EPOCH_2024 + YEAR_DAYS - 1)
    inpatient = rng.random() < 0.3
    visit = np.where((np.arange(k) == 0) & inpatient, INPATIENT, OUTPATIENT)
    end = np.where(visit == INPATIENT, start + rng.integers(3, INJURY_STAY_NIGHTS + 1, k), -1)
    total, reimb = amounts(rng, k, 6.5, 0.8, 0.6, 0.9)
    return city.claims.add(
        person=full(k, person),
        inst=full(k, hospital),
        doctor=pick_doctor(rng, city.inst, full(k, hospital)),
        visit=visit,
        start=start,
        end=end,
        dx=dx_pool[int(rng.integers(0, len(dx_pool)))],
        total=total,
        reimb=reimb,
        scheme=scheme,
        payer=payer,
        injury=case,
    )


def legitimate_injuries(city: City) -> None:
    """Work injuries paid by work-injury insurance only; falls and own-fault traffic paid by medical."""
    rng, pop = city.rng, city.pop
    workers = np.flatnonzero(pop.employer >= 0)
    for person in take_free(city, scale(pop.n, 800, 3), pool=workers).tolist():
        day = injury_day(city, person)
        case = city.injuries.add(person, day, "work", False, int(pop.employer[person]), "work_injury")
        rows = _injury_claims(
            city,
            person,
            day,
            case,
            WORK_INJURY,
            vocab.PAYER_WORK_INJURY,
            vocab.DX_WORK_INJURY,
            int(rng.integers(1, 5)),
        )
        lookalike(
            city,
            "legit_work_injury",
            [*patients(city, np.array([person])), {"type": "InjuryCase", "id": city.injuries.case_id(case)}],
            rows,
        )
    for person in take_free(city, scale(pop.n, 1_000, 3), min_age=60).tolist():
        day = injury_day(city, person)
        case = city.injuries.add(person, day, "fall", False, -1, "medical")
        payer = str(medical_payer(pop, np.array([person]))[0])
        _injury_claims(city, person, day, case, MEDICAL, payer, vocab.DX_FALL, int(rng.integers(1, 3)))
    for person in take_free(city, scale(pop.n, 4_000, 2), min_age=18).tolist():
        day = injury_day(city, person)
        liable = rng.random() < 0.5
        # A liable third party's insurer pays; without one, medical insurance pays.
        case = city.injuries.add(person, day, "traffic", liable, -1, "commercial" if liable else "medical")
        if liable:
            _injury_claims(
                city, person, day, case, COMMERCIAL, "人保健康", vocab.DX_TRAFFIC, int(rng.integers(1, 3))
            )
        else:
            payer = str(medical_payer(pop, np.array([person]))[0])
            _injury_claims(city, person, day, case, MEDICAL, payer, vocab.DX_TRAFFIC, int(rng.integers(1, 3)))


def topups_and_transfers(city: City) -> None:
    """Commercial top-ups within the expense, and same-day transfers (discharge = admission)."""
    rng, stays = city.rng, city.single_stays
    n = len(stays["person"])
    pick = rng.random(n)
    top = np.flatnonzero(pick < 0.2)
    k = len(top)
    room = stays["total"][top] - stays["reimb"][top]
    reimb = np.floor(room * rng.uniform(0.3, 0.95, k)).astype(np.int64)
    topup_rows = city.claims.add(
        person=stays["person"][top],
        inst=stays["inst"][top],
        doctor=pick_doctor(rng, city.inst, stays["inst"][top]),
        visit=INPATIENT,
        start=stays["start"][top],
        end=stays["end"][top],
        dx="J18.9",
        total=stays["total"][top],
        reimb=reimb,
        scheme=COMMERCIAL,
        payer=np.array(vocab.PAYERS_COMMERCIAL)[rng.integers(0, len(vocab.PAYERS_COMMERCIAL), k)],
    )
    for i, p in enumerate(stays["person"][top].tolist()):
        lookalike(
            city,
            "commercial_topup",
            patients(city, np.array([p])),
            np.r_[stays["row"][top][i], topup_rows[i]],
        )
    transfer = np.flatnonzero((pick >= 0.2) & (pick < 0.22))
    hospitals = city.inst.of_group("hospital3", "hospital2")
    for t in transfer.tolist():
        src = int(stays["inst"][t])
        others = hospitals[hospitals != src]
        if not len(others):
            continue
        dst = int(rng.choice(others))
        start = int(stays["end"][t])
        person = int(stays["person"][t])
        total, reimb_t = amounts(rng, 1, 9.0, 0.5, 0.55, 0.85)
        doctor = pick_doctor(rng, city.inst, full(1, dst))
        end = start + int(rng.integers(3, 15))
        if not city.stays.is_free(person, start, end):  # e.g. admitted for an injury meanwhile
            continue
        moved = city.claims.add_stay(
            person=person,
            inst=dst,
            doctor=doctor,
            start=start,
            end=end,
            dx="I63.9",
            total=int(total[0]),
            reimb=int(reimb_t[0]),
            scheme=MEDICAL,
            payer=medical_payer(city.pop, full(1, person)),
        )
        lookalike(
            city,
            "same_day_transfer",
            [
                *patients(city, np.array([person])),
                institution_member(city, src),
                institution_member(city, dst),
            ],
            np.r_[stays["row"][t], moved],
        )
        city.pop.busy[person] = True
