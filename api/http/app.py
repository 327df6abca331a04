"""The FastAPI application: /graphql, /healthz, /metrics and the /ui page.

``create_app`` builds everything from settings; the lifespan opens the store (unless one is given,
as tests and the demo do), starts the scheduled detection job in-process (the API server owns the
DuckDB file, so scheduled runs must live here) and closes both on shutdown.
"""

from __future__ import annotations

import contextlib
import functools
import gc
import importlib.util
import logging
import os
from collections.abc import AsyncIterator
from typing import Any

import anyio
import anyio.to_thread
import orjson
from fastapi import FastAPI, HTTPException, Request
from fastapi.responses import JSONResponse, PlainTextResponse
from strawberry.fastapi import GraphQLRouter

from algorithms.job import run_detection
from algorithms.schedule import SchedulerHandle, start_background_scheduler
from algorithms.settings import DetectionSettings
from api.gql.context import Context, Services
from api.gql.schema import build_schema
from api.http.deps import ServicesDep, StoreDep, current_user, unauthorized
from api.http.metrics import BodyLimitMiddleware, Metrics, MetricsMiddleware, render_counters
from api.i18n import LangSettings, pick_language
from api.security.access import ScopeCache
from api.security.audit import AuditLog
from api.security.audit_extension import client_of, record_refused
from api.security.auth import Principal, Role, principal_from_header
from api.security.hygiene import check_production
from api.security.masking import KeyCipher
from api.settings import ApiSettings, AuditSettings
from api.workflow.detection import DetectionRunner
from graph.errors import AuditError, AuthenticationError, MedfraudError
from graph.port import GraphStore
from graph.serving.store import ServingOptions, ServingStore
from graph.settings import Settings, load_settings

log = logging.getLogger("medfraud.api")

# GraphiQL's page itself is fetched without a token; queries over GET are disabled, so this
# principal can render the page and nothing else.
_IDE_VIEWER = Principal(sub="graphiql-page", role=Role.analyst, agency="-")


async def _request_document(request: Request) -> tuple[str | None, dict[str, Any] | None]:
    """The query and variables of a refused request, for its audit record (best effort: a body
    that is not a GraphQL JSON request is recorded as its text)."""
    try:
        raw = await request.body()
    except Exception:
        return None, None
    try:
        body = orjson.loads(raw)
    except orjson.JSONDecodeError:
        return raw.decode("utf-8", "replace"), None
    if not isinstance(body, dict):
        return raw.decode("utf-8", "replace"), None
    query, variables = body.get("query"), body.get("variables")
    return (query if isinstance(query, str) else None), (variables if isinstance(variables, dict) else None)


_LOOPBACK = frozenset({"127.0.0.1", "::1", "localhost"})


def _check_metrics_access(request: Request, services: Services) -> None:
    """/metrics: an admin token (default), or loopback clients only (MEDFRAUD_API_METRICS_ACCESS)."""
    if services.api.metrics_access == "loopback":
        host = request.client.host if request.client else ""
        if host not in _LOOPBACK:
            raise HTTPException(status_code=403, detail={"code": "FORBIDDEN",
                                                         "message": "/metrics answers loopback clients only"})
        return
    principal = current_user(request, services)
    if principal.role is not Role.admin:
        raise HTTPException(status_code=403,
                            detail={"code": "FORBIDDEN", "message": "/metrics needs an admin token"})


class _Router(GraphQLRouter[Context, None]):
    def encode_json(self, data: object) -> bytes:
        # orjson: several times faster than the json module on a 300-node picture (a fifth of the
        # server's CPU under load was spent encoding), and UTF-8 names instead of \u escapes
        return orjson.dumps(data, default=str, option=orjson.OPT_NON_STR_KEYS)


def _start_scheduler(store: ServingStore) -> SchedulerHandle:
    """Scheduled detection in the server, writing through the serving layer (which renews rings)."""
    settings = load_settings(DetectionSettings)

    def job() -> object:
        return run_detection(store, settings, engine=settings.engine)

    return start_background_scheduler(store, settings, job=job)


def serving_options(settings: Settings, api: ApiSettings, kind: str) -> ServingOptions:
    """The serving layer as configured; the embedded store's revisions are read before every read,
    since they cost nothing there (they live in this process)."""
    return ServingOptions(read_index=settings.read_index, node_cache=settings.node_cache,
                          response_cache=api.response_cache,
                          check_s=0.0 if kind == "duckdb" else settings.revision_check_s,
                          warm_rings=api.warm_rings, hub_cap=api.hub_cap)


def create_app(settings: Settings | None = None, store: GraphStore | None = None, *,
               api_settings: ApiSettings | None = None, audit_settings: AuditSettings | None = None,
               schedule: bool | None = None) -> FastAPI:
    """The ASGI app.

    Without ``store`` the app opens the configured one at start-up and closes it on shutdown. A
    store passed in belongs to the caller. ``schedule`` starts the scheduled detection job in the
    server (default: only when the app opened the store itself).

    Refuses (ConfigError / AuditError) to be built in prod with weak or shared secrets, or on an
    audit log whose tail does not verify.
    """
    settings = settings or load_settings()
    api = api_settings or load_settings(ApiSettings)
    audit_cfg = audit_settings or load_settings(AuditSettings)
    check_production(settings, audit_cfg)
    dev = settings.env == "dev"
    default_lang = load_settings(LangSettings).lang
    metrics = Metrics()
    # opened now, not at start-up: a log that does not verify stops `medfraud serve` with its reason
    audit_log = AuditLog(api.audit_log, key=audit_cfg.key, fsync=api.audit_fsync)

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        owned = store is None
        if store is None:
            from graph.factory import open_store

            opened = await anyio.to_thread.run_sync(open_store, settings)
        else:
            opened = store
        serving = ServingStore(opened, serving_options(settings, api, opened.kind), owns_inner=owned)
        services = Services(
            settings=settings, api=api, store=serving, cipher=KeyCipher(settings.secret),
            audit=audit_log, scopes=ScopeCache(api.scope_cache_s),
        )
        services.metrics = metrics
        # the run's writes pass through the serving layer, which drops what they made stale
        services.detection = DetectionRunner(serving)
        app.state.services = services
        # Everything alive now lives as long as the server (schema, settings, modules): keep it out
        # of the collector's full passes, which otherwise stall requests by tens of ms.
        gc.freeze()
        # A store handed in (tests, the demo) belongs to the caller, and so does its schedule.
        scheduler = _start_scheduler(serving) if (owned if schedule is None else schedule) else None
        # in the background: reads go to the store until the in-memory index is ready
        serving.start()
        try:
            yield
        finally:
            gc.unfreeze()  # what was frozen may be collected again once the server stops
            serving.stop()
            if scheduler is not None:
                scheduler.stop()
            if services.detection is not None:
                services.detection.wait(timeout=60)
            services.audit.close()
            serving.close()

    app = FastAPI(title="medfraud investigation API", lifespan=lifespan, docs_url="/docs" if dev else None,
                  redoc_url=None, openapi_url="/openapi.json" if dev else None)

    async def get_context(request: Request, services: ServicesDep) -> Context:
        if request.method == "GET" and request.headers.get("authorization") is None and dev:
            return Context(services, _IDE_VIEWER)
        try:
            principal = principal_from_header(services.settings.secret, request.headers.get("authorization"),
                                              max_ttl_s=services.api.token_max_ttl_s)
        except AuthenticationError as exc:
            query, variables = await _request_document(request)
            try:
                await anyio.to_thread.run_sync(functools.partial(
                    record_refused, services, reason=str(exc), query=query, variables=variables,
                    client=client_of(request)))
            except AuditError as audit_exc:
                raise HTTPException(status_code=500, detail={"code": audit_exc.code,
                                                             "message": str(audit_exc)}) from None
            raise unauthorized(exc) from None
        ctx = Context(services, principal,
                      lang=pick_language(request.headers.get("accept-language"), default_lang))
        if ctx.is_police:
            await ctx.run(ctx.scope)
        return ctx

    router: GraphQLRouter[Context, None] = _Router(
        build_schema(api, dev=dev), context_getter=get_context,
        graphql_ide="graphiql" if dev else None, allow_queries_via_get=False,
        subscription_protocols=(),  # no subscriptions: refuse websocket upgrades outright
    )
    app.include_router(router, prefix="/graphql")

    @app.get("/healthz")
    async def healthz(store_: StoreDep, services: ServicesDep) -> JSONResponse:
        try:
            with anyio.fail_after(services.api.store_timeout_s):
                await anyio.to_thread.run_sync(store_.ping, abandon_on_cancel=True)
        except (MedfraudError, TimeoutError) as exc:
            return JSONResponse({"status": "unavailable", "store": store_.kind, "error": str(exc)},
                                status_code=503)
        health = services.store.health()
        # operators (and the benchmark) can tell when pictures are served from memory
        # pid: which worker answered, when `serve --workers N` runs several
        return JSONResponse({"status": "ok", "store": store_.kind, "read_index": health.read_index,
                             "ring_pictures": health.ring_pictures, "pid": os.getpid()})

    @app.get("/metrics")
    async def metrics_endpoint(request: Request, services: ServicesDep) -> PlainTextResponse:
        _check_metrics_access(request, services)
        stats = services.store.stats()
        counters = [
            ("medfraud_response_cache_hits_total", "Read answers served from the response cache.",
             stats.response_cache_hits),
            ("medfraud_response_cache_misses_total", "Cacheable read answers built anew.",
             stats.response_cache_misses),
            ("medfraud_node_cache_hits_total", "Nodes read from the serving layer's node cache.",
             stats.node_cache_hits),
            ("medfraud_node_cache_misses_total", "Nodes read from the store.", stats.node_cache_misses),
            ("medfraud_listing_cache_hits_total", "List pages (rings, findings, cases) served from memory.",
             stats.listing_cache_hits),
            ("medfraud_listing_cache_misses_total", "List pages read from the store.",
             stats.listing_cache_misses),
            ("medfraud_read_index_builds_total", "Read index builds completed.", stats.read_index_builds),
        ]
        gauges = [
            ("medfraud_ring_pictures", "Ring pictures prepared in memory.", stats.ring_pictures),
            ("medfraud_ring_picture_nodes", "Nodes the prepared ring pictures draw in all.",
             stats.ring_picture_nodes),
        ]
        text = metrics.render() + render_counters(counters) + render_counters(gauges, "gauge")
        return PlainTextResponse(text, media_type="text/plain; version=0.0.4")

    from api.dossier.routes import router as dossier_router

    app.include_router(dossier_router)

    if importlib.util.find_spec("api.http.ui") is not None:
        from api.http import ui

        app.include_router(ui.router)

    app.add_middleware(BodyLimitMiddleware, max_bytes=api.max_body_bytes)
    app.add_middleware(MetricsMiddleware, metrics=metrics)
    return app


def worker_app() -> FastAPI:
    """One of ``medfraud serve --workers N``'s processes: it opens the configured (Neo4j) store
    itself and runs no schedule (``medfraud schedule`` does, as a process of its own)."""
    return create_app(schedule=False)
