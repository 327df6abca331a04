"""Benchmark of listing in the port: a first page of rings or findings, whatever their number.

Target (issue 12): ``rings(first: 20)`` and ``doubleClaims(first: 20)`` p95 <= 10 ms whatever the
number of rings and findings. This measures the store call behind them (``GraphStore.list_nodes``:
the page query and the count query) on an embedded store holding ``--rings`` synthetic rings and
``--findings`` synthetic findings (scores and amounts from a seeded generator), one call at a time:

    python bench/listing.py --rings 200000 --findings 1000000
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from collections.abc import Callable

import numpy as np
import pandas as pd

from graph import listing
from graph.duckdb.store import DuckDBStore
from graph.listing import Listing


def _fill(store: DuckDBStore, rings: int, findings: int, seed: int) -> None:
    rng = np.random.default_rng(seed)
    store.upsert_nodes("Ring", pd.DataFrame({
        "ring_id": [f"R{i:07d}" for i in range(rings)],
        "kind": rng.choice(["collusion", "shared_identifier", "pharmacy_cash_out"], rings),
        "status": rng.choice(["new", "grown", "shrunk", "stable", "vanished"], rings),
        "score": rng.random(rings).round(4), "member_count": rng.integers(3, 40, rings),
        "evidence": ['["同一诊所反复同日就诊"]'] * rings}))
    store.upsert_nodes("Finding", pd.DataFrame({
        "finding_id": [f"F{i:08d}" for i in range(findings)],
        "category": rng.choice(["double_claim", "anomaly"], findings),
        "kind": rng.choice(["medical_and_work_injury", "medical_and_commercial", "after_death"], findings),
        "person_id": [f"P{i:07d}" for i in rng.integers(0, max(findings // 3, 1), findings)],
        "excess_amount": (rng.random(findings) * 5000).round(2), "evidence": ['["重复报销"]'] * findings}))


def _time(call: Callable[[], object], samples: int) -> dict[str, float]:
    call()  # warm the plan and the buffer pool
    took = []
    for _ in range(samples):
        t0 = time.perf_counter()
        call()
        took.append((time.perf_counter() - t0) * 1000)
    took.sort()
    p95 = took[int(0.95 * (len(took) - 1))]
    return {"p50_ms": round(statistics.median(took), 2), "p95_ms": round(p95, 2)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rings", type=int, default=200_000)
    ap.add_argument("--findings", type=int, default=1_000_000)
    ap.add_argument("--samples", type=int, default=200)
    ap.add_argument("--seed", type=int, default=12)
    args = ap.parse_args()
    store = DuckDBStore(":memory:", read_index=False)
    store.apply_schema()
    t0 = time.perf_counter()
    _fill(store, args.rings, args.findings, args.seed)
    load_s = time.perf_counter() - t0
    cases: dict[str, Listing] = {
        "rings(first: 20)": listing.rings(first=20),
        "rings(kind, minScore 0.9, first: 20)": listing.rings(kind="collusion", min_score=0.9, first=20),
        "rings page 50 (first: 20, after)": listing.rings(first=20, after=listing.encode_cursor(979)),
        "doubleClaims(first: 20)": listing.findings(category="double_claim", first=20),
        "doubleClaims(personId, first: 20)": listing.findings(category="double_claim", person_id="P0000042",
                                                              first=20),
    }
    out = {"rings": args.rings, "findings": args.findings, "samples": args.samples,
           "load_s": round(load_s, 1),
           "results": {name: _time(lambda wanted=wanted: store.list_nodes(wanted), args.samples)
                       for name, wanted in cases.items()}}
    print(json.dumps(out, ensure_ascii=False, indent=2))
    store.close()


if __name__ == "__main__":
    main()
