"""Cases and ring reviews over real HTTP: opening, notes, the status machine, sharing."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from graph.port import GraphStore
from tests.integration import api_graph as g
from tests.integration.api_server import ApiClient, serve

OPEN = """mutation($t: String!, $r: [String!], $e: [NodeRef!]) {
    openCase(title: $t, ringIds: $r, entities: $e) { caseId title status createdBy agency sharedWith } }"""
STATUS = "mutation($c: String!, $s: String!) { setCaseStatus(caseId: $c, status: $s) { status updatedAt } }"


@pytest.fixture(scope="module")
def api(api_store: GraphStore, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ApiClient]:
    store = api_store
    g.build(store)
    with serve(store, tmp_path_factory.mktemp("api")) as client:
        yield client


def test_open_case_with_rings_and_entities_then_read_it(api: ApiClient) -> None:
    case = api.data(
        OPEN,
        {
            "t": "药店串换",
            "r": [g.RING_PHONE],
            "e": [{"label": "Patient", "key": g.P4}, {"label": "Pharmacy", "key": g.PHARMACY}],
        },
    )
    opened = case["openCase"]
    assert opened["status"] == "open" and opened["createdBy"] == "investigator-user"
    assert opened["agency"] == "bureau:BUREAU-1" and opened["sharedWith"] == []
    cid = opened["caseId"]
    api.data(
        'mutation($c: String!) { addCaseNote(caseId: $c, text: "first visit planned") { noteId } }',
        {"c": cid},
    )
    read = api.data(
        """query($c: ID!) { case(id: $c) { title rings { ringId } entities { id title }
        notes { text author } subgraph(hops: 1) { nodes { id } truncated } } }""",
        {"c": cid},
    )["case"]
    assert read["title"] == "药店串换" and read["rings"] == [{"ringId": g.RING_PHONE}]
    assert {e["id"] for e in read["entities"]} == {f"Patient:{g.P4}", f"Pharmacy:{g.PHARMACY}"}
    assert read["notes"] == [{"text": "first visit planned", "author": "investigator-user"}]
    ids = {n["id"] for n in read["subgraph"]["nodes"]}
    assert {f"Patient:{g.P1}", f"Phone:{g.BROKER_PHONE}", f"Patient:{g.P4}"} <= ids
    listed = api.data('{ cases(status: "open") { totalCount edges { node { caseId } } } }')["cases"]
    assert cid in {e["node"]["caseId"] for e in listed["edges"]}


def test_open_case_refuses_unknown_rings_entities_and_empty_titles(api: ApiClient) -> None:
    assert api.error_codes(OPEN, {"t": "x", "r": ["no-such-ring"]}) == ["NOT_FOUND"]
    assert api.error_codes(OPEN, {"t": "x", "e": [{"label": "Patient", "key": "nobody"}]}) == ["NOT_FOUND"]
    assert api.error_codes(OPEN, {"t": "   "}) == ["BAD_REQUEST"]
    assert api.error_codes(OPEN, {"t": "x", "e": [{"label": "Phone", "key": g.BROKER_PHONE}]}) == [
        "BAD_REQUEST"
    ]


def test_status_moves_forward_only(api: ApiClient) -> None:
    cid = api.data(OPEN, {"t": "status machine"})["openCase"]["caseId"]
    assert api.error_codes(STATUS, {"c": cid, "s": "referred_to_police"}) == ["BAD_REQUEST"]
    assert api.error_codes(STATUS, {"c": cid, "s": "archived"}) == ["BAD_REQUEST"]
    for status in ("investigating", "referred_to_police", "closed"):
        assert api.data(STATUS, {"c": cid, "s": status})["setCaseStatus"]["status"] == status
    assert api.error_codes(STATUS, {"c": cid, "s": "open"}) == ["BAD_REQUEST"]
    assert api.error_codes(STATUS, {"c": "CASE-none", "s": "closed"}) == ["NOT_FOUND"]
    closed = api.data('{ cases(status: "closed") { edges { node { caseId } } } }')["cases"]["edges"]
    assert {"node": {"caseId": cid}} in closed


def test_share_case_is_idempotent(api: ApiClient) -> None:
    cid = api.data(OPEN, {"t": "share"})["openCase"]["caseId"]
    q = "mutation($c: String!, $a: String!) { shareCase(caseId: $c, agency: $a) { sharedWith } }"
    api.data(q, {"c": cid, "a": "PSB-1"})
    api.data(q, {"c": cid, "a": "PSB-2"})
    shared = api.data(q, {"c": cid, "a": "PSB-1"})["shareCase"]["sharedWith"]
    assert shared == ["police:PSB-1", "police:PSB-2"]


def test_review_ring_records_verdict_reason_and_reviewer(api: ApiClient) -> None:
    q = """mutation($r: String!, $v: RingVerdict!, $why: String!) {
        reviewRing(ringId: $r, verdict: $v, reason: $why) { ringId review { verdict reason
            reviewedBy reviewedAt } } }"""
    out = api.data(q, {"r": g.RING_PHONE, "v": "DISMISSED", "why": "a care home's front desk phone"})
    review = out["reviewRing"]["review"]
    assert review["verdict"] == "DISMISSED" and review["reviewedBy"] == "investigator-user"
    assert review["reason"] == "a care home's front desk phone" and review["reviewedAt"]
    again = api.data("query($id: ID!) { ring(id: $id) { score review { verdict } } }", {"id": g.RING_PHONE})
    assert again["ring"] == {"score": pytest.approx(0.7), "review": {"verdict": "DISMISSED"}}
    assert api.error_codes(q, {"r": "nope", "v": "CONFIRMED", "why": "x"}) == ["NOT_FOUND"]
    assert api.error_codes(q, {"r": g.RING_PHONE, "v": "MAYBE", "why": "x"}) == ["GRAPHQL_VALIDATION_FAILED"]
