"""Small hand-made cities for known-answer tests of the detectors.

Background traffic is random but seeded; the planted groups are exact, so a test can name the
members it expects.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta

import numpy as np
import pandas as pd

from algorithms.projections import DetectionInputs

START = date(2025, 1, 1)


@dataclass
class CityBuilder:
    seed: int = 1
    persons: list[dict[str, object]] = field(default_factory=list)
    institutions: list[dict[str, object]] = field(default_factory=list)
    doctors: list[dict[str, object]] = field(default_factory=list)
    claims: list[dict[str, object]] = field(default_factory=list)
    injury_cases: list[dict[str, object]] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.rng = np.random.default_rng(self.seed)

    def person(
        self,
        pid: str,
        *,
        address: str | None = None,
        phone: str | None = None,
        bank_account: str | None = None,
        death_date: str | None = None,
    ) -> str:
        self.persons.append(
            {
                "person_id": pid,
                "name": pid,
                "address": address or f"addr-{pid}",
                "phone": phone or f"1{len(self.persons):010d}",
                "bank_account": bank_account,
                "death_date": death_date,
            }
        )
        return pid

    def institution(self, iid: str, kind: str = "clinic", name: str | None = None) -> str:
        self.institutions.append(
            {
                "institution_id": iid,
                "name": name or iid,
                "kind": kind,
                "ownership": "private",
                "label": "Pharmacy" if kind == "pharmacy" else "Institution",
            }
        )
        return iid

    def doctor(self, did: str, inst: str) -> str:
        self.doctors.append({"doctor_id": did, "name": did, "institution_id": inst})
        return did

    def claim(
        self,
        pid: str,
        inst: str,
        day: date,
        *,
        doctor: str | None = None,
        scheme: str = "medical",
        visit_type: str = "outpatient",
        dx: str = "J06.9",
        total: float = 200.0,
        paid: float = 140.0,
        end: date | None = None,
        case: str | None = None,
        claim_id: str | None = None,
    ) -> str:
        cid = claim_id or f"c{len(self.claims):06d}"
        self.claims.append(
            {
                "claim_id": cid,
                "scheme": scheme,
                "person_id": pid,
                "institution_id": inst,
                "doctor_id": doctor,
                "visit_type": visit_type,
                "start_date": day,
                "end_date": end,
                "diagnosis_code": dx,
                "total_amount": total,
                "reimbursed_amount": paid,
                "injury_case_id": case,
            }
        )
        return cid

    def background(
        self, n: int, insts: list[str], visits_per_person: int = 8, prefix: str = "bg"
    ) -> list[str]:
        """Random patients visiting random institutions on random days."""
        ids = []
        for i in range(n):
            pid = self.person(f"{prefix}{i:05d}")
            ids.append(pid)
            home = insts[int(self.rng.integers(len(insts)))]
            for _ in range(visits_per_person):
                inst = home if self.rng.random() < 0.6 else insts[int(self.rng.integers(len(insts)))]
                day = START + timedelta(days=int(self.rng.integers(365)))
                self.claim(pid, inst, day, doctor=f"{inst}-d{int(self.rng.integers(3))}")
        return ids

    def inputs(self) -> DetectionInputs:
        claims = pd.DataFrame(self.claims)
        for col in ("start_date", "end_date"):
            claims[col] = pd.to_datetime(claims[col])
        claims["claim_key"] = claims["scheme"] + ":" + claims["claim_id"]
        persons = pd.DataFrame(self.persons)
        persons["death_date"] = pd.to_datetime(persons["death_date"])
        cases = pd.DataFrame(
            self.injury_cases,
            columns=[
                "injury_case_id",
                "person_id",
                "injury_date",
                "cause",
                "third_party_liable",
                "employer_id",
                "reported_to",
            ],
        )
        cases["injury_date"] = pd.to_datetime(cases["injury_date"])
        return DetectionInputs(
            persons=persons,
            institutions=pd.DataFrame(self.institutions),
            doctors=pd.DataFrame(self.doctors, columns=["doctor_id", "name", "institution_id"]),
            claims=claims,
            injury_cases=cases,
        )


def day(n: int) -> date:
    return START + timedelta(days=n)


def collusion_city(seed: int = 1) -> CityBuilder:
    """Background traffic, a 6-patient ring at a clinic on 4 days, a dialysis shift, a household."""
    b = CityBuilder(seed=seed)
    for i in range(1, 6):
        b.institution(f"CL{i}", "clinic", name=f"诊所{i}")
    b.institution("H1", "hospital", name="人民医院")
    b.institution("EC1", "elderly_care", name="养老院")
    b.background(400, ["CL1", "CL2", "CL3", "CL4", "CL5", "H1", "H1", "H1"])
    b.doctor("DR1", "CL1")
    for i in range(6):
        b.person(f"ring{i}")
    for d in (20, 55, 90, 140):
        for i in range(6):
            b.claim(f"ring{i}", "CL1", day(d), doctor="DR1", total=900.0, paid=800.0)
    # Dialysis: 10 patients, Mon/Wed/Fri for 30 weeks, same doctor and diagnosis.
    for i in range(10):
        b.person(f"dial{i}")
    first_monday = next(n for n in range(7) if day(n).weekday() == 0)
    for week in range(30):
        for offset in (0, 2, 4):
            for i in range(10):
                b.claim(f"dial{i}", "H1", day(first_monday + 7 * week + offset), doctor="H1-neph", dx="N18.5")
    # A household of 4 visiting the hospital together on 5 days.
    for i in range(4):
        b.person(f"fam{i}", address="幸福路1号", phone="13900000001")
    for d in (10, 70, 130, 200, 260):
        for i in range(4):
            b.claim(f"fam{i}", "H1", day(d), doctor="H1-d0")
    # Care-home residents: 15 residents at the home's address, monthly check-ups at the home.
    for i in range(15):
        b.person(f"home{i}", address="敬老路9号", phone="02100000009")
    for month in range(12):
        for i in range(15):
            b.claim(f"home{i}", "EC1", day(30 * month + 3), doctor="EC1-d0", dx="I10")
    return b
