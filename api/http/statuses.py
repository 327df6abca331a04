"""Domain errors as HTTP statuses, for the answers that are not GraphQL (the dossier downloads).

GraphQL answers carry the error's code in ``extensions.code`` (:mod:`api.gql.errors`); a PDF or
spreadsheet request has only its status line, so each error kind gets one here.
"""

from __future__ import annotations

from graph.errors import (
    AccessDenied,
    AuditError,
    AuthenticationError,
    ConfigError,
    Conflict,
    InputError,
    InvalidRequest,
    MedfraudError,
    NotFound,
    QueryTimeout,
    SchemaError,
    StoreUnavailable,
    WriteRefused,
)

HTTP_STATUS: dict[type[MedfraudError], int] = {
    AuthenticationError: 401,
    AccessDenied: 403,
    NotFound: 404,
    InvalidRequest: 400,
    InputError: 400,
    SchemaError: 400,
    WriteRefused: 400,
    Conflict: 409,
    QueryTimeout: 504,
    StoreUnavailable: 503,
    ConfigError: 500,
    AuditError: 500,
}


def http_status(exc: MedfraudError) -> int:
    """The status of the nearest error class in the table (500 for anything unlisted)."""
    for cls in type(exc).__mro__:
        if cls in HTTP_STATUS:
            return HTTP_STATUS[cls]
    return 500
