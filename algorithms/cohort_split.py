"""Splitting a ring of outsiders from the cohort it met among, over the collusion detector's tables.

Both functions read and rewrite the temp tables of :func:`algorithms.collusion.detect_collusion`'s
connection (``visits``, ``meetings``, ``members``, ``att``, ``unit_visits``, ``usual``, ``idays``,
``persons_raw``): :func:`member_ties` reads each member's own ties (address, employer, a chronic
weekday shift at a place where the group met); :func:`keep_cover_only` keeps, of a cohort that a
ring of outsiders met among, only the members recruited as cover.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from algorithms.member_ties import all_group_ties, prefix_sql
from algorithms.settings import DetectionSettings
from algorithms.sql_engine import SqlConnection


def keep_cover_only(con: SqlConnection, s: DetectionSettings) -> None:
    """Split a ring of outsiders from the cohort it met among (a care home, a dialysis shift).

    Where a community holds at least ``min_ring_patients`` unexplained members (no member tie,
    :mod:`algorithms.member_ties`) besides explained ones, the explained members stay only if they
    were billed far above the usual visit at ``member_min_meetings`` of the outsiders' own meetings
    — residents recruited as cover, not residents at their routine check-up that day;
    the rest of the cohort is not part of the ring. The community's meetings are then re-counted
    over the members that remain, so the ring's evidence describes the ring, not the home.
    """
    ties = member_ties(con, s)
    if ties.empty:
        return
    days = dict(con.execute("SELECT community, count(DISTINCT day) FROM meetings GROUP BY ALL").fetchall())
    rows: list[tuple[Any, str]] = []
    for c, gt in all_group_ties(ties, days, s).items():
        if gt.ties and gt.unexplained >= s.min_ring_patients:
            rows.extend((c, p) for p in gt.ties)
    if not rows:
        return
    con.register("explained_raw", pd.DataFrame(rows, columns=["community", "person_id"]))
    con.execute(
        """
        CREATE OR REPLACE TEMP TABLE explained AS
        SELECT community::BIGINT AS community, CAST(person_id AS VARCHAR) AS person_id FROM explained_raw
    """
    )
    con.execute(
        """
        CREATE OR REPLACE TEMP TABLE split_pres AS
        SELECT x.community, x.institution_id, x.gdoc, x.day, x.person_id,
               bool_or(x.reimbursed_amount >= $f * usual.usual) AS costly
        FROM (
            SELECT community, institution_id, gdoc, day, person_id, reimbursed_amount FROM att
            UNION ALL SELECT community, institution_id, gdoc, day, person_id, reimbursed_amount
            FROM unit_visits WHERE costly
        ) x JOIN members USING (community, person_id) JOIN usual USING (institution_id)
        WHERE x.community IN (SELECT community FROM explained)
        GROUP BY ALL
    """,
        {"f": s.costly_visit_factor},
    )
    con.execute(
        """
        CREATE OR REPLACE TEMP TABLE members AS
        WITH unexp AS (SELECT m.community, m.person_id FROM members m
                       ANTI JOIN explained e USING (community, person_id)
                       WHERE m.community IN (SELECT community FROM explained)),
             nun AS (SELECT community, count(*) AS n FROM unexp GROUP BY ALL),
             om AS (SELECT p.community, p.institution_id, p.gdoc, p.day
                    FROM split_pres p JOIN unexp USING (community, person_id) JOIN nun USING (community)
                    GROUP BY ALL
                    HAVING count(DISTINCT p.person_id) >= greatest(3, ceil($share * any_value(nun.n)))),
             cover AS (SELECT p.community, p.person_id
                       FROM split_pres p JOIN explained USING (community, person_id)
                            JOIN om USING (community, institution_id, gdoc, day)
                       WHERE p.costly
                       GROUP BY ALL HAVING count(DISTINCT (p.institution_id, p.gdoc, p.day)) >= $mm)
        SELECT m.* FROM members m ANTI JOIN explained USING (community, person_id)
        UNION ALL
        SELECT m.* FROM members m SEMI JOIN cover USING (community, person_id)
    """,
        {"share": s.meeting_min_share, "mm": s.member_min_meetings},
    )
    con.execute(
        """
        CREATE OR REPLACE TEMP TABLE meetings AS
        WITH split AS (SELECT DISTINCT community FROM explained),
             csize AS (SELECT community, count(*) AS n FROM members
                       WHERE community IN (SELECT community FROM split) GROUP BY ALL),
             pres AS (SELECT p.community, p.institution_id, p.gdoc, p.day,
                             count(DISTINCT p.person_id) AS present
                      FROM split_pres p JOIN members USING (community, person_id) GROUP BY ALL),
             redone AS (SELECT p.community, p.institution_id, p.gdoc, p.day, p.present, i.burst, i.base,
                               i.n AS traffic
                        FROM pres p JOIN csize c USING (community) JOIN idays i USING (institution_id, day)
                        WHERE p.present >= greatest(3, ceil($share * c.n)))
        SELECT * FROM meetings WHERE community NOT IN (SELECT community FROM split)
        UNION ALL SELECT * FROM redone
    """,
        {"share": s.meeting_min_share},
    )


def member_ties(con: SqlConnection, s: DetectionSettings) -> pd.DataFrame:
    """Per member: registered address, employer, and the place of a chronic weekday shift (if any).

    A shift is read from the member's own visits to a place where the group met: at least
    ``shift_min_days`` days, mostly chronic-care diagnoses, on a fixed few weekdays.
    """
    return con.execute(
        f"""
        WITH places AS (SELECT DISTINCT community, institution_id FROM meetings),
             pv AS (
                SELECT mb.community, v.person_id, v.institution_id, v.day,
                       {prefix_sql("v.diagnosis_code", s.chronic_prefixes)} AS chronic
                FROM visits v JOIN members mb USING (person_id)
                     JOIN places pl ON pl.community = mb.community AND pl.institution_id = v.institution_id
             ),
             per_dow AS (
                SELECT community, person_id, institution_id, dayofweek(day) AS d, count(DISTINCT day) AS c
                FROM pv GROUP BY ALL
             ),
             dow AS (
                SELECT community, person_id, institution_id, sum(c) AS days,
                       coalesce(sum(c) FILTER (WHERE top <= 3), 0) AS top3,
                       coalesce(sum(c) FILTER (WHERE top <= 5), 0) AS top5
                FROM (SELECT *, row_number() OVER (PARTITION BY community, person_id, institution_id
                                                   ORDER BY c DESC) AS top
                      FROM per_dow) ranked
                GROUP BY ALL
             ),
             chronic AS (
                SELECT community, person_id, institution_id,
                       avg(CASE WHEN chronic THEN 1.0 ELSE 0.0 END) AS share
                FROM pv GROUP BY ALL
             ),
             shift AS (
                SELECT d.community, d.person_id, min(d.institution_id) AS shift_inst
                FROM dow d JOIN chronic c USING (community, person_id, institution_id)
                WHERE d.days >= $days AND c.share >= 0.5
                      AND (d.top3 >= $wk * d.days OR d.top5 >= 0.95 * d.days)
                GROUP BY ALL
             )
        , mp AS (
            SELECT mb.community, mb.person_id, NULLIF(CAST(p.address AS VARCHAR), '') AS address,
                   NULLIF(CAST(p.employer_id AS VARCHAR), '') AS employer
            FROM members mb LEFT JOIN persons_raw p ON CAST(p.person_id AS VARCHAR) = mb.person_id
        ), registered AS (  -- persons registered at each member's address, in the whole city
            SELECT CAST(address AS VARCHAR) AS address, count(*) AS address_persons FROM persons_raw
            WHERE CAST(address AS VARCHAR) IN (SELECT address FROM mp) GROUP BY ALL
        )
        SELECT mp.community, mp.person_id, mp.address, mp.employer, shift.shift_inst,
               coalesce(registered.address_persons, 0) AS address_persons
        FROM mp LEFT JOIN registered USING (address)
             LEFT JOIN shift ON shift.community = mp.community AND shift.person_id = mp.person_id
        ORDER BY mp.community, mp.person_id
    """,
        {"days": s.shift_min_days, "wk": s.shift_weekday_share},
    ).df()
