"""How the Neo4j driver's and server's errors become :mod:`graph.errors`, in one place.

Unreachable server or rejected credentials -> ``StoreUnavailable``; transaction timed out ->
``QueryTimeout``; a write attempted in a read transaction -> ``WriteRefused``; a bad analyst
query -> ``InvalidRequest``; anything else -> ``StoreError``.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from neo4j.exceptions import (
    AuthError,
    ClientError,
    DriverError,
    Neo4jError,
    ServiceUnavailable,
    SessionExpired,
)

from graph.errors import InvalidRequest, QueryTimeout, StoreError, StoreUnavailable, WriteRefused

_TIMEOUT_MARK = "TransactionTimedOut"  # ...TransactionTimedOut and ...TransactionTimedOutClientConfiguration
_WRITE_REFUSED_CODES = frozenset({
    "Neo.ClientError.Statement.AccessMode",
    "Neo.ClientError.General.ForbiddenOnReadOnlyDatabase",
})


@contextmanager
def neo4j_errors(action: str, *, analyst: bool = False) -> Iterator[None]:
    """Driver and server errors as :mod:`graph.errors` (the table in the store's docstring)."""
    try:
        yield
    except (ServiceUnavailable, SessionExpired) as exc:
        raise StoreUnavailable(f"Neo4j is unreachable while trying to {action}: {exc}") from exc
    except AuthError as exc:
        raise StoreUnavailable(
            "Neo4j refused the credentials (MEDFRAUD_NEO4J_USER / MEDFRAUD_NEO4J_PASSWORD): "
            f"{exc.message}"
        ) from exc
    except Neo4jError as exc:
        code = exc.code or ""
        if _TIMEOUT_MARK in code:
            raise QueryTimeout(
                f"Neo4j stopped the query at the time limit while trying to {action}"
            ) from exc
        if code in _WRITE_REFUSED_CODES:
            raise WriteRefused(
                f"this query would write; only read-only queries may run here ({code})"
            ) from exc
        if analyst and isinstance(exc, ClientError):
            raise InvalidRequest(f"Neo4j rejected the query: {exc.message}") from exc
        raise StoreError(f"Neo4j failed to {action}: {code}: {exc.message}") from exc
    except DriverError as exc:
        raise StoreError(f"Neo4j driver failed to {action}: {exc}") from exc
