"""The ``medfraud`` command: a thin composition of each package's commands.

Each package registers its own commands (``graph.cli``, ``ingest.cli``, ``algorithms.cli``,
``api.commands``); this module only assembles them, adds ``demo`` and maps domain errors to
exit codes (1 for a fatal error, with the message on stderr and no stack trace).
"""

from __future__ import annotations

import sys

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
    from graph.cli import register as register_graph
    from ingest.cli import register as register_ingest

    register_graph(app)
    register_ingest(app)
    register_algorithms(app)
    register_api(app)


_register()


def main() -> None:
    try:
        app()
    except MedfraudError as exc:
        typer.echo(f"error: {exc}", err=True)
        sys.exit(1)
