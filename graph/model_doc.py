"""Render the graph model as Markdown (a Mermaid picture plus tables) for docs/graph-model.md.

The doc is generated so it cannot drift from ``graph.model``: ``tests/unit/graph/test_model.py``
fails when the committed file differs from :func:`render_markdown`.
"""

from __future__ import annotations

from graph.model import NODE_TYPES, REL_TYPES

_HEADER = """# The graph model

Generated from `graph/model.py` by `python -m graph.model_doc > docs/graph-model.md`; a unit test
fails when this file and the code disagree. Both stores are built from the same model: Neo4j gets a
uniqueness constraint per key (plus name and date indexes), DuckDB a typed table per label
(`n_<Label>`) and per relationship type (`r_<TYPE>`: `src`, `dst`, `src_label`, `dst_label` and the
type's properties).

- A claim is a node: it joins person, institution (or pharmacy), doctor, injury case and scheme.
  Its key is `claim_key = "<scheme>:<claim_id>"` because a claim is identified by both.
- Shared identifiers (`Phone`, `BankAccount`, `Address`, `Employer`) are nodes, so that "many persons
  on one phone" is graph structure, not a string compare.
- `Ring`, `Finding`, `DetectionRun`, `Case` and `CaseNote` are derived: written by detection and by
  investigators, never by ingest.
- Every input node also carries `source_file`, `load_batch` (provenance) and `extra` (unknown input
  columns as JSON).

## What the port gives back

- **Typed values.** Both adapters return `Node.props` converted by `graph.records.typed_props`:
  `date` a `datetime.date`, `datetime` a naive UTC `datetime`, `int`/`float`/`bool` those Python
  types, `json` the parsed value (stored as text, read back as list/dict), `str_list` a `list[str]`;
  a missing value is absent. `graph.records.record(node)` gives the node's typed dataclass
  (`PatientRecord`, `RingRecord` ..., generated into `graph/record_types.py` by
  `python -m graph.records > graph/record_types.py`; a unit test fails when it is stale). A stored
  value that is not its type is a `StoreError` naming label, property and value.
- **Listings.** `GraphStore.list_nodes(Listing)` pages through one label, filtered (equal to, one of,
  list contains, at least), ordered (missing values last, the key breaking ties) and counted by the
  store itself: SQL on DuckDB, Cypher on Neo4j. `graph.listing.rings/findings/cases` are the ones
  the API uses. Cursors are opaque (an offset into the order).
- **One write sequence.** A detection run is written by `GraphStore.replace_derived`, which turns it
  into write steps (`graph/derived.py`: run, rings, each given ring's members replaced, every
  finding replaced) that each adapter applies in one transaction (`GraphStore.write_steps`).
- **One error contract** (`graph/arguments.py`): a label, type or property outside this model is
  `SchemaError`; an argument out of range (negative cap or limit, unknown direction, batch size
  below one, page size outside 0..10,000, a foreign cursor, a filter on the wrong type of property)
  is `InvalidRequest`; rows with a missing key or a value that is not its property's type are
  `InputError` — on both stores (`tests/integration/test_store_contract.py`).
"""


def mermaid() -> str:
    lines = ["```mermaid", "flowchart LR"]
    for n in NODE_TYPES:
        shape = f"{n.label}([{n.label}])" if n.derived else f"{n.label}[{n.label}]"
        lines.append(f"    {shape}")
    for r in REL_TYPES:
        for s in r.start:
            for e in r.end:
                lines.append(f"    {s} -->|{r.type}| {e}")
    lines.append("```")
    return "\n".join(lines)


def render_markdown() -> str:
    out = [_HEADER, "## Picture", "", mermaid(), "", "## Node labels", "",
           "| label | key | properties | derived | what it is |", "|---|---|---|---|---|"]
    for n in NODE_TYPES:
        props = ", ".join(f"`{p.name}` ({p.type})" for p in n.props if p.name != n.key)
        derived = "yes" if n.derived else "no"
        out.append(f"| `{n.label}` | `{n.key}` | {props} | {derived} | {n.description} |")
    out += ["", "## Relationship types", "",
            "| type | from | to | properties | what it says |", "|---|---|---|---|---|"]
    for r in REL_TYPES:
        props = ", ".join(f"`{p.name}` ({p.type})" for p in r.props) or "-"
        out.append(
            f"| `{r.type}` | {' / '.join(r.start)} | {' / '.join(r.end)} | {props} | {r.description} |"
        )
    return "\n".join(out) + "\n"


if __name__ == "__main__":
    print(render_markdown(), end="")
