"""Detection on Neo4j against the embedded store, on a Neo4j data directory loaded once and kept.

``bench/both_stores.py`` loads the city into a fresh Neo4j every run. Work on the detection side
needs the detect figures many times: this bench keeps the Neo4j data directory (``--data``, by
default ``bench/out/neo4j-detect-<persons>-s<seed>``) and the embedded DuckDB file next to it,
loads each only when its ``.loaded`` marker is missing (Neo4j through the bulk importer,
``medfraud neo4j-import``, then the constraints and indexes), starts the server, and runs
``run_detection`` on the embedded store (igraph) and on Neo4j (each ``--engine``), each in its own
process, ``--repeat`` rounds. Per run it prints wall time, phases, the Python process's CPU seconds
and the Neo4j server's CPU seconds over the run (what the work costs whatever else shares the
machine), the load average, and parity with the embedded run (rings by member Jaccard >= 0.9,
double claims and anomalies exactly).

Round 1 is the first detection after the server's start: the JVM still compiles Cypher's and GDS's
code then (server CPU 2-3x a later run). The summary gives it apart from the warm rounds (the median
of rounds 2..N), which is what a scheduled re-run on a long-running server meets. ``--cli`` also
times the whole command as a user types it (``medfraud detect --engine E``: interpreter start,
imports, connection, run, summary) for the embedded store and each Neo4j engine, once per round.

    python bench/neo4j_detect.py --persons 200000 --seed 1 --repeat 4 --cli

Delete the data directory after changing the generator or the ingest mapping.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from algorithms.parity import compare_exports, format_parity
from bench.both_stores import (
    _BULK,
    _DETECT,
    _INGEST,
    _child,
    _city,
    _cpu_seconds,
    _load,
    _schema_over_import,
)
from bench.city import OUT

if TYPE_CHECKING:
    from tests.neo4j_live import Neo4jServer


def _load_embedded(marker: Path, env: dict[str, str], raw: Path, scratch: Path) -> None:
    if marker.exists():
        return
    folder = scratch / "in-embedded"
    shutil.copytree(raw, folder)
    r = _child(_INGEST, env, str(folder))
    print(f"loaded embedded: {r['nodes'] + r['relationships']:,} records in {r['seconds']:.1f} s", flush=True)
    marker.write_text("ok")


def _import_neo4j(marker: Path, env: dict[str, str], raw: Path, scratch: Path, target: Path) -> None:
    """A first load through the bulk importer (the server must not be running on ``target``)."""
    if marker.exists():
        return
    shutil.rmtree(target, ignore_errors=True)
    folder = scratch / "in-neo4j"
    shutil.copytree(raw, folder)
    r = _child(_BULK, env, str(folder), str(target))
    print(f"imported into Neo4j: {r['records']:,} records in {r['seconds']:.1f} s", flush=True)


def _apply_schema(marker: Path, server: Neo4jServer) -> None:
    if marker.exists():
        return
    seconds, records = _schema_over_import(server)
    print(f"constraints and indexes: {seconds:.1f} s ({records:,} records)", flush=True)
    marker.write_text("ok")


def _command(env: dict[str, str], engine: str) -> float:
    """Seconds of ``medfraud detect --engine ENGINE`` as a user runs it, start to exit."""
    t = time.perf_counter()
    # the console script installed beside this interpreter: what `medfraud` on the PATH runs
    command = str(Path(sys.executable).parent / "medfraud")
    done = subprocess.run([command, "detect", "--engine", engine],
                          capture_output=True, text=True, env=env, check=False)
    seconds = time.perf_counter() - t
    if done.returncode != 0:
        raise SystemExit(f"medfraud detect --engine {engine} failed:\n{done.stderr[-3000:]}")
    return seconds


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--persons", type=int, default=200_000)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--data", type=Path, help="kept Neo4j + DuckDB directory (default under bench/out)")
    ap.add_argument("--heap", default="4g", help="Neo4j's Java heap")
    ap.add_argument("--pagecache-mb", type=int, default=2048)
    ap.add_argument("--engines", default="gds,igraph", help="engines to run on Neo4j, comma-separated")
    ap.add_argument("--repeat", type=int, default=1, help="rounds of (embedded, each Neo4j engine)")
    ap.add_argument("--cli", action="store_true", help="also time the whole `medfraud detect` command")
    args = ap.parse_args()

    from tests.neo4j_live import LocalNeo4j

    raw, _ = _city(args.persons, args.seed)
    data = args.data or OUT / f"neo4j-detect-{args.persons}-s{args.seed}"
    data.mkdir(parents=True, exist_ok=True)
    scratch = Path(tempfile.mkdtemp(prefix="medfraud-neo4j-detect-"))
    base_env = {k: v for k, v in os.environ.items() if not k.startswith("MEDFRAUD_")}
    duck_env = {**base_env, "MEDFRAUD_STORE": "duckdb", "MEDFRAUD_DUCKDB_PATH": str(data / "city.duckdb")}
    os.environ["NEO4J_HEAP"], os.environ["NEO4J_PAGECACHE_MB"] = args.heap, str(args.pagecache_mb)
    _load_embedded(data / "duckdb.loaded", duck_env, raw, scratch)
    _import_neo4j(data / "neo4j.loaded", base_env, raw, scratch, data / "neo4j")
    local = LocalNeo4j(data / "neo4j", scratch / "neo4j.log")
    try:
        server = local.wait_ready()
        neo_env = {**base_env, **server.env()}
        _apply_schema(data / "neo4j.loaded", server)
        print(f"city: {args.persons:,} persons, seed {args.seed}; Neo4j heap {args.heap}, "
              f"page cache {args.pagecache_mb} MB; {_load()}", flush=True)
        runs = [("embedded-igraph", duck_env, "igraph")]
        runs += [(f"neo4j-{e}", neo_env, e) for e in args.engines.split(",") if e]
        ratios: dict[str, list[float]] = {name: [] for name, _, _ in runs[1:]}
        commands: dict[str, list[float]] = {name: [] for name, _, _ in runs}
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
                ratios[name].append(seconds[name] / seconds["embedded-igraph"])
                print(f"[{round_ + 1}] {name} / embedded: {ratios[name][-1]:.2f}x"
                      f"{'  (target <= 3x)' if name == 'neo4j-gds' else ''}", flush=True)
            exports = {n: json.loads((scratch / f"{n}.json").read_text(encoding="utf-8")) for n, _, _ in runs}
            for name, _, _ in runs[1:]:
                parity = compare_exports(exports["embedded-igraph"], exports[name])
                print(f"parity embedded-igraph vs {name}: {'same' if parity.same else 'DIFFERENT'}")
                print(format_parity(parity, "embedded", name), flush=True)
            if args.cli:
                before_load = _load()
                for name, env, engine in runs:
                    commands[name].append(_command(env, engine))
                base = commands["embedded-igraph"][-1]
                print(f"[{round_ + 1}] whole command `medfraud detect`: " + ", ".join(
                    f"{n} {commands[n][-1]:.1f} s" + ("" if n == "embedded-igraph" else
                                                      f" ({commands[n][-1] / base:.2f}x)")
                    for n, _, _ in runs) + f"; {before_load} before, {_load()} after", flush=True)
        _summary(ratios, commands)
    finally:
        local.stop()
        shutil.rmtree(scratch, ignore_errors=True)
    return 0


def _summary(ratios: dict[str, list[float]], commands: dict[str, list[float]]) -> None:
    """Round 1 (the first detection after the server's start) apart from the warm rounds."""
    def line(values: list[float]) -> str:
        warm = values[1:]
        text = f"first run after the server's start {values[0]:.2f}x"
        if warm:
            text += (f"; warm server (rounds 2..{len(values)}) median {statistics.median(warm):.2f}x, "
                     f"{min(warm):.2f}-{max(warm):.2f}x")
        return text

    print("\nsummary, time on Neo4j / time embedded in the same round:")
    for name, values in ratios.items():
        print(f"  run_detection {name:<14} {line(values)}")
    base = commands.get("embedded-igraph", [])
    for name, values in commands.items():
        if name != "embedded-igraph" and values:
            # each round's commands run after its run_detection children: none meets a cold server
            each = [v / b for v, b in zip(values, base, strict=True)]
            print(f"  whole command {name:<14} median {statistics.median(each):.2f}x, "
                  f"{min(each):.2f}-{max(each):.2f}x over {len(each)} round(s)")

if __name__ == "__main__":
    raise SystemExit(main())
