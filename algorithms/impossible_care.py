"""Impossible care (冒名住院 / 挂床住院): care that cannot have happened as claimed.

- ``overlapping_inpatient``: one person in hospital at two different institutions at the same
  time. Stays are half-open intervals [admission, discharge): a same-day transfer (discharge from
  one hospital = admission to the next) is lawful and does not overlap. A stay without discharge
  date counts as one day. One finding per person, with every claim of every overlapping stay.
- ``claim_after_death``: claims whose care started after the person's recorded death date. One
  finding per person with all such claims.
"""

from __future__ import annotations

from algorithms.projections import (
    CLAIM_COLUMNS,
    Frame,
    claims_view_sql,
    connect,
    ensure_claim_key,
    with_optional,
)
from algorithms.results import ClaimRef, Finding, fmt_yuan


def detect_impossible_care(claims: Frame, persons: Frame) -> list[Finding]:
    con = connect()
    con.register("claims_raw", with_optional(ensure_claim_key(claims), CLAIM_COLUMNS))
    con.register("persons_raw", with_optional(persons, ("death_date",)))
    narrow = """
        CAST(visit_type AS VARCHAR) = 'inpatient' OR CAST(person_id AS VARCHAR) IN (
            SELECT CAST(person_id AS VARCHAR) FROM persons_raw
            WHERE death_date IS NOT NULL AND CAST(death_date AS VARCHAR) <> '')
    """
    con.execute(f"CREATE TEMP TABLE claims AS {claims_view_sql(where=narrow)}")
    findings: list[Finding] = []
    rows = con.execute("""
        WITH stays AS (
            SELECT person_id, institution_id, scheme, claim_id, start_date AS s,
                   greatest(coalesce(end_date, start_date), start_date + 1) AS e
            FROM claims WHERE visit_type = 'inpatient'
        ), pairs AS (
            SELECT a.person_id, a.scheme AS sa, a.claim_id AS ca, b.scheme AS sb, b.claim_id AS cb,
                   a.institution_id AS ia, b.institution_id AS ib, greatest(a.s, b.s) AS from_day,
                   least(a.e, b.e) AS to_day
            FROM stays a JOIN stays b ON a.person_id = b.person_id AND a.institution_id < b.institution_id
                 AND a.s < b.e AND b.s < a.e
        )
        SELECT person_id,
               list(DISTINCT {'scheme': sa, 'claim_id': ca}) || list(DISTINCT {'scheme': sb, 'claim_id': cb}),
               list(DISTINCT ia) || list(DISTINCT ib), min(from_day), max(to_day),
               sum(date_diff('day', from_day, to_day))
        FROM pairs GROUP BY person_id ORDER BY person_id
    """).fetchall()
    for person, refs, insts, first, last, days in rows:
        findings.append(
            Finding(
                category="anomaly",
                kind="overlapping_inpatient",
                person_id=str(person),
                claims=_refs(refs),
                evidence=[
                    f"in hospital at {len(set(insts))} institutions at once "
                    f"({', '.join(sorted(set(insts)))}) "
                    f"between {first} and {last}: {int(days)} overlapping day(s)"
                ],
            )
        )
    rows = con.execute("""
        WITH p AS (SELECT CAST(person_id AS VARCHAR) AS person_id, CAST(death_date AS DATE) AS death_date
                   FROM persons_raw WHERE death_date IS NOT NULL AND CAST(death_date AS VARCHAR) <> '')
        SELECT c.person_id, list({'scheme': c.scheme, 'claim_id': c.claim_id}), any_value(p.death_date),
               min(c.start_date), max(c.start_date), sum(c.reimbursed_amount)
        FROM claims c JOIN p USING (person_id) WHERE c.start_date > p.death_date
        GROUP BY c.person_id ORDER BY c.person_id
    """).fetchall()
    for person, refs, death, first, last, paid in rows:
        findings.append(
            Finding(
                category="anomaly",
                kind="claim_after_death",
                person_id=str(person),
                claims=_refs(refs),
                excess_amount=round(float(paid or 0.0), 2),
                evidence=[
                    f"{len(refs)} claim(s) for care from {first} to {last} after the recorded death on "
                    f"{death}; {fmt_yuan(float(paid or 0.0))} reimbursed"
                ],
            )
        )
    con.close()
    return findings


def _refs(refs: list[dict[str, str]]) -> list[ClaimRef]:
    out = {(str(r["scheme"]), str(r["claim_id"])) for r in refs}
    return [ClaimRef(scheme=a, claim_id=b) for a, b in sorted(out)]
