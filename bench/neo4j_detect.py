"""Detection on Neo4j against the embedded store, on a Neo4j data directory loaded once and kept.

``bench/both_stores.py`` loads the city into a fresh Neo4j every run (about four minutes at
200,000 persons). Work on the detection side needs the detect figures many times: this bench keeps
the Neo4j data directory (``--data``, by default ``bench/out/neo4j-detect-<persons>-s<seed>``)
and the embedded DuckDB file next to it, loads each only when its ``.loaded`` marker is missing,
then runs ``run_detection`` on the embedded store (igraph) and on Neo4j (each ``--engine``), each
in its own process, and prints per run: wall time, phases, the Python process's CPU seconds and
the Neo4j server's CPU seconds over the run (what the work costs whatever else shares the
machine), the load average, and parity with the embedded run (rings by member Jaccard >= 0.9,
double claims and anomalies exactly).

    python bench/neo4j_detect.py --persons 200000 --seed 1 [--repeat 2]

Delete the data directory after changing the generator or the ingest mapping.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from algorithms.parity import compare_exports, format_parity
from bench.both_stores import _DETECT, _INGEST, _child, _city, _cpu_seconds, _load
from bench.city import OUT


def _load_once(marker: Path, env: dict[str, str], raw: Path, scratch: Path, name: str) -> None:
    if marker.exists():
        return
    folder = scratch / f"in-{name}"
    shutil.copytree(raw, folder)
    r = _child(_INGEST, env, str(folder))
    print(f"loaded {name}: {r['nodes'] + r['relationships']:,} records in {r['seconds']:.1f} s", flush=True)
    marker.write_text("ok")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--persons", type=int, default=200_000)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--data", type=Path, help="kept Neo4j + DuckDB directory (default under bench/out)")
    ap.add_argument("--heap", default="4g", help="Neo4j's Java heap")
    ap.add_argument("--pagecache-mb", type=int, default=2048)
    ap.add_argument("--engines", default="gds,igraph", help="engines to run on Neo4j, comma-separated")
    ap.add_argument("--repeat", type=int, default=1, help="rounds of (embedded, each Neo4j engine)")
    args = ap.parse_args()

    from tests.neo4j_live import LocalNeo4j, wipe

    raw, _ = _city(args.persons, args.seed)
    data = args.data or OUT / f"neo4j-detect-{args.persons}-s{args.seed}"
    data.mkdir(parents=True, exist_ok=True)
    scratch = Path(tempfile.mkdtemp(prefix="medfraud-neo4j-detect-"))
    base_env = {k: v for k, v in os.environ.items() if not k.startswith("MEDFRAUD_")}
    duck_env = {**base_env, "MEDFRAUD_STORE": "duckdb", "MEDFRAUD_DUCKDB_PATH": str(data / "city.duckdb")}
    os.environ["NEO4J_HEAP"], os.environ["NEO4J_PAGECACHE_MB"] = args.heap, str(args.pagecache_mb)
    local = LocalNeo4j(data / "neo4j", scratch / "neo4j.log")
    try:
        server = local.wait_ready()
        neo_env = {**base_env, **server.env()}
        if not (data / "neo4j.loaded").exists():
            wipe(server)
        _load_once(data / "duckdb.loaded", duck_env, raw, scratch, "embedded")
        _load_once(data / "neo4j.loaded", neo_env, raw, scratch, "neo4j")
        print(f"city: {args.persons:,} persons, seed {args.seed}; Neo4j heap {args.heap}, "
              f"page cache {args.pagecache_mb} MB; {_load()}", flush=True)
        runs = [("embedded-igraph", duck_env, "igraph")]
        runs += [(f"neo4j-{e}", neo_env, e) for e in args.engines.split(",") if e]
        for round_ in range(args.repeat):
            seconds: dict[str, float] = {}
            for name, env, engine in runs:
                before_load, server_before = _load(), _cpu_seconds(local.pid if env is neo_env else None)
                d: dict[str, Any] = _child(_DETECT, env, engine, str(scratch / f"{name}.json"))
                server_cpu = _cpu_seconds(local.pid if env is neo_env else None) - server_before
                seconds[name] = d["seconds"]
                print(f"[{round_ + 1}] detect {name:<16} {d['seconds']:6.1f} s  "
                      f"CPU: Python {d['cpu_s']:.1f} s, Neo4j server {server_cpu:.1f} s  "
                      f"peak RSS {d['rss_gb']:.2f} GB  "
                      f"{before_load} before, {_load()} after", flush=True)
                phases = sorted(d["phases"].items(), key=lambda kv: -kv[1])
                print(f"    {', '.join(f'{k} {v:.1f} s' for k, v in phases)}", flush=True)
            for name, _, _ in runs[1:]:
                print(f"[{round_ + 1}] {name} / embedded: {seconds[name] / seconds['embedded-igraph']:.2f}x"
                      f"{'  (target <= 3x)' if name == 'neo4j-gds' else ''}", flush=True)
            exports = {n: json.loads((scratch / f"{n}.json").read_text(encoding="utf-8")) for n, _, _ in runs}
            for name, _, _ in runs[1:]:
                parity = compare_exports(exports["embedded-igraph"], exports[name])
                print(f"parity embedded-igraph vs {name}: {'same' if parity.same else 'DIFFERENT'}")
                print(format_parity(parity, "embedded", name), flush=True)
    finally:
        local.stop()
        shutil.rmtree(scratch, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
