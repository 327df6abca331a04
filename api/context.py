"""Per-request GraphQL context: the caller, the store, and what the request touched (for audit).

Store calls run in worker threads under a time limit (``MEDFRAUD_API_STORE_TIMEOUT_S``) so a slow
query neither blocks the event loop nor holds a client past the limit; the DuckDB store gives each
thread its own cursor.
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeVar

import anyio
import anyio.to_thread
from strawberry.dataloader import DataLoader
from strawberry.fastapi import BaseContext

from api.access import Action, PoliceScope, ScopeCache, require
from api.audit import AuditLog
from api.auth import Principal, Role
from api.masking import KeyCipher, mask_key, unmask_key
from api.metrics import Metrics
from api.response_cache import ResponseCache
from api.ringindex import RingIndex, RingIndexCache
from api.settings import ApiSettings
from graph.errors import QueryTimeout
from graph.model import Node, NodeRef
from graph.port import GraphStore
from graph.settings import Settings

if TYPE_CHECKING:
    from api.detection import DetectionRunner
    from api.warmup import Warmup

T = TypeVar("T")

# Labels whose appearance in an answer is person-level data worth an audit line.
AUDITED_LABELS = frozenset({"Patient", "Doctor", "Claim", "InjuryCase", "Phone", "BankAccount",
                            "Address", "Finding"})


@dataclass
class Services:
    """What lives as long as the server: shared by every request."""

    settings: Settings
    api: ApiSettings
    store: GraphStore
    cipher: KeyCipher
    audit: AuditLog
    scopes: ScopeCache
    rings: RingIndexCache = field(default_factory=RingIndexCache)
    responses: ResponseCache = field(default_factory=lambda: ResponseCache(0))
    metrics: Metrics | None = None
    detection: DetectionRunner | None = None
    warmup: Warmup | None = None


@dataclass
class AuditTrail:
    entities: set[str] = field(default_factory=set)
    cases: set[str] = field(default_factory=set)
    # set by fields that return or change person-level data without returning nodes
    # (free-form queries, mutations): the request is audited even when no node came back
    forced: bool = False
    details: dict[str, Any] = field(default_factory=dict)

    @property
    def needed(self) -> bool:
        return self.forced or bool(self.entities) or bool(self.cases)


class Context(BaseContext):
    def __init__(self, services: Services, principal: Principal) -> None:
        super().__init__()
        self.services = services
        self.principal = principal
        self.trail = AuditTrail()
        self._lock = threading.Lock()
        self._scope: PoliceScope | None = None
        self.node_loader: DataLoader[NodeRef, Node | None] = DataLoader(load_fn=self._load_nodes)
        self.ring_loader: DataLoader[NodeRef, list[tuple[str, float]]] = DataLoader(load_fn=self._load_rings)

    @property
    def store(self) -> GraphStore:
        return self.services.store

    @property
    def api(self) -> ApiSettings:
        return self.services.api

    # -- running store work -------------------------------------------------------------------
    async def run(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        try:
            with anyio.fail_after(self.api.store_timeout_s):
                return await anyio.to_thread.run_sync(
                    functools.partial(fn, *args, **kwargs), abandon_on_cancel=True
                )
        except TimeoutError:
            raise QueryTimeout(f"the store did not answer within {self.api.store_timeout_s:g} s") from None

    async def _load_nodes(self, refs: Sequence[NodeRef]) -> list[Node | None]:
        from api.subgraph import fetch_nodes

        found = await self.run(fetch_nodes, self.store, list(refs))
        return [found.get(r) for r in refs]

    async def _load_rings(self, refs: Sequence[NodeRef]) -> list[list[tuple[str, float]]]:
        index = await self.run(self.ring_index)
        return [index.memberships.get(r, []) for r in refs]

    def ring_index(self) -> RingIndex:
        """Ring membership of every node (in memory; reloaded after a detection run)."""
        return self.services.rings.get(self.store)

    # -- access ------------------------------------------------------------------------------
    def require(self, action: Action) -> None:
        require(self.principal, action)

    @property
    def is_police(self) -> bool:
        return self.principal.role is Role.police

    @property
    def masked(self) -> bool:
        return self.principal.masked

    def scope(self) -> PoliceScope | None:
        """The police scope of this request (computed once, in the calling worker thread)."""
        if not self.is_police:
            return None
        with self._lock:
            if self._scope is None:
                self._scope = self.services.scopes.get(self.store, self.principal.agency)
            return self._scope

    def allows(self, ref: NodeRef) -> bool:
        scope = self.scope()
        return scope is None or scope.allows(ref)

    # -- keys as the client sees them ------------------------------------------------------------
    def real_key(self, label: str, key: str) -> str:
        return unmask_key(self.services.cipher, label, key)

    def real_ref(self, label: str, key: str) -> NodeRef:
        return NodeRef(label, self.real_key(label, key))

    def shown_key(self, label: str, key: str) -> str:
        return mask_key(self.services.cipher, label, key) if self.masked else key

    # -- audit -------------------------------------------------------------------------------
    def note(self, node: Node) -> None:
        if node.label in AUDITED_LABELS:
            with self._lock:
                self.trail.entities.add(f"{node.label}:{node.key}")

    def note_case(self, case_id: str) -> None:
        with self._lock:
            self.trail.cases.add(case_id)

    def force_audit(self, **details: Any) -> None:
        with self._lock:
            self.trail.forced = True
            self.trail.details.update(details)
