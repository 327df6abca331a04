"""Commands of this package for the ``medfraud`` CLI: ``detect``, ``schedule``, ``evaluate``.

The Spark job's commands live in :mod:`algorithms.spark.cli`, registered from here.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from algorithms.settings import DetectionSettings


def _settings() -> DetectionSettings:
    from graph.settings import load_settings

    return load_settings(DetectionSettings)


def summary_table(summary: object) -> str:
    """The table ``detect`` prints: counts, ring changes, the top rings."""
    from algorithms.job import RunSummary

    assert isinstance(summary, RunSummary)
    c = summary.counts
    lines = [
        f"run {summary.run_id}  engine {summary.engine}  {summary.duration_s:.1f} s",
        f"{'collusion rings':28} {c.get('collusion_rings', 0):>8}",
        f"{'shared-identifier rings':28} {c.get('shared_identifier_rings', 0):>8}",
        f"{'double claims':28} {c.get('double_claims', 0):>8}",
        f"{'impossible-care anomalies':28} {c.get('anomalies', 0):>8}",
        f"{'rings below threshold':28} {c.get('rings_below_threshold', 0):>8}",
        "ring changes: " + ", ".join(f"{k} {v}" for k, v in summary.changes.counts().items()),
    ]
    if summary.result and summary.result.rings:
        lines.append(f"{'ring':16} {'kind':18} {'score':>5} {'members':>7} {'status':8} evidence")
        for r in summary.result.rings[:15]:
            lines.append(
                f"{r.ring_id or '':16} {r.kind:18} {r.score:>5.2f} {len(r.members):>7} "
                f"{r.status or '':8} {r.evidence[0].render('en') if r.evidence else ''}"
            )
        if len(summary.result.rings) > 15:
            lines.append(f"... {len(summary.result.rings) - 15} more (use --export)")
    return "\n".join(lines)


def register(app: typer.Typer) -> None:
    """Add this package's commands to the CLI (and the Spark job's: ``spark-detect``, ``load-findings``)."""
    from algorithms.spark.cli import register as register_spark

    register_spark(app)

    @app.command()
    def detect(
        engine: Annotated[str | None, typer.Option(help="igraph (any store) or gds (Neo4j)")] = None,
        export: Annotated[Path | None, typer.Option(help="write the findings as JSON here")] = None,
    ) -> None:
        """Run all detectors on the graph, record the run, print a summary."""
        from algorithms.export import write_export
        from algorithms.job import run_detection
        from graph.factory import open_store

        settings = _settings()
        with open_store() as store:
            summary = run_detection(store, settings, engine=engine or settings.engine)
        typer.echo(summary_table(summary))
        if export is not None and summary.result is not None:
            write_export(export, summary.result.rings, summary.result.findings, run_id=summary.run_id)
            typer.echo(f"export written to {export}")

    @app.command()
    def schedule(
        engine: Annotated[str | None, typer.Option(help="igraph or gds")] = None,
    ) -> None:
        """Run detection periodically (cron MEDFRAUD_DETECT_SCHEDULE) until interrupted."""
        from algorithms.schedule import start_background_scheduler
        from graph.factory import open_store

        settings = _settings()
        with open_store() as store:
            handle = start_background_scheduler(store, settings, engine=engine)
            typer.echo(f"detection scheduled by cron '{settings.schedule}'; Ctrl-C to stop")
            handle.wait()
            typer.echo(
                f"stopped after {handle.runs} run(s), {handle.skipped} skipped, {handle.failures} failed"
            )

    @app.command()
    def evaluate(
        truth: Annotated[Path, typer.Argument(help="truth JSON written by the generator")],
        export: Annotated[Path, typer.Argument(help="export JSON written by detect --export")],
        as_json: Annotated[bool, typer.Option("--json", help="print the report as JSON")] = False,
    ) -> None:
        """Score an export against the ground truth: per-pattern recall and precision."""
        from algorithms.evaluate import evaluate_files, format_report

        ev = evaluate_files(truth, export)
        typer.echo(json.dumps(ev.as_dict(), indent=1) if as_json else format_report(ev))
