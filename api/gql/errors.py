"""The one place where domain errors become GraphQL error codes (each error's ``code``).

Policy (documented in docs/api.md):
- authentication failures (no token, bad signature, expired) refuse the whole request with HTTP 401;
- an oversized body is refused with HTTP 413 before it is read;
- everything else — wrong role, outside a police scope, not found, refused writes, conflicts,
  a failed audit write — is a GraphQL error in an HTTP 200 answer, carrying
  ``extensions.code`` from :mod:`graph.errors` so clients branch on the code, not the text;
- an unexpected exception is reported as ``INTERNAL``; outside dev its message is masked.
"""

from __future__ import annotations

from collections.abc import Iterator

from graphql import GraphQLError
from strawberry.extensions import MaskErrors, SchemaExtension

from graph.errors import MedfraudError

INTERNAL = "INTERNAL"
# Errors graphql-core raises while validating a document (depth, aliases, tokens, unknown field).
VALIDATION_CODE = "GRAPHQL_VALIDATION_FAILED"


def is_unexpected(error: GraphQLError) -> bool:
    """An exception raised while resolving a field that we did not raise on purpose.

    Errors without a ``path`` happen before execution (parsing, validation, variable coercion):
    they describe the client's document, never the server's state, so they are not masked.
    """
    original = error.original_error
    if original is None or isinstance(original, MedfraudError | GraphQLError):
        return False
    return error.path is not None


def error_code(error: GraphQLError) -> str:
    """The code a GraphQL error should carry."""
    original = error.original_error
    if isinstance(original, MedfraudError):
        return original.code
    if is_unexpected(error):
        return INTERNAL
    existing = (error.extensions or {}).get("code")
    return str(existing) if existing else VALIDATION_CODE


class ErrorCodes(SchemaExtension):
    """Attach ``extensions.code`` to every error of a result."""

    def on_operation(self) -> Iterator[None]:
        yield
        result = self.execution_context.result
        errors = getattr(result, "errors", None)
        metrics = getattr(getattr(self.execution_context.context, "services", None), "metrics", None)
        for error in errors or ():
            code = error_code(error)
            error.extensions = {**(error.extensions or {}), "code": code}
            if metrics is not None:
                metrics.graphql_error(code)


class MaskUnexpected(MaskErrors):
    """strawberry's MaskErrors for exceptions we did not raise on purpose, keeping the code."""

    def __init__(self) -> None:
        super().__init__(should_mask_error=is_unexpected, error_message="Internal error.")

    def anonymise_error(self, error: GraphQLError) -> GraphQLError:
        masked = super().anonymise_error(error)
        masked.extensions = {"code": INTERNAL}
        return masked
