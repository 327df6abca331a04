"""Inpatient-stay patterns of the bureaus' rule classes: 挂床住院 and 分解住院.

- ``present_elsewhere_while_admitted`` (挂床住院): outpatient or pharmacy claims at *another*
  institution on days strictly inside an inpatient stay — the bed was billed while the patient was
  elsewhere. Reported when it happened on at least ``elsewhere_min_days`` distinct days (one
  errand may be a relative buying medicine with the card; repeated presence is not). Claims on
  the admission or discharge day are lawful (the patient came in or went home that day), and so
  is a same-day transfer (an inpatient claim, not an outpatient one). One finding per person, with
  the stay(s) and the claims elsewhere; excess: the reimbursement of the stays concerned.
- ``split_admission`` (分解住院): a discharge followed by readmission at the same institution
  within ``readmit_days`` (``MEDFRAUD_DETECT_READMIT_DAYS``, 15) with the same principal diagnosis,
  at least ``split_min_readmissions`` times in a chain — one treatment billed as several stays to
  stay under per-stay limits. Planned cycles are lawful: stays whose diagnosis is a treatment
  cycle code (``cycle_prefixes``: Z51 chemotherapy/radiotherapy, Z49 dialysis) never chain.
  Excess: the reimbursement of the readmissions (the first stay would have been paid anyway).
"""

from __future__ import annotations

from typing import Any

from algorithms.claim_findings import claim_finding
from algorithms.evidence import Evidence, ev
from algorithms.projections import (
    CLAIM_COLUMNS,
    Frame,
    claims_view_sql,
    connect,
    ensure_claim_key,
    with_optional,
)
from algorithms.results import Finding
from algorithms.settings import DetectionSettings
from algorithms.sql_engine import SqlConnection


def _prefixes(column: str, prefixes: tuple[str, ...]) -> str:
    if not prefixes:
        return "FALSE"
    return "(" + " OR ".join(f"starts_with({column}, '{p}')" for p in prefixes) + ")"


def detect_stay_patterns(claims: Frame, settings: DetectionSettings) -> list[Finding]:
    """Both stay patterns over the claims of persons with at least one inpatient stay."""
    s = settings
    con = connect()
    con.register("claims_raw", with_optional(ensure_claim_key(claims), CLAIM_COLUMNS))
    narrow = """
        CAST(person_id AS VARCHAR) IN (
            SELECT CAST(person_id AS VARCHAR) FROM claims_raw WHERE CAST(visit_type AS VARCHAR) = 'inpatient')
    """
    con.execute(f"CREATE TEMP TABLE claims AS {claims_view_sql(where=narrow)}")
    findings = _present_elsewhere(con, s) + _split_admissions(con, s)
    con.close()
    return findings


def _present_elsewhere(con: SqlConnection, s: DetectionSettings) -> list[Finding]:
    rows = con.execute(
        """
        WITH stays AS (
            SELECT person_id, institution_id AS stay_inst, scheme AS ss, claim_id AS sc, start_date AS s,
                   end_date AS e, reimbursed_amount AS paid
            FROM claims WHERE visit_type = 'inpatient' AND end_date IS NOT NULL
        ), hits AS (
            SELECT st.person_id, st.stay_inst, st.ss, st.sc, st.s, st.e, st.paid, c.institution_id AS inst,
                   c.scheme, c.claim_id, c.start_date AS d, c.visit_type
            FROM stays st JOIN claims c ON c.person_id = st.person_id AND c.institution_id <> st.stay_inst
                 AND c.visit_type IN ('outpatient', 'pharmacy')
                 AND c.start_date > st.s AND c.start_date < st.e
        ), stay_paid AS (
            SELECT person_id, sum(paid) AS stay_paid
            FROM (SELECT DISTINCT person_id, ss, sc, paid FROM hits) x GROUP BY person_id
        )
        SELECT person_id, count(DISTINCT d) AS days,
               list(DISTINCT {'scheme': ss, 'claim_id': sc})
                   || list(DISTINCT {'scheme': scheme, 'claim_id': claim_id}),
               list(DISTINCT stay_inst ORDER BY stay_inst), list(DISTINCT inst ORDER BY inst),
               min(s), max(e), min(d), max(d),
               count(DISTINCT claim_id) FILTER (WHERE visit_type = 'pharmacy') AS pharmacy_claims,
               any_value(stay_paid.stay_paid) AS stay_paid
        FROM hits JOIN stay_paid USING (person_id)
        GROUP BY person_id HAVING count(DISTINCT d) >= $min ORDER BY person_id
    """,
        {"min": s.elsewhere_min_days},
    ).fetchall()
    out: list[Finding] = []
    for person, days, refs, stay_insts, insts, s_first, e_last, d_first, d_last, pharm, paid in rows:
        evidence = [
            ev("care.elsewhere", admitted=s_first, discharged=e_last, stay_institutions=list(stay_insts),
               institutions=list(insts), days=days, first_day=d_first, last_day=d_last),
            ev("care.elsewhere_pharmacy", pharmacy=pharm),
            ev("care.elsewhere_paid", paid=float(paid or 0.0)),
        ]
        out.append(
            claim_finding(
                "anomaly",
                "present_elsewhere_while_admitted",
                person,
                refs,
                evidence,
                excess=float(paid or 0.0),
                score=min(1.0, 0.5 + 0.15 * int(days)),
            )
        )
    return out


def _split_admissions(con: SqlConnection, s: DetectionSettings) -> list[Finding]:
    cycle = _prefixes("diagnosis_code", s.cycle_prefixes)
    rows = con.execute(
        f"""
        WITH stays AS (  -- one row per stay: a stay claimed by two schemes is still one stay
            SELECT person_id, institution_id, start_date AS s, max(coalesce(end_date, start_date)) AS e,
                   min(diagnosis_code) AS dx, list({{'scheme': scheme, 'claim_id': claim_id}}) AS refs,
                   sum(reimbursed_amount) FILTER (WHERE scheme = 'medical') AS paid
            FROM claims WHERE visit_type = 'inpatient' AND diagnosis_code IS NOT NULL AND NOT {cycle}
            GROUP BY person_id, institution_id, start_date
        ), seq AS (
            SELECT *, lag(e) OVER w AS prev_e, lag(dx) OVER w AS prev_dx
            FROM stays WINDOW w AS (PARTITION BY person_id, institution_id ORDER BY s)
        ), marked AS (
            SELECT *, prev_e IS NOT NULL AND dx = prev_dx AND date_diff('day', prev_e, s) BETWEEN 0 AND $days
                      AS readmit
            FROM seq
        ), chains AS (  -- a chain starts at every stay that is not a readmission
            SELECT *, sum(CASE WHEN readmit THEN 0 ELSE 1 END) OVER (
                          PARTITION BY person_id, institution_id ORDER BY s ROWS UNBOUNDED PRECEDING) AS chain
            FROM marked
        )
        SELECT person_id, institution_id, any_value(dx), count(*) - 1 AS readmissions, min(s) AS first_s,
               max(e),
               flatten(list(refs)), sum(paid) FILTER (WHERE readmit), max(date_diff('day', prev_e, s))
                   FILTER (WHERE readmit)
        FROM chains GROUP BY person_id, institution_id, chain
        HAVING count(*) FILTER (WHERE readmit) >= $min
        ORDER BY person_id, first_s
    """,
        {"days": s.readmit_days, "min": s.split_min_readmissions},
    ).fetchall()
    by_person: dict[str, list[tuple[Any, ...]]] = {}
    for row in rows:
        by_person.setdefault(str(row[0]), []).append(row)
    out: list[Finding] = []
    for person, chains in by_person.items():
        refs: list[Any] = []
        evidence: list[Evidence] = []
        excess = 0.0
        for _, inst, dx, readmits, first, last, chain_refs, paid, gap in chains:
            refs.extend(chain_refs)
            excess += float(paid or 0.0)
            evidence.append(ev("care.split", institution=inst, diagnosis=dx, stays=int(readmits) + 1,
                               first_day=first, last_day=last, gap=gap, limit=s.readmit_days))
        evidence.append(ev("care.split_paid", amount=excess))
        out.append(claim_finding("anomaly", "split_admission", person, refs, evidence, excess=excess))
    return out
