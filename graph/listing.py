"""Listing in the port: filtered, ordered, cursor-paged reads of one label, pushed down to the store.

A :class:`Listing` says which nodes of a label (equal to, within a set, containing, at least), in
which order, and which page; :meth:`graph.port.GraphStore.list_nodes` answers it with a
:class:`Page` by one SQL (``graph/duckdb/listing.py``) or Cypher (``graph/neo4j/listing.py``)
query for the page and one for the count, so a page of 20 rings costs the same whether there are
200 or 200,000. :func:`rings`, :func:`findings` and :func:`cases` are the listings the API asks
for, in the orders investigators expect.

Cursors are opaque to callers: the base64 of ``o:<offset>`` of the node they follow, so the cursors
GraphQL clients already hold stay valid. A cursor this module did not make is an
:class:`InvalidRequest`, like every other bad argument (:mod:`graph.arguments`).
"""

from __future__ import annotations

import base64
from collections.abc import Callable, Collection, Iterator, Mapping
from dataclasses import dataclass, field

from graph.arguments import MAX_PAGE, check_page_size
from graph.errors import InvalidRequest
from graph.model import Node, node_type


@dataclass(frozen=True)
class Listing:
    """Which nodes of ``label``, in which order, which page.

    Filters (all must hold; property names from the model):
    ``equals`` prop = value; ``within`` prop is one of the values (an empty set matches nothing);
    ``contains`` a ``str_list`` prop holds the value; ``at_least`` a number prop >= value (a node
    without the prop does not match). ``order`` lists (prop, descending) pairs, missing values
    last; the key, ascending, breaks remaining ties so the order is total and pages never overlap.
    """

    label: str
    equals: Mapping[str, str] = field(default_factory=dict)
    within: Mapping[str, Collection[str]] = field(default_factory=dict)
    contains: Mapping[str, str] = field(default_factory=dict)
    at_least: Mapping[str, float] = field(default_factory=dict)
    order: tuple[tuple[str, bool], ...] = ()
    first: int = 20
    after: str | None = None

    @property
    def offset(self) -> int:
        return decode_cursor(self.after)

    def ordering(self) -> tuple[tuple[str, bool], ...]:
        """``order`` with the key appended (unless already there)."""
        key = node_type(self.label).key
        return self.order if any(p == key for p, _ in self.order) else (*self.order, (key, False))


@dataclass(frozen=True)
class Page:
    """One page: the nodes (typed props), each one's cursor, whether more follow, how many match."""

    nodes: list[Node]
    cursors: list[str]
    has_next: bool
    total: int

    @property
    def end_cursor(self) -> str | None:
        return self.cursors[-1] if self.cursors else None


def encode_cursor(offset: int) -> str:
    return base64.urlsafe_b64encode(f"o:{offset}".encode()).decode()


def decode_cursor(cursor: str | None) -> int:
    """The offset after a cursor (0 without one)."""
    if cursor is None:
        return 0
    try:
        kind, _, number = base64.urlsafe_b64decode(cursor.encode()).decode().partition(":")
        if kind != "o":
            raise ValueError(kind)
        offset = int(number) + 1
    except (ValueError, UnicodeDecodeError):
        raise InvalidRequest(f"invalid cursor {cursor!r}") from None
    if offset < 1:
        raise InvalidRequest(f"invalid cursor {cursor!r}")
    return offset


_NUMBERS = ("int", "float")


def check_listing(listing: Listing) -> None:
    """Names outside the model are ``SchemaError``; a bad page or a filter on the wrong type of
    property is ``InvalidRequest`` (the port's error contract)."""
    nt = node_type(listing.label)
    for props in (listing.equals, listing.within, listing.contains, listing.at_least):
        for name in props:
            nt.prop(name)
    for name, _ in listing.order:
        nt.prop(name)
    for name in listing.contains:
        if nt.prop(name).type != "str_list":
            raise InvalidRequest(f"{listing.label}.{name} is not a list: it cannot contain a value")
    for name in listing.at_least:
        if nt.prop(name).type not in _NUMBERS:
            raise InvalidRequest(f"{listing.label}.{name} is not a number: it has no minimum")
    for name in (*listing.equals, *listing.within):
        if nt.prop(name).type in ("json", "str_list"):
            raise InvalidRequest(f"{listing.label}.{name} cannot be compared for equality")
    check_page_size(listing.first)
    listing.offset  # noqa: B018  (a malformed cursor raises here, before the store is asked)


def page_of(listing: Listing, nodes: list[Node], total: int) -> Page:
    """The page from the (up to ``first + 1``) nodes the store returned from ``offset`` on."""
    offset = listing.offset
    shown = nodes[:listing.first]
    return Page(nodes=shown, cursors=[encode_cursor(offset + i) for i in range(len(shown))],
                has_next=len(nodes) > listing.first, total=total)


def every_node(list_nodes: Callable[[Listing], Page], listing: Listing) -> Iterator[Node]:
    """All nodes of a listing, page after page (for callers that need the whole set, e.g. a scope)."""
    after = None
    while True:
        page = list_nodes(Listing(listing.label, listing.equals, listing.within, listing.contains,
                                  listing.at_least, listing.order, MAX_PAGE, after))
        yield from page.nodes
        if not page.has_next:
            return
        after = page.end_cursor


# -- the listings the API asks for ---------------------------------------------------------------
def rings(*, kind: str | None = None, status: str | None = None, min_score: float | None = None,
          first: int = 20, after: str | None = None) -> Listing:
    """Rings, highest score first."""
    equals = {k: v for k, v in (("kind", kind), ("status", status)) if v is not None}
    at_least = {"score": min_score} if min_score is not None else {}
    return Listing("Ring", equals=equals, at_least=at_least, order=(("score", True),), first=first,
                   after=after)


def findings(*, category: str, kind: str | None = None, person_id: str | None = None,
             first: int = 20, after: str | None = None) -> Listing:
    """Findings of a category (double_claim, anomaly), largest excess amount first."""
    equals = {"category": category}
    if kind is not None:
        equals["kind"] = kind
    if person_id is not None:
        equals["person_id"] = person_id
    return Listing("Finding", equals=equals, order=(("excess_amount", True),), first=first, after=after)


def cases(*, status: str | None = None, shared_with: str | None = None, first: int = 20,
          after: str | None = None) -> Listing:
    """Cases, newest first; ``shared_with``: only those shared with this agency (``kind:id``)."""
    equals = {"status": status} if status is not None else {}
    contains = {"shared_with": shared_with} if shared_with is not None else {}
    return Listing("Case", equals=equals, contains=contains,
                   order=(("created_at", True), ("case_id", True)), first=first, after=after)


def restricted(listing: Listing, prop: str, allowed: Collection[str]) -> Listing:
    """The listing narrowed to nodes whose ``prop`` is among ``allowed`` (a caller's scope)."""
    node_type(listing.label).prop(prop)  # a name outside the model is a SchemaError
    if prop in listing.within:
        allowed = [v for v in listing.within[prop] if v in set(allowed)]
    return Listing(listing.label, listing.equals, {**listing.within, prop: frozenset(allowed)},
                   listing.contains, listing.at_least, listing.order, listing.first, listing.after)
