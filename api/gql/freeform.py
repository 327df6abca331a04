"""Free-form and named queries: which data they run on, and how big an answer may be.

- Investigators and admins run on the store itself (full identities, as everywhere else).
- Analysts run on the store's pseudonymised analyst view (:meth:`graph.port.GraphStore.analyst_query`):
  masking is a property of the data they query, not a rewrite of the answer, so no alias,
  concatenation or cast can bring a raw value back. The masked keys (``~...``) an analyst was
  shown by the GraphQL API may be passed as parameters; they arrive as the view's pseudonyms.
- The store is told the same time limit the client sees (the smaller of the query limit and the
  store-call limit), so a query the client gave up on does not go on running.
- An answer is cut at ``MEDFRAUD_API_READ_QUERY_MAX_BYTES`` (encoded JSON), and says so with
  ``truncated``; every value is made encodable first (see :func:`api.security.masking.json_safe`).
"""

from __future__ import annotations

import hashlib
import time
from typing import TYPE_CHECKING, Any

import orjson
from strawberry.scalars import JSON

from api.gql.types import QueryRows
from api.security.masking import MASKED_KEY_LABELS, TOKEN_PREFIX, json_safe, unmask_params
from graph.errors import InvalidRequest
from graph.port import KEY_NAMESPACE, QueryResult, pseudonym
from queries import library

if TYPE_CHECKING:
    from api.gql.context import Context


def view_key(secret: str) -> str:
    """The analyst view's pseudonym key, derived from the server secret (never the secret itself)."""
    return hashlib.sha256(f"medfraud-analyst-view:{secret}".encode()).hexdigest()


def _analyst_params(ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
    """Masked keys become the view's pseudonyms; nothing else is changed."""
    key = view_key(ctx.services.settings.secret)
    out: dict[str, Any] = {}
    for name, value in params.items():
        if isinstance(value, str) and value.startswith(TOKEN_PREFIX):
            for label in sorted(MASKED_KEY_LABELS):
                try:
                    real = ctx.services.cipher.open(label, value)
                except InvalidRequest:
                    continue
                value = pseudonym(key, KEY_NAMESPACE[label], real)
                break
            else:
                raise InvalidRequest(f"parameter {name}: {value!r} is not a key this server issued")
        out[name] = value
    return out


def time_limit(ctx: Context) -> float:
    """What the client waits: the query limit, the store-call limit or what is left of the request's."""
    left = max(0.001, ctx.store_deadline - time.monotonic())
    return min(ctx.services.settings.query_timeout_s, ctx.api.store_timeout_s, left)


def run_text(ctx: Context, text: str, params: dict[str, Any] | None) -> QueryRows:
    """``readQuery``: the caller's own text, on the data the caller's role queries."""
    return _run(ctx, text, _params(ctx, params or {}))


def run_named(ctx: Context, name: str, params: dict[str, Any] | None) -> QueryRows:
    """``runNamedQuery``: a vetted query with typed parameters, on the same data as ``readQuery``."""
    query = library.get_named_query(name)
    values = library.coerce_params(query, _params(ctx, params or {}))
    return _run(ctx, query.text_for(ctx.writer.query_language), values)


def _params(ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
    if ctx.masked:
        return _analyst_params(ctx, params)
    return unmask_params(ctx.services.cipher, params)


def _run(ctx: Context, text: str, values: dict[str, Any]) -> QueryRows:
    limit = ctx.services.settings.read_query_row_limit
    if ctx.masked:
        result = ctx.writer.analyst_query(text, values, key=view_key(ctx.services.settings.secret),
                                          limit=limit, timeout_s=time_limit(ctx))
    else:
        result = ctx.writer.read_query(text, values, limit=limit, timeout_s=time_limit(ctx))
    return capped_rows(result, ctx.api.read_query_max_bytes)


def capped_rows(result: QueryResult, max_bytes: int) -> QueryRows:
    """The rows that fit in ``max_bytes`` of JSON; ``truncated`` when rows were left out."""
    columns = list(result.columns)
    budget = max_bytes - len(orjson.dumps(columns))
    kept: list[Any] = []
    truncated = result.truncated
    for row in result.rows:
        safe = json_safe(row)
        size = len(orjson.dumps(safe)) + 1
        if size > budget:
            if not kept:
                raise InvalidRequest(
                    f"the first row alone is larger than the {max_bytes} bytes an answer may have "
                    "(MEDFRAUD_API_READ_QUERY_MAX_BYTES); select less")
            truncated = True
            break
        budget -= size
        kept.append(safe)
    return QueryRows(columns=columns, rows=JSON(kept), truncated=truncated)
