"""Double claims across cover (双重享受 / 重复报销): the same injury or expense paid twice.

Three kinds, each with the claims involved and the excess amount (what was paid that should not
have been):

- ``medical_and_work_injury``: a work injury must be paid by work-injury insurance only. Found by
  injury case (claims of one case in both schemes) or, when the medical claim carries no case id,
  by person + injury diagnosis (ICD-10 ``S``/``T0``/``T1``) within ``injury_window_days`` of a
  work-injury claim. Excess: the medical reimbursement.
- ``medical_and_commercial_over_expense``: medical and commercial cover for the same expense
  (same person, institution, day and expense amount — another visit that day is another expense)
  together reimbursing more than the expense. Excess: the sum
  of reimbursements minus the expense. A top-up that stays within the expense is lawful.
- ``third_party_liable_paid_by_medical``: a trauma case with a liable third party (a traffic
  accident) must be paid by that party, yet medical insurance paid. Excess: the medical
  reimbursement. A fall with no liable third party paid by medical is lawful.
"""

from __future__ import annotations

from algorithms.claim_findings import claim_finding
from algorithms.evidence import ev
from algorithms.projections import (
    CLAIM_COLUMNS,
    INJURY_COLUMNS,
    Frame,
    claims_view_sql,
    connect,
    ensure_claim_key,
    with_optional,
)
from algorithms.results import Finding
from algorithms.settings import DetectionSettings


def _injury_sql(prefixes: tuple[str, ...]) -> str:
    return "(" + " OR ".join(f"starts_with(diagnosis_code, '{p}')" for p in prefixes) + ")"


def detect_double_claims(claims: Frame, injury_cases: Frame, settings: DetectionSettings) -> list[Finding]:
    s = settings
    con = connect()
    con.register("claims_raw", with_optional(ensure_claim_key(claims), CLAIM_COLUMNS))
    con.register("cases_raw", with_optional(injury_cases, INJURY_COLUMNS))
    # Only persons with a non-medical claim, an injury case id or an injury case can have a double
    # claim: narrowing to them first keeps this detector cheap on a city's millions of claims.
    narrow = """
        CAST(person_id AS VARCHAR) IN (
            SELECT CAST(person_id AS VARCHAR) FROM claims_raw
            WHERE CAST(scheme AS VARCHAR) <> 'medical'
               OR NULLIF(CAST(injury_case_id AS VARCHAR), '') IS NOT NULL
            UNION SELECT CAST(person_id AS VARCHAR) FROM cases_raw)
    """
    con.execute(f"CREATE TEMP TABLE claims AS {claims_view_sql(where=narrow)}")
    con.execute("""
        CREATE TEMP TABLE cases AS
        SELECT CAST(injury_case_id AS VARCHAR) AS injury_case_id, CAST(person_id AS VARCHAR) AS person_id,
               CAST(injury_date AS DATE) AS injury_date, CAST(cause AS VARCHAR) AS cause,
               lower(CAST(third_party_liable AS VARCHAR)) IN ('true', '1', 't', 'yes') AS liable
        FROM cases_raw
    """)
    findings: list[Finding] = []
    inj = _injury_sql(s.injury_prefixes)
    # Work injury: by case id, then by person + window for medical claims without a case id.
    rows = con.execute(
        f"""
        WITH by_case AS (
            SELECT injury_case_id, any_value(person_id) AS person_id
            FROM claims WHERE injury_case_id IS NOT NULL
            GROUP BY ALL
            HAVING count(*) FILTER (WHERE scheme = 'medical') > 0
               AND count(*) FILTER (WHERE scheme = 'work_injury') > 0
        ), case_claims AS (
            SELECT b.injury_case_id AS grp, c.person_id, c.scheme, c.claim_id, c.reimbursed_amount,
                   'case' AS how
            FROM claims c JOIN by_case b USING (injury_case_id)
            WHERE c.scheme IN ('medical', 'work_injury')
        ), wi AS (
            SELECT person_id, claim_id, start_date, coalesce(injury_case_id, 'wi:' || claim_id) AS grp
            FROM claims WHERE scheme = 'work_injury'
        ), window_med AS (
            SELECT m.claim_id, m.person_id, m.reimbursed_amount,
                   arg_min(w.grp, abs(date_diff('day', w.start_date, m.start_date))) AS grp
            FROM claims m JOIN wi w ON w.person_id = m.person_id
                 AND abs(date_diff('day', w.start_date, m.start_date)) <= $win
            WHERE m.scheme = 'medical' AND m.injury_case_id IS NULL
                  AND {inj.replace("diagnosis_code", "m.diagnosis_code")}
            GROUP BY ALL
        ), window_claims AS (
            SELECT grp, person_id, 'medical' AS scheme, claim_id, reimbursed_amount, 'window' AS how
            FROM window_med
            UNION ALL
            SELECT w.grp, w.person_id, 'work_injury', w.claim_id, c.reimbursed_amount, 'window'
            FROM wi w JOIN claims c ON c.scheme = 'work_injury' AND c.claim_id = w.claim_id
            WHERE w.grp IN (SELECT grp FROM window_med)
        ), allc AS (SELECT * FROM case_claims UNION SELECT * FROM window_claims)
        SELECT grp, any_value(person_id), list(DISTINCT {{'scheme': scheme, 'claim_id': claim_id}}),
               sum(reimbursed_amount) FILTER (WHERE scheme = 'medical'),
               sum(reimbursed_amount) FILTER (WHERE scheme = 'work_injury'),
               bool_or(how = 'case')
        FROM allc GROUP BY grp ORDER BY grp
    """,
        {"win": s.injury_window_days},
    ).fetchall()
    for grp, person, refs, medical, work, by_case in rows:
        medical = float(medical or 0.0)
        findings.append(
            claim_finding(
                "double_claim",
                "medical_and_work_injury",
                person,
                refs,
                [
                    ev("double.work_injury_case", case=grp, work=float(work or 0.0), medical=medical)
                    if by_case
                    else ev("double.work_injury_window", window=s.injury_window_days, work=float(work or 0.0),
                            medical=medical),
                    ev("double.work_injury_only", medical=medical),
                ],
                excess=medical,
                score=1.0 if by_case else 0.8,
            )
        )
    rows = con.execute(
        """
        WITH k AS (
            SELECT person_id, institution_id, start_date, round(total_amount, 2) AS expense,
                   sum(reimbursed_amount) AS paid,
                   sum(reimbursed_amount) FILTER (WHERE scheme = 'medical') AS medical,
                   sum(reimbursed_amount) FILTER (WHERE scheme = 'commercial') AS commercial,
                   list({'scheme': scheme, 'claim_id': claim_id} ORDER BY scheme, claim_id) AS refs
            FROM claims WHERE scheme IN ('medical', 'commercial')
            GROUP BY ALL
            HAVING count(*) FILTER (WHERE scheme = 'medical') > 0
               AND count(*) FILTER (WHERE scheme = 'commercial') > 0
        )
        SELECT person_id, refs, paid - expense, expense, medical, commercial, institution_id, start_date
        FROM k WHERE paid - expense > $tol ORDER BY person_id, start_date
    """,
        {"tol": s.amount_tolerance},
    ).fetchall()
    for person, refs, excess, expense, medical, commercial, inst, day in rows:
        findings.append(
            claim_finding(
                "double_claim",
                "medical_and_commercial_over_expense",
                person,
                refs,
                [
                    ev("double.over_expense", day=day, institution=inst, expense=float(expense),
                       medical=float(medical or 0), commercial=float(commercial or 0), excess=float(excess))
                ],
                excess=float(excess),
            )
        )
    rows = con.execute(
        f"""
        WITH liable AS (SELECT * FROM cases WHERE liable),
             by_case AS (
                SELECT l.injury_case_id AS grp, c.person_id, c.claim_id, c.reimbursed_amount, l.cause,
                       true AS by_case
                FROM claims c JOIN liable l USING (injury_case_id) WHERE c.scheme = 'medical'
             ),
             by_window AS (
                SELECT arg_min(l.injury_case_id, abs(date_diff('day', l.injury_date, c.start_date))) AS grp,
                       c.person_id, c.claim_id, c.reimbursed_amount, arg_min(l.cause,
                       abs(date_diff('day', l.injury_date, c.start_date))) AS cause, false AS by_case
                FROM claims c JOIN liable l ON l.person_id = c.person_id
                     AND c.start_date BETWEEN l.injury_date AND l.injury_date + $win::INTEGER
                WHERE c.scheme = 'medical' AND c.injury_case_id IS NULL AND {
            inj.replace("diagnosis_code", "c.diagnosis_code")
        }
                GROUP BY c.person_id, c.claim_id, c.reimbursed_amount
             ), allc AS (SELECT * FROM by_case UNION ALL SELECT * FROM by_window)
        SELECT grp, any_value(person_id),
               list({{'scheme': 'medical', 'claim_id': claim_id}} ORDER BY claim_id),
               sum(reimbursed_amount), any_value(cause), bool_or(by_case)
        FROM allc GROUP BY grp ORDER BY grp
    """,
        {"win": s.injury_window_days},
    ).fetchall()
    for grp, person, refs, medical, cause, by_case in rows:
        findings.append(
            claim_finding(
                "double_claim",
                "third_party_liable_paid_by_medical",
                person,
                refs,
                [
                    ev("double.third_party_case" if by_case else "double.third_party_window", case=grp,
                       cause=cause, medical=float(medical or 0.0))
                ],
                excess=float(medical or 0.0),
                score=1.0 if by_case else 0.8,
            )
        )
    con.close()
    return findings
