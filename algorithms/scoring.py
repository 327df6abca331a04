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

from algorithms.member_ties import GroupTies, mask_person
from algorithms.results import fmt_yuan
from algorithms.settings import DetectionSettings


def _days(meeting_days: int) -> float:
    return 1.0 - math.exp(-max(meeting_days - 1, 0) / 3.0)


def collusion_legitimacy(f: dict[str, Any], ties: GroupTies, s: DetectionSettings) -> tuple[float, list[str]]:
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
    reasons: list[str] = []
    resident_keys = {k for p, k in ties.units.items() if ties.ties[p] == "resident"}
    for key in sorted(resident_keys, key=lambda k: -ties.unit_sizes[k]):
        reasons.append(
            f"{ties.unit_sizes[key]} 名成员登记在同一地址（{ties.addresses[key]}），系集中居住的住户"
            "（如养老机构住户）"
        )
    if ties.count("shift"):
        reasons.append(
            f"{ties.count('shift')} 名成员本人在该机构长期按固定星期就诊（不少于 {s.shift_min_days} 天，"
            "以慢病诊断为主），系透析/康复等固定治疗班次"
        )
    if ties.count("household"):
        households = {k for p, k in ties.units.items() if ties.ties[p] == "household"}
        reasons.append(f"{ties.count('household')} 名成员分属 {len(households)} 个同住家庭")
    if ties.count("colleague"):
        reasons.append(
            f"{ties.count('colleague')} 名成员为同一单位职工，仅在 {f['meeting_days']} 天集中就诊（单位体检）"
        )
    if legit > 0:
        reasons.insert(0, f"成员间的关系可以解释同日就诊：{n} 名成员仅构成 {units} 个独立单元")
    elif ties.ties:
        explained = len(ties.ties)
        reasons.insert(
            0,
            f"{ties.unexplained} 名成员与其他成员无居住、治疗班次、家庭或单位关系；"
            f"有关系的 {explained} 名成员不足以解释该团伙",
        )
        if resident_keys:
            residents = sorted(p for p, k in ties.units.items() if k in resident_keys)
            shown = "、".join(mask_person(p) for p in residents[:10])
            more = f" 等 {len(residents)} 人" if len(residents) > 10 else ""
            reasons.append(f"疑为被拉入作掩护的真实住户：{shown}{more}")
    return legit, reasons


def collusion_score(f: dict[str, Any], ties: GroupTies, s: DetectionSettings) -> tuple[float, list[str]]:
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
        f"{n} 名成员中平均 {f['mean_present']:.0f} 人在 {f['meeting_days']} 个不同日期同日到 {name} 就诊"
        f"（{f['first_day']} 至 {f['last_day']}）",
    ]
    if f["institutions"] > 1:
        evidence.append(f"该团伙还在另外 {f['institutions'] - 1} 家机构集中就诊")
    if f["burst_meetings"]:
        evidence.append(
            f"{meetings} 次集中就诊中有 {f['burst_meetings']} 次远超该机构平常的日就诊量"
            f"（平常每天约 {f['mean_base']:.0f} 人）"
        )
    evidence.append(f"成员在集中就诊日共获医保报销 {fmt_yuan(f['reimbursed'])}")
    if costly >= 0.5:
        evidence.append(
            f"{costly:.0%} 的集中就诊费用远高于该机构的通常水平"
            f"（平均每次 {fmt_yuan(f['per_visit'])}，通常 {fmt_yuan(f['usual_visit'])}）"
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
    evidence.append(f"住在 {addresses} 个不同地址的 {n} 人通过 {f['n_identifiers']} 个共用标识关联")
    if f["n_identifiers"] > 1:
        evidence.append("标识相互串联：共用一个标识的人又共用另一个标识（中介网络）")
    if f.get("reimbursed"):
        evidence.append(f"上述人员共获医保报销 {fmt_yuan(f['reimbursed'])}")
    return max(0.0, min(1.0, suspicion)), evidence
