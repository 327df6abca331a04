"""Domain errors of medfraud, in one place and free of any HTTP or GraphQL import.

Every package raises these; ``api/gql/errors.py`` puts their ``code`` on GraphQL errors
in one place, and the CLI maps them to exit codes. The hierarchy::

    MedfraudError
     ├── ConfigError              a setting is missing or wrong (named in the message)
     ├── StoreError               the graph store failed or refused
     │    ├── StoreUnavailable    cannot reach / open the store (e.g. file owned by another process)
     │    ├── QueryTimeout        a store call ran past its time limit
     │    └── WriteRefused        a read-only query tried to write
     ├── SchemaError              a label, relationship type or property unknown to the graph model
     ├── InputError               bad input data (file, line and reason attached)
     │    └── FatalInputError     a whole table cannot be loaded (missing column, unreadable file)
     ├── NotFound                 an entity, ring, case or named query does not exist
     ├── AccessDenied             authenticated, but the role/agency may not do this
     ├── AuthenticationError      no or invalid credentials
     ├── InvalidRequest           a request that is well-formed but not acceptable (bad status move...)
     ├── Conflict                 the operation clashes with current state (a detection run is active)
     └── AuditError               the audit record could not be written; the request must fail
"""

from __future__ import annotations


class MedfraudError(Exception):
    """Base of every error medfraud raises on purpose."""

    code: str = "INTERNAL"


class ConfigError(MedfraudError):
    code = "CONFIG_ERROR"


class StoreError(MedfraudError):
    code = "STORE_ERROR"


class StoreUnavailable(StoreError):
    code = "STORE_UNAVAILABLE"


class QueryTimeout(StoreError):
    code = "QUERY_TIMEOUT"


class WriteRefused(StoreError):
    code = "WRITE_REFUSED"


class SchemaError(MedfraudError):
    code = "SCHEMA_ERROR"


class InputError(MedfraudError):
    """A problem with input data; carries where it was found."""

    code = "INPUT_ERROR"

    def __init__(self, message: str, *, file: str | None = None, line: int | None = None,
                 column: str | None = None) -> None:
        self.file = file
        self.line = line
        self.column = column
        where = ", ".join(
            part for part in (
                file,
                f"line {line}" if line is not None else None,
                f"column {column}" if column else None,
            ) if part
        )
        super().__init__(f"{where}: {message}" if where else message)
        self.reason = message


class FatalInputError(InputError):
    code = "FATAL_INPUT_ERROR"


class NotFound(MedfraudError):
    code = "NOT_FOUND"


class AccessDenied(MedfraudError):
    code = "FORBIDDEN"


class AuthenticationError(MedfraudError):
    code = "UNAUTHENTICATED"


class InvalidRequest(MedfraudError):
    code = "BAD_REQUEST"


class Conflict(MedfraudError):
    code = "CONFLICT"


class AuditError(MedfraudError):
    code = "AUDIT_FAILED"
