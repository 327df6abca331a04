"""Benchmark of the detection job on Spark (``local[2]``) beside the embedded ``detect``, by city size.

Targets (issue 15), on the 2-core machine:
- 1,000,000 persons end to end on Spark <= 10x the embedded ``detect`` of the same city;
- the growth exponent of Spark's time with the number of claims over the sizes run <= 1.2
  (least-squares slope of log time on log claims).

Per size: the city is generated and ingested once and cached (``bench/city.py``, shared with
bench/detect.py). Both sides run in fresh child processes, one after the other, on the same cached
store: *embedded* is ``run_detection`` (read the store, every detector, identity, write) on a copy;
*spark* is the Spark job from the same validated tables (read the store, Spark session start, the
inputs to Spark, every detector through the Spark SQL connection and community engine, findings
written). The Spark job's validation step (``medfraud ingest``'s code, the same on both sides) is
not in either figure. The two exports are compared (rings by member Jaccard >= 0.95, findings
exactly). Run it alone:

    flock /tmp/medfraud-bench.lock python bench/spark.py --persons 250000 500000 1000000
"""

from __future__ import annotations

import argparse
import json
import math
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.city import city_db  # noqa: E402


def embedded_phase(db: Path, out: Path) -> None:
    from algorithms.export import export_dict
    from algorithms.job import run_detection
    from graph.duckdb.store import DuckDBStore

    with tempfile.TemporaryDirectory() as tmp:
        copy = Path(tmp) / "city.duckdb"
        shutil.copyfile(db, copy)
        store = DuckDBStore(copy)
        try:
            t = time.perf_counter()
            summary = run_detection(store)
            seconds = time.perf_counter() - t
        finally:
            store.close()
    assert summary.result is not None
    out.write_text(json.dumps({
        "seconds": seconds, "parts": summary.result.seconds,
        "export": export_dict(summary.result.rings, summary.result.findings),
    }))


def spark_phase(db: Path, out: Path, memory: str) -> None:
    from algorithms.export import export_dict
    from algorithms.projections import load_inputs
    from algorithms.settings import DetectionSettings
    from algorithms.spark.job import detect_on_spark, on_spark, write_findings
    from algorithms.spark.session import spark_session
    from graph.duckdb.store import DuckDBStore

    t = time.perf_counter()
    store = DuckDBStore(db, read_only=True)
    try:
        inputs = load_inputs(store)
    finally:
        store.close()
    parts = {"read_store": time.perf_counter() - t}
    t1 = time.perf_counter()
    spark = spark_session("local[2]", driver_memory=memory)
    parts["session"] = time.perf_counter() - t1
    with tempfile.TemporaryDirectory() as tmp:
        result = detect_on_spark(on_spark(inputs, spark, Path(tmp)), DetectionSettings(), spark, Path(tmp))
        write_findings(Path(tmp) / "out", result, "auto")
    seconds = time.perf_counter() - t
    out.write_text(json.dumps({
        "seconds": seconds, "parts": {**parts, **result.seconds}, "jvm_peak_gb": _jvm_peak_gb(spark),
        "stats": {k: v for k, v in result.stats.items() if isinstance(v, int | float)},
        "export": export_dict(result.rings, result.findings),
    }))
    spark.stop()


def _jvm_peak_gb(spark: Any) -> float | None:
    """The local JVM's peak resident memory (VmHWM), read before the session stops."""
    proc = getattr(spark.sparkContext._gateway, "proc", None)
    try:
        status = Path(f"/proc/{proc.pid}/status").read_text() if proc is not None else ""
    except OSError:
        return None
    for line in status.splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1e6  # kB -> GB
    return None


def _child(args: list[str]) -> tuple[dict[str, Any], float]:
    """Run a phase in a fresh process; its result and its own peak RSS in GB (wait4, this child only)."""
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "result.json"
        proc = subprocess.Popen([sys.executable, __file__, *args, "--result", str(out)],
                                env={**os.environ, "PYTHONPATH": str(ROOT)})
        _, status, usage = os.wait4(proc.pid, 0)
        proc.returncode = os.waitstatus_to_exitcode(status)
        if proc.returncode != 0:
            raise SystemExit(f"phase {args[1]} failed with exit code {proc.returncode}")
        return json.loads(out.read_text()), usage.ru_maxrss / 1e6


def _claims(db: Path) -> int:
    import duckdb

    con = duckdb.connect(str(db), read_only=True)
    try:
        row = con.execute("SELECT count(*) FROM n_Claim").fetchone()
    finally:
        con.close()
    return int(row[0]) if row else 0


def _exponent(points: list[tuple[int, float]]) -> float | None:
    if len(points) < 2:
        return None
    xs = [math.log(c) for c, _ in points]
    ys = [math.log(s) for _, s in points]
    mx, my = sum(xs) / len(xs), sum(ys) / len(ys)
    return sum((x - mx) * (y - my) for x, y in zip(xs, ys, strict=True)) / sum((x - mx) ** 2 for x in xs)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--persons", type=int, nargs="+", default=[250_000, 500_000, 1_000_000])
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--driver-memory", default="8g")
    parser.add_argument(
        "--phase", choices=["all", "embedded", "spark"], default="all", help=argparse.SUPPRESS
    )
    parser.add_argument("--db", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--result", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.phase == "embedded":
        embedded_phase(args.db, args.result)
        return
    if args.phase == "spark":
        spark_phase(args.db, args.result, args.driver_memory)
        return

    from algorithms.parity import compare_exports, format_parity

    points: list[tuple[int, float]] = []
    print(f"{'persons':>10} {'claims':>11} {'embedded s':>11} {'spark s':>9} {'ratio':>6} "
          f"{'emb RSS GB':>10} {'spark RSS GB':>12}", flush=True)
    for persons in args.persons:
        db = city_db(persons, args.seed)
        claims = _claims(db)
        emb, emb_rss = _child(["--phase", "embedded", "--db", str(db)])
        spk, spk_rss = _child(["--phase", "spark", "--db", str(db), "--driver-memory", args.driver_memory])
        points.append((claims, spk["seconds"]))
        print(f"{persons:>10,} {claims:>11,} {emb['seconds']:>11.1f} {spk['seconds']:>9.1f} "
              f"{spk['seconds'] / emb['seconds']:>5.1f}x {emb_rss:>10.2f} {spk_rss:>12.2f}", flush=True)
        print("  spark parts: " + ", ".join(f"{k} {v:.1f}" for k, v in spk["parts"].items()), flush=True)
        print("  spark stats: " + json.dumps(spk.get("stats", {})), flush=True)
        jvm = spk.get("jvm_peak_gb")
        if jvm:
            print(f"  Spark JVM peak RSS {jvm:.2f} GB = {jvm * 1e9 / claims:.0f} bytes per claim", flush=True)
        per_million = spk["seconds"] / claims * 1e6
        print(f"  cost on Spark: {per_million:.1f} s per million claims", flush=True)
        for ring in spk["export"]["rings"]:
            ring["ring_id"] = f"spark-{len(ring['members'])}-{ring['score']}"
        parity = compare_exports(emb["export"], spk["export"], min_jaccard=0.95)
        print("  " + format_parity(parity, "embedded", "spark").replace("\n", "\n  "), flush=True)
    slope = _exponent(points)
    if slope is not None:
        print(f"growth exponent of Spark time with claims, {len(points)} sizes: {slope:.2f} (target <= 1.2)")
    print("RSS: each phase's own process (for Spark the Python driver; the JVM in local mode is a")
    print("child process whose heap is capped by --driver-memory)")


if __name__ == "__main__":
    main()
