"""Every field that can return a person, claim, identifier, ring, finding, case or note, proved for
police outside any case, police inside their cases, and analysts — over real HTTP.

The list of fields is read from the live schema: a new field returning such a type without a probe
here fails :func:`test_every_sensitive_field_has_a_probe`, so no field ships without a scope rule
being shown to hold for it (issue 10, "one scope layer").

Each probe is run twice per caller: with variables pointing *into* the inside police agency's
cases and with variables pointing *out* of them. What must never appear in ``data``:

- police with no shared case: anything of the graph;
- police inside their cases: the persons, identifiers, rings, findings and cases outside them
  (a visible claim's out-of-scope institution, a member's other ring ...);
- analysts: any raw ID number, name, phone, account or address, and anything of a case.

Error messages may repeat what the caller sent, so only ``data`` is searched.

The police agency PSB-EAST has two cases: the collusion ring with its clinic, and patient P4
alone (whose claims were at a hospital and a pharmacy that are not in the case)::

    case A ── R-collusion-1 ── P1, P2, P3, 康乐诊所, 钱医生        (P1-P3 also in R-phone-1: outside)
    case B ── P4 ── M-P4-1 ─ 第一人民医院 / 吴医生 (outside), M-P4-2 ─ 百姓大药房 (outside)
    case C (not shared) ── P5
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from graphql import get_named_type

from api.gql.schema import build_schema
from api.security.masking import KeyCipher
from graph.port import GraphStore
from tests.integration import api_graph as g
from tests.integration.api_server import SECRET, ApiClient, serve

INSIDE, OUTSIDE_AGENCY = "PSB-EAST", "PSB-NOBODY"
SENSITIVE_TYPES = frozenset(
    {
        "Patient",
        "Doctor",
        "Institution",
        "Claim",
        "InjuryCase",
        "Ring",
        "Finding",
        "Case",
        "CaseNote",
        "GraphNode",
        "GraphEdge",
        "Subgraph",
        "Path",
        "SearchHit",
        "RingMember",
        "RingMembership",
        "SharedIdentifier",
        "RingReview",
        "ClaimConnection",
        "ClaimEdge",
        "RingConnection",
        "RingEdge",
        "FindingConnection",
        "FindingEdge",
        "CaseConnection",
        "CaseEdge",
        "QueryRows",
        "Entity",
    }
)
NAMES = ["张三", "李四", "王五", "赵六", "孙七", "周八", "钱医生", "吴医生"]
RAW_PII = [
    g.P1,
    g.P2,
    g.P3,
    g.P4,
    g.P5,
    g.P6,
    "110101197001019999",
    *NAMES,
    g.BROKER_PHONE,
    "13900139000",
    "13700137000",
    "13600136000",
    "6222000011112222",
    "6222000077778888",
    "6222000099990000",
    "北京市东城区和平里一号",
    "南京市玄武区中山路八号",
    "广州市越秀区东风路九号",
]
CASE_TEXT = ["康乐诊所 团伙", "赵六 个案", "孙七 未共享", "走访记录 线人"]
OUTSIDE_OF_INSIDE = [
    g.P5,
    g.P6,
    "孙七",
    "周八",
    "吴医生",
    "13700137000",
    "13600136000",
    "6222000099990000",
    g.RING_PHONE,
    "第一人民医院",
    "百姓大药房",
    "F-double-1",
    '"IC-1"',  # quoted: INST-CLINIC-1 contains IC-1
    "M-P5-1",
    "W-P5-1",
    "M-P6-1",
    "孙七 未共享",
]
EVERYTHING = sorted(
    {*RAW_PII, *CASE_TEXT, *OUTSIDE_OF_INSIDE, g.RING_COLLUSION, "康乐诊所", "M12340", "M-P4-1"}
)

Key = Callable[[str, str], str]


@dataclass(frozen=True)
class Probe:
    query: str
    inside: Callable[[Key, dict[str, str]], dict[str, Any]]
    outside: Callable[[Key, dict[str, str]], dict[str, Any]]
    expect_inside: str | None = None  # shown to police inside their cases
    fields: tuple[str, ...] = field(default_factory=tuple)


def _none(k: Key, c: dict[str, str]) -> dict[str, Any]:
    return {}


def _p(key: str) -> Callable[[Key, dict[str, str]], dict[str, Any]]:
    return lambda k, c: {"p": k("Patient", key)}


def _v(**values: str) -> Callable[[Key, dict[str, str]], dict[str, Any]]:
    return lambda k, c: dict(values)


PATIENT_ALL = """query($p: String!) { patient(id: $p) { personId name phone bankAccount address birthDate
  node { id key title props ringIds riskScore } rings { ringId score } riskScore
  claims { totalCount edges { node { claimKey personId institutionId } } }
  sharedIdentifiers { key value personCount } injuryCases { injuryCaseId cause personId } } }"""
CLAIM_ALL = """query($s: String!, $c: String!) { claim(scheme: $s, id: $c) { claimKey personId
  node { title props ringIds } rings { ringId } patient { name personId } institution { name }
  doctor { name personId } injuryCase { injuryCaseId cause } } }"""
INSTITUTION_ALL = """query($i: String!) { institution(id: $i) { name node { title props } rings { ringId }
  claims { edges { node { personId } } } doctors { name personId } } }"""
DOCTOR_ALL = """query($d: String!) { doctor(id: $d) { name personId node { title props } rings { ringId }
  claims { edges { node { personId } } } institution { name } } }"""
INJURY_ALL = """query($i: String!) { injuryCase(id: $i) { cause personId node { title props }
  rings { ringId } claims { edges { node { claimKey personId } } } } }"""
RING_ALL = """query($r: ID!) { ring(id: $r) { ringId evidence review { reason reviewedBy }
  members { id title }
  subgraph(hops: 2) { nodes { id title props ringIds } edges { id source target } } } }"""
RINGS_ALL = """{ rings(first: 50) { totalCount edges { node { ringId evidence review { reason }
  members { id title } subgraph { nodes { id title } edges { id } } } } } }"""
FINDINGS = """{ %s { totalCount edges { node { findingId personId evidence claims { claimKey personId }
  patient { name personId } } } } }"""
CASE_FIELDS = """caseId title agency sharedWith rings { ringId members { title } } entities { id title props }
  notes { text author } subgraph { nodes { id title } edges { id } }"""
SUBGRAPH = """query($p: String!) { subgraph(seeds: [{label: "Patient", key: $p}], hops: 3) {
  nodes { id key title props ringIds } edges { id source target } } }"""
SEEDED = """query($l: String!, $k: String!) { subgraph(seeds: [{label: $l, key: $k}], hops: 2) {
  nodes { id key title props ringIds } edges { id source target } } }"""
PATHS = """query($a: String!, $b: String!) { paths(from: {label: "Patient", key: $a},
  to: {label: "Patient", key: $b}, maxHops: 4) { nodes { id title props } edges { id } } }"""

PROBES: dict[str, Probe] = {
    "patient": Probe(
        PATIENT_ALL,
        _p(g.P1),
        _p(g.P5),
        "张三",
        (
            "Query.patient",
            "Patient.node",
            "Patient.rings",
            "Patient.claims",
            "Patient.sharedIdentifiers",
            "Patient.injuryCases",
            "Entity.node",
            "Entity.rings",
            "ClaimConnection.edges",
            "ClaimEdge.node",
        ),
    ),
    "patient-4": Probe(PATIENT_ALL, _p(g.P4), _p(g.P6), "赵六"),
    "claim": Probe(
        CLAIM_ALL,
        _v(s="medical", c="M12340"),
        _v(s="medical", c="M-P5-1"),
        "康乐诊所",
        (
            "Query.claim",
            "Claim.node",
            "Claim.rings",
            "Claim.patient",
            "Claim.institution",
            "Claim.doctor",
            "Claim.injuryCase",
        ),
    ),
    # a claim in scope whose hospital, doctor and pharmacy are not
    "claim-edge": Probe(CLAIM_ALL, _v(s="medical", c="M-P4-1"), _v(s="medical", c="M-P4-2"), "赵六"),
    "institution": Probe(
        INSTITUTION_ALL,
        _v(i=g.CLINIC),
        _v(i=g.HOSPITAL),
        "钱医生",
        (
            "Query.institution",
            "Institution.node",
            "Institution.rings",
            "Institution.claims",
            "Institution.doctors",
        ),
    ),
    "pharmacy": Probe(
        "query($i: String!) { pharmacy(id: $i) { name node { title } claims { totalCount } } }",
        _v(i=g.PHARMACY),
        _v(i=g.PHARMACY),
        None,
        ("Query.pharmacy",),
    ),
    "doctor": Probe(
        DOCTOR_ALL,
        _v(d=g.DOCTOR),
        _v(d=g.DOCTOR2),
        "钱医生",
        ("Query.doctor", "Doctor.node", "Doctor.rings", "Doctor.claims", "Doctor.institution"),
    ),
    "injury": Probe(
        INJURY_ALL,
        _v(i="IC-1"),
        _v(i="IC-1"),
        None,
        ("Query.injuryCase", "InjuryCase.node", "InjuryCase.rings", "InjuryCase.claims"),
    ),
    "search": Probe(
        "query($t: String!) { search(text: $t) { id label key title } }",
        _v(t="张"),
        _v(t="孙七"),
        "张三",
        ("Query.search",),
    ),
    "search-key": Probe(
        "query($t: String!) { search(text: $t) { id label key title } }", _v(t="1101"), _v(t="5101"), g.P1
    ),
    "subgraph": Probe(
        SUBGRAPH, _p(g.P4), _p(g.P5), "赵六", ("Query.subgraph", "Subgraph.nodes", "Subgraph.edges")
    ),
    "subgraph-ring": Probe(SUBGRAPH, _p(g.P1), _p(g.P6), "李四"),
    # derived nodes as seeds: their free text and their links must follow the same rules
    "subgraph-of-ring": Probe(
        SEEDED, _v(l="Ring", k=g.RING_COLLUSION), _v(l="Ring", k=g.RING_PHONE), g.RING_COLLUSION
    ),
    "subgraph-of-finding": Probe(
        SEEDED, _v(l="Finding", k="F-double-1"), _v(l="Finding", k="F-double-1"), None
    ),
    "paths": Probe(
        PATHS,
        lambda k, c: {"a": k("Patient", g.P1), "b": k("Patient", g.P2)},
        lambda k, c: {"a": k("Patient", g.P1), "b": k("Patient", g.P5)},
        "李四",
        ("Query.paths", "Path.nodes", "Path.edges"),
    ),
    "ring": Probe(
        RING_ALL,
        _v(r=g.RING_COLLUSION),
        _v(r=g.RING_PHONE),
        "王五",
        ("Query.ring", "Ring.review", "Ring.members", "Ring.subgraph"),
    ),
    "rings": Probe(
        RINGS_ALL, _none, _none, g.RING_COLLUSION, ("Query.rings", "RingConnection.edges", "RingEdge.node")
    ),
    "doubleClaims": Probe(
        FINDINGS % "doubleClaims",
        _none,
        _none,
        None,
        (
            "Query.doubleClaims",
            "FindingConnection.edges",
            "FindingEdge.node",
            "Finding.claims",
            "Finding.patient",
        ),
    ),
    "anomalies": Probe(FINDINGS % "anomalies", _none, _none, None, ("Query.anomalies",)),
    "cases": Probe(
        "{ cases { totalCount edges { node { " + CASE_FIELDS + " } } } }",
        _none,
        _none,
        "康乐诊所 团伙",
        (
            "Query.cases",
            "CaseConnection.edges",
            "CaseEdge.node",
            "Case.rings",
            "Case.entities",
            "Case.notes",
            "Case.subgraph",
        ),
    ),
    "case": Probe(
        "query($c: ID!) { case(id: $c) { " + CASE_FIELDS + " } }",
        lambda k, c: {"c": c["A"]},
        lambda k, c: {"c": c["C"]},
        "走访记录 线人",
        ("Query.case",),
    ),
    "case-b": Probe(
        "query($c: ID!) { case(id: $c) { " + CASE_FIELDS + " } }",
        lambda k, c: {"c": c["B"]},
        lambda k, c: {"c": c["C"]},
        "赵六 个案",
    ),
    "readQuery": Probe(
        '{ readQuery(text: "SELECT * FROM n_Patient") { columns rows } }',
        _none,
        _none,
        None,
        ("Query.readQuery",),
    ),
    "namedQuery": Probe(
        'query($p: JSON) { runNamedQuery(name: "persons_sharing_identifier", params: $p) { rows } }',
        lambda k, c: {"p": {"person_id": k("Patient", g.P1)}},
        lambda k, c: {"p": {"person_id": k("Patient", g.P5)}},
        None,
        ("Query.runNamedQuery",),
    ),
    "openCase": Probe(
        'mutation($p: String!) { openCase(title: "x", entities: [{label: "Patient", key: $p}]) '
        "{ caseId title entities { title } } }",
        _p(g.P1),
        _p(g.P5),
        None,
        ("Mutation.openCase",),
    ),
    "addCaseNote": Probe(
        'mutation($c: String!) { addCaseNote(caseId: $c, text: "警方补充") { caseId text } }',
        lambda k, c: {"c": c["A"]},
        lambda k, c: {"c": c["C"]},
        "警方补充",
        ("Mutation.addCaseNote",),
    ),
    "setCaseStatus": Probe(
        'mutation($c: String!) { setCaseStatus(caseId: $c, status: "investigating") '
        "{ title notes { text } } }",
        lambda k, c: {"c": c["A"]},
        lambda k, c: {"c": c["C"]},
        None,
        ("Mutation.setCaseStatus",),
    ),
    "shareCase": Probe(
        'mutation($c: String!) { shareCase(caseId: $c, agency: "PSB-X") { title notes { text } } }',
        lambda k, c: {"c": c["A"]},
        lambda k, c: {"c": c["C"]},
        None,
        ("Mutation.shareCase",),
    ),
    "addCaseEntities": Probe(
        "mutation($c: String!, $p: String!) { addCaseEntities(caseId: $c, "
        'entities: [{label: "Patient", key: $p}]) { title entities { title } notes { text } } }',
        lambda k, c: {"c": c["A"], "p": k("Patient", g.P1)},
        lambda k, c: {"c": c["C"], "p": k("Patient", g.P5)},
        None,
        ("Mutation.addCaseEntities",),
    ),
    "reviewRing": Probe(
        'mutation($r: String!) { reviewRing(ringId: $r, verdict: CONFIRMED, reason: "x") '
        "{ members { title } review { reason } } }",
        _v(r=g.RING_COLLUSION),
        _v(r=g.RING_PHONE),
        None,
        ("Mutation.reviewRing",),
    ),
}


@pytest.fixture(scope="module")
def world(api_store: GraphStore, tmp_path_factory: pytest.TempPathFactory
          ) -> Iterator[tuple[ApiClient, dict[str, str]]]:
    store = api_store
    g.build(store)
    with serve(store, tmp_path_factory.mktemp("scope"), scope_cache_s=0, max_cost=100_000) as api:
        opened = (
            "mutation($t: String!, $r: [String!], $e: [NodeRef!]) "
            "{ openCase(title: $t, ringIds: $r, entities: $e) { caseId } }"
        )
        cases = {
            "A": api.data(
                opened,
                {
                    "t": "康乐诊所 团伙",
                    "r": [g.RING_COLLUSION],
                    "e": [{"label": "Institution", "key": g.CLINIC}],
                },
            )["openCase"]["caseId"],
            "B": api.data(opened, {"t": "赵六 个案", "e": [{"label": "Patient", "key": g.P4}]})["openCase"][
                "caseId"
            ],
            "C": api.data(opened, {"t": "孙七 未共享", "e": [{"label": "Patient", "key": g.P5}]})["openCase"][
                "caseId"
            ],
        }
        share = 'mutation($c: String!) { shareCase(caseId: $c, agency: "PSB-EAST") { caseId } }'
        for name in ("A", "B"):
            api.data(share, {"c": cases[name]})
        api.data(
            'mutation($c: String!) { addCaseNote(caseId: $c, text: "走访记录 线人") { noteId } }',
            {"c": cases["A"]},
        )
        api.data(
            'mutation($c: String!) { addCaseNote(caseId: $c, text: "孙七 未共享") { noteId } }',
            {"c": cases["C"]},
        )
        reviews = (
            (g.RING_COLLUSION, f"张三 {g.P1} 13800138000"),
            (g.RING_PHONE, f"李四 {g.P5} 6222000099990000"),
        )
        for ring, reason in reviews:
            api.data(
                "mutation($r: String!, $w: String!) { reviewRing(ringId: $r, verdict: CONFIRMED, reason: $w) "
                "{ ringId } }",
                {"r": ring, "w": reason},
            )
        yield api, cases


def sensitive_fields() -> set[str]:
    schema = build_schema()._schema
    out = set()
    for name, type_ in schema.type_map.items():
        if name.startswith("__") or not hasattr(type_, "fields"):
            continue
        for fname, f in type_.fields.items():
            if get_named_type(f.type).name in SENSITIVE_TYPES:
                out.add(f"{name}.{fname}")
    return out


def test_every_sensitive_field_has_a_probe() -> None:
    covered = {f for p in PROBES.values() for f in p.fields}
    assert sensitive_fields() - covered == set(), "fields without a scope probe"
    assert covered - sensitive_fields() == set(), "probes for fields that no longer exist"


def _data_text(api: ApiClient, probe: Probe, variables: dict[str, Any], role: str, agency: str) -> str:
    body = api.gql(probe.query, variables, role=role, agency=agency)
    return json.dumps(body.get("data"), ensure_ascii=False)


def _raw(label: str, key: str) -> str:
    return key


def _masked(label: str, key: str) -> str:
    return KeyCipher(SECRET).seal(label, key) if label == "Patient" else key


@pytest.mark.parametrize("name", list(PROBES))
def test_police_outside_any_case_see_nothing(world: tuple[ApiClient, dict[str, str]], name: str) -> None:
    api, cases = world
    probe = PROBES[name]
    for variables in (probe.inside(_raw, cases), probe.outside(_raw, cases)):
        text = _data_text(api, probe, variables, "police", OUTSIDE_AGENCY)
        assert [s for s in EVERYTHING if s in text] == [], text


@pytest.mark.parametrize("name", list(PROBES))
def test_police_inside_their_cases_see_those_and_nothing_beyond(
    world: tuple[ApiClient, dict[str, str]], name: str
) -> None:
    api, cases = world
    probe = PROBES[name]
    inside = _data_text(api, probe, probe.inside(_raw, cases), "police", INSIDE)
    outside = _data_text(api, probe, probe.outside(_raw, cases), "police", INSIDE)
    for text in (inside, outside):
        assert [s for s in OUTSIDE_OF_INSIDE if s in text] == [], text
    if probe.expect_inside is not None:
        assert probe.expect_inside in inside, inside


@pytest.mark.parametrize("name", list(PROBES))
def test_analysts_see_no_raw_identity_and_no_case(world: tuple[ApiClient, dict[str, str]], name: str) -> None:
    api, cases = world
    probe = PROBES[name]
    for variables in (probe.inside(_masked, cases), probe.outside(_masked, cases)):
        text = _data_text(api, probe, variables, "analyst", "ANALYSIS-1")
        leaked = [s for s in [*RAW_PII, *CASE_TEXT, *cases.values()] if s in text]
        assert leaked == [], text
