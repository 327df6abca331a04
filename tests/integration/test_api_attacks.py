"""Issue 10's fourteen attacks, replayed over real HTTP against a prod-mode server.

Each test is named after its row of the issue and fails on the code the issue was filed against.
Every test that uses the ``store`` fixture runs on both stores; where an attack is written in the
store's query language (SQL on DuckDB, Cypher on Neo4j) the test says both.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jwt
import pandas as pd
import pytest

from api.http.app import create_app
from api.security.audit import verify
from api.security.masking import KeyCipher
from api.settings import ApiSettings, AuditSettings
from graph.errors import AuditError, ConfigError
from graph.port import GraphStore
from graph.settings import Settings
from tests.integration import api_graph as g
from tests.integration.api_server import AUDIT_KEY, SECRET, ApiClient, serve

MEDFRAUD = [sys.executable, "-c", "from api.cli import main; main()"]
READ = "query($t: String!) { readQuery(text: $t) { columns rows truncated } }"


@pytest.fixture(scope="module")
def store(api_store: GraphStore) -> GraphStore:
    g.build(api_store)
    api_store.upsert_nodes(
        "Patient", pd.DataFrame([{"person_id": g.P6, "source_file": "/srv/medfraud/in/persons.csv"}])
    )
    return api_store


def cypher(store: GraphStore) -> bool:
    return store.query_language == "cypher"


# A query that runs for many seconds in the store, in its language; SLOW_MARK finds it there.
SLOW_MARK = "slow_marker"
SLOW = {
    "sql": f"SELECT sum(a.range * b.range) AS {SLOW_MARK} FROM range(200000) a, range(200000) b",
    "cypher": f"UNWIND range(1, 2000000000) AS i RETURN sum(i % 7) AS {SLOW_MARK}",
}


def still_running(store: GraphStore) -> bool:
    """Whether the slow query still runs in the store (Neo4j: its transactions; DuckDB: our CPU)."""
    if cypher(store):
        # Neo4j ends a transaction past its timeout at the query's next check, a moment later under load
        deadline = time.monotonic() + 10
        while True:
            rows = store.read_query(
                "SHOW TRANSACTIONS YIELD currentQuery WHERE currentQuery CONTAINS $mark "
                "AND NOT currentQuery CONTAINS 'SHOW TRANSACTIONS' RETURN count(*) AS n", {"mark": SLOW_MARK}
            ).rows
            if not rows[0][0] or time.monotonic() > deadline:
                return bool(rows[0][0])
            time.sleep(0.25)
    cpu = time.process_time()
    time.sleep(2.0)
    # a query still running would burn at least a core for these two seconds
    return time.process_time() - cpu >= 0.5


@pytest.fixture(scope="module")
def api(store: GraphStore, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ApiClient]:
    with serve(store, tmp_path_factory.mktemp("attacks"), scope_cache_s=0) as client:
        yield client


def records(api: ApiClient) -> list[dict[str, Any]]:
    if not api.audit_log.exists():
        return []
    return [json.loads(x) for x in api.audit_log.read_text(encoding="utf-8").splitlines()]


def open_case(
    api: ApiClient, agency: str = "bureau-1", title: str = "康乐诊所 张三 110101195001011234"
) -> str:
    made = api.data(
        "mutation($t: String!, $r: [String!]) { openCase(title: $t, ringIds: $r) { caseId } }",
        {"t": title, "r": [g.RING_COLLUSION]},
        role="investigator",
        agency=agency,
    )
    case_id: str = made["openCase"]["caseId"]
    return case_id


# -- row 1 ------------------------------------------------------------------------------------------
def test_row_01_police_whose_id_equals_a_bureau_id_sees_none_of_its_cases(api: ApiClient) -> None:
    case_id = open_case(api, agency="bureau-1")
    body = api.gql(
        "query($c: ID!, $p: String!) { cases { totalCount } case(id: $c) { title } "
        "patient(id: $p) { name } }",
        {"c": case_id, "p": g.P1},
        role="police",
        agency="bureau-1",
    )
    assert body["data"] == {"cases": {"totalCount": 0}, "case": None, "patient": None}
    note = api.gql(
        'mutation($c: String!) { addCaseNote(caseId: $c, text: "x") { noteId } }',
        {"c": case_id},
        role="police",
        agency="bureau-1",
    )
    assert note["errors"][0]["extensions"]["code"] == "NOT_FOUND"
    # shared with police:bureau-1 on purpose, it is visible: the kind, not the id, decided
    api.data(
        'mutation($c: String!) { shareCase(caseId: $c, agency: "bureau-1") { caseId } }',
        {"c": case_id},
        agency="bureau-1",
    )
    seen = api.data("{ cases { totalCount } }", role="police", agency="bureau-1")
    assert seen["cases"]["totalCount"] == 1


# -- row 2 ------------------------------------------------------------------------------------------
def test_row_02_analysts_read_no_cases_or_notes(api: ApiClient, store: GraphStore) -> None:
    case_id = open_case(api)
    api.data(
        'mutation($c: String!) { addCaseNote(caseId: $c, text: "嫌疑人张三 13800138000") { noteId } }',
        {"c": case_id},
        agency="bureau-1",
    )
    # DuckDB: the pseudonymised view has no such tables; Neo4j Community has no view at all, so
    # analysts' Cypher is refused outright
    attempts, code = (
        (("MATCH (c:Case) RETURN c", "MATCH (n:CaseNote) RETURN n", "MATCH ()-[r:HAS_NOTE]->() RETURN 1"),
         "FORBIDDEN")
        if cypher(store)
        else (("SELECT * FROM n_Case", "SELECT * FROM n_CaseNote", "SELECT * FROM r_HAS_NOTE"), "BAD_REQUEST")
    )
    for text in attempts:
        assert api.error_codes(READ, {"t": text}, role="analyst") == [code], text
    sub = api.gql(
        'query($c: String!) { subgraph(seeds: [{label: "Case", key: $c}]) { nodes { title } } }',
        {"c": case_id},
        role="analyst",
    )
    assert sub["errors"][0]["extensions"]["code"] == "NOT_FOUND"
    assert "张三" not in json.dumps(sub, ensure_ascii=False)
    assert api.error_codes("query($c: ID!) { case(id: $c) { title } }", {"c": case_id}, role="analyst") == [
        "FORBIDDEN"
    ]


# -- row 3 is tests/integration/test_api_access.py::test_analyst_queries_run_on_the_pseudonymised_view --


# -- row 4 ------------------------------------------------------------------------------------------
def test_row_04_analyst_search_is_no_oracle_for_ids_or_names(api: ApiClient) -> None:
    q = "query($t: String!) { search(text: $t) { label key } }"
    for guess in (g.P1[:6], g.P1[:12], g.P1, "张三", "张", g.BROKER_PHONE, "钱医生"):
        assert api.data(q, {"t": guess}, role="analyst")["search"] == [], guess
    assert api.error_codes(
        "query($p: String!) { patient(id: $p) { name } }", {"p": g.P1}, role="analyst"
    ) == ["BAD_REQUEST"]
    token = KeyCipher(SECRET).seal("Patient", g.P1)
    assert api.data(q, {"t": token}, role="analyst")["search"] == [{"label": "Patient", "key": token}]
    assert api.data(q, {"t": "康乐"}, role="analyst")["search"] == [{"label": "Institution", "key": g.CLINIC}]


# -- row 5 ------------------------------------------------------------------------------------------
def test_row_05_free_text_reaches_analysts_scrubbed(api: ApiClient) -> None:
    reason = f"张三({g.P1})与李四共用{g.BROKER_PHONE},收款账户6222000011112222"
    api.data(
        'mutation($r: String!) { reviewRing(ringId: "R-collusion-1", verdict: CONFIRMED, reason: $r) '
        "{ ringId } }",
        {"r": reason},
    )
    q = '{ ring(id: "R-collusion-1") { review { reason } evidence } }'
    shown = api.data(q, role="analyst")["ring"]["review"]["reason"]
    assert shown == "张*(110101********1234)与李*共用138****8000,收款账户****2222"
    assert api.data(q, role="investigator")["ring"]["review"]["reason"] == reason
    phone_ring = api.data('{ ring(id: "R-phone-1") { evidence } }', role="analyst")["ring"]
    assert g.BROKER_PHONE not in str(phone_ring) and "138****8000" in str(phone_ring)


# -- row 6 ------------------------------------------------------------------------------------------
def test_row_06_every_request_is_recorded_whatever_its_outcome(api: ApiClient) -> None:
    before = len(records(api))
    sent = [
        api.post("{ rings { totalCount } }", token="not-a-token"),
        api.post("{ rings { totalCount } }", role=None),
        api.post("mutation { runDetection { status } }", role="investigator"),
        api.post(
            "query($p: String!) { patient(id: $p) { name } }", {"p": g.P4}, role="police", agency="PSB-NONE"
        ),
        api.post("{ cases { totalCount } }", role="analyst"),
        api.post('{ readQuery(text: "SELECT * FROM nowhere") { rows } }'),
        api.post('{ patient(id: "no-such") { name } }'),
        api.post("{ rings { totalCount } }"),
        api.post("{ nonsense }"),
    ]
    assert [r.status_code for r in sent] == [401, 401, 200, 200, 200, 200, 200, 200, 200]
    recs = records(api)[before:]
    assert len(recs) == len(sent)
    assert [r["outcome"] for r in recs] == [
        "invalid_token",
        "invalid_token",
        "denied",
        "out_of_scope",
        "denied",
        "invalid",
        "ok",
        "ok",
        "invalid",
    ]
    assert recs[3]["role"] == "police" and recs[3]["out_of_scope"] == [f"Patient:{g.P4}"]
    assert recs[2]["sub"] == "investigator-user" and recs[2]["codes"] == ["FORBIDDEN"]
    assert recs[0]["sub"] is None and recs[0]["client"] == recs[2]["client"] == "127.0.0.1"


# -- row 7 ------------------------------------------------------------------------------------------
def test_row_07_the_whole_query_text_is_recorded(api: ApiClient, store: GraphStore) -> None:
    hidden = ("MATCH (p:Patient) WHERE p.name = '张三' RETURN count(*)" if cypher(store)
              else "SELECT count(*) FROM n_Patient WHERE name = '张三'")
    sql = "/*" + "x" * 2_100 + "*/ " + hidden
    api.data(READ, {"t": sql})
    rec = records(api)[-1]
    assert sql in rec["variables"] and not rec["variables_truncated"]
    text = json.dumps({"t": sql}, sort_keys=True, ensure_ascii=False)
    assert rec["variables_sha256"] == hashlib.sha256(text.encode()).hexdigest()
    assert rec["query_chars"] == len(READ)
    assert rec["query_sha256"] == hashlib.sha256(READ.encode()).hexdigest()
    # the document is written in full once; repeats point at the record that holds it
    holder = (
        rec
        if rec["query"] is not None
        else next(r for r in records(api) if r["seq"] == rec["query_first_seq"])
    )
    assert holder["query"] == READ and holder["query_sha256"] == rec["query_sha256"]


# -- row 8 ------------------------------------------------------------------------------------------
def test_row_08_a_chain_rewritten_without_the_key_fails_and_a_cut_log_stops_the_server(
    store: GraphStore,
    tmp_path: Path,
) -> None:
    with serve(store, tmp_path) as api:
        for person in (g.P1, g.P2, g.P3):
            api.data("query($p: String!) { patient(id: $p) { name } }", {"p": person})
    log = tmp_path / "audit.log"
    lines = log.read_text(encoding="utf-8").splitlines()
    # the attack: drop the last record, re-hash the rest with plain SHA-256, rewrite the head
    prev, out = "0" * 64, []
    for line in lines[:-1]:
        rec = json.loads(line)
        rec.pop("hash")
        rec["prev"] = prev
        canonical = json.dumps(rec, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
        rec["hash"] = prev = hashlib.sha256((prev + canonical).encode()).hexdigest()
        out.append(json.dumps(rec, sort_keys=True, ensure_ascii=False, separators=(",", ":")))
    log.write_text("\n".join(out) + "\n", encoding="utf-8")
    log.with_name("audit.log.head").write_text(json.dumps({"seq": len(out), "hash": prev, "mac": prev}))
    proc = subprocess.run(
        [*MEDFRAUD, "audit", "verify", str(log)],
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, "MEDFRAUD_AUDIT_KEY": AUDIT_KEY},
    )
    assert proc.returncode == 1 and "line 1" in proc.stderr
    with pytest.raises(AuditError, match="new-segment"):
        create_app(
            Settings(env="prod", secret=SECRET),
            store,  # type: ignore[arg-type]
            api_settings=ApiSettings(audit_log=log),
            audit_settings=AuditSettings(key=AUDIT_KEY),
        )
    fixed = subprocess.run(
        [*MEDFRAUD, "audit", "new-segment", str(log)],
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, "MEDFRAUD_AUDIT_KEY": AUDIT_KEY},
    )
    assert fixed.returncode == 0, fixed.stderr
    with serve(store, tmp_path) as api:  # starts again, on a new segment that records the break
        api.data("query($p: String!) { patient(id: $p) { name } }", {"p": g.P1})
    assert verify(log, AUDIT_KEY).ok
    assert json.loads(log.read_text(encoding="utf-8").splitlines()[0])["event"] == "segment_break"


# -- row 9 ------------------------------------------------------------------------------------------
def test_row_09_prod_suggests_no_field_names(api: ApiClient) -> None:
    body = api.gql('{ patien(id: "x") { name } }')
    message = body["errors"][0]["message"]
    assert "patien" in message and "Did you mean" not in message and "patient'" not in message


# -- row 10 -----------------------------------------------------------------------------------------
def test_row_10_a_request_whose_cost_exceeds_the_budget_is_refused_before_it_runs(api: ApiClient) -> None:
    fields = " ".join(
        f"a{i}: rings(first: 200) {{ edges {{ node {{ subgraph(hops: 4, maxNodes: 1000) "
        f"{{ nodes {{ id }} }} }} }} }}"
        for i in range(10)
    )
    started = time.process_time()
    body = api.gql("{ " + fields + " }")
    assert time.process_time() - started < 1.0
    assert body["data"] is None and body["errors"][0]["extensions"]["code"] == "BAD_REQUEST"
    assert "2008000 nodes" in body["errors"][0]["message"]
    # what the UI asks for fits
    assert api.data(
        '{ ring(id: "R-collusion-1") { members { id } subgraph(hops: 1, maxNodes: 300) '
        "{ nodes { id } } } rings(first: 20) { totalCount } }"
    )["ring"]["members"]


def test_row_10_store_time_is_bounded_per_request_not_only_per_call(
    store: GraphStore, tmp_path: Path
) -> None:
    slow = SLOW[store.query_language]
    with serve(store, tmp_path, store_timeout_s=30.0, request_store_s=1.0) as api:
        started = time.monotonic()
        body = api.gql(
            "query($t: String!) { a: readQuery(text: $t) { rows } b: readQuery(text: $t) { rows } }",
            {"t": slow},
        )
        assert time.monotonic() - started < 5
        # both aliases shared the one second (the first error nulls the answer, so one is reported)
        assert {e["extensions"]["code"] for e in body["errors"]} == {"QUERY_TIMEOUT"}
        time.sleep(0.5)
        assert not still_running(store)  # neither query goes on in the store


# -- row 11 -----------------------------------------------------------------------------------------
def test_row_11_every_value_type_is_answered_and_answers_are_capped_in_bytes(
    store: GraphStore, tmp_path: Path
) -> None:
    with serve(store, tmp_path, read_query_max_bytes=100_000) as api:
        if cypher(store):
            row = api.data(READ, {"t": (
                "RETURN 9223372036854775807 AS big, duration('P1DT1H30M') AS i, date('2024-01-02') AS d, "
                "datetime('2024-01-02T03:04:05Z') AS t, localtime('10:11:12') AS lt, "
                "point({x: 1.5, y: 2.5}) AS p, [1, 'a', null] AS l, {k: [1, 2]} AS m")})
            (big, interval, day, stamp, local, point, mixed, nested), = row["readQuery"]["rows"]
            assert (big, day) == ("9223372036854775807", "2024-01-02")  # beyond 2**53: as text
            assert (mixed, nested) == ([1, "a", None], {"k": [1, 2]})
            assert interval and stamp.startswith("2024-01-02T03:04:05") and local == "10:11:12" and point
            huge = "RETURN reduce(s = 'x', i IN range(1, 25) | s + s) AS big"
            rows = "UNWIND range(1, 900) AS i RETURN reduce(s = '', j IN range(1, 1000) | s + 'y') AS s"
        else:
            row = api.data(
                READ,
                {
                    "t": "SELECT 170141183460469231731687303715884105727::HUGEINT AS h, "
                    "12345678901234567890.123456789::DECIMAL(38, 9) AS d, 'ab'::BLOB AS b, "
                    "INTERVAL 1 DAY + INTERVAL 90 MINUTE AS i, 18446744073709551615::UBIGINT AS u"
                },
            )
            assert row["readQuery"]["rows"] == [
                [
                    "170141183460469231731687303715884105727",
                    "12345678901234567890.123456789",
                    "6162",
                    "P1DT1H30M0S",
                    "18446744073709551615",
                ]
            ]
            huge = "SELECT repeat('x', 20000000) AS big"
            rows = "SELECT repeat('y', 1000) AS s FROM range(900)"
        big_answer = api.gql(READ, {"t": huge})
        assert big_answer["errors"][0]["extensions"]["code"] == "BAD_REQUEST"
        assert len(json.dumps(big_answer)) < 10_000
        many = api.post(READ, {"t": rows})
        answer = many.json()["data"]["readQuery"]
        assert answer["truncated"] and 0 < len(answer["rows"]) < 100 and len(many.content) < 110_000


# -- row 12 -----------------------------------------------------------------------------------------
def test_row_12_a_timed_out_query_stops_in_the_store(store: GraphStore, tmp_path: Path) -> None:
    with serve(store, tmp_path, store_timeout_s=1.0) as api:
        started = time.monotonic()
        assert api.error_codes(READ, {"t": SLOW[store.query_language]}) == ["QUERY_TIMEOUT"]
        assert time.monotonic() - started < 5
        time.sleep(0.5)  # the interrupt lands
        assert not still_running(store)


# -- row 13 -----------------------------------------------------------------------------------------
def _token(**claims: Any) -> str:
    now = int(time.time())
    base = {
        "sub": "x",
        "role": "investigator",
        "agency": "bureau-1",
        "agency_kind": "bureau",
        "iat": now,
        "exp": now + 600,
        **claims,
    }
    return jwt.encode(base, SECRET, algorithm="HS256")


def test_row_13_tokens_secrets_metrics_paths_and_file_modes(
    api: ApiClient, store: GraphStore, tmp_path: Path
) -> None:
    q = "{ rings { totalCount } }"
    now = int(time.time())
    for bad in (
        _token(exp=now + 100 * 365 * 86_400),
        _token(sub=""),
        _token(agency=" "),
        _token(agency_kind="police"),
        _token(role="root"),
    ):
        assert api.post(q, token=bad).status_code == 401
    assert api.post(q, token=_token()).status_code == 200
    with pytest.raises(ConfigError, match="MEDFRAUD_SECRET"):
        create_app(
            Settings(env="prod", secret="a" * 32),
            store,  # type: ignore[arg-type]
            api_settings=ApiSettings(audit_log=tmp_path / "a.log"),
            audit_settings=AuditSettings(key=AUDIT_KEY),
        )
    with pytest.raises(ConfigError, match="MEDFRAUD_AUDIT_KEY must be set"):
        create_app(
            Settings(env="prod", secret=SECRET),
            store,  # type: ignore[arg-type]
            api_settings=ApiSettings(audit_log=tmp_path / "b.log"),
        )
    with pytest.raises(ConfigError, match="differ"):
        create_app(
            Settings(env="prod", secret=SECRET),
            store,  # type: ignore[arg-type]
            api_settings=ApiSettings(audit_log=tmp_path / "c.log"),
            audit_settings=AuditSettings(key=SECRET),
        )
    assert api.http.get(f"{api.base}/metrics").status_code == 401
    analyst = api.http.get(f"{api.base}/metrics", headers={"Authorization": f"Bearer {api.token('analyst')}"})
    assert analyst.status_code == 403 and "medfraud_http" in api.metrics()
    props = "query($p: String!) { patient(id: $p) { node { props } } }"
    assert "source_file" not in api.data(props, {"p": g.P6})["patient"]["node"]["props"]
    admin = api.data(props, {"p": g.P6}, role="admin")["patient"]["node"]["props"]
    assert admin["source_file"] == "/srv/medfraud/in/persons.csv"
    assert api.audit_log.stat().st_mode & 0o777 == 0o600
    assert api.audit_log.with_name("audit.log.head").stat().st_mode & 0o777 == 0o600


# -- row 14 -----------------------------------------------------------------------------------------
def test_row_14_only_the_opening_bureau_shares_or_moves_a_case(api: ApiClient) -> None:
    case_id = open_case(api, agency="bureau-1")
    share = 'mutation($c: String!) { shareCase(caseId: $c, agency: "PSB-9") { sharedWith } }'
    status = 'mutation($c: String!) { setCaseStatus(caseId: $c, status: "closed") { status } }'
    for q in (share, status):
        assert api.error_codes(q, {"c": case_id}, agency="bureau-2") == ["FORBIDDEN"]
    after = api.data(
        "query($c: ID!) { case(id: $c) { status sharedWith } }", {"c": case_id}, agency="bureau-2"
    )
    assert after["case"] == {"status": "open", "sharedWith": []}
    assert api.data(share, {"c": case_id}, agency="bureau-1")["shareCase"]["sharedWith"] == ["police:PSB-9"]
    assert api.data(status, {"c": case_id}, role="admin", agency="hq")["setCaseStatus"]["status"] == "closed"


def test_row_13_serve_refuses_weak_secrets_and_creates_private_files(tmp_path: Path) -> None:
    """`medfraud serve` in prod: a weak secret stops it; a good one serves, with 0600 files."""
    from tests.integration.api_server import free_port

    port = free_port()
    env = {
        **os.environ,
        "MEDFRAUD_ENV": "prod",
        "MEDFRAUD_STORE": "duckdb",
        "MEDFRAUD_DUCKDB_PATH": str(tmp_path / "store.duckdb"),
        "MEDFRAUD_API_AUDIT_LOG": str(tmp_path / "audit.log"),
        "MEDFRAUD_API_PORT": str(port),
        "MEDFRAUD_READ_INDEX": "false",
        "MEDFRAUD_AUDIT_KEY": AUDIT_KEY,
    }
    weak = subprocess.run(
        [*MEDFRAUD, "serve"],
        env={**env, "MEDFRAUD_SECRET": "ab" * 20},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert weak.returncode == 1 and "MEDFRAUD_SECRET" in weak.stderr and "different characters" in weak.stderr
    server = subprocess.Popen(
        [*MEDFRAUD, "serve"],
        env={**env, "MEDFRAUD_SECRET": SECRET},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        import httpx

        deadline = time.monotonic() + 60
        while True:
            assert server.poll() is None, server.stderr.read() if server.stderr else ""
            try:
                if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, "medfraud serve did not come up"
            time.sleep(0.2)
        assert (
            httpx.post(
                f"http://127.0.0.1:{port}/graphql", json={"query": "{ rings { totalCount } }"}, timeout=10
            ).status_code
            == 401
        )
        for name in ("store.duckdb", "audit.log", "audit.log.head"):
            assert (tmp_path / name).stat().st_mode & 0o077 == 0, name
    finally:
        server.terminate()
        server.wait(30)
