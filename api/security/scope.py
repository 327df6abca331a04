"""The one scope layer: every read a request makes goes through a :class:`ScopedStore`.

A request never sees the store itself. :class:`api.gql.context.Context` hands resolvers a
``ScopedStore`` built from the caller (role, agency kind and id, the cases shared with that
agency), which filters nodes, relationships, ring memberships and findings *before* any resolver
sees them. Resolvers therefore cannot forget a check: what they are given is already what the
caller may see. Anything filtered out reads as absent, and is recorded on the request's audit
trail as out of scope (:attr:`api.gql.context.AuditTrail.hidden`).

Rules (see :mod:`api.security.access` for the roles):

- investigator, admin: everything;
- analyst: everything but cases and case notes (and the links to them);
- police: the cases shared with their agency, what those cases include, the members of the rings
  they include, those patients' own claims and identifiers, the notes of those cases and the
  findings about those patients. Relationships only between visible nodes; ``cutCount`` of a hub
  is not reported (it would count what lies outside the scope).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date

from api.security.access import PoliceScope
from api.security.auth import Role
from graph.listing import Listing, Page, restricted
from graph.model import Node, NodeRef, node_type
from graph.port import Direction, Expansion, GraphStore
from graph.serving.pictures import Assembled
from graph.serving.ring_index import RingIndex

# a ring's prepared picture by ring id, hops, node ceiling and hub cap (graph.serving.ring_pictures)
PreparedPicture = Callable[[str, int, int, int], Assembled | None]

# Labels an analyst has no business with (investigations, not data).
ANALYST_HIDDEN = frozenset({"Case", "CaseNote"})
_BIG_CAP = 100_000


@dataclass(frozen=True)
class Visibility:
    """What one caller may see, decided per node."""

    role: Role
    police: PoliceScope | None = None

    @property
    def unrestricted(self) -> bool:
        return self.role in (Role.investigator, Role.admin)

    def allows(self, node: Node) -> bool:
        if self.unrestricted:
            return True
        if self.role is not Role.police:
            return node.label not in ANALYST_HIDDEN
        scope = self.police
        if scope is None:
            return False
        if node.label == "CaseNote":
            return str(node.props.get("case_id") or "") in scope.cases
        if node.label == "Finding":
            return str(node.props.get("person_id") or "") in scope.patients
        return scope.allows(node.ref)

    def allows_ref(self, ref: NodeRef) -> bool | None:
        """Whether a ref is visible, or ``None`` when only its properties can tell."""
        if self.unrestricted:
            return True
        if self.role is not Role.police:
            return ref.label not in ANALYST_HIDDEN
        if ref.label in ("CaseNote", "Finding"):
            return None
        return self.police is not None and self.police.allows(ref)

    def allows_ring(self, ring_id: str) -> bool:
        if self.role is not Role.police:
            return True
        return self.police is not None and ring_id in self.police.rings


class ScopedStore:
    """The store as one caller may see it (reads only; writes go through :mod:`api.workflow.cases`)."""

    def __init__(self, store: GraphStore, visibility: Visibility, *,
                 ring_index: Callable[[], RingIndex], on_hidden: Callable[[NodeRef], None],
                 prepared_picture: PreparedPicture | None = None) -> None:
        self._store = store
        self.visibility = visibility
        self._ring_index = ring_index
        self._on_hidden = on_hidden
        self._prepared_picture = prepared_picture

    @property
    def kind(self) -> str:
        return self._store.kind

    def _keep(self, nodes: Sequence[Node], *, asked: bool) -> list[Node]:
        out = []
        for n in nodes:
            if self.visibility.allows(n):
                out.append(n)
            elif asked:
                self._on_hidden(n.ref)
        return out

    # -- node reads ------------------------------------------------------------------------------
    def get_nodes(self, label: str, keys: Sequence[str]) -> list[Node]:
        wanted = list(keys)
        if not wanted:
            return []
        known = [self.visibility.allows_ref(NodeRef(label, k)) for k in wanted]
        for k, ok in zip(wanted, known, strict=True):
            if ok is False:
                self._on_hidden(NodeRef(label, k))
        keys_ = [k for k, ok in zip(wanted, known, strict=True) if ok is not False]
        return self._keep(self._store.get_nodes(label, keys_), asked=True) if keys_ else []

    def get_node(self, label: str, key: str) -> Node | None:
        found = self.get_nodes(label, [key])
        return found[0] if found else None

    def neighbours(self, seeds: Sequence[NodeRef], *, rel_types: Sequence[str] | None = None,
                   labels: Sequence[str] | None = None, since: date | None = None,
                   until: date | None = None, cap: int = 100, direction: Direction = "both") -> Expansion:
        vis = self.visibility
        seen = self._visible_refs(seeds)
        if not seen:
            return Expansion()
        if vis.unrestricted:
            return self._store.neighbours(seen, rel_types=rel_types, labels=labels, since=since, until=until,
                                          cap=cap, direction=direction)
        restricted = vis.role is Role.police
        # police: read past the cap, filter, then cap, so that hidden neighbours take no room
        exp = self._store.neighbours(seen, rel_types=rel_types, labels=labels, since=since, until=until,
                                     cap=_BIG_CAP if restricted else cap, direction=direction)
        nodes = self._keep(exp.nodes, asked=False)
        visible = {n.ref for n in nodes} | set(seen)
        edges = [e for e in exp.edges if e.src in visible and e.dst in visible]
        if not restricted:
            return Expansion(nodes=nodes, edges=edges, cut=exp.cut)
        kept_edges, per_seed = [], dict.fromkeys(seen, 0)
        for e in edges:
            seed = e.src if e.src in per_seed else e.dst
            if per_seed.get(seed, 0) < cap:
                per_seed[seed] = per_seed.get(seed, 0) + 1
                kept_edges.append(e)
        ends = {r for e in kept_edges for r in (e.src, e.dst)}
        return Expansion(nodes=[n for n in nodes if n.ref in ends], edges=kept_edges)

    def _visible_refs(self, refs: Sequence[NodeRef]) -> list[NodeRef]:
        out, unknown = [], []
        for r in dict.fromkeys(refs):
            ok = self.visibility.allows_ref(r)
            if ok is None:
                unknown.append(r)
            elif ok:
                out.append(r)
            else:
                self._on_hidden(r)
        by_label: dict[str, list[str]] = {}
        for r in unknown:
            by_label.setdefault(r.label, []).append(r.key)
        for label, keys in by_label.items():
            out += [n.ref for n in self._keep(self._store.get_nodes(label, keys), asked=True)]
        return out

    def degrees(self, refs: Sequence[NodeRef], rel_types: Sequence[str] | None = None) -> dict[NodeRef, int]:
        seen = self._visible_refs(refs)
        if not seen:
            return {}
        if self.visibility.role is not Role.police:
            return self._store.degrees(seen, rel_types)
        # counted over what the caller can see: a count over everything would leak the rest
        exp = self.neighbours(seen, rel_types=rel_types, cap=_BIG_CAP)
        counts = dict.fromkeys(seen, 0)
        for e in exp.edges:
            for end in (e.src, e.dst):
                if end in counts:
                    counts[end] += 1
        return counts

    def search(self, text: str, *, labels: Sequence[str], limit: int) -> list[Node]:
        vis = self.visibility
        if vis.role is not Role.police:
            return self._keep(self._store.search(text, labels=labels, limit=limit), asked=False)[:limit]
        # police: matched within the scope itself (a few hundred nodes), so a common surname over a
        # city of a million cannot crowd the scope's matches out of a capped store search
        scope = vis.police
        if scope is None:
            return []
        wanted = set(labels)
        by_label: dict[str, list[str]] = {}
        for ref in scope.nodes:
            if ref.label in wanted:
                by_label.setdefault(ref.label, []).append(ref.key)
        if "Ring" in wanted:
            by_label["Ring"] = sorted(scope.rings)
        order = {label: i for i, label in enumerate(labels)}
        needle = text.strip().lower()
        hits: list[tuple[int, int, str, Node]] = []
        for label, keys in by_label.items():
            props = node_type(label).search_props
            for node in self._store.get_nodes(label, sorted(keys)):
                rank = 0 if node.key == text else 1 if node.key.startswith(text) else 2
                if rank < 2 or any(needle in str(node.props.get(p) or "").lower() for p in props):
                    hits.append((rank, order[label], node.key, node))
        return [n for *_, n in sorted(hits, key=lambda h: h[:3])][:limit]

    def list_nodes(self, listing: Listing) -> Page:
        """A page of the visible nodes a listing describes: the scope is one more filter pushed
        down to the store, so a page is a page of what the caller may see, and counts count only that."""
        vis = self.visibility
        if vis.unrestricted:
            return self._store.list_nodes(listing)
        nothing = restricted(listing, node_type(listing.label).key, ())
        if vis.role is not Role.police:
            return self._store.list_nodes(nothing if listing.label in ANALYST_HIDDEN else listing)
        scope = vis.police
        if scope is None:
            return self._store.list_nodes(nothing)
        if listing.label == "Finding":
            return self._store.list_nodes(restricted(listing, "person_id", scope.patients))
        if listing.label == "CaseNote":
            return self._store.list_nodes(restricted(listing, "case_id", scope.cases))
        allowed = (scope.rings if listing.label == "Ring" else scope.cases if listing.label == "Case"
                   else frozenset(r.key for r in scope.nodes if r.label == listing.label))
        return self._store.list_nodes(restricted(listing, node_type(listing.label).key, allowed))

    # -- ring memberships ------------------------------------------------------------------------
    def rings_of(self, refs: Sequence[NodeRef]) -> dict[NodeRef, list[tuple[str, float]]]:
        found = self._ring_index().rings_of(list(refs))
        return {r: [m for m in ms if self.visibility.allows_ring(m[0])] for r, ms in found.items()}

    def ring_members(self, ring_id: str) -> list[tuple[NodeRef, str | None]]:
        if not self.visibility.allows_ring(ring_id):
            return []
        return list(self._ring_index().members.get(ring_id, []))

    def ring_picture(self, ring_id: str, *, hops: int, max_nodes: int, cap: int) -> Assembled | None:
        """The ring's prepared picture, for a caller whose scope hides no part of it; else None
        (the caller assembles it through this scope).

        A prepared picture was assembled from the whole store. Police scopes filter what a picture
        may reach (and count), so they never get one; every other caller sees every node a picture
        can reach (pictures traverse data only), which is checked node by node all the same.
        """
        vis = self.visibility
        if self._prepared_picture is None or vis.role is Role.police or not vis.allows_ring(ring_id):
            return None
        picture = self._prepared_picture(ring_id, hops, max_nodes, cap)
        if picture is None or not all(vis.allows(n) for n in picture.nodes.values()):
            return None
        return picture
