"""Pages of listings (rings, findings, cases) kept until their label changes.

Why: the ring list and the findings list are every investigator's first screen, and a page costs
the store a scan of the label for its order and count — tens of milliseconds once there are a
million findings. Between two detection runs the answer to the same listing is the same for
everyone who asks it (the caller's scope is part of the listing, so two callers share an entry
only when they may see the same nodes). Entries are dropped per label when the label's revision
moves (:meth:`graph.serving.store.ServingStore._changed`); a read that raced with a write does
not store its possibly older page, as in :mod:`graph.serving.node_cache`.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Iterable
from typing import Any

from graph.listing import Listing, Page
from graph.model import Node


def listing_key(listing: Listing) -> tuple[Any, ...]:
    """A hashable identity of everything that decides the answer."""
    return (listing.label, tuple(sorted(listing.equals.items())),
            tuple(sorted((p, tuple(sorted(v))) for p, v in listing.within.items())),
            tuple(sorted(listing.contains.items())), tuple(sorted(listing.at_least.items())),
            listing.order, listing.first, listing.after)


def _copy(page: Page) -> Page:
    # callers may build on a node's properties; the kept page must stay as read
    return Page([Node(n.label, n.key, dict(n.props)) for n in page.nodes], list(page.cursors),
                page.has_next, page.total)


class ListingCache:
    """A bounded, thread-safe LRU of pages; ``capacity`` 0 turns it off."""

    def __init__(self, capacity: int) -> None:
        self.capacity = capacity
        self._lock = threading.Lock()
        self._pages: OrderedDict[tuple[Any, ...], Page] = OrderedDict()
        self._generation: dict[str, int] = {}
        self.hits = 0
        self.misses = 0

    def get(self, listing: Listing, fetch: Callable[[Listing], Page]) -> Page:
        if self.capacity <= 0:
            return fetch(listing)
        key = listing_key(listing)
        with self._lock:
            page = self._pages.get(key)
            if page is not None:
                self._pages.move_to_end(key)
                self.hits += 1
                return _copy(page)
            self.misses += 1
            generation = self._generation.get(listing.label, 0)
        page = fetch(listing)
        with self._lock:
            if self._generation.get(listing.label, 0) == generation:
                self._pages[key] = _copy(page)
                while len(self._pages) > self.capacity:
                    self._pages.popitem(last=False)
        return page

    def invalidate(self, labels: Iterable[str]) -> None:
        labels = set(labels)
        with self._lock:
            for label in labels:
                self._generation[label] = self._generation.get(label, 0) + 1
            for key in [k for k in self._pages if k[0] in labels]:
                del self._pages[key]
