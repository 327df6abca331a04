"""Member ties that explain why a co-visiting group is legitimate — read per member, never per place.

A group that visits one institution together is explained only when its *members* are: the kind
of institution (a care home, a dialysis centre, a health-check centre) explains nothing, because
fraud organisers recruit to exactly such places. Each member gets at most one tie, the strongest
that holds for that member:

- ``resident``: more than ``household_max`` persons of the city are registered at the member's
  address, and another member too — a collective residence (a care home's residents are
  registered at the home). Read from the registry, not from the group, so a few residents
  recruited into a ring of outsiders are still told apart as residents;
- ``shift``: the member's own visits to a place where the group met fall on at least
  ``shift_min_days`` days, mostly with chronic-care diagnoses, on a fixed few weekdays (a dialysis
  or rehabilitation shift);
- ``household``: the member shares an address with 1 to ``household_max - 1`` other members;
- ``colleague``: the member shares an employer with at least two other members, and the group met
  on at most ``checkup_max_days`` days (one employer's check-up day; colleagues meeting on many
  irregular days are not explained by their employer).

Members bound by one tie form one *unit* (all residents of one address, all shift patients of one
place, one household, one employer's staff); every unexplained member is a unit of its own. A
group of fewer than ``min_ring_patients`` units is a cohort, not a ring; a group of outsiders with
a few genuine residents among them stays a ring, and the residents are told apart in its evidence.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from algorithms.settings import DetectionSettings

TIE_ORDER = ("resident", "shift", "household", "colleague")


@dataclass
class GroupTies:
    """The ties of one group's members: per member its tie and unit key (None: unexplained)."""

    n: int
    ties: dict[str, str] = field(default_factory=dict)  # person_id -> tie
    units: dict[str, str] = field(default_factory=dict)  # person_id -> unit key
    unit_sizes: Counter[str] = field(default_factory=Counter)
    addresses: dict[str, str] = field(default_factory=dict)  # unit key -> address (resident/household)

    @property
    def unexplained(self) -> int:
        return self.n - len(self.ties)

    @property
    def n_units(self) -> int:
        return len(self.unit_sizes) + self.unexplained

    def count(self, tie: str) -> int:
        return sum(1 for t in self.ties.values() if t == tie)

    def members_with(self, tie: str) -> list[str]:
        return sorted(p for p, t in self.ties.items() if t == tie)


def group_ties(members: pd.DataFrame, meeting_days: int, s: DetectionSettings) -> GroupTies:
    """Ties of one group from its member rows (person_id, address, address_persons, employer, shift_inst)."""
    frame = members.assign(community=0)
    return all_group_ties(frame, {0: meeting_days}, s).get(0, GroupTies(n=0))


def all_group_ties(
    members: pd.DataFrame, meeting_days: dict[Any, int], s: DetectionSettings
) -> dict[Any, GroupTies]:
    """Ties of every group at once (rows: community, person_id, address, address_persons, employer,
    shift_inst), vectorised: a city has thousands of candidate groups."""
    df = members.reset_index(drop=True)
    addr = df["address"].where(df["address"].notna() & (df["address"] != ""))
    emp = df["employer"].where(df["employer"].notna() & (df["employer"] != ""))
    addr_n = df.assign(a=addr).groupby(["community", "a"])["person_id"].transform("size").fillna(0)
    emp_n = df.assign(e=emp).groupby(["community", "e"])["person_id"].transform("size").fillna(0)
    days = df["community"].map(meeting_days).fillna(0)
    has_addr, has_emp = addr.notna(), emp.notna()
    shift = df["shift_inst"].where(df["shift_inst"].notna() & (df["shift_inst"] != ""))
    resident = has_addr & (df["address_persons"].fillna(0) > s.household_max) & (addr_n >= 2)
    on_shift = ~resident & shift.notna()
    household = ~resident & ~on_shift & has_addr & (addr_n >= 2)
    colleague = ~resident & ~on_shift & ~household & has_emp & (emp_n >= 3) & (days <= s.checkup_max_days)
    tie = np.select([resident, on_shift, household, colleague], list(TIE_ORDER), default="")
    key = np.select(
        [resident | household, on_shift, colleague],
        ["address:" + addr.fillna(""), "shift:" + shift.fillna(""), "employer:" + emp.fillna("")],
        default="",
    )
    out: dict[Any, GroupTies] = {}
    sizes = df.groupby("community")["person_id"].size()
    for c, n in sizes.items():
        out[c] = GroupTies(n=int(n))
    for c, person, t, k, a in zip(df["community"], df["person_id"], tie, key, addr, strict=True):
        if not t:
            continue
        g = out[c]
        g.ties[str(person)] = str(t)
        g.units[str(person)] = str(k)
        g.unit_sizes[str(k)] += 1
        if t in ("resident", "household"):
            g.addresses[str(k)] = str(a)
    return out


def mask_person(person_id: str) -> str:
    """Evidence names persons the way the API masks ID numbers (first 6, last 4)."""
    if len(person_id) <= 10:
        return person_id[:2] + "*" * max(len(person_id) - 2, 0)
    return f"{person_id[:6]}********{person_id[-4:]}"


def prefix_sql(column: str, prefixes: tuple[str, ...]) -> str:
    """SQL: the column starts with one of the (trusted, settings-given) code prefixes."""
    if not prefixes:
        return "FALSE"
    return "(" + " OR ".join(f"starts_with({column}, '{p}')" for p in prefixes) + ")"
