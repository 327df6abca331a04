"""GraphQL output types and how store nodes become them (masking and audit applied here).

Every node leaving the API goes through :func:`present`, which masks it for the caller's role and
records it on the request's audit trail, so no field can return a person without both.
"""

from __future__ import annotations

from datetime import date, datetime
from enum import Enum
from typing import TYPE_CHECKING, Any

import strawberry
from strawberry.scalars import JSON

from api.security.auth import Role
from api.security.masking import display_title, json_safe, mask_props, masked_title
from graph.errors import InvalidRequest
from graph.model import Edge, Node, NodeRef

if TYPE_CHECKING:
    from api.gql.context import Context


@strawberry.input(name="NodeRef")
class NodeRefInput:
    label: str
    key: str


@strawberry.type
class GraphNode:
    id: strawberry.ID
    label: str
    key: str
    title: str
    props: JSON
    ring_ids: list[str]
    risk_score: float | None
    cut_count: int


@strawberry.type
class GraphEdge:
    id: strawberry.ID
    type: str
    source: strawberry.ID
    target: strawberry.ID
    date: date | None


@strawberry.type
class Subgraph:
    nodes: list[GraphNode]
    edges: list[GraphEdge]
    truncated: bool


@strawberry.type
class Path:
    nodes: list[GraphNode]
    edges: list[GraphEdge]


@strawberry.type
class SearchHit:
    id: strawberry.ID
    label: str
    key: str
    title: str


@strawberry.type
class PageInfo:
    has_next_page: bool
    end_cursor: str | None


@strawberry.type
class ScorePoint:
    run_id: str
    score: float
    member_count: int


@strawberry.type
class RingReview:
    verdict: str | None
    reason: str | None
    reviewed_by: str | None
    reviewed_at: str | None


@strawberry.type
class RingMember:
    type: str
    id: str
    title: str
    role: str | None


@strawberry.type
class RingMembership:
    ring_id: str
    score: float


@strawberry.type
class SharedIdentifier:
    kind: str
    label: str
    key: str
    value: str
    person_count: int


@strawberry.type
class QueryRows:
    columns: list[str]
    rows: JSON
    truncated: bool


@strawberry.type
class NamedQueryParam:
    name: str
    type: str


@strawberry.type
class NamedQuery:
    name: str
    description: str
    parameters: list[NamedQueryParam]


@strawberry.type
class DetectionRunInfo:
    status: str
    started_at: str
    started_by: str


@strawberry.enum
class RingVerdict(Enum):
    CONFIRMED = "CONFIRMED"
    DISMISSED = "DISMISSED"


# -- presentation ---------------------------------------------------------------------------------
# Props arrive typed from the port (graph/records.py): these only present them, never parse them.
def text(value: object) -> str | None:
    """A shown property (already JSON-safe, possibly masked) as GraphQL text."""
    return None if value is None else str(value)


def iso(value: date | datetime | None) -> str | None:
    return None if value is None else value.isoformat()


def check_first(first: int | None, ceiling: int, default: int = 20) -> int:
    """A page size: ``null`` means the default; negative or above the ceiling is refused."""
    if first is None:
        return min(default, ceiling)
    if first < 0:
        raise InvalidRequest("first must not be negative")
    if first > ceiling:
        raise InvalidRequest(f"first must be at most {ceiling}")
    return first


# -- presenting nodes ------------------------------------------------------------------------
# Server-side facts no investigator needs: where the input file lay on the server's disk.
ADMIN_ONLY_PROPS = frozenset({"source_file"})


def shown_props(ctx: Context, node: Node) -> dict[str, Any]:
    props = mask_props(node.label, node.props) if ctx.masked else dict(node.props)
    if ctx.principal.role is not Role.admin:
        for name in ADMIN_ONLY_PROPS:
            props.pop(name, None)
    return json_safe(props)  # type: ignore[no-any-return]


def title_of(ctx: Context, node: Node) -> str:
    return masked_title(node) if ctx.masked else display_title(node)


def node_id(ctx: Context, ref: NodeRef) -> str:
    return f"{ref.label}:{ctx.shown_key(ref.label, ref.key)}"


def present(ctx: Context, node: Node, *, rings: list[tuple[str, float]] | None = None,
            cut: int = 0) -> GraphNode:
    ctx.note(node)
    memberships = rings or []  # already what the caller may see (api.security.scope.ScopedStore.rings_of)
    return GraphNode(
        id=strawberry.ID(node_id(ctx, node.ref)),
        label=node.label,
        key=ctx.shown_key(node.label, node.key),
        title=title_of(ctx, node),
        props=JSON(shown_props(ctx, node)),
        ring_ids=[r for r, _ in memberships],
        risk_score=max((s for _, s in memberships), default=None),
        cut_count=cut,
    )


def present_edge(ctx: Context, edge: Edge) -> GraphEdge:
    src, dst = node_id(ctx, edge.src), node_id(ctx, edge.dst)
    return GraphEdge(
        id=strawberry.ID(f"{edge.type}:{src}->{dst}"),
        type=edge.type,
        source=strawberry.ID(src),
        target=strawberry.ID(dst),
        date=day if isinstance(day := edge.props.get("date"), date) else None,
    )


def search_hit(ctx: Context, node: Node) -> SearchHit:
    ctx.note(node)
    return SearchHit(
        id=strawberry.ID(node_id(ctx, node.ref)), label=node.label,
        key=ctx.shown_key(node.label, node.key), title=title_of(ctx, node),
    )

