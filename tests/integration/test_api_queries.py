"""Every read field of the GraphQL API, over real HTTP, as an investigator (full identities)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from graph.port import GraphStore
from tests.integration import api_graph as g
from tests.integration.api_server import ApiClient, serve


@pytest.fixture(scope="module")
def api(api_store: GraphStore, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ApiClient]:
    store = api_store
    g.build(store)
    with serve(store, tmp_path_factory.mktemp("api"), hub_cap=20) as client:
        yield client


NODE = "id label key title props ringIds riskScore cutCount"


def test_no_token_or_bad_token_is_401(api: ApiClient) -> None:
    assert api.post("{ rings { totalCount } }", role=None).status_code == 401
    assert api.post("{ rings { totalCount } }", token="not-a-jwt").status_code == 401
    expired = api.token("investigator", ttl_s=-10 + 60)  # valid for 50 s
    assert api.post("{ rings { totalCount } }", token=expired).status_code == 200
    from api.security.auth import issue_token

    stale = issue_token(api.secret, sub="x", role="investigator", agency="A", ttl_s=60, now=0)
    response = api.post("{ rings { totalCount } }", token=stale)
    assert response.status_code == 401
    assert "expired" in response.text
    forged = issue_token(
        "another-secret-of-sufficient-length-xx", sub="x", role="admin", agency="A", ttl_s=60
    )
    assert api.post("{ rings { totalCount } }", token=forged).status_code == 401


def test_patient_lookup_with_claims_identifiers_rings_and_risk(api: ApiClient) -> None:
    data = api.data(
        """query($id: String!) { patient(id: $id) {
        personId name phone bankAccount address birthDate riskScore rings { ringId score }
        sharedIdentifiers { kind value personCount }
        claims(first: 3) { totalCount pageInfo { hasNextPage endCursor } edges { cursor node {
            claimKey startDate
            totalAmount institution { name } doctor { name } patient { personId } } } }
        node { id ringIds riskScore } } }""",
        {"id": g.P1},
    )
    p = data["patient"]
    assert p["personId"] == g.P1 and p["name"] == "张三" and p["phone"] == g.BROKER_PHONE
    assert p["birthDate"] == "1950-01-01"
    assert p["riskScore"] == pytest.approx(0.9)
    assert {r["ringId"] for r in p["rings"]} == {g.RING_COLLUSION, g.RING_PHONE}
    shared = {s["kind"]: s for s in p["sharedIdentifiers"]}
    assert shared["phone"]["personCount"] == 3 and shared["phone"]["value"] == g.BROKER_PHONE
    assert shared["bank_account"]["personCount"] == 1
    claims = p["claims"]
    assert claims["totalCount"] == 4 and claims["pageInfo"]["hasNextPage"] is True
    dates = [e["node"]["startDate"] for e in claims["edges"]]
    assert dates == sorted(dates, reverse=True)  # most recent first
    assert all(e["node"]["institution"]["name"] == "康乐诊所" for e in claims["edges"])
    assert all(e["node"]["patient"]["personId"] == g.P1 for e in claims["edges"])
    rest = api.data(
        """query($id: String!, $after: String) { patient(id: $id) {
        claims(first: 3, after: $after) { pageInfo { hasNextPage } edges { node { claimKey } } } } }""",
        {"id": g.P1, "after": claims["pageInfo"]["endCursor"]},
    )
    second = [e["node"]["claimKey"] for e in rest["patient"]["claims"]["edges"]]
    first = [e["node"]["claimKey"] for e in claims["edges"]]
    assert len(second) == 1 and not set(second) & set(first)
    assert rest["patient"]["claims"]["pageInfo"]["hasNextPage"] is False
    assert api.data('{ patient(id: "999999999999999999") { name } }')["patient"] is None


def test_doctor_institution_pharmacy_claim_injury_case(api: ApiClient) -> None:
    data = api.data(
        """query($d: String!, $i: String!, $ph: String!) {
        doctor(id: $d) { doctorId name institution { name } claims { totalCount } riskScore }
        institution(id: $i) { label name kind ownership doctors { doctorId } claims(first: 1) {
            totalCount } rings { ringId } }
        pharmacy(id: $ph) { label name claims { totalCount edges { node { patient { name } } } } }
        claim(scheme: "work_injury", id: "W-P5-1") { claimKey scheme visitType totalAmount
            injuryCase { cause } }
        injuryCase(id: "IC-1") { personId cause thirdPartyLiable reportedTo claims { totalCount } }
    }""",
        {"d": g.DOCTOR, "i": g.CLINIC, "ph": g.PHARMACY},
    )
    assert data["doctor"]["name"] == "钱医生" and data["doctor"]["institution"]["name"] == "康乐诊所"
    assert data["doctor"]["claims"]["totalCount"] == 12 and data["doctor"]["riskScore"] == pytest.approx(0.9)
    inst = data["institution"]
    assert inst["label"] == "Institution" and inst["doctors"] == [{"doctorId": g.DOCTOR}]
    assert inst["claims"]["totalCount"] == 12 and inst["rings"] == [{"ringId": g.RING_COLLUSION}]
    assert data["pharmacy"]["label"] == "Pharmacy"
    assert data["pharmacy"]["claims"]["edges"][0]["node"]["patient"]["name"] == "赵六"
    assert data["claim"]["injuryCase"]["cause"] == "work" and data["claim"]["visitType"] == "inpatient"
    assert data["injuryCase"]["thirdPartyLiable"] is False and data["injuryCase"]["claims"]["totalCount"] == 2


def test_search_by_name_and_key_prefix(api: ApiClient) -> None:
    hits = api.data('{ search(text: "康乐") { id label key title } }')["search"]
    assert {
        "id": f"Institution:{g.CLINIC}",
        "label": "Institution",
        "key": g.CLINIC,
        "title": "康乐诊所",
    } in hits
    by_id = api.data("query($t: String!) { search(text: $t, first: 5) { id } }", {"t": g.P4[:10]})["search"]
    assert {"id": f"Patient:{g.P4}"} in by_id
    assert api.error_codes('{ search(text: "  ") { id } }') == ["BAD_REQUEST"]


def test_subgraph_hops_filters_and_ceiling(api: ApiClient) -> None:
    q = f"""query($seeds: [NodeRef!]!, $hops: Int, $max: Int, $rels: [String!], $since: Date, $until: Date) {{
        subgraph(seeds: $seeds, hops: $hops, maxNodes: $max, relTypes: $rels, since: $since, until: $until) {{
            nodes {{ {NODE} }} edges {{ id type source target date }} truncated }} }}"""
    seed = [{"label": "Patient", "key": g.P1}]
    one = api.data(q, {"seeds": seed, "hops": 1})["subgraph"]
    ids = {n["id"] for n in one["nodes"]}
    assert f"Patient:{g.P1}" in ids and f"Phone:{g.BROKER_PHONE}" in ids
    assert sum(n["label"] == "Claim" for n in one["nodes"]) == 4 and not one["truncated"]
    assert all(e["source"] in ids and e["target"] in ids for e in one["edges"])
    two = api.data(q, {"seeds": seed, "hops": 2})["subgraph"]
    ids2 = {n["id"] for n in two["nodes"]}
    assert {f"Patient:{g.P2}", f"Patient:{g.P3}", f"Institution:{g.CLINIC}"} <= ids2  # via the shared phone
    me = next(n for n in two["nodes"] if n["id"] == f"Patient:{g.P1}")
    assert set(me["ringIds"]) == {g.RING_COLLUSION, g.RING_PHONE} and me["props"]["name"] == "张三"
    capped = api.data(q, {"seeds": seed, "hops": 2, "max": 5})["subgraph"]
    assert len(capped["nodes"]) == 5 and capped["truncated"] is True
    phones = api.data(q, {"seeds": seed, "hops": 2, "rels": ["HAS_PHONE"]})["subgraph"]
    assert {n["label"] for n in phones["nodes"]} == {"Patient", "Phone"} and len(phones["nodes"]) == 4
    window = api.data(
        q, {"seeds": seed, "hops": 1, "rels": ["HAS_CLAIM"], "since": "2024-03-15", "until": "2024-03-31"}
    )["subgraph"]
    assert sorted(e["date"] for e in window["edges"]) == ["2024-03-17", "2024-03-24"]
    assert api.error_codes(q, {"seeds": seed, "rels": ["INCLUDES"]}) == ["BAD_REQUEST"]
    assert api.error_codes(q, {"seeds": seed, "max": 10**6}) == ["BAD_REQUEST"]
    assert api.error_codes(q, {"seeds": [{"label": "Patient", "key": "nobody"}]}) == ["NOT_FOUND"]
    assert api.error_codes(q, {"seeds": [{"label": "Nonsense", "key": "x"}]}) == ["SCHEMA_ERROR"]


def test_hub_cap_reports_cut_count(api: ApiClient) -> None:
    # the clinic has 12 claims; the server's hub cap in this module is 20, so ask a tighter one
    # through the doctor, whose 12 BY_DOCTOR claims exceed nothing — use the clinic with hops=1
    data = api.data(f"""{{ subgraph(seeds: [{{label: "Institution", key: "{g.CLINIC}"}}], hops: 1) {{
        nodes {{ id cutCount }} }} }}""")
    clinic = next(n for n in data["subgraph"]["nodes"] if n["id"] == f"Institution:{g.CLINIC}")
    assert clinic["cutCount"] == 0  # 13 relationships, under the cap of 20


def test_paths_between_two_patients_through_the_broker_phone(api: ApiClient) -> None:
    data = api.data(
        """query($a: String!, $b: String!) {
        paths(from: {label: "Patient", key: $a}, to: {label: "Patient", key: $b}, maxHops: 2) {
            nodes { id } edges { type source target } } }""",
        {"a": g.P1, "b": g.P2},
    )
    paths = data["paths"]
    assert paths, "P1 and P2 share a phone"
    ids = [[n["id"] for n in p["nodes"]] for p in paths]
    assert [f"Patient:{g.P1}", f"Phone:{g.BROKER_PHONE}", f"Patient:{g.P2}"] in ids
    assert all(len(p["edges"]) == 2 for p in paths)
    none = api.data(
        """query($a: String!, $b: String!) { paths(from: {label: "Patient", key: $a},
        to: {label: "Patient", key: $b}, maxHops: 2) { nodes { id } } }""",
        {"a": g.P1, "b": g.P6},
    )
    assert none["paths"] == []


def test_rings_connection_filters_and_pages(api: ApiClient) -> None:
    q = """query($kind: String, $min: Float, $first: Int, $after: String) {
        rings(kind: $kind, minScore: $min, first: $first, after: $after) {
            totalCount pageInfo { hasNextPage endCursor } edges { cursor node { ringId kind score } } } }"""
    all_ = api.data(q)["rings"]
    assert [e["node"]["ringId"] for e in all_["edges"]] == [g.RING_COLLUSION, g.RING_PHONE]
    assert api.data(q, {"kind": "shared_identifier"})["rings"]["totalCount"] == 1
    assert api.data(q, {"min": 0.8})["rings"]["totalCount"] == 1
    page1 = api.data(q, {"first": 1})["rings"]
    assert page1["pageInfo"]["hasNextPage"] is True
    page2 = api.data(q, {"first": 1, "after": page1["pageInfo"]["endCursor"]})["rings"]
    assert [e["node"]["ringId"] for e in page2["edges"]] == [g.RING_PHONE]
    assert page2["pageInfo"]["hasNextPage"] is False
    assert api.error_codes(q, {"after": "garbage"}) == ["BAD_REQUEST"]


def test_ring_with_members_evidence_history_and_subgraph(api: ApiClient) -> None:
    data = api.data(
        f"""query($id: ID!) {{ ring(id: $id) {{ ringId kind score status memberCount evidence
        members {{ type id title role }} scoreHistory {{ runId score memberCount }} review {{ verdict }}
        subgraph(hops: 1, maxNodes: 300) {{ nodes {{ {NODE} }} edges {{ type source target }}
            truncated }} }} }}""",
        {"id": g.RING_COLLUSION},
    )
    ring = data["ring"]
    assert ring["kind"] == "collusion" and ring["memberCount"] == 5 and ring["review"] is None
    assert "co-visited" in ring["evidence"][0]
    assert {(m["type"], m["id"]) for m in ring["members"]} == {
        ("Patient", g.P1),
        ("Patient", g.P2),
        ("Patient", g.P3),
        ("Institution", g.CLINIC),
        ("Doctor", g.DOCTOR),
    }
    assert [p["runId"] for p in ring["scoreHistory"]] == ["run-1", "run-2"]
    sub = ring["subgraph"]
    ids = {n["id"] for n in sub["nodes"]}
    assert {f"Patient:{g.P1}", f"Institution:{g.CLINIC}", f"Doctor:{g.DOCTOR}"} <= ids
    # the claims that tie the patients to the clinic are drawn with both their edges
    treated = [e for e in sub["edges"] if e["type"] == "TREATED_AT"]
    assert len(treated) == 12 and all(e["target"] == f"Institution:{g.CLINIC}" for e in treated)
    assert api.data('{ ring(id: "no-such-ring") { ringId } }')["ring"] is None


def test_double_claims_and_anomalies(api: ApiClient) -> None:
    data = api.data("""{ doubleClaims { totalCount edges { node { findingId kind personId
        excessAmount evidence
        claims { claimKey } patient { name } } } } anomalies { totalCount } }""")
    dc = data["doubleClaims"]
    assert dc["totalCount"] == 1
    node = dc["edges"][0]["node"]
    assert node["kind"] == "medical_and_work_injury" and node["personId"] == g.P5
    assert node["excessAmount"] == pytest.approx(3500.0) and node["patient"]["name"] == "孙七"
    assert {c["claimKey"] for c in node["claims"]} == {"medical:M-P5-1", "work_injury:W-P5-1"}
    assert data["anomalies"]["totalCount"] == 0
    filtered = api.data("query($p: String) { doubleClaims(personId: $p) { totalCount } }", {"p": g.P1})
    assert filtered["doubleClaims"]["totalCount"] == 0


READS = {
    "sql": ("SELECT person_id, name FROM n_Patient WHERE person_id = $pid",
            "SELECT count(*) AS n FROM n_Patient"),
    "cypher": ("MATCH (p:Patient {person_id: $pid}) RETURN p.person_id AS person_id, p.name AS name",
               "MATCH (p:Patient) RETURN count(*) AS n"),
}
WRITES = {
    "sql": ("DELETE FROM n_Patient", "DROP TABLE n_Patient", "UPDATE n_Patient SET name = 'x'",
            "CREATE TABLE t AS SELECT 1"),
    "cypher": ("MATCH (p:Patient) DETACH DELETE p", "MATCH (p:Patient) SET p.name = 'x'",
               "CREATE (:Patient {person_id: 'x'})", "LOAD CSV FROM 'file:///etc/passwd' AS l RETURN l"),
}


def test_read_query_runs_the_stores_language_read_only(api: ApiClient, api_store: GraphStore) -> None:
    lookup, count = READS[api_store.query_language]
    data = api.data(
        """query($t: String!, $p: JSON) { readQuery(text: $t, params: $p) { columns rows truncated } }""",
        {"t": lookup, "p": {"pid": g.P4}},
    )
    rows = data["readQuery"]
    assert rows["columns"] == ["person_id", "name"] and rows["rows"] == [[g.P4, "赵六"]]
    for write in WRITES[api_store.query_language]:
        codes = api.error_codes("query($t: String!) { readQuery(text: $t) { columns } }", {"t": write})
        assert codes == ["WRITE_REFUSED"], write
    still = api.data("query($t: String!) { readQuery(text: $t) { rows } }", {"t": count})
    assert still["readQuery"]["rows"] == [[6]]


def test_named_queries_listed_and_run(api: ApiClient) -> None:
    listed = api.data("{ namedQueries { name description parameters { name type } } }", role="analyst")
    by_name = {q["name"]: q for q in listed["namedQueries"]}
    assert by_name["persons_sharing_identifier"]["parameters"] == [{"name": "person_id", "type": "string"}]
    q = """query($p: JSON) { runNamedQuery(name: "persons_sharing_identifier", params: $p) {
        columns rows truncated } }"""
    rows = api.data(q, {"p": {"person_id": g.P1}}, role="investigator")["runNamedQuery"]
    cols = rows["columns"]
    sharers = {r[cols.index("person_id")] for r in rows["rows"]}
    assert sharers == {g.P2, g.P3}
    assert api.error_codes('{ runNamedQuery(name: "no_such_query") { columns } }', role="analyst") == [
        "NOT_FOUND"
    ]
    assert api.error_codes(q, {"p": {}}, role="analyst") == ["BAD_REQUEST"]
