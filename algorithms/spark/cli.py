"""Commands of the Spark job for the ``medfraud`` CLI: ``spark-detect`` and ``load-findings``.

Registered by :func:`algorithms.cli.register`; pyspark is imported only when ``spark-detect``
runs, so the CLI works without the ``spark`` extra.
"""

from __future__ import annotations

import importlib.util
import shutil
from pathlib import Path
from typing import Annotated, cast

import typer

from graph.errors import ConfigError


def register(app: typer.Typer) -> None:
    """Add ``spark-detect`` and ``load-findings`` to the CLI."""

    @app.command("spark-detect")
    def spark_detect_cmd(
        input_dir: Annotated[Path, typer.Argument(help="folder of contract tables (CSV or Parquet)")],
        out: Annotated[Path, typer.Argument(help="folder for the findings, rejects and warnings")],
        master: Annotated[
            str | None, typer.Option(help="Spark master (default local[2], or spark-submit's)")
        ] = None,
        fmt: Annotated[str, typer.Option("--format", help="auto, json or parquet")] = "auto",
        driver_memory: Annotated[
            str, typer.Option(help="driver JVM heap in local mode (all of Spark's memory there)")
        ] = "4g",
    ) -> None:
        """Validate the tables as `ingest` does, run every detector on Spark, write the findings."""
        from algorithms.cli import _settings
        from algorithms.spark.job import ExportFormat, spark_detect

        if fmt not in ("auto", "json", "parquet"):
            raise typer.BadParameter("--format must be auto, json or parquet")
        if importlib.util.find_spec("pyspark") is None or shutil.which("java") is None:
            raise ConfigError(
                "spark-detect needs the spark extra and Java 17: pip install -e '.[spark]' "
                "(and e.g. apt-get install openjdk-17-jre-headless)"
            )
        summary = spark_detect(
            input_dir, out, master=master, settings=_settings(), fmt=cast(ExportFormat, fmt),
            driver_memory=driver_memory,
        )
        typer.echo(
            f"rings {summary.counts['rings']}, double claims {summary.counts['double_claims']}, "
            f"anomalies {summary.counts['anomalies']}; rejected rows {summary.rejected_rows}; "
            + ", ".join(f"{k} {v:.1f} s" for k, v in summary.seconds.items())
        )
        if "giant_component_vertices" in summary.stats:
            typer.echo(
                f"co-visit graph: {summary.stats['components']} components, the largest "
                f"{summary.stats['giant_component_vertices']} vertices "
                f"({summary.stats['giant_component_share']:.0%}), partitioned by one worker"
            )
        for path in summary.files:
            typer.echo(f"written {path}")

    @app.command("load-findings")
    def load_findings_cmd(
        out: Annotated[Path, typer.Argument(help="folder written by spark-detect")],
    ) -> None:
        """Record a spark-detect job's findings in the configured store as a detection run."""
        from algorithms.cli import _settings, summary_table
        from algorithms.spark.load import load_findings
        from graph.factory import open_store

        with open_store() as store:
            summary = load_findings(store, out, _settings())
        typer.echo(summary_table(summary))
