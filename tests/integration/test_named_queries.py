"""Every named query on the embedded store, with answers worked out by hand on a tiny graph.

The graph (all claims medical, amounts are the reimbursed yuan):

    patients A B C D E; A, B and C share phone 13800000001; A and D share a bank account;
    A and C share an address;
    D died on 2025-01-31.  Clinic H1 (doctor D1), hospital H2 (doctors D2, D3), pharmacies PH1, PH2.

    claim  person site doctor date        reimbursed
    c1     A      H1   D1     2025-01-05  100
    c2     A      H1   D1     2025-01-12  100
    c3     A      H2   D2     2025-02-01   50
    c4     A      PH1  -      2025-01-06   20
    c5     B      H1   D1     2025-01-05   80
    c6     B      H1   D1     2025-01-12   80
    c7     B      PH1  -      2025-01-20   30
    c8     B      PH1  -      2025-02-03   10
    c9     C      H1   D1     2025-01-05   60
    c10    C      H2   D2     2025-03-01   40
    c11    C      PH2  -      2025-03-09    5
    c12    D      H2   D2     2025-02-01   70   (after D's death)
    c13    E      H1   D1     2025-01-06   15
    c14    B      H2   D3     2025-04-01   10

    rings: R1 (collusion, 0.9): A B C + H1 + D1; R2 (0.3): D; R3 (0.8, vanished): E.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from graph.derived import DerivedData
from graph.duckdb.store import DuckDBStore
from graph.port import GraphStore
from queries.library import list_named_queries, run_named_query

CLAIMS = [
    ("c1", "A", "H1", "D1", "2025-01-05", 100.0),
    ("c2", "A", "H1", "D1", "2025-01-12", 100.0),
    ("c3", "A", "H2", "D2", "2025-02-01", 50.0),
    ("c4", "A", "PH1", None, "2025-01-06", 20.0),
    ("c5", "B", "H1", "D1", "2025-01-05", 80.0),
    ("c6", "B", "H1", "D1", "2025-01-12", 80.0),
    ("c7", "B", "PH1", None, "2025-01-20", 30.0),
    ("c8", "B", "PH1", None, "2025-02-03", 10.0),
    ("c9", "C", "H1", "D1", "2025-01-05", 60.0),
    ("c10", "C", "H2", "D2", "2025-03-01", 40.0),
    ("c11", "C", "PH2", None, "2025-03-09", 5.0),
    ("c12", "D", "H2", "D2", "2025-02-01", 70.0),
    ("c13", "E", "H1", "D1", "2025-01-06", 15.0),
    ("c14", "B", "H2", "D3", "2025-04-01", 10.0),
]
PHARMACIES = {"PH1", "PH2"}


def _d(text: str) -> date:
    return date.fromisoformat(text)


def build_small_city(store: GraphStore) -> None:
    store.upsert_nodes(
        "Patient",
        pd.DataFrame(
            {
                "person_id": ["A", "B", "C", "D", "E"],
                "name": ["Ann", "Bo", "Cai", "Du", "Eva"],
                "death_date": [None, _d("2025-12-31"), None, _d("2025-01-31"), None],
            }
        ),
    )
    store.upsert_nodes(
        "Institution",
        pd.DataFrame(
            {
                "institution_id": ["H1", "H2"],
                "name": ["Happy Clinic", "City Hospital"],
                "kind": ["clinic", "hospital"],
            }
        ),
    )
    store.upsert_nodes(
        "Pharmacy",
        pd.DataFrame(
            {
                "institution_id": ["PH1", "PH2"],
                "name": ["Corner Pharmacy", "Far Pharmacy"],
                "kind": ["pharmacy"] * 2,
            }
        ),
    )
    store.upsert_nodes(
        "Doctor",
        pd.DataFrame(
            {
                "doctor_id": ["D1", "D2", "D3"],
                "name": ["Dr One", "Dr Two", "Dr Three"],
                "institution_id": ["H1", "H2", "H2"],
            }
        ),
    )
    store.upsert_nodes(
        "Claim",
        pd.DataFrame(
            {
                "claim_key": [f"medical:{c[0]}" for c in CLAIMS],
                "claim_id": [c[0] for c in CLAIMS],
                "scheme": ["medical"] * len(CLAIMS),
                "person_id": [c[1] for c in CLAIMS],
                "institution_id": [c[2] for c in CLAIMS],
                "doctor_id": [c[3] for c in CLAIMS],
                "visit_type": ["pharmacy" if c[2] in PHARMACIES else "outpatient" for c in CLAIMS],
                "start_date": [_d(c[4]) for c in CLAIMS],
                "total_amount": [c[5] * 2 for c in CLAIMS],
                "reimbursed_amount": [c[5] for c in CLAIMS],
            }
        ),
    )
    store.upsert_relationships(
        "HAS_CLAIM",
        pd.DataFrame(
            {
                "src": [c[1] for c in CLAIMS],
                "dst": [f"medical:{c[0]}" for c in CLAIMS],
                "date": [_d(c[4]) for c in CLAIMS],
            }
        ),
    )
    store.upsert_relationships(
        "TREATED_AT",
        pd.DataFrame(
            {
                "src": [f"medical:{c[0]}" for c in CLAIMS],
                "dst": [c[2] for c in CLAIMS],
                "dst_label": ["Pharmacy" if c[2] in PHARMACIES else "Institution" for c in CLAIMS],
                "date": [_d(c[4]) for c in CLAIMS],
            }
        ),
    )
    with_doctor = [c for c in CLAIMS if c[3]]
    store.upsert_relationships(
        "BY_DOCTOR",
        pd.DataFrame(
            {
                "src": [f"medical:{c[0]}" for c in with_doctor],
                "dst": [c[3] for c in with_doctor],
                "date": [_d(c[4]) for c in with_doctor],
            }
        ),
    )
    store.upsert_relationships(
        "WORKS_AT",
        pd.DataFrame(
            {
                "src": ["D1", "D2", "D3"],
                "dst": ["H1", "H2", "H2"],
                "dst_label": ["Institution"] * 3,
            }
        ),
    )
    store.upsert_nodes("Phone", pd.DataFrame({"phone": ["13800000001", "13900000009"]}))
    store.upsert_nodes("BankAccount", pd.DataFrame({"account": ["6222000011112222"]}))
    store.upsert_nodes("Address", pd.DataFrame({"address": ["1 Long Road", "9 Side Street"]}))
    store.upsert_relationships(
        "HAS_PHONE",
        pd.DataFrame(
            {
                "src": ["A", "B", "C", "E"],
                "dst": ["13800000001"] * 3 + ["13900000009"],
            }
        ),
    )
    store.upsert_relationships(
        "HAS_ACCOUNT", pd.DataFrame({"src": ["A", "D"], "dst": ["6222000011112222"] * 2})
    )
    store.upsert_relationships(
        "LIVES_AT",
        pd.DataFrame(
            {
                "src": ["A", "B", "C"],
                "dst": ["1 Long Road", "9 Side Street", "1 Long Road"],
            }
        ),
    )
    members = [
        ("R1", m, lbl, role)
        for m, lbl, role in (
            ("A", "Patient", "patient"),
            ("B", "Patient", "patient"),
            ("C", "Patient", "patient"),
            ("H1", "Institution", "institution"),
            ("D1", "Doctor", "doctor"),
        )
    ]
    members += [("R2", "D", "Patient", "patient"), ("R3", "E", "Patient", "patient")]
    store.replace_derived(
        DerivedData(
            run=pd.DataFrame({"run_id": ["run-1"], "status": ["finished"]}),
            rings=pd.DataFrame(
                {
                    "ring_id": ["R1", "R2", "R3"],
                    "kind": ["collusion", "shared_identifier", "collusion"],
                    "score": [0.9, 0.3, 0.8],
                    "status": ["new", "new", "vanished"],
                    "member_count": [5, 1, 1],
                    "evidence": ['["co-visits"]', "[]", "[]"],
                    "last_run_id": ["run-1"] * 3,
                }
            ),
            ring_members=pd.DataFrame(members, columns=["src", "dst", "dst_label", "role"]),
            findings=pd.DataFrame({"finding_id": pd.Series(dtype="object")}),
            finding_claims=pd.DataFrame({"src": pd.Series(dtype="object"), "dst": pd.Series(dtype="object")}),
            finding_persons=pd.DataFrame(
                {"src": pd.Series(dtype="object"), "dst": pd.Series(dtype="object")}
            ),
        )
    )


@pytest.fixture(scope="module")
def small_city(tmp_path_factory: pytest.TempPathFactory) -> Iterator[GraphStore]:
    path: Path = tmp_path_factory.mktemp("named") / "small.duckdb"
    store = DuckDBStore(path)
    store.apply_schema()
    build_small_city(store)
    yield store
    store.close()


def rows(store: GraphStore, name: str, params: dict[str, Any] | None = None) -> list[dict[str, Any]]:
    result = run_named_query(store, name, params or {})
    assert not result.truncated
    return [dict(zip(result.columns, row, strict=True)) for row in result.rows]


def test_co_visitors_count_distinct_shared_days(small_city: GraphStore) -> None:
    got = rows(small_city, "co_visitors_of_person", {"person_id": "A"})
    assert got == [
        {
            "person_id": "B",
            "name": "Bo",
            "shared_days": 2,
            "institutions": 1,
            "first_shared_day": _d("2025-01-05"),
            "last_shared_day": _d("2025-01-12"),
        },
        {
            "person_id": "C",
            "name": "Cai",
            "shared_days": 1,
            "institutions": 1,
            "first_shared_day": _d("2025-01-05"),
            "last_shared_day": _d("2025-01-05"),
        },
        {
            "person_id": "D",
            "name": "Du",
            "shared_days": 1,
            "institutions": 1,
            "first_shared_day": _d("2025-02-01"),
            "last_shared_day": _d("2025-02-01"),
        },
    ]  # E was at H1 on 01-06, when A was only at the pharmacy: no co-visit


def test_doctor_patients_also_at_pharmacy(small_city: GraphStore) -> None:
    got = rows(small_city, "doctor_patients_also_at_pharmacy", {"doctor_id": "D1", "pharmacy_id": "PH1"})
    assert got == [
        {
            "person_id": "B",
            "name": "Bo",
            "doctor_claims": 2,
            "pharmacy_claims": 2,
            "pharmacy_reimbursed": 40.0,
        },
        {
            "person_id": "A",
            "name": "Ann",
            "doctor_claims": 2,
            "pharmacy_claims": 1,
            "pharmacy_reimbursed": 20.0,
        },
    ]
    assert rows(
        small_city, "doctor_patients_also_at_pharmacy", {"doctor_id": "D2", "pharmacy_id": "PH2"}
    ) == [
        {
            "person_id": "C",
            "name": "Cai",
            "doctor_claims": 1,
            "pharmacy_claims": 1,
            "pharmacy_reimbursed": 5.0,
        },
    ]


def test_persons_sharing_identifier_reports_identifier_and_share_count(small_city: GraphStore) -> None:
    got = rows(small_city, "persons_sharing_identifier", {"person_id": "A"})
    base = {"phone": None, "bank_account": None, "address": None}
    assert got == [
        {
            **base,
            "person_id": "B",
            "name": "Bo",
            "identifier_type": "Phone",
            "phone": "13800000001",
            "sharers": 3,
        },
        {
            **base,
            "person_id": "C",
            "name": "Cai",
            "identifier_type": "Phone",
            "phone": "13800000001",
            "sharers": 3,
        },
        {
            **base,
            "person_id": "C",
            "name": "Cai",
            "identifier_type": "Address",
            "address": "1 Long Road",
            "sharers": 2,
        },
        {
            **base,
            "person_id": "D",
            "name": "Du",
            "identifier_type": "BankAccount",
            "bank_account": "6222000011112222",
            "sharers": 2,
        },
    ]  # each identifier in a column named for it, so the API's analyst masking recognises it
    assert rows(small_city, "persons_sharing_identifier", {"person_id": "E"}) == []


def test_ring_claims_over_time_by_month(small_city: GraphStore) -> None:
    got = rows(small_city, "ring_claims_over_time", {"ring_id": "R1"})
    assert got == [
        {
            "month": "2025-01",
            "claims": 7,
            "patients": 3,
            "reimbursed": 470.0,
            "claims_at_ring_sites": 5,
            "reimbursed_at_ring_sites": 420.0,
        },
        {
            "month": "2025-02",
            "claims": 2,
            "patients": 2,
            "reimbursed": 60.0,
            "claims_at_ring_sites": 0,
            "reimbursed_at_ring_sites": 0.0,
        },
        {
            "month": "2025-03",
            "claims": 2,
            "patients": 1,
            "reimbursed": 45.0,
            "claims_at_ring_sites": 0,
            "reimbursed_at_ring_sites": 0.0,
        },
        {
            "month": "2025-04",
            "claims": 1,
            "patients": 1,
            "reimbursed": 10.0,
            "claims_at_ring_sites": 0,
            "reimbursed_at_ring_sites": 0.0,
        },
    ]
    assert rows(small_city, "ring_claims_over_time", {"ring_id": "no-such-ring"}) == []


def test_institutions_by_ring_exposure_honours_min_score_and_skips_vanished(small_city: GraphStore) -> None:
    got = rows(small_city, "institutions_by_ring_exposure", {"min_score": 0.5})
    assert [
        (r["institution_id"], r["kind"], r["ring_patients"], r["claims"], r["reimbursed"]) for r in got
    ] == [
        ("H1", "clinic", 3, 5, 420.0),
        ("H2", "hospital", 3, 3, 100.0),
        ("PH1", "pharmacy", 2, 3, 60.0),
        ("PH2", "pharmacy", 1, 1, 5.0),
    ]
    assert got[0]["institution_name"] == "Happy Clinic"
    # lowering the bar brings in R2's patient D and puts the hospital on top; vanished R3 (E) never counts
    lower = rows(small_city, "institutions_by_ring_exposure", {"min_score": "0.2"})
    assert [(r["institution_id"], r["ring_patients"], r["reimbursed"]) for r in lower][:2] == [
        ("H2", 4, 170.0),
        ("H1", 3, 420.0),
    ]


def test_claims_after_death(small_city: GraphStore) -> None:
    assert rows(small_city, "claims_after_death") == [
        {
            "person_id": "D",
            "name": "Du",
            "death_date": _d("2025-01-31"),
            "scheme": "medical",
            "claim_id": "c12",
            "institution_id": "H2",
            "start_date": _d("2025-02-01"),
            "reimbursed_amount": 70.0,
        },
    ]


def test_top_reimbursed_patients_at_institution_in_a_window(small_city: GraphStore) -> None:
    params = {"institution_id": "H1", "since": "2025-01-01", "until": "2025-01-31", "top": 2}
    assert rows(small_city, "top_reimbursed_patients_at_institution", params) == [
        {"person_id": "A", "name": "Ann", "claims": 2, "visit_days": 2, "reimbursed": 200.0},
        {"person_id": "B", "name": "Bo", "claims": 2, "visit_days": 2, "reimbursed": 160.0},
    ]
    params.update(since="2025-01-06", top=5)
    assert [
        (r["person_id"], r["reimbursed"])
        for r in rows(small_city, "top_reimbursed_patients_at_institution", params)
    ] == [("A", 100.0), ("B", 80.0), ("E", 15.0)]


def test_doctors_sharing_patients(small_city: GraphStore) -> None:
    assert rows(small_city, "doctors_sharing_patients", {"doctor_id": "D1"}) == [
        {"doctor_id": "D2", "doctor_name": "Dr Two", "institution_id": "H2", "shared_patients": 2},
        {"doctor_id": "D3", "doctor_name": "Dr Three", "institution_id": "H2", "shared_patients": 1},
    ]


def test_every_named_query_has_a_known_answer_test() -> None:
    tested = {
        "co_visitors_of_person",
        "doctor_patients_also_at_pharmacy",
        "persons_sharing_identifier",
        "ring_claims_over_time",
        "institutions_by_ring_exposure",
        "claims_after_death",
        "top_reimbursed_patients_at_institution",
        "doctors_sharing_patients",
    }
    assert {q.name for q in list_named_queries()} == tested


# ---------------------------------------------------------------------------------------------
# Smoke run on the generated fixture city after a real detection run
# ---------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def detected_city(city_db_path: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[GraphStore]:
    import shutil

    from algorithms.job import run_detection

    path = tmp_path_factory.mktemp("named-city") / "city.duckdb"
    shutil.copyfile(city_db_path, path)
    wal = city_db_path.with_name(city_db_path.name + ".wal")
    if wal.exists():
        shutil.copyfile(wal, path.with_name(path.name + ".wal"))
    store = DuckDBStore(path)
    store.apply_schema()
    run_detection(store)
    yield store
    store.close()


def test_every_named_query_runs_on_the_fixture_city(detected_city: GraphStore) -> None:
    store = detected_city
    ring = store.read_query(
        "SELECT r.ring_id, m.dst FROM n_Ring r JOIN r_HAS_MEMBER m ON m.src = r.ring_id "
        "WHERE r.kind = 'collusion' AND m.dst_label = 'Patient' "
        "ORDER BY r.score DESC, r.ring_id, m.dst LIMIT 1"
    ).rows[0]
    ring_id, ring_patient = ring
    site = store.read_query(
        "SELECT m.dst FROM r_HAS_MEMBER m WHERE m.src = $r AND m.dst_label = 'Institution' ORDER BY m.dst",
        {"r": ring_id},
    ).rows[0][0]
    doctor, pharmacy = store.read_query(
        "SELECT b.dst, t2.dst FROM r_BY_DOCTOR b JOIN r_HAS_CLAIM h ON h.dst = b.src "
        "JOIN r_HAS_CLAIM h2 ON h2.src = h.src JOIN r_TREATED_AT t2 ON t2.src = h2.dst "
        "WHERE t2.dst_label = 'Pharmacy' ORDER BY b.dst, t2.dst LIMIT 1"
    ).rows[0]
    params: dict[str, dict[str, Any]] = {
        "co_visitors_of_person": {"person_id": ring_patient},
        "doctor_patients_also_at_pharmacy": {"doctor_id": doctor, "pharmacy_id": pharmacy},
        "persons_sharing_identifier": {"person_id": ring_patient},
        "ring_claims_over_time": {"ring_id": ring_id},
        "institutions_by_ring_exposure": {"min_score": 0.0},
        "claims_after_death": {},
        "top_reimbursed_patients_at_institution": {
            "institution_id": site,
            "since": "2000-01-01",
            "until": "2100-12-31",
            "top": 10,
        },
        "doctors_sharing_patients": {"doctor_id": doctor},
    }
    assert set(params) == {q.name for q in list_named_queries()}
    answers = {name: rows(store, name, p) for name, p in params.items()}
    # what detection says about the ring shows up in the queries an investigator would run next
    assert answers["co_visitors_of_person"], "a collusion-ring patient co-visits with others"
    assert answers["ring_claims_over_time"] and all(r["claims"] > 0 for r in answers["ring_claims_over_time"])
    assert sum(r["claims_at_ring_sites"] for r in answers["ring_claims_over_time"]) > 0
    assert site in {r["institution_id"] for r in answers["institutions_by_ring_exposure"]}
    assert answers["doctor_patients_also_at_pharmacy"]
    assert 0 < len(answers["top_reimbursed_patients_at_institution"]) <= 10
    # the generator plants claims after death; the query must find at least one
    assert answers["claims_after_death"]
    assert all(r["start_date"] > r["death_date"] for r in answers["claims_after_death"])
