"""``medfraud dossier CASE_ID OUT.pdf`` (or ``OUT.xlsx``): the referral dossier from the command line.

The dossier is read exactly as over HTTP (:func:`api.dossier.routes.produce`): through the GraphQL
schema, as a principal, with an audit record. That principal is the holder of ``--token`` (the
same checks as the server); without one, the operator at the server's console, recorded in the
audit log as ``cli:<user>`` with the admin role (they hold the store and its secrets anyway).
"""

from __future__ import annotations

import getpass
from pathlib import Path
from typing import Annotated, Literal

import anyio
import typer

from api.gql.context import Context, Services
from api.i18n import LangSettings
from api.security.audit import AuditLog
from api.security.auth import Principal, Role, principal_from_header
from api.security.masking import KeyCipher
from api.settings import ApiSettings, AuditSettings
from graph.errors import InvalidRequest
from graph.settings import Settings, load_settings


def dossier_bytes(
    settings: Settings,
    case_id: str,
    kind: Literal["pdf", "xlsx"],
    *,
    token: str | None,
    lang: Literal["zh", "en"],
) -> bytes:
    from api.dossier.routes import produce
    from api.gql.schema import build_schema
    from api.security.access import ScopeCache
    from graph.factory import open_store
    from graph.serving.store import ServingOptions, ServingStore

    api = load_settings(ApiSettings)
    audit_cfg = load_settings(AuditSettings)
    if token:
        principal = principal_from_header(settings.secret, f"Bearer {token}", max_ttl_s=api.token_max_ttl_s)
    else:
        principal = Principal(sub=f"cli:{getpass.getuser()}", role=Role.admin, agency="local")
    store = open_store(settings, read_only=True)
    audit = AuditLog(api.audit_log, key=audit_cfg.key, fsync=api.audit_fsync)
    try:
        services = Services(
            settings=settings,
            api=api,
            # one document: nothing worth keeping in memory, so no index and no caches
            store=ServingStore(store, ServingOptions(read_index=False, node_cache=0), owns_inner=False),
            cipher=KeyCipher(settings.secret),
            audit=audit,
            scopes=ScopeCache(api.scope_cache_s),
        )

        async def run() -> bytes:
            schema = build_schema(api, dev=settings.env == "dev")
            return await produce(schema, services, Context(services, principal, lang=lang), case_id, kind)

        return anyio.run(run)
    finally:
        audit.close()
        store.close()


def register(app: typer.Typer) -> None:
    @app.command()
    def dossier(
        case_id: Annotated[str, typer.Argument(help="the case id (CASE-...)")],
        out: Annotated[Path, typer.Argument(help="where to write it: a .pdf, or an .xlsx of the claims")],
        token: Annotated[
            str | None,
            typer.Option(envvar="MEDFRAUD_TOKEN", help="read as this token's holder (default: the operator)"),
        ] = None,
        lang: Annotated[str | None, typer.Option(help="zh or en (default MEDFRAUD_LANG)")] = None,
    ) -> None:
        """Write a case's referral dossier (移送材料): PDF with picture, members, evidence, claims, audit."""
        suffix = out.suffix.lower().lstrip(".")
        if suffix not in ("pdf", "xlsx"):
            raise InvalidRequest(f"{out}: the dossier is written as .pdf or .xlsx")
        chosen = lang or load_settings(LangSettings).lang
        if chosen not in ("zh", "en"):
            raise InvalidRequest(f"--lang {chosen}: zh or en")
        body = dossier_bytes(
            load_settings(),
            case_id,
            "pdf" if suffix == "pdf" else "xlsx",
            token=token,
            lang="en" if chosen == "en" else "zh",
        )
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_bytes(body)
        typer.echo(f"wrote {out} ({len(body):,} bytes)")
