"""The in-memory ring membership follows detection runs."""

from __future__ import annotations

import json

import pandas as pd

from graph.derived import DerivedData
from graph.duckdb.store import DuckDBStore
from graph.model import NodeRef
from graph.serving.store import ServingStore


def write_run(store: DuckDBStore, run_id: str, members: list[str], score: float) -> None:
    store.replace_derived(
        DerivedData(
            run=pd.DataFrame([{"run_id": run_id, "status": "ok"}]),
            rings=pd.DataFrame(
                [
                    {
                        "ring_id": "R1",
                        "kind": "collusion",
                        "score": score,
                        "member_count": len(members),
                        "evidence": json.dumps([]),
                    }
                ]
            ),
            ring_members=pd.DataFrame(
                {"src": "R1", "dst": members, "dst_label": "Patient", "role": "patient"}
            ),
            findings=pd.DataFrame(columns=["finding_id", "kind", "category", "person_id"]),
            finding_claims=pd.DataFrame(columns=["src", "dst"]),
            finding_persons=pd.DataFrame(columns=["src", "dst"]),
        )
    )


def test_membership_is_reloaded_when_a_new_run_is_written() -> None:
    store = DuckDBStore(":memory:")
    store.apply_schema()
    store.upsert_nodes("Patient", pd.DataFrame({"person_id": ["A", "B", "C"]}))
    write_run(store, "run-1", ["A", "B"], 0.6)
    serving = ServingStore(store, owns_inner=False)
    first = serving.ring_index()
    assert first.memberships[NodeRef("Patient", "A")] == [("R1", 0.6)]
    assert NodeRef("Patient", "C") not in first.memberships
    assert serving.ring_index() is first  # nothing changed: no reload
    write_run(store, "run-2", ["B", "C"], 0.8)
    second = serving.ring_index()
    assert NodeRef("Patient", "A") not in second.memberships
    assert second.memberships[NodeRef("Patient", "C")] == [("R1", 0.8)]
    assert sorted((r.key, role) for r, role in second.members["R1"]) == [("B", "patient"), ("C", "patient")]
    store.close()
