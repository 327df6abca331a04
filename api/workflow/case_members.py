"""Adding entities to a case that is already open (``addCaseEntities``).

The same rules as opening a case with entities (:func:`api.workflow.cases.open_case`): only the labels of
:data:`api.workflow.cases.INCLUDABLE`, and every entity must exist; nothing is added unless all are.
"""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd

from api.workflow.cases import INCLUDABLE, get_case, now_utc
from graph.errors import InvalidRequest, NotFound
from graph.model import Node, NodeRef
from graph.port import GraphStore

MAX_ADD = 500  # one request from the page's box selection; more is a script, not an investigator


def add_entities(store: GraphStore, case_id: str, entities: Sequence[NodeRef]) -> Node:
    get_case(store, case_id)
    refs = list(dict.fromkeys(entities))
    if not refs:
        raise InvalidRequest("addCaseEntities needs at least one entity")
    if len(refs) > MAX_ADD:
        raise InvalidRequest(f"at most {MAX_ADD} entities at once")
    for ref in refs:
        if ref.label not in INCLUDABLE:
            raise InvalidRequest(f"{ref.label} cannot be included in a case; one of {', '.join(INCLUDABLE)}")
    by_label: dict[str, list[str]] = {}
    for ref in refs:
        by_label.setdefault(ref.label, []).append(ref.key)
    missing: list[str] = []
    for label, keys in by_label.items():
        have = {n.key for n in store.get_nodes(label, keys)}
        missing += [f"{label}:{k}" for k in keys if k not in have]
    if missing:
        raise NotFound("cannot add to the case, not found: " + ", ".join(missing[:10]))
    store.upsert_relationships("INCLUDES", pd.DataFrame({
        "src": [case_id] * len(refs), "dst": [r.key for r in refs], "dst_label": [r.label for r in refs],
    }))
    store.upsert_nodes("Case", pd.DataFrame([{"case_id": case_id, "updated_at": now_utc()}]))
    return get_case(store, case_id)
