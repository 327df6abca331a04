"""The ``medfraud`` command: a thin composition of each package's commands.

Each package registers its own commands (``graph.cli``, ``ingest.cli``, ``algorithms.cli``,
``api.commands``); this module only assembles them, adds ``demo`` and maps domain errors to
exit codes (1 for a fatal error, with the message on stderr and no stack trace).
"""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path
from typing import Annotated

import typer

from graph.errors import MedfraudError

app = typer.Typer(
    name="medfraud",
    help="Graph-based fraud-network investigation for medical-insurance fund supervision.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


def _register() -> None:
    from algorithms.cli import register as register_algorithms
    from api.commands import register as register_api
    from api.dossier.cli import register as register_dossier
    from graph.cli import register as register_graph
    from ingest.cli import register as register_ingest

    register_graph(app)
    register_ingest(app)
    register_algorithms(app)
    register_api(app)
    register_dossier(app)


_register()


def _city_matches(truth_path: Path, persons: int, seed: int) -> bool:
    """Whether the city already generated under ./data is the one asked for (so we can reuse it)."""
    if not truth_path.exists():
        return False
    try:
        truth = json.loads(truth_path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return bool(truth.get("persons") == persons and truth.get("seed") == seed)


@app.command()
def demo(
    persons: Annotated[int, typer.Option(help="persons in the synthetic city")] = 20_000,
    seed: Annotated[int, typer.Option(help="generator seed (same seed, same city)")] = 42,
    data_dir: Annotated[Path, typer.Option(help="where the city, store and export go")] = Path("./data"),
    serve: Annotated[bool, typer.Option(help="serve the API and /ui at the end")] = True,
    host: Annotated[str, typer.Option(help="interface to serve on")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="port to serve on")] = 8000,
) -> None:
    """Generate a synthetic city, ingest it, detect, evaluate against the truth, then serve."""
    from algorithms.evaluate import evaluate_files, format_report
    from algorithms.export import write_export
    from algorithms.job import run_detection
    from algorithms.settings import DetectionSettings
    from api.security.auth import issue_token
    from api.settings import ApiSettings
    from graph.factory import open_store
    from graph.settings import Settings, load_settings
    from ingest.generator import generate_city
    from ingest.loader import ingest_dir

    city = data_dir / "city"
    truth_path = data_dir / "city.truth.json"
    store_path = data_dir / "medfraud.duckdb"
    settings = load_settings(Settings, store="duckdb", duckdb_path=store_path)

    if _city_matches(truth_path, persons, seed) and store_path.exists():
        typer.echo(f"1/4 reusing the city of {persons} persons (seed {seed}) in {city}")
    else:
        typer.echo(f"1/4 generating a city of {persons} persons (seed {seed}) into {city}")
        # The demo's store holds the demo city only: a city of another size or seed starts afresh.
        shutil.rmtree(city, ignore_errors=True)
        for stale in (store_path, store_path.with_name(store_path.name + ".wal")):
            stale.unlink(missing_ok=True)
        truth_path = generate_city(city, persons=persons, seed=seed)

    with open_store(settings) as store:
        typer.echo(f"2/4 ingesting into {store_path}")
        report = ingest_dir(store, city, progress=True)
        typer.echo(str(report))
        typer.echo("3/4 detecting")
        summary = run_detection(store, load_settings(DetectionSettings))
        export_path = data_dir / "findings.json"
        if summary.result is not None:
            write_export(export_path, summary.result.rings, summary.result.findings, run_id=summary.run_id)
        from algorithms.cli import summary_table

        typer.echo(summary_table(summary))
        typer.echo(f"4/4 quality against the planted truth ({truth_path.name}):")
        typer.echo(format_report(evaluate_files(truth_path, export_path)))
        if not serve:
            return
        import uvicorn

        from api.http.app import create_app

        api = load_settings(ApiSettings)
        token = issue_token(settings.secret, sub="demo-investigator", role="investigator",
                            agency="demo-bureau", ttl_s=api.token_ttl_s)
        top = summary.result.rings[0].ring_id if summary.result and summary.result.rings else None
        fragment = f"#token={token}" + (f"&ring={top}" if top else "")
        typer.echo("")
        typer.echo(f"GraphQL:  http://{host}:{port}/graphql")
        typer.echo(f"UI:       http://{host}:{port}/ui{fragment}")
        typer.echo(f"token (investigator, valid {api.token_ttl_s} s):")
        typer.echo(token)
        uvicorn.run(create_app(settings, store, api_settings=api), host=host, port=port,
                    log_level="warning", access_log=False)


def main() -> None:
    try:
        app()
    except MedfraudError as exc:
        typer.echo(f"error: {exc}", err=True)
        sys.exit(1)


if __name__ == "__main__":
    main()
