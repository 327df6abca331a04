"""Building findings from the rows the claim detectors' SQL returns (double claims, impossible care)."""

from __future__ import annotations

import json
from typing import Literal

from algorithms.evidence import Evidence
from algorithms.results import ClaimRef, Finding


def claim_refs(refs: object) -> list[ClaimRef]:
    """Distinct claim references, sorted, from a DuckDB list of ``{scheme, claim_id}`` structs."""
    items = refs if isinstance(refs, list) else json.loads(str(refs))
    out = {(str(r["scheme"]), str(r["claim_id"])) for r in items}
    return [ClaimRef(scheme=a, claim_id=b) for a, b in sorted(out)]


def claim_finding(
    category: Literal["double_claim", "anomaly"],
    kind: str,
    person: object,
    refs: object,
    evidence: list[Evidence],
    *,
    excess: float | None = None,
    score: float = 1.0,
) -> Finding:
    """A finding about one person's claims; ``excess`` is what was paid that should not have been."""
    return Finding(
        category=category,
        kind=kind,
        person_id=str(person),
        claims=claim_refs(refs),
        excess_amount=round(float(excess or 0.0), 2),
        score=score,
        evidence=evidence,
    )
