"""Repeated reads are answered from memory, never staler than the data, never across callers."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from api.security.masking import KeyCipher
from graph.duckdb.store import DuckDBStore
from tests.integration import api_graph as g
from tests.integration.api_server import SECRET, ApiClient, serve

PATIENT = "query($p: String!) { patient(id: $p) { personId name phone } }"


@pytest.fixture()
def api(tmp_path: Path) -> Iterator[ApiClient]:
    store = DuckDBStore(":memory:")
    store.apply_schema()
    g.build(store)
    try:
        with serve(store, tmp_path) as client:
            yield client
    finally:
        store.close()


def hits(api: ApiClient) -> int:
    text = api.metrics()
    found = re.search(r"^medfraud_response_cache_hits_total (\d+)$", text, re.M)
    assert found, text
    return int(found.group(1))


def audit_records(api: ApiClient) -> list[dict[str, object]]:
    return [json.loads(x) for x in api.audit_log.read_text(encoding="utf-8").splitlines()]


def test_a_repeated_read_is_served_from_memory_and_audited_each_time(api: ApiClient) -> None:
    first = api.data(PATIENT, {"p": g.P1})
    assert hits(api) == 0
    second = api.data(PATIENT, {"p": g.P1})
    assert second == first and hits(api) == 1
    records = [r for r in audit_records(api) if r["operation"] == "patient"]
    assert len(records) == 2
    assert records[0]["entity_keys"] == records[1]["entity_keys"] == [f"Patient:{g.P1}"]


def test_a_write_is_seen_by_the_next_read(api: ApiClient) -> None:
    opened = api.data('mutation { openCase(title: "复查", entities: []) { caseId } }')["openCase"]["caseId"]
    read = "query($c: ID!) { case(id: $c) { notes { text } } }"
    assert api.data(read, {"c": opened})["case"]["notes"] == []
    api.data('mutation($c: String!) { addCaseNote(caseId: $c, text: "走访") { noteId } }', {"c": opened})
    assert api.data(read, {"c": opened})["case"]["notes"] == [{"text": "走访"}]


def test_callers_with_other_rights_never_share_an_answer(api: ApiClient) -> None:
    shown = api.data(PATIENT, {"p": g.P1}, role="investigator")["patient"]
    token = KeyCipher(SECRET).seal("Patient", g.P1)
    masked = api.data(PATIENT, {"p": token}, role="analyst")["patient"]
    assert shown["name"] == "张三" and masked["name"] != shown["name"]
    assert api.data(PATIENT, {"p": g.P1}, role="investigator")["patient"] == shown
    assert api.data(PATIENT, {"p": token}, role="analyst")["patient"] == masked


def test_police_answers_are_always_recomputed(api: ApiClient) -> None:
    before = hits(api)
    for _ in range(2):
        api.gql(PATIENT, {"p": g.P1}, role="police", agency="PSB-1")
    assert hits(api) == before


def test_free_form_queries_and_mutations_always_run(api: ApiClient) -> None:
    for _ in range(2):
        api.data('{ readQuery(text: "SELECT count(*) AS n FROM n_Patient") { rows } }', role="analyst")
    assert hits(api) == 0
