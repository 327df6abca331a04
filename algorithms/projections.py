"""Columnar inputs and projections of detection, computed in DuckDB over Arrow tables.

Detection never walks the graph node by node: it streams the few node labels it needs from the
store port (:func:`load_inputs`) and derives every projection with set-based SQL. The co-visit
projection (:func:`covisit_projection`) is the heart of collusion detection:

- a *visit* is a distinct (person, institution, doctor, day) of a non-pharmacy claim;
- persons who visit the same institution on the same day form a *group*; an institution-day
  with more than ``max_group_size`` visitors (a big hospital's outpatient hall) is split into
  doctor-days, and doctor-days still that large are dropped — the hub control that keeps large
  hospitals from gluing the city together; the hub's visitors billed far above its usual visit
  that day form one more group (a ring spreads its visits over its doctors);
- a day is a *burst* when its attendance is far above the institution's normal (median) day: a
  recruited group visiting together shows up there even when it meets on only a few days; at a
  quiet clinic (two visitors a day) a group of four is one when three of them were billed far
  above the clinic's usual visit;
- the weight of a patient pair is the number of distinct days they shared a group plus a bonus
  per shared burst day and per shared day on which both were billed far above the institution's
  usual visit (fictitious services bind a ring's members, not them to bystanders); pairs need
  ``min_pair_days`` shared days or one burst to count.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, TypeAlias

import duckdb
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from algorithms.settings import DetectionSettings
from algorithms.sql_engine import SqlConnection
from algorithms.sql_engine import connect as _engine_connect
from graph.port import GraphStore

Frame: TypeAlias = pd.DataFrame | pa.Table

# What the detectors read of a person (a person's name is not among it: evidence shows masked ids;
# on Neo4j each property read costs the server, ~2.4 s per 200,000 persons for the 8 columns).
PERSON_COLUMNS = (
    "person_id",
    "birth_date",
    "phone",
    "address",
    "bank_account",
    "employer_id",
    "death_date",
)
INSTITUTION_COLUMNS = ("institution_id", "name", "kind", "ownership", "level", "latitude", "longitude")
DOCTOR_COLUMNS = ("doctor_id", "name", "institution_id")
CLAIM_COLUMNS = (
    "claim_key",
    "claim_id",
    "scheme",
    "person_id",
    "institution_id",
    "doctor_id",
    "visit_type",
    "start_date",
    "end_date",
    "diagnosis_code",
    "total_amount",
    "reimbursed_amount",
    "injury_case_id",
)
INJURY_COLUMNS = (
    "injury_case_id",
    "person_id",
    "injury_date",
    "cause",
    "third_party_liable",
    "employer_id",
    "reported_to",
)


@dataclass
class DetectionInputs:
    """The tables detection reads, as Arrow tables (pandas frames are accepted by every detector)."""

    persons: Frame
    institutions: Frame
    doctors: Frame
    claims: Frame
    injury_cases: Frame


def _stream(store: GraphStore, label: str, columns: tuple[str, ...]) -> pa.Table:
    batches = list(store.stream_nodes(label, list(columns)))
    if batches:
        return pa.Table.from_batches(batches)
    return pa.table({c: pa.array([], type=pa.string()) for c in columns})


# A claim's key is "<scheme>:<claim_id>" (graph/model.py; schemes hold no ':'), so the two are
# taken from the key instead of read again: on Neo4j every property read costs the server about
# the same, and these were 2 of the 13 columns of the largest label.
_CLAIM_FROM_KEY = ("scheme", "claim_id")


def _claims(store: GraphStore) -> pa.Table:
    """The claims with ``CLAIM_COLUMNS``, ``scheme`` and ``claim_id`` split off ``claim_key``."""
    stored = tuple(c for c in CLAIM_COLUMNS if c not in _CLAIM_FROM_KEY)
    table = _stream(store, "Claim", stored)
    keys = table.column("claim_key").cast(pa.string())
    if pc.any(pc.invert(pc.match_substring(keys, ":"))).as_py():
        return _stream(store, "Claim", CLAIM_COLUMNS)  # a key not of the model's form: read them
    parts = pc.split_pattern(keys, ":", max_splits=1)
    derived = {"scheme": pc.list_element(parts, 0), "claim_id": pc.list_element(parts, 1)}
    return pa.table({c: derived[c] if c in derived else table.column(c) for c in CLAIM_COLUMNS})


def load_inputs(store: GraphStore) -> DetectionInputs:
    """Stream the labels detection needs from the store into Arrow tables.

    The claims (by far the largest label) are read on a second thread while the other labels are
    read: on Neo4j the server answers both at once and the pages of one are converted while the
    other's travel.
    """
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="detect-claims") as pool:
        claims = pool.submit(_claims, store)
        institutions = _institutions(store)
        persons = _stream(store, "Patient", PERSON_COLUMNS)
        doctors = _stream(store, "Doctor", DOCTOR_COLUMNS)
        injury_cases = _stream(store, "InjuryCase", INJURY_COLUMNS)
        return DetectionInputs(persons=persons, institutions=institutions, doctors=doctors,
                               claims=claims.result(), injury_cases=injury_cases)


def _institutions(store: GraphStore) -> pa.Table:
    """Institutions and pharmacies in one table, with their label."""
    institutions = _stream(store, "Institution", INSTITUTION_COLUMNS)
    pharmacies = _stream(store, "Pharmacy", INSTITUTION_COLUMNS)
    con = duckdb.connect(":memory:")
    con.register("i1", institutions)
    con.register("i2", pharmacies)
    cols = (
        "CAST(institution_id AS VARCHAR) institution_id, CAST(name AS VARCHAR) name, "
        "CAST(kind AS VARCHAR) kind, CAST(ownership AS VARCHAR) ownership, "
        "TRY_CAST(latitude AS DOUBLE) latitude, TRY_CAST(longitude AS DOUBLE) longitude"
    )
    both = con.sql(
        f"SELECT {cols}, 'Institution' AS label FROM i1 UNION ALL SELECT {cols}, 'Pharmacy' FROM i2"
    ).to_arrow_table()
    con.close()
    return both


def connect(threads: int | None = None) -> SqlConnection:
    """A connection of the detection SQL engine (:mod:`algorithms.sql_engine`; DuckDB by default)."""
    return _engine_connect(threads)


def claims_view_sql(source: str = "claims_raw", where: str = "TRUE") -> str:
    """Normalise claim columns (types differ between stores and hand-made test frames)."""
    return f"""
        SELECT CAST(claim_key AS VARCHAR) AS claim_key, CAST(claim_id AS VARCHAR) AS claim_id,
               CAST(scheme AS VARCHAR) AS scheme, CAST(person_id AS VARCHAR) AS person_id,
               CAST(institution_id AS VARCHAR) AS institution_id,
               NULLIF(CAST(doctor_id AS VARCHAR), '') AS doctor_id,
               CAST(visit_type AS VARCHAR) AS visit_type,
               CAST(start_date AS DATE) AS start_date, CAST(end_date AS DATE) AS end_date,
               NULLIF(CAST(diagnosis_code AS VARCHAR), '') AS diagnosis_code,
               CAST(total_amount AS DOUBLE) AS total_amount,
               CAST(reimbursed_amount AS DOUBLE) AS reimbursed_amount,
               NULLIF(CAST(injury_case_id AS VARCHAR), '') AS injury_case_id
        FROM {source} WHERE {where}
    """


def ensure_claim_key(frame: Frame) -> Frame:
    """Hand-made frames may omit ``claim_key``; derive it the way the loader does."""
    cols = frame.column_names if isinstance(frame, pa.Table) else list(frame.columns)
    if "claim_key" in cols:
        return frame
    df = frame.to_pandas() if isinstance(frame, pa.Table) else frame.copy()
    df["claim_key"] = df["scheme"].astype(str) + ":" + df["claim_id"].astype(str)
    return df


def with_optional(frame: Frame, columns: tuple[str, ...]) -> Frame:
    """Add missing optional columns as nulls so SQL can name them."""
    cols = frame.column_names if isinstance(frame, pa.Table) else list(frame.columns)
    missing = [c for c in columns if c not in cols]
    if not missing:
        return frame
    if isinstance(frame, pa.Table):
        for c in missing:
            frame = frame.append_column(c, pa.nulls(frame.num_rows, type=pa.string()))
        return frame
    df = frame.copy()
    for c in missing:
        df[c] = pd.Series([None] * len(df), dtype="object")
    return df


@dataclass
class CoVisit:
    """The co-visit projection and the tables collusion scoring reuses.

    ``edges``: src, dst (person ids), weight, days, burst_days, costly_days.
    ``visits`` (person_id, institution_id, doctor_id, day, diagnosis_code, reimbursed_amount,
    inpatient, costly) and ``idays`` (institution_id, day, n, base, burst, iday) are tables of
    ``con`` (a DuckDB relation, a Spark DataFrame) handed over as values: a reader binds them to
    the names its own SQL uses with ``con.register``, no name is shared across modules.
    """

    con: SqlConnection
    edges: pd.DataFrame
    stats: dict[str, Any]
    visits: object
    idays: object


def covisit_projection(claims: Frame, settings: DetectionSettings, *, threads: int | None = None) -> CoVisit:
    """Build the weighted patient-patient co-visit projection (see the module docstring)."""
    s = settings
    con = connect(threads)
    con.register("claims_raw", with_optional(ensure_claim_key(claims), CLAIM_COLUMNS))
    con.execute(f"CREATE TEMP VIEW claims AS {claims_view_sql()}")
    con.execute("""
        CREATE TEMP TABLE cv_visits_base AS
        SELECT person_id, institution_id, coalesce(doctor_id, '') AS doctor_id, start_date AS day,
               min(diagnosis_code) AS diagnosis_code, sum(reimbursed_amount) AS reimbursed_amount,
               bool_or(visit_type = 'inpatient') AS inpatient
        FROM claims WHERE visit_type <> 'pharmacy' AND start_date IS NOT NULL
        GROUP BY ALL
    """)
    con.execute(
        "CREATE TEMP TABLE usual_visit AS "
        "SELECT institution_id, median(reimbursed_amount) AS usual FROM cv_visits_base GROUP BY ALL"
    )
    # A costly visit is billed far above the institution's usual (median) visit; a stay is not a
    # visit. A view, not a copy: the join with a few hundred institutions is cheap where it is read.
    con.execute(
        f"""
        CREATE TEMP VIEW cv_visits AS
        SELECT v.*,
               NOT v.inpatient AND v.reimbursed_amount >= {float(s.costly_visit_factor)} * u.usual AS costly
        FROM cv_visits_base v JOIN usual_visit u USING (institution_id)
    """
    )
    con.execute(
        """
        CREATE TEMP TABLE cv_idays AS
        WITH u AS (SELECT * FROM usual_visit),
             d AS (SELECT v.institution_id, v.day, count(DISTINCT v.person_id) AS n,
                          count(DISTINCT v.person_id) FILTER (WHERE v.costly) AS costly
                   FROM cv_visits v JOIN u USING (institution_id) GROUP BY ALL),
             b AS (SELECT institution_id, median(n) AS base FROM d GROUP BY ALL)
        SELECT d.institution_id, d.day, d.n, b.base,
               (d.n >= $f * b.base AND (d.n - b.base >= $e OR d.costly >= 3)) AS burst,
               row_number() OVER (ORDER BY d.institution_id, d.day) AS iday
        FROM d JOIN b USING (institution_id)
    """,
        {"f": s.burst_factor, "e": s.burst_min_excess},
    )
    con.execute("""
        CREATE TEMP TABLE pidx AS
        SELECT person_id, (row_number() OVER (ORDER BY person_id))::INTEGER AS pid
        FROM (SELECT DISTINCT person_id FROM cv_visits)
    """)
    # A pair needs min_pair_days shared days at one institution unless a burst links it, so a
    # person's visits to an institution they saw only once can only matter on burst days.
    con.execute(
        """
        CREATE TEMP TABLE groups AS
        WITH pd AS (
            SELECT person_id, institution_id, count(DISTINCT day) AS pdays FROM cv_visits GROUP BY ALL
        ), g AS (
            SELECT p.pid, i.iday, i.burst,
                   CASE WHEN i.n <= $max THEN '' ELSE v.doctor_id END AS gdoc, pd.pdays,
                   pd.pdays >= $reg AS regular, bool_or(v.costly) AS costly
            FROM cv_visits v JOIN cv_idays i USING (institution_id, day) JOIN pidx p USING (person_id)
                 JOIN pd USING (person_id, institution_id)
            WHERE i.n >= 2 AND (i.n <= $max OR v.doctor_id <> '')
            GROUP BY ALL
            UNION ALL
            -- at a hub, the visitors billed far above its usual visit that day are one group
            -- whatever doctor they saw (a ring shares its visits among its doctors)
            SELECT DISTINCT p.pid, i.iday, i.burst, '*', pd.pdays, pd.pdays >= $reg, true
            FROM cv_visits v JOIN cv_idays i USING (institution_id, day) JOIN pidx p USING (person_id)
                 JOIN pd USING (person_id, institution_id)
            WHERE i.n > $max AND v.costly
        ), sized AS (
            SELECT pid, iday, burst, gdoc, pdays, regular, costly,
                   count(*) OVER (PARTITION BY iday, gdoc, regular) AS gsize FROM g
        )
        SELECT pid, iday, burst, costly, dense_rank() OVER (ORDER BY iday, gdoc, regular) AS gid
        FROM sized WHERE gsize BETWEEN 2 AND $max AND (burst OR pdays >= $mind OR gdoc = '*')
    """,
        {"max": s.max_group_size, "mind": s.min_pair_days, "reg": s.regular_min_days},
    )
    edges = con.execute(
        """
        WITH pairs AS (
            SELECT a.pid AS a, b.pid AS b, a.iday, a.burst, a.costly AND b.costly AS costly
            FROM groups a JOIN groups b ON a.gid = b.gid AND a.pid < b.pid
        ), agg AS (
            SELECT a, b, count(DISTINCT iday) AS days,
                   count(DISTINCT iday) FILTER (WHERE burst) AS burst_days,
                   count(DISTINCT iday) FILTER (WHERE costly) AS costly_days
            FROM pairs GROUP BY a, b
        )
        SELECT pa.person_id AS src, pb.person_id AS dst,
               (days + $bw * burst_days + $bw * costly_days)::DOUBLE AS weight,
               days::INTEGER AS days, burst_days::INTEGER AS burst_days, costly_days::INTEGER AS costly_days
        FROM agg JOIN pidx pa ON pa.pid = agg.a JOIN pidx pb ON pb.pid = agg.b
        WHERE days >= $mind OR burst_days >= 1
        ORDER BY src, dst  -- the engine's result depends on edge order: keep runs repeatable
    """,
        {"bw": s.burst_weight, "mind": s.min_pair_days},
    ).df()
    row = con.execute(
        """
        SELECT (SELECT count(*) FROM cv_visits), (SELECT count(*) FROM cv_idays),
               (SELECT count(*) FROM cv_idays WHERE burst), (SELECT count(*) FROM cv_idays WHERE n > $max)
    """,
        {"max": s.max_group_size},
    ).fetchall()[0]
    assert row is not None
    stats = {
        "visits": int(row[0]),
        "institution_days": int(row[1]),
        "burst_days": int(row[2]),
        "split_or_dropped_hub_days": int(row[3]),
        "covisit_edges": len(edges),
    }
    return CoVisit(
        con=con, edges=edges, stats=stats, visits=con.table("cv_visits"), idays=con.table("cv_idays")
    )
