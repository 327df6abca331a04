"""Helpers for the ingest integration tests: a graph fingerprint and rejects read-back."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from graph.model import NODE_TYPES, REL_TYPES
from graph.port import GraphStore


def fingerprint(store: GraphStore, *, ignore: tuple[str, ...] = ()) -> dict[str, tuple[int, int]]:
    """(row count, content hash) of every input label and relationship type, order-independent."""
    out: dict[str, tuple[int, int]] = {}
    for nt in NODE_TYPES:
        if nt.derived:
            continue
        frame = store.nodes_frame(nt.label)
        frame = frame.drop(columns=[c for c in ignore if c in frame.columns])
        out[nt.label] = _hash(frame, [nt.key])
    for rt in REL_TYPES:
        if rt.derived:
            continue
        out[rt.type] = _hash(store.relationships_frame(rt.type), ["src", "dst"])
    return out


def _hash(frame: pd.DataFrame, keys: list[str]) -> tuple[int, int]:
    if frame.empty:
        return 0, 0
    frame = frame.sort_values(keys).reset_index(drop=True).astype(str)
    frame = frame[sorted(frame.columns)]
    return len(frame), int(pd.util.hash_pandas_object(frame, index=False).sum()) & (2**63 - 1)


def read_warnings(warnings_dir: Path) -> set[tuple[str, int, str]]:
    """(table, line, reason) of every field left out of a loaded row."""
    return read_rejects(warnings_dir)


def read_rejects(rejects_dir: Path) -> set[tuple[str, int, str]]:
    got: set[tuple[str, int, str]] = set()
    for path in sorted(rejects_dir.glob("*.csv")):
        frame = pd.read_csv(path, dtype=str, encoding="utf-8-sig", keep_default_na=False)
        for line, reason in zip(frame["line"], frame["reason"], strict=True):
            got.add((path.stem, int(line), reason))
    return got
