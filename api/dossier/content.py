"""The dossier's content, read through the GraphQL schema as the caller.

One query (:data:`DOSSIER_QUERY`) runs through the same schema, extensions and context as a
``POST /graphql``: the role check, the police scope, masking of identities, the cost limits and
the audit record (operation ``Dossier``) all apply unchanged. The answer is then shaped into
:class:`Dossier` for the writers; nothing here looks at the store directly.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import strawberry

from api.gql.context import Context
from graph.errors import AccessDenied, InvalidRequest, MedfraudError, NotFound, QueryTimeout

DOSSIER_QUERY = """
query Dossier($id: ID!) {
  case(id: $id) {
    caseId title status createdBy agency sharedWith createdAt updatedAt
    rings {
      ringId kind score memberCount evidence usualDailyVisits
      members { type id title role }
      review { verdict reason reviewedBy reviewedAt }
    }
    entities { id label key title }
    notes { noteId text author createdAt }
    subgraph(hops: 1, maxNodes: 300) {
      nodes { id label key title props ringIds }
      edges { id type source target }
      truncated
    }
  }
}
"""

_ERRORS: dict[str, type[MedfraudError]] = {
    "FORBIDDEN": AccessDenied,
    "NOT_FOUND": NotFound,
    "QUERY_TIMEOUT": QueryTimeout,
}


@dataclass(frozen=True)
class Member:
    label: str
    key: str  # as the caller is shown it (masked for masked roles)
    title: str
    role: str | None = None


@dataclass(frozen=True)
class ClaimRow:
    key: str
    scheme: str
    person: str
    institution: str
    start: str
    end: str
    visit_type: str
    diagnosis: str
    total: float
    reimbursed: float


@dataclass
class RingSection:
    ring_id: str
    kind: str
    score: float
    member_count: int
    evidence: list[str]
    members: list[Member]
    review: dict[str, Any] | None
    usual_daily: float | None
    claims: list[ClaimRow] = field(default_factory=list)

    @property
    def reimbursed(self) -> float:
        return sum(c.reimbursed for c in self.claims)


@dataclass(frozen=True)
class PictureNode:
    id: str
    label: str
    title: str
    ring_member: bool


@dataclass
class Dossier:
    case_id: str
    title: str
    status: str
    agency: str
    shared_with: list[str]
    created_by: str
    created_at: str
    updated_at: str
    rings: list[RingSection]
    members: list[Member]
    notes: list[dict[str, Any]]
    claims: list[ClaimRow]
    other_claims: list[ClaimRow]
    nodes: list[PictureNode]
    edges: list[tuple[str, str]]
    truncated: bool
    reader: str
    lang: str
    produced_at: str = field(default_factory=lambda: datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"))
    audit: list[dict[str, Any]] = field(default_factory=list)


def _text(value: Any) -> str:
    return "" if value is None else str(value)


def _float(value: Any) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        return 0.0


def _claim(node: dict[str, Any]) -> ClaimRow:
    p = node.get("props") or {}
    return ClaimRow(
        key=_text(node.get("key")),
        scheme=_text(p.get("scheme")),
        person=_text(p.get("person_id")),
        institution=_text(p.get("institution_id")),
        start=_text(p.get("start_date"))[:10],
        end=_text(p.get("end_date"))[:10],
        visit_type=_text(p.get("visit_type")),
        diagnosis=_text(p.get("diagnosis_code")),
        total=_float(p.get("total_amount")),
        reimbursed=_float(p.get("reimbursed_amount")),
    )


def shape(data: dict[str, Any], *, reader: str, lang: str) -> Dossier:
    """The GraphQL answer as the dossier's sections: each ring with the claims of its patients."""
    case = data["case"]
    graph = case["subgraph"]
    claims = sorted(
        (_claim(n) for n in graph["nodes"] if n["label"] == "Claim"), key=lambda c: (c.start, c.key)
    )
    rings: list[RingSection] = []
    used: set[str] = set()
    for r in case["rings"]:
        members = [Member(m["type"], m["id"], m["title"], m.get("role")) for m in r["members"]]
        patients = {m.key for m in members if m.label == "Patient"}
        mine = [c for c in claims if c.person in patients]
        used.update(c.key for c in mine)
        rings.append(
            RingSection(
                ring_id=r["ringId"],
                kind=r["kind"],
                score=float(r["score"]),
                member_count=int(r["memberCount"]),
                evidence=list(r["evidence"]),
                members=members,
                review=r.get("review"),
                usual_daily=r.get("usualDailyVisits"),
                claims=mine,
            )
        )
    seen: dict[str, Member] = {}
    for ring in rings:
        for m in ring.members:
            seen.setdefault(f"{m.label}:{m.key}", m)
    for e in case["entities"]:
        seen.setdefault(e["id"], Member(e["label"], e["key"], e["title"]))
    ring_ids = {r.ring_id for r in rings}
    nodes = [
        PictureNode(n["id"], n["label"], n["title"], bool(ring_ids & set(n.get("ringIds") or [])))
        for n in graph["nodes"]
    ]
    return Dossier(
        case_id=case["caseId"],
        title=case["title"],
        status=case["status"],
        agency=_text(case.get("agency")),
        shared_with=list(case.get("sharedWith") or []),
        created_by=_text(case.get("createdBy")),
        created_at=_text(case.get("createdAt"))[:19].replace("T", " "),
        updated_at=_text(case.get("updatedAt"))[:19].replace("T", " "),
        rings=rings,
        members=list(seen.values()),
        notes=list(case["notes"]),
        claims=claims,
        other_claims=[c for c in claims if c.key not in used],
        nodes=nodes,
        edges=[(e["source"], e["target"]) for e in graph["edges"]],
        truncated=bool(graph["truncated"]),
        reader=reader,
        lang=lang,
    )


async def read_dossier(schema: strawberry.Schema, ctx: Context, case_id: str) -> Dossier:
    """Run the dossier query as ``ctx``'s caller; a refusal or an absent case raises its domain error."""
    result = await schema.execute(
        DOSSIER_QUERY, variable_values={"id": case_id}, context_value=ctx, operation_name="Dossier"
    )
    if result.errors:
        first = result.errors[0]
        original = first.original_error
        if isinstance(original, MedfraudError):
            raise original
        code = (first.extensions or {}).get("code")
        raise _ERRORS.get(str(code), InvalidRequest)(first.message)
    if not result.data or result.data.get("case") is None:
        # outside the caller's scope reads as absent, exactly as over /graphql
        raise NotFound(f"case {case_id} not found")
    p = ctx.principal
    return shape(result.data, reader=f"{p.sub} ({p.role.value}, {p.agency_ref})", lang=ctx.lang)
