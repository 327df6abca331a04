"""Score a detection export against the generator's ground truth (``medfraud evaluate``).

Rings: a planted ring is *found* when the best exported ring of the same kind has a Patient-member
Jaccard >= ``match_jaccard`` (0.5); an exported ring is *correct* when it matches a planted ring of
its kind that way. Member precision/recall compare all members (patients, institutions, doctors,
identifiers) of each found ring with its best match. Double claims and anomalies match on kind,
person and at least one common claim. Look-alikes (legitimate cohorts, lawful claims) count as
*flagged* when an exported ring matches their patients the same way, or, for a look-alike whose
claims the truth lists (a top-up, a transfer, chemotherapy cycles), when an exported double claim or
anomaly names one of its claims — each one is a false alarm for investigators.
"""

from __future__ import annotations

import json
from collections import defaultdict
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from graph.errors import InputError


class _Loose(BaseModel):
    model_config = ConfigDict(extra="allow")


class MemberIn(_Loose):
    type: str
    id: str


class ClaimIn(_Loose):
    scheme: str
    claim_id: str


class RingIn(_Loose):
    ring_id: str | None = None
    kind: str
    members: list[MemberIn]
    shape: str | None = None


class FindingIn(_Loose):
    kind: str
    person_id: str
    claims: list[ClaimIn] = Field(default_factory=list)
    excess_amount: float | None = None


class LookalikeIn(_Loose):
    kind: str
    members: list[MemberIn]
    claims: list[ClaimIn] = Field(default_factory=list)


class Truth(_Loose):
    rings: list[RingIn] = Field(default_factory=list)
    double_claims: list[FindingIn] = Field(default_factory=list)
    anomalies: list[FindingIn] = Field(default_factory=list)
    lookalikes: list[LookalikeIn] = Field(default_factory=list)


class Export(_Loose):
    rings: list[RingIn] = Field(default_factory=list)
    double_claims: list[FindingIn] = Field(default_factory=list)
    anomalies: list[FindingIn] = Field(default_factory=list)


class Score(BaseModel):
    truth: int
    reported: int
    found: int
    correct: int

    @property
    def recall(self) -> float:
        return self.found / self.truth if self.truth else 1.0

    @property
    def precision(self) -> float:
        return self.correct / self.reported if self.reported else 1.0

    def as_dict(self) -> dict[str, Any]:
        return {**self.model_dump(), "recall": round(self.recall, 4), "precision": round(self.precision, 4)}


class RingScore(Score):
    member_precision: float
    member_recall: float
    by_shape: dict[str, dict[str, int]] = Field(default_factory=dict)


class Evaluation(BaseModel):
    rings: dict[str, RingScore]
    double_claims: dict[str, Score]
    anomalies: dict[str, Score]
    lookalikes_flagged: dict[str, dict[str, int]]
    excess_abs_error: float

    def as_dict(self) -> dict[str, Any]:
        return {
            "rings": {
                k: {
                    **v.as_dict(),
                    "member_precision": round(v.member_precision, 4),
                    "member_recall": round(v.member_recall, 4),
                    "by_shape": v.by_shape,
                }
                for k, v in self.rings.items()
            },
            "double_claims": {k: v.as_dict() for k, v in self.double_claims.items()},
            "anomalies": {k: v.as_dict() for k, v in self.anomalies.items()},
            "lookalikes_flagged": self.lookalikes_flagged,
            "excess_abs_error": round(self.excess_abs_error, 2),
        }


def _load(path: Path, model: type[Truth] | type[Export]) -> Truth | Export:
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise InputError("file not found", file=str(path)) from None
    except json.JSONDecodeError as exc:
        raise InputError(f"not valid JSON: {exc.msg}", file=str(path), line=exc.lineno) from None
    try:
        return model.model_validate(raw)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise InputError(f"{where}: {first['msg']}", file=str(path)) from None


def _patients(members: list[MemberIn]) -> frozenset[str]:
    return frozenset(m.id for m in members if m.type == "Patient")


def _refs(members: list[MemberIn]) -> frozenset[str]:
    return frozenset(f"{m.type}:{m.id}" for m in members)


def _jac(a: frozenset[str], b: frozenset[str]) -> float:
    return len(a & b) / len(a | b) if a or b else 0.0


def _best(
    target: frozenset[str], pool: list[frozenset[str]], index: dict[str, list[int]]
) -> tuple[float, int]:
    best, arg = 0.0, -1
    for i in {i for p in target for i in index.get(p, ())}:
        j = _jac(target, pool[i])
        if j > best:
            best, arg = j, i
    return best, arg


def _index(sets: list[frozenset[str]]) -> dict[str, list[int]]:
    idx: dict[str, list[int]] = defaultdict(list)
    for i, s in enumerate(sets):
        for p in s:
            idx[p].append(i)
    return idx


def evaluate(truth: Truth, export: Export, *, match_jaccard: float = 0.5) -> Evaluation:
    rings: dict[str, RingScore] = {}
    kinds = sorted({r.kind for r in truth.rings} | {r.kind for r in export.rings})
    for kind in kinds:
        t = [r for r in truth.rings if r.kind == kind]
        e = [r for r in export.rings if r.kind == kind]
        tp, ep = [_patients(r.members) for r in t], [_patients(r.members) for r in e]
        ti, ei = _index(tp), _index(ep)
        found, mp, mr = 0, 0.0, 0.0
        shapes: dict[str, dict[str, int]] = defaultdict(lambda: {"truth": 0, "found": 0})
        for r, p in zip(t, tp, strict=True):
            j, arg = _best(p, ep, ei)
            shapes[r.shape or "-"]["truth"] += 1
            if j >= match_jaccard:
                found += 1
                shapes[r.shape or "-"]["found"] += 1
                tr, er = _refs(r.members), _refs(e[arg].members)
                mp += len(tr & er) / len(er) if er else 0.0
                mr += len(tr & er) / len(tr) if tr else 0.0
        correct = sum(1 for p in ep if _best(p, tp, ti)[0] >= match_jaccard)
        rings[kind] = RingScore(
            truth=len(t),
            reported=len(e),
            found=found,
            correct=correct,
            member_precision=mp / found if found else 0.0,
            member_recall=mr / found if found else 0.0,
            by_shape=dict(shapes),
        )
    all_ep = [_patients(r.members) for r in export.rings]
    all_ei = _index(all_ep)
    reported_claims = {
        (c.scheme, c.claim_id) for f in [*export.double_claims, *export.anomalies] for c in f.claims
    }
    flagged: dict[str, dict[str, int]] = defaultdict(lambda: {"total": 0, "flagged": 0})
    for lk in truth.lookalikes:
        flagged[lk.kind]["total"] += 1
        p = _patients(lk.members)
        as_ring = bool(p) and _best(p, all_ep, all_ei)[0] >= match_jaccard
        as_finding = any((c.scheme, c.claim_id) in reported_claims for c in lk.claims)
        if as_ring or as_finding:
            flagged[lk.kind]["flagged"] += 1
    dc, err = _findings(truth.double_claims, export.double_claims)
    an, _ = _findings(truth.anomalies, export.anomalies)
    return Evaluation(
        rings=rings, double_claims=dc, anomalies=an, lookalikes_flagged=dict(flagged), excess_abs_error=err
    )


def _findings(truth: list[FindingIn], export: list[FindingIn]) -> tuple[dict[str, Score], float]:
    def key(f: FindingIn) -> tuple[str, str]:
        return (f.kind, f.person_id)

    def claims(f: FindingIn) -> set[tuple[str, str]]:
        return {(c.scheme, c.claim_id) for c in f.claims}

    by_key: dict[tuple[str, str], list[FindingIn]] = defaultdict(list)
    for f in export:
        by_key[key(f)].append(f)
    t_by_key: dict[tuple[str, str], list[FindingIn]] = defaultdict(list)
    for f in truth:
        t_by_key[key(f)].append(f)

    def matches(a: FindingIn, b: FindingIn) -> bool:
        ca, cb = claims(a), claims(b)
        return bool(ca & cb) or (not ca and not cb)

    out: dict[str, Score] = {}
    err, n_err = 0.0, 0
    for kind in sorted({f.kind for f in truth} | {f.kind for f in export}):
        t = [f for f in truth if f.kind == kind]
        e = [f for f in export if f.kind == kind]
        found = 0
        for f in t:
            hits = [g for g in by_key.get(key(f), []) if matches(f, g)]
            if hits:
                found += 1
                if f.excess_amount is not None and hits[0].excess_amount is not None:
                    err += abs(f.excess_amount - hits[0].excess_amount)
                    n_err += 1
        correct = sum(1 for g in e if any(matches(f, g) for f in t_by_key.get(key(g), [])))
        out[kind] = Score(truth=len(t), reported=len(e), found=found, correct=correct)
    return out, err / n_err if n_err else 0.0


def evaluate_files(truth_path: Path, export_path: Path) -> Evaluation:
    truth = _load(truth_path, Truth)
    export = _load(export_path, Export)
    assert isinstance(truth, Truth) and isinstance(export, Export)
    return evaluate(truth, export)


def format_report(ev: Evaluation) -> str:
    lines = [f"{'pattern':46} {'truth':>6} {'reported':>8} {'found':>6} {'recall':>7} {'precision':>9}"]

    def row(name: str, s: Score) -> str:
        return f"{name:46} {s.truth:>6} {s.reported:>8} {s.found:>6} {s.recall:>7.3f} {s.precision:>9.3f}"

    for kind, s in ev.rings.items():
        lines.append(row(f"ring:{kind}", s))
        lines.append(f"{'':4}member precision {s.member_precision:.3f}, member recall {s.member_recall:.3f}")
        for shape, c in sorted(s.by_shape.items()):
            lines.append(f"{'':4}shape {shape}: {c['found']}/{c['truth']} found")
    for kind, f in ev.double_claims.items():
        lines.append(row(f"double_claim:{kind}", f))
    for kind, f in ev.anomalies.items():
        lines.append(row(f"anomaly:{kind}", f))
    if ev.lookalikes_flagged:
        lines.append("look-alikes reported as rings or findings (false alarms):")
        for kind, c in sorted(ev.lookalikes_flagged.items()):
            lines.append(f"{'':4}{kind}: {c['flagged']} of {c['total']}")
    lines.append(f"mean absolute error of excess amounts: {ev.excess_abs_error:.2f}")
    return "\n".join(lines)
