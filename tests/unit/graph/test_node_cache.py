"""The node cache answers like the store, and never serves a row older than the last write."""

from __future__ import annotations

from collections.abc import Sequence

from graph.model import Node
from graph.serving.node_cache import NodeCache


class Backing:
    def __init__(self) -> None:
        self.rows: dict[str, dict[str, object]] = {"a": {"v": 1}, "b": {"v": 2}}
        self.fetched: list[list[str]] = []

    def fetch(self, label: str, keys: Sequence[str]) -> list[Node]:
        self.fetched.append(list(keys))
        return [Node(label, k, dict(self.rows[k])) for k in keys if k in self.rows]


def test_second_read_comes_from_memory_in_the_order_asked() -> None:
    backing, cache = Backing(), NodeCache(10)
    assert [n.key for n in cache.get_nodes("Patient", ["b", "a", "zz"], backing.fetch)] == ["b", "a"]
    assert [n.key for n in cache.get_nodes("Patient", ["a", "b"], backing.fetch)] == ["a", "b"]
    assert backing.fetched == [["b", "a", "zz"]]
    assert cache.hits == 2


def test_callers_cannot_change_the_cached_rows() -> None:
    backing, cache = Backing(), NodeCache(10)
    cache.get_nodes("Patient", ["a"], backing.fetch)[0].props["v"] = 99
    assert cache.get_nodes("Patient", ["a"], backing.fetch)[0].props == {"v": 1}


def test_a_write_to_the_label_drops_its_rows_only() -> None:
    backing, cache = Backing(), NodeCache(10)
    cache.get_nodes("Patient", ["a"], backing.fetch)
    cache.get_nodes("Phone", ["a"], backing.fetch)
    backing.rows["a"] = {"v": 5}
    cache.invalidate(["Patient"])
    assert cache.get_nodes("Patient", ["a"], backing.fetch)[0].props == {"v": 5}
    assert cache.get_nodes("Phone", ["a"], backing.fetch)[0].props == {"v": 1}


def test_a_read_racing_a_write_does_not_store_what_it_read() -> None:
    backing, cache = Backing(), NodeCache(10)

    def fetch_then_write(label: str, keys: Sequence[str]) -> list[Node]:
        got = backing.fetch(label, keys)  # read before the write committed
        backing.rows["a"] = {"v": 7}
        cache.invalidate([label])
        return got

    assert cache.get_nodes("Patient", ["a"], fetch_then_write)[0].props == {"v": 1}
    assert cache.get_nodes("Patient", ["a"], backing.fetch)[0].props == {"v": 7}


def test_least_recently_used_rows_leave_first() -> None:
    backing, cache = Backing(), NodeCache(1)
    cache.get_nodes("Patient", ["a"], backing.fetch)
    cache.get_nodes("Patient", ["b"], backing.fetch)
    cache.get_nodes("Patient", ["a"], backing.fetch)
    assert backing.fetched == [["a"], ["b"], ["a"]]


def test_capacity_zero_reads_through() -> None:
    backing, cache = Backing(), NodeCache(0)
    cache.get_nodes("Patient", ["a"], backing.fetch)
    cache.get_nodes("Patient", ["a"], backing.fetch)
    assert len(backing.fetched) == 2
