"""Scores in [0, 1] and the evidence sentences an investigator can put in a report.

A ring's score is its *suspicion* (how strongly the data says "organised group") times one minus
its *legitimacy* (how well a lawful explanation fits). Both parts are written out as evidence, so
a cohort that scores low says why: "looks like a fixed weekly treatment shift".

Collusion suspicion: distinct meeting days (the dominant signal; 3 days ≈ 0.5, 8 days ≈ 0.9),
the share of meetings far above the institution's normal traffic, how regularly members attend,
and the share of the group's visits billed far above the institution's usual visit (DOMAIN.md:
"high reimbursement per visit").
Legitimacy comes from the members' own ties only (:mod:`algorithms.member_ties`): residents of
one collective address, chronic patients on a fixed weekday shift, one household, one employer's
staff on its check-up day. The kind of institution where a group meets never lowers its score.

Shared-identifier suspicion: unrelated persons (distinct addresses) per broker identifier, and
chains of identifiers (a broker network rather than one family phone).
"""

from __future__ import annotations

import math
from typing import Any

from algorithms.evidence import Evidence, ev, from_stored
from algorithms.member_ties import GroupTies, mask_person
from algorithms.settings import DetectionSettings


def _days(meeting_days: int) -> float:
    return 1.0 - math.exp(-max(meeting_days - 1, 0) / 3.0)


def collusion_legitimacy(f: dict[str, Any], ties: GroupTies,
                         s: DetectionSettings) -> tuple[float, list[Evidence]]:
    """How well the members' own ties explain a co-visiting group (0 none, 0.95 fully), with reasons.

    Only member ties count (:mod:`algorithms.member_ties`); where the group met does not. A group
    whose members are explained (one household, one home's residents, one shift, one employer's
    staff) is legitimate in proportion to the explained share; with ``min_ring_patients`` or more
    unexplained members it is a ring whatever ties the others have (outsiders with residents as
    cover). A few unexplained members among a cohort (a visitor, a bystander) do not make it one.
    """
    n = int(f["n_patients"])
    units = ties.n_units
    unexplained = ties.unexplained
    legit = 0.0 if unexplained >= s.min_ring_patients else 0.95 * (n - unexplained) / max(n, 1)
    reasons: list[Evidence] = []
    resident_keys = {k for p, k in ties.units.items() if ties.ties[p] == "resident"}
    for key in sorted(resident_keys, key=lambda k: -ties.unit_sizes[k]):
        reasons.append(ev("collusion.residents", n=ties.unit_sizes[key], address=ties.addresses[key]))
    if ties.count("shift"):
        reasons.append(ev("collusion.shift", n=ties.count("shift"), min_days=s.shift_min_days))
    if ties.count("household"):
        households = {k for p, k in ties.units.items() if ties.ties[p] == "household"}
        reasons.append(ev("collusion.households", n=ties.count("household"), households=len(households)))
    if ties.count("colleague"):
        reasons.append(ev("collusion.colleagues", n=ties.count("colleague"), days=f["meeting_days"]))
    if legit > 0:
        reasons.insert(0, ev("collusion.explained", n=n, units=units))
    elif ties.ties:
        explained = len(ties.ties)
        reasons.insert(0, ev("collusion.unexplained", unexplained=ties.unexplained, explained=explained))
        if resident_keys:
            residents = sorted(p for p, k in ties.units.items() if k in resident_keys)
            shown = [mask_person(p) for p in residents[:10]]
            if len(residents) > 10:
                reasons.append(ev("collusion.cover_residents_more", persons=shown, total=len(residents)))
            else:
                reasons.append(ev("collusion.cover_residents", persons=shown))
    return legit, reasons


def collusion_score(f: dict[str, Any], ties: GroupTies, s: DetectionSettings) -> tuple[float, list[Evidence]]:
    n = int(f["n_patients"])
    meetings = max(int(f["meetings"]), 1)
    burst_share = int(f["burst_meetings"]) / meetings
    costly = float(f.get("costly_share", 0.0))
    suspicion = (
        0.5 * _days(int(f["meeting_days"]))
        + 0.2 * burst_share
        + 0.1 * min(f["attendance"], 1.0)
        + 0.2 * costly
    )
    legit, reasons = collusion_legitimacy(f, ties, s)
    score = max(0.0, min(1.0, suspicion * (1.0 - legit)))
    name = f["main_institution_name"] or f["main_institution"]
    evidence = [
        ev("collusion.met", n=n, mean_present=f["mean_present"], meeting_days=f["meeting_days"],
           institution=name, first_day=f["first_day"], last_day=f["last_day"]),
    ]
    if f["institutions"] > 1:
        evidence.append(ev("collusion.other_institutions", count=f["institutions"] - 1))
    if f["burst_meetings"]:
        evidence.append(ev("collusion.bursts", meetings=meetings, bursts=f["burst_meetings"],
                           usual=f["mean_base"]))
    evidence.append(ev("collusion.reimbursed", amount=f["reimbursed"]))
    if costly >= 0.5:
        evidence.append(ev("collusion.costly", share=costly, per_visit=f["per_visit"],
                           usual_visit=f["usual_visit"]))
    evidence.extend(reasons)
    return score, evidence


def shared_identifier_score(f: dict[str, Any], s: DetectionSettings) -> tuple[float, list[Evidence]]:
    """Suspicion of a component of persons linked by broker phones/bank accounts."""
    n = int(f["n_persons"])
    addresses = int(f["n_addresses"])
    # Unrelated persons beyond a family's worth drive the score: 3 unrelated 0.49, 6 unrelated 0.81.
    unrelated = max(addresses - 1, 0)
    suspicion = 1.0 - math.exp(-unrelated / 3.0)
    if f["n_identifiers"] > 1:
        suspicion = min(1.0, suspicion + 0.1)
    evidence = [from_stored(line) for line in f["identifier_lines"]]
    evidence.append(ev("shared.linked", addresses=addresses, n=n, identifiers=f["n_identifiers"]))
    if f["n_identifiers"] > 1:
        evidence.append(ev("shared.chained"))
    if f.get("reimbursed"):
        evidence.append(ev("shared.reimbursed", amount=f["reimbursed"]))
    return max(0.0, min(1.0, suspicion)), evidence
