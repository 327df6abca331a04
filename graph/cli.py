"""Commands of this package for the ``medfraud`` CLI: ``stats``."""

from __future__ import annotations

import json
from typing import Annotated

import typer


def _table(title: str, counts: dict[str, int]) -> list[str]:
    width = max(len(title), *(len(name) for name in counts))
    lines = [f"{title:<{width}}  {'count':>13}", f"{'-' * width}  {'-' * 13}"]
    lines += [f"{name:<{width}}  {n:>13,}" for name, n in counts.items()]
    lines.append(f"{'total':<{width}}  {sum(counts.values()):>13,}")
    return lines


def stats(
    as_json: Annotated[bool, typer.Option("--json", help="print JSON for scripts, not a table")] = False,
) -> None:
    """Node counts per label and relationship counts per type of the configured store."""
    from graph.factory import open_store
    from graph.settings import Settings, load_settings

    settings: Settings = load_settings()
    # counting needs no write access; an existing DuckDB file is opened read-only so that a
    # missing schema is never created as a side effect of looking
    read_only = settings.store == "duckdb" and settings.duckdb_path.exists()
    with open_store(settings, read_only=read_only) as store:
        nodes = store.count_nodes()
        rels = store.count_relationships()
        where = str(settings.duckdb_path) if settings.store == "duckdb" else settings.neo4j_uri or ""
    if as_json:
        typer.echo(json.dumps({"store": settings.store, "location": where,
                               "nodes": nodes, "relationships": rels}, ensure_ascii=False))
        return
    typer.echo(f"store: {settings.store} ({where})")
    typer.echo("")
    typer.echo("\n".join(_table("label", nodes)))
    typer.echo("")
    typer.echo("\n".join(_table("relationship", rels)))


def register(app: typer.Typer) -> None:
    """Add this package's commands to the CLI."""
    app.command("stats")(stats)
