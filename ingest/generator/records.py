"""Accumulators for generated claims and injury cases, appended in column blocks."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from ingest.generator import vocab
from ingest.generator.institutions import Doctors, Institutions
from ingest.generator.population import Population

IntArray = npt.NDArray[np.int64]
StrArray = npt.NDArray[np.str_]

VISIT_TYPES = np.array(["outpatient", "inpatient", "pharmacy"])
OUTPATIENT, INPATIENT, PHARMACY = 0, 1, 2
SCHEMES = np.array(["medical", "work_injury", "commercial"])
MEDICAL, WORK_INJURY, COMMERCIAL = 0, 1, 2
SCHEME_PREFIX = np.array(["YB", "GS", "SB"])
CAUSES = np.array(["traffic", "work", "assault", "fall", "sports", "other"])
DX_ALL = np.array(
    sorted(
        {
            *vocab.DX_OUTPATIENT,
            *vocab.DX_PHARMACY,
            *vocab.DX_INPATIENT,
            *vocab.DX_WORK_INJURY,
            *vocab.DX_TRAFFIC,
            *vocab.DX_FALL,
            *vocab.DX_RING,
            vocab.DX_CHECKUP,
            vocab.DX_CHEMO_CYCLE,
            *vocab.DX_COHORT,
        }
    )
)
PAYERS = np.array(
    sorted(
        {
            vocab.PAYER_MEDICAL_EMPLOYEE,
            vocab.PAYER_MEDICAL_RESIDENT,
            vocab.PAYER_WORK_INJURY,
            *vocab.PAYERS_COMMERCIAL,
        }
    )
)


def _codes(vocabulary: StrArray, values: StrArray | str, n: int) -> IntArray:
    arr = np.broadcast_to(np.asarray(values, dtype=str), n)
    codes = np.searchsorted(vocabulary, arr)
    if n and not np.array_equal(vocabulary[np.minimum(codes, len(vocabulary) - 1)], arr):
        raise ValueError("value outside the generator's vocabulary")
    return codes.astype(np.int64)


_CLAIM_COLS = (
    "person",
    "inst",
    "doctor",
    "visit",
    "start",
    "end",
    "dx",
    "total",
    "reimb",
    "scheme",
    "payer",
    "injury",
)


def full(n: int, value: int) -> IntArray:
    return np.full(n, value, dtype=np.int64)


@dataclass
class StayBook:
    """Every inpatient stay of the city per person, so that no stay overlaps another by accident.

    A stay occupies the nights ``[admission, discharge)``, as the impossible-care detector counts
    them: a same-day transfer (discharge = the next admission) touches but does not overlap. The
    planted overlapping stays are the only overlaps the truth lists, so every planter of a stay
    asks :meth:`free_day` or :meth:`is_free` first.
    """

    booked: npt.NDArray[np.bool_]  # per person: has at least one stay
    nights: dict[int, list[tuple[int, int]]] = field(default_factory=dict)

    def book(self, person: IntArray, start: IntArray, end: IntArray) -> None:
        self.booked[person] = True
        for p, s, e in zip(person.tolist(), start.tolist(), end.tolist(), strict=True):
            self.nights.setdefault(p, []).append((s, e))

    def is_free(self, person: int, start: int, end: int) -> bool:
        return all(end <= s or e <= start for s, e in self.nights.get(person, ()))

    def free_day(self, rng: np.random.Generator, person: int, lo: int, hi: int, nights: int) -> int:
        """A day in ``[lo, hi)`` on which a stay of up to ``nights`` nights overlaps none booked.

        The first draw is the one a person without stays gets, so persons without a conflict keep
        the dates (and the random stream) they had before stays were booked.
        """
        day = lo + int(rng.integers(0, hi - lo))
        if self.is_free(person, day, day + nights):
            return day
        days = np.arange(lo, hi, dtype=np.int64)
        ok = np.ones(len(days), dtype=bool)
        for s, e in self.nights[person]:
            ok &= (days + nights <= s) | (e <= days)
        if not ok.any():
            raise ValueError(f"no free {nights}-night period between days {lo} and {hi}")
        return int(rng.choice(days[ok]))


def _not_inside_stays(
    cols: dict[str, np.ndarray], protect: IntArray | None, far: IntArray | None
) -> npt.NDArray[np.bool_]:
    """Rows to keep: all but outpatient/pharmacy visits strictly inside a stay at another institution."""
    n = len(cols["person"])
    keep = np.ones(n, dtype=bool)
    inpatient = cols["visit"] == INPATIENT
    stays = pd.DataFrame(
        {
            "person": cols["person"][inpatient],
            "s": cols["start"][inpatient],
            "e": cols["end"][inpatient],
            "si": cols["inst"][inpatient],
        }
    )
    candidates = np.flatnonzero(~inpatient & np.isin(cols["person"], stays["person"].to_numpy()))
    visits = pd.DataFrame(
        {
            "row": candidates,
            "person": cols["person"][candidates],
            "day": cols["start"][candidates],
            "inst": cols["inst"][candidates],
        }
    )
    both = visits.merge(stays, on="person")
    far_stay = np.isin(both["si"].to_numpy(), far if far is not None else np.zeros(0, dtype=np.int64))
    last = np.where(far_stay, both["e"] + 1, both["e"])
    inside = both[(both["day"] > both["s"]) & (both["day"] < last) & (both["inst"] != both["si"])]
    drop = np.unique(inside["row"].to_numpy())
    if protect is not None and len(protect):
        drop = np.setdiff1d(drop, protect)
    keep[drop] = False
    return keep


@dataclass
class ClaimSet:
    """Claims as parallel column blocks; ``add`` returns the new rows' indexes (stable handles).

    Inpatient rows are booked in ``stays`` (when given) as they are added, whoever adds them.
    """

    blocks: list[dict[str, np.ndarray]] = field(default_factory=list)
    size: int = 0
    final: dict[str, np.ndarray] = field(default_factory=dict)
    position: IntArray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    stays: StayBook | None = None

    def add(
        self,
        *,
        person: IntArray,
        inst: IntArray,
        doctor: IntArray,
        visit: IntArray | int,
        start: IntArray,
        end: IntArray | None,
        dx: StrArray | str,
        total: IntArray,
        reimb: IntArray,
        scheme: IntArray | int,
        payer: StrArray | str,
        injury: IntArray | int = -1,
    ) -> IntArray:
        n = len(person)
        cols: dict[str, np.ndarray] = {
            "person": np.asarray(person, dtype=np.int64),
            "inst": np.asarray(inst, dtype=np.int64),
            "doctor": np.asarray(doctor, dtype=np.int64),
            "visit": np.broadcast_to(np.asarray(visit, dtype=np.int64), n).copy(),
            "start": np.asarray(start, dtype=np.int64),
            "end": full(n, -1) if end is None else np.asarray(end, dtype=np.int64),
            "dx": _codes(DX_ALL, dx, n),
            "total": np.asarray(total, dtype=np.int64),
            "reimb": np.asarray(reimb, dtype=np.int64),
            "scheme": np.broadcast_to(np.asarray(scheme, dtype=np.int64), n).copy(),
            "payer": _codes(PAYERS, payer, n),
            "injury": np.broadcast_to(np.asarray(injury, dtype=np.int64), n).copy(),
        }
        self.blocks.append(cols)
        if self.stays is not None:
            inpatient = cols["visit"] == INPATIENT
            if inpatient.any():
                self.stays.book(cols["person"][inpatient], cols["start"][inpatient], cols["end"][inpatient])
        rows = np.arange(self.size, self.size + n, dtype=np.int64)
        self.size += n
        return rows

    def add_stay(
        self,
        *,
        person: int,
        inst: int,
        doctor: IntArray,
        start: int,
        end: int,
        dx: str,
        total: int,
        reimb: int,
        scheme: int,
        payer: StrArray | str,
    ) -> IntArray:
        """One inpatient claim of one person."""
        return self.add(
            person=full(1, person),
            inst=full(1, inst),
            doctor=doctor,
            visit=INPATIENT,
            start=full(1, start),
            end=full(1, end),
            dx=dx,
            total=full(1, total),
            reimb=full(1, reimb),
            scheme=scheme,
            payer=payer,
        )

    def finish(self, protect: IntArray | None = None, far: IntArray | None = None) -> None:
        """Concatenate, drop visits made while admitted elsewhere, order by date then person, number.

        A person in a ward does not visit a clinic or a pharmacy elsewhere: everyday visits drawn at
        random would otherwise fall inside stays and read as 挂床住院. Such rows are dropped unless
        ``protect`` names them (the planted ones, referenced by the truth). A stay at a ``far``
        institution (another province) also holds its discharge day: the patient is not home yet.
        """
        cols = {c: np.concatenate([b[c] for b in self.blocks]) for c in _CLAIM_COLS}
        self.blocks = []
        keep = _not_inside_stays(cols, protect, far)
        kept = np.flatnonzero(keep)
        order = kept[np.lexsort((cols["person"][kept], cols["start"][kept]))]
        self.final = {c: v[order] for c, v in cols.items()}
        self.position = np.full(len(keep), -1, dtype=np.int64)
        self.position[order] = np.arange(len(order))
        scheme = self.final["scheme"]
        seq = np.zeros(len(order), dtype=np.int64)
        for s in range(len(SCHEMES)):
            idx = np.flatnonzero(scheme == s)
            seq[idx] = np.arange(1, len(idx) + 1)
        self.final["seq"] = seq

    def claim_ids(self) -> pa.Array:
        prefix = pc.take(pa.array([f"{p}2024" for p in SCHEME_PREFIX]), pa.array(self.final["scheme"]))
        digits = pc.utf8_lpad(pc.cast(pa.array(self.final["seq"]), pa.string()), 9, "0")
        return pc.binary_join_element_wise(prefix, digits, "")

    def refs(self, rows: IntArray) -> list[dict[str, str]]:
        """Truth references (scheme, claim_id) of rows returned by ``add``."""
        pos = self.position[np.asarray(rows, dtype=np.int64)]
        pos = pos[pos >= 0]  # a look-alike's visit dropped in ``finish`` (made while admitted)
        return [
            {"scheme": str(SCHEMES[s]), "claim_id": f"{SCHEME_PREFIX[s]}2024{q:09d}"}
            for s, q in zip(self.final["scheme"][pos].tolist(), self.final["seq"][pos].tolist(), strict=True)
        ]


@dataclass
class InjurySet:
    person: list[int] = field(default_factory=list)
    day: list[int] = field(default_factory=list)
    cause: list[str] = field(default_factory=list)
    liable: list[bool] = field(default_factory=list)
    employer: list[int] = field(default_factory=list)
    reported_to: list[str] = field(default_factory=list)

    def add(self, person: int, day: int, cause: str, liable: bool, employer: int, reported_to: str) -> int:
        self.person.append(person)
        self.day.append(day)
        self.cause.append(cause)
        self.liable.append(liable)
        self.employer.append(employer)
        self.reported_to.append(reported_to)
        return len(self.person) - 1

    @property
    def n(self) -> int:
        return len(self.person)

    def case_id(self, i: int) -> str:
        return f"IC2024{i + 1:07d}"


def pick_doctor(rng: np.random.Generator, inst: Institutions, which: IntArray) -> IntArray:
    count = inst.doctor_count[which]
    pick = inst.doctor_start[which] + np.floor(rng.random(len(which)) * np.maximum(count, 1)).astype(np.int64)
    return np.where(count > 0, pick, -1)


def amounts(
    rng: np.random.Generator, n: int, mean_log: float, sigma: float, lo: float, hi: float
) -> tuple[IntArray, IntArray]:
    """Total and reimbursed amounts in cents: lognormal totals, a reimbursed share in [lo, hi]."""
    total = np.maximum(100, np.round(np.exp(rng.normal(mean_log, sigma, n)) * 100)).astype(np.int64)
    reimb = np.floor(total * rng.uniform(lo, hi, n)).astype(np.int64)
    return total, reimb


def medical_payer(pop: Population, person: IntArray) -> StrArray:
    return np.where(pop.employer[person] >= 0, vocab.PAYER_MEDICAL_EMPLOYEE, vocab.PAYER_MEDICAL_RESIDENT)


@dataclass
class City:
    """Everything generated so far, handed from stage to stage."""

    rng: np.random.Generator
    pop: Population
    inst: Institutions
    docs: Doctors
    claims: ClaimSet = field(default_factory=ClaimSet)
    injuries: InjurySet = field(default_factory=InjurySet)
    # persons with exactly one background stay (first half of the year), as parallel arrays
    single_stays: dict[str, IntArray] = field(default_factory=dict)
    stays: StayBook = field(init=False)
    truth: dict[str, list[dict[str, object]]] = field(
        default_factory=lambda: {
            "rings": [],
            "double_claims": [],
            "anomalies": [],
            "lookalikes": [],
            "bad_rows": [],
        }
    )
    # planted claim rows waiting for final ids: (section, entry index, rows)
    pending_refs: list[tuple[str, int, IntArray]] = field(default_factory=list)
    # legitimate cohorts by kind (care_home, chronic_cohort, health_check_day), so that fraud can
    # hide among them: each entry names its institution and what a planter needs (residents, desk
    # phone, doctors, diagnosis, day)
    places: dict[str, list[dict[str, object]]] = field(
        default_factory=lambda: {"care_home": [], "chronic_cohort": [], "health_check_day": []}
    )

    def __post_init__(self) -> None:
        self.stays = StayBook(np.zeros(self.pop.n, dtype=bool))
        self.claims.stays = self.stays
