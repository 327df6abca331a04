"""Typed props and records: one conversion from stored values to the model's declared types."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from graph.errors import SchemaError, StoreError
from graph.model import NODE_TYPES, Node
from graph.record_types import RECORD_TYPES, CaseRecord, PatientRecord, RingRecord
from graph.records import record, record_of, render_record_types, typed_props, typed_rel_props


def test_the_generated_record_module_matches_the_model() -> None:
    path = Path(__file__).resolve().parents[3] / "graph" / "record_types.py"
    assert path.read_text(encoding="utf-8") == render_record_types(), (
        "graph/record_types.py is stale: run python -m graph.records > graph/record_types.py")
    assert set(RECORD_TYPES) == {n.label for n in NODE_TYPES}


def test_values_become_their_declared_types() -> None:
    got = typed_props("Ring", {
        "ring_id": "R1", "score": np.float64(0.75), "member_count": np.int64(3),
        "evidence": '["同一地址", "同一电话"]', "score_history": [{"run_id": "a", "score": 0.5}],
        "created_at": pd.Timestamp("2026-01-02 03:04:05"),
        "updated_at": datetime(2026, 1, 2, 11, 4, tzinfo=timezone(timedelta(hours=8))),
        "reviewed_at": "2026-01-03T00:00:00",
    })
    assert got == {
        "ring_id": "R1", "score": 0.75, "member_count": 3, "evidence": ["同一地址", "同一电话"],
        "score_history": [{"run_id": "a", "score": 0.5}], "created_at": datetime(2026, 1, 2, 3, 4, 5),
        "updated_at": datetime(2026, 1, 2, 3, 4), "reviewed_at": datetime(2026, 1, 3),
    }
    assert type(got["score"]) is float and type(got["member_count"]) is int
    patient = typed_props("Patient", {"person_id": "P1", "birth_date": "1950-03-01", "death_date": None,
                                      "name": float("nan"), "address": pd.NaT})
    assert patient == {"person_id": "P1", "birth_date": date(1950, 3, 1)}
    case = typed_props("Case", {"case_id": "C1", "shared_with": np.array(["police:1", "police:2"])})
    assert case["shared_with"] == ["police:1", "police:2"]
    assert typed_props("InjuryCase", {"injury_case_id": "J", "third_party_liable": "false"}) == {
        "injury_case_id": "J", "third_party_liable": False}
    assert typed_rel_props("HAS_CLAIM", {"date": pd.Timestamp("2024-01-10")}) == {"date": date(2024, 1, 10)}


def test_a_stored_value_that_is_not_its_type_names_label_property_and_value() -> None:
    with pytest.raises(StoreError, match=r"Patient\.birth_date.*'yesterday'"):
        typed_props("Patient", {"person_id": "P1", "birth_date": "yesterday"})
    with pytest.raises(StoreError, match=r"Ring\.evidence"):
        typed_props("Ring", {"ring_id": "R", "evidence": "[not json"})
    with pytest.raises(SchemaError):
        typed_props("Villain", {})


def test_records_are_typed_dataclasses_of_their_label() -> None:
    ring = record_of(Node("Ring", "R1", {"ring_id": "R1", "score": "0.9", "evidence": '["a"]'}), RingRecord)
    assert ring == RingRecord(ring_id="R1", score=0.9, evidence=["a"])
    assert ring.status is None
    patient = record(Node("Patient", "P1", {"birth_date": date(1950, 3, 1)}))
    assert isinstance(patient, PatientRecord) and patient.person_id == "P1"
    with pytest.raises(SchemaError, match="not a Case"):
        record_of(Node("Ring", "R1", {}), CaseRecord)
    assert record_of(Node("Case", "C1", {"created_at": datetime(2026, 1, 1, tzinfo=UTC)}),
                     CaseRecord).created_at == datetime(2026, 1, 1)
