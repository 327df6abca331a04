"""GdsEngine through the real graphdatascience client, talking to a recording query runner.

These tests check what is sent to GDS and how answers map back; they do not (cannot, here) show
what a real GDS server computes.
"""

from __future__ import annotations

from typing import Any

import pandas as pd
import pytest
from graphdatascience import GraphDataScience
from neo4j.exceptions import ServiceUnavailable

from algorithms.gds_engine import PROJECT_QUERY, GdsEngine
from graph.errors import ConfigError, InvalidRequest, StoreError, StoreUnavailable
from tests.unit.algorithms.gds_recording import RecordingQueryRunner, projected_relationships
from tests.unit.graph.neo4j_recording import neo4j_error

TWO_TRIANGLES = pd.DataFrame(
    {
        "src": ["P1", "P2", "P3", "P7", "P8", "P9"],
        "dst": ["P2", "P3", "P1", "P8", "P9", "P7"],
        "weight": [3.0, 2.0, 4.0, 1.0, 1.0, 5.0],
    }
)


def engine_with(runner: RecordingQueryRunner) -> GdsEngine:
    return GdsEngine(GraphDataScience(runner, arrow=False, show_progress=False))


def _calls(runner: RecordingQueryRunner, fragment: str) -> list[Any]:
    return [c for c in runner.calls if fragment in c.statement]


def test_communities_map_gds_node_ids_back_to_the_callers_ids() -> None:
    runner = RecordingQueryRunner()
    result = engine_with(runner).communities(TWO_TRIANGLES, resolution=0.5, seed=42)
    assert sorted(result.index) == ["P1", "P2", "P3", "P7", "P8", "P9"]
    assert result.dtype == "int64"
    groups = {frozenset(g.index) for _, g in result.groupby(result)}
    assert groups == {frozenset({"P1", "P2", "P3"}), frozenset({"P7", "P8", "P9"})}


def test_leiden_is_weighted_seeded_single_threaded_with_the_mapped_resolution() -> None:
    runner = RecordingQueryRunner()
    engine_with(runner).communities(TWO_TRIANGLES, resolution=0.5, seed=42)
    (project,) = _calls(runner, "gds.graph.project(")
    assert project.statement == PROJECT_QUERY
    rels = projected_relationships(project.parameters)
    assert rels[0] == {"source": 0, "target": 1, "weight": 3.0}  # integer ids, P1 -> 0, P2 -> 1
    (leiden,) = _calls(runner, "gds.leiden.stream")
    config = leiden.parameters["config"]
    assert config["relationshipWeightProperty"] == "weight"
    assert config["randomSeed"] == 42 and config["concurrency"] == 1
    # volumes P1 7, P2 5, P3 6, P7 6, P8 2, P9 6: self-loops raise every node to D = 7, so
    # CPM resolution 0.5 -> modularity gamma = 0.5 * n / D = 0.5 * 6 / 7
    assert config["gamma"] == pytest.approx(3 / 7)
    loops = {(r["source"], r["weight"]) for r in rels if r["source"] == r["target"]}
    assert loops == {(1, 1.0), (2, 0.5), (3, 0.5), (4, 2.5), (5, 0.5)}  # half the gap: a loop counts twice
    assert leiden.parameters["graph_name"] == project.parameters["graph_name"]


def test_projection_is_dropped_after_success() -> None:
    runner = RecordingQueryRunner()
    engine_with(runner).components(TWO_TRIANGLES[["src", "dst"]])
    (project,) = _calls(runner, "gds.graph.project(")
    assert runner.dropped == [project.parameters["graph_name"]]
    assert runner.graphs == {}
    assert runner.statements()[-1].startswith("CALL gds.graph.drop(")


def test_projection_is_dropped_when_the_algorithm_fails() -> None:
    failure = neo4j_error("Neo.ClientError.Procedure.ProcedureCallFailed")
    runner = RecordingQueryRunner(fail_on={"gds.leiden.stream": failure})
    with pytest.raises(StoreError, match="Leiden"):
        engine_with(runner).communities(TWO_TRIANGLES, resolution=0.5, seed=1)
    (project,) = _calls(runner, "gds.graph.project(")
    assert runner.dropped == [project.parameters["graph_name"]]
    assert runner.graphs == {}


def test_projection_is_dropped_when_projecting_fails_half_way() -> None:
    runner = RecordingQueryRunner(fail_on={"gds.graph.project(": ServiceUnavailable("gone")})
    with pytest.raises(StoreUnavailable):
        engine_with(runner).components(TWO_TRIANGLES)
    assert len(runner.dropped) == 1
    drop = _calls(runner, "gds.graph.drop")[0]
    assert drop.parameters["failIfMissing"] is False  # the graph may never have been created


def test_a_failing_drop_does_not_hide_the_original_error() -> None:
    runner = RecordingQueryRunner(
        fail_on={
            "gds.wcc.stream": neo4j_error("Neo.ClientError.Procedure.ProcedureCallFailed", "wcc broke"),
            "gds.graph.drop": ServiceUnavailable("gone"),
        }
    )
    with pytest.raises(StoreError, match="wcc broke"):
        engine_with(runner).components(TWO_TRIANGLES)


def test_a_failing_drop_after_success_is_reported() -> None:
    runner = RecordingQueryRunner(fail_on={"gds.graph.drop": ServiceUnavailable("gone")})
    with pytest.raises(StoreUnavailable, match="drop the projection"):
        engine_with(runner).components(TWO_TRIANGLES)


def test_each_run_uses_its_own_projection_name() -> None:
    runner = RecordingQueryRunner()
    engine = engine_with(runner)
    engine.components(TWO_TRIANGLES)
    engine.components(TWO_TRIANGLES)
    names = [c.parameters["graph_name"] for c in _calls(runner, "gds.graph.project(")]
    assert len(set(names)) == 2


class _GarbledAnswers(RecordingQueryRunner):
    """Answers the algorithm with the lists given instead of the projected graph's components."""

    def __init__(self, nodes: list[int], labels: list[int]) -> None:
        super().__init__()
        self.answer = pd.DataFrame([{"nodes": nodes, "labels": labels}])

    def run_cypher(self, query: str, *args: Any, **kwargs: Any) -> pd.DataFrame:
        answer = super().run_cypher(query, *args, **kwargs)
        return self.answer if "gds.wcc.stream(" in query else answer


@pytest.mark.parametrize(
    ("nodes", "labels", "message"),
    [([0, 1, 2], [0, 0], "different lengths"), ([0, 1, 99], [0, 0, 1], "outside the projected")],
)
def test_an_answer_that_does_not_fit_the_projection_is_refused(
    nodes: list[int], labels: list[int], message: str
) -> None:
    runner = _GarbledAnswers(nodes, labels)
    with pytest.raises(StoreError, match=message):
        engine_with(runner).components(TWO_TRIANGLES)
    assert runner.graphs == {}  # dropped all the same


def test_empty_and_invalid_edge_lists() -> None:
    runner = RecordingQueryRunner()
    engine = engine_with(runner)
    assert engine.communities(TWO_TRIANGLES.iloc[:0], resolution=1.0, seed=1).empty
    assert engine.components(TWO_TRIANGLES.iloc[:0]).empty
    assert runner.calls == []  # nothing projected for nothing
    with pytest.raises(InvalidRequest, match="weights"):
        engine.communities(TWO_TRIANGLES.assign(weight=0.0), resolution=1.0, seed=1)
    with pytest.raises(InvalidRequest, match="dst"):
        engine.components(TWO_TRIANGLES[["src"]])


def test_from_store_needs_the_neo4j_store() -> None:
    with pytest.raises(ConfigError, match="MEDFRAUD_STORE=neo4j"):
        GdsEngine.from_store(object())  # type: ignore[arg-type]


def test_a_missing_gds_plugin_is_a_configuration_error_naming_the_fix() -> None:
    with pytest.raises(ConfigError, match="graph-data-science"):
        GdsEngine._open(RecordingQueryRunner(gds_installed=False), "neo4j")


def _ring_of_cliques() -> pd.DataFrame:
    """Six 4-cliques (weight 3) in a ring (weight 1): every node has weighted degree 11."""
    rows = []
    for c in range(6):
        rows += [(f"c{c}n{a}", f"c{c}n{b}", 3.0) for a in range(4) for b in range(a + 1, 4)]
        rows += [(f"c{c}n{j}", f"c{(c + 1) % 6}n{j}", 1.0) for j in range(4)]
    return pd.DataFrame(rows, columns=["src", "dst", "weight"])


def _uneven_cliques() -> pd.DataFrame:
    """Cliques of 3 to 7 nodes with unequal weights, joined by light bridges: degrees differ a lot."""
    rows, start = [], 0
    for c, size in enumerate([3, 4, 5, 6, 7]):
        nodes = [f"q{c}n{j}" for j in range(size)]
        rows += [(a, b, 1.0 + (i % 3)) for i, (a, b) in enumerate(
            (nodes[i], nodes[j]) for i in range(size) for j in range(i + 1, size))]
        rows.append((nodes[0], f"q{(c + 1) % 5}n1", 0.3))
        start += size
    return pd.DataFrame(rows, columns=["src", "dst", "weight"])


@pytest.mark.parametrize("resolution", [0.05, 0.4, 0.9, 1.5])
def test_padded_modularity_is_cpm_on_uneven_degrees(resolution: float) -> None:
    """With every volume padded to the largest by self-loops, modularity at the mapped gamma (what
    GDS Leiden optimises, here leidenalg's) finds the same partition as CPM on the plain graph."""
    import igraph as ig
    import leidenalg

    from algorithms.gds_engine import _IndexedEdges
    from algorithms.igraph_engine import IgraphEngine

    edges = _uneven_cliques()
    padded = _IndexedEdges(edges, "weight").padded_to_equal_volume()
    gamma = engine_with(RecordingQueryRunner()).modularity_gamma(resolution, padded)
    graph = ig.Graph(n=padded.node_count, edges=list(zip(padded.source.tolist(), padded.target.tolist(),
                                                          strict=True)))
    modularity = leidenalg.find_partition(
        graph, leidenalg.RBConfigurationVertexPartition, weights=padded.weight.tolist(),
        resolution_parameter=gamma, n_iterations=-1, seed=3)
    by_modularity = {frozenset(str(padded.names[v]) for v in community) for community in modularity}
    cpm = IgraphEngine().communities(edges, resolution=resolution, seed=3)
    by_cpm = {frozenset(g.index) for _, g in cpm.groupby(cpm)}
    if by_modularity != by_cpm:
        # two optimisers may stop at different partitions of equal worth; never at a worse one
        plain = _IndexedEdges(edges, "weight")
        index = {str(name): i for i, name in enumerate(plain.names)}
        g = ig.Graph(n=plain.node_count, edges=list(zip(plain.source.tolist(), plain.target.tolist(),
                                                         strict=True)))

        def cpm_quality(parts: set[frozenset[str]]) -> float:
            membership = [0] * plain.node_count
            for c, part in enumerate(parts):
                for name in part:
                    membership[index[name]] = c
            return float(leidenalg.CPMVertexPartition(
                g, initial_membership=membership, weights=plain.weight.tolist(),
                resolution_parameter=resolution).quality())

        assert cpm_quality(by_modularity) == pytest.approx(cpm_quality(by_cpm))


@pytest.mark.parametrize("resolution", [0.05, 0.8, 2.5, 3.5])
def test_resolution_mapping_reproduces_cpm_when_degrees_are_equal(resolution: float) -> None:
    """The documented CPM -> modularity gamma mapping, checked with leidenalg's modularity with
    resolution (the objective GDS Leiden optimises) against the in-process CPM engine."""
    import igraph as ig
    import leidenalg

    from algorithms.gds_engine import _IndexedEdges
    from algorithms.igraph_engine import IgraphEngine

    edges = _ring_of_cliques()
    indexed = _IndexedEdges(edges, "weight")
    gamma = engine_with(RecordingQueryRunner()).modularity_gamma(resolution, indexed)
    graph = ig.Graph(
        n=indexed.node_count, edges=list(zip(indexed.source.tolist(), indexed.target.tolist(), strict=True))
    )
    modularity = leidenalg.find_partition(
        graph,
        leidenalg.RBConfigurationVertexPartition,
        weights=indexed.weight.tolist(),
        resolution_parameter=gamma,
        n_iterations=-1,
        seed=3,
    )
    by_modularity = {frozenset(str(indexed.names[v]) for v in community) for community in modularity}
    cpm = IgraphEngine().communities(edges, resolution=resolution, seed=3)
    by_cpm = {frozenset(g.index) for _, g in cpm.groupby(cpm)}
    assert by_modularity == by_cpm
    assert len(by_cpm) in {1, 6, 24}  # the regimes: all merged, the cliques, singletons


def test_the_projection_does_not_depend_on_the_order_edges_arrive_in() -> None:
    """GDS Leiden follows adjacency order, so a reshuffled edge list must project identically."""
    sent = []
    for frame in (TWO_TRIANGLES, TWO_TRIANGLES.sample(frac=1.0, random_state=5)):
        runner = RecordingQueryRunner()
        engine_with(runner).communities(frame, resolution=0.5, seed=42)
        (project,) = _calls(runner, "gds.graph.project(")
        sent.append({k: project.parameters[k] for k in ("sources", "targets", "weights")})
    assert sent[0] == sent[1]


def test_an_undirected_pair_is_the_same_edge_whichever_way_it_is_named() -> None:
    """The co-visit projection names a pair either way round from run to run; GDS must see one list."""
    from algorithms.gds_engine import _IndexedEdges

    one = pd.DataFrame({"src": ["a", "c", "b"], "dst": ["b", "b", "d"], "w": [1.0, 2.0, 3.0]})
    other = pd.DataFrame({"src": ["b", "b", "d"], "dst": ["a", "c", "b"], "w": [1.0, 2.0, 3.0]})
    x, y = _IndexedEdges(one, "w"), _IndexedEdges(other, "w")
    assert list(x.source) == list(y.source) and list(x.target) == list(y.target)
    assert list(x.weight) == list(y.weight) == [1.0, 2.0, 3.0]
