"""The audit trail over real HTTP: who saw which persons, a verifiable chain, and no data without a record."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from api.security.audit import verify
from api.security.masking import KeyCipher
from graph.port import GraphStore
from tests.integration import api_graph as g
from tests.integration.api_server import AUDIT_KEY, SECRET, ApiClient, serve

MEDFRAUD = [sys.executable, "-c", "from api.cli import main; main()"]
AUDIT_ENV = {**os.environ, "MEDFRAUD_AUDIT_KEY": AUDIT_KEY}


@pytest.fixture(scope="module")
def store(api_store: GraphStore) -> GraphStore:
    g.build(api_store)
    return api_store


@pytest.fixture()
def api(store: GraphStore, tmp_path: Path) -> Iterator[ApiClient]:
    with serve(store, tmp_path) as client:
        yield client


def records(log: Path) -> list[dict[str, object]]:
    return [json.loads(line) for line in log.read_text(encoding="utf-8").splitlines()]


def test_person_level_reads_and_changes_are_recorded(api: ApiClient, store: GraphStore) -> None:
    count = {"sql": "SELECT count(*) FROM n_Claim",
             "cypher": "MATCH (c:Claim) RETURN count(*)"}[store.query_language]
    api.data(
        "query Lookup($id: String!) { patient(id: $id) { name } }",
        {"id": KeyCipher(SECRET).seal("Patient", g.P1)},
        role="analyst",
        agency="ANALYSIS-1",
    )
    api.data("{ rings { totalCount } }")  # no person-level data: recorded all the same
    api.data("query($t: String!) { readQuery(text: $t) { rows } }", {"t": count}, role="investigator")
    opened = api.data('mutation { openCase(title: "audit me", ringIds: ["R-phone-1"]) { caseId } }')
    recs = records(api.audit_log)
    assert [r["operation"] for r in recs] == ["Lookup", "rings", "readQuery", "openCase"]
    first = recs[0]
    assert first["sub"] == "analyst-user" and first["role"] == "analyst"
    assert first["agency"] == "bureau:ANALYSIS-1"
    assert first["entity_keys"] == [f"Patient:{g.P1}"]  # the real key, even though the analyst saw it masked
    assert all(r["outcome"] == "ok" for r in recs)
    assert count in str(recs[2]["query"]) or count in str(recs[2].get("variables"))
    assert recs[3]["case_ids"] == [opened["openCase"]["caseId"]]
    assert recs[3]["operation_type"] == "mutation"
    assert [r["seq"] for r in recs] == [1, 2, 3, 4]
    assert verify(api.audit_log, AUDIT_KEY).ok


def test_subgraph_records_every_person_returned(api: ApiClient) -> None:
    api.data(
        "query($s: [NodeRef!]!) { subgraph(seeds: $s, hops: 2) { nodes { id } } }",
        {"s": [{"label": "Phone", "key": g.BROKER_PHONE}]},
    )
    keys = records(api.audit_log)[-1]["entity_keys"]
    assert isinstance(keys, list)
    assert {f"Patient:{p}" for p in (g.P1, g.P2, g.P3)} <= set(keys)
    assert f"Phone:{g.BROKER_PHONE}" in keys


def _tamper_and_verify(log: Path, edit: str) -> tuple[int, str]:
    lines = log.read_text(encoding="utf-8").splitlines(keepends=True)
    if edit == "edit":
        rec = json.loads(lines[1])
        rec["sub"] = "someone-else"
        lines[1] = json.dumps(rec, sort_keys=True, ensure_ascii=False, separators=(",", ":")) + "\n"
    elif edit == "delete":
        del lines[1]
    elif edit == "reorder":
        lines[1], lines[2] = lines[2], lines[1]
    elif edit == "truncate":
        lines = lines[:-1]
    log.write_text("".join(lines), encoding="utf-8")
    proc = subprocess.run(
        [*MEDFRAUD, "audit", "verify", str(log)], capture_output=True, text=True, check=False, env=AUDIT_ENV
    )
    return proc.returncode, proc.stderr


@pytest.mark.parametrize(
    ("edit", "line", "reason"),
    [
        ("edit", 2, "hash mismatch"),
        ("delete", 2, "sequence"),
        ("reorder", 2, "sequence"),
        ("truncate", 4, "cut off the end"),
    ],
)
def test_verify_names_the_first_tampered_line(api: ApiClient, edit: str, line: int, reason: str) -> None:
    for person in (g.P1, g.P2, g.P3, g.P4):
        api.data("query($id: String!) { patient(id: $id) { name } }", {"id": person})
    ok = subprocess.run(
        [*MEDFRAUD, "audit", "verify", str(api.audit_log)], capture_output=True, text=True, check=False,
        env=AUDIT_ENV,
    )
    assert ok.returncode == 0 and "4 records, chain intact" in ok.stdout
    code, err = _tamper_and_verify(api.audit_log, edit)
    assert code == 1
    assert f"line {line}:" in err and reason in err


def test_a_failed_audit_write_fails_the_request(store: GraphStore, tmp_path: Path) -> None:
    with serve(store, tmp_path) as api:
        api.data("query($id: String!) { patient(id: $id) { name } }", {"id": g.P1})
        api.audit_log.chmod(0o400)
        blocker = api.audit_log.with_name("audit.log.head")
        blocker.unlink()
        blocker.mkdir()  # the head file cannot be replaced: the write fails even as root
        try:
            body = api.gql("query($id: String!) { patient(id: $id) { name } }", {"id": g.P2})
        finally:
            api.audit_log.chmod(0o600)
        assert body["data"] is None
        assert [e["extensions"]["code"] for e in body["errors"]] == ["AUDIT_FAILED"]
        assert "李四" not in json.dumps(body, ensure_ascii=False)
        # every request is recorded, so none is answered while records cannot be written
        rings = api.gql("{ rings { totalCount } }")
        assert rings["data"] is None and rings["errors"][0]["extensions"]["code"] == "AUDIT_FAILED"


def test_the_chain_continues_intact_after_a_failed_write(store: GraphStore, tmp_path: Path) -> None:
    with serve(store, tmp_path) as api:
        api.data("query($id: String!) { patient(id: $id) { name } }", {"id": g.P1})
        head = api.audit_log.with_name("audit.log.head")
        head.unlink()
        head.mkdir()
        assert api.gql("query($id: String!) { patient(id: $id) { name } }", {"id": g.P2})["data"] is None
        head.rmdir()
        api.data("query($id: String!) { patient(id: $id) { name } }", {"id": g.P3})
        assert [r["seq"] for r in records(api.audit_log)] == [1, 2, 3]
        assert verify(api.audit_log, AUDIT_KEY).ok


def test_a_repeated_document_is_recorded_once_in_full_then_by_hash(api: ApiClient) -> None:
    q = "query Lookup($id: String!) { patient(id: $id) { name } }"
    api.data(q, {"id": g.P1})
    api.data(q, {"id": g.P2})
    first, second = records(api.audit_log)[-2:]
    assert first["query"] == q and second["query"] is None
    assert second["query_first_seq"] == first["seq"] and second["query_sha256"] == first["query_sha256"]
    assert g.P2 in str(second["variables"])  # variables are always there
