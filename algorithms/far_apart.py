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

import igraph as ig
import numpy as np
import pandas as pd

from algorithms.claim_findings import claim_finding
from algorithms.evidence import ev
from algorithms.projections import CLAIM_COLUMNS, Frame, connect, ensure_claim_key, with_optional
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
    places = con.execute("SELECT institution_id, lat, lon FROM places ORDER BY institution_id").df()
    minor = _minor_places(places, s.far_apart_km)
    # Narrow first to the persons who could have a far pair: with compact zones (below), those with
    # a claim outside the main zone; otherwise every person. Cheap over millions of claims.
    narrow = "TRUE"
    if minor is not None:
        con.register("minor_raw", pd.DataFrame({"institution_id": minor}))
        narrow = """CAST(person_id AS VARCHAR) IN (
            SELECT DISTINCT CAST(person_id AS VARCHAR) FROM claims_raw
            WHERE CAST(institution_id AS VARCHAR) IN (SELECT institution_id FROM minor_raw))"""
    con.execute(
        f"""
        CREATE TEMP TABLE presence AS
        WITH c AS (
            SELECT CAST(person_id AS VARCHAR) AS person_id, CAST(institution_id AS VARCHAR) AS institution_id,
                   CAST(start_date AS DATE) AS s, CAST(end_date AS DATE) AS e,
                   CAST(visit_type AS VARCHAR) AS visit_type, CAST(scheme AS VARCHAR) AS scheme,
                   CAST(claim_id AS VARCHAR) AS claim_id
            FROM claims_raw WHERE {narrow}
        ), p AS (
            SELECT person_id, institution_id, s AS d, scheme, claim_id,
                   visit_type = 'inpatient' AS admission, false AS discharge
            FROM c WHERE s IS NOT NULL
            UNION ALL
            SELECT person_id, institution_id, e, scheme, claim_id, false, true
            FROM c WHERE visit_type = 'inpatient' AND e > s
        ), wide AS (  -- two places are at most R x (|dlat| + |dlon|) apart: narrow boxes hold no far pair
            SELECT p.person_id, p.d FROM p JOIN places USING (institution_id) GROUP BY ALL
            HAVING 6371 * radians(max(lat) - min(lat) + max(lon) - min(lon)) > $km
        )
        SELECT p.* FROM p SEMI JOIN wide USING (person_id, d)
    """,
        {"km": s.far_apart_km},
    )
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
        where = list(dict.fromkeys(str(n) for n in names))
        findings.append(
            claim_finding(
                "anomaly",
                "same_day_far_apart",
                person,
                refs,
                [
                    ev("care.far_apart_day" if first == last else "care.far_apart", days=days,
                       first_day=first, last_day=last, km=float(km), places=where, limit_km=s.far_apart_km),
                ],
                score=1.0 if int(days) >= 2 else 0.8,
            )
        )
    return findings


MAX_ZONED_PLACES = 5_000  # the zone check compares every pair of institutions


def _minor_places(places: pd.DataFrame, km: float) -> list[str] | None:
    """Institutions outside the main zone, or None when zones do not settle it.

    Zones: institutions linked when within ``km`` of each other (connected components). When no
    zone is wider than ``km``, a far pair always spans two zones, so one of its claims lies
    outside the zone with the most institutions — a city's own institutions are one zone, its
    异地 ones others. A zone wider than ``km`` (a sprawling region) leaves every person in play.
    """
    n = len(places)
    if n < 2 or n > MAX_ZONED_PLACES:
        return None
    lat = np.radians(places["lat"].to_numpy(dtype=float))
    lon = np.radians(places["lon"].to_numpy(dtype=float))
    h = (
        np.sin((lat[:, None] - lat[None, :]) / 2) ** 2
        + np.cos(lat[:, None]) * np.cos(lat[None, :]) * np.sin((lon[:, None] - lon[None, :]) / 2) ** 2
    )
    dist = 2 * 6371 * np.arcsin(np.sqrt(np.clip(h, 0.0, 1.0)))
    i, j = np.nonzero(np.triu(dist <= km, 1))
    zone = np.asarray(
        ig.Graph(n=n, edges=list(zip(i.tolist(), j.tolist(), strict=True))).connected_components().membership
    )
    if (dist[zone[:, None] == zone[None, :]] > km).any():
        return None
    main = np.bincount(zone).argmax()
    return [str(x) for x in places["institution_id"].to_numpy()[zone != main]]
