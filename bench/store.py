"""Micro-benchmark of the DuckDB store: bulk upserts from Arrow and neighbour-query latency.

Builds a synthetic city in memory with numpy (no Python loop per row), upserts it into a temporary
DuckDB file the way ingest does — nodes, then Claim nodes plus HAS_CLAIM, TREATED_AT and
BY_DOCTOR — and prints rows/s per step, claims/s over the claim steps, the one-off index build,
neighbour-query latency (p50/p95) and peak RSS. Run heavy sizes under the shared lock::

    flock /tmp/medfraud-bench.lock python bench/store.py --claims 6000000 --persons 600000
"""

from __future__ import annotations

import argparse
import os
import random
import resource
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from graph.duckdb.store import DuckDBStore
from graph.model import REL_TYPES, NodeRef


def _ids(prefix: str, numbers: np.ndarray, width: int) -> pa.Array:
    digits = pc.utf8_lpad(pa.array(numbers).cast(pa.string()), width, "0")
    return pc.binary_join_element_wise(pa.scalar(prefix), digits, "")


def build(claims: int, persons: int, institutions: int, doctors: int, seed: int) -> dict[str, pa.Table]:
    rng = np.random.default_rng(seed)
    person_ids = _ids("P", np.arange(persons), 17)
    patients = pa.table({
        "person_id": person_ids,
        "name": _ids("姓名", np.arange(persons), 7),
        "gender": pa.array(np.where(rng.random(persons) < 0.5, "M", "F")),
        "birth_date": pa.array((np.datetime64("1940-01-01") + rng.integers(0, 25_000, persons))
                               .astype("datetime64[D]")),
    })
    pharmacy = rng.random(institutions) < 0.2
    inst_ids = _ids("H", np.arange(institutions), 6)
    inst = pa.table({"institution_id": inst_ids, "name": _ids("机构", np.arange(institutions), 4),
                     "kind": pa.array(np.where(pharmacy, "pharmacy", "clinic"))})
    doc_inst = rng.integers(0, institutions, doctors)
    docs = pa.table({"doctor_id": _ids("D", np.arange(doctors), 6),
                     "name": _ids("医生", np.arange(doctors), 5),
                     "institution_id": pc.take(inst_ids, pa.array(doc_inst))})
    # patients visit a few favourite institutions: a skewed choice gives realistic hubs
    p_idx = rng.integers(0, persons, claims)
    i_idx = (rng.zipf(1.3, claims) - 1 + p_idx) % institutions
    d_idx = rng.integers(0, doctors, claims)
    day = (np.datetime64("2023-01-01") + rng.integers(0, 730, claims)).astype("datetime64[D]")
    claim_ids = _ids("C", np.arange(claims), 12)
    scheme = pa.array(np.full(claims, "medical", dtype=object), pa.string())
    is_pharm = pharmacy[i_idx]
    claim_keys = pc.binary_join_element_wise(scheme, claim_ids, ":")
    amount = np.round(rng.gamma(2.0, 150.0, claims), 2)
    date_arr = pa.array(day)
    claim = pa.table({
        "claim_key": claim_keys, "claim_id": claim_ids, "scheme": scheme,
        "person_id": pc.take(person_ids, pa.array(p_idx)),
        "institution_id": pc.take(inst_ids, pa.array(i_idx)),
        "doctor_id": _ids("D", d_idx, 6),
        "visit_type": pa.array(np.where(is_pharm, "pharmacy", "outpatient")),
        "start_date": date_arr, "end_date": date_arr,
        "diagnosis_code": pa.array(np.full(claims, "J06.9", dtype=object), pa.string()),
        "total_amount": pa.array(amount), "reimbursed_amount": pa.array(np.round(amount * 0.7, 2)),
    })
    return {
        "patients": patients,
        "institutions": inst.filter(pc.invert(pa.array(pharmacy))),
        "pharmacies": inst.filter(pa.array(pharmacy)),
        "doctors": docs,
        "claims": claim,
        "has_claim": pa.table({"src": claim.column("person_id"), "dst": claim_keys, "date": date_arr}),
        "treated_at": pa.table({"src": claim_keys, "dst": claim.column("institution_id"),
                                "dst_label": pa.array(np.where(is_pharm, "Pharmacy", "Institution")),
                                "date": date_arr}),
        "by_doctor": pa.table({"src": claim_keys, "dst": claim.column("doctor_id"), "date": date_arr}),
    }


def timed(label: str, fn: object, rows: int) -> float:
    assert callable(fn)
    t0 = time.perf_counter()
    written = fn()
    dt = time.perf_counter() - t0
    print(f"  {label:<28} {written:>11,} rows  {dt:7.2f} s  {rows / dt:>12,.0f} rows/s", flush=True)
    return dt


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def latency(store: DuckDBStore, data: dict[str, pa.Table], samples: int, seed: int) -> None:
    rnd = random.Random(seed)
    persons = data["patients"].column("person_id").to_pylist()
    inst = data["institutions"].column("institution_id").to_pylist()
    keys = data["claims"].column("claim_key").to_pylist()
    # what the API traverses: data relationships, not derived ones
    types = [r.type for r in REL_TYPES if not r.derived]

    def two_hop() -> int:
        # an investigator's picture: a clinic and two of its patients, then one more hop
        seeds = [NodeRef("Institution", rnd.choice(inst[len(inst) // 2:])),
                 NodeRef("Patient", rnd.choice(persons)), NodeRef("Patient", rnd.choice(persons))]
        first = store.neighbours(seeds, rel_types=types, cap=100)
        second = store.neighbours([n.ref for n in first.nodes], rel_types=types, cap=5)
        return len({*seeds, *(n.ref for n in first.nodes), *(n.ref for n in second.nodes)})

    t0 = time.perf_counter()
    cold_size = two_hop()
    cold_ms = (time.perf_counter() - t0) * 1e3
    print(f"  first 2-hop query on a cold file ({cold_size} nodes): {cold_ms:.0f} ms")
    for _ in range(10):
        two_hop()
    one_hop: list[float] = []
    two: list[float] = []
    sizes: list[int] = []
    for _ in range(samples):
        t0 = time.perf_counter()
        store.neighbours([NodeRef("Patient", rnd.choice(persons)) for _ in range(3)], rel_types=types, cap=50)
        one_hop.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        sizes.append(two_hop())
        two.append(time.perf_counter() - t0)
    print(f"  1-hop, 3 patient seeds, cap 50:            p50 {pct(one_hop, .5) * 1e3:6.1f} ms  "
          f"p95 {pct(one_hop, .95) * 1e3:6.1f} ms")
    print(f"  2-hop subgraph (mean {statistics.mean(sizes):.0f} nodes):       "
          f"p50 {pct(two, .5) * 1e3:6.1f} ms  p95 {pct(two, .95) * 1e3:6.1f} ms")
    hub: list[float] = []
    for _ in range(samples):
        t0 = time.perf_counter()
        store.neighbours([NodeRef("Institution", rnd.choice(inst[:5]))], rel_types=types, cap=100)
        hub.append(time.perf_counter() - t0)
    print(f"  1-hop from a top-5 hub institution, cap 100: p50 {pct(hub, .5) * 1e3:6.1f} ms  "
          f"p95 {pct(hub, .95) * 1e3:6.1f} ms")
    gets: list[float] = []
    for _ in range(samples):
        batch = [rnd.choice(keys) for _ in range(20)]
        t0 = time.perf_counter()
        store.get_nodes("Claim", batch)
        gets.append(time.perf_counter() - t0)
    print(f"  get_nodes, 20 claims:                      p50 {pct(gets, .5) * 1e3:6.1f} ms  "
          f"p95 {pct(gets, .95) * 1e3:6.1f} ms")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--claims", type=int, default=6_000_000)
    ap.add_argument("--persons", type=int, default=600_000)
    ap.add_argument("--institutions", type=int, default=600)
    ap.add_argument("--doctors", type=int, default=6_000)
    ap.add_argument("--threads", type=int, default=2, help="DuckDB threads (the target machine has 2)")
    ap.add_argument("--memory-limit", default="6GB")
    ap.add_argument("--samples", type=int, default=200, help="queries per latency figure")
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--dir", type=Path, default=None, help="where the temporary database goes")
    ap.add_argument("--keep", type=Path, default=None, help="copy the loaded database file here")
    args = ap.parse_args(argv)

    load_before = os.getloadavg()[0]
    t0 = time.perf_counter()
    data = build(args.claims, args.persons, args.institutions, args.doctors, args.seed)
    print(f"synthetic data: {args.claims:,} claims, {args.persons:,} persons "
          f"({time.perf_counter() - t0:.1f} s to generate, not counted)")
    with tempfile.TemporaryDirectory(dir=args.dir) as tmp:
        path = Path(tmp) / "bench.duckdb"
        store = DuckDBStore(path, threads=args.threads, memory_limit=args.memory_limit)
        store.apply_schema()
        print("upserts (one transaction per call, as ingest does):")
        timed("Patient", lambda: store.upsert_nodes("Patient", data["patients"]), args.persons)
        timed("Institution", lambda: store.upsert_nodes("Institution", data["institutions"]),
              data["institutions"].num_rows)
        timed("Pharmacy", lambda: store.upsert_nodes("Pharmacy", data["pharmacies"]),
              data["pharmacies"].num_rows)
        timed("Doctor", lambda: store.upsert_nodes("Doctor", data["doctors"]), args.doctors)
        claim_s = timed("Claim", lambda: store.upsert_nodes("Claim", data["claims"]), args.claims)
        for key, type_ in (("has_claim", "HAS_CLAIM"), ("treated_at", "TREATED_AT"),
                           ("by_doctor", "BY_DOCTOR")):
            claim_s += timed(type_, lambda t=type_, k=key: store.upsert_relationships(t, data[k]),
                             args.claims)
        print(f"  => {args.claims / claim_s:,.0f} claim rows/s (Claim node + 3 relationships, "
              f"{claim_s:.1f} s)")
        rerun = timed("Claim re-upsert (all exist)", lambda: store.upsert_nodes("Claim", data["claims"]),
                      args.claims)
        del rerun
        t1 = time.perf_counter()
        store.ensure_indexes()
        print(f"index build after the load (one-off): {time.perf_counter() - t1:.2f} s "
              f"({len(store.index_names())} indexes)")
        t1 = time.perf_counter()
        store.close()
        print(f"close (checkpoint): {time.perf_counter() - t1:.2f} s; "
              f"file {path.stat().st_size / 2**20:,.0f} MiB")
        if args.keep:
            shutil.copyfile(path, args.keep)
        store = DuckDBStore(path, threads=args.threads, memory_limit=args.memory_limit)
        print("latency after reopening the file:")
        latency(store, data, args.samples, args.seed)
        store.close()
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak RSS: {peak:,.0f} MiB (includes the synthetic Arrow data held by the bench)")
    # other people's jobs on the same cores skew every figure: show the load to recognise it
    print(f"machine load (1-min average, {os.cpu_count()} cores): {load_before:.1f} at start, "
          f"{os.getloadavg()[0]:.1f} at end")
    return 0


if __name__ == "__main__":
    sys.exit(main())
