"""Answers of read-only GraphQL requests, reused while the data they were built from is unchanged.

Why: investigators of one bureau open the same rings and people many times a day (a ring page is
reloaded, shared in a meeting, compared), and building a 300-node picture costs tens of
milliseconds of store reads and GraphQL work each time. The answers live in the serving layer's
:class:`~graph.serving.response_cache.ResponseCache`; its data version changes with every write
the store's revision tokens report, on either store (:mod:`graph.serving.store`).

What makes two requests "the same": the query text, operation and variables, and the caller
(subject, role and agency: masking and access depend on them), under the same data version
(which ring membership is part of). Police tokens are never served from the cache: what they
may see is recomputed per request from the cases shared with their agency.

Audit is unchanged: a request served from the cache writes its own audit record with the entity
keys and cases of the cached answer (see ``ResponseCacheExtension`` and ``AuditExtension``).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from graphql import ExecutionResult, OperationDefinitionNode, OperationType
from strawberry.extensions import SchemaExtension

from api.gql.context import Context
from graph.serving.response_cache import CachedAnswer

# Root fields whose answer depends only on the data and the caller. Free-form and named queries
# (time limits, analysts' ad-hoc text), mutations and detection status are always run.
CACHEABLE_FIELDS = frozenset({
    "patient", "doctor", "institution", "pharmacy", "claim", "injuryCase", "search", "subgraph",
    "paths", "rings", "ring", "doubleClaims", "anomalies", "cases", "case",
})


def _cacheable_operation(document: Any, operation_name: str | None) -> bool:
    if document is None:
        return False
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    chosen = [d for d in operations
              if operation_name is None or (d.name is not None and d.name.value == operation_name)]
    if len(chosen) != 1 or chosen[0].operation is not OperationType.QUERY:
        return False
    names = [getattr(sel, "name", None) for sel in chosen[0].selection_set.selections]
    # a fragment spread at the root hides its fields: run it
    return all(n is not None and n.value in CACHEABLE_FIELDS for n in names)


class ResponseCacheExtension(SchemaExtension):
    def on_execute(self) -> Iterator[None]:
        ec = self.execution_context
        ctx = ec.context
        key: tuple[Any, ...] | None = None
        cache = None
        if isinstance(ctx, Context):
            store = ctx.services.store
            cache = store.answers
            if (cache.capacity > 0 and not ctx.is_police
                    and _cacheable_operation(ec.graphql_document, ec.operation_name)):
                principal = ctx.principal
                key = (ec.query, ec.operation_name,
                       json.dumps(ec.variables or {}, sort_keys=True, default=str),
                       principal.sub, principal.role.value, principal.agency_ref, store.data_version,
                       ctx.lang)
        hit = cache.get(key) if cache is not None and key is not None else None
        if hit is not None:
            ctx.trail.entities.update(hit.entities)
            ctx.trail.cases.update(hit.cases)
            ec.result = ExecutionResult(data=hit.data, errors=None)
        yield
        if cache is None or key is None or hit is not None:
            return
        result = ec.result
        if isinstance(result, ExecutionResult) and not result.errors and result.data is not None:
            trail = ctx.trail
            cache.put(key, CachedAnswer(result.data, frozenset(trail.entities), frozenset(trail.cases)))
