"""The cost of a GraphQL document in nodes, checked before anything runs.

Depth, alias and token limits bound a document's shape, not what it costs: ten aliases of
``rings(first: 200) { subgraph(maxNodes: 1000) }`` pass all three and ask for two million nodes.
Here every field is charged the nodes it can return — ``first`` for a page, ``maxNodes`` for a
subgraph, both ends' ``maxNodes`` for paths, :data:`LIST_GUESS` for a list without a page size —
times the number of parents it runs under (the pages and lists above it). The sum over the
document must stay within ``MEDFRAUD_API_MAX_COST``; a request over it is refused whole with
``BAD_REQUEST``, before any store call.

Store time is bounded separately, per request (``MEDFRAUD_API_REQUEST_STORE_S``, see
:meth:`api.gql.context.Context.run`).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from graphql import (
    ExecutionResult,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    InlineFragmentNode,
    OperationDefinitionNode,
    SelectionSetNode,
    value_from_ast_untyped,
)
from strawberry.extensions import SchemaExtension

from graph.errors import InvalidRequest

# Lists without a page size (ring members, case entities, a finding's claims ...): assumed this long.
LIST_GUESS = 50
LIST_FIELDS = frozenset({"members", "entities", "notes", "injuryCases", "sharedIdentifiers", "claims",
                         "rings", "doctors", "search", "scoreHistory", "evidence"})
# Fields that take a page size (`first`), with a default when it is left out.
PAGED_FIELDS = frozenset({"rings", "cases", "doubleClaims", "anomalies", "claims", "search", "doctors"})
# Where a field has no `first`/`maxNodes` of its own, what the server uses.
DEFAULT_FIRST = {"doctors": 100, "search": 20}
DEFAULT_PAGE = 20
DEFAULT_MAX_NODES = 300


def _args(field: FieldNode, variables: dict[str, Any]) -> dict[str, Any]:
    return {a.name.value: value_from_ast_untyped(a.value, variables) for a in field.arguments or ()}


def _int(value: Any, default: int) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else default


class _Walker:
    def __init__(self, fragments: dict[str, FragmentDefinitionNode], variables: dict[str, Any],
                 max_nodes: int) -> None:
        self.fragments = fragments
        self.variables = variables
        self.max_nodes = max_nodes

    def fields(self, selection_set: SelectionSetNode | None, seen: frozenset[str]) -> Iterator[FieldNode]:
        for sel in selection_set.selections if selection_set else ():
            if isinstance(sel, FieldNode):
                yield sel
            elif isinstance(sel, InlineFragmentNode):
                yield from self.fields(sel.selection_set, seen)
            elif isinstance(sel, FragmentSpreadNode) and sel.name.value not in seen:
                frag = self.fragments.get(sel.name.value)
                if frag is not None:
                    yield from self.fields(frag.selection_set, seen | {sel.name.value})

    def cost(self, selection_set: SelectionSetNode | None, parents: int,
             seen: frozenset[str] = frozenset()) -> int:
        total = 0
        for field in self.fields(selection_set, seen):
            name = field.name.value
            args = _args(field, self.variables)
            children = parents
            if name in ("subgraph",):
                total += parents * _int(args.get("maxNodes"), DEFAULT_MAX_NODES)
            elif name == "paths":
                total += parents * 2 * self.max_nodes
            elif "first" in args or (name in PAGED_FIELDS and field.selection_set is not None):
                size = _int(args.get("first"), DEFAULT_FIRST.get(name, DEFAULT_PAGE))
                total += parents * size
                children = parents * max(size, 1)
            elif name in LIST_FIELDS:
                total += parents * LIST_GUESS
                children = parents * LIST_GUESS
            elif field.selection_set is not None:
                total += parents
            total += self.cost(field.selection_set, children, seen)
        return total


def document_cost(document: Any, operation_name: str | None, variables: dict[str, Any] | None,
                  *, max_nodes: int) -> int:
    """Nodes the chosen operation of ``document`` can ask for (see the module docstring)."""
    fragments = {d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)}
    ops = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)
           and (operation_name is None or (d.name is not None and d.name.value == operation_name))]
    walker = _Walker(fragments, variables or {}, max_nodes)
    return sum(walker.cost(op.selection_set, 1) for op in ops[:1])


class CostLimit(SchemaExtension):
    def __init__(self, *, max_cost: int, max_nodes: int) -> None:
        self.max_cost = max_cost
        self.max_nodes = max_nodes

    def on_execute(self) -> Iterator[None]:
        ec = self.execution_context
        if ec.graphql_document is not None:
            cost = document_cost(ec.graphql_document, ec.operation_name, ec.variables,
                                 max_nodes=self.max_nodes)
            if cost > self.max_cost:
                exc = InvalidRequest(
                    f"this request can ask for {cost} nodes, more than the {self.max_cost} one request may "
                    "(MEDFRAUD_API_MAX_COST): ask for smaller pages or pictures, or split it")
                # a result set here means nothing is executed (as for a cached answer)
                ec.result = ExecutionResult(data=None, errors=[GraphQLError(str(exc), original_error=exc)])
        yield
