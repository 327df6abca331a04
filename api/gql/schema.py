"""The GraphQL schema: queries and mutations over the graph, with the limits as extensions.

Field names follow /tmp contract shared with the UI (camelCase by strawberry's default). Each
top-level resolver checks the role first, runs its store work in a worker thread under the store
time limit, and presents nodes through :func:`api.gql.types.present` (masking + audit trail).
"""

from __future__ import annotations

import contextlib
import functools
from collections.abc import Callable, Iterator
from datetime import date
from typing import Annotated

import pandas as pd
import strawberry
from graphql import GraphQLError
from graphql.validation import NoSchemaIntrospectionCustomRule
from strawberry.extensions import (
    AddValidationRules,
    MaxAliasesLimiter,
    MaxTokensLimiter,
    ParserCache,
    QueryDepthLimiter,
    SchemaExtension,
    ValidationCache,
)
from strawberry.scalars import JSON
from strawberry.types import ExecutionContext, Info

from api.gql import freeform
from api.gql.context import Context
from api.gql.cost import CostLimit
from api.gql.entities import (
    Case,
    CaseNote,
    Claim,
    Doctor,
    FindingConnection,
    FindingEdge,
    InjuryCase,
    Institution,
    Patient,
    Ring,
    RingConnection,
    RingEdge,
    build_subgraph,
    check_subgraph_args,
    ctx_of,
    make_case,
    make_claim,
    make_doctor,
    make_finding,
    make_injury_case,
    make_institution,
    make_note,
    make_patient,
    make_ring,
    subgraph_of,
)
from api.gql.errors import ErrorCodes, MaskUnexpected, is_unexpected
from api.gql.executor import PlainLeavesExecutor
from api.gql.response_cache import ResponseCacheExtension
from api.gql.types import (
    DetectionRunInfo,
    NamedQuery,
    NamedQueryParam,
    NodeRefInput,
    PageInfo,
    Path,
    QueryRows,
    RingVerdict,
    SearchHit,
    Subgraph,
    check_first,
    present_edge,
    search_hit,
)
from api.security import permissions
from api.security.access import Action, require_owner
from api.security.audit_extension import AuditExtension
from api.security.hygiene import NoSuggestions
from api.security.masking import MASKED_KEY_LABELS, TOKEN_PREFIX
from api.settings import ApiSettings
from api.workflow import cases as case_ops
from api.workflow.case_members import add_entities
from graph import listing
from graph.errors import InvalidRequest, NotFound
from graph.listing import Page
from graph.model import NODE_TYPES, Node, claim_key
from graph.serving import pictures as sg
from queries import library

SEARCHABLE = (*tuple(n.label for n in NODE_TYPES if not n.derived), "Ring")


def _lookup(ctx: Context, label: str, key: str) -> Node | None:
    return ctx.store.get_node(label, ctx.real_key(label, key))


def _page_info(page: Page) -> PageInfo:
    return PageInfo(has_next_page=page.has_next, end_cursor=page.end_cursor)


def _search(ctx: Context, text: str, first: int) -> list[Node]:
    text = text.strip()
    if not text:
        raise InvalidRequest("search needs some text")
    if ctx.masked:
        return _exact_search(ctx, text, first)
    return ctx.store.search(text, labels=SEARCHABLE, limit=first)


def _exact_search(ctx: Context, text: str, first: int) -> list[Node]:
    """Search for masked roles: no prefix or name matching on anything personal (an oracle that
    gives back ID numbers a digit at a time, or confirms a guessed name). A masked key (``~...``)
    finds its node; a plain text matches non-personal keys exactly and institution names."""
    if text.startswith(TOKEN_PREFIX):
        for label in sorted(MASKED_KEY_LABELS):
            try:
                key = ctx.real_key(label, text)
            except InvalidRequest:
                continue
            return ctx.store.get_nodes(label, [key])
        raise InvalidRequest(f"{text!r} is not a key this server issued")
    found: list[Node] = []
    for label in SEARCHABLE:
        if label not in MASKED_KEY_LABELS:
            found += ctx.store.get_nodes(label, [text])
    named = ctx.store.search(text, labels=["Institution", "Pharmacy"], limit=first)
    return list({n.ref: n for n in [*found, *named]}.values())[:first]


async def _entity(info: Info, label: str, key: str) -> Node | None:
    ctx = ctx_of(info)
    return await ctx.run(_lookup, ctx, label, key)


@strawberry.type
class Query:
    @permissions.field(Action.read_graph)
    async def patient(self, info: Info, id: str) -> Patient | None:

        """An insured person by ID number (or the masked key an analyst was given)."""
        node = await _entity(info, "Patient", id)
        return make_patient(ctx_of(info), node) if node else None

    @permissions.field(Action.read_graph)
    async def doctor(self, info: Info, id: str) -> Doctor | None:
        node = await _entity(info, "Doctor", id)
        return make_doctor(ctx_of(info), node) if node else None

    @permissions.field(Action.read_graph)
    async def institution(self, info: Info, id: str) -> Institution | None:
        node = await _entity(info, "Institution", id)
        return make_institution(ctx_of(info), node) if node else None

    @permissions.field(Action.read_graph)
    async def pharmacy(self, info: Info, id: str) -> Institution | None:
        node = await _entity(info, "Pharmacy", id)
        return make_institution(ctx_of(info), node) if node else None

    @permissions.field(Action.read_graph)
    async def claim(self, info: Info, scheme: str, id: str) -> Claim | None:
        node = await _entity(info, "Claim", claim_key(scheme, id))
        return make_claim(ctx_of(info), node) if node else None

    @permissions.field(Action.read_graph)
    async def injury_case(self, info: Info, id: str) -> InjuryCase | None:
        node = await _entity(info, "InjuryCase", id)
        return make_injury_case(ctx_of(info), node) if node else None

    @permissions.field(Action.read_graph)
    async def search(self, info: Info, text: str, first: int | None = 20) -> list[SearchHit]:

        """Entities whose key starts with the text or whose name contains it."""
        ctx = ctx_of(info)
        first = check_first(first, ctx.api.max_page)
        nodes = await ctx.run(_search, ctx, text, first)
        return [search_hit(ctx, n) for n in nodes]

    @permissions.field(Action.read_graph)
    async def subgraph(
        self, info: Info, seeds: list[NodeRefInput], hops: int | None = 2, rel_types: list[str] | None = None,
        since: date | None = None, until: date | None = None, max_nodes: int | None = 300,
    ) -> Subgraph:

        """Nodes and relationships around the seeds, capped per hub and in total."""
        ctx = ctx_of(info)
        hops, max_nodes = check_subgraph_args(ctx, hops, max_nodes, default_hops=2)
        if not seeds:
            raise InvalidRequest("subgraph needs at least one seed")
        refs = [ctx.real_ref(s.label, s.key) for s in seeds]
        return await ctx.run(build_subgraph, ctx, refs, hops=hops, max_nodes=max_nodes,
                             rel_types=rel_types, since=since, until=until)

    @permissions.field(Action.read_graph)
    async def paths(
        self, info: Info, from_: Annotated[NodeRefInput, strawberry.argument(name="from")],
        to: NodeRefInput, max_hops: int | None = 4,
    ) -> list[Path]:

        """Shortest connections between two entities (within the hub caps)."""
        ctx = ctx_of(info)
        max_hops = 4 if max_hops is None else max_hops
        if not 1 <= max_hops <= ctx.api.max_hops:
            raise InvalidRequest(f"maxHops must be between 1 and {ctx.api.max_hops}")
        source, target = ctx.real_ref(from_.label, from_.key), ctx.real_ref(to.label, to.key)

        def work() -> list[Path]:
            found, assembled = sg.paths(
                ctx.store, source, target, max_hops=max_hops, max_nodes=ctx.api.max_nodes,
                cap=ctx.api.hub_cap, max_paths=ctx.api.max_paths,
            )
            drawn = subgraph_of(ctx, sg.Assembled(
                nodes={r: assembled.nodes[r] for p in found for r in p}, cut=assembled.cut))
            by_id = {n.id: n for n in drawn.nodes}
            out = []
            for p in found:
                nodes = [by_id[strawberry.ID(f"{r.label}:{ctx.shown_key(r.label, r.key)}")] for r in p]
                edges = [present_edge(ctx, e) for e in sg.path_edges(assembled, p)]
                out.append(Path(nodes=nodes, edges=edges))
            return out

        return await ctx.run(work)

    @permissions.field(Action.read_graph)
    async def rings(
        self, info: Info, kind: str | None = None, min_score: float | None = None, status: str | None = None,
        first: int | None = 20, after: str | None = None,
    ) -> RingConnection:

        """Rings found by detection, highest score first."""
        ctx = ctx_of(info)
        first = check_first(first, ctx.api.max_page)
        wanted = listing.rings(kind=kind, status=status, min_score=min_score, first=first, after=after)
        page = await ctx.run(ctx.store.list_nodes, wanted)
        return RingConnection(edges=[RingEdge(cursor=c, node=make_ring(ctx, n))
                                     for c, n in zip(page.cursors, page.nodes, strict=True)],
                              page_info=_page_info(page), total_count=page.total)

    @permissions.field(Action.read_graph)
    async def ring(self, info: Info, id: strawberry.ID) -> Ring | None:
        node = await _entity(info, "Ring", str(id))
        return make_ring(ctx_of(info), node) if node else None

    @permissions.field(Action.read_graph)
    async def double_claims(
        self, info: Info, kind: str | None = None, person_id: str | None = None, first: int | None = 20,
        after: str | None = None,
    ) -> FindingConnection:

        """Double claims across cover found by the latest detection run."""
        return await _finding_page(info, "double_claim", kind, person_id, first, after)

    @permissions.field(Action.read_graph)
    async def anomalies(
        self, info: Info, kind: str | None = None, person_id: str | None = None, first: int | None = 20,
        after: str | None = None,
    ) -> FindingConnection:

        """Impossible-care anomalies found by the latest detection run."""
        return await _finding_page(info, "anomaly", kind, person_id, first, after)

    @permissions.field(Action.read_cases)
    async def cases(self, info: Info, status: str | None = None, first: int | None = 20,
                    after: str | None = None) -> CaseConnection:
        ctx = ctx_of(info)
        first = check_first(first, ctx.api.max_page)
        page = await ctx.run(ctx.store.list_nodes, case_ops.cases_listing(status=status, first=first,
                                                                          after=after))
        return CaseConnection(edges=[CaseEdge(cursor=c, node=make_case(ctx, n))
                                     for c, n in zip(page.cursors, page.nodes, strict=True)],
                              page_info=_page_info(page), total_count=page.total)

    @permissions.field(Action.read_cases)
    async def case(self, info: Info, id: strawberry.ID) -> Case | None:
        ctx = ctx_of(info)
        node = await _entity(info, "Case", str(id))
        return make_case(ctx, node) if node else None

    @permissions.field(Action.named_query)
    async def named_queries(self, info: Info) -> list[NamedQuery]:

        """The analysts' library of vetted queries (queries/*.cypher)."""
        return [
            NamedQuery(name=q.name, description=q.description,
                       parameters=[NamedQueryParam(name=p.name, type=str(p.type)) for p in q.parameters])
            for q in library.list_named_queries()
        ]

    @permissions.field(Action.named_query)
    async def run_named_query(self, info: Info, name: str, params: JSON | None = None) -> QueryRows:

        """Run a named query with typed parameters, row-capped."""
        ctx = ctx_of(info)
        if params is not None and not isinstance(params, dict):
            raise InvalidRequest("params must be a JSON object")
        ctx.force_audit(named_query=name)
        return await ctx.run(freeform.run_named, ctx, name, params)

    @permissions.field(Action.read_query)
    async def read_query(self, info: Info, text: str, params: JSON | None = None) -> QueryRows:

        """Run the store's own query language read-only (SQL on DuckDB, Cypher on Neo4j)."""
        ctx = ctx_of(info)
        if params is not None and not isinstance(params, dict):
            raise InvalidRequest("params must be a JSON object")
        return await ctx.run(freeform.run_text, ctx, text, params)


async def _finding_page(info: Info, category: str, kind: str | None, person_id: str | None, first: int | None,
                        after: str | None) -> FindingConnection:
    ctx = ctx_of(info)
    first = check_first(first, ctx.api.max_page)
    person = ctx.real_key("Patient", person_id) if person_id is not None else None
    wanted = listing.findings(category=category, kind=kind, person_id=person, first=first, after=after)
    page = await ctx.run(ctx.store.list_nodes, wanted)
    return FindingConnection(edges=[FindingEdge(cursor=c, node=make_finding(ctx, n))
                                    for c, n in zip(page.cursors, page.nodes, strict=True)],
                             page_info=_page_info(page), total_count=page.total)


@strawberry.type
class CaseEdge:
    cursor: str
    node: Case


@strawberry.type
class CaseConnection:
    edges: list[CaseEdge]
    page_info: PageInfo
    total_count: int


def _visible_case(ctx: Context, case_id: str) -> Node:
    """The case as the caller may see it; one outside the caller's scope reads as absent."""
    node = ctx.store.get_node("Case", case_id)
    if node is None:
        raise NotFound(f"case {case_id} not found")
    return node


def _owned_case(ctx: Context, case_id: str) -> Node:
    node = _visible_case(ctx, case_id)
    require_owner(ctx.principal, node)
    return node


@strawberry.type
class Mutation:
    @permissions.mutation(Action.write_cases)
    async def open_case(self, info: Info, title: str, ring_ids: list[str] | None = None,
                        entities: list[NodeRefInput] | None = None) -> Case:
        ctx = ctx_of(info)
        refs = [ctx.real_ref(e.label, e.key) for e in entities or []]
        node = await ctx.run(case_ops.open_case, ctx.writer, ctx.principal, title, ring_ids or [], refs)
        ctx.services.scopes.invalidate()
        ctx.force_audit(mutation="openCase", rings=list(ring_ids or []), entities=[str(r) for r in refs])
        return make_case(ctx, node)

    @permissions.mutation(Action.write_cases)
    async def add_case_entities(self, info: Info, case_id: str, entities: list[NodeRefInput]) -> Case:
        """Add entities (e.g. a box selection in the page) to a case of the caller's agency."""
        ctx = ctx_of(info)
        await ctx.run(_owned_case, ctx, case_id)
        refs = [ctx.real_ref(e.label, e.key) for e in entities]
        node = await ctx.run(add_entities, ctx.writer, case_id, refs)
        ctx.services.scopes.invalidate()
        ctx.force_audit(mutation="addCaseEntities", entities=[str(r) for r in refs])
        return make_case(ctx, node)

    @permissions.mutation(Action.add_note)
    async def add_case_note(self, info: Info, case_id: str, text: str) -> CaseNote:
        ctx = ctx_of(info)
        await ctx.run(_visible_case, ctx, case_id)
        node = await ctx.run(case_ops.add_note, ctx.writer, ctx.principal, case_id, text)
        ctx.note_case(case_id)
        ctx.force_audit(mutation="addCaseNote")
        return make_note(node)

    @permissions.mutation(Action.write_cases)
    async def set_case_status(self, info: Info, case_id: str, status: str) -> Case:
        ctx = ctx_of(info)
        await ctx.run(_owned_case, ctx, case_id)
        node = await ctx.run(case_ops.set_status, ctx.writer, case_id, status)
        ctx.force_audit(mutation="setCaseStatus", status=status)
        return make_case(ctx, node)

    @permissions.mutation(Action.write_cases)
    async def share_case(self, info: Info, case_id: str, agency: str,
                         agency_kind: str | None = "police") -> Case:

        """Share a case with a police or discipline-inspection agency (``agencyKind``, default police)."""
        ctx = ctx_of(info)
        await ctx.run(_owned_case, ctx, case_id)
        target = case_ops.share_target(agency_kind or "police", agency)
        node = await ctx.run(case_ops.share, ctx.writer, case_id, target)
        ctx.services.scopes.invalidate()
        ctx.force_audit(mutation="shareCase", shared_with=target)
        return make_case(ctx, node)

    @permissions.mutation(Action.review_ring)
    async def review_ring(self, info: Info, ring_id: str, verdict: RingVerdict, reason: str) -> Ring:
        ctx = ctx_of(info)
        if not reason.strip():
            raise InvalidRequest("a ring review needs a reason")

        def work() -> Node:
            if ctx.store.get_node("Ring", ring_id) is None:
                raise NotFound(f"ring {ring_id} not found")
            ctx.writer.upsert_nodes("Ring", pd.DataFrame([{
                "ring_id": ring_id, "review_verdict": verdict.value, "review_reason": reason.strip(),
                "reviewed_by": ctx.principal.sub, "reviewed_at": case_ops.now_utc(),
            }]))
            return ctx.writer.get_nodes("Ring", [ring_id])[0]

        node = await ctx.run(work)
        ctx.force_audit(mutation="reviewRing", ring=ring_id, verdict=verdict.value)
        return make_ring(ctx, node)

    @permissions.mutation(Action.run_detection)
    async def run_detection(self, info: Info) -> DetectionRunInfo:

        """Start a detection run in the background (admin); refused while one runs."""
        ctx = ctx_of(info)
        runner = ctx.services.detection
        if runner is None:
            raise InvalidRequest("detection cannot be started from this server")
        started = await ctx.run(runner.start)
        ctx.force_audit(mutation="runDetection")
        return DetectionRunInfo(status="started", started_at=started.isoformat(),
                                started_by=ctx.principal.sub)


ExtensionFactory = type[SchemaExtension] | Callable[[], SchemaExtension]


class ParseOnce(ParserCache):
    """strawberry's parser cache, leaving documents that do not parse to strawberry's own parse.

    The cache parses inside the extension hook, where a syntax error (or the token limit) would
    escape the operation without its error code; those documents are parsed again the usual way.
    """

    def on_parse(self) -> Iterator[None]:
        ec = self.execution_context
        with contextlib.suppress(GraphQLError):
            ec.graphql_document = self.cached_parse_document(ec.query, **ec.parse_options)
        yield


def schema_extensions(api: ApiSettings, *, dev: bool) -> list[ExtensionFactory]:
    """The limits and error handling every request goes through.

    Factories, not instances: strawberry builds fresh extensions per request, so concurrent
    requests never share an extension's execution context.
    """
    # The limits' validation rules are made once, not per request: the validation cache keys on
    # the rule classes, and a request of a known shape is then validated once per server.
    rules = [
        *QueryDepthLimiter(max_depth=api.max_depth).validation_rules,
        *MaxAliasesLimiter(max_alias_count=api.max_aliases).validation_rules,
    ]
    if not dev:
        rules.append(NoSchemaIntrospectionCustomRule)
    exts: list[ExtensionFactory] = [
        functools.partial(AddValidationRules, rules),
        functools.partial(MaxTokensLimiter, max_token_count=api.max_tokens),
        functools.partial(ParseOnce, maxsize=api.parse_cache),
        functools.partial(ValidationCache, maxsize=api.parse_cache),
        # exit order is the reverse of this list: audit runs before the codes are attached so
        # that an AUDIT_FAILED replacement gets its code too
        ErrorCodes,
        AuditExtension,
        functools.partial(CostLimit, max_cost=api.max_cost, max_nodes=api.max_nodes),
        ResponseCacheExtension,
    ]
    if not dev:
        exts += [MaskUnexpected, NoSuggestions]
    return exts


class _Schema(strawberry.Schema):
    def process_errors(self, errors: list[GraphQLError],
                       execution_context: ExecutionContext | None = None) -> None:
        # refusals, absent data and bad input are the API working as designed: no stack traces
        unexpected = [e for e in errors if is_unexpected(e)]
        if unexpected:
            super().process_errors(unexpected, execution_context)


def build_schema(api: ApiSettings | None = None, *, dev: bool = True) -> strawberry.Schema:
    return _Schema(
        query=Query, mutation=Mutation,
        extensions=schema_extensions(api or ApiSettings(), dev=dev),
        # pictures of hundreds of plain nodes and edges: see api/gql/executor.py
        execution_context_class=PlainLeavesExecutor,
    )


# The live schema shape (no extensions change it); `medfraud export-schema` prints this.
def schema_sdl() -> str:
    return str(strawberry.Schema(query=Query, mutation=Mutation)) + "\n"
