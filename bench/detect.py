"""Benchmark of the whole detection job on a big city in the embedded DuckDB store.

Targets (issue 4), on a 1,000,000-person city (~6M claims), on the 2-core machine:
- the whole ``detect`` (read the store, every detector, identity, write the run) <= 60 s;
- peak memory of the detecting process <= 6 GB;
- the community step against networkx's Louvain (``networkx.community.louvain_communities``) on
  the same co-visit projection: the ratio is printed (expect >= 20x). networkx runs in a child
  process with a time cap; when it hits the cap the ratio printed is a lower bound, said so.

The city is generated and ingested once with the ingest package (``generate_city`` +
``ingest_dir``) and cached in ``bench/out`` (reused on later runs). The detection phase runs in a
fresh child process so its peak RSS is not inflated by generation. Run big sizes under the lock:

    flock /tmp/medfraud-bench.lock python bench/detect.py --persons 1000000
    python bench/detect.py --persons 20000                      # quick shake-out
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "bench" / "out"
sys.path.insert(0, str(ROOT))

from bench.city import city_db  # noqa: E402


def detect_phase(db: Path, edges_out: Path) -> None:
    """Child process: the whole job, then the community step alone on the same projection."""
    from algorithms.igraph_engine import IgraphEngine, _graph
    from algorithms.job import run_detection
    from algorithms.projections import covisit_projection, load_inputs
    from algorithms.settings import DetectionSettings
    from graph.duckdb_store import DuckDBStore

    settings = DetectionSettings()
    store = DuckDBStore(db)
    t = time.perf_counter()
    summary = run_detection(store, settings)
    total = time.perf_counter() - t
    peak_gb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024**2
    claims = store.count_nodes()["Claim"]
    print(f"claims                      {claims:>12,}")
    print(f"detect (whole job)          {total:>10.1f} s   target <= 60 s")
    for step, secs in summary.seconds.items():
        print(f"  {step:26}{secs:>10.1f} s")
    print(f"peak RSS                    {peak_gb:>10.2f} GB  target <= 6 GB")
    print(f"counts                      {json.dumps(summary.counts)}")
    inputs = load_inputs(store)
    store.close()
    cv = covisit_projection(inputs.claims, settings)
    edges = cv.edges[["src", "dst", "weight"]]
    engine = IgraphEngine()
    t = time.perf_counter()
    labels = engine.communities(edges, resolution=settings.resolution, seed=settings.seed)
    step_s = time.perf_counter() - t
    graph, _ = _graph(edges)
    t = time.perf_counter()
    engine.partition(graph, edges["weight"].to_numpy(), resolution=settings.resolution, seed=settings.seed)
    leiden_s = time.perf_counter() - t
    print(f"projection                  {len(edges):>12,} edges, {labels.size:,} nodes")
    print(
        f"community step (IgraphEngine.communities, graph build included) {step_s:.2f} s, "
        f"{labels.nunique():,} communities"
    )
    print(f"  Leiden/CPM call alone     {leiden_s:>10.2f} s")
    print(f"STEP_S={step_s}", flush=True)
    edges.to_parquet(edges_out)
    print(f"LEIDEN_S={leiden_s}", flush=True)


_NX_CHILD = """
import sys, time
import pandas as pd
import networkx as nx
edges = pd.read_parquet(sys.argv[1])
t = time.perf_counter()
g = nx.Graph()
g.add_weighted_edges_from(zip(edges["src"], edges["dst"], edges["weight"]))
print(f"NX_BUILD_S={time.perf_counter() - t}", flush=True)
t = time.perf_counter()
parts = nx.community.louvain_communities(g, weight="weight", seed=42)
print(f"NX_S={time.perf_counter() - t} {len(parts)}", flush=True)
"""


def networkx_phase(edges: Path, cap_s: float) -> tuple[float, bool, int, float]:
    """Louvain seconds (or the cap), whether it finished, communities found, graph-build seconds."""
    t = time.perf_counter()
    try:
        out = subprocess.run(
            [sys.executable, "-c", _NX_CHILD, str(edges)],
            capture_output=True,
            text=True,
            timeout=cap_s,
            check=True,
        ).stdout
    except subprocess.TimeoutExpired:
        return time.perf_counter() - t, False, 0, 0.0
    line = next(x for x in out.splitlines() if x.startswith("NX_S="))
    build = float(
        next(x for x in out.splitlines() if x.startswith("NX_BUILD_S=")).removeprefix("NX_BUILD_S=")
    )
    secs, count = line.removeprefix("NX_S=").split()
    return float(secs), True, int(count), build


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--persons", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--networkx-cap", type=float, default=300.0, help="seconds before stopping networkx")
    parser.add_argument("--phase", choices=["all", "detect"], default="all", help=argparse.SUPPRESS)
    parser.add_argument("--db", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--edges", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.phase == "detect":
        detect_phase(args.db, args.edges)
        return
    db = city_db(args.persons, args.seed)
    print(f"city: {args.persons:,} persons, seed {args.seed}, store {db}", flush=True)
    with tempfile.TemporaryDirectory() as tmp:
        edges = Path(tmp) / "edges.parquet"
        child = subprocess.run(
            [sys.executable, __file__, "--phase", "detect", "--db", str(db), "--edges", str(edges)],
            capture_output=True,
            text=True,
            check=True,
        )
        lines = child.stdout.splitlines()
        print("\n".join(x for x in lines if not x.startswith(("LEIDEN_S=", "STEP_S="))), flush=True)
        leiden_s = float(next(x for x in lines if x.startswith("LEIDEN_S="))[9:])
        step_s = float(next(x for x in lines if x.startswith("STEP_S="))[7:])
        nx_s, finished, nx_count, nx_build = networkx_phase(edges, args.networkx_cap)
    if finished:
        print(
            f"networkx louvain_communities call {nx_s:>7.2f} s, {nx_count:,} communities "
            "(graph build excluded)"
        )
        bound = ""
    else:
        print(f"networkx louvain_communities did not finish within the {args.networkx_cap:.0f} s cap")
        bound = ">= "
    print(f"speed-up, algorithm call vs call: {bound}{nx_s / leiden_s:,.1f}x (target >= 20x)")
    print(
        f"speed-up, igraph engine step (graph build included) vs networkx call alone: "
        f"{bound}{nx_s / step_s:,.1f}x"
    )
    if finished:
        print(
            f"networkx graph build {nx_build:.2f} s; step vs step (build + communities on both sides): "
            f"{(nx_s + nx_build) / step_s:,.1f}x"
        )


if __name__ == "__main__":
    main()
