"""Persons of the synthetic city: ID numbers, names, households, phones, accounts, employers."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

from ingest.generator import vocab
from ingest.idnumber import make_ids

IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]
StrArray = npt.NDArray[np.str_]

EPOCH_2024 = 19723  # days from 1970-01-01 to 2024-01-01: the claims year starts here
YEAR_DAYS = 366
# Age bands (5 years, 0-94) weighted like a Chinese urban population pyramid.
_AGE_BAND_WEIGHTS = np.array([5, 5.5, 5.5, 5, 5.5, 7, 8.5, 8, 7, 7.5, 8, 7.5, 6.5, 6, 4.5, 3, 2, 1.2, 0.6])


@dataclass
class Population:
    n: int
    person_id: StrArray
    name: pa.Array
    male: BoolArray
    birth_days: IntArray
    age: IntArray
    phone: StrArray  # canonical 11 digits
    account: StrArray  # canonical digits, '' when none
    address: pa.Array  # canonical (normalised) text
    household: IntArray
    community: IntArray
    district: IntArray
    employer: IntArray  # -1 = none
    death_day: IntArray  # -1 = alive through the year
    busy: BoolArray  # already part of a planted structure (not reused for another)
    city: int
    n_employers: int

    @property
    def alive(self) -> BoolArray:
        return self.death_day < 0


def _days_to_ymd(days: IntArray) -> IntArray:
    d = days.astype("datetime64[D]")
    y = d.astype("datetime64[Y]").astype(np.int64) + 1970
    m = (d.astype("datetime64[M]") - d.astype("datetime64[Y]").astype("datetime64[M]")).astype(np.int64) + 1
    day = (d - d.astype("datetime64[M]").astype("datetime64[D]")).astype(np.int64) + 1
    return np.asarray(y * 10000 + m * 100 + day, dtype=np.int64)


def chinese_names(rng: np.random.Generator, male: BoolArray) -> pa.Array:
    n = len(male)
    surnames = np.array(list(vocab.SURNAMES))
    # Zipf-like surname frequencies: a few surnames cover much of the population.
    w = 1.0 / np.arange(1, len(surnames) + 1) ** 0.9
    sur = surnames[rng.choice(len(surnames), n, p=w / w.sum())]
    pool_m, pool_f = np.array(list(vocab.GIVEN_MALE)), np.array(list(vocab.GIVEN_FEMALE))
    g1 = np.where(male, pool_m[rng.integers(0, len(pool_m), n)], pool_f[rng.integers(0, len(pool_f), n)])
    g2 = np.where(male, pool_m[rng.integers(0, len(pool_m), n)], pool_f[rng.integers(0, len(pool_f), n)])
    two = rng.random(n) < 0.7
    g2 = np.where(two, g2, "")
    return pc.binary_join_element_wise(pa.array(sur), pa.array(g1), pa.array(g2), "")


def mobiles(rng: np.random.Generator, n: int) -> StrArray:
    prefixes = np.array(
        [
            130,
            131,
            132,
            133,
            135,
            136,
            137,
            138,
            139,
            150,
            151,
            152,
            155,
            156,
            157,
            158,
            159,
            166,
            176,
            177,
            180,
            181,
            182,
            185,
            186,
            187,
            188,
            189,
            191,
            198,
            199,
        ]
    )
    nums = prefixes[rng.integers(0, len(prefixes), n)] * 10**8 + rng.integers(0, 10**8, n)
    return nums.astype("U11")


def accounts(rng: np.random.Generator, n: int) -> StrArray:
    bins = np.array([622202, 622848, 621700, 622588, 623668, 621226, 622700, 620522])
    length = rng.choice([16, 19], n, p=[0.4, 0.6])
    tail = rng.integers(0, 10**10, n) * 1000 + rng.integers(0, 1000, n)  # 13 digits
    acc16 = (bins[rng.integers(0, len(bins), n)] * 10**10 + tail // 1000).astype("U16")
    acc19 = np.char.add(
        bins[rng.integers(0, len(bins), n)].astype("U6"), np.char.zfill(tail.astype("U13"), 13)
    )
    return np.where(length == 16, acc16, acc19)


def build_population(rng: np.random.Generator, n: int) -> Population:
    city = int(rng.integers(0, len(vocab.CITIES)))
    province, city_name, districts = vocab.CITIES[city]
    band = rng.choice(len(_AGE_BAND_WEIGHTS), n, p=_AGE_BAND_WEIGHTS / _AGE_BAND_WEIGHTS.sum())
    age = band * 5 + rng.integers(0, 5, n)
    birth_days = EPOCH_2024 - age * 365 - rng.integers(0, 365, n) - age // 4
    male = rng.random(n) < 0.5
    local_codes = np.array([c for c, _ in districts])
    district = rng.integers(0, len(districts), n)
    region = np.where(
        rng.random(n) < 0.82,
        local_codes[district],
        np.array(vocab.MIGRANT_REGIONS)[rng.integers(0, len(vocab.MIGRANT_REGIONS), n)],
    )
    seq = rng.integers(0, 500, n) * 2 + male  # odd 17th digit = man
    ymd = _days_to_ymd(birth_days)
    for _ in range(20):  # redraw colliding sequence numbers until every ID is unique
        key = region * 10**11 + ymd * 1000 + seq
        _, first = np.unique(key, return_index=True)
        dup = np.ones(n, dtype=bool)
        dup[first] = False
        if not dup.any():
            break
        seq[dup] = rng.integers(0, 500, int(dup.sum())) * 2 + male[dup]
    person_id = make_ids(region, ymd, seq)

    # Households: sizes 1-6; members live at one address.
    sizes = rng.choice([1, 2, 3, 4, 5, 6], n, p=[0.25, 0.30, 0.25, 0.12, 0.05, 0.03])
    sizes = sizes[: int(np.searchsorted(np.cumsum(sizes), n)) + 1]
    household = np.repeat(np.arange(len(sizes)), sizes)[:n]
    household = household[rng.permutation(n)]
    n_house = int(household.max()) + 1
    # Communities (residential estates) of ~800 residents; neighbours share one.
    n_comm = max(4, n // 800)
    comm_of_house = rng.integers(0, n_comm, n_house)
    community = comm_of_house[household]
    comm_district = rng.integers(0, len(districts), n_comm)
    district = comm_district[community]
    comm_street = rng.integers(0, len(vocab.STREETS), n_comm)
    comm_no = rng.integers(1, 300, n_comm)
    comm_word = rng.integers(0, len(vocab.ESTATE_WORDS), n_comm)
    comm_kind = rng.integers(0, len(vocab.ESTATES), n_comm)
    comm_text = pc.binary_join_element_wise(
        pa.array(np.array([d for _, d in districts])[comm_district]),
        pa.array(np.array(vocab.STREETS)[comm_street]),
        pc.cast(pa.array(comm_no), pa.string()),
        pa.array(["号"] * n_comm),
        pa.array(np.array(vocab.ESTATE_WORDS)[comm_word]),
        pa.array(np.array(vocab.ESTATES)[comm_kind]),
        "",
    )
    bldg = rng.integers(1, 30, n_house)
    unit = rng.integers(1, 5, n_house)
    room = rng.integers(1, 30, n_house) * 100 + rng.integers(1, 5, n_house)
    house_addr = pc.binary_join_element_wise(
        pa.array([f"{province}{city_name}"] * n_house),
        pc.take(comm_text, pa.array(comm_of_house)),
        pc.cast(pa.array(bldg), pa.string()),
        pa.array(["栋"] * n_house),
        pc.cast(pa.array(unit), pa.string()),
        pa.array(["单元"] * n_house),
        pc.cast(pa.array(room), pa.string()),
        pa.array(["室"] * n_house),
        "",
    )
    address = pc.take(house_addr, pa.array(household))

    phone = mobiles(rng, n)
    account = accounts(rng, n)
    account = np.where(age < 16, "", account)
    employed = (age >= 18) & (age <= 60) & (rng.random(n) < 0.65)
    n_employers = max(5, n // 40)
    w = 1.0 / np.arange(1, n_employers + 1) ** 1.05
    employer = np.where(employed, rng.choice(n_employers, n, p=w / w.sum()), -1)
    dies = (age >= 60) & (rng.random(n) < 0.012 * (1 + (age - 60) / 10))
    death_day = np.where(dies, EPOCH_2024 + rng.integers(30, YEAR_DAYS, n), -1)
    return Population(
        n=n,
        person_id=person_id,
        name=chinese_names(rng, male),
        male=male,
        birth_days=birth_days,
        age=age,
        phone=phone,
        account=account,
        address=address,
        household=household,
        community=community,
        district=district,
        employer=employer,
        death_day=death_day,
        busy=np.zeros(n, dtype=bool),
        city=city,
        n_employers=n_employers,
    )


def share_household_identifiers(rng: np.random.Generator, pop: Population) -> list[IntArray]:
    """Families sharing a phone and often an account (the look-alike of shared-identifier rings).

    Returns the member index arrays of households that share at least one identifier.
    """
    order = np.argsort(pop.household, kind="stable")
    hh = pop.household[order]
    starts = np.flatnonzero(np.r_[True, hh[1:] != hh[:-1]])
    sizes = np.diff(np.r_[starts, len(hh)])
    n_house = len(starts)
    multi = sizes >= 2
    share_phone = multi & (rng.random(n_house) < 0.45)
    share_account = multi & (rng.random(n_house) < 0.3)
    head = order[starts]  # the first-listed member registers the family's phone/account
    house_of = pop.household
    use_phone = share_phone[house_of]
    pop.phone[:] = np.where(use_phone, pop.phone[head[house_of]], pop.phone)
    head_acc = pop.account[head[house_of]]
    use_acc = share_account[house_of] & (head_acc != "")
    pop.account[:] = np.where(use_acc, head_acc, pop.account)
    sharing = np.flatnonzero(share_phone | share_account)
    return [order[starts[h] : starts[h] + sizes[h]] for h in sharing.tolist()]
