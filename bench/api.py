"""Benchmark of the investigation API on a big city, on the embedded store or on a live Neo4j.

Targets, embedded (issues 5 and 12), on a 1,000,000-person city: server-side ``subgraph`` (2 hops,
300 nodes) p95 <= 15 ms at a patient and <= 25 ms at an institution/doctor, ``ring(id)`` with its
subgraph p95 <= 35 ms, ``rings(first: 20)`` and ``doubleClaims(first: 20)`` p95 <= 10 ms; over HTTP
with 32 concurrent clients p95 <= 150 ms and zero errors.

Targets on Neo4j (issues 9 and 12), 200,000 persons, ``--store neo4j``: server-side ``subgraph``
and ``ring(id)`` p95 <= 50 ms; 32 concurrent clients over HTTP with 1 and 2 workers
(``medfraud serve --workers N``): p50/p95/p99 and requests/s side by side, zero errors. The local
Neo4j of ``deploy/neo4j-local`` is started and loaded through the port from the embedded city
(the same nodes, relationships, rings and findings), so both stores answer for the same data.

"Server-side" is the whole request inside the app (auth, GraphQL, store, masking, audit) driven
in-process through ASGI, one request at a time, so no network or client time is counted. The HTTP
phase starts the same app under uvicorn in a separate process on loopback and drives it with 32
httpx async clients, for a bounded number of requests and a bounded time.

The city is generated and ingested once and cached in ``bench/out`` (the DuckDB file is reused on
later runs); detection runs when the store has no rings. Run heavy sizes under the shared lock:

    flock /tmp/medfraud-bench.lock python bench/api.py --persons 1000000
    python bench/api.py --persons 20000 --samples 100 --http-requests 500   # quick shake-out

``--profile`` adds a cProfile of the server-side phase (top functions by own time, event-loop
thread only) and ``--breakdown`` the time per request spent in each store call and in the audit
append (those run in worker threads, which cProfile does not see).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import cProfile
import io
import os
import pstats
import random
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pyarrow as pa

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from api.http.app import create_app
from api.security.auth import issue_token
from api.settings import ApiSettings, AuditSettings
from bench.city import OUT, city_db
from graph.duckdb.store import DuckDBStore
from graph.port import GraphStore
from graph.settings import Settings

HTTP_P95_TARGET_MS = 150.0
# server-side p95 targets per query, per store
SERVER_TARGETS_MS = {
    "duckdb": {"subgraph 2h/300 patient": 15.0, "subgraph 2h/300 inst/doctor": 25.0,
               "ring(id)+subgraph": 35.0, "rings(first: 20)": 10.0, "doubleClaims(first: 20)": 10.0},
    "neo4j": {"subgraph 2h/300 patient": 50.0, "subgraph 2h/300 inst/doctor": 50.0,
              "ring(id)+subgraph": 50.0, "rings(first: 20)": 10.0, "doubleClaims(first: 20)": 10.0},
}
SECRET = "bench-api-secret-0123456789abcdef0123456789"
# The audit chain's HMAC key: required in prod and different from the token secret.
AUDIT_KEY = "bench-audit-key-7f3a9c1e5b2d8046-hmac"

NODE_FIELDS = "id label key title props ringIds riskScore cutCount"
SUBGRAPH_FIELDS = f"nodes {{ {NODE_FIELDS} }} edges {{ id type source target date }} truncated"
SUBGRAPH_QUERY = (
    "query S($seeds: [NodeRef!]!) { subgraph(seeds: $seeds, hops: 2, maxNodes: 300) { "
    + SUBGRAPH_FIELDS
    + " } }"
)
RINGS_QUERY = ("query { rings(first: 20) { totalCount pageInfo { hasNextPage endCursor } "
               "edges { cursor node { ringId kind score status memberCount } } } }")
DOUBLE_CLAIMS_QUERY = ("query { doubleClaims(first: 20) { totalCount pageInfo { hasNextPage endCursor } "
                       "edges { cursor node { findingId kind score } } } }")
RING_QUERY = (
    "query R($id: ID!) { ring(id: $id) { ringId kind score status memberCount evidence "
    "members { type id title role } scoreHistory { runId score memberCount } "
    "subgraph(hops: 1, maxNodes: 300) { " + SUBGRAPH_FIELDS + " } } }"
)


# -- the city --------------------------------------------------------------------------------
def ensure_rings(store: DuckDBStore) -> None:
    if store.count_nodes().get("Ring", 0):
        return
    from algorithms.job import run_detection

    t = time.perf_counter()
    summary = run_detection(store)
    print(f"detection: {summary.counts} in {time.perf_counter() - t:.1f} s", flush=True)


@dataclass
class Workload:
    patients: list[str]
    rings: list[str]
    # (label, key) of institutions, pharmacies and doctors: hubs whose 2-hop picture fills 300 nodes
    hubs: list[tuple[str, str]]

    def subgraph_body(self, rnd: random.Random) -> dict[str, Any]:
        seed = {"label": "Patient", "key": rnd.choice(self.patients)}
        return {"query": SUBGRAPH_QUERY, "variables": {"seeds": [seed]}}

    def hub_subgraph_body(self, rnd: random.Random) -> dict[str, Any]:
        label, key = rnd.choice(self.hubs)
        return {"query": SUBGRAPH_QUERY, "variables": {"seeds": [{"label": label, "key": key}]}}

    def ring_body(self, rnd: random.Random) -> dict[str, Any]:
        return {"query": RING_QUERY, "variables": {"id": rnd.choice(self.rings)}}

    def rings_body(self, rnd: random.Random) -> dict[str, Any]:
        return {"query": RINGS_QUERY, "variables": {}}

    def double_claims_body(self, rnd: random.Random) -> dict[str, Any]:
        return {"query": DOUBLE_CLAIMS_QUERY, "variables": {}}


def pick_workload(store: DuckDBStore, seed: int, size: int = 2000) -> Workload:
    # patients with claims: a seed without any would make the subgraph trivially cheap
    patients = store.read_query(
        f"SELECT DISTINCT src FROM r_HAS_CLAIM USING SAMPLE reservoir({size} ROWS) REPEATABLE ({seed})",
        limit=size,
    )
    rings = store.read_query(
        "SELECT ring_id FROM n_Ring WHERE coalesce(status, '') <> 'vanished' ORDER BY ring_id", limit=100_000
    )
    hubs = store.read_query(
        "SELECT 'Institution', institution_id FROM n_Institution UNION ALL "
        "SELECT 'Pharmacy', institution_id FROM n_Pharmacy UNION ALL "
        "SELECT 'Doctor', doctor_id FROM "
        f"(FROM n_Doctor USING SAMPLE reservoir(500 ROWS) REPEATABLE ({seed}))",
        limit=100_000,
    )
    work = Workload(
        [r[0] for r in patients.rows], [r[0] for r in rings.rows], [(r[0], r[1]) for r in hubs.rows]
    )
    if not work.patients or not work.rings:
        raise SystemExit("the city has no claims or no rings: nothing to measure")
    return work


# -- where the time goes -----------------------------------------------------------------------
STORE_CALLS = (
    "get_nodes",
    "neighbours",
    "degrees",
    "search",
    "read_query",
    "nodes_frame",
    "relationships_frame",
    "stream_nodes",
    "stream_relationships",
    "count_nodes",
)


class Breakdown:
    """Wall time per instrumented call, summed across threads."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.totals: dict[str, list[float]] = {}

    def wrap(self, name: str, fn: Callable[..., Any]) -> Callable[..., Any]:
        def timed(*args: Any, **kwargs: Any) -> Any:
            t = time.perf_counter()
            try:
                return fn(*args, **kwargs)
            finally:
                with self._lock:
                    entry = self.totals.setdefault(name, [0.0, 0.0])
                    entry[0] += 1
                    entry[1] += time.perf_counter() - t

        return timed

    def reset(self) -> dict[str, list[float]]:
        with self._lock:
            out, self.totals = self.totals, {}
        return out


def instrument(store: GraphStore, breakdown: Breakdown) -> Callable[[], None]:
    """Time the store's calls and the audit append; returns a function that undoes it."""
    from api.security.audit import AuditLog

    for name in STORE_CALLS:
        setattr(store, name, breakdown.wrap(f"store.{name}", getattr(store, name)))
    original_append = AuditLog.append
    AuditLog.append = breakdown.wrap("audit.append", original_append)  # type: ignore[method-assign]

    def undo() -> None:
        for name in STORE_CALLS:
            delattr(store, name)
        AuditLog.append = original_append  # type: ignore[method-assign]

    return undo


def print_breakdown(name: str, totals: dict[str, list[float]], requests: int, total_ms: float) -> None:
    print(f"  where {name} spends its time (per request, mean of {requests}; total {total_ms:.1f} ms):")
    accounted = 0.0
    for call, (calls, seconds) in sorted(totals.items(), key=lambda kv: -kv[1][1]):
        ms = seconds * 1000 / requests
        accounted += ms
        print(f"    {call:<28} {ms:7.1f} ms  ({calls / requests:.1f} calls)")
    print(f"    {'rest (GraphQL, masking...)':<28} {total_ms - accounted:7.1f} ms")


# -- measurement -----------------------------------------------------------------------------
@dataclass
class Sample:
    ms: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    nodes: list[int] = field(default_factory=list)


def pct(values: list[float], p: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    k = (len(ordered) - 1) * p / 100
    lo, hi = int(k), min(int(k) + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (k - lo)


def check(resp: httpx.Response) -> tuple[str | None, int]:
    """An error description (None when fine) and the number of nodes returned."""
    if resp.status_code != 200:
        return f"HTTP {resp.status_code}: {resp.text[:200]}", 0
    body = resp.json()
    if body.get("errors"):
        return f"GraphQL: {body['errors'][0].get('message')}", 0
    data = body["data"]
    for listing in ("rings", "doubleClaims"):
        if listing in data:
            return None, len(data[listing]["edges"])
    sub = data["subgraph"] if "subgraph" in data else (data["ring"] or {}).get("subgraph")
    if sub is None:
        return "no subgraph in the answer", 0
    return None, len(sub["nodes"])


async def server_side(
    app: Any,
    headers: dict[str, str],
    make_body: Callable[[random.Random], dict[str, Any]],
    n: int,
    warmup: int,
    seed: int,
) -> Sample:
    rnd = random.Random(seed)
    sample = Sample()
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(
        transport=transport, base_url="http://bench.local", headers=headers
    ) as client:
        for i in range(warmup + n):
            body = make_body(rnd)
            t = time.perf_counter()
            resp = await client.post("/graphql", json=body)
            ms = (time.perf_counter() - t) * 1000
            err, nodes = check(resp)
            if i < warmup:
                continue
            sample.ms.append(ms)
            sample.nodes.append(nodes)
            if err:
                sample.errors.append(err)
    return sample


@contextlib.asynccontextmanager
async def running(app: Any) -> AsyncIterator[None]:
    async with app.router.lifespan_context(app):
        yield


async def measure_server_side(
    store: GraphStore,
    settings: Settings,
    api: ApiSettings,
    work: Workload,
    n: int,
    profile: bool,
    breakdown: bool,
) -> dict[str, Sample]:
    token = issue_token(SECRET, sub="bench", role="investigator", agency="bench", ttl_s=3600)
    headers = {"Authorization": f"Bearer {token}"}
    out: dict[str, Sample] = {}
    # Twice: with the response cache off (every answer built from the store: a first view) and as
    # deployed (a repeated view is served from memory while the data is unchanged).
    for config, cache_size in (("response cache off", 0), ("as deployed", api.response_cache)):
        deployed = api.model_copy(update={"response_cache": cache_size})
        app = create_app(settings, store=store, api_settings=deployed,
                         audit_settings=AuditSettings(key=AUDIT_KEY))
        async with running(app):
            # measured as a running server is: once its read index is built and the top rings'
            # pictures are prepared
            serving = app.state.services.store
            t = time.perf_counter()
            await asyncio.to_thread(serving.build_read_index, wait=True)
            print(f"[{config}] in-memory read index: {serving.read_index_state} after "
                  f"{time.perf_counter() - t:.1f} s", flush=True)
            await asyncio.to_thread(serving.warmup.wait)
            stats = serving.stats()
            print(f"[{config}] ring pictures prepared: {stats.ring_pictures} drawing "
                  f"{stats.ring_picture_nodes:,} nodes", flush=True)
            await _measure_app(app, headers, work, n, profile, breakdown, store, out, config)
    return out


async def _measure_app(app: Any, headers: dict[str, str], work: Workload, n: int, profile: bool,
                       breakdown: bool, store: GraphStore, out: dict[str, Sample], config: str) -> None:
    profiler = cProfile.Profile() if profile else None
    for name, make in (
        (f"subgraph 2h/300 patient [{config}]", work.subgraph_body),
        (f"subgraph 2h/300 inst/doctor [{config}]", work.hub_subgraph_body),
        (f"ring(id)+subgraph [{config}]", work.ring_body),
        (f"rings(first: 20) [{config}]", work.rings_body),
        (f"doubleClaims(first: 20) [{config}]", work.double_claims_body),
    ):
        if profiler:
            profiler.enable()
        timing = Breakdown() if breakdown else None
        undo = instrument(store, timing) if timing else None
        warmup = min(20, n)
        out[name] = await server_side(app, headers, make, n, warmup=warmup, seed=7)
        if undo and timing:
            undo()
            totals = timing.reset()
            # the warm-up requests were timed too: scale to the measured ones
            share = n / (n + warmup)
            totals = {k: [c * share, sec * share] for k, (c, sec) in totals.items()}
            print_breakdown(name, totals, n, statistics.fmean(out[name].ms))
        if profiler:
            profiler.disable()
    if profiler:
        text = io.StringIO()
        pstats.Stats(profiler, stream=text).sort_stats("tottime").print_stats(30)
        print(text.getvalue())


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def wait_healthy(base: str, proc: subprocess.Popen[bytes], workers: int = 1,
                       timeout_s: float = 1200) -> None:
    """Until every worker answers with its in-memory read index built (measured warm, as it runs).

    Each probe uses a new connection, so the kernel hands probes to all the workers; a worker is
    ready once one of its answers says so.
    """
    deadline = time.monotonic() + timeout_s
    ready: set[int] = set()
    t0 = time.monotonic()
    while len(ready) < workers:
        if proc.poll() is not None:
            raise SystemExit(f"the server exited with {proc.returncode}")
        with contextlib.suppress(httpx.HTTPError, ValueError):
            async with httpx.AsyncClient(base_url=base) as client:
                health = (await client.get("/healthz")).json()
            if health.get("read_index", "ready") == "ready" and health.get("ring_pictures") == "ready":
                ready.add(int(health.get("pid", 0)))
        if time.monotonic() > deadline:
            raise SystemExit(f"{workers - len(ready)} of {workers} workers did not become ready")
        await asyncio.sleep(0.2)
    print(f"  {workers} worker(s) ready (read index built) after {time.monotonic() - t0:.0f} s", flush=True)


@dataclass
class LoadResult:
    ms: list[float]
    errors: list[str]
    seconds: float


async def http_load(base: str, work: Workload, clients: int, total: int, max_s: float) -> LoadResult:
    token = issue_token(SECRET, sub="bench", role="investigator", agency="bench", ttl_s=3600)
    rnd = random.Random(11)
    # half rings, half subgraphs (around persons and around institutions/doctors alike): what an
    # investigator's screen asks for
    makers = (work.ring_body, work.subgraph_body, work.ring_body, work.hub_subgraph_body)
    bodies = [makers[i % len(makers)](rnd) for i in range(total)]
    queue = iter(bodies)
    ms: list[float] = []
    errors: list[str] = []
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    async with httpx.AsyncClient(
        base_url=base, headers={"Authorization": f"Bearer {token}"}, limits=limits, timeout=30
    ) as client:
        for body in bodies[: clients * 2]:  # warm the connections and the server's caches
            await client.post("/graphql", json=body)
        t0 = time.perf_counter()
        deadline = t0 + max_s

        answers: list[httpx.Response] = []

        async def worker() -> None:
            for body in queue:
                if time.perf_counter() > deadline:
                    return
                t = time.perf_counter()
                try:
                    answers.append(await client.post("/graphql", json=body))
                except httpx.HTTPError as exc:
                    errors.append(f"{type(exc).__name__}: {exc}")
                ms.append((time.perf_counter() - t) * 1000)

        await asyncio.gather(*(worker() for _ in range(clients)))
        seconds = time.perf_counter() - t0
        # answers are checked after the run: parsing them during it would take the server's CPU
        for resp in answers:
            err, _ = check(resp)
            if err:
                errors.append(err)
        return LoadResult(ms, errors, seconds)


def line(name: str, values: list[float], target_ms: float, errors: int, extra: str = "") -> bool:
    p95 = pct(values, 95)
    ok = p95 <= target_ms and errors == 0
    print(
        f"  {name:<28} n={len(values):>5}  p50={pct(values, 50):7.1f}  p95={p95:7.1f}  "
        f"p99={pct(values, 99):7.1f} ms  errors={errors}{extra}  "
        f"target p95<={target_ms:.0f} ms: {'MET' if ok else 'MISSED'}"
    )
    return ok


def copy_into(source: GraphStore, target: GraphStore) -> float:
    """Every label and relationship type of ``source`` written into ``target``, through the port;
    returns the seconds it took (rings and findings included, so both stores hold the same)."""
    from graph.model import NODE_TYPES, REL_TYPES

    t = time.perf_counter()
    target.apply_schema()
    for nt in NODE_TYPES:
        for batch in source.stream_nodes(nt.label, batch_size=200_000):
            target.upsert_nodes(nt.label, pa.Table.from_batches([batch]))
    for rt in REL_TYPES:
        for batch in source.stream_relationships(rt.type, batch_size=200_000):
            target.upsert_relationships(rt.type, pa.Table.from_batches([batch]))
    return time.perf_counter() - t


def start_workers(env: dict[str, str], port: int, workers: int) -> subprocess.Popen[bytes]:
    """``medfraud serve --workers N`` as an operator runs it."""
    root = Path(__file__).resolve().parents[1]
    return subprocess.Popen([sys.executable, "-m", "api.cli", "serve", "--workers", str(workers),
                             "--host", "127.0.0.1", "--port", str(port)],
                            env=env, cwd=root, start_new_session=True)


def stop_server(proc: subprocess.Popen[bytes]) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(timeout=60)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()


def http_phase(name: str, proc: subprocess.Popen[bytes], port: int, workers: int, work: Workload,
               args: argparse.Namespace) -> bool:
    try:
        base = f"http://127.0.0.1:{port}"
        asyncio.run(wait_healthy(base, proc, workers))
        load = asyncio.run(http_load(base, work, args.clients, args.http_requests, args.http_seconds))
    finally:
        stop_server(proc)
    print(f"HTTP, {args.clients} concurrent clients ({name}, loopback):")
    rps = len(load.ms) / load.seconds if load.seconds else 0.0
    ok = line("mixed subgraph/ring", load.ms, HTTP_P95_TARGET_MS, len(load.errors),
              f"  {rps:.1f} req/s over {load.seconds:.1f} s")
    for err in sorted(set(load.errors))[:3]:
        print(f"    error: {err}")
    return ok


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--store", choices=["duckdb", "neo4j"], default="duckdb")
    ap.add_argument("--persons", type=int, default=None, help="default 1,000,000 (duckdb), 200,000 (neo4j)")
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--samples", type=int, default=300, help="server-side requests per query")
    ap.add_argument("--clients", type=int, default=32)
    ap.add_argument("--http-requests", type=int, default=3000, help="requests in the HTTP phase")
    ap.add_argument("--http-seconds", type=float, default=90.0, help="time bound of the HTTP phase")
    ap.add_argument("--workers", default="1,2", help="Neo4j: API worker counts of the HTTP phase")
    ap.add_argument("--heap", default="4g", help="Neo4j's Java heap")
    ap.add_argument("--pagecache-mb", type=int, default=2048)
    ap.add_argument("--profile", action="store_true")
    ap.add_argument("--breakdown", action="store_true", help="time store calls and audit per request")
    ap.add_argument("--skip-http", action="store_true")
    ap.add_argument("--skip-server-side", action="store_true")
    args = ap.parse_args()
    persons = args.persons or (1_000_000 if args.store == "duckdb" else 200_000)

    db = city_db(persons, args.seed)
    duck_settings = Settings(env="prod", store="duckdb", duckdb_path=db, secret=SECRET)
    audit_log = OUT / f"api-bench-audit-{os.getpid()}.log"
    api = ApiSettings(audit_log=audit_log)
    targets = SERVER_TARGETS_MS[args.store]
    base_env = {k: v for k, v in os.environ.items() if not k.startswith("MEDFRAUD_")}
    server_env = {**base_env, "MEDFRAUD_ENV": "prod", "MEDFRAUD_SECRET": SECRET,
                  "MEDFRAUD_AUDIT_KEY": AUDIT_KEY, "MEDFRAUD_API_AUDIT_LOG": str(audit_log)}
    local = None
    duck = DuckDBStore.from_settings(duck_settings)
    try:
        ensure_rings(duck)
        work = pick_workload(duck, args.seed)
        counts = duck.count_nodes()
        if args.store == "neo4j":
            from tests.neo4j_live import LocalNeo4j, wipe

            os.environ["NEO4J_HEAP"], os.environ["NEO4J_PAGECACHE_MB"] = args.heap, str(args.pagecache_mb)
            work_dir = Path(tempfile.mkdtemp(prefix="medfraud-api-bench-"))
            local = LocalNeo4j(work_dir / "neo4j", work_dir / "neo4j.log")
            neo = local.wait_ready()
            wipe(neo)
            server_env.update(neo.env())
            store: GraphStore = neo.open_store()
            print(f"Neo4j (heap {args.heap}, page cache {args.pagecache_mb} MB) loaded through the port "
                  f"in {copy_into(duck, store):.0f} s", flush=True)
            duck.close()
            settings = Settings(env="prod", secret=SECRET, store="neo4j", neo4j_uri=neo.uri,
                                neo4j_user=neo.user, neo4j_password=neo.password,
                                neo4j_database=neo.database)
        else:
            store, settings = duck, duck_settings
            server_env.update({"MEDFRAUD_STORE": "duckdb", "MEDFRAUD_DUCKDB_PATH": str(db)})
        print(f"city: {counts['Patient']:,} persons, {counts['Claim']:,} claims, {len(work.rings):,} live "
              f"rings; store {args.store}; audit fsync={api.audit_fsync}; load {os.getloadavg()[0]:.1f}",
              flush=True)
        try:
            server = {} if args.skip_server_side else asyncio.run(
                measure_server_side(store, settings, api, work, args.samples, args.profile, args.breakdown))
        finally:
            store.close()

        results: list[bool] = []
        print(f"server-side (in-process ASGI, sequential, {args.store}):")
        for name, sample in server.items():
            nodes = (f"  nodes avg={statistics.fmean(sample.nodes):.0f} max={max(sample.nodes)}"
                     if sample.nodes else "")
            if "[as deployed]" in name:
                results.append(line(name, sample.ms, targets[name.split(" [")[0]], len(sample.errors), nodes))
            else:  # every answer built anew: for comparison, the targets are for the server as deployed
                line(name, sample.ms, float("inf"), len(sample.errors), nodes)
            for err in sorted(set(sample.errors))[:3]:
                print(f"    error: {err}")

        if not args.skip_http:
            counts_of_workers = [int(w) for w in args.workers.split(",")] if args.store == "neo4j" else [1]
            for workers in counts_of_workers:
                port = free_port()
                proc = start_workers(server_env, port, workers)
                name = f"uvicorn, {workers} worker(s), {args.store}"
                results.append(http_phase(name, proc, port, workers, work, args))
    finally:
        if local is not None:
            local.stop()
    for leftover in OUT.glob(f"{audit_log.name}*"):  # the log, its head and lock files
        leftover.unlink()
    print("all targets met" if all(results) else "some targets MISSED")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
