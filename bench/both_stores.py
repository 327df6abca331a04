"""The embedded store and a live Neo4j + GDS side by side on one generated city, in one run.

Starts the local Neo4j of ``deploy/neo4j-local`` (heap ``--heap``), then, on the same city:

1. ingest: ``ingest_dir`` into a fresh DuckDB file and, through Cypher, into an empty Neo4j, each
   in its own process (peak RSS is that process's); and the first load through the bulk importer
   (``medfraud neo4j-import``) into a new data folder, end to end: the command, the server's
   start on the folder and the constraints and indexes built over the data. Graph records written
   per second (nodes + relationships counted in the store afterwards). Target on Neo4j: >= 70,000
   records/s, Python RSS <= 3 GB. ``--neo4j-load`` picks the Neo4j loads (default both); detection
   and the API then run on the last one;
2. detect: ``run_detection`` on DuckDB (igraph), on Neo4j with ``--engine gds`` (twice: the
   first run after the server's start, then on a warm server) and with igraph; the GDS runs' time
   over the embedded one (target <= 3x);
3. parity: rings matched by member Jaccard (>= 0.9), double claims and anomalies compared exactly,
   and each export's quality against the generator's truth;
4. API, server-side: p95 of ``subgraph`` (2 hops, 300 nodes) at a patient and at an institution or
   doctor, and ``ring(id)`` with its picture, through the ASGI app in process, on each store
   (target on Neo4j: p95 <= 50 ms).

    python bench/both_stores.py --persons 200000 --seed 1
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from algorithms.evaluate import evaluate_files
from algorithms.parity import compare_exports, format_parity
from bench.city import OUT

if TYPE_CHECKING:
    from tests.neo4j_live import Neo4jServer

ROOT = Path(__file__).resolve().parents[1]

_INGEST = """
import json, os, resource, sys, time
from pathlib import Path
from graph.settings import load_settings
from graph.factory import open_store
from ingest.loader import ingest_dir
settings = load_settings()
with open_store(settings) as store:
    store.apply_schema()
    started = time.perf_counter()
    report = ingest_dir(store, Path(sys.argv[1]))
    seconds = time.perf_counter() - started
    nodes, rels = store.count_nodes(), store.count_relationships()
print(json.dumps({"seconds": seconds, "claims": report.table("claims").loaded, "exit": report.exit_code,
                  "nodes": sum(nodes.values()), "relationships": sum(rels.values()),
                  "rss_gb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20,
                  "cpu_s": sum(resource.getrusage(resource.RUSAGE_SELF)[:2])}))
"""

_BULK = """
import json, resource, sys, time
from pathlib import Path
from ingest.neo4j_import import neo4j_import
started = time.perf_counter()
report = neo4j_import(Path(sys.argv[1]), Path(sys.argv[2]))
seconds = time.perf_counter() - started
assert report.ingest is not None
print(json.dumps({"seconds": seconds, "phases": report.phases, "records": report.files.records,
                  "claims": report.ingest.table("claims").loaded,
                  "rss_gb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20,
                  "cpu_s": sum(resource.getrusage(resource.RUSAGE_SELF)[:2]),
                  "importer_cpu_s": sum(resource.getrusage(resource.RUSAGE_CHILDREN)[:2])}))
"""

_DETECT = """
import json, resource, sys, time
from pathlib import Path
from graph.settings import load_settings
from graph.factory import open_store
from algorithms.job import run_detection
from algorithms.export import write_export
settings = load_settings()
with open_store(settings) as store:
    started = time.perf_counter()
    summary = run_detection(store, engine=sys.argv[1])
    seconds = time.perf_counter() - started
    write_export(Path(sys.argv[2]), summary.result.rings, summary.result.findings, run_id=summary.run_id)
usage = resource.getrusage(resource.RUSAGE_SELF)
print(json.dumps({"seconds": seconds, "phases": summary.seconds, "cpu_s": usage.ru_utime + usage.ru_stime,
                  "rss_gb": usage.ru_maxrss / 2**20}))
"""


def _child(code: str, env: dict[str, str], *args: str) -> dict[str, Any]:
    done = subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True, cwd=ROOT,
                          env=env, check=False)
    if done.returncode != 0:
        raise SystemExit(f"phase failed:\n{done.stdout[-2000:]}\n{done.stderr[-4000:]}")
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def _cpu_seconds(pid: int | None) -> float:
    """CPU time (user + system) a process has used so far; 0 without a pid."""
    if pid is None:
        return 0.0
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _load() -> str:
    return f"load {os.getloadavg()[0]:.1f}"


def _copy(raw: Path, folder: Path) -> Path:
    shutil.copytree(raw, folder)
    return folder


def _print_ingest(name: str, r: dict[str, Any], server_cpu: float | None, load_before: str) -> None:
    records = r["nodes"] + r["relationships"]
    print(f"ingest {name:<9} {r['seconds']:8.1f} s  {records:>11,} records  "
          f"{records / r['seconds']:>9,.0f} records/s  {r['claims'] / r['seconds']:>9,.0f} claims/s  "
          f"peak RSS {r['rss_gb']:.2f} GB", flush=True)
    if server_cpu is not None:
        # CPU seconds say what the work costs whatever else shares the machine
        cpu = r["cpu_s"] + server_cpu
        print(f"       {'':<9} CPU: Python {r['cpu_s']:.1f} s, Neo4j server {server_cpu:.1f} s "
              f"({records / cpu:,.0f} records per CPU second); {load_before} before, {_load()} after",
              flush=True)


def _schema_over_import(server: Neo4jServer) -> tuple[float, int]:
    """Build the constraints and indexes over a bulk-imported database (the importer cannot):
    seconds taken, and the graph records the store then holds."""
    from graph.neo4j.store import Neo4jStore
    from graph.settings import load_settings

    t = time.perf_counter()
    with Neo4jStore.from_settings(load_settings(store="neo4j", neo4j_uri=server.uri, neo4j_user=server.user,
                                                neo4j_password=server.password)) as store:
        store.apply_schema()
        seconds = time.perf_counter() - t
        records = sum(store.count_nodes().values()) + sum(store.count_relationships().values())
    return seconds, records


def _bulk_import(raw: Path, work: Path, base_env: dict[str, str]) -> tuple[Any, Any]:
    """The first load through the bulk importer, end to end: ``medfraud neo4j-import``, the server's
    start on the folder, and the constraints and indexes built over the imported data."""
    from tests.neo4j_live import LocalNeo4j

    data, load_before = work / "neo4j-import", _load()
    r = _child(_BULK, base_env, str(_copy(raw, work / "in-import")), str(data))
    t = time.perf_counter()
    local = LocalNeo4j(data, work / "neo4j-import.log")
    server = local.wait_ready()
    started = time.perf_counter() - t
    schema, records = _schema_over_import(server)
    total = r["seconds"] + started + schema
    if records != r["records"]:
        raise SystemExit(f"the importer wrote {r['records']:,} records, the store holds {records:,}")
    print(f"ingest {'neo4j bulk':<9} {total:8.1f} s  {records:>11,} records  "
          f"{records / total:>9,.0f} records/s  "
          f"{r['claims'] / total:>9,.0f} claims/s  peak RSS {r['rss_gb']:.2f} GB (Python)", flush=True)
    steps = {**r["phases"], "server start": started, "constraints and indexes": schema}
    print(f"       {'':<9} " + ", ".join(f"{k} {v:.1f} s" for k, v in steps.items()), flush=True)
    print(f"       {'':<9} CPU: Python {r['cpu_s']:.1f} s, importer {r['importer_cpu_s']:.1f} s; "
          f"{load_before} before, {_load()} after", flush=True)
    return local, server


def _city(persons: int, seed: int) -> tuple[Path, Path]:
    from ingest.generator import generate_city

    raw = OUT / f"neo4j-city-{persons}-s{seed}"
    done = raw.with_suffix(".complete")
    if not done.exists():
        shutil.rmtree(raw, ignore_errors=True)
        t = time.perf_counter()
        generate_city(raw, persons=persons, seed=seed, fmt="parquet")
        print(f"generated {persons:,} persons in {time.perf_counter() - t:.1f} s", flush=True)
        done.write_text("ok")
    return raw, raw.parent / f"{raw.name}.truth.json"


def _api_p95(env: dict[str, str], embedded_db: Path, samples: int) -> dict[str, float]:
    """Server-side p95 per request kind (ms) on the store ``env`` configures, in this process."""
    from api.http.app import create_app
    from api.settings import ApiSettings, AuditSettings
    from bench.api import AUDIT_KEY, SECRET, Workload, pct, pick_workload, running, server_side
    from graph.duckdb.store import DuckDBStore
    from graph.factory import open_store
    from graph.settings import Settings, load_settings

    picker = DuckDBStore(embedded_db, read_only=True)
    try:
        work = pick_workload(picker, seed=7)
    finally:
        picker.close()
    old = {k: os.environ.get(k) for k in env}
    os.environ.update(env)
    try:
        settings: Settings = load_settings(env="prod", secret=SECRET)
    finally:
        for k, v in old.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
    from api.security.auth import issue_token

    token = issue_token(SECRET, sub="bench", role="investigator", agency="bench", ttl_s=3600)
    headers = {"Authorization": f"Bearer {token}"}
    out: dict[str, float] = {}
    with tempfile.TemporaryDirectory() as tmp, open_store(settings) as store:
        rings = store.nodes_frame("Ring")
        live = rings[rings["status"].fillna("") != "vanished"]["ring_id"].astype(str).tolist()
        own = Workload(work.patients, sorted(live), work.hubs)
        app = create_app(settings, store=store,
                         api_settings=ApiSettings(audit_log=Path(tmp) / "audit.log", response_cache=0),
                         audit_settings=AuditSettings(key=AUDIT_KEY))

        async def measure() -> None:
            async with running(app):
                for name, make in (("subgraph at a patient", own.subgraph_body),
                                   ("subgraph at an institution/doctor", own.hub_subgraph_body),
                                   ("ring(id) with its picture", own.ring_body)):
                    sample = await server_side(app, headers, make, samples, warmup=20, seed=7)
                    if sample.errors:
                        raise SystemExit(f"{name}: {sample.errors[0]}")
                    out[name] = pct(sample.ms, 95)

        asyncio.run(measure())
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--persons", type=int, default=200_000)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--heap", default="4g", help="Neo4j's Java heap")
    ap.add_argument("--pagecache-mb", type=int, default=2048)
    ap.add_argument("--api-samples", type=int, default=200)
    ap.add_argument("--skip-api", action="store_true")
    ap.add_argument("--neo4j-load", choices=["cypher", "import", "both"], default="both",
                    help="how the city reaches Neo4j: ingest through Cypher, the bulk importer, or both")
    args = ap.parse_args()

    from tests.neo4j_live import LocalNeo4j, wipe

    raw, truth = _city(args.persons, args.seed)
    work = Path(tempfile.mkdtemp(prefix="medfraud-neo4j-bench-"))
    base_env = {k: v for k, v in os.environ.items() if not k.startswith("MEDFRAUD_")}
    duck_db = work / "city.duckdb"
    duck_env = {**base_env, "MEDFRAUD_STORE": "duckdb", "MEDFRAUD_DUCKDB_PATH": str(duck_db)}
    os.environ["NEO4J_HEAP"], os.environ["NEO4J_PAGECACHE_MB"] = args.heap, str(args.pagecache_mb)
    local: LocalNeo4j | None = None
    try:
        print(f"city: {args.persons:,} persons, seed {args.seed}; Neo4j heap {args.heap}, "
              f"page cache {args.pagecache_mb} MB; load {os.getloadavg()[0]:.1f}", flush=True)
        ingest = {"embedded": _child(_INGEST, duck_env, str(_copy(raw, work / "in-embedded")))}
        _print_ingest("embedded", ingest["embedded"], None, _load())
        if args.neo4j_load in ("cypher", "both"):
            local = LocalNeo4j(work / "neo4j-cypher", work / "neo4j-cypher.log")
            server = local.wait_ready()
            wipe(server)
            load_before, server_before = _load(), _cpu_seconds(local.pid)
            folder = _copy(raw, work / "in-neo4j")
            ingest["neo4j"] = _child(_INGEST, {**base_env, **server.env()}, str(folder))
            _print_ingest("neo4j", ingest["neo4j"], _cpu_seconds(local.pid) - server_before, load_before)
            ratio = ingest["neo4j"]["seconds"] / ingest["embedded"]["seconds"]
            print(f"ingest Neo4j / embedded: {ratio:.2f}x time", flush=True)
        if args.neo4j_load in ("import", "both"):
            if local is not None:
                local.stop()
                shutil.rmtree(work / "neo4j-cypher", ignore_errors=True)
            local, server = _bulk_import(raw, work, base_env)
        assert local is not None
        neo_env = {**base_env, **server.env()}

        detect = {}
        # gds twice: the first run after the server's start pays for compiling its Cypher and GDS
        # code (server CPU ~3x a later run); a scheduled re-run meets a warm server
        for name, env, engine in (("embedded-igraph", duck_env, "igraph"), ("neo4j-gds", neo_env, "gds"),
                                  ("neo4j-gds-warm", neo_env, "gds"), ("neo4j-igraph", neo_env, "igraph")):
            detect[name] = _child(_DETECT, env, engine, str(work / f"{name}.json"))
            d = detect[name]
            print(f"detect {name:<16} {d['seconds']:7.1f} s  peak RSS {d['rss_gb']:.2f} GB  {_load()}",
                  flush=True)
            phases = sorted(d["phases"].items(), key=lambda kv: -kv[1])
            print(f"       {'':<16} " + ", ".join(f"{k} {v:.1f} s" for k, v in phases), flush=True)
        base = detect["embedded-igraph"]["seconds"]
        print(f"detect gds on Neo4j / embedded: first run after the start "
              f"{detect['neo4j-gds']['seconds'] / base:.2f}x, second run "
              f"{detect['neo4j-gds-warm']['seconds'] / base:.2f}x (target <= 3x; more warm rounds: "
              "bench/neo4j_detect.py --repeat N)")

        exports = {n: json.loads((work / f"{n}.json").read_text(encoding="utf-8")) for n in detect}
        for other in ("neo4j-gds", "neo4j-igraph"):
            parity = compare_exports(exports["embedded-igraph"], exports[other])
            print(f"\nparity embedded-igraph vs {other}: {'same' if parity.same else 'DIFFERENT'}")
            print(format_parity(parity, "embedded", other))
        if truth.exists():
            print("\nquality (recall / precision) per export:")
            for n in detect:
                ev = evaluate_files(truth, work / f"{n}.json").as_dict()
                rings = ", ".join(f"{k} {v['recall']:.2f}/{v['precision']:.2f}"
                                  for k, v in ev.get("rings", {}).items())
                print(f"  {n:<16} {rings}")

        if not args.skip_api:
            print("\nAPI server-side p95 (ms), response cache off:")
            p95 = {"embedded": _api_p95(duck_env, duck_db, args.api_samples),
                   "neo4j": _api_p95(neo_env, duck_db, args.api_samples)}
            for name in p95["embedded"]:
                print(f"  {name:<36} embedded {p95['embedded'][name]:7.1f}   neo4j {p95['neo4j'][name]:7.1f}"
                      f"   (target on Neo4j 50)")
    finally:
        if local is not None:
            local.stop()
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
