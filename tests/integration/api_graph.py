"""A small hand-made investigation graph written through the store port (known answers for API tests).

Two rings: a collusive clinic ring (three patients, a clinic, its doctor) and a shared-phone ring
(the same three patients and a broker's phone). Outside both: a household patient at a public
hospital, a work-injury patient with a double claim, and a bystander.
"""

from __future__ import annotations

import json
from datetime import date, datetime

import pandas as pd

from graph.derived import DerivedData
from graph.port import GraphStore

# 18-character ID numbers (only their shape matters to the API)
P1, P2, P3 = "110101195001011234", "110101195203022345", "110101195405033456"
P4, P5, P6 = "320102198006064567", "440103199007075678", "510104200008086789"
BROKER_PHONE = "13800138000"
CLINIC, HOSPITAL, PHARMACY = "INST-CLINIC-1", "INST-HOSP-1", "INST-PHARM-1"
DOCTOR, DOCTOR2 = "DOC-1", "DOC-2"
RING_COLLUSION, RING_PHONE = "R-collusion-1", "R-phone-1"


def build(store: GraphStore) -> None:
    persons = pd.DataFrame(
        [
            {
                "person_id": P1,
                "name": "张三",
                "gender": "M",
                "birth_date": date(1950, 1, 1),
                "phone": BROKER_PHONE,
                "address": "北京市东城区和平里一号",
                "bank_account": "6222000011112222",
            },
            {
                "person_id": P2,
                "name": "李四",
                "gender": "F",
                "birth_date": date(1952, 3, 2),
                "phone": BROKER_PHONE,
                "address": "北京市东城区和平里二号",
                "bank_account": "6222000033334444",
            },
            {
                "person_id": P3,
                "name": "王五",
                "gender": "M",
                "birth_date": date(1954, 5, 3),
                "phone": BROKER_PHONE,
                "address": "北京市东城区和平里三号",
                "bank_account": "6222000055556666",
            },
            {
                "person_id": P4,
                "name": "赵六",
                "gender": "M",
                "birth_date": date(1980, 6, 6),
                "phone": "13900139000",
                "address": "南京市玄武区中山路八号",
                "bank_account": "6222000077778888",
            },
            {
                "person_id": P5,
                "name": "孙七",
                "gender": "F",
                "birth_date": date(1990, 7, 7),
                "phone": "13700137000",
                "address": "广州市越秀区东风路九号",
                "bank_account": "6222000099990000",
                "employer_id": "EMP-1",
            },
            {
                "person_id": P6,
                "name": "周八",
                "gender": "F",
                "birth_date": date(2000, 8, 8),
                "phone": "13600136000",
                "address": "成都市锦江区春熙路十号",
                "bank_account": "6222000012121212",
            },
        ]
    )
    store.upsert_nodes("Patient", persons)
    store.upsert_nodes(
        "Institution",
        pd.DataFrame(
            [
                {
                    "institution_id": CLINIC,
                    "name": "康乐诊所",
                    "kind": "clinic",
                    "level": 0,
                    "ownership": "private",
                },
                {
                    "institution_id": HOSPITAL,
                    "name": "第一人民医院",
                    "kind": "hospital",
                    "level": 3,
                    "ownership": "public",
                },
            ]
        ),
    )
    store.upsert_nodes(
        "Pharmacy",
        pd.DataFrame(
            [
                {
                    "institution_id": PHARMACY,
                    "name": "百姓大药房",
                    "kind": "pharmacy",
                    "level": 0,
                    "ownership": "private",
                },
            ]
        ),
    )
    store.upsert_nodes(
        "Doctor",
        pd.DataFrame(
            [
                {
                    "doctor_id": DOCTOR,
                    "name": "钱医生",
                    "institution_id": CLINIC,
                    "person_id": "110101197001019999",
                },
                {"doctor_id": DOCTOR2, "name": "吴医生", "institution_id": HOSPITAL},
            ]
        ),
    )
    store.upsert_relationships(
        "WORKS_AT",
        pd.DataFrame(
            [
                {"src": DOCTOR, "dst": CLINIC, "dst_label": "Institution"},
                {"src": DOCTOR2, "dst": HOSPITAL, "dst_label": "Institution"},
            ]
        ),
    )
    for label, rel, prop in (
        ("Phone", "HAS_PHONE", "phone"),
        ("BankAccount", "HAS_ACCOUNT", "bank_account"),
        ("Address", "LIVES_AT", "address"),
    ):
        key = {"Phone": "phone", "BankAccount": "account", "Address": "address"}[label]
        values = persons[["person_id", prop]].dropna()
        store.upsert_nodes(label, pd.DataFrame({key: values[prop].drop_duplicates()}))
        store.upsert_relationships(rel, pd.DataFrame({"src": values["person_id"], "dst": values[prop]}))
    store.upsert_nodes("Employer", pd.DataFrame({"employer_id": ["EMP-1"]}))
    store.upsert_relationships("EMPLOYED_BY", pd.DataFrame({"src": [P5], "dst": ["EMP-1"]}))

    claims = []
    for i, day in enumerate((3, 10, 17, 24)):
        for person in (P1, P2, P3):
            claims.append(
                _claim(f"M{person[-4:]}{i}", "medical", person, CLINIC, DOCTOR, date(2024, 3, day), 300.0)
            )
    claims.append(_claim("M-P4-1", "medical", P4, HOSPITAL, DOCTOR2, date(2024, 2, 1), 1200.0))
    claims.append(_claim("M-P4-2", "medical", P4, PHARMACY, None, date(2024, 2, 5), 80.0, visit="pharmacy"))
    claims.append(
        _claim(
            "M-P5-1",
            "medical",
            P5,
            HOSPITAL,
            DOCTOR2,
            date(2024, 4, 1),
            5000.0,
            injury="IC-1",
            visit="inpatient",
        )
    )
    claims.append(
        _claim(
            "W-P5-1",
            "work_injury",
            P5,
            HOSPITAL,
            DOCTOR2,
            date(2024, 4, 1),
            5000.0,
            injury="IC-1",
            visit="inpatient",
        )
    )
    claims.append(_claim("M-P6-1", "medical", P6, HOSPITAL, DOCTOR2, date(2024, 5, 1), 200.0))
    frame = pd.DataFrame(claims)
    store.upsert_nodes("Claim", frame)
    store.upsert_nodes(
        "InjuryCase",
        pd.DataFrame(
            [
                {
                    "injury_case_id": "IC-1",
                    "person_id": P5,
                    "injury_date": date(2024, 3, 30),
                    "cause": "work",
                    "third_party_liable": False,
                    "employer_id": "EMP-1",
                    "reported_to": "work_injury",
                },
            ]
        ),
    )
    store.upsert_relationships("HAS_INJURY", pd.DataFrame({"src": [P5], "dst": ["IC-1"]}))
    with_injury = frame[frame["injury_case_id"].notna()]
    store.upsert_relationships(
        "FOR_INJURY", pd.DataFrame({"src": with_injury["claim_key"], "dst": with_injury["injury_case_id"]})
    )
    store.upsert_relationships(
        "HAS_CLAIM",
        pd.DataFrame({"src": frame["person_id"], "dst": frame["claim_key"], "date": frame["start_date"]}),
    )
    treated = pd.DataFrame(
        {
            "src": frame["claim_key"],
            "dst": frame["institution_id"],
            "dst_label": ["Pharmacy" if i == PHARMACY else "Institution" for i in frame["institution_id"]],
            "date": frame["start_date"],
        }
    )
    store.upsert_relationships("TREATED_AT", treated)
    by_doc = frame[frame["doctor_id"].notna()]
    store.upsert_relationships(
        "BY_DOCTOR",
        pd.DataFrame({"src": by_doc["claim_key"], "dst": by_doc["doctor_id"], "date": by_doc["start_date"]}),
    )
    _derived(store)


def _claim(
    cid: str,
    scheme: str,
    person: str,
    inst: str,
    doctor: str | None,
    day: date,
    amount: float,
    *,
    injury: str | None = None,
    visit: str = "outpatient",
) -> dict[str, object]:
    return {
        "claim_key": f"{scheme}:{cid}",
        "claim_id": cid,
        "scheme": scheme,
        "person_id": person,
        "institution_id": inst,
        "doctor_id": doctor,
        "visit_type": visit,
        "start_date": day,
        "end_date": day,
        "diagnosis_code": "M54.5",
        "total_amount": amount,
        "reimbursed_amount": round(amount * 0.7, 2),
        "injury_case_id": injury,
        "payer": scheme,
    }


def _derived(store: GraphStore) -> None:
    now = datetime(2024, 6, 1, 2, 0, 0)
    history = json.dumps(
        [
            {"run_id": "run-1", "score": 0.8, "member_count": 4},
            {"run_id": "run-2", "score": 0.9, "member_count": 5},
        ]
    )
    rings = pd.DataFrame(
        [
            {
                "ring_id": RING_COLLUSION,
                "kind": "collusion",
                "score": 0.9,
                "status": "grown",
                "member_count": 5,
                "evidence": json.dumps(["3 patients co-visited 康乐诊所 on 4 distinct days"]),
                "score_history": history,
                "first_run_id": "run-1",
                "last_run_id": "run-2",
                "created_at": now,
                "updated_at": now,
            },
            {
                "ring_id": RING_PHONE,
                "kind": "shared_identifier",
                "score": 0.7,
                "status": "new",
                "member_count": 4,
                "evidence": json.dumps(["3 unrelated persons registered phone 13800138000"]),
                "score_history": json.dumps([{"run_id": "run-2", "score": 0.7, "member_count": 4}]),
                "first_run_id": "run-2",
                "last_run_id": "run-2",
                "created_at": now,
                "updated_at": now,
            },
        ]
    )
    members = pd.DataFrame(
        [{"src": RING_COLLUSION, "dst": p, "dst_label": "Patient", "role": "patient"} for p in (P1, P2, P3)]
        + [
            {"src": RING_COLLUSION, "dst": CLINIC, "dst_label": "Institution", "role": "institution"},
            {"src": RING_COLLUSION, "dst": DOCTOR, "dst_label": "Doctor", "role": "doctor"},
        ]
        + [{"src": RING_PHONE, "dst": p, "dst_label": "Patient", "role": "patient"} for p in (P1, P2, P3)]
        + [{"src": RING_PHONE, "dst": BROKER_PHONE, "dst_label": "Phone", "role": "broker_identifier"}]
    )
    findings = pd.DataFrame(
        [
            {
                "finding_id": "F-double-1",
                "kind": "medical_and_work_injury",
                "category": "double_claim",
                "person_id": P5,
                "excess_amount": 3500.0,
                "score": 1.0,
                "evidence": json.dumps(["injury IC-1 paid by medical and work_injury"]),
                "claim_keys": json.dumps(["medical:M-P5-1", "work_injury:W-P5-1"]),
                "run_id": "run-2",
            },
        ]
    )
    run = pd.DataFrame(
        [
            {
                "run_id": "run-2",
                "started_at": now,
                "finished_at": now,
                "duration_s": 1.0,
                "engine": "igraph",
                "status": "ok",
                "parameters": "{}",
                "counts": "{}",
                "changes": "{}",
            }
        ]
    )
    store.replace_derived(
        DerivedData(
            run=run,
            rings=rings,
            ring_members=members,
            findings=findings,
            finding_claims=pd.DataFrame(
                {"src": ["F-double-1", "F-double-1"], "dst": ["medical:M-P5-1", "work_injury:W-P5-1"]}
            ),
            finding_persons=pd.DataFrame({"src": ["F-double-1"], "dst": [P5]}),
        )
    )
