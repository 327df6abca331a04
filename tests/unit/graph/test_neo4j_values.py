"""Conversions between model property types, pandas/Python values, Neo4j values and Arrow."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
from neo4j.time import Date as Neo4jDate
from neo4j.time import DateTime as Neo4jDateTime

from graph.errors import SchemaError
from graph.model import node_type
from graph.neo4j.values import arrow_batch, arrow_type, from_neo4j, rows_as_columns, to_neo4j

PATIENT = node_type("Patient")
RING = node_type("Ring")
CASE = node_type("Case")


@pytest.mark.parametrize("value", [date(1950, 2, 3), pd.Timestamp("1950-02-03"), "1950-02-03",
                                   datetime(1950, 2, 3, 10, 0)])
def test_dates_arrive_in_any_common_shape(value: object) -> None:
    assert to_neo4j(PATIENT.prop("birth_date"), value) == date(1950, 2, 3)


@pytest.mark.parametrize("missing", [None, float("nan"), pd.NaT, pd.NA, np.float64("nan")])
def test_missing_values_become_none(missing: object) -> None:
    assert to_neo4j(RING.prop("member_count"), missing) is None
    assert to_neo4j(PATIENT.prop("birth_date"), missing) is None


def test_json_is_stored_as_text_and_lists_as_string_lists() -> None:
    line = "9 members share 卡号 ****4821"
    assert to_neo4j(RING.prop("evidence"), [line]) == f'["{line}"]'
    assert to_neo4j(RING.prop("evidence"), '["already text"]') == '["already text"]'
    shared = CASE.prop("shared_with")
    assert to_neo4j(shared, ["公安A", "公安B"]) == ["公安A", "公安B"]
    assert to_neo4j(shared, np.array(["x"])) == ["x"]  # a Parquet list cell
    assert to_neo4j(RING.prop("member_count"), np.int64(7)) == 7


def test_a_value_that_does_not_fit_the_property_type_names_the_property() -> None:
    with pytest.raises(SchemaError, match="birth_date"):
        to_neo4j(PATIENT.prop("birth_date"), "not a date")
    with pytest.raises(SchemaError, match="member_count"):
        to_neo4j(RING.prop("member_count"), "many")


def test_values_read_back_are_plain_python() -> None:
    assert from_neo4j(Neo4jDate(2025, 1, 2)) == date(2025, 1, 2)
    assert from_neo4j([Neo4jDate(2025, 1, 2)]) == [date(2025, 1, 2)]
    aware = Neo4jDateTime(2025, 1, 2, 3, 4, 5, tzinfo=UTC)
    assert from_neo4j({"at": aware}) == {"at": datetime(2025, 1, 2, 3, 4, 5, tzinfo=UTC)}


def test_arrow_batches_use_the_model_types() -> None:
    cols = ("case_id", "shared_with", "created_at")
    layout = [(c, arrow_type(CASE.prop(c)), CASE.prop(c)) for c in cols]
    plus8 = timezone(timedelta(hours=8))
    batch = arrow_batch(layout, {"case_id": ["c1"], "shared_with": [["a"]],
                                 "created_at": [datetime(2025, 1, 1, 8, tzinfo=plus8)]})
    assert batch.schema.field("shared_with").type == pa.list_(pa.string())
    assert batch.schema.field("created_at").type == pa.timestamp("us")
    assert batch.column(2).to_pylist() == [datetime(2025, 1, 1, 0, 0)]  # naive UTC, as DuckDB


def test_rows_as_columns_reads_frames_and_arrow_tables_alike() -> None:
    frame = pd.DataFrame({"person_id": ["P1"], "birth_date": [date(1950, 1, 1)]})
    assert rows_as_columns(frame) == rows_as_columns(pa.Table.from_pandas(frame, preserve_index=False))
