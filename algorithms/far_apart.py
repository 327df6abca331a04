"""Same-day claims too far apart to travel between (冒名就医): one card used in two places at once.

What it finds: a person with claims on one day at two institutions farther apart than
``far_apart_km`` (``MEDFRAUD_DETECT_FAR_APART_KM``, 300 km: farther than a patient can plausibly
travel and be seen at both on one day), measured great-circle between the institutions'
coordinates (the optional ``latitude``/``longitude`` columns of the institutions table;
institutions without them are never compared). A person is *at* an institution on the day a
claim starts there (a visit, a purchase, an admission) and on the discharge day of a stay.

Lawful look-alike: a transfer between them — discharged from one hospital and admitted to the
other on the same day (an ambulance or a referral) is not reported, however far, nor is anything
else that person claimed that day (they did travel between the two cities). One finding per
person with every claim of every such day; score 0.8 for one day, 1.0 for two or more.
"""

from __future__ import annotations

from algorithms.claim_findings import claim_finding
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


def detect_far_apart(claims: Frame, institutions: Frame, settings: DetectionSettings) -> list[Finding]:
    s = settings
    con = connect()
    con.register("claims_raw", with_optional(ensure_claim_key(claims), CLAIM_COLUMNS))
    con.register("inst_raw", with_optional(institutions, ("name", "latitude", "longitude")))
    con.execute("""
        CREATE TEMP TABLE places AS
        SELECT CAST(institution_id AS VARCHAR) AS institution_id, any_value(CAST(name AS VARCHAR)) AS name,
               any_value(TRY_CAST(latitude AS DOUBLE)) AS lat, any_value(TRY_CAST(longitude AS DOUBLE)) AS lon
        FROM inst_raw
        WHERE TRY_CAST(latitude AS DOUBLE) IS NOT NULL AND TRY_CAST(longitude AS DOUBLE) IS NOT NULL
        GROUP BY ALL
    """)
    # Only persons at two located institutions on one day can have a finding: narrow to them first.
    con.execute(f"""
        CREATE TEMP TABLE located AS
        {claims_view_sql(where="CAST(institution_id AS VARCHAR) IN (SELECT institution_id FROM places)")}
    """)
    con.execute("""
        CREATE TEMP TABLE presence AS
        WITH p AS (
            SELECT person_id, institution_id, start_date AS d, scheme, claim_id,
                   visit_type = 'inpatient' AS admission, false AS discharge
            FROM located WHERE start_date IS NOT NULL
            UNION ALL
            SELECT person_id, institution_id, end_date, scheme, claim_id, false, true
            FROM located WHERE visit_type = 'inpatient' AND end_date > start_date
        ), busy AS (SELECT person_id, d FROM p GROUP BY ALL HAVING count(DISTINCT institution_id) >= 2)
        SELECT p.* FROM p SEMI JOIN busy USING (person_id, d)
    """)
    rows = con.execute(
        """
        WITH pairs AS (
            SELECT a.person_id, a.d, a.institution_id AS ia, b.institution_id AS ib,
                   a.scheme AS sa, a.claim_id AS ca, b.scheme AS sb, b.claim_id AS cb,
                   2 * 6371 * asin(sqrt(
                       pow(sin(radians(pb.lat - pa.lat) / 2), 2)
                       + cos(radians(pa.lat)) * cos(radians(pb.lat))
                         * pow(sin(radians(pb.lon - pa.lon) / 2), 2)
                   )) AS km,
                   (a.discharge AND b.admission) OR (b.discharge AND a.admission) AS transfer
            FROM presence a JOIN presence b ON a.person_id = b.person_id AND a.d = b.d
                 AND a.institution_id < b.institution_id
                 JOIN places pa ON pa.institution_id = a.institution_id
                 JOIN places pb ON pb.institution_id = b.institution_id
        ), far AS (
            -- a transfer explains the whole day: the person did travel between the two cities
            SELECT * FROM pairs WHERE km > $km
            QUALIFY NOT bool_or(transfer) OVER (PARTITION BY person_id, d)
        )
        SELECT f.person_id, count(DISTINCT f.d), max(f.km), min(f.d), max(f.d),
               list(DISTINCT {'scheme': f.sa, 'claim_id': f.ca})
                   || list(DISTINCT {'scheme': f.sb, 'claim_id': f.cb}),
               list(DISTINCT pa.name ORDER BY pa.name) || list(DISTINCT pb.name ORDER BY pb.name)
        FROM far f JOIN places pa ON pa.institution_id = f.ia JOIN places pb ON pb.institution_id = f.ib
        GROUP BY f.person_id ORDER BY f.person_id
    """,
        {"km": s.far_apart_km},
    ).fetchall()
    con.close()
    findings: list[Finding] = []
    for person, days, km, first, last, refs, names in rows:
        where = "、".join(dict.fromkeys(str(n) for n in names))
        when = f"{first}" if first == last else f"{first} 至 {last}"
        findings.append(
            claim_finding(
                "anomaly",
                "same_day_far_apart",
                person,
                refs,
                [
                    f"{days} 天（{when}）同一天在相距约 {float(km):,.0f} 公里的机构（{where}）就诊或购药，"
                    f"超出当天可往返的距离（{s.far_apart_km:g} 公里）：疑为冒名就医（他人持卡）",
                ],
                score=1.0 if int(days) >= 2 else 0.8,
            )
        )
    return findings
