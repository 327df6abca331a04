"""A recording GDS query runner: the ``graphdatascience`` client talks to it instead of Neo4j.

It builds ``CALL endpoint($a, $b) YIELD ...`` exactly as the client's Neo4j runner does, records
every statement with its parameters, keeps the projections it was asked to create, and answers
``gds.leiden.stream`` / ``gds.wcc.stream`` (as the engine's collected-lists queries) with the
connected components of the projected edge list (enough to check how results map back; it is no
stand-in for Leiden's quality). ``fail_on`` makes the named endpoint raise, to check that
projections are dropped on error.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import neo4j
import pandas as pd
from graphdatascience.call_parameters import CallParameters
from graphdatascience.error.gds_not_installed import GdsNotFound
from graphdatascience.query_runner.query_mode import QueryMode
from graphdatascience.query_runner.query_runner import QueryRunner
from graphdatascience.query_runner.query_type import QueryType
from graphdatascience.versions import ServerVersion


@dataclass
class GdsCall:
    statement: str
    parameters: dict[str, Any]


class RecordingQueryRunner(QueryRunner):
    def __init__(
        self,
        *,
        database: str = "neo4j",
        fail_on: dict[str, Exception] | None = None,
        gds_installed: bool = True,
    ) -> None:
        self.gds_installed = gds_installed
        self.calls: list[GdsCall] = []
        self.graphs: dict[str, list[dict[str, Any]]] = {}
        self.dropped: list[str] = []
        self.fail_on = fail_on or {}
        self._database: str | None = database

    # -- what the engine exercises -------------------------------------------------------------
    def _record(self, statement: str, params: dict[str, Any] | None) -> None:
        self.calls.append(GdsCall(statement, dict(params or {})))
        for endpoint, error in self.fail_on.items():
            if endpoint in statement:
                raise error

    def run_cypher(
        self,
        query: str,
        query_type: QueryType = QueryType.USER_DIRECTED,
        params: dict[str, Any] | None = None,
        database: str | None = None,
        mode: QueryMode | None = None,
        custom_error: bool = True,
    ) -> pd.DataFrame:
        self._record(query, params)
        if "gds.graph.project(" in query and params is not None:
            rels = projected_relationships(params)
            self.graphs[params["graph_name"]] = rels
            nodes = {r["source"] for r in rels} | {r["target"] for r in rels}
            return pd.DataFrame(
                [
                    {
                        "graph": {
                            "graphName": params["graph_name"],
                            "nodeCount": len(nodes),
                            "relationshipCount": 2 * len(rels),
                            "projectMillis": 1,
                            "configuration": {},
                            "query": query,
                        }
                    }
                ]
            )
        if ("gds.leiden.stream(" in query or "gds.wcc.stream(" in query) and params is not None:
            comps = sorted(_components(self.graphs[params["graph_name"]]).items())
            return pd.DataFrame([{"nodes": [n for n, _ in comps], "labels": [c for _, c in comps]}])
        return pd.DataFrame()

    def run_retryable_cypher(
        self,
        query: str,
        query_type: QueryType = QueryType.USER_DIRECTED,
        params: dict[str, Any] | None = None,
        database: str | None = None,
        mode: QueryMode | None = None,
        custom_error: bool = True,
    ) -> pd.DataFrame:
        return self.run_cypher(query, query_type, params, database, mode, custom_error)

    def call_procedure(
        self,
        endpoint: str,
        query_type: QueryType = QueryType.USER_TRANSPILED,
        params: CallParameters | None = None,
        yields: list[str] | None = None,
        database: str | None = None,
        mode: QueryMode = QueryMode.READ,
        logging: bool = False,
        retryable: bool = False,
        custom_error: bool = True,
    ) -> pd.DataFrame:
        params = params or CallParameters()
        yields_clause = "" if yields is None else " YIELD " + ", ".join(yields)
        self._record(f"CALL {endpoint}({params.placeholder_str()}){yields_clause}", params)
        if endpoint == "gds.graph.drop":
            names = params["graphName"]
            for name in names if isinstance(names, list) else [names]:
                self.dropped.append(name)
                self.graphs.pop(name, None)
            return pd.DataFrame()
        return pd.DataFrame()

    def call_function(
        self,
        endpoint: str,
        query_type: QueryType = QueryType.USER_TRANSPILED,
        params: CallParameters | None = None,
    ) -> Any:
        params = params or CallParameters()
        self._record(f"RETURN {endpoint}({params.placeholder_str()})", params)
        return None

    # -- the rest of the runner surface --------------------------------------------------------
    def server_version(self) -> ServerVersion:
        if not self.gds_installed:  # what the client's Neo4j runner raises without the plugin
            raise GdsNotFound("The Graph Data Science library is not correctly installed")
        return ServerVersion(2, 13, 0)

    def driver_config(self) -> dict[str, Any]:
        return {}

    def db_driver(self) -> neo4j.Driver:
        raise NotImplementedError("no driver behind the recording runner")

    def encrypted(self) -> bool:
        return False

    def set_database(self, database: str) -> None:
        self._database = database

    def set_bookmarks(self, bookmarks: neo4j.Bookmarks | None) -> None:
        return None

    def database(self) -> str | None:
        return self._database

    def bookmarks(self) -> neo4j.Bookmarks | None:
        return None

    def last_bookmarks(self) -> neo4j.Bookmarks | None:
        return None

    def set_show_progress(self, show_progress: bool) -> None:
        return None

    def cloneWithoutRouting(self, host: str, port: int) -> QueryRunner:
        return self

    def read_connection_info(self) -> neo4j.Address:
        return neo4j.Address(("localhost", 7687))

    def statements(self) -> list[str]:
        return [c.statement for c in self.calls]


def projected_relationships(params: dict[str, Any] | CallParameters) -> list[dict[str, Any]]:
    """The relationships a projection's parallel ``sources``/``targets``/``weights`` lists describe."""
    return [
        {"source": s, "target": t, "weight": w}
        for s, t, w in zip(params["sources"], params["targets"], params["weights"], strict=True)
    ]


def _components(rels: list[dict[str, Any]]) -> dict[int, int]:
    parent: dict[int, int] = {}

    def find(x: int) -> int:
        parent.setdefault(x, x)
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for r in rels:
        a, b = find(r["source"]), find(r["target"])
        if a != b:
            parent[max(a, b)] = min(a, b)
    return {n: find(n) for n in list(parent)}
