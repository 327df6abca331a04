"""A vanished ring keeps its last members, each with the role a live ring's member of that label has.

The ring below vanished this run; it held one of every label a ring can hold::

    R-old ── Patient P1, Doctor D1, Institution I1, Pharmacy PH1,
             Phone 138..., BankAccount 6222..., Address 幸福路1号
"""

from __future__ import annotations

from datetime import UTC, datetime

from algorithms.identity import PreviousRing
from algorithms.job import build_derived
from algorithms.results import Member


def test_vanished_members_keep_the_roles_of_live_members() -> None:
    members = {"Patient:P1", "Doctor:D1", "Institution:I1", "Pharmacy:PH1", "Phone:13800000001",
               "BankAccount:6222000011112222", "Address:幸福路1号"}
    gone = PreviousRing(ring_id="R-old", kind="shared_identifier", status="stable", members=members,
                        score=0.8)
    derived = build_derived({"run_id": "run2"}, [], [gone], [gone], [], datetime(2026, 1, 1, tzinfo=UTC))
    roles = {(r.dst_label, r.role) for r in derived.ring_members.itertuples()}
    assert roles == {
        ("Patient", "patient"), ("Doctor", "doctor"), ("Institution", "institution"),
        ("Pharmacy", "institution"), ("Phone", "broker_identifier"),
        ("BankAccount", "broker_identifier"), ("Address", "broker_identifier"),
    }
    # the same role a member of a live ring gets
    for label, role in roles:
        assert Member(type=label, id="x").role == role
    assert set(derived.rings["status"]) == {"vanished"}
