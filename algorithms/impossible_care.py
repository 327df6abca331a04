"""Impossible care (冒名住院 / 挂床住院): care that cannot have happened as claimed.

- ``overlapping_inpatient``: one person in hospital at two different institutions at the same
  time. A stay occupies the nights from admission to discharge, ``[admission, discharge)``, so a
  same-day transfer (discharge from one hospital = admission to the next) touches the next stay
  but does not overlap it — also when the first stay was a day case (admitted and discharged the
  same day). A stay without a discharge date counts as a day case. A day case overlaps a stay
  only when it lies strictly inside it (the person was in a ward elsewhere that whole day).
  One finding per person, with every claim of every overlapping stay; the evidence counts the
  distinct days the person was in two hospitals at once.
- ``claim_after_death``: claims whose care started after the person's recorded death date. One
  finding per person with all such claims.
"""

from __future__ import annotations

from datetime import date, timedelta

from algorithms.claim_findings import claim_finding
from algorithms.evidence import ev
from algorithms.projections import (
    CLAIM_COLUMNS,
    Frame,
    claims_view_sql,
    connect,
    ensure_claim_key,
    with_optional,
)
from algorithms.results import Finding


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
                   greatest(coalesce(end_date, start_date), start_date) AS e
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
               list({'from_day': from_day, 'to_day': to_day})
        FROM pairs GROUP BY person_id ORDER BY person_id
    """).fetchall()
    for person, refs, insts, first, last, spans in rows:
        days = _days_covered([(s["from_day"], s["to_day"]) for s in spans])
        findings.append(
            claim_finding(
                "anomaly",
                "overlapping_inpatient",
                person,
                refs,
                [
                    ev("care.overlapping", first_day=first, last_day=last, count=len(set(insts)),
                       institutions=sorted(set(insts)), days=days)
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
            claim_finding(
                "anomaly",
                "claim_after_death",
                person,
                refs,
                [
                    ev("care.after_death", death=death, claims=len(refs), first_day=first, last_day=last,
                       paid=float(paid or 0.0))
                ],
                excess=float(paid or 0.0),
            )
        )
    con.close()
    return findings


def _days_covered(spans: list[tuple[date, date]]) -> int:
    """Distinct days in the union of overlap spans ``[from, to)``; a day case inside a stay is one day.

    Several claims of one stay (a medical claim and its commercial top-up) give the same span
    more than once: a day is counted once however many claim pairs cover it.
    """
    days: set[date] = set()
    for start, end in spans:
        days.update(start + timedelta(days=i) for i in range(max((end - start).days, 1)))
    return len(days)
