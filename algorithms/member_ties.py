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
    n = len(members)
    g = GroupTies(n=n)
    addr = members["address"].where(members["address"].notna() & (members["address"] != ""))
    emp = members["employer"].where(members["employer"].notna() & (members["employer"] != ""))
    addr_n = addr.map(addr.value_counts())
    emp_n = emp.map(emp.value_counts())
    for pid, a, an, city_n, shift, e, en in zip(
        members["person_id"],
        addr,
        addr_n,
        members["address_persons"],
        members["shift_inst"],
        emp,
        emp_n,
        strict=True,
    ):
        person = str(pid)
        tie: str | None = None
        key = ""
        if isinstance(a, str) and city_n > s.household_max and an >= 2:
            tie, key = "resident", f"address:{a}"
        elif isinstance(shift, str) and shift:
            tie, key = "shift", f"shift:{shift}"
        elif isinstance(a, str) and an >= 2:
            tie, key = "household", f"address:{a}"
        elif isinstance(e, str) and en >= 3 and meeting_days <= s.checkup_max_days:
            tie, key = "colleague", f"employer:{e}"
        if tie is None:
            continue
        g.ties[person] = tie
        g.units[person] = key
        g.unit_sizes[key] += 1
        if key.startswith("address:"):
            g.addresses[key] = str(a)
    return g


def mask_person(person_id: str) -> str:
    """Evidence names persons the way the API masks ID numbers (first 6, last 4)."""
    if len(person_id) <= 10:
        return person_id[:2] + "*" * max(len(person_id) - 2, 0)
    return f"{person_id[:6]}********{person_id[-4:]}"
