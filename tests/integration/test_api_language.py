"""The caller's language over /graphql, and adding entities to an open case.

A ring stored with evidence as data reads in Chinese by default, in English with
``Accept-Language: en``, and the response cache never hands one language's answer to the other.
A ring stored before templates (plain sentences) reads the same in both.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pandas as pd
import pytest

from algorithms.evidence import ev, stored
from graph.port import GraphStore
from tests.integration import api_graph as g
from tests.integration.api_server import ApiClient, serve

RING_DATA = "R-templated-1"
EVIDENCE = "query($r: ID!) { ring(id: $r) { evidence usualDailyVisits } }"


@pytest.fixture(scope="module")
def api(api_store: GraphStore, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ApiClient]:
    store = api_store
    g.build(store)
    evidence = [
        ev(
            "collusion.met",
            n=3,
            mean_present=3,
            meeting_days=4,
            institution="康乐诊所",
            first_day="2024-03-01",
            last_day="2024-03-22",
        ),
        ev("collusion.bursts", meetings=4, bursts=4, usual=2.5),
    ]
    store.upsert_nodes(
        "Ring",
        pd.DataFrame(
            [
                {
                    "ring_id": RING_DATA,
                    "kind": "collusion",
                    "score": 0.8,
                    "status": "new",
                    "member_count": 3,
                    "evidence": json.dumps(stored(evidence), ensure_ascii=False),
                }
            ]
        ),
    )
    with serve(store, tmp_path_factory.mktemp("api-lang"), response_cache=64) as client:
        yield client


def _ask(api: ApiClient, query: str, variables: dict[str, Any], lang: str | None) -> dict[str, Any]:
    headers = {"Authorization": f"Bearer {api.token('investigator')}"}
    if lang is not None:
        headers["Accept-Language"] = lang
    resp = api.http.post(
        f"{api.base}/graphql", json={"query": query, "variables": variables}, headers=headers
    )
    body: dict[str, Any] = resp.json()
    assert not body.get("errors"), body
    return body["data"]  # type: ignore[no-any-return]


def test_evidence_follows_the_callers_language_and_the_cache_keeps_them_apart(api: ApiClient) -> None:
    zh = _ask(api, EVIDENCE, {"r": RING_DATA}, None)["ring"]
    assert (
        zh["evidence"][0]
        == "3 名成员中平均 3 人在 4 个不同日期同日到 康乐诊所 就诊（2024-03-01 至 2024-03-22）"
    )
    en = _ask(api, EVIDENCE, {"r": RING_DATA}, "en-GB,en;q=0.9,zh;q=0.5")["ring"]
    assert en["evidence"][0].startswith("On average 3 of 3 members visited 康乐诊所")
    assert "usual daily traffic (about 2 persons a day)" in en["evidence"][1]
    assert zh["usualDailyVisits"] == en["usualDailyVisits"] == 2.5
    # asked again (now from the cache): still each in its own language
    assert _ask(api, EVIDENCE, {"r": RING_DATA}, "zh-CN")["ring"]["evidence"] == zh["evidence"]
    assert _ask(api, EVIDENCE, {"r": RING_DATA}, "en")["ring"]["evidence"] == en["evidence"]


def test_evidence_stored_before_templates_reads_unchanged(api: ApiClient) -> None:
    zh = _ask(api, EVIDENCE, {"r": g.RING_COLLUSION}, "zh")["ring"]
    en = _ask(api, EVIDENCE, {"r": g.RING_COLLUSION}, "en")["ring"]
    assert zh["evidence"] == en["evidence"] == ["3 patients co-visited 康乐诊所 on 4 distinct days"]
    assert zh["usualDailyVisits"] is None


ADD = """mutation($c: String!, $e: [NodeRef!]!) {
    addCaseEntities(caseId: $c, entities: $e) { entities { id } } }"""


def test_adding_entities_to_an_open_case(api: ApiClient) -> None:
    opened = api.data('mutation { openCase(title: "补充对象", ringIds: ["R-phone-1"]) { caseId } }')
    cid = opened["openCase"]["caseId"]
    added = api.data(
        ADD, {"c": cid, "e": [{"label": "Patient", "key": g.P4}, {"label": "Institution", "key": g.CLINIC}]}
    )
    assert {e["id"] for e in added["addCaseEntities"]["entities"]} == {
        f"Patient:{g.P4}",
        f"Institution:{g.CLINIC}",
    }
    # all or nothing: one unknown entity and nothing is added
    assert api.error_codes(
        ADD, {"c": cid, "e": [{"label": "Patient", "key": g.P1}, {"label": "Patient", "key": "nobody"}]}
    ) == ["NOT_FOUND"]
    assert api.error_codes(ADD, {"c": cid, "e": [{"label": "Ring", "key": "R-phone-1"}]}) == ["BAD_REQUEST"]
    # only the owning agency's investigators; police and analysts are refused
    assert api.error_codes(ADD, {"c": cid, "e": [{"label": "Patient", "key": g.P1}]}, agency="BUREAU-2") == [
        "FORBIDDEN"
    ]
    assert api.error_codes(ADD, {"c": cid, "e": [{"label": "Patient", "key": g.P1}]}, role="analyst") == [
        "FORBIDDEN"
    ]
    read = api.data("query($c: ID!) { case(id: $c) { entities { id } } }", {"c": cid})["case"]
    assert len(read["entities"]) == 2
