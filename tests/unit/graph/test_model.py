"""The graph model is the single source of truth: keys, endpoints and the generated doc agree."""

from __future__ import annotations

from pathlib import Path

import pytest

from graph.errors import SchemaError
from graph.model import (
    NODE_TYPES,
    REL_TYPES,
    NodeRef,
    claim_key,
    institution_label,
    neo4j_schema_statements,
    node_type,
    rel_type,
)
from graph.model_doc import render_markdown

DOC = Path(__file__).resolve().parents[3] / "docs" / "graph-model.md"


def test_every_label_has_its_key_among_its_properties() -> None:
    for n in NODE_TYPES:
        assert n.key in n.prop_names, n.label


def test_relationship_endpoints_are_known_labels() -> None:
    labels = {n.label for n in NODE_TYPES}
    for r in REL_TYPES:
        assert set(r.start) <= labels and set(r.end) <= labels, r.type


def test_required_labels_of_the_design_exist() -> None:
    required = {"Patient", "Doctor", "Institution", "Pharmacy", "InjuryCase", "Claim", "Phone",
                "BankAccount", "Address", "Employer", "Ring", "Case"}
    assert required <= {n.label for n in NODE_TYPES}


def test_claim_key_joins_scheme_and_id_so_two_schemes_do_not_collide() -> None:
    assert claim_key("medical", "C1") != claim_key("work_injury", "C1")


def test_pharmacy_kind_maps_to_its_own_label() -> None:
    assert institution_label("pharmacy") == "Pharmacy"
    assert institution_label("clinic") == "Institution"
    assert institution_label(None) == "Institution"


def test_unknown_names_are_refused_with_the_known_ones_listed() -> None:
    with pytest.raises(SchemaError, match="Patient"):
        node_type("Patiant")
    with pytest.raises(SchemaError, match="HAS_CLAIM"):
        rel_type("HAS_CLAIMS")
    with pytest.raises(SchemaError):
        NodeRef("Nope", "1")


def test_neo4j_schema_has_one_uniqueness_constraint_per_label_and_is_idempotent() -> None:
    stmts = neo4j_schema_statements()
    constraints = [s for s in stmts if s.startswith("CREATE CONSTRAINT")]
    assert len(constraints) == len(NODE_TYPES)
    assert all("IF NOT EXISTS" in s for s in stmts)
    assert any("FOR (n:Claim) REQUIRE n.claim_key IS UNIQUE" in s for s in constraints)


def test_graph_model_doc_is_generated_from_the_code() -> None:
    assert DOC.read_text(encoding="utf-8") == render_markdown(), (
        "docs/graph-model.md is stale: run `python -m graph.model_doc > docs/graph-model.md`"
    )
