"""A synthetic city per the data contract, with planted fraud, legitimate look-alikes and ground truth.

``generate_city(out_dir, persons=N, seed=S)`` writes ``persons``, ``institutions``, ``doctors``,
``injury_cases`` and ``claims`` into ``out_dir`` and the truth JSON next to it
(``<out_dir>.truth.json``, see docs/data-contract.md). Everything is drawn from one
``numpy.random.Generator`` seeded with ``seed``, so a seed always gives the same city; column work
is vectorised so a million persons (~6M claims) take well under the two-minute budget.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pyarrow as pa

from graph.errors import InvalidRequest
from ingest.generator import badrows, fraud, hidden_rings, lookalikes, rule_patterns, tables
from ingest.generator.background import everyday_claims
from ingest.generator.institutions import build_doctors, build_institutions
from ingest.generator.population import build_population
from ingest.generator.records import City
from ingest.generator.writer import FORMATS, write_table

__all__ = ["FORMATS", "generate_city", "truth_path"]


def truth_path(out_dir: Path) -> Path:
    return out_dir.parent / f"{out_dir.name}.truth.json"


def generate_city(
    out_dir: Path, *, persons: int, seed: int, bad_rows: int = 0, fmt: str = "csv", encoding: str = "utf-8"
) -> Path:
    """Write a city of ``persons`` insured into ``out_dir``; returns the path of the truth JSON."""
    if persons < 500:
        raise InvalidRequest("a city needs at least 500 persons to hold every planted pattern")
    if fmt not in FORMATS:
        raise InvalidRequest(f"unknown format {fmt!r}; use one of {', '.join(FORMATS)}")
    if bad_rows < 0:
        raise InvalidRequest("--bad-rows must be 0 or more")
    rng = np.random.default_rng(seed)
    pop = build_population(rng, persons)
    inst = build_institutions(rng, pop)
    city = City(rng=rng, pop=pop, inst=inst, docs=build_doctors(rng, pop, inst))
    everyday_claims(city)
    # Look-alikes first: they claim their persons, and fraud recruits among the rest.
    lookalikes.households(city)
    lookalikes.chronic_cohorts(city)
    home_addresses = lookalikes.care_homes(city)
    lookalikes.health_check_days(city)
    lookalikes.colleagues(city)
    lookalikes.legitimate_injuries(city)
    lookalikes.topups_and_transfers(city)
    fraud.collusion_rings(city)
    hidden_rings.hidden_collusion_rings(city)
    fraud.shared_identifier_rings(city)
    hidden_rings.landline_broker_rings(city)
    fraud.double_claims(city)
    fraud.impossible_care(city)
    rule_patterns.present_elsewhere(city)
    rule_patterns.split_admissions(city)
    rule_patterns.pharmacy_cash_out(city)
    rule_patterns.same_day_far_apart(city)
    # Fraud and findings keep their claims; a look-alike's everyday visit made while its person was
    # admitted elsewhere is dropped like anyone's.
    planted = [rows for section, _, rows in city.pending_refs if section != "lookalikes"]
    far = city.inst.of_group(*(g for g in set(city.inst.group.tolist()) if g.startswith("remote_")))
    city.claims.finish(protect=np.concatenate(planted) if planted else None, far=far)
    for section, index, rows in city.pending_refs:
        city.truth[section][index]["claims"] = city.claims.refs(rows)

    built: dict[str, pa.Table] = {
        "institutions": tables.institutions_table(city),
        "persons": tables.persons_table(city, home_addresses),
        "doctors": tables.doctors_table(city),
        "injury_cases": tables.injury_cases_table(city),
        "claims": tables.claims_table(city),
    }
    placed = (
        badrows.inject(rng, built, bad_rows, fmt)
        if bad_rows
        else {name: badrows.Placed(t, {}, []) for name, t in built.items()}
    )
    out_dir.mkdir(parents=True, exist_ok=True)
    bad_truth: list[dict[str, object]] = []
    for name, p in placed.items():
        write_table(out_dir, name, p.table, p.raw_lines, fmt=fmt, encoding=encoding)
        bad_truth += p.truth
    truth = {
        "seed": seed,
        "persons": persons,
        "rings": city.truth["rings"],
        "double_claims": city.truth["double_claims"],
        "anomalies": city.truth["anomalies"],
        "lookalikes": city.truth["lookalikes"],
        "bad_rows": sorted(bad_truth, key=lambda b: (str(b["table"]), int(str(b["line"])))),
    }
    path = truth_path(out_dir)
    path.write_text(json.dumps(truth, ensure_ascii=False), encoding="utf-8")
    return path
