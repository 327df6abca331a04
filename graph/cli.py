"""Commands of this package for the ``medfraud`` CLI."""

from __future__ import annotations

import typer


def register(app: typer.Typer) -> None:
    """Add this package's commands to the CLI."""
