"""Every Cypher statement medfraud can send, checked by Neo4j's own linter.

Collected, not copied: the model's schema statements; every statement :class:`Neo4jStore` sends
for every operation over every label and relationship type (captured by driving it through the
recording driver, with the parameters it really passes); the GDS engine's projection and the
``CALL gds.*`` statements the graphdatascience client itself generates (captured with a recording
query runner); and every ``queries/*.cypher`` file with the parameters its header declares.

``tests/cypher_lint/lint.mjs`` runs ``lintCypherQuery`` from ``@neo4j-cypher/language-support``
(pinned in ``tests/cypher_lint/package.json``) over all of them in one Node process, with the
labels, relationship types, property keys and relationship endpoints of ``graph.model`` and the
procedure/function registry of a Neo4j 5 server with GDS bundled in that package. Any error,
any deprecation and any warning (unknown label, type or property, a path the model does not
have) fails the test.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pytest
from graphdatascience import GraphDataScience

from algorithms.gds_engine import GdsEngine
from graph import listing
from graph.derived import DerivedData
from graph.model import NODE_TYPES, REL_TYPES, NodeRef, NodeType, PropType, neo4j_schema_statements, node_type
from graph.neo4j import revisions, steps
from graph.neo4j import statements as cy
from graph.neo4j.store import Neo4jStore
from tests.unit.algorithms.gds_recording import RecordingQueryRunner
from tests.unit.graph.neo4j_recording import RecordingDriver, Reply, default_reply

ROOT = Path(__file__).resolve().parents[2]
LINT_DIR = ROOT / "tests" / "cypher_lint"
INSTALL_HINT = "install the linter with: npm ci --prefix tests/cypher_lint  (needs Node.js >= 20 and npm)"

SAMPLE: dict[PropType, Any] = {
    "str": "x", "int": 1, "float": 1.5, "bool": True, "date": date(2025, 1, 2),
    "datetime": datetime(2025, 1, 2, 3, 4, tzinfo=UTC), "json": ["a"], "str_list": ["a"],
}
ANALYST_QUERY = "MATCH (p:Patient)-[:HAS_CLAIM]->(c:Claim) RETURN p.person_id AS id, count(c) AS claims"
_PARAM_RE = re.compile(r"^//\s*param:\s*([A-Za-z_][A-Za-z0-9_]*)\s+(\w+)\s*$")
_PARAM_SAMPLES = {"string": "x", "int": 1, "float": 1.5, "date": "2025-01-02"}


# -- collecting the statements ----------------------------------------------------------------
class Collected:
    def __init__(self) -> None:
        self.statements: dict[str, dict[str, Any]] = {}  # text -> {"id", "parameters"}

    def add(self, origin: str, text: str, params: dict[str, Any] | None) -> None:
        entry = self.statements.setdefault(text, {"id": origin, "parameters": {}})
        for name, value in (params or {}).items():
            entry["parameters"].setdefault(name, _small(value))


def _small(value: Any) -> Any:
    """A JSON-able sample of a parameter value (the linter only needs its presence and shape)."""
    if isinstance(value, list | tuple):
        return [_small(v) for v in list(value)[:1]]
    if isinstance(value, dict):
        return {k: _small(v) for k, v in value.items()}
    if isinstance(value, date | datetime):
        return value.isoformat()
    if value is None or isinstance(value, str | int | float | bool):
        return value
    return str(value)


def _frame(nt: NodeType) -> pd.DataFrame:
    return pd.DataFrame({p.name: [SAMPLE[p.type]] for p in nt.props})


def _paging_reply(statement: str, params: dict[str, Any]) -> Reply:
    if "AS existing" in statement:  # links exist, so replace_relationships sends its delete too
        return Reply([{"existing": 1}])
    if statement.endswith("AS nodes"):  # a label large enough to be read as two key ranges
        return Reply([{"nodes": 3}])
    if statement.endswith("AS split"):
        return Reply([{"split": "k"}])
    # One full page then an empty one, so the paging loops send their follow-up statement too.
    if "$last" in statement and params.get("last") is None:
        if "AS src" in statement:
            return Reply([{"src": "k", "dst": "d", "props": {}}] * params["limit"])
        return Reply([{"key": "k", "vals": [None] * len(params["columns"])}] * params["limit"])
    return default_reply(statement, params)


def store_statements(collected: Collected) -> set[str]:
    driver = RecordingDriver(_paging_reply)
    store = Neo4jStore(driver, database="neo4j", batch_size=2)  # type: ignore[arg-type]
    done = 0

    def record(origin: str) -> None:
        nonlocal done
        for call in driver.calls[done:]:
            collected.add(f"Neo4jStore.{origin}", call.statement, call.parameters)
        done = len(driver.calls)

    store.apply_schema()
    record("apply_schema")
    for nt in NODE_TYPES:
        ref = NodeRef(nt.label, "k")
        store.upsert_nodes(nt.label, _frame(nt))
        record(f"upsert_nodes({nt.label})")
        store.upsert_nodes(nt.label, pa.table({p.name: [SAMPLE[p.type]] for p in nt.props}))
        record(f"upsert_nodes({nt.label}, Arrow: column-wise)")
        store.get_nodes(nt.label, ["k"])
        record(f"get_nodes({nt.label})")
        for direction in ("out", "in", "both"):
            store.neighbours([ref], labels=["Claim"], since=date(2025, 1, 1),
                             until=date(2025, 12, 31), cap=5, direction=direction)
            record(f"neighbours({nt.label}, {direction})")
        store.degrees([ref])
        record(f"degrees({nt.label})")
        store.search("k", labels=[nt.label])
        record(f"search({nt.label})")
        for columns in stream_column_sets(nt.label):
            list(store.stream_nodes(nt.label, columns, batch_size=1))
        record(f"stream_nodes({nt.label})")
        store.delete_nodes(nt.label, ["k"])
        record(f"delete_nodes({nt.label})")
    for rt in REL_TYPES:
        for start in rt.start:
            for end in rt.end:
                rows = pd.DataFrame({"src": ["a"], "dst": ["b"], "src_label": [start], "dst_label": [end],
                                     **{p.name: [SAMPLE[p.type]] for p in rt.props}})
                store.upsert_relationships(rt.type, rows)
                record(f"upsert_relationships({rt.type}, {start}->{end})")
                store.upsert_relationships(rt.type, pa.table({c: list(v) for c, v in rows.items()}))
                record(f"upsert_relationships({rt.type}, {start}->{end}, Arrow: column-wise)")
        list(store.stream_relationships(rt.type, batch_size=1))
        record(f"stream_relationships({rt.type})")
        props = {p.name: [SAMPLE[p.type]] for p in rt.props}
        store.replace_relationships(rt.type, ["a", "z"], pd.DataFrame(
            {"src": ["a"], "dst": ["b"], "dst_label": [rt.end[-1]], **props}))
        record(f"replace_relationships({rt.type})")
    store.count_nodes()
    record("count_nodes")
    store.count_relationships()
    record("count_relationships")
    for name, wanted in (
        ("rings", listing.restricted(listing.rings(kind="collusion", status="new", min_score=0.5),
                                     "ring_id", {"R1"})),
        ("findings", listing.findings(category="double_claim", kind="k", person_id="p")),
        ("cases", listing.cases(status="open", shared_with="police:1")),
    ):
        store.list_nodes(wanted)
        record(f"list_nodes({name})")
    nodes = {n.label: n for n in NODE_TYPES}
    store.replace_derived(DerivedData(
        run=_frame(nodes["DetectionRun"]), rings=_frame(nodes["Ring"]),
        ring_members=pd.DataFrame({"src": ["r"], "dst": ["p"], "dst_label": ["Patient"],
                                   "role": ["patient"]}),
        findings=_frame(nodes["Finding"]),
        finding_claims=pd.DataFrame({"src": ["f"], "dst": ["c"]}),
        finding_persons=pd.DataFrame({"src": ["f"], "dst": ["p"]}),
    ))
    record("replace_derived")
    store.read_query(ANALYST_QUERY)
    record("read_query")
    store.ping()
    record("ping")
    store.delete_everything()
    record("delete_everything")
    return {c.statement for c in driver.calls}


def gds_statements(collected: Collected) -> None:
    runner = RecordingQueryRunner()
    engine = GdsEngine(GraphDataScience(runner, arrow=False, show_progress=False))
    edges = pd.DataFrame({"src": ["a", "b"], "dst": ["b", "c"], "weight": [2.0, 1.0]})
    engine.communities(edges, resolution=0.5, seed=1)
    engine.components(edges)
    for call in runner.calls:
        collected.add("GdsEngine", call.statement, call.parameters)


def named_query_files(collected: Collected) -> int:
    files = sorted((ROOT / "queries").glob("*.cypher"))
    for path in files:
        text = path.read_text(encoding="utf-8")
        params = {}
        for line in text.splitlines():
            match = _PARAM_RE.match(line.strip())
            if match:
                params[match.group(1)] = _PARAM_SAMPLES.get(match.group(2), "x")
        collected.add(f"queries/{path.name}", text, params)
        collected.statements[text]["parameters"] = params
    return len(files)


def stream_column_sets(label: str) -> list[tuple[str, ...]]:
    """The column choices streamed for a label: all, the key alone, and what detection reads."""
    from algorithms import projections as pj

    nt = node_type(label)
    detection = {"Patient": pj.PERSON_COLUMNS, "Institution": pj.INSTITUTION_COLUMNS,
                 "Pharmacy": pj.INSTITUTION_COLUMNS, "Doctor": pj.DOCTOR_COLUMNS,
                 "Claim": pj.CLAIM_COLUMNS, "InjuryCase": pj.INJURY_COLUMNS}
    sets = [tuple(nt.prop_names), (nt.key,)]
    if label in detection:
        sets.append(tuple(detection[label]))
    return sets


def every_builder_statement() -> set[str]:
    """What graph.neo4j.statements can produce for this model: the drive above must reach all."""
    out = {cy.delete_some_nodes(), steps.delete_all_nodes("Finding"), cy.ping(),
           cy.count_nodes(), cy.count_relationships()}
    for nt in NODE_TYPES:
        lb = nt.label
        out |= {cy.upsert_nodes(lb), cy.delete_nodes(lb), cy.get_nodes(lb), cy.degrees(lb), cy.search(lb)}
        out |= {cy.stream_nodes_page(lb, columns, bounded=b) for columns in stream_column_sets(lb)
                for b in (False, True)}
        out |= {cy.count_label(lb), cy.key_at(lb)}
        if not cy.can_connect(lb, "both"):
            out -= {cy.degrees(lb)}
        else:
            out.add(cy.neighbours(lb))
    for rt in REL_TYPES:
        out.add(cy.count_one_relationship_type(rt.type))
        for start in rt.start:
            for end in rt.end:
                out |= {cy.upsert_relationships(rt.type, start, end),
                        cy.stream_relationships_page(rt.type, start, end)}
    return out


def _map_keys(value: Any) -> set[str]:
    if isinstance(value, dict):
        return set(value) | {k for v in value.values() for k in _map_keys(v)}
    if isinstance(value, list):
        return {k for v in value for k in _map_keys(v)}
    return set()


def lint_schema(statements: list[dict[str, Any]]) -> dict[str, Any]:
    prop_keys = {p.name for n in NODE_TYPES for p in n.props} | {p.name for r in REL_TYPES for p in r.props}
    prop_keys |= {"name", "token"}  # the revision tokens' (graph/neo4j/revisions.py)
    # The linter cannot tell `row.src` (a key of a parameter map) from a graph property: the keys
    # of the maps the code really sends are declared too, everything else must be in the model.
    prop_keys |= {k for s in statements for k in _map_keys(s["parameters"])}
    return {
        "labels": [*(n.label for n in NODE_TYPES), revisions.LABEL],
        "relationshipTypes": [r.type for r in REL_TYPES],
        "propertyKeys": sorted(prop_keys),
        "graphSchema": [{"from": s, "to": e, "relType": r.type}
                        for r in REL_TYPES for s in r.start for e in r.end],
        "parameters": {},
        "defaultLanguage": "CYPHER 5",
    }


# -- the test ---------------------------------------------------------------------------------
def _run_linter(payload: dict[str, Any]) -> dict[str, Any]:
    node = shutil.which("node")
    if node is None:
        pytest.fail(f"Node.js is not installed; {INSTALL_HINT}")
    if not (LINT_DIR / "node_modules" / "@neo4j-cypher" / "language-support").is_dir():
        pytest.fail(f"the Cypher linter is not installed; {INSTALL_HINT}")
    proc = subprocess.run(
        [node, str(LINT_DIR / "lint.mjs")], input=json.dumps(payload), capture_output=True,
        text=True, timeout=120, check=False,
    )
    if proc.returncode != 0:
        pytest.fail(f"lint.mjs failed ({proc.returncode}):\n{proc.stderr}")
    result: dict[str, Any] = json.loads(proc.stdout)
    return result


@pytest.mark.slow  # ~40 ms of semantic analysis per statement, a few hundred statements
def test_every_cypher_statement_passes_neo4js_linter() -> None:
    collected = Collected()
    for i, text in enumerate(neo4j_schema_statements()):
        collected.add(f"graph.model.neo4j_schema_statements[{i}]", text, {})
    collected.add("graph.neo4j.revisions.CONSTRAINT", revisions.CONSTRAINT, {})
    collected.add("graph.neo4j.revisions.BUMP", revisions.BUMP, {"names": ["Patient", "HAS_CLAIM"]})
    collected.add("graph.neo4j.revisions.READ", revisions.READ, {})
    sent = store_statements(collected)
    missed = every_builder_statement() - sent
    assert not missed, "statements the store can build but the drive did not reach:\n" + "\n".join(missed)
    gds_statements(collected)
    query_files = named_query_files(collected)

    statements = [{"id": v["id"], "text": text, "parameters": v["parameters"]}
                  for text, v in collected.statements.items()]
    result = _run_linter({"statements": statements, "schema": lint_schema(statements)})

    assert result["registry"]["procedures"] > 0, "the linter had no procedure registry"
    by_id = {s["id"]: s["text"] for s in statements}
    problems = [
        f"{d['id']} {d['line']}:{d['character']} {d['severity']}"
        f"{' (deprecated)' if d['deprecated'] else ''}: {d['message']}\n    in: {by_id[d['id']]}"
        for d in result["diagnostics"]
    ]
    print(f"linted {len(statements)} statements ({query_files} query files); "
          f"{len(result['diagnostics'])} diagnostics")
    assert not problems, f"{len(problems)} linter diagnostics:\n" + "\n".join(problems)
    assert any(s["id"] == "GdsEngine" and "gds.leiden.stream" in s["text"] for s in statements)
