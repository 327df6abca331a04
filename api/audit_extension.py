"""Writes the audit record of a GraphQL request once it has run, or fails the request.

A request is audited when it returned person-level nodes, touched a case, ran a free-form query or
changed anything (see :class:`api.context.AuditTrail`). If the record cannot be written the client
gets no data, only an ``AUDIT_FAILED`` error.
"""

from __future__ import annotations

import functools
from collections.abc import AsyncIterator
from typing import Any

import anyio.to_thread
from graphql import GraphQLError, OperationDefinitionNode
from strawberry.extensions import SchemaExtension

from graph.errors import AuditError


def _root_fields(document: Any, operation_name: str | None) -> tuple[str, list[str]]:
    if document is None:
        return "unknown", []
    for definition in document.definitions:
        if isinstance(definition, OperationDefinitionNode) and (
            operation_name is None or (definition.name and definition.name.value == operation_name)
        ):
            fields = [sel.name.value for sel in definition.selection_set.selections
                      if hasattr(sel, "name")]
            return definition.operation.value, fields
    return "unknown", []


class AuditExtension(SchemaExtension):
    async def on_operation(self) -> AsyncIterator[None]:
        yield
        ec = self.execution_context
        ctx = ec.context
        trail = getattr(ctx, "trail", None)
        if trail is None or not trail.needed:
            return
        op_type, fields = _root_fields(ec.graphql_document, ec.operation_name)
        principal = ctx.principal
        result = ec.result
        errors = getattr(result, "errors", None) or []
        try:
            # in a worker thread: the write and its fsync must not hold up other requests
            await anyio.to_thread.run_sync(functools.partial(
                ctx.services.audit.append,
                sub=principal.sub, role=principal.role.value, agency=principal.agency,
                operation=ec.operation_name or ",".join(fields), operation_type=op_type, fields=fields,
                entity_keys=sorted(trail.entities), case_ids=sorted(trail.cases),
                details=trail.details, errors=len(errors),
            ))
        except AuditError as exc:
            if result is not None:
                result.data = None
                result.errors = [GraphQLError(str(exc), original_error=exc)]
