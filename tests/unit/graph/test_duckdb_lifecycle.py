"""DuckDB file lifecycle: restarts lose nothing, one owner per file, many threads per store."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import threading
from pathlib import Path

import pandas as pd
import pytest

from graph.duckdb.store import DuckDBStore
from graph.errors import StoreUnavailable
from graph.model import NodeRef
from graph.settings import load_settings

WRITER = textwrap.dedent("""
    import os, sys
    import pandas as pd
    from graph.duckdb.store import DuckDBStore
    path, how = sys.argv[1], sys.argv[2]
    s = DuckDBStore(path)
    s.apply_schema()
    s.upsert_nodes("Patient", pd.DataFrame({"person_id": [f"P{i}" for i in range(1000)],
                                            "name": ["张三"] * 1000}))
    s.upsert_nodes("Claim", pd.DataFrame({"claim_key": [f"c{i}" for i in range(1000)]}))
    s.upsert_relationships("HAS_CLAIM", pd.DataFrame({"src": [f"P{i}" for i in range(1000)],
                                                      "dst": [f"c{i}" for i in range(1000)]}))
    if how == "crash":
        os._exit(0)  # no close, no checkpoint: only the write-ahead log has it
    s.close()
""")


@pytest.mark.parametrize("how", ["close", "crash"])
def test_a_restart_finds_everything_written_before(tmp_path: Path, how: str) -> None:
    path = tmp_path / "graph.duckdb"
    done = subprocess.run([sys.executable, "-c", WRITER, str(path), how], capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr
    store = DuckDBStore(path)
    try:
        assert store.count_nodes()["Patient"] == 1000
        assert store.count_relationships()["HAS_CLAIM"] == 1000
        assert store.get_nodes("Patient", ["P999"])[0].props["name"] == "张三"
        assert [n.key for n in store.neighbours([NodeRef("Patient", "P7")]).nodes] == ["c7"]
    finally:
        store.close()


def test_a_second_process_gets_a_clear_refusal(tmp_path: Path) -> None:
    path = tmp_path / "owned.duckdb"
    owner = DuckDBStore(path)
    owner.apply_schema()
    try:
        probe = textwrap.dedent(f"""
            from graph.duckdb.store import DuckDBStore
            from graph.errors import StoreUnavailable
            for read_only in (False, True):
                try:
                    DuckDBStore({str(path)!r}, read_only=read_only)
                except StoreUnavailable as exc:
                    print("REFUSED", exc)
        """)
        out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=60)
        lines = [line for line in out.stdout.splitlines() if line.startswith("REFUSED")]
        assert len(lines) == 2, out.stdout + out.stderr
        assert "in use by another process" in lines[0]
        assert "API server owns it" in lines[0] and "runDetection" in lines[0]
    finally:
        owner.close()


def test_from_settings_and_a_missing_read_only_file(tmp_path: Path) -> None:
    settings = load_settings(duckdb_path=tmp_path / "sub" / "dir" / "x.duckdb", duckdb_threads=1)
    store = DuckDBStore.from_settings(settings)
    store.apply_schema()
    store.ping()
    store.close()
    assert (tmp_path / "sub" / "dir" / "x.duckdb").exists()
    with pytest.raises(StoreUnavailable, match="cannot open"):
        DuckDBStore(tmp_path / "absent.duckdb", read_only=True)
    with pytest.raises(StoreUnavailable, match="closed"):
        store.ping()


def test_threads_share_one_store(tmp_path: Path) -> None:
    store = DuckDBStore(tmp_path / "threads.duckdb", threads=2)
    store.apply_schema()
    store.upsert_nodes("Institution", pd.DataFrame({"institution_id": ["H1"]}))
    errors: list[BaseException] = []
    written = 40

    def writer() -> None:
        try:
            for i in range(written):
                store.upsert_nodes("Claim", pd.DataFrame({"claim_key": [f"c{i}"]}))
                store.upsert_relationships("TREATED_AT", pd.DataFrame({"src": [f"c{i}"], "dst": ["H1"],
                                                                       "dst_label": ["Institution"]}))
        except BaseException as exc:
            errors.append(exc)

    def reader() -> None:
        try:
            last = 0
            for _ in range(60):
                n = len(store.neighbours([NodeRef("Institution", "H1")], cap=1000).nodes)
                assert n >= last  # committed writes never disappear for a reader
                last = n
                store.count_nodes()
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=writer), *(threading.Thread(target=reader) for _ in range(4))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert errors == []
    assert len(store.neighbours([NodeRef("Institution", "H1")], cap=1000).nodes) == written
    store.close()
