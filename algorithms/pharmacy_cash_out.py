"""Pharmacy card cash-out (刷卡套现): a pharmacy where many unrelated persons "buy" on the same days.

What it finds: a designated pharmacy and the persons whose insurance cards it charged for goods
never dispensed (cash handed back, less a cut). The signal, per pharmacy:

- a *cash-out purchase* is a pharmacy claim billed at least ``cash_out_factor`` (5) times the
  pharmacy's usual basket (its median claim total) in a round amount (whole hundreds of yuan) or
  in an amount other persons were billed at that pharmacy that same day;
- a *cash-out day* is a day with cash-out purchases by at least ``cash_out_min_buyers`` (5)
  unrelated persons (persons registered at one address count once: a family shopping together
  is not a crowd);
- a ring is a pharmacy with at least ``cash_out_min_days`` (2) cash-out days; its members are the
  pharmacy and the persons with a cash-out purchase on those days.

Why the chronic-drug pharmacy is not reported: its regular monthly refills repeat the same amount,
but each patient refills on their own day of the month and at the pharmacy's usual basket, so no
day gathers a crowd of purchases far above the usual. Score: 1 - exp(-days / 2) (2 days 0.63,
3 days 0.78), +0.1 when most purchases are round amounts.
"""

from __future__ import annotations

import math
from typing import Any

import pandas as pd

from algorithms.evidence import ev
from algorithms.member_ties import mask_person
from algorithms.projections import (
    CLAIM_COLUMNS,
    Frame,
    claims_view_sql,
    connect,
    ensure_claim_key,
    with_optional,
)
from algorithms.results import Member, Ring
from algorithms.settings import DetectionSettings


def detect_pharmacy_cash_out(
    claims: Frame, persons: Frame, institutions: Frame, settings: DetectionSettings
) -> list[Ring]:
    """Pharmacy cash-out rings, scored (the caller applies the reporting threshold)."""
    s = settings
    con = connect()
    con.register("claims_raw", with_optional(ensure_claim_key(claims), CLAIM_COLUMNS))
    con.register("persons_raw", with_optional(persons, ("address",)))
    con.register("inst_raw", with_optional(institutions, ("name", "label")))
    con.execute(
        f"""CREATE TEMP TABLE ph AS {claims_view_sql(where="CAST(visit_type AS VARCHAR) = 'pharmacy'")}"""
    )
    con.execute(
        """
        CREATE TEMP TABLE buys AS
        WITH usual AS (SELECT institution_id, median(total_amount) AS usual FROM ph GROUP BY ALL),
             -- purchases far above the basket; others billed the same amount that day are too
             big AS (SELECT p.*, u.usual FROM ph p JOIN usual u USING (institution_id)
                     WHERE p.total_amount >= $f * u.usual),
             same AS (SELECT institution_id, start_date, round(total_amount, 2) AS amount,
                             count(DISTINCT person_id) AS buyers
                      FROM big GROUP BY ALL)
        SELECT p.institution_id, p.start_date AS day, p.person_id, p.scheme, p.claim_id, p.total_amount,
               p.reimbursed_amount, p.usual, round(p.total_amount, 2) % 100 = 0 AS round_amount,
               coalesce(NULLIF(CAST(pr.address AS VARCHAR), ''), 'person:' || p.person_id) AS household
        FROM big p
             JOIN same s ON s.institution_id = p.institution_id AND s.start_date = p.start_date
                        AND s.amount = round(p.total_amount, 2)
             LEFT JOIN persons_raw pr ON CAST(pr.person_id AS VARCHAR) = p.person_id
        WHERE round(p.total_amount, 2) % 100 = 0 OR s.buyers >= 3
    """,
        {"f": s.cash_out_factor},
    )
    con.execute(
        """
        CREATE TEMP TABLE cash_days AS
        SELECT institution_id, day FROM buys GROUP BY ALL HAVING count(DISTINCT household) >= $k
    """,
        {"k": s.cash_out_min_buyers},
    )
    days = con.execute(
        """
        SELECT b.institution_id, count(DISTINCT b.day) AS days, count(DISTINCT b.person_id) AS persons,
               count(DISTINCT b.household) AS households, count(*) AS purchases,
               avg(CASE WHEN b.round_amount THEN 1.0 ELSE 0.0 END) AS round_share,
               sum(b.total_amount) AS billed, sum(b.reimbursed_amount) AS reimbursed,
               any_value(b.usual) AS usual,
               min(b.day) AS first_day, max(b.day) AS last_day,
               coalesce(any_value(i.name), b.institution_id) AS name,
               coalesce(any_value(i.label), 'Pharmacy') AS label
        FROM buys b JOIN cash_days USING (institution_id, day)
             LEFT JOIN inst_raw i ON CAST(i.institution_id AS VARCHAR) = b.institution_id
        GROUP BY b.institution_id HAVING count(DISTINCT b.day) >= $d ORDER BY b.institution_id
    """,
        {"d": s.cash_out_min_days},
    ).df()
    if days.empty:
        con.close()
        return []
    buyers = con.execute("""
        SELECT DISTINCT b.institution_id, b.person_id FROM buys b JOIN cash_days USING (institution_id, day)
        ORDER BY 1, 2
    """).df()
    amounts = con.execute("""
        SELECT b.institution_id, round(b.total_amount, 2) AS amount, count(*) AS n
        FROM buys b JOIN cash_days USING (institution_id, day) GROUP BY ALL ORDER BY 1, n DESC, amount
    """).df()
    con.close()
    return _rings(days, buyers, amounts)


def _rings(days: pd.DataFrame, buyers: pd.DataFrame, amounts: pd.DataFrame) -> list[Ring]:
    by_inst = {k: v for k, v in buyers.groupby("institution_id")}
    amounts_by = {k: v for k, v in amounts.groupby("institution_id")}
    rings: list[Ring] = []
    records: list[dict[str, Any]] = days.to_dict("records")  # type: ignore[assignment]
    for row in records:
        inst = str(row["institution_id"])
        n_days = int(row["days"])
        round_share = float(row["round_share"])
        score = min(1.0, 1.0 - math.exp(-n_days / 2.0) + (0.1 if round_share >= 0.5 else 0.0))
        top = amounts_by[inst].head(3)
        common = [[float(a), int(c)] for a, c in zip(top["amount"], top["n"], strict=True)]
        persons = [str(p) for p in by_inst[inst]["person_id"]]
        shown = [mask_person(p) for p in persons[:10]]
        evidence = [
            ev("pharmacy.days", name=row["name"], days=n_days,
               first_day=pd.Timestamp(row["first_day"]).date(), last_day=pd.Timestamp(row["last_day"]).date(),
               households=int(row["households"]),
               purchases=int(row["purchases"])),
            ev("pharmacy.amounts", usual=float(row["usual"]), round_share=round_share, common=common),
            ev("pharmacy.total", billed=float(row["billed"]), reimbursed=float(row["reimbursed"])),
            ev("pharmacy.persons_more", persons=shown, total=len(persons)) if len(persons) > 10
            else ev("pharmacy.persons", persons=shown),
        ]
        members = [Member(type=str(row["label"]), id=inst), *(Member(type="Patient", id=p) for p in persons)]
        features = {
            "days": n_days,
            "persons": len(persons),
            "households": int(row["households"]),
            "round_share": round_share,
            "billed": float(row["billed"]),
        }
        rings.append(
            Ring(
                kind="pharmacy_cash_out",
                score=round(score, 4),
                members=members,
                evidence=evidence,
                features=features,
            )
        )
    rings.sort(key=lambda r: (-r.score, -len(r.members)))
    return rings
