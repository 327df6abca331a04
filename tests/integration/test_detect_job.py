"""Detection on the embedded store: runs recorded, rings written, ids stable across a changed city."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from algorithms.evidence import render
from algorithms.job import run_detection
from algorithms.settings import DetectionSettings
from graph.duckdb.store import DuckDBStore
from tests.unit.algorithms.handmade import CityBuilder, collusion_city, day


def load_city(store: DuckDBStore, b: CityBuilder) -> None:
    inp = b.inputs()
    persons = pd.DataFrame(inp.persons)
    store.upsert_nodes(
        "Patient", persons[["person_id", "name", "address", "phone", "bank_account", "death_date"]]
    )
    phones = persons["phone"].dropna().drop_duplicates()
    store.upsert_nodes("Phone", pd.DataFrame({"phone": phones}))
    inst = pd.DataFrame(inp.institutions)
    for label in ("Institution", "Pharmacy"):
        part = inst[inst["label"] == label].drop(columns=["label"])
        if not part.empty:
            store.upsert_nodes(label, part)
    claims = pd.DataFrame(inp.claims)
    store.upsert_nodes("Claim", claims)
    doctors = claims[claims["doctor_id"].notna()][["doctor_id", "institution_id"]].drop_duplicates(
        "doctor_id"
    )
    store.upsert_nodes("Doctor", doctors.assign(name=doctors["doctor_id"]))


def add_brokers(b: CityBuilder, prefix: str, phone: str, n: int = 6) -> None:
    for i in range(n):
        b.person(f"{prefix}{i}", phone=phone, address=f"{prefix} street {i}")


@pytest.fixture
def store(tmp_path: Path) -> DuckDBStore:
    s = DuckDBStore(tmp_path / "city.duckdb")
    s.apply_schema()
    return s


def _rings(store: DuckDBStore) -> pd.DataFrame:
    return store.nodes_frame(
        "Ring", ["ring_id", "kind", "status", "member_count", "evidence", "first_run_id"]
    )


def test_two_runs_keep_ring_ids_and_report_changes(store: DuckDBStore) -> None:
    city = collusion_city()
    add_brokers(city, "old", "13811112222")
    load_city(store, city)
    first = run_detection(store, DetectionSettings())
    assert first.counts["collusion_rings"] == 1 and first.counts["shared_identifier_rings"] == 1
    assert first.changes.counts()["new"] == 2
    rings = _rings(store).set_index("kind")
    collusion_id = rings.loc["collusion", "ring_id"]
    broker_id = rings.loc["shared_identifier", "ring_id"]
    assert "诊所1" in render(json.loads(rings.loc["collusion", "evidence"])[0], "zh")

    # The city changes: two recruits join the clinic ring, the old broker's recruits change phones,
    # a new broker appears.
    city2 = collusion_city()
    for i in range(6, 8):
        city2.person(f"ring{i}")
        for d in (20, 55, 90, 140):
            city2.claim(f"ring{i}", "CL1", day(d), doctor="DR1", total=900.0, paid=800.0)
    add_brokers(city2, "new", "13933334444", n=7)
    for i in range(6):
        city2.person(f"old{i}", phone=f"1770000000{i}", address=f"old street {i}")
    load_city(store, city2)
    second = run_detection(store, DetectionSettings())
    assert second.changes.grown == [collusion_id]
    assert second.changes.vanished == [broker_id]
    assert len(second.changes.new) == 1
    after = _rings(store).set_index("ring_id")
    assert after.loc[collusion_id, "status"] == "grown"
    assert after.loc[collusion_id, "first_run_id"] == first.run_id
    assert after.loc[broker_id, "status"] == "vanished"  # kept, so cases attached to it still resolve
    members = store.relationships_frame("HAS_MEMBER", ["src", "dst", "dst_label", "role"])
    ring_patients = set(
        members[(members["src"] == collusion_id) & (members["dst_label"] == "Patient")]["dst"]
    )
    assert ring_patients == {f"ring{i}" for i in range(8)}
    assert len(members[members["src"] == broker_id]) == 7  # the vanished ring keeps its last members
    runs = store.nodes_frame("DetectionRun", ["run_id", "counts", "changes", "duration_s", "parameters"])
    assert set(runs["run_id"]) == {first.run_id, second.run_id}
    assert json.loads(runs.set_index("run_id").loc[second.run_id, "changes"])["grown"] == [collusion_id]


def test_findings_are_written_and_replaced(store: DuckDBStore) -> None:
    b = collusion_city()
    b.person("dead", death_date=str(day(100)))
    b.claim("dead", "CL2", day(120), claim_id="late")
    load_city(store, b)
    run_detection(store, DetectionSettings())
    findings = store.nodes_frame("Finding", ["finding_id", "kind", "category", "person_id", "claim_keys"])
    assert list(findings["kind"]) == ["claim_after_death"]
    assert json.loads(findings["claim_keys"].iloc[0]) == ["medical:late"]
    involves = store.relationships_frame("INVOLVES", ["src", "dst"])
    assert list(involves["dst"]) == ["medical:late"]
    run_detection(store, DetectionSettings())
    assert len(store.nodes_frame("Finding", ["finding_id"])) == 1


def test_cli_detect_prints_summary_and_writes_the_export_shape(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "cli.duckdb"
    s = DuckDBStore(path)
    s.apply_schema()
    city = collusion_city()
    add_brokers(city, "br", "13855556666")
    city.person("dead", death_date=str(day(100)))
    city.claim("dead", "CL2", day(120), claim_id="late")
    load_city(s, city)
    s.close()
    monkeypatch.setenv("MEDFRAUD_DUCKDB_PATH", str(path))
    from api.cli import app

    out_file = tmp_path / "export.json"
    result = CliRunner().invoke(app, ["detect", "--export", str(out_file)])
    assert result.exit_code == 0, result.output
    assert "collusion rings" in result.output and "ring changes: new 2" in result.output
    doc = json.loads(out_file.read_text(encoding="utf-8"))
    assert set(doc) >= {"rings", "double_claims", "anomalies"}
    for ring in doc["rings"]:
        assert set(ring) >= {"ring_id", "kind", "score", "members", "evidence"}
        assert all(set(m) == {"type", "id"} for m in ring["members"])
        assert 0.0 <= ring["score"] <= 1.0 and ring["evidence"]
        # the sentences in Chinese for people, the same evidence as data for any other language
        assert all(isinstance(line, str) for line in ring["evidence"])
        assert [render(e, "zh") for e in ring["evidence_data"]] == ring["evidence"]
    assert {m["type"] for r in doc["rings"] for m in r["members"]} == {
        "Patient",
        "Institution",
        "Doctor",
        "Phone",
    }
    assert doc["anomalies"] == [
        {
            "kind": "claim_after_death",
            "person_id": "dead",
            "claims": [{"scheme": "medical", "claim_id": "late"}],
            "score": 1.0,
            "evidence": doc["anomalies"][0]["evidence"],
            "evidence_data": doc["anomalies"][0]["evidence_data"],
            "excess_amount": 140.0,
        }
    ]
    assert doc["double_claims"] == []


def test_gds_engine_on_the_embedded_store_is_refused_with_the_setting_to_change(store: DuckDBStore) -> None:
    from algorithms.job import make_engine
    from graph.errors import ConfigError

    with pytest.raises(ConfigError, match="MEDFRAUD_STORE=neo4j"):
        make_engine("gds", store)
    with pytest.raises(ConfigError, match="igraph or gds"):
        make_engine("louvain", store)
