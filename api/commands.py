"""Commands of this package for the ``medfraud`` CLI: serve, token, export-schema, audit verify."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated

import typer

from api.security.auth import AgencyKind, Role
from api.settings import ApiSettings, AuditSettings
from graph.settings import Settings, load_settings

SCHEMA_FILE = Path("docs/schema.graphql")


def serve(
    host: Annotated[str | None, typer.Option(help="interface to listen on (MEDFRAUD_API_HOST)")] = None,
    port: Annotated[int | None, typer.Option(help="port (MEDFRAUD_API_PORT)")] = None,
    workers: Annotated[int, typer.Option(min=1, help="API processes (Neo4j only; the embedded store "
                                                    "is owned by one process)")] = 1,
) -> None:
    """Serve the GraphQL API, /healthz, /metrics and /ui (the server owns the store file)."""
    import uvicorn

    from api.http.app import create_app
    from graph.errors import ConfigError
    from graph.factory import open_store

    settings: Settings = load_settings()
    api = load_settings(ApiSettings)
    # what the server creates (store, audit log, its head) is readable by its own user only
    os.umask(0o077)
    if workers > 1:
        if settings.store != "neo4j":
            raise ConfigError("--workers needs MEDFRAUD_STORE=neo4j: the embedded DuckDB file is owned by "
                              "one process, so the embedded server runs one (docs/operations.md)")
        # each worker opens its own driver and serving layer; scheduled detection runs apart
        # (`medfraud schedule`), so N workers never race for the same run
        uvicorn.run("api.http.app:worker_app", factory=True, workers=workers, host=host or api.host,
                    port=port if port is not None else api.port, log_level=settings.log_level.lower(),
                    access_log=False)
        return
    # Opened here, not in the app's start-up, so that a store owned by another process is a
    # one-line error ("stop the other process...") rather than a failed ASGI lifespan.
    with open_store(settings) as store:
        app = create_app(settings, store, api_settings=api, schedule=True)
        uvicorn.run(app, host=host or api.host, port=port if port is not None else api.port,
                    log_level=settings.log_level.lower(), access_log=False)


def token(
    role: Annotated[str, typer.Option(help=f"one of: {', '.join(r.value for r in Role)}")],
    agency: Annotated[str, typer.Option(help="the caller's agency id (police see cases shared with it)")],
    sub: Annotated[str, typer.Option(help="who the token is for (recorded in the audit log)")],
    agency_kind: Annotated[str | None, typer.Option(
        help=f"one of: {', '.join(k.value for k in AgencyKind)} (default: bureau; police for police)",
    )] = None,
    ttl: Annotated[int | None, typer.Option(help="seconds of validity (MEDFRAUD_API_TOKEN_TTL_S)")] = None,
) -> None:
    """Issue a bearer token; the token alone is printed on the last line."""
    from api.security.auth import issue_token
    from graph.errors import InvalidRequest

    settings: Settings = load_settings()
    api = load_settings(ApiSettings)
    lifetime = ttl if ttl is not None else api.token_ttl_s
    if lifetime > api.token_max_ttl_s:
        raise InvalidRequest(f"--ttl {lifetime} is longer than the {api.token_max_ttl_s} s the server "
                             "accepts (MEDFRAUD_API_TOKEN_MAX_TTL_S)")
    value = issue_token(settings.secret, sub=sub, role=role, agency=agency, agency_kind=agency_kind,
                        ttl_s=lifetime)
    typer.echo(f"# {role} token for {sub} ({agency_kind or 'default kind'}:{agency}), valid {lifetime} s",
               err=True)
    typer.echo(value)


def export_schema(
    out: Annotated[Path, typer.Option(help="where to write the SDL ('-' for stdout)")] = SCHEMA_FILE,
) -> None:
    """Write the GraphQL schema as SDL (docs/schema.graphql is diffed against the live schema in tests)."""
    from api.gql.schema import schema_sdl

    sdl = schema_sdl()
    if str(out) == "-":
        typer.echo(sdl, nl=False)
        return
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(sdl, encoding="utf-8")
    typer.echo(f"wrote {out}")


audit_app = typer.Typer(help="The hash-chained audit log of access to person-level data.",
                        no_args_is_help=True)


@audit_app.command("verify")
def audit_verify(
    path: Annotated[Path | None, typer.Argument(help="the log (default MEDFRAUD_API_AUDIT_LOG)")] = None,
) -> None:
    """Check the chain under MEDFRAUD_AUDIT_KEY; exits 1 naming the first bad line when the log was
    edited, cut, reordered or rewritten without the key."""
    from api.security.audit import verify

    target = path or load_settings(ApiSettings).audit_log
    result = verify(target, load_settings(AuditSettings).key)
    if result.ok:
        typer.echo(f"{target}: {result.records} records, chain intact")
        return
    where = f"line {result.line}: " if result.line is not None else ""
    typer.echo(f"{target}: {where}{result.reason} ({result.records} good records before it)", err=True)
    raise typer.Exit(1)


@audit_app.command("new-segment")
def audit_new_segment(
    path: Annotated[Path | None, typer.Argument(help="the log (default MEDFRAUD_API_AUDIT_LOG)")] = None,
) -> None:
    """Set a log that does not verify aside (kept, renamed) and start a new one whose first record
    states the break; the server refuses to start on a bad log until this is done."""
    from api.security.audit import new_segment

    target = path or load_settings(ApiSettings).audit_log
    aside = new_segment(target, load_settings(AuditSettings).key)
    typer.echo(f"{target}: the old log is kept as {aside}; a new segment starts with the break recorded")


cases_app = typer.Typer(help="Investigation cases kept in the store.", no_args_is_help=True)


@cases_app.command("qualify-agencies")
def cases_qualify_agencies() -> None:
    """Rewrite cases opened before agency kinds (agency X -> bureau:X, shared Y -> police:Y); stop the
    server first (it owns the store)."""
    from api.workflow.cases import qualify_legacy_agencies
    from graph.factory import open_store

    with open_store(load_settings()) as store:
        changed = qualify_legacy_agencies(store)
    typer.echo(f"{changed} cases rewritten")


def register(app: typer.Typer) -> None:
    """Add this package's commands to the CLI."""
    app.command("serve")(serve)
    app.command("token")(token)
    app.command("export-schema")(export_schema)
    app.add_typer(audit_app, name="audit")
    app.add_typer(cases_app, name="cases")
