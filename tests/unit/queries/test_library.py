"""The named-query library: file format, parameter checking and which text reaches the store."""

from __future__ import annotations

import re
from datetime import date
from typing import Any

import pytest

from graph.errors import InputError, InvalidRequest, NotFound
from graph.model import NODES, RELS
from graph.port import QueryResult
from queries.library import (
    coerce_params,
    get_named_query,
    list_named_queries,
    parse_named_query,
    run_named_query,
)

REQUIRED = {
    "co_visitors_of_person",
    "doctor_patients_also_at_pharmacy",
    "persons_sharing_identifier",
    "ring_claims_over_time",
    "institutions_by_ring_exposure",
}


class RecordingStore:
    """Stands in for a GraphStore: remembers what would have been sent to the database."""

    def __init__(self, query_language: str) -> None:
        self.query_language = query_language
        self.calls: list[tuple[str, dict[str, Any] | None, int | None]] = []

    def read_query(
        self,
        text: str,
        params: dict[str, Any] | None = None,
        *,
        limit: int | None = None,
        timeout_s: float | None = None,
    ) -> QueryResult:
        self.calls.append((text, params, limit))
        return QueryResult(columns=["x"], rows=[[1]])


def test_library_has_the_investigators_queries_with_both_texts() -> None:
    names = {q.name for q in list_named_queries()}
    assert names >= REQUIRED
    assert len(names) >= len(REQUIRED) + 2
    for q in list_named_queries():
        assert q.description and "\n" not in q.description
        assert q.cypher.lstrip().upper().startswith(("MATCH", "OPTIONAL", "WITH", "CALL", "UNWIND"))
        assert "-- DuckDB twin" in q.sql


def test_cypher_names_only_labels_and_types_of_the_graph_model() -> None:
    for q in list_named_queries():
        body = re.sub(r"'[^']*'", "''", q.cypher)  # string literals are values, not labels
        for label_expr in re.findall(r"\(\s*\w*\s*:\s*([A-Za-z|]+)", body):
            for label in label_expr.split("|"):
                assert label in NODES, f"{q.name}: unknown label {label}"
        for type_expr in re.findall(r"\[\s*\w*\s*:\s*([A-Z_|]+)", body):
            for rel in type_expr.split("|"):
                assert rel in RELS, f"{q.name}: unknown relationship type {rel}"
        for prop in re.findall(r"\b[a-z_][a-z0-9_]*\.([a-z_]+)\b", body):
            assert any(prop in n.prop_names for n in NODES.values()) or any(
                prop in r.prop_names for r in RELS.values()
            ), f"{q.name}: unknown property {prop}"


def test_sql_twin_reads_only_store_tables_of_the_model() -> None:
    for q in list_named_queries():
        for table in re.findall(r"\b([nr])_([A-Za-z_]+)\b", q.sql):
            prefix, name = table
            assert name in (NODES if prefix == "n" else RELS), f"{q.name}: unknown table {prefix}_{name}"


def test_unknown_query_is_not_found_and_lists_the_known_ones() -> None:
    with pytest.raises(NotFound, match="co_visitors_of_person"):
        get_named_query("no_such_query")


def test_run_sends_the_store_language_twin_with_typed_params() -> None:
    params = {"institution_id": "H001", "since": "2025-01-01", "until": date(2025, 6, 30), "top": "5"}
    sql_store = RecordingStore("sql")
    cy_store = RecordingStore("cypher")
    q = get_named_query("top_reimbursed_patients_at_institution")
    run_named_query(sql_store, q.name, params, limit=50)  # type: ignore[arg-type]
    run_named_query(cy_store, q.name, params)  # type: ignore[arg-type]
    expected = {"institution_id": "H001", "since": date(2025, 1, 1), "until": date(2025, 6, 30), "top": 5}
    assert sql_store.calls == [(q.sql, expected, 50)]
    assert cy_store.calls == [(q.cypher, expected, None)]


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"institution_id": "H1", "since": "2025-01-01", "until": "2025-02-01"}, "needs parameter 'top'"),
        (
            {"institution_id": "H1", "since": "2025-01-01", "until": "2025-02-01", "top": 5, "x": 1},
            "no parameter 'x'",
        ),
        (
            {"institution_id": "H1", "since": "01/02/2025", "until": "2025-02-01", "top": 5},
            "'since'.*YYYY-MM-DD",
        ),
        ({"institution_id": "H1", "since": "2025-02-30", "until": "2025-02-01", "top": 5}, "'since'"),
        (
            {"institution_id": "H1", "since": "2025-01-01", "until": "2025-02-01", "top": "five"},
            "'top'.*whole number",
        ),
        ({"institution_id": "H1", "since": "2025-01-01", "until": "2025-02-01", "top": 2.5}, "'top'"),
        ({"institution_id": 7, "since": "2025-01-01", "until": "2025-02-01", "top": 5}, "'institution_id'"),
        ({"institution_id": "H1", "since": "2025-01-01", "until": "2025-02-01", "top": True}, "'top'"),
    ],
)
def test_bad_params_are_refused_naming_the_param(params: dict[str, Any], message: str) -> None:
    store = RecordingStore("sql")
    with pytest.raises(InvalidRequest, match=message):
        run_named_query(store, "top_reimbursed_patients_at_institution", params)  # type: ignore[arg-type]
    assert store.calls == []


def test_float_params_accept_ints_and_numeric_text() -> None:
    q = get_named_query("institutions_by_ring_exposure")
    assert coerce_params(q, {"min_score": 1}) == {"min_score": 1.0}
    assert coerce_params(q, {"min_score": " 0.5 "}) == {"min_score": 0.5}
    with pytest.raises(InvalidRequest, match=r"'min_score'.*not a number"):
        coerce_params(q, {"min_score": "high"})


GOOD_HEADER = "// name: demo_query\n// description: demo\n// param: person_id string\n"


@pytest.mark.parametrize(
    ("cypher", "sql", "line", "reason"),
    [
        ("// description: d\nMATCH (n) RETURN n", "SELECT 1", 1, "no '// name"),
        ("// name: demo_query\nMATCH (n) RETURN n", "SELECT 1", 1, "no '// description"),
        (
            GOOD_HEADER.replace("string", "text") + "MATCH (p:Patient {person_id: $person_id}) RETURN p",
            "SELECT $person_id",
            3,
            "unknown type 'text'",
        ),
        (
            GOOD_HEADER + "MATCH (p:Patient {person_id: $person}) RETURN p",
            "SELECT $person_id",
            4,
            r"\$person is used but not declared",
        ),
        (
            GOOD_HEADER + "MATCH (p:Patient) RETURN p",
            "SELECT $person_id",
            4,
            "'person_id' is declared but never",
        ),
        (
            GOOD_HEADER + "MATCH (p:Patient {person_id: $person_id}) RETURN p",
            "SELECT 1\nWHERE x = $pid",
            2,
            r"\$pid is used",
        ),
        (GOOD_HEADER, "SELECT $person_id", 3, "no Cypher after the header"),
        (
            GOOD_HEADER.replace("demo_query", "DemoQuery") + "RETURN $person_id",
            "SELECT $person_id",
            1,
            "not snake_case",
        ),
    ],
)
def test_malformed_query_files_name_file_line_and_reason(
    cypher: str, sql: str, line: int, reason: str
) -> None:
    with pytest.raises(InputError, match=reason) as info:
        parse_named_query("demo_query.cypher", cypher, sql)
    assert info.value.line == line
    assert info.value.file in ("demo_query.cypher", "demo_query.sql")


def test_query_must_live_in_a_file_of_its_name() -> None:
    with pytest.raises(InputError, match=r"must live in demo_query\.cypher"):
        parse_named_query("other.cypher", GOOD_HEADER + "RETURN $person_id", "SELECT $person_id")
