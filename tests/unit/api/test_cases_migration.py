"""Cases opened before agency kinds keep their police shares after the upgrade."""

from __future__ import annotations

import pandas as pd

from api.security.access import compute_police_scope
from api.workflow.cases import qualify_legacy_agencies
from graph.duckdb.store import DuckDBStore


def test_legacy_cases_get_kind_qualified_agencies_once() -> None:
    store = DuckDBStore(":memory:")
    store.apply_schema()
    frame = pd.DataFrame({"case_id": ["C-old", "C-new"], "title": ["旧案", "新案"],
                          "agency": ["bureau-1", "bureau:bureau-2"]})
    frame["shared_with"] = pd.Series([["PSB-EAST"], ["police:PSB-WEST"]], dtype="object")
    store.upsert_nodes("Case", frame)
    assert compute_police_scope(store, "police:PSB-EAST").cases == frozenset()
    assert qualify_legacy_agencies(store) == 1
    old = store.get_nodes("Case", ["C-old"])[0].props
    assert old["agency"] == "bureau:bureau-1" and list(old["shared_with"]) == ["police:PSB-EAST"]
    assert compute_police_scope(store, "police:PSB-EAST").cases == frozenset({"C-old"})
    assert qualify_legacy_agencies(store) == 0
    store.close()
