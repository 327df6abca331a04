"""Scores in [0, 1] and the evidence sentences an investigator can put in a report.

A ring's score is its *suspicion* (how strongly the data says "organised group") times one minus
its *legitimacy* (how well a lawful explanation fits). Both parts are written out as evidence, so
a cohort that scores low says why: "looks like a fixed weekly treatment shift".

Collusion suspicion: distinct meeting days (the dominant signal; 3 days ≈ 0.5, 8 days ≈ 0.9),
the share of meetings far above the institution's normal traffic, how regularly members attend,
and the share of the group's visits billed far above the institution's usual visit (DOMAIN.md:
"high reimbursement per visit").
Legitimacy: household (most members share an address, small group), care home (an
elderly-care institution, or a large group registered at one address), treatment shift (meets on
the same few weekdays over ``shift_min_days`` days or more), chronic/routine diagnoses.

Shared-identifier suspicion: unrelated persons (distinct addresses) per broker identifier, and
chains of identifiers (a broker network rather than one family phone).
"""

from __future__ import annotations

import math
from typing import Any

from algorithms.results import fmt_yuan
from algorithms.settings import DetectionSettings


def _days(meeting_days: int) -> float:
    return 1.0 - math.exp(-max(meeting_days - 1, 0) / 3.0)


def collusion_legitimacy(f: dict[str, Any], s: DetectionSettings) -> tuple[float, list[str]]:
    """How well a lawful explanation fits a co-visiting group (0 none, 1 certain), with reasons."""
    n = int(f["n_patients"])
    reasons: list[tuple[float, str]] = []
    top_addr = round(float(f["address_share"]) * n)
    if n <= s.household_max and f["address_share"] >= 0.5:
        reasons.append((0.8, f"{top_addr} of {n} members share one address: looks like a household"))
    elif f.get("kin_share", 0.0) >= 0.5:
        reasons.append(
            (0.7, f"{f['kin_share']:.0%} of members live with another member: looks like families")
        )
    if f["main_kind"] == "elderly_care":
        reasons.append((0.9, "meets at an elderly-care institution: looks like care-home residents"))
    elif n > s.household_max and f["address_share"] >= 0.5:
        reasons.append(
            (0.9, f"{top_addr} of {n} members are registered at one address: looks like a care home")
        )
    long_running = f["meeting_days"] >= s.shift_min_days
    weekly = f["weekday_share"] >= s.shift_weekday_share
    chronic = f["chronic_share"] >= 0.5
    if long_running and weekly:
        reasons.append(
            (
                0.95,
                f"meets on the same weekdays ({f['weekday_share']:.0%} of {f['meeting_days']} "
                "days): looks like a fixed treatment shift",
            )
        )
    if long_running and chronic:
        reasons.append(
            (
                0.95,
                f"meets on {f['meeting_days']} days with chronic-care diagnoses: looks like a "
                "dialysis or rehabilitation cohort",
            )
        )
    if chronic:
        reasons.append(
            (
                0.5,
                f"{f['chronic_share']:.0%} of meeting visits carry chronic or routine "
                "diagnoses (dialysis, rehabilitation, check-up)",
            )
        )
    if not reasons:
        return 0.0, []
    best = max(r[0] for r in reasons)
    return best, [r[1] for r in sorted(reasons, key=lambda r: -r[0])]


def collusion_score(f: dict[str, Any], s: DetectionSettings) -> tuple[float, list[str]]:
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
    legit, reasons = collusion_legitimacy(f, s)
    score = max(0.0, min(1.0, suspicion * (1.0 - legit)))
    name = f["main_institution_name"] or f["main_institution"]
    evidence = [
        f"{f['mean_present']:.0f} of {n} members on average visited {name} together on "
        f"{f['meeting_days']} distinct days ({f['first_day']} to {f['last_day']})",
    ]
    if f["institutions"] > 1:
        evidence.append(f"the group also met at {f['institutions'] - 1} other institution(s)")
    if f["burst_meetings"]:
        evidence.append(
            f"{f['burst_meetings']} of {meetings} group visits were far above the institution's normal "
            f"daily traffic (usually {f['mean_base']:.0f} visitors a day)"
        )
    evidence.append(f"{fmt_yuan(f['reimbursed'])} reimbursed to members on the group's visit days")
    if costly >= 0.5:
        evidence.append(
            f"{costly:.0%} of the group's visits were billed far above the institution's usual visit "
            f"({fmt_yuan(f['per_visit'])} on average against {fmt_yuan(f['usual_visit'])})"
        )
    evidence.extend(reasons)
    return score, evidence


def shared_identifier_score(f: dict[str, Any], s: DetectionSettings) -> tuple[float, list[str]]:
    """Suspicion of a component of persons linked by broker phones/bank accounts."""
    n = int(f["n_persons"])
    addresses = int(f["n_addresses"])
    # Unrelated persons beyond a family's worth drive the score: 3 unrelated 0.49, 6 unrelated 0.81.
    unrelated = max(addresses - 1, 0)
    suspicion = 1.0 - math.exp(-unrelated / 3.0)
    if f["n_identifiers"] > 1:
        suspicion = min(1.0, suspicion + 0.1)
    evidence = [f"{line}" for line in f["identifier_lines"]]
    evidence.append(
        f"{n} persons at {addresses} different addresses are linked through "
        f"{f['n_identifiers']} shared identifier(s)"
    )
    if f["n_identifiers"] > 1:
        evidence.append("identifiers are chained: persons sharing one also share another (broker network)")
    if f.get("reimbursed"):
        evidence.append(f"{fmt_yuan(f['reimbursed'])} reimbursed to these persons")
    return max(0.0, min(1.0, suspicion)), evidence
