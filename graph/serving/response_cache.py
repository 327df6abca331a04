"""A bounded LRU of read answers, kept while the data they were built from is unchanged.

The serving layer owns it and keys nothing itself: the GraphQL extension that uses it
(:mod:`api.gql.response_cache`) puts the data version in every key, so a change to the store makes
every older answer unreachable, and the LRU bound lets them age out.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any


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


