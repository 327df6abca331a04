"""Commands of this package for the ``medfraud`` CLI: ``ingest``, ``neo4j-import`` and ``generate``.

``ingest`` exits 0 when every row loaded (fields left out of loaded rows are warnings, listed in
the warnings files, and do not change the code), 2 when some rows were rejected (see the rejects
files), and 1 on a fatal error (raised and printed by ``api.cli.main``); after exit 1 the store
is as it was before (docs/data-contract.md, "Commands and exit codes").
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

# The validation options `ingest` and `neo4j-import` share (both validate a folder the same way).
Encoding = Annotated[
    str | None, typer.Option(help="CSV text encoding (utf-8 or gb18030); detected when not given")
]
RejectsDir = Annotated[
    Path | None, typer.Option(help="folder for the rejects files (default: IN_DIR/_rejects)")
]
WarningsDir = Annotated[
    Path | None, typer.Option(help="folder for the warnings files (default: IN_DIR/_warnings)")
]
DateGraceDays = Annotated[
    int | None,
    typer.Option(help="days after today a date may lie (default: MEDFRAUD_INGEST_DATE_GRACE_DAYS or 31)"),
]
ShowProgress = Annotated[bool, typer.Option(help="show a progress bar")]


def ingest(
    in_dir: Annotated[
        Path, typer.Argument(help="folder with persons/institutions/doctors/injury_cases/claims")
    ],
    encoding: Encoding = None,
    rejects: RejectsDir = None,
    warnings: WarningsDir = None,
    date_grace_days: DateGraceDays = None,
    progress: ShowProgress = True,
) -> None:
    """Validate a folder of bureau exports and load it into the configured store."""
    from graph.factory import open_store
    from ingest.loader import ingest_dir

    with open_store() as store:
        report = ingest_dir(store, in_dir, encoding=encoding, rejects_dir=rejects, warnings_dir=warnings,
                            progress=progress, date_grace_days=date_grace_days)
    typer.echo(str(report))
    raise typer.Exit(report.exit_code)


def neo4j_import(
    in_dir: Annotated[
        Path | None, typer.Argument(help="folder with persons/institutions/doctors/injury_cases/claims")
    ] = None,
    data: Annotated[
        Path, typer.Option(help="the Neo4j data folder (run.sh --data DIR); the server must be stopped")
    ] = Path("./data/neo4j"),
    from_duckdb: Annotated[
        Path | None, typer.Option(help="copy this embedded store file instead of ingesting a folder")
    ] = None,
    files_only: Annotated[
        Path | None,
        typer.Option(help="only write the importer's files here (for neo4j-admin on another machine)"),
    ] = None,
    database: Annotated[str, typer.Option(help="the database to build")] = "neo4j",
    overwrite: Annotated[bool, typer.Option(help="replace an existing database of that name")] = False,
    encoding: Encoding = None,
    rejects: RejectsDir = None,
    warnings: WarningsDir = None,
    date_grace_days: DateGraceDays = None,
    progress: ShowProgress = True,
) -> None:
    """First load into an empty Neo4j through its offline bulk importer (much faster than ingest).

    Validates the folder exactly as `ingest` does (same rejects, warnings and exit codes), then
    builds the database in DATA with the server stopped; start the server afterwards.
    """
    from ingest.neo4j_import import neo4j_import as run

    if (in_dir is None) == (from_duckdb is None):
        raise typer.BadParameter("give a folder to ingest or --from-duckdb FILE (one of them)")
    report = run(in_dir, data, from_duckdb=from_duckdb, files_only=files_only, database=database,
                 overwrite=overwrite, encoding=encoding, rejects_dir=rejects, warnings_dir=warnings,
                 date_grace_days=date_grace_days, progress=progress)
    typer.echo(str(report))
    raise typer.Exit(report.exit_code)


def generate(
    out_dir: Annotated[Path, typer.Argument(help="folder to write the city's tables into")],
    persons: Annotated[int, typer.Option(help="insured persons in the city")] = 20_000,
    seed: Annotated[int, typer.Option(help="random seed: the same seed gives the same city")] = 42,
    bad_rows: Annotated[int, typer.Option(help="malformed rows to inject (listed in the truth file)")] = 0,
    fmt: Annotated[str, typer.Option("--format", help="csv, parquet or xlsx (small cities only)")] = "csv",
    encoding: Annotated[str, typer.Option(help="CSV encoding: utf-8 or gb18030")] = "utf-8",
) -> None:
    """Generate a synthetic city with planted fraud; the truth JSON goes next to OUT_DIR."""
    import time

    from ingest.generator import generate_city

    started = time.perf_counter()
    truth = generate_city(out_dir, persons=persons, seed=seed, bad_rows=bad_rows, fmt=fmt, encoding=encoding)
    typer.echo(
        f"wrote a city of {persons:,} persons (seed {seed}) to {out_dir} "
        f"in {time.perf_counter() - started:.1f} s; truth: {truth}"
    )


def register(app: typer.Typer) -> None:
    """Add this package's commands to the CLI."""
    app.command("ingest")(ingest)
    app.command("neo4j-import")(neo4j_import)
    app.command("generate")(generate)
