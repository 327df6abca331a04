"""One detection run's write sequence, written once above the adapters.

:meth:`graph.port.GraphStore.replace_derived` turns a :class:`graph.port.DerivedData` into these
steps and hands them to the adapter's :meth:`~graph.port.GraphStore.write_steps`, which applies
them in order in one transaction. The sequence, and why each step is there:

1. upsert the ``DetectionRun`` node;
2. upsert the rings given (new ones and those whose members or score changed, vanished ones too);
3. replace the ``HAS_MEMBER`` set of each ring given by ``ring_members`` — rings not given keep
   theirs, so a ring a case or review hangs on never loses its members silently;
4. delete every ``Finding`` (and its relationships): findings are recomputed whole by every run;
5. upsert the new findings, then their ``INVOLVES`` (claims) and ``CONCERNS`` (person) links.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from graph.writesteps import (
    DeleteAllNodes,
    ReplaceRelationships,
    UpsertNodes,
    UpsertRelationships,
    WriteStep,
    check_steps,
)


@dataclass
class DerivedData:
    """What one detection run writes (see :meth:`graph.port.GraphStore.replace_derived`).

    Frames use model property names; ``ring_members`` has columns ``src`` (ring_id), ``dst``
    (member key), ``dst_label`` and ``role``; ``finding_claims`` has ``src`` (finding_id) and
    ``dst`` (claim_key); ``finding_persons`` has ``src`` (finding_id) and ``dst`` (person_id).
    """

    run: pd.DataFrame
    rings: pd.DataFrame
    ring_members: pd.DataFrame
    findings: pd.DataFrame
    finding_claims: pd.DataFrame
    finding_persons: pd.DataFrame


def derived_steps(data: DerivedData) -> list[WriteStep]:
    """The write steps of one detection run; column errors are raised here, before any write."""
    steps: list[WriteStep] = []
    if len(data.run):
        steps.append(UpsertNodes("DetectionRun", data.run))
    if len(data.rings):
        steps.append(UpsertNodes("Ring", data.rings))
        ring_ids = tuple(dict.fromkeys(str(r) for r in data.rings["ring_id"].tolist()))
        members = data.ring_members if len(data.ring_members.columns) else pd.DataFrame(
            {"src": pd.Series(dtype=str), "dst": pd.Series(dtype=str)})
        steps.append(ReplaceRelationships("HAS_MEMBER", ring_ids, members))
    elif len(data.ring_members):
        steps.append(UpsertRelationships("HAS_MEMBER", data.ring_members))
    steps.append(DeleteAllNodes("Finding"))
    if len(data.findings):
        steps.append(UpsertNodes("Finding", data.findings))
    if len(data.finding_claims):
        steps.append(UpsertRelationships("INVOLVES", data.finding_claims))
    if len(data.finding_persons):
        steps.append(UpsertRelationships("CONCERNS", data.finding_persons))
    check_steps(steps)
    return steps
