"""Ingest benchmark: generator speed, embedded end-to-end ingest speed and memory, Neo4j write plan.

Three measurements, each in its own child process so that peak RSS belongs to one phase:

1. ``generate_city`` of ``--persons`` (target: 1,000,000 persons in <= 120 s);
2. ``ingest_dir`` of that city into a fresh DuckDB file — read (the exact CSV reader), validate,
   resolve, load in one all-or-nothing transaction — as claim rows/s end to end (target >=
   200,000/s) and peak RSS (target <= 6 GB), with the time split per table;
3. the Neo4j path: the same ``ingest_dir`` against ``Neo4jStore`` over a recording driver (Neo4j
   cannot run here, so nothing is timed): the statements it sends, how many batches and their
   sizes, for a smaller city (``--neo4j-persons``), plus the batch count scaled to ``--persons``.

Run heavy sizes under the shared lock::

    flock /tmp/medfraud-bench.lock python bench/ingest.py --persons 1000000 --seed 1
"""

from __future__ import annotations

import argparse
import json
import resource
import shutil
import subprocess
import sys
import tempfile
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _child(code: str, *args: str) -> dict[str, object]:
    """Run one phase in a fresh interpreter; it prints a JSON line with its figures."""
    out = subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True, cwd=ROOT)
    if out.returncode != 0:
        raise SystemExit(f"phase failed:\n{out.stderr}")
    result: dict[str, object] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


_GENERATE = """
import json, resource, sys, time
from pathlib import Path
from ingest.generator import generate_city
started = time.perf_counter()
generate_city(Path(sys.argv[1]), persons=int(sys.argv[2]), seed=int(sys.argv[3]), fmt=sys.argv[4])
print(json.dumps({"seconds": time.perf_counter() - started,
                  "rss_gb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20}))
"""

_INGEST = """
import json, os, resource, sys, time
from pathlib import Path
from graph.duckdb.store import DuckDBStore
from ingest.loader import ingest_dir
store = DuckDBStore(sys.argv[2], memory_limit="4GB")
store.apply_schema()
load_before = os.getloadavg()[0]
started = time.perf_counter()
cpu = time.process_time()
report = ingest_dir(store, Path(sys.argv[1]))
seconds = time.perf_counter() - started
cpu = time.process_time() - cpu
store.close()
print(json.dumps({"seconds": seconds, "report": str(report), "rejected": report.rejected,
                  "warnings": report.warnings, "atomic": store.atomic_loads,
                  "claims": report.table("claims").loaded, "rows": report.read,
                  "tables": {t.table: t.seconds for t in report.tables}, "phases": report.phases,
                  "cpu_s": cpu, "load": [load_before, os.getloadavg()[0]],
                  "rss_gb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20}))
"""

_NEO4J = """
import json, sys
from collections import Counter
from pathlib import Path
sys.path.insert(0, ".")
from tests.unit.graph.neo4j_recording import RecordingDriver
from graph.neo4j.store import Neo4jStore
from graph.settings import Settings
from ingest.loader import ingest_dir
driver = RecordingDriver()
batch = Settings().neo4j_batch_size
store = Neo4jStore(driver, database="neo4j", batch_size=batch)  # type: ignore[arg-type]
report = ingest_dir(store, Path(sys.argv[1]))
plan = {}
for call in driver.calls:
    if call.via != "tx" or "rows" not in call.parameters:
        continue
    head = " ".join(call.statement.split())[:110]
    entry = plan.setdefault(head, {"batches": 0, "rows": 0, "largest": 0})
    entry["batches"] += 1
    entry["rows"] += len(call.parameters["rows"])
    entry["largest"] = max(entry["largest"], len(call.parameters["rows"]))
print(json.dumps({"batch_size": batch, "plan": plan, "claims": report.table("claims").loaded}))
"""


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--persons", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--format", default="csv", choices=["csv", "parquet"])
    parser.add_argument("--neo4j-persons", type=int, default=20_000)
    parser.add_argument("--workdir", type=Path, default=None, help="kept after the run when given")
    args = parser.parse_args()
    work = args.workdir or Path(tempfile.mkdtemp(prefix="medfraud-bench-ingest-"))
    work.mkdir(parents=True, exist_ok=True)
    city, db = work / "city", work / "bench.duckdb"
    try:
        shutil.rmtree(city, ignore_errors=True)
        for stale in (db, db.with_name(db.name + ".wal")):
            stale.unlink(missing_ok=True)
        print(f"city: {args.persons:,} persons, seed {args.seed}, {args.format} ({work})")
        gen = _child(_GENERATE, str(city), str(args.persons), str(args.seed), args.format)
        gen_s = float(str(gen["seconds"]))
        size_mb = sum(p.stat().st_size for p in city.iterdir()) / 2**20
        print(
            f"generate: {gen_s:7.1f} s  ({args.persons / gen_s:,.0f} persons/s, {size_mb:,.0f} MB written, "
            f"peak RSS {float(str(gen['rss_gb'])):.2f} GB); target <= {120 * args.persons / 1e6:.0f} s "
            f"-> {gen_s / (120 * args.persons / 1e6):.2f} of budget"
        )

        ing = _child(_INGEST, str(city), str(db))
        ing_s = float(str(ing["seconds"]))
        claims = int(str(ing["claims"]))
        rows = int(str(ing["rows"]))
        claim_rate = claims / ing_s
        print(
            f"ingest:   {ing_s:7.1f} s  {claims:,} claims, {rows:,} rows in all, {ing['rejected']} rejected, "
            f"{ing['warnings']} warnings; "
            + ("one load transaction (all or nothing)" if ing["atomic"] else "committed batch by batch")
        )
        print(
            f"          {claim_rate:,.0f} claim rows/s end to end (target >= 200,000 -> "
            f"{claim_rate / 200_000:.2f}x); {rows / ing_s:,.0f} rows/s over all tables"
        )
        print(f"          peak RSS {float(str(ing['rss_gb'])):.2f} GB (target <= 6 GB)")
        tables = ing["tables"]
        assert isinstance(tables, dict)
        print(
            "          busy seconds per table (validation + its writes, overlapping): "
            + ", ".join(f"{k} {float(v):.1f}" for k, v in tables.items())
        )
        phases = ing["phases"]
        assert isinstance(phases, dict)
        top = sorted(phases.items(), key=lambda kv: -float(kv[1]))[:10]
        print("          slowest steps (s): " + ", ".join(f"{k} {float(v):.1f}" for k, v in top))
        load = ing["load"]
        assert isinstance(load, list)
        print(
            f"          process CPU {float(str(ing['cpu_s'])):.1f} s over {ing_s:.1f} s wall; "
            f"machine load average {load[0]:.1f} before, {load[1]:.1f} after "
            "(2 cores: other work on the machine slows this run)"
        )
        print(str(ing["report"]))

        small = work / "neo4j-city"
        shutil.rmtree(small, ignore_errors=True)
        _child(_GENERATE, str(small), str(args.neo4j_persons), str(args.seed), "csv")
        neo = _child(_NEO4J, str(small))
        plan = neo["plan"]
        assert isinstance(plan, dict)
        scale = args.persons / args.neo4j_persons
        print(
            f"neo4j path (recording driver, {args.neo4j_persons:,} persons; batch size "
            f"{neo['batch_size']} = MEDFRAUD_NEO4J_BATCH_SIZE), one managed write transaction per batch "
            "(a replaced link type's delete and merge of one batch of persons share one):"
        )
        totals: Counter[str] = Counter()
        for statement, entry in plan.items():
            print(
                f"  {entry['batches']:>5} batches, {entry['rows']:>8,} rows, largest {entry['largest']:>6,}: "
                f"{statement}"
            )
            totals["batches"] += entry["batches"]
            totals["rows"] += entry["rows"]
        print(
            f"  total {totals['batches']:,} batches / {totals['rows']:,} rows; at {args.persons:,} persons "
            f"about {int(totals['batches'] * scale):,} batches / {int(totals['rows'] * scale):,} rows"
        )
    finally:
        if args.workdir is None:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
    resource.getrusage(resource.RUSAGE_SELF)
