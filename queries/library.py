"""The analysts' library of named queries, read from the ``.cypher`` files shipped in this package.

Each query is one ``<name>.cypher`` file whose leading ``//`` comment lines declare it::

    // name: co_visitors_of_person
    // description: one line for the query list
    // param: person_id string

followed by the Cypher, and a ``<name>.sql`` twin for the embedded DuckDB store. Parameters are
referenced only as ``$name`` in both texts; the loader checks that the texts use exactly the
declared parameters so that a typo fails when the library loads, not when an analyst runs it.
Running a query validates and coerces the parameters by their declared type and hands the store's
own language twin to :meth:`graph.port.GraphStore.read_query`, which refuses writes.
"""

from __future__ import annotations

import re
from datetime import date
from functools import lru_cache
from importlib import resources
from typing import Any, Literal, get_args

from pydantic import BaseModel, ConfigDict

from graph.errors import InputError, InvalidRequest, NotFound
from graph.port import GraphStore, QueryResult

ParamType = Literal["string", "int", "float", "date"]
PARAM_TYPES: tuple[str, ...] = get_args(ParamType)

_NAME_RE = re.compile(r"^[a-z][a-z0-9_]*$")
# `$name` outside string literals; the named queries keep literals free of `$`.
_PARAM_REF_RE = re.compile(r"\$([A-Za-z_][A-Za-z0-9_]*)")
_ISO_DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_HEADER_RE = re.compile(r"^//\s*(name|description|param):\s*(.*?)\s*$")


class NamedQueryParam(BaseModel):
    model_config = ConfigDict(frozen=True)

    name: str
    type: ParamType


class NamedQuery(BaseModel):
    """One analyst query with its Cypher text and its DuckDB SQL twin."""

    model_config = ConfigDict(frozen=True)

    name: str
    description: str
    parameters: tuple[NamedQueryParam, ...]
    cypher: str
    sql: str

    def text_for(self, query_language: str) -> str:
        if query_language == "cypher":
            return self.cypher
        if query_language == "sql":
            return self.sql
        raise InvalidRequest(f"named queries have no text for query language {query_language!r}")


def parse_named_query(file_name: str, cypher_source: str, sql_source: str) -> NamedQuery:
    """Build a query from its two file texts; ``InputError`` names the file, line and reason."""
    name: str | None = None
    description: str | None = None
    params: list[NamedQueryParam] = []
    lines = cypher_source.splitlines()
    body_start = len(lines)
    for number, line in enumerate(lines, start=1):
        stripped = line.strip()
        if not stripped:
            continue
        if not stripped.startswith("//"):
            body_start = number - 1
            break
        match = _HEADER_RE.match(stripped)
        if match is None:
            continue  # a plain comment in the header
        field, value = match.groups()
        if field == "name":
            if not _NAME_RE.match(value):
                raise InputError(f"query name {value!r} is not snake_case", file=file_name, line=number)
            name = value
        elif field == "description":
            description = value
        else:
            params.append(_parse_param(value, file_name, number, params))
    if name is None:
        raise InputError("header has no '// name: <snake_case>' line", file=file_name, line=1)
    expected_file = f"{name}.cypher"
    if file_name.rsplit("/", 1)[-1] != expected_file:
        raise InputError(f"query {name!r} must live in {expected_file}", file=file_name, line=1)
    if not description:
        raise InputError("header has no '// description: <one line>' line", file=file_name, line=1)
    cypher = "\n".join(lines[body_start:]).strip()
    if not cypher:
        raise InputError("no Cypher after the header", file=file_name, line=len(lines) or 1)
    declared = {p.name for p in params}
    _check_references(file_name, cypher, declared, first_line=body_start + 1)
    sql = sql_source.strip()
    sql_file = f"{name}.sql"
    if not sql:
        raise InputError("the SQL twin is empty", file=sql_file, line=1)
    _check_references(sql_file, sql, declared, first_line=1)
    return NamedQuery(name=name, description=description, parameters=tuple(params), cypher=cypher, sql=sql)


def _parse_param(value: str, file_name: str, line: int, seen: list[NamedQueryParam]) -> NamedQueryParam:
    parts = value.split()
    if len(parts) != 2:
        raise InputError(f"param line must be '<name> <type>', got {value!r}", file=file_name, line=line)
    pname, ptype = parts
    if not _NAME_RE.match(pname):
        raise InputError(f"parameter name {pname!r} is not snake_case", file=file_name, line=line)
    if ptype not in PARAM_TYPES:
        raise InputError(
            f"parameter {pname!r} has unknown type {ptype!r}; use one of {', '.join(PARAM_TYPES)}",
            file=file_name, line=line,
        )
    if any(p.name == pname for p in seen):
        raise InputError(f"parameter {pname!r} declared twice", file=file_name, line=line)
    return NamedQueryParam.model_validate({"name": pname, "type": ptype})


def _check_references(file_name: str, text: str, declared: set[str], *, first_line: int) -> None:
    used: dict[str, int] = {}
    for offset, text_line in enumerate(text.splitlines()):
        for ref in _PARAM_REF_RE.findall(text_line):
            used.setdefault(ref, first_line + offset)
    for ref, line_no in used.items():
        if ref not in declared:
            raise InputError(f"${ref} is used but not declared as a param", file=file_name, line=line_no)
    unused = sorted(declared - used.keys())
    if unused:
        raise InputError(f"param {unused[0]!r} is declared but never used", file=file_name, line=first_line)


@lru_cache(maxsize=1)
def _library() -> dict[str, NamedQuery]:
    root = resources.files("queries")
    found: dict[str, NamedQuery] = {}
    for entry in sorted(root.iterdir(), key=lambda e: e.name):
        if not entry.name.endswith(".cypher"):
            continue
        twin = root / (entry.name[: -len(".cypher")] + ".sql")
        if not twin.is_file():
            raise InputError("named query has no DuckDB SQL twin next to it", file=entry.name, line=1)
        query = parse_named_query(
            entry.name, entry.read_text(encoding="utf-8"), twin.read_text(encoding="utf-8")
        )
        found[query.name] = query
    return found


def list_named_queries() -> list[NamedQuery]:
    """All named queries, by name."""
    return list(_library().values())


def get_named_query(name: str) -> NamedQuery:
    try:
        return _library()[name]
    except KeyError:
        raise NotFound(
            f"no named query {name!r}; known: {', '.join(_library())}"
        ) from None


def coerce_params(query: NamedQuery, params: dict[str, Any] | None) -> dict[str, Any]:
    """Check the given parameters against the declaration and convert them to their types.

    Values may arrive as JSON (dates as ISO strings, numbers as strings from a form), so
    strings are parsed; a missing, unknown or unconvertible parameter raises ``InvalidRequest``
    naming it.
    """
    given = dict(params or {})
    declared = {p.name for p in query.parameters}
    unknown = sorted(given.keys() - declared)
    if unknown:
        raise InvalidRequest(
            f"query {query.name!r} has no parameter {unknown[0]!r}; "
            f"its parameters: {', '.join(sorted(declared)) or 'none'}"
        )
    out: dict[str, Any] = {}
    for p in query.parameters:
        if p.name not in given or given[p.name] is None:
            raise InvalidRequest(f"query {query.name!r} needs parameter {p.name!r} ({p.type})")
        out[p.name] = _coerce(query.name, p, given[p.name])
    return out


def _coerce(query_name: str, param: NamedQueryParam, value: Any) -> Any:
    def bad(reason: str) -> InvalidRequest:
        return InvalidRequest(
            f"parameter {param.name!r} of query {query_name!r} must be a {param.type}: {reason}"
        )

    # bool is an int in Python, but True as a person count is always a client mistake
    if isinstance(value, bool):
        raise bad(f"got a boolean {value!r}")
    if param.type == "string":
        if isinstance(value, str):
            return value
        raise bad(f"got {type(value).__name__} {value!r}")
    if param.type == "int":
        if isinstance(value, int):
            return value
        if isinstance(value, float) and value.is_integer():
            return int(value)
        if isinstance(value, str):
            try:
                return int(value.strip())
            except ValueError:
                raise bad(f"{value!r} is not a whole number") from None
        raise bad(f"got {type(value).__name__} {value!r}")
    if param.type == "float":
        if isinstance(value, int | float):
            return float(value)
        if isinstance(value, str):
            try:
                return float(value.strip())
            except ValueError:
                raise bad(f"{value!r} is not a number") from None
        raise bad(f"got {type(value).__name__} {value!r}")
    if isinstance(value, date):
        return value
    if isinstance(value, str) and _ISO_DATE_RE.match(value.strip()):
        try:
            return date.fromisoformat(value.strip())
        except ValueError:
            pass
    if isinstance(value, str):
        raise bad(f"{value!r} is not a YYYY-MM-DD date")
    raise bad(f"got {type(value).__name__} {value!r}")


def run_named_query(
    store: GraphStore,
    name: str,
    params: dict[str, Any] | None,
    *,
    limit: int | None = None,
    timeout_s: float | None = None,
) -> QueryResult:
    """Run a named query read-only on the store, in the store's own language."""
    query = get_named_query(name)
    values = coerce_params(query, params)
    return store.read_query(
        query.text_for(store.query_language), values, limit=limit, timeout_s=timeout_s
    )
