"""The generated city the benchmarks measure on, built once per size and seed and cached.

bench/detect.py and bench/api.py measure on the same city: generating and ingesting a
1,000,000-person city takes minutes, so the DuckDB file (and the generator's truth JSON next to
it) is kept in ``bench/out`` and reused. A ``.complete`` marker is written last, so a run killed
half-way rebuilds the city instead of measuring a partial one. Delete ``bench/out`` after
changing the generator or the ingest mapping.
"""

from __future__ import annotations

import json
import shutil
import time
from pathlib import Path

OUT = Path(__file__).resolve().parent / "out"


def city_db(persons: int, seed: int) -> Path:
    """The cached DuckDB file of a generated city, building it on first use."""
    from graph.duckdb.store import DuckDBStore
    from ingest.generator import generate_city
    from ingest.loader import ingest_dir

    db = OUT / f"city-{persons}-s{seed}.duckdb"
    done = db.with_suffix(".complete")
    if db.exists() and done.exists():
        return db
    OUT.mkdir(parents=True, exist_ok=True)
    raw = OUT / f"city-{persons}-s{seed}"
    for stale in (db, done):
        stale.unlink(missing_ok=True)
    shutil.rmtree(raw, ignore_errors=True)
    t = time.perf_counter()
    generate_city(raw, persons=persons, seed=seed, fmt="parquet")
    print(f"generated {persons:,} persons in {time.perf_counter() - t:.1f} s", flush=True)
    t = time.perf_counter()
    store = DuckDBStore(db)
    try:
        store.apply_schema()
        report = ingest_dir(store, raw)
    finally:
        store.close()
    print(f"ingested in {time.perf_counter() - t:.1f} s (exit code {report.exit_code})", flush=True)
    truth = raw.parent / f"{raw.name}.truth.json"
    if truth.exists():
        shutil.move(str(truth), db.with_suffix(".truth.json"))
    shutil.rmtree(raw, ignore_errors=True)
    done.write_text(json.dumps({"persons": persons, "seed": seed}))
    return db
