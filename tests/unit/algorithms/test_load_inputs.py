"""What detection reads from a store: every column the detectors use, claims' scheme and id from the key."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import date

import pandas as pd
import pyarrow as pa
import pytest

from algorithms.projections import CLAIM_COLUMNS, PERSON_COLUMNS, load_inputs
from graph.duckdb.store import DuckDBStore
from graph.port import GraphStore


@pytest.fixture
def store() -> Iterator[DuckDBStore]:
    s = DuckDBStore(":memory:", threads=2)
    s.apply_schema()
    s.upsert_nodes("Patient", pd.DataFrame({"person_id": ["P1", "P2"], "name": ["张三", "李四"],
                                            "phone": ["13800000000", None]}))
    s.upsert_nodes("Institution", pd.DataFrame({"institution_id": ["H1"], "name": ["一院"],
                                                "kind": ["hospital"]}))
    s.upsert_nodes("Claim", pd.DataFrame({
        # a claim id may hold the separator itself: only the first ':' ends the scheme
        "claim_key": ["medical:C1", "work_injury:W:7"], "claim_id": ["C1", "W:7"],
        "scheme": ["medical", "work_injury"], "person_id": ["P1", "P2"], "institution_id": ["H1", "H1"],
        "visit_type": ["outpatient", "inpatient"], "start_date": [date(2024, 1, 2), date(2024, 2, 3)],
        "reimbursed_amount": [10.0, 20.0]}))
    yield s
    s.close()


class _Asked:
    """A store that records the columns each label is streamed with (and answers from another)."""

    def __init__(self, inner: GraphStore) -> None:
        self.inner = inner
        self.asked: dict[str, list[tuple[str, ...]]] = {}

    def stream_nodes(self, label: str, columns: Sequence[str] | None = None, *,
                     batch_size: int = 1_000_000) -> Iterator[pa.RecordBatch]:
        self.asked.setdefault(label, []).append(tuple(columns or ()))
        return self.inner.stream_nodes(label, columns, batch_size=batch_size)


def test_claims_carry_every_column_with_scheme_and_id_taken_from_the_key(store: DuckDBStore) -> None:
    asked = _Asked(store)
    inputs = load_inputs(asked)  # type: ignore[arg-type]  # only stream_nodes is used
    claims = inputs.claims.to_pandas() if isinstance(inputs.claims, pa.Table) else inputs.claims
    assert list(claims.columns) == list(CLAIM_COLUMNS)
    rows = claims.sort_values("claim_key")[["claim_key", "scheme", "claim_id", "person_id"]].values.tolist()
    assert rows == [["medical:C1", "medical", "C1", "P1"], ["work_injury:W:7", "work_injury", "W:7", "P2"]]
    # the store is asked for neither: they are in the key
    assert asked.asked["Claim"] == [tuple(c for c in CLAIM_COLUMNS if c not in ("scheme", "claim_id"))]
    # a person's name is not read: no detector uses it
    assert asked.asked["Patient"] == [PERSON_COLUMNS] and "name" not in PERSON_COLUMNS
    assert isinstance(inputs.persons, pa.Table)
    persons = inputs.persons
    ids, phone = persons.column("person_id").to_pylist(), persons.column("phone").to_pylist()
    phones = dict(zip(ids, phone, strict=True))
    assert phones == {"P1": "13800000000", "P2": None}


def test_a_claim_key_not_of_the_model_form_makes_the_claims_be_read_whole(store: DuckDBStore) -> None:
    store.upsert_nodes("Claim", pd.DataFrame({"claim_key": ["odd"], "claim_id": ["X9"],
                                              "scheme": ["commercial"], "person_id": ["P1"],
                                              "institution_id": ["H1"]}))
    asked = _Asked(store)
    claims = load_inputs(asked).claims  # type: ignore[arg-type]
    frame = claims.to_pandas() if isinstance(claims, pa.Table) else claims
    odd = frame[frame["claim_key"] == "odd"].iloc[0]
    assert (odd["scheme"], odd["claim_id"]) == ("commercial", "X9")  # as stored, not guessed
    assert asked.asked["Claim"][-1] == CLAIM_COLUMNS
