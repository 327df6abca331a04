"""One audit record per GraphQL request, whatever its outcome, or no answer at all.

Every operation is recorded — answered, refused (``denied``), partly or wholly outside the
caller's scope (``out_of_scope``, with the refs that read as absent), invalid (``invalid``) or
failed (``error``) — with who, role, agency, the operation, its variables and the full document:
its SHA-256 always, its text up to ``MEDFRAUD_API_AUDIT_TEXT_CAP`` characters (the record says
how long it was, so a cut is visible) the first time this process records that document, and
``query_first_seq`` (the record holding the text) for a repeat. Entity keys are capped too, with
their count. Requests refused before GraphQL runs (no or invalid token) are recorded by
:func:`record_refused`.

If the record cannot be written the client gets no data, only an ``AUDIT_FAILED`` error.
"""

from __future__ import annotations

import functools
import hashlib
import json
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Any

import anyio.to_thread
from graphql import GraphQLError, OperationDefinitionNode
from strawberry.extensions import SchemaExtension

from api.security.masking import json_safe
from graph.errors import AuditError, MedfraudError

if TYPE_CHECKING:
    from api.gql.context import AuditTrail, Services

ENTITY_CAP = 1_000


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


def capped_text(name: str, text: str, cap: int) -> dict[str, Any]:
    """``text`` as an audit record holds it: hash and length always, the text up to ``cap``."""
    return {
        name: text[:cap], f"{name}_sha256": hashlib.sha256(text.encode()).hexdigest(),
        f"{name}_chars": len(text), f"{name}_truncated": len(text) > cap,
    }


def _capped_list(name: str, values: set[str]) -> dict[str, Any]:
    ordered = sorted(values)
    return {name: ordered[:ENTITY_CAP], f"{name}_count": len(ordered)}


def _codes(errors: list[GraphQLError]) -> list[str]:
    out = []
    for e in errors:
        original = e.original_error
        if isinstance(original, MedfraudError):
            out.append(original.code)
        elif e.path is None:
            out.append("GRAPHQL_VALIDATION_FAILED")
        else:
            out.append("INTERNAL")
    return out


def outcome(codes: list[str], hidden: bool) -> str:
    if "FORBIDDEN" in codes:
        return "denied"
    if hidden or "NOT_FOUND" in codes:
        return "out_of_scope" if hidden else "not_found"
    if any(c in ("BAD_REQUEST", "GRAPHQL_VALIDATION_FAILED", "SCHEMA_ERROR", "WRITE_REFUSED") for c in codes):
        return "invalid"
    return "error" if codes else "ok"


def write_record(services: Services, *, query: str | None, variables: dict[str, Any] | None,
                 **fields: Any) -> dict[str, Any]:
    """Append one request's record: the variables always, the document in full the first time this
    process records it and by hash (with the seq of the record that holds it) after that."""
    cap = services.api.audit_text_cap
    text = query or ""
    document = capped_text("query", text, cap)
    first = services.audit.documents.first_seq(document["query_sha256"])
    if first is not None:
        document["query"] = None
        document["query_first_seq"] = first
    variables_text = json.dumps(json_safe(variables or {}), sort_keys=True, ensure_ascii=False)
    record = services.audit.append(**fields, **document, **capped_text("variables", variables_text, cap))
    if first is None and not document["query_truncated"]:
        services.audit.documents.remember(document["query_sha256"], int(record["seq"]))
    return record


def trail_fields(trail: AuditTrail) -> dict[str, Any]:
    return {**_capped_list("entity_keys", trail.entities), **_capped_list("out_of_scope", trail.hidden),
            "case_ids": sorted(trail.cases), "details": trail.details}


def client_of(request: Any) -> str | None:
    """The peer address of a request (behind a proxy: the proxy's)."""
    client = getattr(request, "client", None)
    return str(client.host) if client is not None else None


def record_refused(services: Services, *, reason: str, query: str | None,
                   variables: dict[str, Any] | None, client: str | None) -> None:
    """A request refused before GraphQL ran (no or invalid token): who is unknown, what is not."""
    write_record(services, query=query, variables=variables, sub=None, role=None, agency=None, client=client,
                 operation=None, operation_type=None, fields=[], outcome="invalid_token",
                 codes=["UNAUTHENTICATED"], reason=reason)


class AuditExtension(SchemaExtension):
    async def on_operation(self) -> AsyncIterator[None]:
        yield
        ec = self.execution_context
        ctx = ec.context
        trail = getattr(ctx, "trail", None)
        services = getattr(ctx, "services", None)
        if trail is None or services is None:
            return
        op_type, fields = _root_fields(ec.graphql_document, ec.operation_name)
        principal = ctx.principal
        result = ec.result
        errors = list(getattr(result, "errors", None) or [])
        if ec.pre_execution_errors:
            errors += [e for e in ec.pre_execution_errors if e not in errors]
        codes = _codes(errors)
        try:
            # in a worker thread: the write and its fsync must not hold up other requests
            await anyio.to_thread.run_sync(functools.partial(
                write_record, services, query=ec.query, variables=ec.variables,
                sub=principal.sub, role=principal.role.value, agency=principal.agency_ref,
                client=client_of(getattr(ctx, "request", None)),
                operation=ec.operation_name or ",".join(fields), operation_type=op_type, fields=fields,
                outcome=outcome(codes, bool(trail.hidden)), codes=sorted(set(codes)),
                **trail_fields(trail),
            ))
        except AuditError as exc:
            if result is not None:
                result.data = None
                result.errors = [GraphQLError(str(exc), original_error=exc)]
