"""Entity, ring, finding and case types with their nested fields.

Nested fields load through the request's DataLoaders (nodes by ref, ring memberships by ref) so a
list of claims asking for their patients costs one store call, not one per claim.
"""

from __future__ import annotations

import asyncio
from datetime import date
from typing import TYPE_CHECKING

import strawberry
from strawberry.types import Info

from algorithms.evidence import render_all, value_of
from api.gql.types import (
    GraphEdge,
    GraphNode,
    PageInfo,
    RingMember,
    RingMembership,
    RingReview,
    ScorePoint,
    SharedIdentifier,
    Subgraph,
    check_first,
    iso,
    present,
    present_edge,
    shown_props,
    text,
    title_of,
)
from api.security.masking import mask_id
from api.security.scrub import scrub
from graph.listing import decode_cursor, encode_cursor
from graph.model import Node, NodeRef
from graph.record_types import (
    CaseNoteRecord,
    CaseRecord,
    ClaimRecord,
    FindingRecord,
    InjuryCaseRecord,
    InstitutionRecord,
    PatientRecord,
    PharmacyRecord,
    RingRecord,
)
from graph.records import record_of
from graph.serving import pictures as sg
from graph.serving import ring_pictures as rp

if TYPE_CHECKING:
    from api.gql.context import Context

# Where an entity's claims hang, and in which direction from the entity.
CLAIM_RELS: dict[str, tuple[str, str]] = {
    "Patient": ("HAS_CLAIM", "out"),
    "Institution": ("TREATED_AT", "in"),
    "Pharmacy": ("TREATED_AT", "in"),
    "Doctor": ("BY_DOCTOR", "in"),
    "InjuryCase": ("FOR_INJURY", "in"),
}
IDENTIFIER_RELS: dict[str, tuple[str, str]] = {
    "HAS_PHONE": ("phone", "Phone"),
    "HAS_ACCOUNT": ("bank_account", "BankAccount"),
    "LIVES_AT": ("address", "Address"),
    "EMPLOYED_BY": ("employer", "Employer"),
}
_BIG_CAP = 100_000
def ctx_of(info: Info) -> Context:
    return info.context  # type: ignore[no-any-return]


async def load_rings(ctx: Context, ref: NodeRef) -> list[tuple[str, float]]:
    return await ctx.ring_loader.load(ref)


async def present_async(ctx: Context, node: Node) -> GraphNode:
    return present(ctx, node, rings=await ctx.ring_loader.load(node.ref))


# -- claims connection -----------------------------------------------------------------------
@strawberry.type
class ClaimEdge:
    cursor: str
    node: Claim


@strawberry.type
class ClaimConnection:
    edges: list[ClaimEdge]
    page_info: PageInfo
    total_count: int


def _claims_page(ctx: Context, ref: NodeRef, first: int, offset: int) -> tuple[list[Node], int]:
    rel, direction = CLAIM_RELS[ref.label]
    exp = ctx.store.neighbours([ref], rel_types=[rel], labels=["Claim"], direction=direction,  # type: ignore[arg-type]
                               cap=offset + first)
    total = ctx.store.degrees([ref], [rel]).get(ref, 0)
    return exp.nodes[offset:offset + first], total


async def claims_connection(ctx: Context, ref: NodeRef, first_: int | None,
                            after: str | None) -> ClaimConnection:
    first = check_first(first_, ctx.api.max_page)
    offset = decode_cursor(after)
    nodes, total = await ctx.run(_claims_page, ctx, ref, first, offset)
    edges = [ClaimEdge(cursor=encode_cursor(offset + i), node=make_claim(ctx, n))
             for i, n in enumerate(nodes)]
    return ClaimConnection(
        edges=edges,
        page_info=PageInfo(has_next_page=offset + len(nodes) < total,
                           end_cursor=edges[-1].cursor if edges else None),
        total_count=total,
    )


# -- entity types ------------------------------------------------------------------------------
@strawberry.interface
class Entity:
    _node: strawberry.Private[Node]

    @strawberry.field
    async def node(self, info: Info) -> GraphNode:
        return await present_async(ctx_of(info), self._node)

    @strawberry.field
    async def rings(self, info: Info) -> list[RingMembership]:
        return [RingMembership(ring_id=r, score=s) for r, s in await load_rings(ctx_of(info), self._node.ref)]

    @strawberry.field
    async def risk_score(self, info: Info) -> float | None:
        """The highest score of the rings the entity belongs to (none when in no ring)."""
        return max((s for _, s in await load_rings(ctx_of(info), self._node.ref)), default=None)


async def _load_entity(ctx: Context, label: str, key: object) -> Node | None:
    if key is None or key == "":
        return None
    node = await ctx.node_loader.load(NodeRef(label, str(key)))
    if node is not None:
        ctx.note(node)
    return node


@strawberry.type
class Claim(Entity):
    claim_key: str
    claim_id: str
    scheme: str
    payer: str | None
    person_id: str | None
    institution_id: str | None
    doctor_id: str | None
    visit_type: str | None
    start_date: date | None
    end_date: date | None
    diagnosis_code: str | None
    total_amount: float | None
    reimbursed_amount: float | None
    injury_case_id: str | None

    @strawberry.field
    async def patient(self, info: Info) -> Patient | None:
        node = await _load_entity(ctx_of(info), "Patient", self._node.props.get("person_id"))
        return make_patient(ctx_of(info), node) if node else None

    @strawberry.field
    async def institution(self, info: Info) -> Institution | None:
        ctx = ctx_of(info)
        iid = self._node.props.get("institution_id")
        node = await _load_entity(ctx, "Institution", iid) or await _load_entity(ctx, "Pharmacy", iid)
        return make_institution(ctx, node) if node else None

    @strawberry.field
    async def doctor(self, info: Info) -> Doctor | None:
        node = await _load_entity(ctx_of(info), "Doctor", self._node.props.get("doctor_id"))
        return make_doctor(ctx_of(info), node) if node else None

    @strawberry.field
    async def injury_case(self, info: Info) -> InjuryCase | None:
        node = await _load_entity(ctx_of(info), "InjuryCase", self._node.props.get("injury_case_id"))
        return make_injury_case(ctx_of(info), node) if node else None


async def entity_claims(root: Entity, info: Info, first: int | None = 20,
                        after: str | None = None) -> ClaimConnection:
    """The entity's claims, newest first (patients, doctors, institutions and injury cases alike)."""
    return await claims_connection(ctx_of(info), root._node.ref, first, after)


@strawberry.type
class Patient(Entity):
    person_id: str
    name: str | None
    gender: str | None
    birth_date: str | None
    phone: str | None
    address: str | None
    bank_account: str | None
    employer_id: str | None
    death_date: date | None

    claims: ClaimConnection = strawberry.field(resolver=entity_claims)

    @strawberry.field
    async def shared_identifiers(self, info: Info) -> list[SharedIdentifier]:
        """The phones, accounts, address and employer of this person, with how many persons share each."""
        ctx = ctx_of(info)
        found = await ctx.run(_shared_identifiers, ctx, self._node.ref)
        out = []
        for rel, node, count in found:
            kind, _ = IDENTIFIER_RELS[rel]
            ctx.note(node)
            out.append(SharedIdentifier(kind=kind, label=node.label, key=ctx.shown_key(node.label, node.key),
                                        value=title_of(ctx, node), person_count=count))
        return out

    @strawberry.field
    async def injury_cases(self, info: Info) -> list[InjuryCase]:
        ctx = ctx_of(info)
        exp = await ctx.run(ctx.store.neighbours, [self._node.ref], rel_types=["HAS_INJURY"], direction="out",
                            cap=1_000)
        return [make_injury_case(ctx, n) for n in exp.nodes]


def _shared_identifiers(ctx: Context, ref: NodeRef) -> list[tuple[str, Node, int]]:
    rels = list(IDENTIFIER_RELS)
    exp = ctx.store.neighbours([ref], rel_types=rels, direction="out", cap=1_000)
    by_ref = {n.ref: n for n in exp.nodes}
    rel_of = {e.dst: e.type for e in exp.edges}
    counts = ctx.store.degrees(list(by_ref), rels) if by_ref else {}
    return [(rel_of[r], n, counts.get(r, 0)) for r, n in by_ref.items() if r in rel_of]


@strawberry.type
class Doctor(Entity):
    doctor_id: str
    name: str | None
    institution_id: str | None
    person_id: str | None

    @strawberry.field
    async def institution(self, info: Info) -> Institution | None:
        ctx = ctx_of(info)
        iid = self._node.props.get("institution_id")
        node = await _load_entity(ctx, "Institution", iid) or await _load_entity(ctx, "Pharmacy", iid)
        return make_institution(ctx, node) if node else None

    claims: ClaimConnection = strawberry.field(resolver=entity_claims)


@strawberry.type
class Institution(Entity):
    label: str
    institution_id: str
    name: str | None
    kind: str | None
    level: int | None
    ownership: str | None
    region: str | None
    grid: str | None

    claims: ClaimConnection = strawberry.field(resolver=entity_claims)

    @strawberry.field
    async def doctors(self, info: Info, first: int | None = 100) -> list[Doctor]:
        ctx = ctx_of(info)
        exp = await ctx.run(ctx.store.neighbours, [self._node.ref], rel_types=["WORKS_AT"], direction="in",
                            cap=check_first(first, ctx.api.max_page, 100))
        return [make_doctor(ctx, n) for n in exp.nodes]


@strawberry.type
class InjuryCase(Entity):
    injury_case_id: str
    person_id: str | None
    injury_date: date | None
    cause: str | None
    third_party_liable: bool | None
    employer_id: str | None
    reported_to: str | None

    claims: ClaimConnection = strawberry.field(resolver=entity_claims)


def make_claim(ctx: Context, node: Node) -> Claim:
    ctx.note(node)
    p = shown_props(ctx, node)
    r = record_of(node, ClaimRecord)
    return Claim(
        _node=node, claim_key=node.key, claim_id=r.claim_id or node.key.partition(":")[2],
        scheme=r.scheme or node.key.partition(":")[0], payer=r.payer,
        person_id=text(p.get("person_id")), institution_id=r.institution_id,
        doctor_id=r.doctor_id, visit_type=r.visit_type, start_date=r.start_date, end_date=r.end_date,
        diagnosis_code=r.diagnosis_code, total_amount=r.total_amount,
        reimbursed_amount=r.reimbursed_amount, injury_case_id=r.injury_case_id,
    )


def make_patient(ctx: Context, node: Node) -> Patient:
    ctx.note(node)
    p = shown_props(ctx, node)
    return Patient(
        _node=node, person_id=text(p.get("person_id")) or (mask_id(node.key) if ctx.masked else node.key),
        name=text(p.get("name")), gender=text(p.get("gender")), birth_date=text(p.get("birth_date")),
        phone=text(p.get("phone")), address=text(p.get("address")),
        bank_account=text(p.get("bank_account")), employer_id=text(p.get("employer_id")),
        death_date=record_of(node, PatientRecord).death_date,
    )


def make_doctor(ctx: Context, node: Node) -> Doctor:
    ctx.note(node)
    p = shown_props(ctx, node)
    return Doctor(_node=node, doctor_id=node.key, name=text(p.get("name")),
                  institution_id=text(p.get("institution_id")), person_id=text(p.get("person_id")))


def make_institution(ctx: Context, node: Node) -> Institution:
    r = record_of(node, PharmacyRecord) if node.label == "Pharmacy" else record_of(node, InstitutionRecord)
    return Institution(
        _node=node, label=node.label, institution_id=node.key, name=r.name, kind=r.kind, level=r.level,
        ownership=r.ownership, region=r.region, grid=r.grid,
    )


def make_injury_case(ctx: Context, node: Node) -> InjuryCase:
    ctx.note(node)
    p = shown_props(ctx, node)
    r = record_of(node, InjuryCaseRecord)
    return InjuryCase(
        _node=node, injury_case_id=node.key, person_id=text(p.get("person_id")), injury_date=r.injury_date,
        cause=r.cause, third_party_liable=r.third_party_liable, employer_id=r.employer_id,
        reported_to=r.reported_to,
    )


def subgraph_of(ctx: Context, assembled: sg.Assembled) -> Subgraph:
    """Present an assembled subgraph: one batched ring lookup for all its nodes."""
    refs = list(assembled.nodes)
    rings = ctx.store.rings_of(refs)
    nodes = [present(ctx, assembled.nodes[r], rings=rings.get(r), cut=assembled.cut.get(r, 0)) for r in refs]
    edges: list[GraphEdge] = [present_edge(ctx, e) for e in assembled.edges.values()]
    return Subgraph(nodes=nodes, edges=edges, truncated=assembled.truncated)


def build_subgraph(ctx: Context, seeds: list[NodeRef], *, hops: int, max_nodes: int,
                   rel_types: list[str] | None = None, since: date | None = None,
                   until: date | None = None, skip_hub_seeds: bool = False,
                   first_hop_rel_types: list[str] | None = None, known: list[Node] | None = None) -> Subgraph:
    assembled = sg.expand(
        ctx.store, seeds, hops=hops, max_nodes=max_nodes, cap=ctx.api.hub_cap, rel_types=rel_types,
        since=since, until=until, skip_hub_seeds=skip_hub_seeds, first_hop_rel_types=first_hop_rel_types,
        known=known,
    )
    return subgraph_of(ctx, assembled)


def check_subgraph_args(ctx: Context, hops: int | None, max_nodes: int | None, *,
                        default_hops: int) -> tuple[int, int]:
    """Hops and node ceiling of a subgraph request (``null`` means the default)."""
    from graph.errors import InvalidRequest

    hops = default_hops if hops is None else hops
    max_nodes = min(300, ctx.api.max_nodes) if max_nodes is None else max_nodes
    if not 0 <= hops <= ctx.api.max_hops:
        raise InvalidRequest(f"hops must be between 0 and {ctx.api.max_hops}")
    if not 1 <= max_nodes <= ctx.api.max_nodes:
        raise InvalidRequest(f"maxNodes must be between 1 and {ctx.api.max_nodes}")
    return hops, max_nodes


# -- rings -------------------------------------------------------------------------------------
@strawberry.type
class Ring:
    ring_id: str
    kind: str
    score: float
    status: str | None
    member_count: int
    score_history: list[ScorePoint]
    first_run_id: str | None
    last_run_id: str | None
    _node: strawberry.Private[Node]
    _evidence: strawberry.Private[list[str]]
    _review: strawberry.Private[RingReview | None]
    _members: strawberry.Private[asyncio.Future[list[tuple[Node, str | None]]] | None] = None
    usual_daily_visits: float | None = strawberry.field(default=None, description=(
        "A collusion ring's institution's usual persons per day, against which its meeting days stand out"))

    async def _scrubbed(self, ctx: Context, texts: list[str | None]) -> list[str | None]:
        """Free text as the caller may read it: masked roles get it scrubbed of the members' PII."""
        if not ctx.masked or not any(texts):
            return texts
        names = [str(n.props.get("name") or "") for n, _ in await self._load_members(ctx)]
        return [scrub(t, names) if t else t for t in texts]

    @strawberry.field
    async def evidence(self, info: Info) -> list[str]:
        return [t or "" for t in await self._scrubbed(ctx_of(info), list(self._evidence))]

    @strawberry.field
    async def review(self, info: Info) -> RingReview | None:
        r = self._review
        if r is None:
            return None
        (reason,) = await self._scrubbed(ctx_of(info), [r.reason])
        return RingReview(verdict=r.verdict, reason=reason, reviewed_by=r.reviewed_by,
                          reviewed_at=r.reviewed_at)

    async def _load_members(self, ctx: Context) -> list[tuple[Node, str | None]]:
        # members and subgraph resolve concurrently: both wait on one load
        if self._members is None:
            self._members = asyncio.ensure_future(ctx.run(ring_members, ctx, self.ring_id))
        return await self._members

    @strawberry.field
    async def members(self, info: Info) -> list[RingMember]:
        ctx = ctx_of(info)
        out = []
        for node, role in await self._load_members(ctx):
            ctx.note(node)
            out.append(RingMember(type=node.label, id=ctx.shown_key(node.label, node.key),
                                  title=title_of(ctx, node), role=role))
        return out

    @strawberry.field
    async def subgraph(self, info: Info, hops: int | None = 1, max_nodes: int | None = 300) -> Subgraph:
        """The ring's members and what ties them together, ready to draw."""
        ctx = ctx_of(info)
        hops, max_nodes = check_subgraph_args(ctx, hops, max_nodes, default_hops=1)
        members = [n for n, _ in await self._load_members(ctx)]
        if not members:
            return Subgraph(nodes=[], edges=[], truncated=False)
        return await ctx.run(ring_subgraph, ctx, self.ring_id, self.kind, members, hops, max_nodes)


def ring_subgraph(ctx: Context, ring_id: str, kind: str, members: list[Node], hops: int,
                  max_nodes: int) -> Subgraph:
    """The ring's picture: prepared by the serving layer when this caller may be given it, else
    assembled through the caller's scope; presented (masked, audited) for this caller either way."""
    assembled = ctx.store.ring_picture(ring_id, hops=hops, max_nodes=max_nodes, cap=ctx.api.hub_cap)
    if assembled is None:
        assembled = rp.ring_picture(ctx.store, kind, members, hops=hops, max_nodes=max_nodes,
                                    cap=ctx.api.hub_cap)
    return subgraph_of(ctx, assembled)


def ring_members(ctx: Context, ring_id: str) -> list[tuple[Node, str | None]]:
    """A ring's members with their role: institutions and doctors first, then patients, then the rest."""
    return rp.ring_members(ctx.store, ctx.store.ring_members(ring_id))


def make_ring(ctx: Context, node: Node) -> Ring:
    r = record_of(node, RingRecord)
    history = [ScorePoint(run_id=str(point.get("run_id", "")), score=float(point.get("score") or 0.0),
                          member_count=int(point.get("member_count") or 0))
               for point in r.score_history or [] if isinstance(point, dict)]
    review = RingReview(verdict=r.review_verdict, reason=r.review_reason, reviewed_by=r.reviewed_by,
                        reviewed_at=iso(r.reviewed_at)) if r.review_verdict else None
    return Ring(
        _node=node, ring_id=node.key, kind=r.kind or "", score=r.score or 0.0, status=r.status,
        member_count=r.member_count or 0, _evidence=render_all(list(r.evidence or []), ctx.lang),
        usual_daily_visits=_number(value_of(list(r.evidence or []), "collusion.bursts", "usual")),
        score_history=history, _review=review, first_run_id=r.first_run_id, last_run_id=r.last_run_id,
    )


@strawberry.type
class RingEdge:
    cursor: str
    node: Ring


@strawberry.type
class RingConnection:
    edges: list[RingEdge]
    page_info: PageInfo
    total_count: int


# -- findings ----------------------------------------------------------------------------------
@strawberry.type
class Finding:
    finding_id: str
    category: str
    kind: str
    person_id: str | None
    excess_amount: float | None
    score: float | None
    run_id: str | None
    claim_keys: list[str]
    _node: strawberry.Private[Node]
    _evidence: strawberry.Private[list[str]]

    @strawberry.field
    async def evidence(self, info: Info) -> list[str]:
        ctx = ctx_of(info)
        if not ctx.masked:
            return self._evidence
        who = await _load_entity(ctx, "Patient", self._node.props.get("person_id"))
        names = [str(who.props.get("name") or "")] if who else []
        return [scrub(t, names) for t in self._evidence]

    @strawberry.field
    async def claims(self, info: Info) -> list[Claim]:
        ctx = ctx_of(info)
        raw = [str(k) for k in record_of(self._node, FindingRecord).claim_keys or []]
        nodes = await ctx.node_loader.load_many([NodeRef("Claim", k) for k in raw])
        return [make_claim(ctx, n) for n in nodes if n is not None]

    @strawberry.field
    async def patient(self, info: Info) -> Patient | None:
        node = await _load_entity(ctx_of(info), "Patient", self._node.props.get("person_id"))
        return make_patient(ctx_of(info), node) if node else None


def _number(value: object) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def make_finding(ctx: Context, node: Node) -> Finding:
    ctx.note(node)
    p = shown_props(ctx, node)
    r = record_of(node, FindingRecord)
    # a masked role's props carry no evidence (free text may name anyone): none is shown here either
    evidence = render_all(list(r.evidence or []), ctx.lang) if "evidence" in p else []
    return Finding(
        _node=node, finding_id=node.key, category=r.category or "", kind=r.kind or "",
        person_id=text(p.get("person_id")), excess_amount=r.excess_amount, score=r.score,
        _evidence=evidence, run_id=r.run_id, claim_keys=[str(k) for k in r.claim_keys or []],
    )


@strawberry.type
class FindingEdge:
    cursor: str
    node: Finding


@strawberry.type
class FindingConnection:
    edges: list[FindingEdge]
    page_info: PageInfo
    total_count: int


# -- cases -------------------------------------------------------------------------------------
@strawberry.type
class CaseNote:
    note_id: str
    case_id: str
    text: str
    author: str | None
    created_at: str | None


def make_note(node: Node) -> CaseNote:
    r = record_of(node, CaseNoteRecord)
    return CaseNote(note_id=node.key, case_id=r.case_id or "", text=r.text or "", author=r.author,
                    created_at=iso(r.created_at))


@strawberry.type
class Case:
    case_id: str
    title: str
    status: str
    created_by: str | None
    agency: str | None
    shared_with: list[str]
    created_at: str | None
    updated_at: str | None
    _node: strawberry.Private[Node]
    _contents: strawberry.Private[dict[str, list[Node]] | None] = None

    async def _load(self, ctx: Context) -> dict[str, list[Node]]:
        if self._contents is None:
            self._contents = await ctx.run(case_contents, ctx, self.case_id)
        return self._contents

    @strawberry.field
    async def rings(self, info: Info) -> list[Ring]:
        ctx = ctx_of(info)
        return [make_ring(ctx, n) for n in (await self._load(ctx))["rings"]]

    @strawberry.field
    async def entities(self, info: Info) -> list[GraphNode]:
        ctx = ctx_of(info)
        nodes = (await self._load(ctx))["entities"]
        rings = await ctx.ring_loader.load_many([n.ref for n in nodes])
        return [present(ctx, n, rings=r) for n, r in zip(nodes, rings, strict=True)]

    @strawberry.field
    async def notes(self, info: Info) -> list[CaseNote]:
        nodes = (await self._load(ctx_of(info)))["notes"]
        return [make_note(n) for n in sorted(nodes, key=lambda n: str(n.props.get("created_at") or ""))]

    @strawberry.field
    async def subgraph(self, info: Info, hops: int | None = 1, max_nodes: int | None = 300) -> Subgraph:
        """The case's entities and ring members with what connects them."""
        ctx = ctx_of(info)
        hops, max_nodes = check_subgraph_args(ctx, hops, max_nodes, default_hops=1)
        contents = await self._load(ctx)
        seeds = [n.ref for n in contents["entities"]]
        for ring in contents["rings"]:
            seeds += [n.ref for n, _ in await ctx.run(ring_members, ctx, ring.key)]
        if not seeds:
            return Subgraph(nodes=[], edges=[], truncated=False)
        return await ctx.run(build_subgraph, ctx, list(dict.fromkeys(seeds)), hops=hops, max_nodes=max_nodes)


def case_contents(ctx: Context, case_id: str) -> dict[str, list[Node]]:
    rels = ["INCLUDES", "INCLUDES_RING", "HAS_NOTE"]
    exp = ctx.store.neighbours([NodeRef("Case", case_id)], rel_types=rels, direction="out", cap=_BIG_CAP)
    out: dict[str, list[Node]] = {"rings": [], "entities": [], "notes": []}
    for n in exp.nodes:
        kind = "rings" if n.label == "Ring" else "notes" if n.label == "CaseNote" else "entities"
        out[kind].append(n)
    return out


def make_case(ctx: Context, node: Node) -> Case:
    ctx.note_case(node.key)
    r = record_of(node, CaseRecord)
    return Case(
        _node=node, case_id=node.key, title=r.title or "", status=r.status or "open",
        created_by=r.created_by, agency=r.agency, shared_with=list(r.shared_with or []),
        created_at=iso(r.created_at), updated_at=iso(r.updated_at),
    )
