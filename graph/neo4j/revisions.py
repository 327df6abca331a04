"""Revision tokens in the database: which labels and types changed, seen by every process.

Several processes write to one Neo4j (``medfraud ingest`` while API workers serve) and each API
worker keeps in-memory copies of the graph (:mod:`graph.serving`). After each committed write
batch the adapter gives every label and relationship type it touched a fresh random token in a
``_Revision`` node, in a transaction of its own: one tiny node per name, so parallel writers of
different labels never wait on each other, and a token (not a counter) so that a wiped database
cannot repeat an old value. A reader that compares two readings knows exactly which copies to drop.

``_Revision`` is not a label of the model: counts, streams and the named queries never see it.
"""

from __future__ import annotations

from collections.abc import Iterable

LABEL = "_Revision"

CONSTRAINT = (f"CREATE CONSTRAINT medfraud_revision_name IF NOT EXISTS "
              f"FOR (r:{LABEL}) REQUIRE r.name IS UNIQUE")

BUMP = (f"UNWIND $names AS name MERGE (r:{LABEL} {{name: name}}) "
        "SET r.token = randomUUID()")

READ = f"MATCH (r:{LABEL}) RETURN r.name AS name, r.token AS token"


def names(*groups: Iterable[str]) -> list[str]:
    """The distinct names, sorted: MERGE locks them in one order, so two writers never deadlock."""
    return sorted({n for group in groups for n in group})
