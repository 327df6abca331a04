"""Investigation cases: opening, notes, the status machine and sharing with police agencies.

Cases live in the graph as ``Case`` and ``CaseNote`` nodes linked by ``INCLUDES`` (entities),
``INCLUDES_RING`` and ``HAS_NOTE`` (graph/model.py), so they survive detection re-runs (which
never touch them) and police scoping is a graph walk from the cases shared with an agency.
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from datetime import UTC, datetime

import pandas as pd

from api.security.auth import AgencyKind, Principal, agency_ref
from graph import listing
from graph.errors import InvalidRequest, NotFound
from graph.listing import Listing, every_node
from graph.model import Node, NodeRef
from graph.port import GraphStore
from graph.record_types import CaseRecord
from graph.records import record_of

STATUSES = ("open", "investigating", "referred_to_police", "closed")
# Forward only: a case can be closed at any point, never reopened or moved back.
TRANSITIONS: dict[str, frozenset[str]] = {
    "open": frozenset({"investigating", "closed"}),
    "investigating": frozenset({"referred_to_police", "closed"}),
    "referred_to_police": frozenset({"closed"}),
    "closed": frozenset(),
}
INCLUDABLE = ("Patient", "Doctor", "Institution", "Pharmacy", "Claim", "InjuryCase")
MAX_TITLE = 200
MAX_NOTE = 20_000


def now_utc() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def _new_id(prefix: str) -> str:
    return f"{prefix}-{now_utc():%Y%m%d}-{secrets.token_hex(4)}"


def get_case(store: GraphStore, case_id: str) -> Node:
    found = store.get_nodes("Case", [case_id])
    if not found:
        raise NotFound(f"case {case_id} not found")
    return found[0]


def open_case(store: GraphStore, principal: Principal, title: str, ring_ids: Sequence[str],
              entities: Sequence[NodeRef]) -> Node:
    title = title.strip()
    if not title:
        raise InvalidRequest("a case needs a title")
    if len(title) > MAX_TITLE:
        raise InvalidRequest(f"case title longer than {MAX_TITLE} characters")
    for ref in entities:
        if ref.label not in INCLUDABLE:
            raise InvalidRequest(f"{ref.label} cannot be included in a case; one of {', '.join(INCLUDABLE)}")
    rings = list(dict.fromkeys(ring_ids))
    found_rings = {n.key for n in store.get_nodes("Ring", rings)} if rings else set()
    missing = [r for r in rings if r not in found_rings]
    ents = list(dict.fromkeys(entities))
    by_label: dict[str, list[str]] = {}
    for ref in ents:
        by_label.setdefault(ref.label, []).append(ref.key)
    for label, keys in by_label.items():
        have = {n.key for n in store.get_nodes(label, keys)}
        missing += [f"{label}:{k}" for k in keys if k not in have]
    if missing:
        raise NotFound("cannot open the case, not found: " + ", ".join(missing[:10]))
    now = now_utc()
    case_id = _new_id("CASE")
    store.upsert_nodes("Case", pd.DataFrame([{
        "case_id": case_id, "title": title, "status": "open", "created_by": principal.sub,
        "agency": principal.agency_ref, "shared_with": [], "created_at": now, "updated_at": now,
    }]))
    if rings:
        store.upsert_relationships("INCLUDES_RING", pd.DataFrame({"src": case_id, "dst": rings}))
    if ents:
        store.upsert_relationships("INCLUDES", pd.DataFrame({
            "src": [case_id] * len(ents), "dst": [r.key for r in ents], "dst_label": [r.label for r in ents],
        }))
    return get_case(store, case_id)


def add_note(store: GraphStore, principal: Principal, case_id: str, text: str) -> Node:
    get_case(store, case_id)
    text = text.strip()
    if not text:
        raise InvalidRequest("a note needs text")
    if len(text) > MAX_NOTE:
        raise InvalidRequest(f"note longer than {MAX_NOTE} characters")
    note_id = _new_id("NOTE")
    now = now_utc()
    store.upsert_nodes("CaseNote", pd.DataFrame([{
        "note_id": note_id, "case_id": case_id, "text": text, "author": principal.sub, "created_at": now,
    }]))
    store.upsert_relationships("HAS_NOTE", pd.DataFrame({"src": [case_id], "dst": [note_id]}))
    _touch(store, case_id, now)
    return store.get_nodes("CaseNote", [note_id])[0]


def set_status(store: GraphStore, case_id: str, status: str) -> Node:
    case = get_case(store, case_id)
    if status not in STATUSES:
        raise InvalidRequest(f"unknown case status {status!r}; one of {', '.join(STATUSES)}")
    current = str(case.props.get("status") or "open")
    if status == current:
        return case
    if status not in TRANSITIONS.get(current, frozenset()):
        allowed = ", ".join(sorted(TRANSITIONS.get(current, frozenset()))) or "none (the case is closed)"
        raise InvalidRequest(f"case {case_id} cannot move from {current} to {status}; allowed: {allowed}")
    store.upsert_nodes("Case", pd.DataFrame([{"case_id": case_id, "status": status,
                                              "updated_at": now_utc()}]))
    return get_case(store, case_id)


# Kinds of agency a case can be shared with (a bureau's own investigators see every case anyway).
SHARE_KINDS = (AgencyKind.police, AgencyKind.discipline)


def share_target(kind: str, agency: str) -> str:
    """The ``kind:id`` a case is shared with; the kind is checked, the id is the receiver's own."""
    agency = agency.strip()
    if not agency:
        raise InvalidRequest("shareCase needs an agency")
    if kind not in {k.value for k in SHARE_KINDS}:
        kinds = ", ".join(k.value for k in SHARE_KINDS)
        raise InvalidRequest(f"cases are shared with agencies of kind {kinds}; not {kind!r}")
    return agency_ref(kind, agency)


def share(store: GraphStore, case_id: str, agency: str) -> Node:
    """Add ``agency`` (a ``kind:id`` from :func:`share_target`) to the case's receivers."""
    case = get_case(store, case_id)
    agencies = record_of(case, CaseRecord).shared_with or []
    if agency not in agencies:
        frame = pd.DataFrame({"case_id": [case_id], "updated_at": [now_utc()]})
        frame["shared_with"] = pd.Series([[*agencies, agency]], dtype="object")
        store.upsert_nodes("Case", frame)
    return get_case(store, case_id)


def _touch(store: GraphStore, case_id: str, now: datetime) -> None:
    store.upsert_nodes("Case", pd.DataFrame([{"case_id": case_id, "updated_at": now}]))


def cases_listing(*, status: str | None, first: int, after: str | None) -> Listing:
    """The cases listing the API pages through (newest first); an unknown status is refused."""
    if status is not None and status not in STATUSES:
        raise InvalidRequest(f"unknown case status {status!r}; one of {', '.join(STATUSES)}")
    return listing.cases(status=status, first=first, after=after)


def qualify_legacy_agencies(store: GraphStore) -> int:
    """Give cases opened before agency kinds their ``kind:id`` spelling; returns cases changed.

    The opening agency was always a bureau (only investigators open cases) and cases were shared
    with police, so ``X`` becomes ``bureau:X`` and a shared ``Y`` becomes ``police:Y``. Without it
    police lose sight of cases shared before the upgrade, and only admins can move old cases.
    """
    changed = []
    for node in every_node(store.list_nodes, Listing("Case")):
        rec = record_of(node, CaseRecord)
        agency = rec.agency or ""
        shared = list(rec.shared_with or [])
        new_agency = agency if not agency or ":" in agency else agency_ref(AgencyKind.bureau, agency)
        new_shared = [s if ":" in s else agency_ref(AgencyKind.police, s) for s in shared]
        if new_agency != agency or new_shared != shared:
            changed.append((rec.case_id, new_agency or None, new_shared))
    if changed:
        out = pd.DataFrame({"case_id": [c for c, _, _ in changed], "agency": [a for _, a, _ in changed]})
        out["shared_with"] = pd.Series([s for _, _, s in changed], dtype="object")
        store.upsert_nodes("Case", out)
    return len(changed)
