"""The quality report on a tiny truth/export pair with known numbers."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from algorithms.evaluate import evaluate_files
from graph.errors import InputError

TRUTH = {
    "seed": 1,
    "persons": 100,
    "rings": [
        {
            "ring_id": "T1",
            "kind": "collusion",
            "shape": "steady",
            "members": [{"type": "Patient", "id": f"p{i}"} for i in range(4)]
            + [{"type": "Institution", "id": "CL1"}],
        },
        {
            "ring_id": "T2",
            "kind": "collusion",
            "shape": "subgroups",
            "members": [{"type": "Patient", "id": f"q{i}"} for i in range(4)],
        },
        {
            "ring_id": "T3",
            "kind": "shared_identifier",
            "shape": "broker",
            "members": [{"type": "Patient", "id": f"s{i}"} for i in range(3)]
            + [{"type": "Phone", "id": "138"}],
        },
    ],
    "double_claims": [
        {
            "person_id": "w1",
            "kind": "medical_and_work_injury",
            "claims": [{"scheme": "medical", "claim_id": "1"}],
            "excess_amount": 100.0,
        },
        {
            "person_id": "w2",
            "kind": "medical_and_work_injury",
            "claims": [{"scheme": "medical", "claim_id": "2"}],
            "excess_amount": 50.0,
        },
    ],
    "anomalies": [
        {"kind": "claim_after_death", "person_id": "d1", "claims": [{"scheme": "medical", "claim_id": "9"}]}
    ],
    "lookalikes": [{"kind": "household", "members": [{"type": "Patient", "id": f"f{i}"} for i in range(3)]}],
    "bad_rows": [],
}
EXPORT = {
    "rings": [
        # T1 found (patients 3/4 -> Jaccard 0.75); one institution member too many.
        {
            "ring_id": "R1",
            "kind": "collusion",
            "score": 0.9,
            "evidence": [],
            "members": [{"type": "Patient", "id": f"p{i}"} for i in range(3)]
            + [{"type": "Institution", "id": "CL1"}, {"type": "Doctor", "id": "D1"}],
        },
        # T2 missed (Jaccard 1/7); this ring is a false positive.
        {
            "ring_id": "R2",
            "kind": "collusion",
            "score": 0.6,
            "evidence": [],
            "members": [{"type": "Patient", "id": x} for x in ("q0", "x1", "x2", "x3")],
        },
        # A household reported as a shared-identifier ring: a look-alike flagged.
        {
            "ring_id": "R3",
            "kind": "shared_identifier",
            "score": 0.7,
            "evidence": [],
            "members": [{"type": "Patient", "id": f"f{i}"} for i in range(3)],
        },
    ],
    "double_claims": [
        {
            "person_id": "w1",
            "kind": "medical_and_work_injury",
            "claims": [{"scheme": "medical", "claim_id": "1"}],
            "excess_amount": 90.0,
        },
        {
            "person_id": "w9",
            "kind": "medical_and_work_injury",
            "claims": [{"scheme": "medical", "claim_id": "7"}],
            "excess_amount": 10.0,
        },
    ],
    "anomalies": [
        {"kind": "claim_after_death", "person_id": "d1", "claims": [{"scheme": "medical", "claim_id": "9"}]}
    ],
}


@pytest.fixture
def files(tmp_path: Path) -> tuple[Path, Path]:
    t, e = tmp_path / "truth.json", tmp_path / "export.json"
    t.write_text(json.dumps(TRUTH), encoding="utf-8")
    e.write_text(json.dumps(EXPORT), encoding="utf-8")
    return t, e


def test_known_numbers(files: tuple[Path, Path]) -> None:
    ev = evaluate_files(*files)
    col = ev.rings["collusion"]
    assert (col.truth, col.reported, col.found, col.correct) == (2, 2, 1, 1)
    assert col.recall == 0.5 and col.precision == 0.5
    assert col.member_precision == pytest.approx(4 / 5) and col.member_recall == pytest.approx(4 / 5)
    assert col.by_shape == {"steady": {"truth": 1, "found": 1}, "subgroups": {"truth": 1, "found": 0}}
    sid = ev.rings["shared_identifier"]
    assert (sid.recall, sid.precision) == (0.0, 0.0)
    dc = ev.double_claims["medical_and_work_injury"]
    assert (dc.recall, dc.precision) == (0.5, 0.5)
    assert ev.excess_abs_error == pytest.approx(10.0)
    assert ev.anomalies["claim_after_death"].recall == 1.0
    assert ev.lookalikes_flagged == {"household": {"total": 1, "flagged": 1}}


def test_cli_prints_table_and_json(files: tuple[Path, Path]) -> None:
    from api.cli import app

    out = CliRunner().invoke(app, ["evaluate", str(files[0]), str(files[1])])
    assert out.exit_code == 0, out.output
    assert "ring:collusion" in out.output and "0.500" in out.output
    out = CliRunner().invoke(app, ["evaluate", str(files[0]), str(files[1]), "--json"])
    doc = json.loads(out.output)
    assert doc["rings"]["collusion"]["recall"] == 0.5


def test_bad_file_names_file_and_line(tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text('{"rings": [\n  {oops}\n]}', encoding="utf-8")
    with pytest.raises(InputError) as err:
        evaluate_files(bad, bad)
    assert "bad.json" in str(err.value) and "line 2" in str(err.value)


def test_a_lawful_claim_reported_as_an_anomaly_flags_its_lookalike() -> None:
    """Chemotherapy cycles listed with their claims: a split-admission finding on one flags them."""
    from algorithms.evaluate import Export, Truth, evaluate

    cycles = [{"scheme": "medical", "claim_id": f"YB{i}"} for i in range(4)]
    truth = Truth.model_validate(
        {
            "lookalikes": [
                {
                    "kind": "chemotherapy_cycles",
                    "members": [{"type": "Patient", "id": "p1"}],
                    "claims": cycles,
                },
                {"kind": "chemotherapy_cycles", "members": [{"type": "Patient", "id": "p2"}], "claims": []},
            ]
        }
    )
    export = Export.model_validate(
        {"anomalies": [{"kind": "split_admission", "person_id": "p1", "claims": cycles[1:3]}]}
    )
    assert evaluate(truth, export).lookalikes_flagged == {"chemotherapy_cycles": {"total": 2, "flagged": 1}}
