"""Per-request GraphQL context: the caller, the scoped store, and what the request touched (for audit).

``ctx.store`` is a :class:`api.security.scope.ScopedStore`: the only view of the data resolvers get.
Writes (cases, reviews) use ``ctx.writer``, the raw store, after their own ownership checks.

Store calls run in worker threads under a time limit (``MEDFRAUD_API_STORE_TIMEOUT_S``) so a slow
query neither blocks the event loop nor holds a client past the limit; the DuckDB store gives each
thread its own cursor.
"""

from __future__ import annotations

import functools
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeVar

import anyio
import anyio.to_thread
from strawberry.dataloader import DataLoader
from strawberry.fastapi import BaseContext

from algorithms.evidence import Lang
from api.http.metrics import Metrics
from api.security.access import PoliceScope, ScopeCache
from api.security.audit import AuditLog
from api.security.auth import Principal, Role
from api.security.masking import MASKED_KEY_LABELS, TOKEN_PREFIX, KeyCipher, mask_key, unmask_key
from api.security.scope import ScopedStore, Visibility
from api.settings import ApiSettings
from graph.errors import InvalidRequest, QueryTimeout
from graph.model import Node, NodeRef
from graph.port import GraphStore
from graph.serving.ring_index import RingIndex
from graph.serving.store import ServingStore
from graph.settings import Settings

if TYPE_CHECKING:
    from api.workflow.detection import DetectionRunner

T = TypeVar("T")

# Labels whose appearance in an answer is person-level data worth an audit line.
AUDITED_LABELS = frozenset({"Patient", "Doctor", "Claim", "InjuryCase", "Phone", "BankAccount",
                            "Address", "Finding"})


@dataclass
class Services:
    """What lives as long as the server: shared by every request."""

    settings: Settings
    api: ApiSettings
    # every read and write of the server passes through it (graph.serving)
    store: ServingStore
    cipher: KeyCipher
    audit: AuditLog
    scopes: ScopeCache
    metrics: Metrics | None = None
    detection: DetectionRunner | None = None


@dataclass
class AuditTrail:
    entities: set[str] = field(default_factory=set)
    cases: set[str] = field(default_factory=set)
    # refs asked for but outside the caller's scope (they read as absent)
    hidden: set[str] = field(default_factory=set)
    # set by fields that return or change person-level data without returning nodes
    # (free-form queries, mutations): the request is audited even when no node came back
    forced: bool = False
    details: dict[str, Any] = field(default_factory=dict)



class Context(BaseContext):
    def __init__(self, services: Services, principal: Principal, *, lang: Lang = "zh") -> None:
        super().__init__()
        self.services = services
        self.principal = principal
        # the caller's language (api.i18n.negotiate): evidence and other server-written text
        self.lang: Lang = lang
        self.trail = AuditTrail()
        self._lock = threading.Lock()
        self._scope: PoliceScope | None = None
        self._scoped: ScopedStore | None = None
        # every store call of this request must finish by this time (MEDFRAUD_API_REQUEST_STORE_S):
        # a deadline rather than a sum, so that calls running side by side (aliases, nested
        # fields) share one budget instead of each getting its own
        self.store_deadline = time.monotonic() + services.api.request_store_s
        self.node_loader: DataLoader[NodeRef, Node | None] = DataLoader(load_fn=self._load_nodes)
        self.ring_loader: DataLoader[NodeRef, list[tuple[str, float]]] = DataLoader(load_fn=self._load_rings)

    @property
    def store(self) -> ScopedStore:
        """Every read of this request goes through here (see :mod:`api.security.scope`)."""
        if self._scoped is None:
            self._scoped = ScopedStore(
                self.services.store, Visibility(self.principal.role, self.scope()),
                ring_index=self.ring_index, on_hidden=self.note_hidden,
                prepared_picture=self.services.store.ring_picture)
        return self._scoped

    @property
    def writer(self) -> GraphStore:
        """The raw store, for mutations only (they check ownership themselves, in api.workflow.cases)."""
        return self.services.store

    @property
    def api(self) -> ApiSettings:
        return self.services.api

    # -- running store work -------------------------------------------------------------------
    async def run(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """Store work in a worker thread, under the call limit and what is left of the request's budget."""
        left = self.store_deadline - time.monotonic()
        if left <= 0:
            raise QueryTimeout(f"this request used its {self.api.request_store_s:g} s of store time; "
                               "ask for less at once (MEDFRAUD_API_REQUEST_STORE_S)")
        limit = min(self.api.store_timeout_s, left)
        try:
            with anyio.fail_after(limit):
                return await anyio.to_thread.run_sync(
                    functools.partial(fn, *args, **kwargs), abandon_on_cancel=True
                )
        except TimeoutError:
            raise QueryTimeout(f"the store did not answer within {limit:g} s") from None

    async def _load_nodes(self, refs: Sequence[NodeRef]) -> list[Node | None]:
        from graph.serving.pictures import fetch_nodes

        found = await self.run(fetch_nodes, self.store, list(refs))
        return [found.get(r) for r in refs]

    async def _load_rings(self, refs: Sequence[NodeRef]) -> list[list[tuple[str, float]]]:
        found = await self.run(self.store.rings_of, list(refs))
        return [found.get(r, []) for r in refs]

    def ring_index(self) -> RingIndex:
        """Ring membership of every node (in memory; reloaded after a detection run)."""
        return self.services.store.ring_index()

    # -- access ------------------------------------------------------------------------------
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
                self._scope = self.services.scopes.get(self.services.store, self.principal.agency_ref)
            return self._scope

    # -- keys as the client sees them ------------------------------------------------------------
    def real_key(self, label: str, key: str) -> str:
        """The key behind what the client sent. Masked roles must send the tokens they were shown
        for personal labels: a raw ID number or phone from them is refused, never confirmed."""
        if self.masked and label in MASKED_KEY_LABELS and not key.startswith(TOKEN_PREFIX):
            raise InvalidRequest(f"{label} keys are accepted only as the masked keys (~...) this server "
                                 "issued to your role")
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

    def note_hidden(self, ref: NodeRef) -> None:
        with self._lock:
            self.trail.hidden.add(str(ref))

    def force_audit(self, **details: Any) -> None:
        with self._lock:
            self.trail.forced = True
            self.trail.details.update(details)
