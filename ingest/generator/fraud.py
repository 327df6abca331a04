"""Planted fraud (DOMAIN.md "Fraud patterns"), in varied sizes and shapes, with its truth."""

from __future__ import annotations

import numpy as np

from ingest.generator import vocab
from ingest.generator.lookalikes import (
    _injury_claims,
    doctor_members,
    injury_day,
    inst_doctors,
    institution_member,
    patients,
    scale,
    take_free,
)
from ingest.generator.population import EPOCH_2024, YEAR_DAYS, IntArray, accounts, mobiles
from ingest.generator.records import (
    COMMERCIAL,
    INPATIENT,
    MEDICAL,
    OUTPATIENT,
    PHARMACY,
    WORK_INJURY,
    City,
    amounts,
    full,
    medical_payer,
    pick_doctor,
)


def _pending(city: City, section: str, entry: dict[str, object], rows: IntArray) -> None:
    city.truth[section].append(entry)
    city.pending_refs.append((section, len(city.truth[section]) - 1, rows))


def collusion_rings(city: City) -> None:
    """A mostly private clinic, 1-2 doctors and 5-40 recruited patients co-visiting on 3-12 days."""
    rng, pop, inst = city.rng, city.pop, city.inst
    private = inst.of_group("clinic", "tcm_clinic")
    private = private[(inst.ownership[private] == "private") & (inst.doctor_count[private] > 0)]
    public = inst.of_group("community", "other")
    public = public[inst.doctor_count[public] > 0]
    used: set[int] = set()
    for r in range(scale(pop.n, 40_000, 3)):
        size = int(rng.integers(5, 41))
        members = recruits(city, size)
        if len(members) < 5:
            return
        pool = private if rng.random() < 0.85 else public
        fresh = np.array([c for c in pool.tolist() if c not in used]) if len(pool) else pool
        clinic = int(rng.choice(fresh if len(fresh) else pool))
        used.add(clinic)
        doctors = inst_doctors(city, clinic, int(rng.integers(1, 3)))
        clinics = [(clinic, doctors)]
        if rng.random() < 0.3:
            others = np.array([c for c in private.tolist() if c not in used])
            if len(others):
                second = int(rng.choice(others))
                used.add(second)
                clinics.append((second, inst_doctors(city, second, 1)))
        n_days = int(rng.integers(3, 13))
        days = EPOCH_2024 + np.sort(rng.choice(YEAR_DAYS - 1, n_days, replace=False)).astype(np.int64)
        dx_set = rng.choice(np.array(vocab.DX_RING), int(rng.integers(1, 4)), replace=False)
        plant_ring(city, f"R-C{r + 1:03d}", members, clinics, days, dx_set)


def recruits(city: City, size: int) -> IntArray:
    """Recruits of a ring: seven in ten elderly, the rest adults, none in another planted structure."""
    elderly = take_free(city, round(size * 0.7), min_age=60)
    return np.sort(np.r_[elderly, take_free(city, size - len(elderly), min_age=25)]).astype(np.int64)


def plant_ring(
    city: City,
    ring_id: str,
    members: IntArray,
    clinics: list[tuple[int, IntArray]],
    days: IntArray,
    dx_set: np.ndarray,
    *,
    mean_log: float = 7.2,
    where: str = "",
    cover: IntArray | None = None,
    always: IntArray | None = None,
    broker: bool = True,
) -> None:
    """Visits of a ring's changing subgroups on ``days`` (every third at a second clinic), and its truth.

    ``cover``: genuine residents recruited as cover, who attend like the recruits; ``always``:
    days index of a meeting all members attend (a ring meeting on a health-check day).
    """
    rng, pop = city.rng, city.pop
    everyone = np.sort(np.r_[members, cover]) if cover is not None else members
    for j, day in enumerate(days.tolist()):
        share = 1.0 if always is not None and j in always.tolist() else rng.uniform(0.4, 0.9)
        k = max(min(3, len(everyone)), round(len(everyone) * share))
        group = np.sort(rng.choice(everyone, k, replace=False))
        at, docs = clinics[1] if len(clinics) > 1 and j % 3 == 2 else clinics[0]
        total, reimb = amounts(rng, k, mean_log, 0.4, 0.85, 0.95)
        city.claims.add(
            person=group,
            inst=full(k, at),
            doctor=docs[rng.integers(0, len(docs), k)],
            visit=OUTPATIENT,
            start=full(k, day),
            end=None,
            dx=dx_set[rng.integers(0, len(dx_set), k)],
            total=total,
            reimb=reimb,
            scheme=MEDICAL,
            payer=medical_payer(pop, group),
        )
    ids: list[dict[str, str]] = []
    draw = rng.random() if broker else 1.0
    tags = []
    if draw < 0.55:
        phone = str(mobiles(rng, 1)[0])
        sharers = rng.choice(members, max(2, int(len(members) * rng.uniform(0.3, 1.0))), replace=False)
        pop.phone[sharers] = phone
        ids.append({"type": "Phone", "id": phone})
        tags.append("phone")
    if 0.35 <= draw < 0.7:
        account = str(accounts(rng, 1)[0])
        sharers = rng.choice(members, max(2, int(len(members) * rng.uniform(0.3, 0.8))), replace=False)
        pop.account[sharers] = account
        ids.append({"type": "BankAccount", "id": account})
        tags.append("account")
    all_doctors = np.concatenate([d for _, d in clinics])
    shape = (
        f"members={len(everyone)},days={len(days)},clinics={len(clinics)},doctors={len(all_doctors)},"
        f"broker={'+'.join(tags) or 'none'}"
    )
    if where:
        shape = f"{where}:{shape}" + (f",cover={len(cover)}" if cover is not None else "")
    city.truth["rings"].append(
        {
            "ring_id": ring_id,
            "kind": "collusion",
            "members": [
                *patients(city, everyone),
                *doctor_members(city, all_doctors),
                *(institution_member(city, c) for c, _ in clinics),
                *ids,
            ],
            "shape": shape,
        }
    )


def shared_identifier_rings(city: City) -> None:
    """Unrelated persons on one broker phone or account; and brokers chained through two identifiers."""
    rng, pop = city.rng, city.pop
    for r in range(scale(pop.n, 50_000, 3)):
        shape = ("chained_phone_account", "phone", "account")[r % 3]
        if shape == "chained_phone_account":
            group_a = take_free(city, int(rng.integers(6, 21)), min_age=18, max_age=80)
            group_c = take_free(city, int(rng.integers(4, 16)), min_age=18, max_age=80)
            if len(group_a) < 3 or len(group_c) < 2:
                return
            phone, account = str(mobiles(rng, 1)[0]), str(accounts(rng, 1)[0])
            bridge = rng.choice(group_a, int(rng.integers(2, min(5, len(group_a)) + 1)), replace=False)
            pop.phone[group_a] = phone
            pop.account[bridge] = account
            pop.account[group_c] = account
            members = np.sort(np.r_[group_a, group_c])
            ids = [{"type": "Phone", "id": phone}, {"type": "BankAccount", "id": account}]
            detail = f"{shape}:phone={len(group_a)},bridge={len(bridge)},account_only={len(group_c)}"
        else:
            members = take_free(city, int(rng.integers(8, 41)), min_age=18, max_age=80)
            if len(members) < 3:
                return
            if shape == "phone":
                value = str(mobiles(rng, 1)[0])
                pop.phone[members] = value
                ids = [{"type": "Phone", "id": value}]
            else:
                value = str(accounts(rng, 1)[0])
                pop.account[members] = value
                ids = [{"type": "BankAccount", "id": value}]
            detail = f"{shape}:members={len(members)}"
        city.truth["rings"].append(
            {
                "ring_id": f"R-S{r + 1:03d}",
                "kind": "shared_identifier",
                "members": [*patients(city, members), *ids],
                "shape": detail,
            }
        )


def double_claims(city: City) -> None:
    rng, pop = city.rng, city.pop
    workers = np.flatnonzero(pop.employer >= 0)
    for i, person in enumerate(take_free(city, scale(pop.n, 30_000, 3), pool=workers).tolist()):
        day = injury_day(city, person)
        case = city.injuries.add(person, day, "work", False, int(pop.employer[person]), "work_injury")
        k = int(rng.integers(1, 4))
        work = _injury_claims(
            city, person, day, case, WORK_INJURY, vocab.PAYER_WORK_INJURY, vocab.DX_WORK_INJURY, k
        )
        src = {c: v[-k:] for c, v in city.claims.blocks[-1].items()}
        med_reimb = np.floor(src["total"] * rng.uniform(0.6, 0.85, k)).astype(np.int64)
        shared_case = i % 2 == 0  # half carry the case id, half hide it
        medical = city.claims.add(
            person=src["person"],
            inst=src["inst"],
            doctor=src["doctor"],
            visit=src["visit"],
            start=src["start"],
            end=src["end"],
            dx=_dx(src["dx"]),
            total=src["total"],
            reimb=med_reimb,
            scheme=MEDICAL,
            payer=medical_payer(pop, src["person"]),
            injury=case if shared_case else -1,
        )
        _pending(
            city,
            "double_claims",
            {
                "person_id": str(pop.person_id[person]),
                "kind": "medical_and_work_injury",
                "excess_amount": round(int(med_reimb.sum()) / 100, 2),
            },
            np.r_[work, medical],
        )
    no_stay = np.flatnonzero(~city.stays.booked)
    for person in take_free(city, scale(pop.n, 30_000, 3), pool=no_stay).tolist():
        hospital = int(rng.choice(city.inst.of_group("hospital3", "hospital2")))
        start = EPOCH_2024 + int(rng.integers(200, 330))
        end = start + int(rng.integers(3, 15))
        total = int(rng.integers(8_000, 60_000)) * 100
        r1 = int(total * rng.uniform(0.6, 0.85))
        excess = int(total * rng.uniform(0.1, 0.5))
        r2 = min(total, total - r1 + excess)
        doctor = pick_doctor(rng, city.inst, full(1, hospital))
        commercial = vocab.PAYERS_COMMERCIAL[int(rng.integers(0, len(vocab.PAYERS_COMMERCIAL)))]
        rows = np.concatenate(
            [
                city.claims.add_stay(
                    person=person,
                    inst=hospital,
                    doctor=doctor,
                    start=start,
                    end=end,
                    dx="I21.9",
                    total=total,
                    reimb=paid,
                    scheme=scheme,
                    payer=payer,
                )
                for scheme, paid, payer in (
                    (MEDICAL, r1, medical_payer(pop, full(1, person))),
                    (COMMERCIAL, r2, commercial),
                )
            ]
        )
        _pending(
            city,
            "double_claims",
            {
                "person_id": str(pop.person_id[person]),
                "kind": "medical_and_commercial_over_expense",
                "excess_amount": round((r1 + r2 - total) / 100, 2),
            },
            rows,
        )
    for person in take_free(city, scale(pop.n, 30_000, 3), min_age=18).tolist():
        day = injury_day(city, person)
        case = city.injuries.add(person, day, "traffic", True, -1, "medical")
        payer = str(medical_payer(pop, full(1, person))[0])
        rows = _injury_claims(
            city, person, day, case, MEDICAL, payer, vocab.DX_TRAFFIC, int(rng.integers(1, 4))
        )
        reimb = city.claims.blocks[-1]["reimb"]
        _pending(
            city,
            "double_claims",
            {
                "person_id": str(pop.person_id[person]),
                "kind": "third_party_liable_paid_by_medical",
                "excess_amount": round(int(reimb.sum()) / 100, 2),
            },
            rows,
        )


def _dx(codes: IntArray) -> np.ndarray:
    from ingest.generator.records import DX_ALL

    return DX_ALL[codes]


def impossible_care(city: City) -> None:
    """Two overlapping inpatient stays at two hospitals; claims after the person's death."""
    rng, pop = city.rng, city.pop
    hospitals = city.inst.of_group("hospital3", "hospital2", "community")
    no_stay = np.flatnonzero(~city.stays.booked)
    for person in take_free(city, scale(pop.n, 50_000, 2), pool=no_stay).tolist():
        a, b = rng.choice(hospitals, 2, replace=False)
        start_a = EPOCH_2024 + int(rng.integers(190, 330))
        end_a = start_a + int(rng.integers(6, 20))
        start_b = int(rng.integers(start_a + 1, end_a))
        end_b = start_b + int(rng.integers(3, 10))
        total, reimb = amounts(rng, 2, 8.8, 0.5, 0.6, 0.85)
        rows = city.claims.add(
            person=full(2, person),
            inst=np.array([a, b]),
            doctor=pick_doctor(rng, city.inst, np.array([a, b])),
            visit=INPATIENT,
            start=np.array([start_a, start_b]),
            end=np.array([end_a, end_b]),
            dx="J18.9",
            total=total,
            reimb=reimb,
            scheme=MEDICAL,
            payer=medical_payer(pop, full(2, person)),
        )
        _pending(
            city,
            "anomalies",
            {"kind": "overlapping_inpatient", "person_id": str(pop.person_id[person])},
            rows,
        )
    dead = np.flatnonzero((pop.death_day >= 0) & (pop.death_day < EPOCH_2024 + YEAR_DAYS - 15))
    for person in take_free(city, scale(pop.n, 50_000, 2), alive=False, pool=dead).tolist():
        k = int(rng.integers(1, 4))
        start = int(pop.death_day[person]) + np.sort(rng.integers(1, 15, k)).astype(np.int64)
        pharmacy = rng.random(k) < 0.5
        where = np.where(
            pharmacy,
            rng.choice(city.inst.of_group("pharmacy"), k),
            rng.choice(city.inst.of_group("clinic", "community"), k),
        )
        total, reimb = amounts(rng, k, 5.0, 0.5, 0.5, 0.7)
        rows = city.claims.add(
            person=full(k, person),
            inst=where,
            doctor=np.where(pharmacy, -1, pick_doctor(rng, city.inst, where)),
            visit=np.where(pharmacy, PHARMACY, OUTPATIENT),
            start=start,
            end=None,
            dx="I10",
            total=total,
            reimb=reimb,
            scheme=MEDICAL,
            payer=medical_payer(pop, full(k, person)),
        )
        _pending(
            city, "anomalies", {"kind": "claim_after_death", "person_id": str(pop.person_id[person])}, rows
        )
