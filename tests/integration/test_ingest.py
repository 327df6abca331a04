"""Ingest end to end into DuckDB: zero rejects, exact rejects, idempotence, formats, crash + re-run."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from graph.duckdb.store import DuckDBStore
from graph.errors import FatalInputError
from graph.model import NodeRef
from ingest.generator import generate_city
from ingest.loader import ingest_dir
from tests.integration.ingest_helpers import fingerprint, read_rejects, read_warnings

PROVENANCE = ("source_file", "load_batch")


def fresh_store(tmp_path: Path, name: str = "g.duckdb") -> DuckDBStore:
    store = DuckDBStore(tmp_path / name)
    store.apply_schema()
    return store


def test_generated_city_ingests_with_zero_rejects(city_dir: Path, tmp_path: Path) -> None:
    with fresh_store(tmp_path) as store:
        report = ingest_dir(store, city_dir, rejects_dir=tmp_path / "rejects")
        counts = store.count_nodes()
    assert report.rejected == 0 and report.exit_code == 0
    persons = pd.read_csv(city_dir / "persons.csv", dtype=str)
    claims = pd.read_csv(city_dir / "claims.csv", dtype=str)
    assert counts["Patient"] == len(persons) == report.table("persons").loaded
    assert counts["Claim"] == len(claims) == report.table("claims").loaded
    assert not (tmp_path / "rejects").exists()


def test_reingest_changes_no_counts_or_properties(city_store: DuckDBStore, city_dir: Path) -> None:
    before = fingerprint(city_store)
    report = ingest_dir(city_store, city_dir)
    assert report.rejected == 0
    assert fingerprint(city_store) == before


@pytest.mark.parametrize("fmt", ["csv", "parquet", pytest.param("xlsx", marks=pytest.mark.slow)])
def test_bad_rows_are_exactly_the_rejects_and_everything_else_loads(fmt: str, tmp_path: Path) -> None:
    persons = 3000 if fmt != "xlsx" else 600
    city = tmp_path / "city"
    truth = json.loads(generate_city(city, persons=persons, seed=11, bad_rows=45, fmt=fmt).read_text("utf-8"))
    expected = {(b["table"], b["line"], b["reason"]) for b in truth["bad_rows"]}
    assert len(expected) == 45
    with fresh_store(tmp_path) as store:
        report = ingest_dir(store, city)
        counts = store.count_nodes()
    # a phone or account that does not normalise costs the field (a warning), not the row
    warned = read_warnings(city / "_warnings")
    assert warned and all(reason.startswith(("phone:", "bank_account:")) for _, _, reason in warned)
    assert read_rejects(city / "_rejects") | warned == expected
    assert read_rejects(city / "_rejects").isdisjoint(warned)
    assert report.rejected == 45 - len(warned) and report.exit_code == 2
    assert report.warnings == len(warned)
    assert counts["Patient"] == persons + sum(t == "persons" for t, _, _ in warned)  # their rows load
    assert report.loaded == report.read - 45 + len(warned)


@pytest.mark.slow
def test_gb18030_and_parquet_give_the_same_graph_as_utf8(tmp_path: Path) -> None:
    prints = {}
    for fmt, encoding in (("csv", "utf-8"), ("csv", "gb18030"), ("parquet", "utf-8")):
        city = tmp_path / f"{fmt}-{encoding}"
        generate_city(city, persons=1500, seed=5, fmt=fmt, encoding=encoding)
        with fresh_store(tmp_path, f"{fmt}-{encoding}.duckdb") as store:
            assert ingest_dir(store, city).rejected == 0
            prints[(fmt, encoding)] = fingerprint(store, ignore=PROVENANCE)
    gb = (tmp_path / "csv-gb18030" / "persons.csv").read_bytes()
    with pytest.raises(UnicodeDecodeError):
        gb.decode("utf-8")  # detection, not luck, read it
    assert prints[("csv", "gb18030")] == prints[("csv", "utf-8")]
    assert prints[("parquet", "utf-8")] == prints[("csv", "utf-8")]


_KILLER = textwrap.dedent("""
    import os, signal, sys
    from pathlib import Path
    import graph.duckdb.writes as writes
    from graph.duckdb.store import DuckDBStore
    from ingest.loader import ingest_dir

    original = writes.upsert_nodes_batch
    calls = {"claims": 0}

    def write_then_die(cur, nt, table):
        written = original(cur, nt, table)
        if nt.label == "Claim":
            calls["claims"] += 1
            if calls["claims"] == 3:  # inside the third claims batch's open transaction
                os.kill(os.getpid(), signal.SIGKILL)
        return written

    writes.upsert_nodes_batch = write_then_die
    store = DuckDBStore(sys.argv[2])
    store.apply_schema()
    ingest_dir(store, Path(sys.argv[1]))
""")


@pytest.mark.slow
def test_ingest_killed_midway_and_rerun_equals_one_clean_run(
    city_dir: Path, city_db_path: Path, tmp_path: Path
) -> None:
    db = tmp_path / "killed.duckdb"
    env = {**os.environ, "MEDFRAUD_INGEST_BATCH_ROWS": "4000"}
    proc = subprocess.run(
        [sys.executable, "-c", _KILLER, str(city_dir), str(db)],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        cwd=Path(__file__).parents[2],
    )
    assert proc.returncode == -9, proc.stderr
    with DuckDBStore(db) as store:
        store.apply_schema()
        partial = store.count_nodes()
        # killed inside the third claims batch: the whole load was one transaction, none of it stays
        assert partial.get("Patient", 0) == 0 and partial.get("Claim", 0) == 0
        ingest_dir(store, city_dir)
        rerun = fingerprint(store)
    with DuckDBStore(city_db_path, read_only=True) as clean:
        assert rerun == fingerprint(clean)


def test_a_later_folder_updates_properties_and_refers_to_earlier_data(
    city_store: DuckDBStore, city_dir: Path, tmp_path: Path
) -> None:
    persons = pd.read_csv(city_dir / "persons.csv", dtype=str)
    claims = pd.read_csv(city_dir / "claims.csv", dtype=str)
    person_id = persons["person_id"].iloc[0].upper()
    update = tmp_path / "update"
    update.mkdir()
    changed = persons.iloc[[0]].copy()
    changed["name"] = "改名测试"
    changed.to_csv(update / "persons.csv", index=False)
    new_claims = claims.iloc[[0, 1]].copy()
    new_claims["claim_id"] = ["NEW-1", "NEW-2"]
    new_claims["person_id"] = [person_id, "440524188001010014"]
    new_claims.to_csv(update / "claims.csv", index=False)
    before = city_store.count_nodes()

    report = ingest_dir(city_store, update)

    assert report.exit_code == 2
    assert read_rejects(update / "_rejects") == {
        ("claims", 3, "person_id: birth date 18800101 in the ID number is not a valid date")
    }
    [patient] = city_store.get_nodes("Patient", [person_id])
    assert patient.props["name"] == "改名测试"
    after = city_store.count_nodes()
    assert after["Patient"] == before["Patient"] and after["Claim"] == before["Claim"] + 1
    [claim] = city_store.get_nodes("Claim", [f"{new_claims['scheme'].iloc[0]}:NEW-1"])
    assert claim.props["person_id"] == person_id


def test_an_updated_identifier_replaces_the_old_link(
    city_store: DuckDBStore, city_dir: Path, tmp_path: Path
) -> None:
    persons = pd.read_csv(city_dir / "persons.csv", dtype=str)
    with_phone = persons[persons["phone"].notna() & persons["bank_account"].notna()]
    moved, dropped = with_phone.iloc[0], with_phone.iloc[1]
    moved_id, dropped_id = moved["person_id"].upper(), dropped["person_id"].upper()
    old_phone = city_store.neighbours([NodeRef("Patient", moved_id)], rel_types=["HAS_PHONE"]).nodes
    assert len(old_phone) == 1
    update = tmp_path / "update"
    update.mkdir()
    changed = with_phone.iloc[[0, 1]].copy()
    changed["phone"] = ["13700001234", changed["phone"].iloc[1]]
    changed["bank_account"] = [changed["bank_account"].iloc[0], None]  # the second one closed it
    changed.to_csv(update / "persons.csv", index=False)

    assert ingest_dir(city_store, update).exit_code == 0

    phones = city_store.neighbours([NodeRef("Patient", moved_id)], rel_types=["HAS_PHONE"]).nodes
    assert [n.key for n in phones] == ["13700001234"]
    sharing_old = city_store.neighbours([old_phone[0].ref], rel_types=["HAS_PHONE"]).nodes
    assert moved_id not in {n.key for n in sharing_old}
    assert city_store.neighbours([NodeRef("Patient", dropped_id)], rel_types=["HAS_ACCOUNT"]).nodes == []
    # the unchanged links of both stay
    assert len(city_store.neighbours([NodeRef("Patient", moved_id)], rel_types=["HAS_ACCOUNT"]).nodes) == 1
    assert len(city_store.neighbours([NodeRef("Patient", dropped_id)], rel_types=["HAS_PHONE"]).nodes) == 1
    links = city_store.count_relationships()
    ingest_dir(city_store, update)
    assert city_store.count_relationships() == links


def test_a_fatal_error_loads_nothing_and_names_file_and_column(
    city_store: DuckDBStore, city_dir: Path, tmp_path: Path
) -> None:
    broken = tmp_path / "broken"
    shutil.copytree(city_dir, broken)
    persons = pd.read_csv(broken / "persons.csv", dtype=str).drop(columns=["name"])
    persons["name_cn"] = "x"
    persons.to_csv(broken / "persons.csv", index=False)
    before = fingerprint(city_store)
    with pytest.raises(FatalInputError) as err:
        ingest_dir(city_store, broken)
    assert "persons.csv" in str(err.value) and "missing required column name" in str(err.value)
    assert err.value.column == "name"
    assert fingerprint(city_store) == before


@pytest.mark.slow
def test_cli_exit_codes(city_dir: Path, tmp_path: Path) -> None:
    env = {**os.environ, "MEDFRAUD_DUCKDB_PATH": str(tmp_path / "cli.duckdb")}
    cmd = [sys.executable, "-c", "from api.cli import main; main()", "ingest", "--no-progress"]
    ok = subprocess.run([*cmd, str(city_dir)], env=env, capture_output=True, text=True, timeout=300)
    assert ok.returncode == 0, ok.stderr
    assert "claims" in ok.stdout and "rows/s" in ok.stdout
    bad = tmp_path / "bad"
    generate_city(bad, persons=500, seed=2, bad_rows=3)
    rejected = subprocess.run(
        [*cmd, str(bad), "--rejects", str(tmp_path / "rej")],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert rejected.returncode == 2 and len(read_rejects(tmp_path / "rej")) == 3
    (bad / "claims.csv").write_text("claim_id,scheme\nC1,medical\n", encoding="utf-8")
    fatal = subprocess.run([*cmd, str(bad)], env=env, capture_output=True, text=True, timeout=300)
    assert fatal.returncode == 1
    assert "claims.csv" in fatal.stderr and "missing required column person_id" in fatal.stderr


def test_entities_are_resolved_across_schemes_and_identifiers(
    city_store: DuckDBStore, city_truth: dict[str, Any], city_dir: Path
) -> None:
    # one Patient per ID number, with claims of both schemes hanging off it
    double = next(d for d in city_truth["double_claims"] if d["kind"] == "medical_and_work_injury")
    hop = city_store.neighbours([NodeRef("Patient", double["person_id"])], rel_types=["HAS_CLAIM"], cap=1000)
    schemes = {str(n.props["scheme"]) for n in hop.nodes}
    assert {"medical", "work_injury"} <= schemes
    # a chained broker: the phone and the account are nodes shared by the ring's members
    chained = next(r for r in city_truth["rings"] if r["shape"].startswith("chained"))
    ids = {m["type"]: m["id"] for m in chained["members"] if m["type"] in ("Phone", "BankAccount")}
    patients = {m["id"] for m in chained["members"] if m["type"] == "Patient"}
    via_phone = city_store.neighbours([NodeRef("Phone", ids["Phone"])], cap=1000).nodes
    via_account = city_store.neighbours([NodeRef("BankAccount", ids["BankAccount"])], cap=1000).nodes
    assert {n.key for n in via_phone} | {n.key for n in via_account} == patients
    assert {n.key for n in via_phone} & {n.key for n in via_account}  # the bridge members
    # addresses written with full-width digits or stray spaces fold into one Address node
    written = pd.read_csv(city_dir / "persons.csv", dtype=str)["address"]
    assert written.str.contains("[０-９]").any()
    addresses = city_store.nodes_frame("Address")["address"]
    assert not addresses.str.contains("[０-９]| 号|市 ").any()
    assert len(addresses) < written.nunique()
    phones = city_store.nodes_frame("Phone")["phone"]
    assert phones.str.fullmatch(r"[0-9]{11}").all()


def test_doctors_who_are_insured_persons_are_linked(city_store: DuckDBStore, city_dir: Path) -> None:
    doctors = pd.read_csv(city_dir / "doctors.csv", dtype=str)
    persons = set(pd.read_csv(city_dir / "persons.csv", dtype=str)["person_id"].str.upper())
    insured = doctors[doctors["person_id"].isin(persons)]
    assert len(insured) > 0
    assert city_store.count_relationships()["IS_PERSON"] == len(insured)


def test_provenance_and_unknown_columns_are_kept(city_store: DuckDBStore, city_dir: Path) -> None:
    claims = city_store.nodes_frame("Claim", ["claim_key", "source_file", "load_batch"])
    assert (claims["source_file"] == str(city_dir / "claims.csv")).all()
    assert claims["load_batch"].nunique() == 1 and claims["load_batch"].iloc[0].startswith("b-")
    inst = city_store.nodes_frame("Institution", ["institution_id", "extra"])
    assert all("license_no" in json.loads(e) for e in inst["extra"])
    pharmacies = city_store.nodes_frame("Pharmacy", ["kind"])
    assert len(pharmacies) > 0 and (pharmacies["kind"] == "pharmacy").all()


def test_a_file_that_breaks_while_parsing_loads_nothing_at_all(city_dir: Path, tmp_path: Path) -> None:
    broken = tmp_path / "broken"
    shutil.copytree(city_dir, broken)
    claims = (broken / "claims.csv").read_bytes()
    cut = claims.index(b"\n", len(claims) // 2)
    (broken / "claims.csv").write_bytes(claims[:cut] + ("\n中文" + "," * 12).encode("gb18030") + claims[cut:])
    with fresh_store(tmp_path) as store:
        with pytest.raises(FatalInputError, match=r"claims\.csv"):
            ingest_dir(store, broken, encoding="utf-8")
        assert sum(store.count_nodes().values()) == 0  # persons parsed fine, yet none was written


def test_validating_in_chunks_gives_the_same_graph_and_rejects(
    city_db_path: Path, city_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MEDFRAUD_INGEST_CHUNK_ROWS", "2500")
    monkeypatch.setenv("MEDFRAUD_INGEST_BATCH_ROWS", "7000")
    with fresh_store(tmp_path) as store:
        ingest_dir(store, city_dir, rejects_dir=tmp_path / "rejects")
        chunked = fingerprint(store)
    with DuckDBStore(city_db_path, read_only=True) as clean:
        assert chunked == fingerprint(clean)
    bad = tmp_path / "bad"
    truth = json.loads(generate_city(bad, persons=1000, seed=9, bad_rows=40).read_text("utf-8"))
    with fresh_store(tmp_path, "bad.duckdb") as store:
        ingest_dir(store, bad)
    assert read_rejects(bad / "_rejects") | read_warnings(bad / "_warnings") == {
        (b["table"], b["line"], b["reason"]) for b in truth["bad_rows"]}


def test_a_corrected_claim_replaces_its_old_links(
    city_store: DuckDBStore, city_dir: Path, tmp_path: Path
) -> None:
    claims = pd.read_csv(city_dir / "claims.csv", dtype=str)
    institutions = pd.read_csv(city_dir / "institutions.csv", dtype=str)
    hospitals = institutions[institutions["kind"] != "pharmacy"]["institution_id"].tolist()
    with_doctor = claims[claims["doctor_id"].notna() & claims["institution_id"].isin(hospitals)]
    moved, undoctored = with_doctor.iloc[0].copy(), with_doctor.iloc[1].copy()
    moved_key = f"{moved['scheme']}:{moved['claim_id']}"
    undoctored_key = f"{undoctored['scheme']}:{undoctored['claim_id']}"
    other = next(h for h in hospitals if h != moved["institution_id"])
    moved["institution_id"] = other
    undoctored["doctor_id"] = None
    update = tmp_path / "update"
    update.mkdir()
    pd.DataFrame([moved, undoctored]).to_csv(update / "claims.csv", index=False)

    assert ingest_dir(city_store, update).exit_code == 0

    treated = city_store.neighbours([NodeRef("Claim", moved_key)], rel_types=["TREATED_AT"]).nodes
    assert [n.key for n in treated] == [other]
    assert city_store.neighbours([NodeRef("Claim", undoctored_key)], rel_types=["BY_DOCTOR"]).nodes == []
    [claim] = city_store.get_nodes("Claim", [moved_key])
    assert claim.props["institution_id"] == other
    links = city_store.count_relationships()
    ingest_dir(city_store, update)
    assert city_store.count_relationships() == links
