"""Limits and hardening over real HTTP: depth, aliases, tokens, body size, introspection, masked errors,
store time limits, health, metrics and the exported schema."""

from __future__ import annotations

import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest

from api.gql.schema import schema_sdl
from graph.duckdb.store import DuckDBStore
from graph.model import Node
from tests.integration import api_graph as g
from tests.integration.api_server import ApiClient, serve

REPO = Path(__file__).resolve().parents[2]


class TrickyStore(DuckDBStore):
    """A real store whose search can be made to crash or stall on request."""

    def search(self, text: str, *, labels: Sequence[str] | None = None, limit: int = 20) -> list[Node]:
        if text == "boom":
            raise RuntimeError("driver detail: password=hunter2")
        if text == "slow":
            time.sleep(1.5)
        return super().search(text, labels=labels, limit=limit)


@pytest.fixture(scope="module")
def store() -> Iterator[TrickyStore]:
    s = TrickyStore(":memory:")
    s.apply_schema()
    g.build(s)
    yield s
    s.close()


@pytest.fixture(scope="module")
def api(store: TrickyStore, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ApiClient]:
    with serve(
        store,
        tmp_path_factory.mktemp("prod"),
        max_depth=6,
        max_aliases=3,
        max_tokens=200,
        max_body_bytes=4096,
        store_timeout_s=0.5,
    ) as client:
        yield client


@pytest.fixture(scope="module")
def dev_api(store: TrickyStore, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ApiClient]:
    with serve(store, tmp_path_factory.mktemp("dev"), env="dev") as client:
        yield client


def codes(body: dict[str, Any]) -> list[str]:
    return [e["extensions"]["code"] for e in body.get("errors") or []]


def test_query_depth_is_limited(api: ApiClient) -> None:
    deep = """query($id: String!) { patient(id: $id) { claims { edges { node { institution {
        claims { edges { node { patient { name } } } } } } } } } }"""
    body = api.gql(deep, {"id": g.P1})
    assert body.get("data") is None and codes(body) == ["GRAPHQL_VALIDATION_FAILED"]
    assert "exceeds maximum operation depth" in body["errors"][0]["message"]
    shallow = "query($id: String!) { patient(id: $id) { claims { edges { node { claimKey } } } } }"
    assert api.data(shallow, {"id": g.P1})["patient"]["claims"]["edges"]


def test_aliases_are_limited(api: ApiClient) -> None:
    many = "{ " + " ".join(f'a{i}: patient(id: "{g.P1}") {{ name }}' for i in range(5)) + " }"
    body = api.gql(many)
    assert codes(body) == ["GRAPHQL_VALIDATION_FAILED"] and "aliases" in body["errors"][0]["message"]


def test_tokens_are_limited(api: ApiClient) -> None:
    long_query = "{ rings { " + " ".join(["totalCount"] * 250) + " } }"
    body = api.gql(long_query)
    assert body.get("data") is None and codes(body) == ["GRAPHQL_VALIDATION_FAILED"]
    assert "token" in body["errors"][0]["message"].lower()


def test_request_body_size_is_capped(api: ApiClient) -> None:
    padding = "#" + "x" * 5000 + "\n"
    response = api.post(padding + "{ rings { totalCount } }")
    assert response.status_code == 413
    chunked = api.http.post(
        f"{api.base}/graphql",
        content=iter([b"{" + b" " * 3000, b" " * 3000 + b"}"]),
        headers={"Authorization": f"Bearer {api.token('investigator')}", "Content-Type": "application/json"},
    )
    assert chunked.status_code == 413


def test_introspection_is_off_outside_dev_and_on_in_dev(api: ApiClient, dev_api: ApiClient) -> None:
    query = "{ __schema { queryType { name } } }"
    refused = api.gql(query)
    assert refused.get("data") is None and set(codes(refused)) == {"GRAPHQL_VALIDATION_FAILED"}
    assert "introspection" in refused["errors"][0]["message"].lower()
    assert dev_api.data(query)["__schema"]["queryType"]["name"] == "Query"


def test_graphiql_only_in_dev(api: ApiClient, dev_api: ApiClient) -> None:
    page = dev_api.http.get(f"{dev_api.base}/graphql", headers={"Accept": "text/html"})
    assert page.status_code == 200 and "graphiql" in page.text.lower()
    assert api.http.get(f"{api.base}/graphql", headers={"Accept": "text/html"}).status_code in (401, 404)
    # queries over GET are never executed, with or without a token
    get = dev_api.http.get(
        f"{dev_api.base}/graphql",
        params={"query": "{ rings { totalCount } }"},
        headers={"Authorization": f"Bearer {dev_api.token('admin')}"},
    )
    assert "totalCount" not in get.text


def test_unexpected_errors_are_masked_outside_dev(api: ApiClient, dev_api: ApiClient) -> None:
    body = api.gql('{ search(text: "boom") { id } }')
    assert codes(body) == ["INTERNAL"]
    assert "hunter2" not in str(body) and body["errors"][0]["message"] == "Internal error."
    dev = dev_api.gql('{ search(text: "boom") { id } }')
    assert codes(dev) == ["INTERNAL"] and "hunter2" in dev["errors"][0]["message"]


def test_store_calls_have_a_time_limit(api: ApiClient) -> None:
    started = time.monotonic()
    body = api.gql('{ search(text: "slow") { id } }')
    assert codes(body) == ["QUERY_TIMEOUT"]
    assert time.monotonic() - started < 1.4


def test_health_and_metrics(api: ApiClient) -> None:
    health = api.http.get(f"{api.base}/healthz")
    assert health.status_code == 200 and health.json()["status"] == "ok"
    assert health.json()["store"] == "duckdb"
    assert health.json()["read_index"] in ("building", "ready")  # the server asks for it at start
    api.gql('{ ring(id: "x") { ringId } }')
    api.gql('{ readQuery(text: "DELETE FROM n_Patient") { rows } }')
    text = api.metrics()
    assert 'medfraud_http_requests_total{path="/graphql",method="POST",status="200"}' in text
    assert 'medfraud_http_request_duration_seconds_bucket{path="/graphql",le="+Inf"}' in text
    assert 'medfraud_graphql_errors_total{code="WRITE_REFUSED"}' in text


def test_exported_schema_matches_the_live_schema() -> None:
    exported = (REPO / "docs" / "schema.graphql").read_text(encoding="utf-8")
    assert exported == schema_sdl(), "docs/schema.graphql is stale: run `medfraud export-schema`"


def test_contract_names_are_in_the_schema() -> None:
    sdl = schema_sdl()
    for name in (
        "subgraph(seeds: [NodeRef!]!, hops: Int = 2, relTypes: [String!] = null, since: Date = null, "
        "until: Date = null, maxNodes: Int = 300): Subgraph!",
        "paths(from: NodeRef!, to: NodeRef!, maxHops: Int = 4): [Path!]!",
        "ring(id: ID!): Ring",
        "cutCount: Int!",
        "runNamedQuery(name: String!, params: JSON = null)",
        "readQuery(text: String!, params: JSON = null): QueryRows!",
        "runDetection: DetectionRunInfo!",
        "reviewRing(ringId: String!, verdict: RingVerdict!, reason: String!): Ring!",
    ):
        assert name in sdl, name
