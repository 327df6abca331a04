"""The synthetic city: deterministic per seed, every planted pattern present and true to its shape."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pytest

from graph.errors import InvalidRequest
from ingest.generator import generate_city, truth_path
from ingest.generator.badrows import KINDS
from ingest.idnumber import analyse

LOOKALIKES = {
    "household",
    "dialysis_cohort",
    "rehab_cohort",
    "care_home",
    "health_check_day",
    "colleagues",
    "legit_work_injury",
    "commercial_topup",
    "same_day_transfer",
    "elsewhere_on_stay_edges",
    "chemotherapy_cycles",
    "chronic_refill_pharmacy",
    "far_transfer",
}
DOUBLE_CLAIMS = {
    "medical_and_work_injury",
    "medical_and_commercial_over_expense",
    "third_party_liable_paid_by_medical",
}


@pytest.fixture(scope="module")
def tables(city_dir: Path) -> dict[str, pd.DataFrame]:
    return {
        name: pd.read_csv(city_dir / f"{name}.csv", dtype=str, keep_default_na=False)
        for name in ("persons", "institutions", "doctors", "injury_cases", "claims")
    }


def test_same_seed_same_city_other_seed_other_city(tmp_path: Path) -> None:
    a, b, c = tmp_path / "a", tmp_path / "b", tmp_path / "c"
    for out, seed in ((a, 3), (b, 3), (c, 4)):
        generate_city(out, persons=800, seed=seed)
    for name in ("persons", "claims", "doctors"):
        assert (a / f"{name}.csv").read_bytes() == (b / f"{name}.csv").read_bytes()
        assert (a / f"{name}.csv").read_bytes() != (c / f"{name}.csv").read_bytes()
    assert truth_path(a).read_text("utf-8") == truth_path(b).read_text("utf-8")
    assert truth_path(a) == tmp_path / "a.truth.json"


def test_truth_file_has_the_agreed_shape(city_truth: dict[str, Any]) -> None:
    assert set(city_truth) == {
        "seed",
        "persons",
        "rings",
        "double_claims",
        "anomalies",
        "lookalikes",
        "bad_rows",
    }
    assert (city_truth["seed"], city_truth["persons"]) == (7, 3000)
    for ring in city_truth["rings"]:
        assert set(ring) == {"ring_id", "kind", "members", "shape"}
        assert ring["kind"] in ("collusion", "shared_identifier", "pharmacy_cash_out")
        assert {m["type"] for m in ring["members"]} <= {
            "Patient",
            "Doctor",
            "Institution",
            "Pharmacy",
            "Phone",
            "BankAccount",
        }
    for d in city_truth["double_claims"]:
        assert set(d) == {"person_id", "kind", "claims", "excess_amount"} and d["excess_amount"] > 0
    assert {a["kind"] for a in city_truth["anomalies"]} == {
        "overlapping_inpatient",
        "claim_after_death",
        "present_elsewhere_while_admitted",
        "split_admission",
        "same_day_far_apart",
    }
    assert {d["kind"] for d in city_truth["double_claims"]} == DOUBLE_CLAIMS
    assert {lk["kind"] for lk in city_truth["lookalikes"]} == LOOKALIKES
    assert city_truth["bad_rows"] == []


def test_every_fraud_shape_is_planted(city_truth: dict[str, Any]) -> None:
    rings = city_truth["rings"]
    collusion = [r for r in rings if r["kind"] == "collusion"]
    shared = [r for r in rings if r["kind"] == "shared_identifier"]
    assert len(collusion) >= 3 and len(shared) >= 3
    for r in collusion:
        patients = [m for m in r["members"] if m["type"] == "Patient"]
        doctors = [m for m in r["members"] if m["type"] == "Doctor"]
        assert 5 <= len(patients) <= 40 and 1 <= len(doctors) <= 3
    assert {s["shape"].split(":")[0] for s in shared} == {
        "chained_phone_account",
        "phone",
        "account",
        "institution_landline",
    }
    # rings hiding among legitimate cohorts (DOMAIN.md 6)
    hidden = {r["shape"].split(":")[0] for r in collusion if r["ring_id"].startswith("R-H")}
    assert hidden == {"care_home", "care_home_cover", "chronic_centre", "health_check_day"}
    medical_work = [d for d in city_truth["double_claims"] if d["kind"] == "medical_and_work_injury"]
    assert len(medical_work) >= 2  # with and without the shared injury case id


def test_ids_are_valid_unique_and_truth_refers_to_real_rows(
    tables: dict[str, pd.DataFrame], city_truth: dict[str, Any]
) -> None:
    ids = tables["persons"]["person_id"].str.upper()
    assert analyse(pa.array(ids)).valid.all() and ids.is_unique
    claims = set(zip(tables["claims"]["scheme"], tables["claims"]["claim_id"], strict=True))
    for entry in city_truth["double_claims"] + city_truth["anomalies"]:
        assert {(c["scheme"], c["claim_id"]) for c in entry["claims"]} <= claims
        assert entry["person_id"] in set(ids)
    doctors = set(tables["doctors"]["doctor_id"])
    institutions = set(tables["institutions"]["institution_id"])
    for ring in city_truth["rings"]:
        for m in ring["members"]:
            if m["type"] == "Patient":
                assert m["id"] in set(ids)
            elif m["type"] == "Doctor":
                assert m["id"] in doctors
            elif m["type"] in ("Institution", "Pharmacy"):
                assert m["id"] in institutions


def test_planted_patterns_hold_in_the_data(
    tables: dict[str, pd.DataFrame], city_truth: dict[str, Any]
) -> None:
    claims = tables["claims"].copy()
    claims["person_id"] = claims["person_id"].str.upper()
    claims["key"] = claims["scheme"] + ":" + claims["claim_id"]
    by_key = claims.set_index("key")
    # collusion: members co-visit the ring's clinic on several distinct days, reimbursed highly
    for ring in (r for r in city_truth["rings"] if r["kind"] == "collusion"):
        members = {m["id"] for m in ring["members"] if m["type"] == "Patient"}
        clinics = {m["id"] for m in ring["members"] if m["type"] in ("Institution", "Pharmacy")}
        visits = claims[claims["person_id"].isin(members) & claims["institution_id"].isin(clinics)]
        per_day = visits.groupby("start_date")["person_id"].nunique()
        assert (per_day >= 3).sum() >= 3
    for anomaly in city_truth["anomalies"]:
        rows = by_key.loc[[f"{c['scheme']}:{c['claim_id']}" for c in anomaly["claims"]]]
        if anomaly["kind"] == "claim_after_death":
            persons = (
                tables["persons"].assign(pid=tables["persons"]["person_id"].str.upper()).set_index("pid")
            )
            assert (rows["start_date"] > persons.loc[anomaly["person_id"], "death_date"]).all()
        elif anomaly["kind"] == "overlapping_inpatient":
            (s1, e1), (s2, _) = sorted(zip(rows["start_date"], rows["end_date"], strict=True))
            assert s1 < s2 < e1 and rows["institution_id"].nunique() == 2
        elif anomaly["kind"] == "present_elsewhere_while_admitted":
            stay = rows[rows["visit_type"] == "inpatient"].iloc[0]
            away = rows[rows["visit_type"] != "inpatient"]
            assert len(away) >= 2 and (away["institution_id"] != stay["institution_id"]).all()
            assert ((away["start_date"] > stay["start_date"]) & (away["start_date"] < stay["end_date"])).all()
        elif anomaly["kind"] == "same_day_far_apart":
            located = tables["institutions"].set_index("institution_id")
            for _, same_day in rows.groupby("start_date"):
                lat = same_day["institution_id"].map(located["latitude"]).astype(float)
                assert len(same_day) == 2 and lat.max() - lat.min() > 5  # several hundred km apart
        else:  # split_admission: one hospital, one diagnosis, each readmission within 15 days
            stays = rows.sort_values("start_date")
            assert len(stays) >= 3 and stays["institution_id"].nunique() == 1
            assert stays["diagnosis_code"].nunique() == 1
            gaps = (
                pd.to_datetime(stays["start_date"]).to_numpy()[1:]
                - pd.to_datetime(stays["end_date"]).to_numpy()[:-1]
            )
            assert all(pd.Timedelta(0) <= g <= pd.Timedelta(days=15) for g in gaps)
    for d in (d for d in city_truth["double_claims"] if d["kind"] == "medical_and_commercial_over_expense"):
        rows = by_key.loc[[f"{c['scheme']}:{c['claim_id']}" for c in d["claims"]]]
        total = float(rows["total_amount"].iloc[0])
        assert rows["reimbursed_amount"].astype(float).sum() - total == pytest.approx(d["excess_amount"])


def test_the_truth_lists_every_impossible_stay_and_every_claim_after_death(
    tables: dict[str, pd.DataFrame], city_truth: dict[str, Any]
) -> None:
    """Only planted anomalies exist in the data: a legitimate person's stays never overlap."""
    claims = tables["claims"].assign(person_id=tables["claims"]["person_id"].str.upper())
    stays = claims[claims["visit_type"] == "inpatient"][
        ["person_id", "institution_id", "start_date", "end_date"]
    ]
    pairs = stays.merge(stays, on="person_id", suffixes=("_a", "_b"))
    overlapping = pairs[
        (pairs["institution_id_a"] < pairs["institution_id_b"])
        & (pairs["start_date_a"] < pairs["end_date_b"])
        & (pairs["start_date_b"] < pairs["end_date_a"])
    ]
    persons = tables["persons"].assign(person_id=tables["persons"]["person_id"].str.upper())
    dated = claims.merge(persons[persons["death_date"] != ""][["person_id", "death_date"]], on="person_id")
    after_death = dated[dated["start_date"] > dated["death_date"]]
    truth = {
        kind: {a["person_id"] for a in city_truth["anomalies"] if a["kind"] == kind}
        for kind in ("overlapping_inpatient", "claim_after_death")
    }
    assert set(overlapping["person_id"]) == truth["overlapping_inpatient"]
    assert set(after_death["person_id"]) == truth["claim_after_death"]


def test_claims_mix_and_volume_look_like_a_city(tables: dict[str, pd.DataFrame]) -> None:
    claims = tables["claims"]
    per_person = len(claims) / len(tables["persons"])
    assert 5 <= per_person <= 10
    mix = claims["visit_type"].value_counts(normalize=True)
    assert mix["outpatient"] > mix["pharmacy"] > mix["inpatient"] > 0.01
    kinds = set(tables["institutions"]["kind"])
    assert {"hospital", "clinic", "tcm_clinic", "elderly_care", "pharmacy", "other"} <= kinds
    pharmacy_ids = set(tables["institutions"].query("kind == 'pharmacy'")["institution_id"])
    assert claims.query("visit_type == 'pharmacy'")["institution_id"].isin(pharmacy_ids).all()


def test_bad_rows_cover_every_kind_the_validator_knows(tmp_path: Path) -> None:
    truth = json.loads(
        generate_city(tmp_path / "c", persons=600, seed=1, bad_rows=len(KINDS)).read_text("utf-8")
    )
    assert len(truth["bad_rows"]) == len(KINDS)
    assert len({b["reason"].split(" ")[0] + b["table"] for b in truth["bad_rows"]}) >= 15
    assert {b["table"] for b in truth["bad_rows"]} == {
        "persons",
        "institutions",
        "doctors",
        "injury_cases",
        "claims",
    }


def test_the_generator_refuses_what_it_cannot_do(tmp_path: Path) -> None:
    with pytest.raises(InvalidRequest):
        generate_city(tmp_path / "x", persons=10, seed=1)
    with pytest.raises(InvalidRequest):
        generate_city(tmp_path / "x", persons=1000, seed=1, fmt="json")
