"""``GET /cases/{id}/dossier.pdf`` and ``/cases/{id}/dossier.xlsx`` with the caller's bearer token.

The caller, the police scope and the language are settled as for ``/graphql`` (a refused token is
audited and answered 401); the content is read through the GraphQL schema as that caller
(:mod:`api.dossier.content`), so the answer is what that caller may see, masked as for them, and
audited as operation ``Dossier``. Domain errors map to statuses through :func:`api.http.statuses.http_status`.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Literal

import anyio.to_thread
import strawberry
from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import Response

from api.dossier.audit_excerpt import case_records
from api.dossier.content import Dossier, read_dossier
from api.dossier.pdf import render_pdf
from api.dossier.xlsx import render_xlsx
from api.gql.context import Context, Services
from api.http.deps import ServicesDep, unauthorized
from api.http.statuses import http_status
from api.i18n import LangSettings, pick_language
from api.security.audit_extension import client_of, record_refused
from api.security.auth import principal_from_header
from graph.errors import AuditError, AuthenticationError, MedfraudError
from graph.settings import load_settings

router = APIRouter(include_in_schema=False)

MEDIA = {
    "pdf": "application/pdf",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}
RENDER: dict[str, Callable[[Dossier], bytes]] = {"pdf": render_pdf, "xlsx": render_xlsx}


def schema_for(request: Request, services: Services) -> strawberry.Schema:
    """The GraphQL schema with the server's limits and extensions, built once per app."""
    from api.gql.schema import build_schema

    schema: strawberry.Schema | None = getattr(request.app.state, "dossier_schema", None)
    if schema is None:
        schema = build_schema(services.api, dev=services.settings.env == "dev")
        request.app.state.dossier_schema = schema
    return schema


async def produce(
    schema: strawberry.Schema, services: Services, ctx: Context, case_id: str, kind: Literal["pdf", "xlsx"]
) -> bytes:
    """The dossier of ``case_id`` as ``ctx``'s caller may see it, with the case's audit excerpt."""
    if ctx.is_police:
        await ctx.run(ctx.scope)
    dossier = await read_dossier(schema, ctx, case_id)
    dossier.audit = await anyio.to_thread.run_sync(
        functools.partial(
            case_records, services.audit.path, dossier.case_id, [r.ring_id for r in dossier.rings]
        )
    )
    return await anyio.to_thread.run_sync(RENDER[kind], dossier)


async def _answer(
    request: Request, services: Services, case_id: str, kind: Literal["pdf", "xlsx"]
) -> Response:
    try:
        principal = principal_from_header(
            services.settings.secret,
            request.headers.get("authorization"),
            max_ttl_s=services.api.token_max_ttl_s,
        )
    except AuthenticationError as exc:
        try:
            await anyio.to_thread.run_sync(
                functools.partial(
                    record_refused,
                    services,
                    reason=str(exc),
                    query=f"GET dossier.{kind} {case_id}",
                    variables=None,
                    client=client_of(request),
                )
            )
        except AuditError as audit_exc:
            raise HTTPException(
                status_code=500, detail={"code": audit_exc.code, "message": str(audit_exc)}
            ) from None
        raise unauthorized(exc) from None
    lang = pick_language(request.headers.get("accept-language"), load_settings(LangSettings).lang)
    ctx = Context(services, principal, lang=lang)
    try:
        body = await produce(schema_for(request, services), services, ctx, case_id, kind)
    except MedfraudError as exc:
        raise HTTPException(
            status_code=http_status(exc), detail={"code": exc.code, "message": str(exc)}
        ) from None
    safe = "".join(ch for ch in case_id if ch.isalnum() or ch in "-_") or "case"
    return Response(
        body,
        media_type=MEDIA[kind],
        headers={
            "Content-Disposition": f'attachment; filename="{safe}-dossier.{kind}"',
            "Cache-Control": "no-store",  # identities of a referral: never kept by a browser or proxy
            "X-Content-Type-Options": "nosniff",
        },
    )


@router.get("/cases/{case_id}/dossier.pdf")
async def dossier_pdf(case_id: str, request: Request, services: ServicesDep) -> Response:
    return await _answer(request, services, case_id, "pdf")


@router.get("/cases/{case_id}/dossier.xlsx")
async def dossier_xlsx(case_id: str, request: Request, services: ServicesDep) -> Response:
    return await _answer(request, services, case_id, "xlsx")
