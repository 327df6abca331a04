"""DuckDB load transactions: a whole load commits at once or leaves nothing; other writers wait."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pandas as pd
import pytest

from graph.duckdb.store import DuckDBStore
from graph.errors import StoreError


@pytest.fixture
def store() -> Iterator[DuckDBStore]:
    s = DuckDBStore(":memory:", threads=2)
    s.apply_schema()
    s.upsert_nodes("Patient", pd.DataFrame({"person_id": ["P1"], "name": ["before"]}))
    yield s
    s.close()


def names(store: DuckDBStore) -> dict[str, object]:
    return {n.key: n.props["name"] for n in store.get_nodes("Patient", ["P1", "P2"])}


def test_a_failed_load_leaves_nothing_of_its_writes(store: DuckDBStore) -> None:
    with pytest.raises(RuntimeError), store.load_transaction():
        store.upsert_nodes("Patient", pd.DataFrame({"person_id": ["P1", "P2"], "name": ["after", "new"]}))
        store.upsert_nodes("Phone", pd.DataFrame({"phone": ["13812345678"]}))
        raise RuntimeError("the ingest failed after two writes")
    assert names(store) == {"P1": "before"}
    assert store.count_nodes().get("Phone", 0) == 0


def test_a_load_commits_every_write_at_once(store: DuckDBStore) -> None:
    seen_inside: dict[str, object] = {}

    def look() -> None:  # another thread reads the committed store while the load is open
        frame = store.nodes_frame("Patient", ["person_id", "name"])
        seen_inside.update(zip(frame["person_id"], frame["name"], strict=True))

    with store.load_transaction():
        store.upsert_nodes("Patient", pd.DataFrame({"person_id": ["P1", "P2"], "name": ["after", "new"]}))
        reader = threading.Thread(target=look)
        reader.start()
        reader.join()
    assert seen_inside == {"P1": "before"}
    assert names(store) == {"P1": "after", "P2": "new"}


def test_another_threads_write_waits_for_the_load(store: DuckDBStore) -> None:
    order: list[str] = []
    started = threading.Event()

    def write() -> None:
        started.set()
        store.upsert_nodes("Patient", pd.DataFrame({"person_id": ["P1"], "name": ["other"]}))
        order.append("other")

    with store.load_transaction():
        other = threading.Thread(target=write)
        other.start()
        started.wait()
        other.join(timeout=0.5)
        assert other.is_alive()  # blocked until the load ends
        store.upsert_nodes("Patient", pd.DataFrame({"person_id": ["P1"], "name": ["load"]}))
        order.append("load")
    other.join()
    assert order == ["load", "other"] and names(store)["P1"] == "other"


def test_loads_do_not_nest(store: DuckDBStore) -> None:
    with store.load_transaction(), pytest.raises(StoreError, match="already open"), store.load_transaction():
        pass
