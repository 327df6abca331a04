"""Designated institutions and their doctors, sized like DOMAIN.md's districts (~620 per 1.62M insured)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from ingest.generator import vocab
from ingest.generator.population import Population, StrArray, chinese_names
from ingest.idnumber import make_ids

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]

# kind, share of institutions, minimum count, share privately owned
_MIX = (
    ("hospital3", 0.03, 2, 0.05),
    ("hospital2", 0.05, 2, 0.1),
    ("community", 0.08, 3, 0.0),  # community health centres: hospitals of level 1
    ("clinic", 0.25, 6, 0.8),
    ("tcm_clinic", 0.08, 2, 0.7),
    ("elderly_care", 0.05, 2, 0.6),
    ("pharmacy", 0.41, 5, 0.9),
    ("other", 0.05, 1, 0.5),
)
_DOCTORS = {  # doctors per institution (low, high)
    "hospital3": (30, 70),
    "hospital2": (10, 25),
    "community": (3, 7),
    "clinic": (1, 3),
    "tcm_clinic": (1, 3),
    "elderly_care": (1, 2),
    "pharmacy": (0, 0),
    "other": (1, 2),
}
_POPULARITY = {  # outpatient pull of one institution of the group, before the Zipf factor
    "hospital3": 40.0,
    "hospital2": 12.0,
    "community": 5.0,
    "clinic": 1.5,
    "tcm_clinic": 1.0,
    "elderly_care": 0.0,
    "pharmacy": 0.0,
    "other": 1.0,
}


@dataclass
class Institutions:
    n: int
    institution_id: StrArray
    name: StrArray
    group: StrArray  # hospital3/hospital2/community/clinic/...
    kind: StrArray  # the contract's kind
    level: IntArray
    ownership: StrArray
    region: StrArray
    grid: StrArray
    latitude: FloatArray
    longitude: FloatArray
    license_no: StrArray
    outpatient_weight: FloatArray
    pharmacy_weight: FloatArray
    doctor_start: IntArray
    doctor_count: IntArray

    def of_group(self, *groups: str) -> IntArray:
        return np.flatnonzero(np.isin(self.group, groups))


@dataclass
class Doctors:
    n: int
    doctor_id: StrArray
    name: StrArray
    institution: IntArray
    person_index: IntArray  # -1: not an insured person of this city
    person_id: StrArray  # '' when unknown
    title: StrArray


def build_institutions(rng: np.random.Generator, pop: Population) -> Institutions:
    _, city_name, districts = vocab.CITIES[pop.city]
    total = max(40, round(pop.n * 620 / 1_620_000))
    groups: list[str] = []
    for name, share, minimum, _ in _MIX:
        groups += [name] * max(minimum, round(total * share))
    group = np.array(groups, dtype="<U24")  # room for the "remote_" prefix below
    n = len(group)
    kind = np.array(
        [
            {"hospital3": "hospital", "hospital2": "hospital", "community": "hospital"}.get(g, g)
            for g in groups
        ]
    )
    level = np.select([group == "hospital3", group == "hospital2", group == "community"], [3, 2, 1], 0)
    private_share = dict((g, p) for g, _, _, p in _MIX)
    private = rng.random(n) < np.array([private_share[g] for g in groups])
    ownership = np.where(private, "private", "public")
    district = rng.integers(0, len(districts), n)
    dnames = np.array([d for _, d in districts])
    dcodes = np.array([str(c) for c, _ in districts])
    street = np.array(vocab.STREETS)[rng.integers(0, len(vocab.STREETS), n)]
    brand = np.array(vocab.BRAND_WORDS)[rng.integers(0, len(vocab.BRAND_WORDS), n)]
    surname = np.array(list(vocab.SURNAMES[:40]))[rng.integers(0, 40, n)]
    names: list[str] = []
    for i, g in enumerate(groups):  # a few hundred institutions: plain Python is fine here
        k = i + 1
        names.append(
            {
                "hospital3": f"{city_name}第{k}人民医院",
                "hospital2": f"{dnames[district[i]]}第{k}医院",
                "community": f"{dnames[district[i]]}{street[i]}社区卫生服务中心",
                "clinic": f"{surname[i]}氏{brand[i]}诊所({k})",
                "tcm_clinic": f"{brand[i]}中医诊所({k})",
                "elderly_care": f"{brand[i]}医养中心({k})",
                "pharmacy": f"{brand[i]}大药房{street[i]}店({k})",
                "other": f"{dnames[district[i]]}{street[i]}卫生院({k})",
            }[g]
        )
    is_pharmacy = kind == "pharmacy"
    ids = np.where(is_pharmacy, "P", "H")
    institution_id = np.char.add(ids, np.char.zfill(np.arange(1, n + 1).astype(str), 5))
    zipf = 1.0 / (1 + rng.permutation(n)) ** 0.6
    outpatient_weight = np.array([_POPULARITY[g] for g in groups]) * zipf * rng.uniform(0.5, 1.5, n)
    pharmacy_weight = np.where(is_pharmacy, zipf, 0.0)
    counts = np.array([rng.integers(lo, hi + 1) if hi else 0 for lo, hi in (_DOCTORS[g] for g in groups)])
    starts = np.r_[0, np.cumsum(counts)[:-1]]
    grid = np.char.add(
        np.char.add(dcodes[district], "-G"), np.char.zfill(rng.integers(1, 40, n).astype(str), 2)
    )
    license_no = np.char.add("PDY", np.char.zfill(rng.integers(0, 10**8, n).astype(str), 8))
    # Districts lie within ~25 km of the city centre, institutions within ~4 km of their district's.
    centre_lat, centre_lon = vocab.CITY_CENTRES[pop.city]
    d_lat = rng.uniform(-0.22, 0.22, len(districts))
    d_lon = rng.uniform(-0.28, 0.28, len(districts))
    latitude = np.round(centre_lat + d_lat[district] + rng.uniform(-0.04, 0.04, n), 5)
    longitude = np.round(centre_lon + d_lon[district] + rng.uniform(-0.05, 0.05, n), 5)
    region = dcodes[district]
    # 异地定点: a hospital, a clinic and a pharmacy in another province, where the city's insured
    # are rarely seen (no everyday traffic; only planted claims reach them).
    remote_city = (pop.city + 1) % len(vocab.CITIES)
    r_lat, r_lon = vocab.CITY_CENTRES[remote_city]
    r_code = str(vocab.CITIES[remote_city][2][0][0])
    remote = [int(rng.choice(np.flatnonzero(group == g))) for g in ("hospital2", "clinic", "pharmacy")]
    for i in remote:
        group[i] = f"remote_{group[i]}"
        names[i] = f"{vocab.CITIES[remote_city][1]}{names[i]}"
        latitude[i] = round(r_lat + float(rng.uniform(-0.1, 0.1)), 5)
        longitude[i] = round(r_lon + float(rng.uniform(-0.1, 0.1)), 5)
        region[i] = r_code
        outpatient_weight[i] = 0.0
        pharmacy_weight[i] = 0.0
    return Institutions(
        n=n,
        institution_id=institution_id,
        name=np.array(names),
        group=group,
        kind=kind,
        level=level.astype(np.int64),
        ownership=ownership,
        region=region,
        grid=grid,
        latitude=latitude,
        longitude=longitude,
        license_no=license_no,
        outpatient_weight=outpatient_weight,
        pharmacy_weight=pharmacy_weight,
        doctor_start=starts.astype(np.int64),
        doctor_count=counts.astype(np.int64),
    )


def build_doctors(rng: np.random.Generator, pop: Population, inst: Institutions) -> Doctors:
    n = int(inst.doctor_count.sum())
    institution = np.repeat(np.arange(inst.n), inst.doctor_count)
    male = rng.random(n) < 0.5
    # Most doctors live and are insured in the city, so a Doctor is also a Patient (IS_PERSON).
    adults = np.flatnonzero((pop.age >= 26) & (pop.age <= 64) & pop.alive)
    local = rng.random(n) < 0.7
    chosen = rng.choice(adults, n, replace=False) if len(adults) >= n else rng.choice(adults, n)
    person_index = np.where(local, chosen, -1)
    outsiders = make_ids(
        np.full(n, 110105),
        19700101 + rng.integers(0, 25, n) * 10000 + rng.integers(1, 28, n),
        rng.integers(0, 500, n) * 2 + male,
    )
    unknown = rng.random(n) < 0.5  # half of the outsiders' ID numbers were not provided
    person_id = np.where(local, pop.person_id[np.maximum(person_index, 0)], np.where(unknown, "", outsiders))
    name = np.where(
        local,
        np.asarray(pop.name.to_numpy(zero_copy_only=False))[np.maximum(person_index, 0)],
        np.asarray(chinese_names(rng, male).to_numpy(zero_copy_only=False)),
    )
    return Doctors(
        n=n,
        doctor_id=np.char.add("D", np.char.zfill(np.arange(1, n + 1).astype(str), 6)),
        name=name.astype(str),
        institution=institution,
        person_index=person_index,
        person_id=person_id,
        title=np.array(vocab.DOCTOR_TITLES)[rng.integers(0, len(vocab.DOCTOR_TITLES), n)],
    )
