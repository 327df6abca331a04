"""Who did what to a case, from the audit log: opened, noted, moved, shared, reviewed, read.

The audit log (:mod:`api.security.audit`) holds one JSON record per request with the caller, the case ids
it touched and, for mutations, what it did. The excerpt keeps the records of one case (by case id,
or a review of one of its rings), oldest first; reads are summarised to the caller and the time.
The log is scanned as text first, so records that do not mention the case are never parsed.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

MAX_ROWS = 200  # a dossier lists the latest ones beyond this


def _mentions(record: dict[str, Any], case_id: str, ring_ids: set[str]) -> bool:
    if case_id in (record.get("case_ids") or []):
        return True
    details = record.get("details") or {}
    if details.get("mutation") == "reviewRing" and details.get("ring") in ring_ids:
        return True
    try:
        variables = json.loads(record.get("variables") or "{}")
    except ValueError:
        return False
    return isinstance(variables, dict) and (
        variables.get("caseId") == case_id or variables.get("id") == case_id
    )


def case_records(path: Path, case_id: str, ring_ids: Iterable[str] = ()) -> list[dict[str, Any]]:
    """The audit records of ``case_id`` (and reviews of ``ring_ids``), oldest first, at most MAX_ROWS."""
    rings = set(ring_ids)
    needles = [case_id, *rings]
    out: list[dict[str, Any]] = []
    if not path.exists():
        return out
    with path.open(encoding="utf-8") as fh:
        for line in fh:
            if not any(n in line for n in needles):
                continue
            try:
                record = json.loads(line)
            except ValueError:
                continue  # a torn last line; verification of the log is `medfraud audit verify`'s job
            if not isinstance(record, dict) or record.get("outcome") not in (None, "ok"):
                continue
            if _mentions(record, case_id, rings):
                out.append(
                    {
                        "ts": str(record.get("ts") or "")[:19].replace("T", " "),
                        "sub": record.get("sub"),
                        "role": record.get("role"),
                        "agency": record.get("agency"),
                        "operation": record.get("operation"),
                        "operation_type": record.get("operation_type"),
                        "details": record.get("details") or {},
                    }
                )
    return out[-MAX_ROWS:]
