"""Stable ring ids: matched by member overlap, new/grown/shrunk/vanished reported."""

from __future__ import annotations

from algorithms.identity import PreviousRing, assign_ids
from algorithms.results import Member, Ring


def _ring(patients: list[str], kind: str = "collusion") -> Ring:
    members = [Member(type="Patient", id=p) for p in patients] + [Member(type="Institution", id="CL1")]
    return Ring(kind=kind, score=0.9, members=members, evidence=["x"])  # type: ignore[arg-type]


def _prev(rid: str, patients: list[str], kind: str = "collusion", status: str = "new") -> PreviousRing:
    return PreviousRing(
        ring_id=rid,
        kind=kind,
        status=status,
        members={f"Patient:{p}" for p in patients} | {"Institution:CL1"},
    )


def test_persisting_rings_keep_ids_and_changes_are_reported() -> None:
    previous = [
        _prev("R-a", ["a1", "a2", "a3", "a4"]),
        _prev("R-b", ["b1", "b2", "b3", "b4", "b5"]),
        _prev("R-c", ["c1", "c2", "c3", "c4"]),
        _prev("R-s", ["s1", "s2", "s3"], kind="shared_identifier"),
    ]
    current = [
        _ring(["a1", "a2", "a3", "a4", "a5", "a6"]),  # grew
        _ring(["b1", "b2", "b3", "b4"]),  # shrank
        _ring(["n1", "n2", "n3", "n4"]),  # new
        _ring(["s1", "s2", "s3"]),  # same members as R-s but another kind: not the same ring
    ]
    rings, vanished, changes = assign_ids(current, previous)
    assert [r.ring_id for r in rings[:2]] == ["R-a", "R-b"]
    assert [r.status for r in rings] == ["grown", "shrunk", "new", "new"]
    assert rings[2].ring_id not in {"R-a", "R-b", "R-c", "R-s"}
    assert changes.grown == ["R-a"] and changes.shrunk == ["R-b"]
    assert sorted(changes.vanished) == ["R-c", "R-s"]
    assert {v.ring_id for v in vanished} == {"R-c", "R-s"}
    assert changes.counts() == {"new": 2, "grown": 1, "shrunk": 1, "stable": 0, "vanished": 2}


def test_greedy_best_overlap_wins_and_weak_overlap_is_new() -> None:
    previous = [_prev("R-1", ["p1", "p2", "p3", "p4"]), _prev("R-2", ["p1", "p2", "p3", "p4", "p5", "p6"])]
    current = [_ring(["p1", "p2", "p3", "p4", "p5", "p6"]), _ring(["p1", "x1", "x2", "x3", "x4", "x5", "x6"])]
    rings, vanished, _ = assign_ids(current, previous)
    assert rings[0].ring_id == "R-2" and rings[0].status == "stable"
    # Jaccard with R-1 is 2/11 < 0.3: a different ring.
    assert rings[1].status == "new" and rings[1].ring_id != "R-1"
    assert [v.ring_id for v in vanished] == ["R-1"]
    # An already vanished ring is not reported as vanishing again.
    _, vanished2, changes2 = assign_ids([], [_prev("R-9", ["z1"], status="vanished")])
    assert vanished2 == [] and changes2.vanished == []
