"""The graph model: the one source of truth for labels, keys, properties and relationship types.

Both stores are generated from this module: Neo4j constraints and indexes
(:func:`neo4j_schema_statements`) and the DuckDB tables (``graph.duckdb.store``). The Cypher lint
test feeds the same labels, types and property keys to Neo4j's linter, so a query that names
something outside the model fails CI. ``docs/graph-model.md`` draws it.

Conventions
- Every node label has exactly one key property (a string). A claim's natural key is
  (scheme, claim_id); its node key is ``claim_key = f"{scheme}:{claim_id}"`` so that one
  single-property uniqueness constraint (available in Neo4j Community) covers it.
- Every node also carries the provenance properties ``source_file`` and ``load_batch`` and an
  ``extra`` JSON text holding the unknown input columns (the data contract keeps them).
- Relationships are identified by (type, start node, end node): at most one of a type between
  two nodes, which is what makes re-upserting idempotent (``MERGE`` semantics).
- Claim-derived relationships (``HAS_CLAIM``, ``TREATED_AT``, ``BY_DOCTOR``) carry the claim's
  ``date`` so that neighbour expansion can filter by a date window without touching claims.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from graph.errors import SchemaError

PropType = Literal["str", "int", "float", "bool", "date", "datetime", "json", "str_list"]


@dataclass(frozen=True)
class Prop:
    name: str
    type: PropType = "str"
    description: str = ""


@dataclass(frozen=True)
class NodeType:
    label: str
    key: str
    props: tuple[Prop, ...]
    description: str
    derived: bool = False
    # properties searched by text search (besides the key)
    search_props: tuple[str, ...] = ()

    @property
    def prop_names(self) -> tuple[str, ...]:
        return tuple(p.name for p in self.props)

    def prop(self, name: str) -> Prop:
        for p in self.props:
            if p.name == name:
                return p
        raise SchemaError(f"label {self.label} has no property {name!r}")


@dataclass(frozen=True)
class RelType:
    type: str
    start: tuple[str, ...]
    end: tuple[str, ...]
    props: tuple[Prop, ...] = ()
    description: str = ""
    derived: bool = False

    @property
    def prop_names(self) -> tuple[str, ...]:
        return tuple(p.name for p in self.props)

    @property
    def dated(self) -> bool:
        return "date" in self.prop_names


PROVENANCE = (
    Prop("source_file", "str", "input file the row came from"),
    Prop("load_batch", "str", "ingest batch id that last wrote the row"),
    Prop("extra", "json", "unknown input columns, kept as JSON text"),
)

_INSTITUTION_PROPS = (
    Prop("institution_id"),
    Prop("name"),
    Prop("kind", "str", "hospital, clinic, tcm_clinic, elderly_care, pharmacy, other"),
    Prop("level", "int", "0-3"),
    Prop("ownership", "str", "public / private"),
    Prop("region"),
    Prop("grid"),
    Prop("latitude", "float", "WGS-84 decimal degrees"),
    Prop("longitude", "float", "WGS-84 decimal degrees"),
)

NODE_TYPES: tuple[NodeType, ...] = (
    NodeType(
        "Patient", "person_id",
        (
            Prop("person_id", "str", "18-character ID number (GB 11643)"),
            Prop("name"),
            Prop("gender", "str", "M / F (derived from the ID number when absent)"),
            Prop("birth_date", "date"),
            Prop("phone", "str", "normalised 11-digit phone"),
            Prop("address", "str", "normalised address"),
            Prop("bank_account", "str", "digits only"),
            Prop("employer_id"),
            Prop("death_date", "date"),
            *PROVENANCE,
        ),
        "An insured person (参保人); one node per ID number across all schemes.",
        search_props=("name",),
    ),
    NodeType(
        "Doctor", "doctor_id",
        (
            Prop("doctor_id"), Prop("name"), Prop("institution_id"),
            Prop("person_id", "str", "the doctor's own ID number"),
            *PROVENANCE,
        ),
        "A doctor (医保医师) working at an institution.",
        search_props=("name",),
    ),
    NodeType(
        "Institution", "institution_id", (*_INSTITUTION_PROPS, *PROVENANCE),
        "A designated medical institution (定点医疗机构) of any kind but pharmacy.",
        search_props=("name",),
    ),
    NodeType(
        "Pharmacy", "institution_id", (*_INSTITUTION_PROPS, *PROVENANCE),
        "A designated pharmacy (定点药店): an institution of kind pharmacy.",
        search_props=("name",),
    ),
    NodeType(
        "InjuryCase", "injury_case_id",
        (
            Prop("injury_case_id"), Prop("person_id"), Prop("injury_date", "date"),
            Prop("cause", "str", "traffic, work, assault, fall, sports, other"),
            Prop("third_party_liable", "bool"), Prop("employer_id"),
            Prop("reported_to", "str", "medical, work_injury, commercial"),
            *PROVENANCE,
        ),
        "A trauma/injury case (外伤案件).",
    ),
    NodeType(
        "Claim", "claim_key",
        (
            Prop("claim_key", "str", "scheme:claim_id"),
            Prop("claim_id"), Prop("scheme", "str", "medical, work_injury, commercial"),
            Prop("payer"), Prop("person_id"), Prop("institution_id"), Prop("doctor_id"),
            Prop("visit_type", "str", "outpatient, inpatient, pharmacy"),
            Prop("start_date", "date"), Prop("end_date", "date"),
            Prop("diagnosis_code", "str", "ICD-10"),
            Prop("total_amount", "float", "yuan"), Prop("reimbursed_amount", "float", "yuan"),
            Prop("injury_case_id"),
            *PROVENANCE,
        ),
        "A settled claim (结算单) of one scheme.",
    ),
    NodeType("Phone", "phone", (Prop("phone"),), "A phone number shared by one or more persons."),
    NodeType("BankAccount", "account", (Prop("account"),), "A bank account number."),
    NodeType("Address", "address", (Prop("address"),), "A normalised address.",
             search_props=("address",)),
    NodeType("Employer", "employer_id", (Prop("employer_id"),), "An employer (by id)."),
    NodeType(
        "Ring", "ring_id",
        (
            Prop("ring_id"), Prop("kind", "str", "collusion, shared_identifier"),
            Prop("score", "float", "0-1"),
            Prop("status", "str", "new, grown, shrunk, stable, vanished"),
            Prop("member_count", "int"),
            Prop("evidence", "json", "list of evidence sentences"),
            Prop("score_history", "json", "[{run_id, score, member_count}]"),
            Prop("first_run_id"), Prop("last_run_id"),
            Prop("review_verdict", "str", "CONFIRMED / DISMISSED"),
            Prop("review_reason"), Prop("reviewed_by"), Prop("reviewed_at", "datetime"),
            Prop("created_at", "datetime"), Prop("updated_at", "datetime"),
        ),
        "A suspected ring found by detection; its id persists across runs.", derived=True,
    ),
    NodeType(
        "Finding", "finding_id",
        (
            Prop("finding_id"),
            Prop("kind", "str", "double claim or anomaly kind"),
            Prop("category", "str", "double_claim / anomaly"),
            Prop("person_id"), Prop("excess_amount", "float"), Prop("score", "float"),
            Prop("evidence", "json"), Prop("claim_keys", "json"), Prop("run_id"),
        ),
        "A double claim or an impossible-care anomaly of the latest run.", derived=True,
    ),
    NodeType(
        "DetectionRun", "run_id",
        (
            Prop("run_id"), Prop("started_at", "datetime"), Prop("finished_at", "datetime"),
            Prop("duration_s", "float"), Prop("engine"), Prop("status"),
            Prop("parameters", "json"), Prop("counts", "json"), Prop("changes", "json"),
        ),
        "One run of the detection job.", derived=True,
    ),
    NodeType(
        "Case", "case_id",
        (
            Prop("case_id"), Prop("title"),
            Prop("status", "str", "open, investigating, referred_to_police, closed"),
            Prop("created_by"), Prop("agency", "str", "agency that owns the case"),
            Prop("shared_with", "str_list", "agencies the case is shared with"),
            Prop("created_at", "datetime"), Prop("updated_at", "datetime"),
        ),
        "An investigation case (案件).", derived=True, search_props=("title",),
    ),
    NodeType(
        "CaseNote", "note_id",
        (Prop("note_id"), Prop("case_id"), Prop("text"), Prop("author"), Prop("created_at", "datetime")),
        "A note an investigator added to a case.", derived=True,
    ),
)

_DATED = (Prop("date", "date", "the claim's start date"),)
_PEOPLE_ENTITIES = ("Patient", "Doctor", "Institution", "Pharmacy")

REL_TYPES: tuple[RelType, ...] = (
    RelType("HAS_CLAIM", ("Patient",), ("Claim",), _DATED, "the person the claim was paid for"),
    RelType("TREATED_AT", ("Claim",), ("Institution", "Pharmacy"), _DATED, "where care was given"),
    RelType("BY_DOCTOR", ("Claim",), ("Doctor",), _DATED, "the treating doctor"),
    RelType("FOR_INJURY", ("Claim",), ("InjuryCase",), (), "claim paid for this injury case"),
    RelType("HAS_INJURY", ("Patient",), ("InjuryCase",), (), "the injured person"),
    RelType("WORKS_AT", ("Doctor",), ("Institution", "Pharmacy"), (), "doctor's institution"),
    RelType("IS_PERSON", ("Doctor",), ("Patient",), (), "the doctor is also this insured person"),
    RelType("HAS_PHONE", ("Patient",), ("Phone",), (), "registered phone"),
    RelType("HAS_ACCOUNT", ("Patient",), ("BankAccount",), (), "registered bank account"),
    RelType("LIVES_AT", ("Patient",), ("Address",), (), "registered address"),
    RelType("EMPLOYED_BY", ("Patient",), ("Employer",), (), "employer"),
    RelType("INJURY_EMPLOYER", ("InjuryCase",), ("Employer",), (), "employer named by the case"),
    RelType(
        "HAS_MEMBER", ("Ring",),
        (*_PEOPLE_ENTITIES, "Phone", "BankAccount", "Address"),
        (Prop("role", "str", "patient, doctor, institution, broker_identifier"),),
        "ring membership (replaced by every run)", derived=True,
    ),
    RelType("INVOLVES", ("Finding",), ("Claim",), (), "claims of a finding", derived=True),
    RelType("CONCERNS", ("Finding",), ("Patient",), (), "person of a finding", derived=True),
    RelType("INCLUDES_RING", ("Case",), ("Ring",), (), "rings under investigation", derived=True),
    RelType(
        "INCLUDES", ("Case",), (*_PEOPLE_ENTITIES, "Claim", "InjuryCase"), (),
        "entities under investigation", derived=True,
    ),
    RelType("HAS_NOTE", ("Case",), ("CaseNote",), (), "case notes", derived=True),
)

NODES: dict[str, NodeType] = {n.label: n for n in NODE_TYPES}
RELS: dict[str, RelType] = {r.type: r for r in REL_TYPES}

INSTITUTION_KINDS = ("hospital", "clinic", "tcm_clinic", "elderly_care", "pharmacy", "other")
SCHEMES = ("medical", "work_injury", "commercial")
VISIT_TYPES = ("outpatient", "inpatient", "pharmacy")
INJURY_CAUSES = ("traffic", "work", "assault", "fall", "sports", "other")


@dataclass(frozen=True, order=True)
class NodeRef:
    """A node by label and key: how nodes are named across the port and the API."""

    label: str
    key: str

    def __post_init__(self) -> None:
        node_type(self.label)

    def __str__(self) -> str:
        return f"{self.label}:{self.key}"


@dataclass
class Node:
    label: str
    key: str
    props: dict[str, object] = field(default_factory=dict)

    @property
    def ref(self) -> NodeRef:
        return NodeRef(self.label, self.key)


@dataclass
class Edge:
    type: str
    src: NodeRef
    dst: NodeRef
    props: dict[str, object] = field(default_factory=dict)


def node_type(label: str) -> NodeType:
    try:
        return NODES[label]
    except KeyError:
        raise SchemaError(f"unknown node label {label!r}; known: {', '.join(NODES)}") from None


def rel_type(type_: str) -> RelType:
    try:
        return RELS[type_]
    except KeyError:
        raise SchemaError(f"unknown relationship type {type_!r}; known: {', '.join(RELS)}") from None


def claim_key(scheme: str, claim_id: str) -> str:
    return f"{scheme}:{claim_id}"


def institution_label(kind: str | None) -> str:
    """Pharmacies are their own label; every other kind is an Institution."""
    return "Pharmacy" if kind == "pharmacy" else "Institution"


def neo4j_schema_statements() -> list[str]:
    """Uniqueness constraints on every key, plus indexes used by search and date windows."""
    stmts: list[str] = []
    for n in NODE_TYPES:
        stmts.append(
            f"CREATE CONSTRAINT {n.label.lower()}_{n.key}_unique IF NOT EXISTS "
            f"FOR (n:{n.label}) REQUIRE n.{n.key} IS UNIQUE"
        )
    for n in NODE_TYPES:
        for prop in n.search_props:
            if prop != n.key:
                stmts.append(
                    f"CREATE INDEX {n.label.lower()}_{prop}_idx IF NOT EXISTS FOR (n:{n.label}) ON (n.{prop})"
                )
    for r in REL_TYPES:
        if r.dated:
            stmts.append(
                f"CREATE INDEX {r.type.lower()}_date_idx IF NOT EXISTS FOR ()-[r:{r.type}]-() ON (r.date)"
            )
    return stmts
