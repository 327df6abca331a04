"""The Neo4j community engine: Graph Data Science (GDS) Leiden and WCC on an in-memory projection.

Detection hands both engines the same weighted, undirected edge list (string node ids). This
engine numbers the nodes 0..n-1, projects the edge list into the GDS catalog with a Cypher
projection over parallel lists of sources, targets and weights (integer ids, so nothing is read
from the stored graph and no node needs to exist in Neo4j), runs ``gds.leiden.stream`` or
``gds.wcc.stream`` with the answer collected into two lists, maps the integer ids back and drops
the projection in a ``finally`` — also when projecting or the algorithm fails, so a failed run
never leaks catalog memory.

Resolution: the in-process engine (``algorithms.igraph_engine``) optimises the Constant Potts
Model (CPM) — a community pays ``resolution`` per member pair — because modularity's resolution
limit merges small rings in a city-sized graph. GDS Leiden optimises modularity only: moving
node *v* into community *C* gains ``w(v, C) - gamma * vol(v) * vol(C) / W`` where ``vol`` is the
weighted degree and ``W`` the total volume. When every node has the same volume ``D``, that
penalty is ``gamma * D**2 / W`` per pair: CPM. So this engine first gives every node the same
volume: a node below the largest weighted degree ``D`` gets a self-loop that makes up the
difference (GDS stores an undirected self-loop in both directions, so a loop of weight ``x`` adds
``2x``: measured against the live server). A self-loop is inside whatever community holds its
node, so it changes no move's gain except through the volume. Then (``W = n * D``)

    gamma = resolution * n**2 / W = resolution * n / D

and GDS Leiden optimises exactly the CPM objective the in-process engine does. Without the
padding (the first version of this engine) GDS penalised pairs of busy nodes more than CPM and
merged or dropped collusion rings that igraph found (a 20,000-person city: 1 of 3). WCC is exact
(components do not depend on weights), so ``components`` projects the plain edge list.

Determinism: ``randomSeed`` with ``concurrency: 1`` (the default here) gives repeatable results.
The live tests (``tests/integration/test_neo4j_gds_engine.py``, ``test_neo4j_city.py``) run it
against GDS 2.13 and compare its rings with the in-process engine's.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import numpy as np
import pandas as pd
from graphdatascience import GraphDataScience
from graphdatascience.graph.graph_api import Graph
from neo4j.exceptions import DriverError, Neo4jError, ServiceUnavailable, SessionExpired

from graph.errors import ConfigError, InvalidRequest, StoreError, StoreUnavailable
from graph.port import GraphStore
from graph.settings import Settings, load_settings

log = logging.getLogger(__name__)

# Integer ids: the projection is built from the edge list alone, not from stored nodes. The edge
# list travels as three parallel lists (sources, targets, weights): a list of numbers packs and
# unpacks far cheaper than a list of one map per relationship.
PROJECT_QUERY = (
    "UNWIND range(0, size($sources) - 1) AS i "
    "RETURN gds.graph.project($graph_name, $sources[i], $targets[i], "
    "{relationshipProperties: {weight: $weights[i]}}, "
    "{undirectedRelationshipTypes: ['*']}) AS graph"
)
# The algorithms' answers come back as one record of two lists, not one record per node: the
# driver's per-record work cost more than the algorithm (a 100,000-edge WCC took 2.0 s through the
# client's ``stream`` endpoints, 0.5 s as lists; at 200,000 edges decoding 170,000 records alone
# took 6 s of client CPU).
LEIDEN_QUERY = (
    "CALL gds.leiden.stream($graph_name, $config) YIELD nodeId, communityId "
    "RETURN collect(nodeId) AS nodes, collect(communityId) AS labels"
)
WCC_QUERY = (
    "CALL gds.wcc.stream($graph_name, $config) YIELD nodeId, componentId "
    "RETURN collect(nodeId) AS nodes, collect(componentId) AS labels"
)
WEIGHT = "weight"


@contextmanager
def _gds_errors(action: str) -> Iterator[None]:
    try:
        yield
    except (ServiceUnavailable, SessionExpired) as exc:
        raise StoreUnavailable(f"Neo4j is unreachable while trying to {action}: {exc}") from exc
    except (Neo4jError, DriverError) as exc:
        raise StoreError(f"GDS failed to {action}: {exc}") from exc


class _IndexedEdges:
    """The edge list with nodes numbered 0..n-1 (GDS node ids) and the way back to string ids."""

    def __init__(self, edges: pd.DataFrame, weight: str) -> None:
        missing = [c for c in ("src", "dst", weight) if c not in edges.columns]
        if missing:
            raise InvalidRequest(f"edge list lacks column(s) {', '.join(missing)}")
        weights = edges[weight].astype(float).to_numpy()
        if len(weights) and not (np.isfinite(weights).all() and (weights > 0).all()):
            raise InvalidRequest("edge weights must be finite and > 0")
        src = edges["src"].astype(str).to_numpy()
        dst = edges["dst"].astype(str).to_numpy()
        self.names, codes = np.unique(np.concatenate([src, dst]), return_inverse=True)
        n = len(src)
        # GDS builds adjacency lists in the order relationships arrive, and Leiden's local moves
        # follow them: the detectors' edge lists come in no fixed order (parallel aggregation) and
        # name an undirected pair either way round, so each pair is written (lower, higher) and the
        # list sorted, or the same city could give slightly different rings run to run.
        low = np.minimum(codes[:n], codes[n:])
        high = np.maximum(codes[:n], codes[n:])
        order = np.lexsort((high, low))
        self.source = low[order].astype(np.int64)
        self.target = high[order].astype(np.int64)
        self.weight = weights[order]

    @property
    def node_count(self) -> int:
        return len(self.names)

    @property
    def total_volume(self) -> float:
        # Each undirected relationship adds its weight to both endpoints' volume.
        return float(2.0 * self.weight.sum())

    def padded_to_equal_volume(self) -> _IndexedEdges:
        """The same graph with a self-loop on each node below the largest weighted degree, so that
        every node's weighted degree (volume) is that maximum (see the module docstring)."""
        volume = np.bincount(self.source, weights=self.weight, minlength=self.node_count)
        volume += np.bincount(self.target, weights=self.weight, minlength=self.node_count)
        missing = volume.max() - volume
        # rounding may leave a hair above zero on the busiest nodes: no loop for those
        loops = np.flatnonzero(missing > volume.max() * 1e-12)
        padded = object.__new__(_IndexedEdges)
        padded.names = self.names
        padded.source = np.concatenate([self.source, loops])
        padded.target = np.concatenate([self.target, loops])
        padded.weight = np.concatenate([self.weight, missing[loops] / 2.0])  # a loop counts twice
        return padded

    def parameters(self) -> dict[str, list[Any]]:
        """The edge list as ``PROJECT_QUERY``'s parallel lists."""
        return {
            "sources": self.source.tolist(),
            "targets": self.target.tolist(),
            "weights": self.weight.tolist(),  # float64 already: _IndexedEdges casts on entry
        }

    def map_back(self, answer: pd.DataFrame, name: str) -> pd.Series:
        """The labels of one ``nodes``/``labels`` answer, indexed by the caller's node ids."""
        row = answer.iloc[0] if len(answer) else None
        node_ids = np.asarray(row["nodes"] if row is not None else [], dtype=np.int64)
        labels = np.asarray(row["labels"] if row is not None else [], dtype=np.int64)
        if len(node_ids) != len(labels):
            raise StoreError("GDS returned node ids and labels of different lengths")
        if len(node_ids) and (node_ids.min() < 0 or node_ids.max() >= self.node_count):
            raise StoreError(f"GDS returned node ids outside the projected 0..{self.node_count - 1}")
        series = pd.Series(labels, index=pd.Index(self.names[node_ids], name="node"), name=name)
        return series.sort_index()


class GdsEngine:
    """CommunityEngine on Neo4j Graph Data Science (needs the GDS plugin on the server)."""

    name = "gds"
    in_process = False

    def __init__(
        self,
        gds: GraphDataScience | None = None,
        *,
        concurrency: int = 1,
        max_levels: int = 10,
        theta: float = 0.01,
        tolerance: float = 0.0001,
    ) -> None:
        self._gds = gds if gds is not None else self._connect(load_settings())
        self.concurrency = concurrency
        self.max_levels = max_levels
        self.theta = theta
        self.tolerance = tolerance

    @classmethod
    def from_store(cls, store: GraphStore) -> GdsEngine:
        """Share the Neo4j store's driver (one connection pool, same database)."""
        from graph.neo4j.store import Neo4jStore

        adapter = store.adapter() if isinstance(store, GraphStore) else store
        if not isinstance(adapter, Neo4jStore):
            raise ConfigError("the gds engine needs the Neo4j store: set MEDFRAUD_STORE=neo4j")
        return cls(cls._open(adapter.driver, adapter.database))

    @classmethod
    def from_settings(cls, settings: Settings) -> GdsEngine:
        return cls(cls._connect(settings))

    @staticmethod
    def _connect(settings: Settings) -> GraphDataScience:
        if not settings.neo4j_uri or not settings.neo4j_password:
            raise ConfigError("the gds engine needs MEDFRAUD_NEO4J_URI and MEDFRAUD_NEO4J_PASSWORD")
        from neo4j import GraphDatabase

        driver = GraphDatabase.driver(settings.neo4j_uri, auth=(settings.neo4j_user, settings.neo4j_password))
        return GdsEngine._open(driver, settings.neo4j_database)

    @staticmethod
    def _open(endpoint: Any, database: str) -> GraphDataScience:
        try:
            with _gds_errors("connect to GDS"):
                return GraphDataScience(endpoint, database=database, arrow=False, show_progress=False)
        except StoreError:
            raise
        except Exception as exc:  # the client raises its own GdsNotFound / UnableToConnectError
            raise ConfigError(
                "cannot use Graph Data Science on Neo4j: is the plugin installed "
                f"(NEO4J_PLUGINS='[\"graph-data-science\"]')? {exc}"
            ) from exc

    # -- CommunityEngine -----------------------------------------------------------------------
    def modularity_gamma(self, resolution: float, edges: _IndexedEdges) -> float:
        """GDS's modularity ``gamma`` equivalent to the CPM ``resolution`` (see module docstring)."""
        return resolution * edges.node_count**2 / edges.total_volume

    def communities(
        self, edges: pd.DataFrame, *, resolution: float, seed: int, weight: str = WEIGHT
    ) -> pd.Series:
        if resolution <= 0:
            raise InvalidRequest("resolution must be > 0")
        if edges.empty:
            return pd.Series([], dtype="int64", name="community")
        indexed = _IndexedEdges(edges, weight).padded_to_equal_volume()
        gamma = self.modularity_gamma(resolution, indexed)
        config = {
            "gamma": gamma,
            "randomSeed": seed,
            "relationshipWeightProperty": WEIGHT,
            "concurrency": self.concurrency,
            "maxLevels": self.max_levels,
            "theta": self.theta,
            "tolerance": self.tolerance,
            "consecutiveIds": True,
            "logProgress": False,
        }
        with self._projection(indexed) as graph, _gds_errors("run Leiden"):
            answer = self._gds.run_cypher(LEIDEN_QUERY, {"graph_name": graph.name(), "config": config})
        return indexed.map_back(answer, "community")

    def components(self, edges: pd.DataFrame) -> pd.Series:
        if edges.empty:
            return pd.Series([], dtype="int64", name="component")
        frame_edges = edges if WEIGHT in edges.columns else edges.assign(**{WEIGHT: 1.0})
        indexed = _IndexedEdges(frame_edges, WEIGHT)
        config = {"concurrency": self.concurrency, "consecutiveIds": True, "logProgress": False}
        with self._projection(indexed) as graph, _gds_errors("run WCC"):
            answer = self._gds.run_cypher(WCC_QUERY, {"graph_name": graph.name(), "config": config})
        return indexed.map_back(answer, "component")

    @contextmanager
    def _projection(self, edges: _IndexedEdges) -> Iterator[Graph]:
        """A uniquely named in-memory graph, dropped however the block ends."""
        graph_name = f"medfraud-{uuid.uuid4().hex}"
        failed = False
        try:
            with _gds_errors("project the graph"):
                graph, _ = self._gds.graph.project.cypher(
                    PROJECT_QUERY, graph_name=graph_name, **edges.parameters()
                )
            yield graph
        except BaseException:
            failed = True
            raise
        finally:
            try:
                with _gds_errors("drop the projection"):
                    self._gds.graph.drop(graph_name, fail_if_missing=False)
            except StoreError:
                if not failed:
                    raise
                # The original failure matters more; the leak is logged for the operator.
                log.exception("could not drop GDS projection %s after a failure", graph_name)
