"""Do two detection exports say the same thing? (the embedded store vs Neo4j, igraph vs GDS)

Two runs over the same city should report the same rings, double claims and anomalies. Ring ids
differ between stores (they are minted per store), so rings are matched on their members: each
ring of one export is paired with the ring of the same kind in the other that shares the most
members (Jaccard of the member sets, every member type counted). Findings are compared exactly on
(kind, person, claims). :func:`compare_exports` reports both directions, so a ring found by only
one side is named.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class RingParity:
    kind: str
    rings_a: int
    rings_b: int
    matched: int            # rings of A whose best partner in B reaches the threshold
    min_jaccard: float      # the lowest best-partner Jaccard over the rings of A (1.0 when none)
    only_a: list[str] = field(default_factory=list)
    only_b: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Parity:
    rings: list[RingParity]
    findings_a: int
    findings_b: int
    findings_only_a: list[tuple[str, str]]
    findings_only_b: list[tuple[str, str]]

    @property
    def same(self) -> bool:
        return (not self.findings_only_a and not self.findings_only_b
                and all(not r.only_a and not r.only_b for r in self.rings))


def _members(ring: Mapping[str, Any]) -> frozenset[str]:
    return frozenset(f"{m['type']}:{m['id']}" for m in ring["members"])


def _jaccard(a: frozenset[str], b: frozenset[str]) -> float:
    return len(a & b) / len(a | b) if a or b else 1.0


def _best(ring: frozenset[str], others: list[frozenset[str]]) -> float:
    return max((_jaccard(ring, o) for o in others), default=0.0)


def _findings(export: Mapping[str, Any]) -> dict[tuple[str, str, frozenset[str]], tuple[str, str]]:
    out: dict[tuple[str, str, frozenset[str]], tuple[str, str]] = {}
    for section in ("double_claims", "anomalies"):
        for f in export.get(section, []):
            claims = frozenset(f"{c['scheme']}:{c['claim_id']}" for c in f["claims"])
            out[(f["kind"], f["person_id"], claims)] = (f["kind"], f["person_id"])
    return out


def compare_exports(a: Mapping[str, Any], b: Mapping[str, Any], *, min_jaccard: float = 0.9) -> Parity:
    """Match the rings and findings of two ``detect --export`` documents (see the module docstring)."""
    kinds = sorted({r["kind"] for r in a["rings"]} | {r["kind"] for r in b["rings"]})
    rings: list[RingParity] = []
    for kind in kinds:
        ra = [r for r in a["rings"] if r["kind"] == kind]
        rb = [r for r in b["rings"] if r["kind"] == kind]
        ma, mb = [_members(r) for r in ra], [_members(r) for r in rb]
        best_a = [_best(m, mb) for m in ma]
        best_b = [_best(m, ma) for m in mb]
        rings.append(RingParity(
            kind=kind, rings_a=len(ra), rings_b=len(rb),
            matched=sum(1 for j in best_a if j >= min_jaccard),
            min_jaccard=min(best_a + best_b, default=1.0),
            only_a=[r["ring_id"] for r, j in zip(ra, best_a, strict=True) if j < min_jaccard],
            only_b=[r["ring_id"] for r, j in zip(rb, best_b, strict=True) if j < min_jaccard],
        ))
    fa, fb = _findings(a), _findings(b)
    return Parity(
        rings=rings, findings_a=len(fa), findings_b=len(fb),
        findings_only_a=sorted(fa[k] for k in fa.keys() - fb.keys()),
        findings_only_b=sorted(fb[k] for k in fb.keys() - fa.keys()),
    )


def format_parity(p: Parity, a_name: str = "A", b_name: str = "B") -> str:
    lines = [f"{'ring kind':<20}{a_name:>10}{b_name:>10}{'matched':>9}{'min Jaccard':>13}"]
    for r in p.rings:
        lines.append(f"{r.kind:<20}{r.rings_a:>10}{r.rings_b:>10}{r.matched:>9}{r.min_jaccard:>13.2f}")
        if r.only_a or r.only_b:
            lines.append(f"    only in {a_name}: {', '.join(r.only_a) or '-'}; only in {b_name}: "
                         f"{', '.join(r.only_b) or '-'}")
    lines.append(f"{'findings':<20}{p.findings_a:>10}{p.findings_b:>10}  "
                 f"only in {a_name}: {len(p.findings_only_a)}, only in {b_name}: {len(p.findings_only_b)}")
    return "\n".join(lines)
