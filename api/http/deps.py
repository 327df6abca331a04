"""FastAPI dependencies as ``Annotated`` aliases: the services, the store, the current user."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, HTTPException, Request

from api.gql.context import Services
from api.security.auth import Principal, principal_from_header
from graph.errors import AuthenticationError
from graph.port import GraphStore


def get_services(request: Request) -> Services:
    services: Services = request.app.state.services
    return services


ServicesDep = Annotated[Services, Depends(get_services)]


def get_store(services: ServicesDep) -> GraphStore:
    return services.store


StoreDep = Annotated[GraphStore, Depends(get_store)]


def unauthorized(exc: AuthenticationError) -> HTTPException:
    return HTTPException(status_code=401, detail={"code": exc.code, "message": str(exc)},
                         headers={"WWW-Authenticate": "Bearer"})


def current_user(request: Request, services: ServicesDep) -> Principal:
    try:
        return principal_from_header(services.settings.secret, request.headers.get("authorization"),
                                     max_ttl_s=services.api.token_max_ttl_s)
    except AuthenticationError as exc:
        raise unauthorized(exc) from None


CurrentUser = Annotated[Principal, Depends(current_user)]
