"""Communities on Spark: connected components, then Leiden/CPM per component (a grouped pandas UDF).

:class:`SparkCommunityEngine` is the :class:`algorithms.engine.CommunityEngine` of the Spark job.

*Components* are computed in Spark SQL by minimum-label propagation with pointer jumping: every
vertex takes the smallest label among itself and its neighbours, then the label of its label;
labels only decrease and are vertex numbers of the same component, so at the fixed point each
component carries its smallest vertex number. (GraphFrames' connected components was the plan;
the registry this project builds from serves ``graphframes-spark3_2.12`` without the
``graphframes-graphx`` module it needs, and no Spark 4 build at all — see docs/operations.md.)

*Communities*: Leiden with the Constant Potts Model on each component, in a grouped pandas UDF
running igraph (:class:`algorithms.igraph_engine.IgraphEngine`, the embedded engine's code), each
component's edges sorted and the run seeded. CPM's quality is a sum over communities of
(internal weight - resolution x pairs), with no term for the rest of the graph, and a Leiden
community never spans two components; so the objective of a global run is the sum of the
per-component objectives, and optimising each component alone optimises the global one — no
resolution limit couples them (tests/unit/algorithms/test_spark_components.py shows both).
Components up to ``small_max`` vertices are bucketed (one UDF call handles many); a larger one is
a bucket of its own; the largest is reported in ``stats`` (``giant_component_vertices``) and
partitioned like any other — never dropped.
"""

from __future__ import annotations

import logging
import shutil
import tempfile
from pathlib import Path
from typing import Any

import pandas as pd
from pyspark.sql import DataFrame, SparkSession, Window
from pyspark.sql import functions as F

from algorithms.igraph_engine import IgraphEngine
from algorithms.spark.sql import spark_frame

log = logging.getLogger(__name__)


def _undirected(spark: SparkSession, edges: pd.DataFrame, weight: str | None,
                folder: Path) -> tuple[DataFrame, DataFrame]:
    """Vertices numbered 0..n-1 in sorted id order, and edges (a, b, w) with a < b, as Spark frames.

    Both are checkpointed: ``folder`` (the edge list as Parquet) may go once they are built.
    """
    frame = edges[["src", "dst"]].astype(str)
    frame = frame.assign(w=edges[weight].astype(float) if weight else 1.0)
    e = spark_frame(spark, frame, folder)
    ids = e.select(F.col("src").alias("id")).union(e.select(F.col("dst").alias("id"))).distinct()
    verts = ids.withColumn("v", F.row_number().over(Window.orderBy("id")) - 1).localCheckpoint(eager=True)
    numbered = (
        e.join(verts.withColumnRenamed("id", "src").withColumnRenamed("v", "vs"), "src")
        .join(verts.withColumnRenamed("id", "dst").withColumnRenamed("v", "vd"), "dst")
        .select(F.least("vs", "vd").alias("a"), F.greatest("vs", "vd").alias("b"), "w", "src", "dst")
        .localCheckpoint(eager=True)
    )
    return verts, numbered


def component_labels(verts: DataFrame, edges: DataFrame, *, max_rounds: int = 200) -> DataFrame:
    """(v, comp): each vertex's component, named by its smallest vertex number (see the module docstring)."""
    both = edges.select("a", "b").union(edges.select(F.col("b").alias("a"), F.col("a").alias("b")))
    both = both.localCheckpoint(eager=True)
    labels = verts.select("v", F.col("v").alias("comp")).localCheckpoint(eager=True)
    # Labels only decrease, so a round changed nothing exactly when their sum did not change.
    total = labels.agg(F.sum("comp")).collect()[0][0]
    for _ in range(max_rounds):
        nbr = both.join(labels.withColumnRenamed("v", "b"), "b").groupBy("a").agg(F.min("comp").alias("m"))
        step = labels.join(nbr.withColumnRenamed("a", "v"), "v", "left").select(
            "v", F.least("comp", F.coalesce("m", "comp")).alias("comp")
        )
        # pointer jumping: take the label of one's label (halves the rounds on long paths)
        jumped = step.alias("s").join(step.alias("p"), F.col("s.comp") == F.col("p.v")).select(
            F.col("s.v").alias("v"), F.least(F.col("s.comp"), F.col("p.comp")).alias("comp")
        ).localCheckpoint(eager=True)
        labels.unpersist()  # the previous round's checkpoint
        labels = jumped
        before, total = total, labels.agg(F.sum("comp")).collect()[0][0]
        if total == before:
            return labels
    raise RuntimeError(f"connected components did not converge in {max_rounds} rounds")


def _leiden_udf(resolution: float, seed: int, n_iterations: int) -> Any:
    def run(pdf: pd.DataFrame) -> pd.DataFrame:
        engine = IgraphEngine(n_iterations=n_iterations)
        parts = []
        for comp, sub in pdf.groupby("comp", sort=True):
            # the same edge order whatever the partitioning: Leiden follows adjacency order
            sub = sub.sort_values(["src", "dst"], kind="stable")
            labels = engine.communities(sub[["src", "dst", "weight"]], resolution=resolution, seed=seed)
            parts.append(
                pd.DataFrame({"node": labels.index.astype(str), "community": [f"{comp}:{c}" for c in labels]})
            )
        if not parts:
            return pd.DataFrame({"node": pd.Series(dtype=object), "community": pd.Series(dtype=object)})
        # object columns: pyspark 3.5's Arrow writer does not take pandas 3's Arrow-backed strings
        return pd.concat(parts, ignore_index=True).astype(object)

    return run


class SparkCommunityEngine:
    """CommunityEngine on Spark (see the module docstring)."""

    name = "spark"
    in_process = True

    def __init__(self, spark: SparkSession, *, small_max: int = 1000, buckets: int = 8,
                 n_iterations: int = 2, scratch: Path | None = None) -> None:
        self.spark = spark
        self.scratch = scratch
        self.small_max = small_max
        self.buckets = buckets
        self.n_iterations = n_iterations
        self.stats: dict[str, Any] = {}

    def _numbered(self, edges: pd.DataFrame, weight: str | None) -> tuple[DataFrame, DataFrame]:
        folder = Path(tempfile.mkdtemp(prefix="medfraud-cc-", dir=self.scratch))
        try:
            return _undirected(self.spark, edges, weight, folder)
        finally:
            shutil.rmtree(folder, ignore_errors=True)

    def components(self, edges: pd.DataFrame) -> pd.Series:
        if edges.empty:
            return pd.Series([], dtype="int64")
        verts, numbered = self._numbered(edges, None)
        labels = component_labels(verts, numbered).join(verts, "v").select("id", "comp").toPandas()
        labels = labels.sort_values("id")
        return pd.Series(
            labels["comp"].astype("int64").to_numpy(), index=pd.Index(labels["id"].astype(str), name="node"),
            name="component",
        )

    def communities(
        self, edges: pd.DataFrame, *, resolution: float, seed: int, weight: str = "weight"
    ) -> pd.Series:
        if edges.empty:
            return pd.Series([], dtype="int64")
        verts, numbered = self._numbered(edges, weight)
        comps = component_labels(verts, numbered)
        sizes = comps.groupBy("comp").agg(F.count("*").alias("size")).localCheckpoint(eager=True)
        largest = sizes.orderBy(F.desc("size"), "comp").limit(1).collect()
        n_vertices = int(sizes.agg(F.sum("size")).collect()[0][0])
        giant = int(largest[0]["size"]) if largest else 0
        self.stats = {
            "components": sizes.count(),
            "giant_component_vertices": giant,
            "giant_component_share": round(giant / n_vertices, 4) if n_vertices else 0.0,
        }
        if giant > 0.5 * n_vertices:
            log.warning("giant component: %d of %d vertices; partitioned on one executor", giant, n_vertices)
        # tiny components share a bucket; a large one is its own
        small = F.col("size") <= self.small_max
        bucket = F.when(small, F.pmod(F.col("comp"), F.lit(self.buckets))).otherwise(
            F.col("comp") + F.lit(self.buckets)
        )
        keyed = comps.join(sizes, "comp").select("v", "comp", bucket.alias("bucket"))
        per_edge = numbered.join(keyed.withColumnRenamed("v", "a"), "a").select(
            "bucket", "comp", F.least("src", "dst").alias("src"), F.greatest("src", "dst").alias("dst"),
            F.col("w").alias("weight"),
        )
        result = (
            per_edge.groupBy("bucket")
            .applyInPandas(_leiden_udf(resolution, seed, self.n_iterations), "node string, community string")
            .toPandas()
        )
        result = result.sort_values("node")
        codes = pd.factorize(result["community"], sort=True)[0]
        return pd.Series(codes.astype("int64"), index=pd.Index(result["node"].astype(str), name="node"),
                         name="community")
