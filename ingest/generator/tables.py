"""The generated city as contract tables of text columns, written the way bureaus write them.

Identifiers are written in the everyday variants the loader must normalise (``+86 138-...``,
spaced bank accounts, full-width digits in addresses, a lower-case ``x`` check character), so a
clean city exercises normalisation while still ingesting with zero rejects.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

from ingest.generator.records import CAUSES, DX_ALL, PAYERS, SCHEMES, VISIT_TYPES, City

IntArray = npt.NDArray[np.int64]
_FULL_WIDTH = str.maketrans("0123456789", "０１２３４５６７８９")


def _dates(days: IntArray) -> pa.Array:
    d = np.asarray(days, dtype=np.int64)
    return pa.array(d.astype(np.int32), pa.int32(), mask=d < 0).cast(pa.date32()).cast(pa.string())


def _money(cents: IntArray) -> pa.Array:
    c = np.asarray(cents, dtype=np.int64)
    whole = pc.cast(pa.array(c // 100), pa.string())
    frac = pc.utf8_lpad(pc.cast(pa.array(c % 100), pa.string()), 2, "0")
    return pc.binary_join_element_wise(whole, frac, ".")


def _take(values: pa.Array, idx: IntArray) -> pa.Array:
    i = np.asarray(idx, dtype=np.int64)
    return pc.take(values, pa.array(np.maximum(i, 0), mask=i < 0))


def _blank_to_null(arr: pa.Array) -> pa.Array:
    return pc.if_else(pc.equal(arr, ""), pa.scalar(None, pa.string()), arr)


def _variant(rng: np.random.Generator, n: int, share: float) -> npt.NDArray[np.bool_]:
    return rng.random(n) < share


def persons_table(city: City, home_addresses: dict[int, str]) -> pa.Table:
    rng, pop = city.rng, city.pop
    n = pop.n
    pid = pa.array(pop.person_id)
    lower_x = _variant(rng, n, 0.3) & (np.char.endswith(pop.person_id, "X"))
    pid_written = pc.if_else(pa.array(lower_x), pc.utf8_lower(pid), pid)

    phone = pa.array(pop.phone)
    mobile = np.char.startswith(pop.phone, "1")
    style = rng.integers(0, 25, n)
    dashed = pc.binary_join_element_wise(
        pa.array(["+86 "] * n),
        pc.utf8_slice_codeunits(phone, 0, 3),
        pc.utf8_slice_codeunits(phone, 3, 7),
        pc.utf8_slice_codeunits(phone, 7, 11),
        "-",
    )
    spaced = pc.binary_join_element_wise(
        pc.utf8_slice_codeunits(phone, 0, 3),
        pc.utf8_slice_codeunits(phone, 3, 7),
        pc.utf8_slice_codeunits(phone, 7, 11),
        " ",
    )
    landline = pc.binary_join_element_wise(
        pc.utf8_slice_codeunits(phone, 0, 4), pc.utf8_slice_codeunits(phone, 4, 11), "-"
    )
    phone_written = pc.case_when(
        pc.make_struct(
            pa.array(mobile & (style == 0)), pa.array(mobile & (style == 1)), pa.array(~mobile & (style < 12))
        ),
        dashed,
        spaced,
        landline,
        phone,
    )

    account = _blank_to_null(pa.array(pop.account))
    grouped = pc.utf8_trim_whitespace(pc.replace_substring_regex(account, "([0-9]{4})", "\\1 "))
    account_written = pc.if_else(pa.array(_variant(rng, n, 0.05)), grouped, account)

    addr = pop.address
    if home_addresses:
        values = np.asarray(addr.to_numpy(zero_copy_only=False), dtype=object)
        idx = np.fromiter(home_addresses.keys(), dtype=np.int64)
        values[idx] = np.array(list(home_addresses.values()), dtype=object)
        addr = pa.array(values, pa.string())
    # The same address written differently must still become one Address node.
    odd = np.flatnonzero(_variant(rng, n, 0.05))
    odd_values = [
        s.translate(_FULL_WIDTH).replace("市", "市 ").replace("号", " 号")
        for s in pc.take(addr, pa.array(odd)).to_pylist()
    ]
    if len(odd):
        values = np.asarray(addr.to_numpy(zero_copy_only=False), dtype=object)
        values[odd] = odd_values
        addr = pa.array(values, pa.string())

    gender = pa.array(np.where(pop.male, "M", "F"))
    gender = pc.if_else(pa.array(_variant(rng, n, 0.1)), pa.scalar(None, pa.string()), gender)
    birth = _dates(np.where(_variant(rng, n, 0.1), -1, pop.birth_days))
    employer = pc.binary_join_element_wise(
        pa.array(["E"] * n),
        pc.utf8_lpad(pc.cast(pa.array(np.maximum(pop.employer, 0)), pa.string()), 6, "0"),
        "",
    )
    employer = pc.if_else(pa.array(pop.employer < 0), pa.scalar(None, pa.string()), employer)
    return pa.table(
        {
            "person_id": pid_written,
            "name": pop.name,
            "gender": gender,
            "birth_date": birth,
            "phone": phone_written,
            "address": addr,
            "bank_account": account_written,
            "employer_id": employer,
            "death_date": _dates(pop.death_day),
        }
    )


def institutions_table(city: City) -> pa.Table:
    inst = city.inst
    return pa.table(
        {
            "institution_id": pa.array(inst.institution_id),
            "name": pa.array(inst.name),
            "kind": pa.array(inst.kind),
            "level": pc.cast(pa.array(inst.level), pa.string()),
            "ownership": pa.array(inst.ownership),
            "region": pa.array(inst.region),
            "grid": pa.array(inst.grid),
            "latitude": pc.cast(pa.array(inst.latitude), pa.string()),
            "longitude": pc.cast(pa.array(inst.longitude), pa.string()),
            "license_no": pa.array(inst.license_no),  # not in the contract: kept by the loader in ``extra``
        }
    )


def doctors_table(city: City) -> pa.Table:
    docs = city.docs
    return pa.table(
        {
            "doctor_id": pa.array(docs.doctor_id),
            "name": pa.array(docs.name),
            "institution_id": _take(pa.array(city.inst.institution_id), docs.institution),
            "person_id": _blank_to_null(pa.array(docs.person_id)),
            "title": pa.array(docs.title),  # not in the contract: kept in ``extra``
        }
    )


def employer_ids(idx: IntArray) -> pa.Array:
    i = np.asarray(idx, dtype=np.int64)
    ids = pc.binary_join_element_wise(
        pa.array(["E"] * len(i)), pc.utf8_lpad(pc.cast(pa.array(np.maximum(i, 0)), pa.string()), 6, "0"), ""
    )
    return pc.if_else(pa.array(i < 0), pa.scalar(None, pa.string()), ids)


def injury_cases_table(city: City) -> pa.Table:
    inj = city.injuries
    n = inj.n
    return pa.table(
        {
            "injury_case_id": pa.array([inj.case_id(i) for i in range(n)], pa.string()),
            "person_id": pa.array(
                city.pop.person_id[np.asarray(inj.person, dtype=np.int64)] if n else [], pa.string()
            ),
            "injury_date": _dates(np.asarray(inj.day, dtype=np.int64)),
            "cause": pa.array(inj.cause, pa.string()),
            "third_party_liable": pa.array(["true" if x else "false" for x in inj.liable], pa.string()),
            "employer_id": employer_ids(np.asarray(inj.employer, dtype=np.int64)),
            "reported_to": pa.array(inj.reported_to, pa.string()),
        }
    )


def claims_table(city: City) -> pa.Table:
    f = city.claims.final
    case_ids = pa.array([city.injuries.case_id(i) for i in range(city.injuries.n)], pa.string())
    return pa.table(
        {
            "claim_id": city.claims.claim_ids(),
            "scheme": _take(pa.array(SCHEMES), f["scheme"]),
            "payer": _take(pa.array(PAYERS), f["payer"]),
            "person_id": _take(pa.array(city.pop.person_id), f["person"]),
            "institution_id": _take(pa.array(city.inst.institution_id), f["inst"]),
            "doctor_id": _take(pa.array(city.docs.doctor_id), f["doctor"]),
            "visit_type": _take(pa.array(VISIT_TYPES), f["visit"]),
            "start_date": _dates(f["start"]),
            "end_date": _dates(f["end"]),
            "diagnosis_code": _take(pa.array(DX_ALL), f["dx"]),
            "total_amount": _money(f["total"]),
            "reimbursed_amount": _money(f["reimb"]),
            "injury_case_id": _take(case_ids, f["injury"]),
        }
    )


__all__ = [
    "CAUSES",
    "claims_table",
    "doctors_table",
    "injury_cases_table",
    "institutions_table",
    "persons_table",
]
