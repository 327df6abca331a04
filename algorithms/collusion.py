"""Collusive rings (团伙骗保 / 聚集性就医): patients who visit the same clinic together, again and again.

What it finds: a group of patients, with the institution(s) and doctor(s) where they meet, who
attended the same institution on the same days far more often than chance allows — including
rings that meet on only a handful of days in changing subgroups, sometimes at a second clinic.

How: the co-visit projection (:mod:`algorithms.projections`) links patients by the distinct days
they shared an institution (hub-controlled, with a bonus for days far above the institution's
normal traffic); communities come from Leiden/CPM (:mod:`algorithms.igraph_engine`), which does
not merge small dense groups. Each community is then checked as a group: its *meetings* are the
institution-days a sizable share of its members attended together; members that attended fewer
than ``member_min_meetings`` meetings are dropped (background patients who happened to be there).

Why legitimate cohorts are not reported: their *members* are explained (:mod:`algorithms.member_ties`)
— residents registered at one collective address, chronic patients on a fixed weekday shift, one
household, one employer's staff on its check-up day. The kind of institution explains nothing: a
ring of outsiders meeting at a care home or a dialysis centre on irregular days is reported, and
genuine residents recruited as cover are named apart in its evidence.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from algorithms.cohort_split import keep_cover_only, member_ties
from algorithms.engine import CommunityEngine
from algorithms.member_ties import GroupTies, all_group_ties, prefix_sql
from algorithms.projections import (
    CoVisit,
    DetectionInputs,
    covisit_projection,
    with_optional,
)
from algorithms.results import Member, Ring
from algorithms.scoring import collusion_score
from algorithms.settings import DetectionSettings


def detect_collusion(
    inputs: DetectionInputs,
    settings: DetectionSettings,
    engine: CommunityEngine,
    *,
    covisit: CoVisit | None = None,
    stats: dict[str, Any] | None = None,
) -> list[Ring]:
    """Collusion rings (all candidates, scored; the caller applies the reporting threshold)."""
    s = settings
    cv = covisit or covisit_projection(inputs.claims, s)
    try:
        return _detect(inputs, s, engine, cv, stats)
    finally:
        if covisit is None:  # ours: free the projection's tables before the next detector runs
            cv.con.close()


def _detect(
    inputs: DetectionInputs,
    s: DetectionSettings,
    engine: CommunityEngine,
    cv: CoVisit,
    stats: dict[str, Any] | None,
) -> list[Ring]:
    if stats is not None:
        stats.update(cv.stats)
    if cv.edges.empty:
        return []
    membership = engine.communities(cv.edges, resolution=s.resolution, seed=s.seed)
    m = membership.rename("community").rename_axis("person_id").reset_index()
    m = pd.concat([m, _costly_groups(cv.edges, engine, int(membership.max()) + 1)], ignore_index=True)
    sizes = m.groupby("community")["person_id"].transform("size")
    m = m[sizes >= s.min_ring_patients]
    if stats is not None:
        stats["communities"] = int(membership.nunique())
        stats["candidate_communities"] = int(m["community"].nunique())
    if m.empty:
        return []
    con = cv.con
    # The projection's tables, under the names this module's SQL (and cohort_split's) reads.
    con.register("visits", cv.visits)
    con.register("idays", cv.idays)
    con.register("m_raw", m)
    con.register(
        "persons_raw", with_optional(inputs.persons, ("address", "phone", "birth_date", "employer_id"))
    )
    con.register("inst_raw", with_optional(inputs.institutions, ("kind", "name", "label")))
    con.execute(
        "CREATE OR REPLACE TEMP TABLE m AS SELECT CAST(person_id AS VARCHAR) person_id, "
        "community::BIGINT community FROM m_raw"
    )
    # Meetings: institution-days attended by a sizable share of a community.
    con.execute(
        """
        CREATE OR REPLACE TEMP TABLE att AS
        SELECT m.community, v.institution_id, v.day, v.person_id, v.doctor_id, v.diagnosis_code,
               v.reimbursed_amount, CASE WHEN i.n <= $max THEN '' ELSE v.doctor_id END AS gdoc
        FROM visits v JOIN m USING (person_id) JOIN idays i USING (institution_id, day)
        UNION ALL  -- a hub's costly visitors of the day, whatever their doctor (see projections)
        SELECT m.community, v.institution_id, v.day, v.person_id, v.doctor_id, v.diagnosis_code,
               v.reimbursed_amount, '*'
        FROM visits v JOIN m USING (person_id) JOIN idays i USING (institution_id, day)
        WHERE i.n > $max AND v.costly
    """,
        {"max": s.max_group_size},
    )
    # Two passes: background patients pulled into a community by one shared busy day inflate its
    # size, so meetings are first any institution-day with 3+ members present; members must attend
    # several; then meetings are re-counted against the members that remain.
    con.execute("""
        CREATE OR REPLACE TEMP TABLE pres AS
        SELECT community, institution_id, gdoc, day, count(DISTINCT person_id) AS present
        FROM att GROUP BY ALL
    """)
    con.execute(
        """
        CREATE OR REPLACE TEMP TABLE members AS
        WITH k AS (
            SELECT a.community, a.person_id, count(DISTINCT (a.institution_id, a.gdoc, a.day)) AS attended
            FROM att a JOIN pres p USING (community, institution_id, gdoc, day) WHERE p.present >= 3
            GROUP BY ALL
        )
        SELECT community, person_id, attended
        FROM (SELECT *, max(attended) OVER (PARTITION BY community) AS most FROM k) k
        WHERE attended >= $mm AND attended >= 0.25 * most
    """,
        {"mm": s.member_min_meetings},
    )
    for _ in range(2):
        con.execute("CREATE OR REPLACE TEMP TABLE members_prev AS SELECT * FROM members")
        con.execute(
            """
            CREATE OR REPLACE TEMP TABLE meetings AS
            WITH csize AS (SELECT community, count(*) AS n FROM members_prev GROUP BY ALL),
                 pres AS (SELECT a.community, a.institution_id, a.gdoc, a.day,
                                 count(DISTINCT a.person_id) AS present
                          FROM att a JOIN members_prev USING (community, person_id) GROUP BY ALL)
            SELECT p.community, p.institution_id, p.gdoc, p.day, p.present, i.burst, i.base, i.n AS traffic
            FROM pres p JOIN csize c USING (community) JOIN idays i USING (institution_id, day)
            WHERE p.present >= greatest(3, ceil($share * c.n))
        """,
            {"share": s.meeting_min_share},
        )
        con.execute(
            """
            CREATE OR REPLACE TEMP TABLE members AS
            SELECT a.community, a.person_id, count(DISTINCT (a.institution_id, a.gdoc, a.day)) AS attended
            FROM att a JOIN members_prev USING (community, person_id)
                 JOIN meetings mt USING (community, institution_id, gdoc, day)
            GROUP BY ALL HAVING count(DISTINCT (a.institution_id, a.gdoc, a.day)) >= $mm
        """,
            {"mm": s.member_min_meetings},
        )
    # Recruits seen at a single meeting are still members when that visit was billed far above the
    # institution's usual visit (fictitious services): a bystander's ordinary visit is not. Only for
    # groups that met on a handful of days: a long-running cohort's membership is already settled
    # by attendance, and its many days would collect every costly bystander.
    con.execute("""
        CREATE OR REPLACE TEMP TABLE usual AS
        SELECT institution_id, median(reimbursed_amount) AS usual FROM visits
        WHERE institution_id IN (SELECT institution_id FROM meetings) GROUP BY ALL
    """)
    # "Far above the usual visit" is also read against the group's own bills: at a big hospital
    # many bystanders cost five times its median visit, but not what the ring bills; and an
    # admission is billed for a stay, not a visit, so it never makes a bystander a recruit.
    con.execute(
        """
        CREATE OR REPLACE TEMP TABLE unit_visits AS
        WITH short AS (SELECT community FROM meetings GROUP BY ALL HAVING count(DISTINCT day) < $long),
             units AS (SELECT DISTINCT community, institution_id, gdoc, day FROM meetings
                       WHERE community IN (SELECT community FROM short)),
             core AS (SELECT a.community, median(a.reimbursed_amount) AS core
                      FROM att a JOIN members USING (community, person_id)
                           JOIN meetings USING (community, institution_id, gdoc, day) GROUP BY ALL)
        SELECT u.community, v.institution_id, u.gdoc, v.day, v.person_id, v.doctor_id, v.diagnosis_code,
               v.reimbursed_amount,
               NOT v.inpatient AND v.reimbursed_amount >= $f * usual.usual
               AND v.reimbursed_amount >= 0.5 * core.core AS costly
        FROM units u JOIN visits v ON v.institution_id = u.institution_id AND v.day = u.day
                                   AND (u.gdoc = '' OR v.doctor_id = u.gdoc OR (u.gdoc = '*' AND v.costly))
             JOIN usual ON usual.institution_id = u.institution_id
             JOIN core ON core.community = u.community
    """,
        {"f": s.costly_visit_factor, "long": s.shift_min_days},
    )
    con.execute(
        """
        CREATE OR REPLACE TEMP TABLE members AS
        WITH extra AS (
            SELECT community, person_id, count(DISTINCT (institution_id, gdoc, day)) AS attended
            FROM unit_visits WHERE costly GROUP BY ALL
        ), joined AS (
            SELECT community, person_id, attended, false AS costly_member FROM members
            UNION ALL
            SELECT e.community, e.person_id, e.attended, true
            FROM extra e ANTI JOIN members USING (community, person_id)
        ), ranked AS (
            SELECT *, row_number() OVER (PARTITION BY person_id ORDER BY attended DESC, community) AS pick
            FROM joined
        )
        -- A person belongs to one ring, the community whose meetings they attended most; except
        -- that billed far above the usual visit at several of a short group's meetings, they are
        -- also its member (genuine residents recruited as cover keep their home's cohort too).
        SELECT community, person_id, attended FROM ranked
        WHERE pick = 1 OR (costly_member AND attended >= $mm)
    """,
        {"mm": s.member_min_meetings},
    )
    keep_cover_only(con, s)
    con.execute("""
        CREATE OR REPLACE TEMP TABLE ring_att AS
        SELECT DISTINCT a.community, a.institution_id, a.gdoc, a.day, a.person_id, a.doctor_id,
               a.diagnosis_code, a.reimbursed_amount
        FROM (
            SELECT u.community, u.institution_id, u.gdoc, u.day, u.person_id, u.doctor_id, u.diagnosis_code,
                   u.reimbursed_amount
            FROM unit_visits u
            UNION ALL
            SELECT a.community, a.institution_id, a.gdoc, a.day, a.person_id, a.doctor_id, a.diagnosis_code,
                   a.reimbursed_amount
            FROM att a JOIN meetings USING (community, institution_id, gdoc, day)
        ) a JOIN members USING (community, person_id)
    """)
    groups = con.execute(
        f"""
        WITH mem AS (SELECT community, count(*) AS n_patients, avg(attended) AS mean_attended
                     FROM members GROUP BY ALL HAVING count(*) >= $minp),
             mt AS (SELECT community, count(*) AS meetings, count(DISTINCT day) AS meeting_days,
                           count(*) FILTER (WHERE burst) AS burst_meetings,
                           avg(present) AS mean_present, avg(base) AS mean_base,
                           min(day) AS first_day, max(day) AS last_day
                    FROM meetings GROUP BY ALL),
             dow AS (SELECT community, sum(c) FILTER (WHERE top <= 3) AS top3
                     FROM (SELECT community, c,
                                  row_number() OVER (PARTITION BY community ORDER BY c DESC) AS top
                           FROM (SELECT community, dayofweek(day) AS d, count(DISTINCT day) AS c
                                 FROM meetings GROUP BY ALL) w) t
                     GROUP BY ALL),
             dx AS (SELECT community,
                           avg(CASE WHEN {prefix_sql("diagnosis_code", s.chronic_prefixes)}
                               THEN 1.0 ELSE 0.0 END) AS chronic_share,
                           sum(reimbursed_amount) AS reimbursed,
                           avg(CASE WHEN reimbursed_amount >= $f * usual THEN 1.0 ELSE 0.0 END)
                               AS costly_share,
                           avg(reimbursed_amount) AS per_visit, avg(usual) AS usual_visit
                    FROM ring_att JOIN usual USING (institution_id) GROUP BY ALL),
             addr AS (SELECT community, max(c) AS top_address,
                             coalesce(sum(c) FILTER (WHERE c >= 2), 0) AS kin
                      FROM (SELECT mb.community, p.address, count(*) AS c FROM members mb
                            JOIN persons_raw p ON CAST(p.person_id AS VARCHAR) = mb.person_id
                            WHERE p.address IS NOT NULL AND CAST(p.address AS VARCHAR) <> ''
                            GROUP BY ALL) GROUP BY ALL),
             phone AS (SELECT community, max(c) AS top_phone
                       FROM (SELECT mb.community, p.phone, count(*) AS c FROM members mb
                             JOIN persons_raw p ON CAST(p.person_id AS VARCHAR) = mb.person_id
                             WHERE p.phone IS NOT NULL AND CAST(p.phone AS VARCHAR) <> ''
                             GROUP BY ALL) GROUP BY ALL)
        SELECT mem.*, mt.meetings, mt.meeting_days, mt.burst_meetings, mt.mean_present, mt.mean_base,
               mt.first_day, mt.last_day, dow.top3 AS top3_weekday_days,
               dx.chronic_share, dx.reimbursed, dx.costly_share, dx.per_visit, dx.usual_visit,
               coalesce(addr.top_address, 0) AS top_address, coalesce(addr.kin, 0) AS kin,
               coalesce(phone.top_phone, 0) AS top_phone
        FROM mem JOIN mt USING (community) JOIN dow USING (community) JOIN dx USING (community)
             LEFT JOIN addr USING (community) LEFT JOIN phone USING (community)
    """,
        {"minp": s.min_ring_patients, "f": s.costly_visit_factor},
    ).df()
    if groups.empty:
        return []
    insts = con.execute("""
        SELECT mt.community, mt.institution_id, count(*) AS meetings,
               coalesce(any_value(i.label), 'Institution') AS label, any_value(i.name) AS name,
               any_value(i.kind) AS kind
        FROM meetings mt LEFT JOIN inst_raw i ON CAST(i.institution_id AS VARCHAR) = mt.institution_id
        WHERE mt.community IN (SELECT community FROM members)
        GROUP BY ALL ORDER BY mt.community, meetings DESC, mt.institution_id
    """).df()
    doctors = con.execute("""
        SELECT community, doctor_id, count(*) AS visits
        FROM ring_att WHERE doctor_id <> '' GROUP BY ALL ORDER BY community, visits DESC, doctor_id
    """).df()
    patients = con.execute("SELECT community, person_id FROM members ORDER BY community, person_id").df()
    ties = member_ties(con, s)
    return _build_rings(groups, insts, doctors, patients, ties, s)


def _costly_groups(edges: pd.DataFrame, engine: CommunityEngine, first: int) -> pd.DataFrame:
    """Second candidates: persons billed far above the usual visit together on two days or more.

    A small ring at a quiet clinic can be split by the communities when one of its meetings fell
    on a busy day (its members then sit with that day's strangers). Pairs that shared two costly
    days are rare among bystanders; their connected components are checked as groups too (a
    person may be in both; the group check keeps each in the ring whose meetings they attended
    most).
    """
    costly = edges[edges["costly_days"] >= 2]
    if costly.empty:
        return pd.DataFrame({"person_id": pd.Series(dtype="object"), "community": pd.Series(dtype="int64")})
    comp = engine.components(costly[["src", "dst", "weight"]])
    codes = pd.factorize(comp)[0] + first
    return pd.DataFrame({"person_id": comp.index.astype(str), "community": codes})


def _build_rings(
    groups: pd.DataFrame,
    insts: pd.DataFrame,
    doctors: pd.DataFrame,
    patients: pd.DataFrame,
    ties: pd.DataFrame,
    s: DetectionSettings,
) -> list[Ring]:
    insts_by: dict[Any, pd.DataFrame] = {k: v for k, v in insts.groupby("community")}
    docs_by: dict[Any, pd.DataFrame] = {k: v for k, v in doctors.groupby("community")}
    pats_by: dict[Any, pd.DataFrame] = {k: v for k, v in patients.groupby("community")}
    meeting_days = {
        c: (int(d) if bool((insts_by.get(c, insts.iloc[0:0])["meetings"] >= 2).any()) else 1)
        for c, d in zip(groups["community"], groups["meeting_days"], strict=True)
    }
    ties_by = all_group_ties(ties, meeting_days, s)
    rings: list[Ring] = []
    records: list[dict[str, Any]] = groups.to_dict("records")  # type: ignore[assignment]
    for row in records:
        g = _Row(row)
        c = g.community
        ci = insts_by.get(c, insts.iloc[0:0])
        # A ring's institutions: where it met repeatedly (a one-off meeting elsewhere is noise).
        keep_i = ci[ci["meetings"] >= min(2, int(ci["meetings"].max()))]
        cd = docs_by.get(c, doctors.iloc[0:0])
        total_visits = float(cd["visits"].sum()) or 1.0
        keep_d = cd[(cd["visits"] >= 2) & (cd["visits"] >= 0.1 * total_visits)]
        main = keep_i.iloc[0]
        n = int(g.n_patients)
        # Without an institution it met at twice, a group of one-off encounters is not a ring.
        repeated = bool((ci["meetings"] >= 2).any())
        features: dict[str, Any] = {
            "n_patients": n,
            "meetings": int(g.meetings),
            "meeting_days": int(g.meeting_days) if repeated else 1,
            "burst_meetings": int(g.burst_meetings),
            "mean_present": float(g.mean_present),
            "mean_base": float(g.mean_base),
            "attendance": float(g.mean_attended) / max(int(g.meetings), 1),
            "span_days": int((pd.Timestamp(g.last_day) - pd.Timestamp(g.first_day)).days),
            "weekday_share": float(g.top3_weekday_days) / max(int(g.meeting_days), 1),
            "chronic_share": float(g.chronic_share),
            "address_share": float(g.top_address) / n,
            "kin_share": float(g.kin) / n,
            "phone_share": float(g.top_phone) / n,
            "reimbursed": float(g.reimbursed),
            "costly_share": float(g.costly_share),
            "per_visit": float(g.per_visit),
            "usual_visit": float(g.usual_visit),
            "main_institution": str(main["institution_id"]),
            "main_institution_name": str(main["name"]) if isinstance(main["name"], str) else "",
            "main_kind": str(main["kind"]) if isinstance(main["kind"], str) else "",
            "main_meetings": int(main["meetings"]),
            "institutions": len(keep_i),
            "first_day": str(pd.Timestamp(g.first_day).date()),
            "last_day": str(pd.Timestamp(g.last_day).date()),
        }
        gt: GroupTies = ties_by[c]
        features.update(
            units=gt.n_units,
            unexplained=gt.unexplained,
            **{f"{t}_members": gt.count(t) for t in ("resident", "shift", "household", "colleague")},
        )
        score, evidence = collusion_score(features, gt, s)
        members = [Member(type="Patient", id=str(p)) for p in pats_by[c]["person_id"]]
        members += [
            Member(type=str(label), id=str(iid))
            for label, iid in zip(keep_i["label"], keep_i["institution_id"], strict=True)
        ]
        members += [Member(type="Doctor", id=str(d)) for d in keep_d["doctor_id"]]
        rings.append(
            Ring(
                kind="collusion", score=round(score, 4), members=members, evidence=evidence, features=features
            )
        )
    return _distinct(rings)


def _distinct(rings: list[Ring]) -> list[Ring]:
    """One ring per organisation: a candidate whose patients are mostly in a larger one is dropped.

    The same ring can surface twice (as a community and as a costly-visit group, with the residents
    it recruited as cover in one of them); the larger candidate carries it.
    """
    kept: list[Ring] = []
    seen: dict[str, int] = {}
    for ring in sorted(rings, key=lambda r: (-len(r.patient_ids), -r.score)):
        patients = ring.patient_ids
        overlap: dict[int, int] = {}
        for p in patients:
            if p in seen:
                overlap[seen[p]] = overlap.get(seen[p], 0) + 1
        if overlap and max(overlap.values()) >= 0.5 * len(patients):
            continue
        for p in patients:
            seen.setdefault(p, len(kept))
        kept.append(ring)
    kept.sort(key=lambda r: (-r.score, -len(r.members)))
    return kept


class _Row:
    """Attribute access to one result row (values typed Any: they come from SQL)."""

    def __init__(self, values: dict[str, Any]) -> None:
        self._values = values

    def __getattr__(self, name: str) -> Any:
        try:
            return self._values[name]
        except KeyError:
            raise AttributeError(name) from None
