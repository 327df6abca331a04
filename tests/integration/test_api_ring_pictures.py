"""A ring's picture reads the same for every caller, prepared in memory or assembled per request.

Two servers on one store: the deployed one prepares ring pictures at start and completes plain
objects in its own executor (api/gql/executor.py); the reference one assembles every picture through
the caller's scope and runs strawberry's own executor. For every role — investigator, admin,
analyst (masked), police inside and outside the case the rings are shared in — both must give the
same answer and write the same audit record, and the analyst's answer must stay masked.

Besides the hand-made graph (tests/integration/api_graph.py), a stranger shares the phone ring's
broker phone: the ring's picture draws him, but the police, whose scope is the ring's members and
their own data, must not see him. And 张三 has eight more claims at the clinic than the hub cap (5)
lets a picture draw: everyone else is told how many were left out, the police are not (a count
over everything would tell them about what lies outside their scope).
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

import api.gql.schema as schema_module
from graph.duckdb.store import DuckDBStore
from tests.integration import api_graph as g
from tests.integration.api_server import ApiClient, serve

NODE = "id label key title props ringIds riskScore cutCount"
RING = (
    "query R($id: ID!) { ring(id: $id) { ringId kind score memberCount evidence "
    "members { type id title role } "
    f"subgraph {{ nodes {{ {NODE} }} edges {{ id type source target date }} truncated }} }} }}"
)
STRANGER = "650105199909099999"
# who asks: role and agency (PSB-EAST has the rings' case shared with it)
CALLERS = [("investigator", "BUREAU-1"), ("admin", "BUREAU-1"), ("analyst", "BUREAU-1"),
           ("police", "PSB-EAST"), ("police", "PSB-WEST")]


def _wait_prepared(api: ApiClient) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        health = api.http.get(f"{api.base}/healthz").json()
        if health["read_index"] == "ready" and health["ring_pictures"] == "ready":
            return
        time.sleep(0.05)
    raise AssertionError(f"pictures not prepared: {health}")


def _gauge(api: ApiClient, name: str) -> int:
    found = re.search(rf"^{name} (\d+)$", api.metrics(), re.M)
    assert found
    return int(found.group(1))


@pytest.fixture(scope="module")
def servers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[ApiClient, ApiClient]]:
    store = DuckDBStore(":memory:")
    store.apply_schema()
    g.build(store)
    store.upsert_nodes("Patient", pd.DataFrame({"person_id": [STRANGER], "name": ["陌生人"]}))
    store.upsert_relationships("HAS_PHONE", pd.DataFrame({"src": [STRANGER], "dst": [g.BROKER_PHONE]}))
    extra = pd.DataFrame({"claim_id": [f"X{i}" for i in range(8)], "person_id": g.P1,
                          "institution_id": g.CLINIC, "start_date": [date(2023, 1, 1 + i) for i in range(8)]})
    extra["claim_key"] = "medical:" + extra["claim_id"]
    extra["scheme"] = "medical"
    store.upsert_nodes("Claim", extra)
    store.upsert_relationships("HAS_CLAIM", pd.DataFrame(
        {"src": extra["person_id"], "dst": extra["claim_key"], "date": extra["start_date"]}))
    store.upsert_relationships("TREATED_AT", pd.DataFrame({"src": extra["claim_key"], "dst": g.CLINIC,
                                                           "dst_label": "Institution",
                                                           "date": extra["start_date"]}))
    tmp = tmp_path_factory.mktemp("pictures")
    try:
        with serve(store, tmp / "deployed", response_cache=0, hub_cap=5) as deployed:
            case = deployed.data(
                'mutation($r: [String!]) { openCase(title: "康乐诊所", ringIds: $r, entities: []) '
                '{ caseId } }', {"r": [g.RING_COLLUSION, g.RING_PHONE]})["openCase"]["caseId"]
            deployed.data('mutation($c: String!) { shareCase(caseId: $c, agency: "PSB-EAST") { caseId } }',
                          {"c": case})
            _wait_prepared(deployed)
            with pytest.MonkeyPatch.context() as patch:
                patch.setattr(schema_module, "PlainLeavesExecutor", None)  # strawberry's own executor
                with serve(store, tmp / "reference", response_cache=0, warm_rings=0, hub_cap=5) as reference:
                    yield deployed, reference
    finally:
        store.close()


def _last_audit(log: Path) -> dict[str, Any]:
    record: dict[str, Any] = json.loads(log.read_text(encoding="utf-8").splitlines()[-1])
    return record


@pytest.mark.parametrize(("role", "agency"), CALLERS)
@pytest.mark.parametrize("ring", [g.RING_COLLUSION, g.RING_PHONE])
def test_every_caller_gets_the_same_picture_and_audit_record(
        servers: tuple[ApiClient, ApiClient], ring: str, role: str, agency: str) -> None:
    deployed, reference = servers
    assert _gauge(deployed, "medfraud_ring_pictures") == 2
    assert _gauge(reference, "medfraud_ring_pictures") == 0
    answers = [api.gql(RING, {"id": ring}, role=role, agency=agency) for api in (deployed, reference)]
    assert answers[0] == answers[1]
    records = [_last_audit(api.audit_log) for api in (deployed, reference)]
    for field in ("entity_keys", "out_of_scope", "outcome", "role", "agency"):
        assert records[0][field] == records[1][field], field
    picture = (answers[0]["data"]["ring"] or {}).get("subgraph")
    if role == "police" and agency != "PSB-EAST":
        assert picture is None  # outside the police scope: absent, as before
        return
    assert picture is not None and len(picture["nodes"]) > 3
    assert len(records[0]["entity_keys"]) >= len([n for n in picture["nodes"] if n["label"] == "Claim"])
    if ring == g.RING_PHONE:
        strangers = [n for n in picture["nodes"] if n["title"] in ("陌生人", "陌*")]
        assert len(strangers) == (0 if role == "police" else 1)
    else:
        cut = sum(n["cutCount"] for n in picture["nodes"] if n["label"] == "Patient")
        assert (cut == 0) if role == "police" else (cut > 0)


def test_the_analysts_picture_stays_masked(servers: tuple[ApiClient, ApiClient]) -> None:
    deployed, _ = servers
    shown = deployed.data(RING, {"id": g.RING_COLLUSION}, role="investigator")["ring"]["subgraph"]
    masked = deployed.data(RING, {"id": g.RING_COLLUSION}, role="analyst")["ring"]["subgraph"]
    assert len(masked["nodes"]) == len(shown["nodes"])
    text = json.dumps(masked, ensure_ascii=False)
    for secret in (g.P1, g.P2, g.P3, "张三", "李四", "王五", g.BROKER_PHONE):
        assert secret not in text
    names = {n["props"].get("name") for n in masked["nodes"] if n["label"] == "Patient"}
    assert names == {"张*", "李*", "王*"}
    assert "张三" in json.dumps(shown, ensure_ascii=False)  # the investigator's copy is not masked
