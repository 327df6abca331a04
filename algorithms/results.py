"""Typed results of the detectors, shared by scoring, identity, export and the job."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field, field_validator

from algorithms.evidence import Evidence, evidence_list

RingKind = Literal["collusion", "shared_identifier", "pharmacy_cash_out"]
MEMBER_ROLES = {
    "Patient": "patient",
    "Doctor": "doctor",
    "Institution": "institution",
    "Pharmacy": "institution",
    "Phone": "broker_identifier",
    "BankAccount": "broker_identifier",
    "Address": "broker_identifier",
}


class Member(BaseModel):
    type: str
    id: str

    @property
    def ref(self) -> str:
        return f"{self.type}:{self.id}"

    @property
    def role(self) -> str:
        return MEMBER_ROLES.get(self.type, "member")


class Ring(BaseModel):
    """A suspected ring; ``ring_id`` is assigned by :mod:`algorithms.identity`."""

    kind: RingKind
    score: float = Field(ge=0.0, le=1.0)
    members: list[Member]
    evidence: list[Evidence]
    features: dict[str, Any] = Field(default_factory=dict)
    ring_id: str | None = None
    status: str | None = None

    @field_validator("evidence", mode="before")
    @classmethod
    def _stored_evidence(cls, value: object) -> list[Evidence]:
        return evidence_list(value)

    @property
    def patient_ids(self) -> list[str]:
        return [m.id for m in self.members if m.type == "Patient"]

    @property
    def member_refs(self) -> set[str]:
        return {m.ref for m in self.members}


class ClaimRef(BaseModel):
    scheme: str
    claim_id: str

    @property
    def key(self) -> str:
        return f"{self.scheme}:{self.claim_id}"


class Finding(BaseModel):
    """A double claim (``category='double_claim'``) or an impossible-care anomaly."""

    category: Literal["double_claim", "anomaly"]
    kind: str
    person_id: str
    claims: list[ClaimRef]
    excess_amount: float = 0.0
    score: float = Field(default=1.0, ge=0.0, le=1.0)
    evidence: list[Evidence] = Field(default_factory=list)

    @field_validator("evidence", mode="before")
    @classmethod
    def _stored_evidence(cls, value: object) -> list[Evidence]:
        return evidence_list(value)


def fmt_yuan(amount: float) -> str:
    return f"¥{amount:,.0f}"
