"""Benchmark of the whole detection job on a big city in the embedded DuckDB store.

Targets (issue 4), on a 1,000,000-person city (~6M claims), on the 2-core machine:
- the whole ``detect`` (read the store, every detector, identity, write the run) <= 60 s;
- peak memory of the detecting process <= 6 GB;
- (issue 13) the quality of the run against the generated city's truth, every ring and finding
  kind and the look-alikes, is printed after the timings;
- the community step against networkx's Louvain (``networkx.community.louvain_communities``) on
  the same co-visit projection: expect >= 20x. Three ratios are printed, each from the median of
  ``--repeats`` runs on both sides: the issue's target is the like-for-like one, the engine's
  whole step (node coding + igraph graph build + Leiden) against networkx's (graph build +
  Louvain); the algorithm calls alone, and the engine's whole step against networkx's call alone
  (the harshest reading), are printed for reference. networkx runs in a child process with a time
  cap; when it hits the cap no ratio is printed.

The city is generated and ingested once with the ingest package (``generate_city`` +
``ingest_dir``) and cached in ``bench/out`` (reused on later runs). The detection phase runs in a
fresh child process so its peak RSS is not inflated by generation. Run big sizes under the lock:

    flock /tmp/medfraud-bench.lock python bench/detect.py --persons 1000000
    python bench/detect.py --persons 20000                      # quick shake-out
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "bench" / "out"
sys.path.insert(0, str(ROOT))

from bench.city import city_db  # noqa: E402

T = TypeVar("T")


def _timed(repeats: int, call: Callable[[], T]) -> tuple[list[float], list[T]]:
    secs: list[float] = []
    results: list[T] = []
    for _ in range(repeats):
        t = time.perf_counter()
        results.append(call())
        secs.append(time.perf_counter() - t)
    return secs, results


def _spread(secs: list[float]) -> str:
    return f"median {statistics.median(secs):.3f} s (min {min(secs):.3f}, max {max(secs):.3f})"


def detect_phase(db: Path, edges_out: Path, repeats: int) -> None:
    """Child process: the whole job, then the community step alone on the same projection."""
    from algorithms.igraph_engine import IgraphEngine, _graph
    from algorithms.job import run_detection
    from algorithms.projections import covisit_projection, load_inputs
    from algorithms.settings import DetectionSettings
    from graph.duckdb.store import DuckDBStore

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
    truth = db.with_suffix(".truth.json")
    if truth.exists() and summary.result is not None:  # the generated city's quality, every kind
        from algorithms.evaluate import Export, Truth, evaluate, format_report
        from algorithms.export import export_dict

        doc = export_dict(summary.result.rings, summary.result.findings)
        ev = evaluate(Truth.model_validate_json(truth.read_text("utf-8")), Export.model_validate(doc))
        print("quality against the planted truth:")
        print(format_report(ev), flush=True)
    inputs = load_inputs(store)
    store.close()
    cv = covisit_projection(inputs.claims, settings)
    edges = cv.edges[["src", "dst", "weight"]]
    edges.to_parquet(edges_out)
    engine = IgraphEngine()
    res, seed = settings.resolution, settings.seed
    step_s, labels = _timed(repeats, lambda: engine.communities(edges, resolution=res, seed=seed))
    build_s, built = _timed(repeats, lambda: _graph(edges))
    graph = built[-1][0]
    weights = edges["weight"].to_numpy()
    leiden_s, _ = _timed(repeats, lambda: engine.partition(graph, weights, resolution=res, seed=seed))
    first = labels[0]
    same = all(first.equals(x) for x in labels[1:])
    print(f"projection                  {len(edges):>12,} edges, {first.size:,} nodes")
    print(f"igraph, {repeats} runs each:")
    print(
        f"  community step (IgraphEngine.communities: node coding + graph build + Leiden) "
        f"{_spread(step_s)}, {first.nunique():,} communities, same partition every run: "
        f"{'yes' if same else 'NO'}"
    )
    print(f"    node coding + graph build (_graph)  {_spread(build_s)}")
    print(f"    Leiden/CPM call alone               {_spread(leiden_s)}")
    figures = {"step": statistics.median(step_s), "leiden": statistics.median(leiden_s)}
    print(f"IGRAPH={json.dumps(figures)}", flush=True)


_NX_CHILD = """
import json, sys, time
import pandas as pd
import networkx as nx
edges = pd.read_parquet(sys.argv[1])
for _ in range(int(sys.argv[2])):
    t = time.perf_counter()
    g = nx.Graph()
    g.add_weighted_edges_from(zip(edges["src"], edges["dst"], edges["weight"]))
    build = time.perf_counter() - t
    t = time.perf_counter()
    parts = nx.community.louvain_communities(g, weight="weight", seed=42)
    call = time.perf_counter() - t
    print("NX=" + json.dumps({"build": build, "call": call, "communities": len(parts)}), flush=True)
"""


def networkx_phase(edges: Path, repeats: int, cap_s: float) -> list[dict[str, float]] | None:
    """Per run: networkx graph-build and Louvain seconds and communities; None past the cap."""
    try:
        out = subprocess.run(
            [sys.executable, "-c", _NX_CHILD, str(edges), str(repeats)],
            capture_output=True,
            text=True,
            timeout=cap_s,
            check=True,
        ).stdout
    except subprocess.TimeoutExpired:
        return None
    return [json.loads(x[3:]) for x in out.splitlines() if x.startswith("NX=")]


def print_ratios(igraph: dict[str, float], runs: list[dict[str, float]]) -> None:
    build = [r["build"] for r in runs]
    call = [r["call"] for r in runs]
    both = statistics.median(b + c for b, c in zip(build, call, strict=True))
    print(f"networkx, {len(runs)} runs:")
    print(f"  graph build (nx.Graph from the edge list)        {_spread(build)}")
    print(
        f"  louvain_communities call alone                   {_spread(call)}, "
        f"{int(runs[0]['communities']):,} communities"
    )
    print(f"  graph build + Louvain                            median {both:.3f} s")
    step, leiden, nx_call = igraph["step"], igraph["leiden"], statistics.median(call)
    print("speed-up of igraph over networkx on the same co-visit projection (medians):")
    ratios = [
        ("step vs step (igraph: coding + build + Leiden; networkx: build + Louvain)", both / step),
        ("algorithm call vs call (Leiden vs Louvain, graph builds excluded)", nx_call / leiden),
        ("igraph whole step vs networkx Louvain call alone (harshest)", nx_call / step),
    ]
    notes = ["   <- the issue 4 target (>= 20x)", "   for reference", "   for reference"]
    for (label, ratio), note in zip(ratios, notes, strict=True):
        print(f"  {label:75}{ratio:6.1f}x{note}")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--persons", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--repeats", type=int, default=5, help="runs of the community step on each side (medians)"
    )
    parser.add_argument(
        "--networkx-cap", type=float, default=600.0, help="seconds before stopping networkx (all runs)"
    )
    parser.add_argument("--phase", choices=["all", "detect"], default="all", help=argparse.SUPPRESS)
    parser.add_argument("--db", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--edges", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.phase == "detect":
        detect_phase(args.db, args.edges, args.repeats)
        return
    db = city_db(args.persons, args.seed)
    # Other people's jobs on the same cores skew every figure: show the load to recognise it.
    load_before = os.getloadavg()[0]
    print(f"city: {args.persons:,} persons, seed {args.seed}, store {db}", flush=True)
    with tempfile.TemporaryDirectory() as tmp:
        edges = Path(tmp) / "edges.parquet"
        child = subprocess.run(
            [
                sys.executable,
                __file__,
                "--phase",
                "detect",
                "--db",
                str(db),
                "--edges",
                str(edges),
                "--repeats",
                str(args.repeats),
            ],
            capture_output=True,
            text=True,
            check=True,
        )
        lines = child.stdout.splitlines()
        print("\n".join(x for x in lines if not x.startswith("IGRAPH=")), flush=True)
        igraph = json.loads(next(x for x in lines if x.startswith("IGRAPH="))[7:])
        runs = networkx_phase(edges, args.repeats, args.networkx_cap)
    if runs:
        print_ratios(igraph, runs)
    else:
        print(
            f"networkx did not finish {args.repeats} runs within the {args.networkx_cap:.0f} s cap: "
            "no ratio (raise --networkx-cap)"
        )
    print(
        f"machine load (1-min average, {os.cpu_count()} cores): {load_before:.1f} at start, "
        f"{os.getloadavg()[0]:.1f} at end"
    )


if __name__ == "__main__":
    main()
