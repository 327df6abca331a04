"""Who may do what, and the police scope: the cases shared with an agency and what is in them.

Roles
- ``investigator``: all data with full identities; opens and works cases; reviews rings.
- ``police``: only cases shared with their agency (``police:<id>`` or ``discipline:<id>``, never a
  bureau's own cases, whatever the id), the entities in them (and those entities' own claims and
  identifiers); full identities inside that scope, nothing outside it. Anything outside reads as
  absent (``NOT_FOUND`` / empty), so a probe learns nothing about existence.
- ``analyst``: all data with masked identities; named queries and read-only queries on the
  pseudonymised analyst view; no cases, notes or audit.
- ``admin``: everything, including starting a detection run.

A case belongs to the agency that opened it: only that agency's investigators (or an admin)
share it or move its status (:func:`require_owner`).

Object-level checks live in one place, :class:`api.security.scope.ScopedStore`, which every read of a
request goes through; resolvers never check roles or scopes themselves.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from enum import StrEnum

from api.security.auth import Principal, Role
from graph import listing
from graph.errors import AccessDenied
from graph.listing import every_node
from graph.model import Node, NodeRef
from graph.port import GraphStore


class Action(StrEnum):
    read_graph = "read_graph"
    read_cases = "read_cases"
    write_cases = "write_cases"
    add_note = "add_note"
    review_ring = "review_ring"
    read_query = "read_query"
    named_query = "named_query"
    run_detection = "run_detection"


ALLOWED: dict[Action, frozenset[Role]] = {
    Action.read_graph: frozenset(Role),
    Action.read_cases: frozenset({Role.investigator, Role.police, Role.admin}),
    Action.write_cases: frozenset({Role.investigator, Role.admin}),
    Action.add_note: frozenset({Role.investigator, Role.police, Role.admin}),
    Action.review_ring: frozenset({Role.investigator, Role.admin}),
    Action.read_query: frozenset({Role.investigator, Role.analyst, Role.admin}),
    Action.named_query: frozenset({Role.investigator, Role.analyst, Role.admin}),
    Action.run_detection: frozenset({Role.admin}),
}


def require(principal: Principal, action: Action) -> None:
    if principal.role not in ALLOWED[action]:
        allowed = ", ".join(sorted(r.value for r in ALLOWED[action]))
        raise AccessDenied(f"role {principal.role.value} may not {action.value.replace('_', ' ')} "
                           f"(allowed: {allowed})")


def require_owner(principal: Principal, case: Node) -> None:
    """Only the opening agency's investigators (or an admin) share, close or move a case."""
    if principal.role is Role.admin:
        return
    owner = str(case.props.get("agency") or "")
    if principal.role is Role.investigator and owner == principal.agency_ref:
        return
    raise AccessDenied(f"case {case.key} belongs to {owner or 'no agency'}; only its investigators "
                       "or an admin may share it or change its status")


# Relationships that carry a case patient's own data into the police scope.
_PERSONAL_RELS = ("HAS_CLAIM", "HAS_PHONE", "HAS_ACCOUNT", "LIVES_AT", "EMPLOYED_BY", "HAS_INJURY")
_BIG_CAP = 100_000


@dataclass(frozen=True)
class PoliceScope:
    agency: str
    cases: frozenset[str]
    rings: frozenset[str]
    nodes: frozenset[NodeRef] = field(default_factory=frozenset)

    def allows(self, ref: NodeRef) -> bool:
        if ref.label == "Ring":
            return ref.key in self.rings
        if ref.label == "Case":
            return ref.key in self.cases
        return ref in self.nodes

    @property
    def patients(self) -> frozenset[str]:
        return frozenset(r.key for r in self.nodes if r.label == "Patient")


def compute_police_scope(store: GraphStore, agency: str) -> PoliceScope:
    """What the agency ``agency`` (a ``kind:id`` reference) may see: the cases shared with it only.

    The opening agency of a case is deliberately not consulted: police never open cases, and a
    police agency whose id equals a bureau's must not inherit that bureau's cases.
    """
    case_ids = sorted(n.key for n in every_node(store.list_nodes, listing.cases(shared_with=agency)))
    if not case_ids:
        return PoliceScope(agency, frozenset(), frozenset())
    included = store.neighbours(
        [NodeRef("Case", c) for c in case_ids], rel_types=["INCLUDES", "INCLUDES_RING"],
        direction="out", cap=_BIG_CAP,
    )
    rings = {n.key for n in included.nodes if n.label == "Ring"}
    nodes = {n.ref for n in included.nodes if n.label != "Ring"}
    if rings:
        members = store.neighbours([NodeRef("Ring", r) for r in sorted(rings)], rel_types=["HAS_MEMBER"],
                                   direction="out", cap=_BIG_CAP)
        nodes.update(n.ref for n in members.nodes)
    patients = sorted(r for r in nodes if r.label == "Patient")
    if patients:
        own = store.neighbours(patients, rel_types=list(_PERSONAL_RELS), direction="out", cap=_BIG_CAP)
        nodes.update(n.ref for n in own.nodes)
    return PoliceScope(agency, frozenset(case_ids), frozenset(rings), frozenset(nodes))


class ScopeCache:
    """Police scopes reused for a few seconds; any case change in this process drops them all."""

    def __init__(self, ttl_s: float) -> None:
        self.ttl_s = ttl_s
        self._lock = threading.Lock()
        self._entries: dict[str, tuple[float, int, PoliceScope]] = {}
        self._version = 0

    def invalidate(self) -> None:
        with self._lock:
            self._version += 1
            self._entries.clear()

    def get(self, store: GraphStore, agency: str) -> PoliceScope:
        now = time.monotonic()
        with self._lock:
            hit = self._entries.get(agency)
            version = self._version
            if hit and hit[1] == version and now - hit[0] < self.ttl_s:
                return hit[2]
        scope = compute_police_scope(store, agency)
        with self._lock:
            if self._version == version:
                self._entries[agency] = (now, version, scope)
        return scope
