"""The detection job: run every detector, keep ring ids stable, write one run atomically.

Entry point for the CLI, the scheduler and the API: :func:`run_detection`. Two runs never
overlap: :class:`DetectionLock` holds an in-process lock and an OS file lock next to the store
(``<duckdb file>.detect.lock``), so a second run in this process or in another one fails fast
with :class:`graph.errors.Conflict` instead of writing half of a run over another.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import tempfile
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType
from typing import IO, Any

import pandas as pd
from pydantic import BaseModel, Field

from algorithms.collusion import detect_collusion
from algorithms.double_claims import detect_double_claims
from algorithms.engine import CommunityEngine
from algorithms.evidence import evidence_list, from_stored, stored
from algorithms.far_apart import detect_far_apart
from algorithms.identity import Changes, PreviousRing, assign_ids
from algorithms.igraph_engine import IgraphEngine
from algorithms.impossible_care import detect_impossible_care
from algorithms.pharmacy_cash_out import detect_pharmacy_cash_out
from algorithms.projections import DetectionInputs, load_inputs
from algorithms.results import MEMBER_ROLES, Finding, Ring
from algorithms.settings import DetectionSettings
from algorithms.stay_patterns import detect_stay_patterns
from graph.derived import DerivedData
from graph.errors import ConfigError, Conflict
from graph.listing import Listing, every_node
from graph.port import GraphStore
from graph.record_types import RingRecord
from graph.records import record_of

_THREAD_LOCKS: dict[str, threading.Lock] = {}
_THREAD_LOCKS_GUARD = threading.Lock()


def lock_path_for(store: GraphStore) -> Path:
    """The lock file next to the DuckDB file, or one per store location in the temp dir."""
    location = store.location
    if store.kind == "duckdb" and location not in ("", ":memory:"):
        return Path(f"{location}.detect.lock")
    digest = hashlib.sha256(location.encode()).hexdigest()[:12]
    return Path(tempfile.gettempdir()) / f"medfraud-detect-{store.kind}-{digest}-{os.getuid()}.lock"


class DetectionLock:
    """Context manager: refuse (``Conflict``) when a detection run holds the lock."""

    def __init__(self, path: Path) -> None:
        self.path = path
        with _THREAD_LOCKS_GUARD:
            self._thread_lock = _THREAD_LOCKS.setdefault(str(path), threading.Lock())
        self._fh: IO[str] | None = None

    @classmethod
    def for_store(cls, store: GraphStore) -> DetectionLock:
        return cls(lock_path_for(store))

    def __enter__(self) -> DetectionLock:
        if not self._thread_lock.acquire(blocking=False):
            raise Conflict("a detection run is already in progress in this process; try again when it ends")
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fh = open(self.path, "a+", encoding="utf-8")
            try:
                fcntl.flock(fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                fh.close()
                raise Conflict(
                    f"a detection run is already in progress in another process (lock {self.path}); "
                    "try again when it ends"
                ) from None
            fh.seek(0)
            fh.truncate()
            fh.write(f"{os.getpid()}\n")
            fh.flush()
            self._fh = fh
        except BaseException:
            self._thread_lock.release()
            raise
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self._fh is not None:
            fcntl.flock(self._fh.fileno(), fcntl.LOCK_UN)
            self._fh.close()
            self._fh = None
        self._thread_lock.release()


class DetectionResult(BaseModel):
    """Reported rings (score >= threshold, ids assigned by the job) and findings."""

    rings: list[Ring]
    findings: list[Finding]
    stats: dict[str, Any] = Field(default_factory=dict)
    seconds: dict[str, float] = Field(default_factory=dict)

    @property
    def double_claims(self) -> list[Finding]:
        return [f for f in self.findings if f.category == "double_claim"]

    @property
    def anomalies(self) -> list[Finding]:
        return [f for f in self.findings if f.category == "anomaly"]


class RunSummary(BaseModel):
    run_id: str
    started_at: datetime
    engine: str
    counts: dict[str, int]
    changes: Changes
    duration_s: float
    seconds: dict[str, float] = Field(default_factory=dict)
    result: DetectionResult | None = Field(default=None, exclude=True)


def make_engine(name: str, store: GraphStore | None = None) -> CommunityEngine:
    """The engine named by ``--engine``: igraph in-process, or GDS on the Neo4j store."""
    if name == "igraph":
        return IgraphEngine()
    if name == "gds":
        from algorithms import gds_engine

        if store is not None:
            return gds_engine.GdsEngine.from_store(store)
        return gds_engine.GdsEngine()
    raise ConfigError(f"unknown detection engine {name!r}; use igraph or gds")


def attach_brokers(collusion: list[Ring], shared: list[Ring]) -> list[Ring]:
    """Fold a broker network into the collusion ring it recruited for; return the other broker rings.

    Recruits of a colluding clinic often share the broker's phone or account. When most persons
    behind a shared-identifier ring belong to one collusion ring, it is the same organisation:
    its identifiers become members of the collusion ring (with their evidence) instead of a
    second ring that would double-count the investigators' work.
    """
    owner: dict[str, int] = {}
    for i, ring in enumerate(collusion):
        for p in ring.patient_ids:
            owner.setdefault(p, i)
    kept: list[Ring] = []
    for ring in shared:
        pats = ring.patient_ids
        counts: dict[int, int] = {}
        for p in pats:
            if p in owner:
                counts[owner[p]] = counts.get(owner[p], 0) + 1
        best = max(counts.items(), key=lambda kv: kv[1], default=(-1, 0))
        if best[0] < 0 or best[1] < 0.5 * len(pats):
            kept.append(ring)
            continue
        target = collusion[best[0]]
        have = target.member_refs
        target.members.extend(m for m in ring.members if m.type != "Patient" and m.ref not in have)
        target.evidence.extend(from_stored(e) for e in ring.features.get("identifier_lines", []))
    return kept


def detect_all(
    inputs: DetectionInputs, settings: DetectionSettings, engine: CommunityEngine
) -> DetectionResult:
    """Run every detector on the inputs; keep what scores at or above the reporting threshold."""
    from algorithms.shared_identifiers import detect_shared_identifiers

    stats: dict[str, Any] = {}
    seconds: dict[str, float] = {}

    def collusion_rings() -> list[Ring]:
        t = time.perf_counter()
        found = detect_collusion(inputs, settings, engine, stats=stats)
        seconds["collusion"] = time.perf_counter() - t
        return found

    def the_others() -> tuple[list[Ring], list[Finding], list[Ring]]:
        t = time.perf_counter()
        shared = detect_shared_identifiers(
            inputs.persons, settings, engine, claims=inputs.claims, stats=stats
        )
        seconds["shared_identifiers"] = time.perf_counter() - t
        t = time.perf_counter()
        findings = detect_double_claims(inputs.claims, inputs.injury_cases, settings)
        findings += detect_impossible_care(inputs.claims, inputs.persons)
        seconds["double_claims_and_anomalies"] = time.perf_counter() - t
        t = time.perf_counter()
        findings += detect_stay_patterns(inputs.claims, settings)
        findings += detect_far_apart(inputs.claims, inputs.institutions, settings)
        seconds["stay_patterns_and_far_apart"] = time.perf_counter() - t
        t = time.perf_counter()
        cash_out = detect_pharmacy_cash_out(inputs.claims, inputs.persons, inputs.institutions, settings)
        seconds["pharmacy_cash_out"] = time.perf_counter() - t
        return shared, findings, cash_out

    if engine.in_process:
        collusion = collusion_rings()
        shared, findings, cash_out = the_others()
    else:
        # The engine's Leiden and WCC run in its server, this process waits for them: the other
        # detectors (independent of collusion) use that time. Each keeps its own connections and
        # stats keys, so the results are those of the sequential run.
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="detect-collusion") as pool:
            later = pool.submit(collusion_rings)
            shared, findings, cash_out = the_others()
            collusion = later.result()
    thr = settings.report_threshold
    reported_collusion = [r for r in collusion if r.score >= thr]
    reported_shared = [r for r in shared if r.score >= thr]
    reported_cash_out = [r for r in cash_out if r.score >= thr]
    kept_shared = attach_brokers(reported_collusion, reported_shared)
    stats["shared_identifier_rings_attached_to_collusion"] = len(reported_shared) - len(kept_shared)
    rings = reported_collusion + kept_shared + reported_cash_out
    stats["rings_below_threshold"] = (
        len(collusion)
        + len(shared)
        + len(cash_out)
        - len(reported_collusion)
        - len(reported_shared)
        - len(reported_cash_out)
    )
    reported = [f for f in findings if f.score >= thr]
    stats["findings_below_threshold"] = len(findings) - len(reported)
    rings.sort(key=lambda r: (-r.score, r.kind, sorted(r.member_refs)[:1]))
    return DetectionResult(rings=rings, findings=reported, stats=stats, seconds=seconds)


def load_previous_rings(store: GraphStore) -> list[PreviousRing]:
    rings = [record_of(n, RingRecord) for n in every_node(store.list_nodes, Listing("Ring"))]
    if not rings:
        return []
    members = store.relationships_frame("HAS_MEMBER", ["src", "dst", "dst_label"])
    refs: dict[str, set[str]] = {}
    for src, dst, label in zip(members["src"], members["dst"], members["dst_label"], strict=True):
        refs.setdefault(str(src), set()).add(f"{label}:{dst}")
    # props arrive typed (graph/records.py): JSON parsed, datetimes as datetimes
    return [
        PreviousRing(
            ring_id=r.ring_id, kind=r.kind or "", status=r.status or "", members=refs.get(r.ring_id, set()),
            score=r.score or 0.0, score_history=list(r.score_history or []), first_run_id=r.first_run_id,
            evidence=evidence_list(list(r.evidence or [])), created_at=r.created_at,
        )
        for r in rings
    ]


def finding_id(f: Finding) -> str:
    digest = hashlib.sha1((f.kind + "|" + "|".join(sorted(c.key for c in f.claims))).encode()).hexdigest()
    return f"F-{digest[:16]}"


def build_derived(
    run: dict[str, Any],
    rings: list[Ring],
    vanished: list[PreviousRing],
    previous: list[PreviousRing],
    findings: list[Finding],
    now: datetime,
) -> DerivedData:
    by_id = {p.ring_id: p for p in previous}
    run_id = str(run["run_id"])
    ring_rows: list[dict[str, Any]] = []
    member_rows: list[dict[str, Any]] = []
    for ring in rings:
        rid = ring.ring_id or ""
        prev = by_id.get(rid)
        history = [
            *(prev.score_history if prev else []),
            {"run_id": run_id, "score": ring.score, "member_count": len(ring.members)},
        ]
        row = {
            "ring_id": rid,
            "kind": ring.kind,
            "score": ring.score,
            "status": ring.status,
            "member_count": len(ring.members),
            "evidence": json.dumps(stored(ring.evidence), ensure_ascii=False),
            "score_history": json.dumps(history, ensure_ascii=False),
            "first_run_id": prev.first_run_id if prev and prev.first_run_id else run_id,
            "last_run_id": run_id,
            "updated_at": now,
            "created_at": prev.created_at if prev and prev.created_at else now,
        }
        ring_rows.append(row)
        member_rows.extend(
            {"src": rid, "dst": m.id, "dst_label": m.type, "role": m.role} for m in ring.members
        )
    for prev in vanished:
        history = [*prev.score_history, {"run_id": run_id, "score": 0.0, "member_count": 0}]
        ring_rows.append(
            {
                "ring_id": prev.ring_id,
                "kind": prev.kind,
                "score": prev.score,
                "status": "vanished",
                "member_count": len(prev.members),
                "evidence": json.dumps(stored(prev.evidence), ensure_ascii=False),
                "score_history": json.dumps(history),
                "first_run_id": prev.first_run_id or run_id,
                "last_run_id": run_id,
                "updated_at": now,
                "created_at": prev.created_at or now,
            }
        )
        # The port replaces HAS_MEMBER of every ring given: re-send the last members to keep them.
        for ref in sorted(prev.members):
            label, _, key = ref.partition(":")
            member_rows.append(
                {
                    "src": prev.ring_id,
                    "dst": key,
                    "dst_label": label,
                    "role": MEMBER_ROLES.get(label, "member"),
                }
            )
    rings_df = pd.DataFrame(
        ring_rows,
        columns=[
            "ring_id",
            "kind",
            "score",
            "status",
            "member_count",
            "evidence",
            "score_history",
            "first_run_id",
            "last_run_id",
            "updated_at",
            "created_at",
        ],
    )
    f_rows: list[dict[str, Any]] = []
    fc_rows: list[dict[str, Any]] = []
    fp_rows: list[dict[str, Any]] = []
    for f in findings:
        fid = finding_id(f)
        f_rows.append(
            {
                "finding_id": fid,
                "kind": f.kind,
                "category": f.category,
                "person_id": f.person_id,
                "excess_amount": f.excess_amount,
                "score": f.score,
                "evidence": json.dumps(stored(f.evidence), ensure_ascii=False),
                "claim_keys": json.dumps([c.key for c in f.claims]),
                "run_id": run_id,
            }
        )
        fc_rows.extend({"src": fid, "dst": c.key} for c in f.claims)
        fp_rows.append({"src": fid, "dst": f.person_id})
    return DerivedData(
        run=pd.DataFrame([run]),
        rings=rings_df,
        ring_members=pd.DataFrame(member_rows, columns=["src", "dst", "dst_label", "role"]),
        findings=pd.DataFrame(
            f_rows,
            columns=[
                "finding_id",
                "kind",
                "category",
                "person_id",
                "excess_amount",
                "score",
                "evidence",
                "claim_keys",
                "run_id",
            ],
        ),
        finding_claims=pd.DataFrame(fc_rows, columns=["src", "dst"]),
        finding_persons=pd.DataFrame(fp_rows, columns=["src", "dst"]),
    )


def run_detection(
    store: GraphStore, settings: DetectionSettings | None = None, *, engine: str = "igraph"
) -> RunSummary:
    """Run all detectors on the store, match rings to the previous run, write the run atomically."""
    settings = settings or DetectionSettings()
    with DetectionLock.for_store(store):
        return _run_locked(store, settings, engine)


def _run_locked(store: GraphStore, settings: DetectionSettings, engine_name: str) -> RunSummary:
    started = datetime.now(UTC).replace(tzinfo=None)
    t0 = time.perf_counter()
    engine = make_engine(engine_name, store)
    t = time.perf_counter()
    inputs = load_inputs(store)
    load_s = time.perf_counter() - t
    result = detect_all(inputs, settings, engine)
    result.seconds["load"] = load_s
    return record_run(store, result, settings, engine_name=engine_name, started=started, t0=t0)


def record_run(
    store: GraphStore,
    result: DetectionResult,
    settings: DetectionSettings,
    *,
    engine_name: str,
    started: datetime,
    t0: float,
) -> RunSummary:
    """Match the result's rings to the previous run's and write the run (the caller holds the lock).

    Shared by :func:`run_detection` and ``medfraud load-findings`` (a run detected elsewhere, e.g.
    on Spark), so both keep ring ids, statuses and history the same way.
    """
    run_id = f"run-{started:%Y%m%dT%H%M%S}-{uuid.uuid4().hex[:6]}"
    t = time.perf_counter()
    previous = load_previous_rings(store)
    rings, vanished, changes = assign_ids(result.rings, previous, min_jaccard=settings.identity_min_jaccard)
    result.rings = rings
    counts = {
        "rings": len(rings),
        "collusion_rings": sum(r.kind == "collusion" for r in rings),
        "shared_identifier_rings": sum(r.kind == "shared_identifier" for r in rings),
        "pharmacy_cash_out_rings": sum(r.kind == "pharmacy_cash_out" for r in rings),
        "double_claims": len(result.double_claims),
        "anomalies": len(result.anomalies),
        "rings_below_threshold": int(result.stats.get("rings_below_threshold", 0)),
        **changes.counts(),
    }
    finished = datetime.now(UTC).replace(tzinfo=None)
    duration = time.perf_counter() - t0
    run = {
        "run_id": run_id,
        "started_at": started,
        "finished_at": finished,
        "duration_s": round(duration, 3),
        "engine": engine_name,
        "status": "succeeded",
        "parameters": settings.model_dump_json(),
        "counts": json.dumps({**counts, **{k: v for k, v in result.stats.items() if isinstance(v, int)}}),
        "changes": changes.model_dump_json(),
    }
    store.replace_derived(build_derived(run, rings, vanished, previous, result.findings, finished))
    result.seconds["identity_and_write"] = time.perf_counter() - t
    return RunSummary(
        run_id=run_id,
        started_at=started,
        engine=engine_name,
        counts=counts,
        changes=changes,
        duration_s=round(time.perf_counter() - t0, 3),
        seconds=result.seconds,
        result=result,
    )
