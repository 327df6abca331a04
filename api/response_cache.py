"""Answers of read-only GraphQL requests, reused while the data they were built from is unchanged.

Why: investigators of one bureau open the same rings and people many times a day (a ring page is
reloaded, shared in a meeting, compared), and building a 300-node picture costs tens of
milliseconds of store reads and GraphQL work each time. Only the embedded store can say when its
data changed (the API server is its single owner, see docs/operations.md); with Neo4j, where
ingest may write at any moment, nothing is cached.

What makes two requests "the same": the query text, operation and variables, and the caller
(subject, role and agency: masking and access depend on them), under the same store data version
and the same ring-membership index. Police tokens are never served from the cache: what they
may see is recomputed per request from the cases shared with their agency.

Audit is unchanged: a request served from the cache writes its own audit record with the entity
keys and cases of the cached answer (see ``ResponseCacheExtension`` and ``AuditExtension``).
"""

from __future__ import annotations

import json
import threading
from collections import OrderedDict
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from graphql import ExecutionResult, OperationDefinitionNode, OperationType
from strawberry.extensions import SchemaExtension

if TYPE_CHECKING:
    from api.context import Services

# Root fields whose answer depends only on the data and the caller. Free-form and named queries
# (time limits, analysts' ad-hoc text), mutations and detection status are always run.
CACHEABLE_FIELDS = frozenset({
    "patient", "doctor", "institution", "pharmacy", "claim", "injuryCase", "search", "subgraph",
    "paths", "rings", "ring", "doubleClaims", "anomalies", "cases", "case",
})


@dataclass(frozen=True)
class CachedAnswer:
    data: dict[str, Any]
    entities: frozenset[str]
    cases: frozenset[str]


class ResponseCache:
    """A bounded LRU of answers; thread-safe."""

    def __init__(self, capacity: int) -> None:
        self.capacity = capacity
        self._lock = threading.Lock()
        self._answers: OrderedDict[tuple[Any, ...], CachedAnswer] = OrderedDict()
        self.hits = 0
        self.misses = 0

    def get(self, key: tuple[Any, ...]) -> CachedAnswer | None:
        with self._lock:
            answer = self._answers.get(key)
            if answer is None:
                self.misses += 1
                return None
            self._answers.move_to_end(key)
            self.hits += 1
            return answer

    def put(self, key: tuple[Any, ...], answer: CachedAnswer) -> None:
        with self._lock:
            self._answers[key] = answer
            self._answers.move_to_end(key)
            while len(self._answers) > self.capacity:
                self._answers.popitem(last=False)

    def __len__(self) -> int:
        return len(self._answers)


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
        services: Services | None = getattr(ctx, "services", None)
        cache = services.responses if services is not None else None
        version = getattr(services.store, "data_version", None) if services is not None else None
        key: tuple[Any, ...] | None = None
        if (services is not None and cache is not None and cache.capacity > 0 and isinstance(version, int)
                and not ctx.is_police and _cacheable_operation(ec.graphql_document, ec.operation_name)):
            principal = ctx.principal
            key = (ec.query, ec.operation_name, json.dumps(ec.variables or {}, sort_keys=True, default=str),
                   principal.sub, principal.role.value, principal.agency_ref, version,
                   services.rings.generation, getattr(ctx, "lang", ""))
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
