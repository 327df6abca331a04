"""Analyst SQL on the DuckDB store: one SELECT, read-only, bounded in rows and time.

Three independent fences, so that one mistake does not open the store:

1. DuckDB's own parser classifies the text; only a single ``SELECT`` statement (which includes
   ``WITH ... SELECT``, ``FROM t`` and ``DESCRIBE``/``SUMMARIZE``) passes — no regexes.
2. The statement runs inside ``BEGIN TRANSACTION READ ONLY``, so anything that would still
   write (a table function with side effects) fails in DuckDB itself.
3. The database is opened with ``enable_external_access = false``: ``read_csv``, ``COPY``,
   ``ATTACH``, ``httpfs`` and the like cannot touch files or the network. The store's own Arrow
   registrations are in-process scans and are not affected.
"""

from __future__ import annotations

import contextlib
import threading
from typing import Any

import duckdb

from graph.errors import InvalidRequest, QueryTimeout, WriteRefused
from graph.port import QueryResult


def check_read_only(con: duckdb.DuckDBPyConnection, text: str) -> None:
    """Refuse anything but one SELECT statement, using DuckDB's parser."""
    try:
        statements = con.extract_statements(text)
    except duckdb.ParserException as exc:
        raise InvalidRequest(f"the query does not parse: {exc}") from exc
    if len(statements) != 1:
        raise WriteRefused(
            f"read-only queries take exactly one SELECT statement; got {len(statements)} statements")
    kind = statements[0].type
    if kind != duckdb.StatementType.SELECT:
        name = getattr(kind, "name", str(kind))
        raise WriteRefused(
            f"read-only queries take a single SELECT (or WITH ... SELECT) statement; "
            f"refused a statement of type {name}")


def run_read_query(con: duckdb.DuckDBPyConnection, text: str, params: dict[str, Any] | None,
                   limit: int, timeout_s: float) -> QueryResult:
    """Run ``text`` on a fresh cursor of ``con`` in a read-only transaction."""
    check_read_only(con, text)
    if limit < 0:
        raise InvalidRequest("limit must be >= 0")
    cur = con.cursor()
    timer = threading.Timer(timeout_s, cur.interrupt)
    timer.daemon = True
    try:
        cur.execute("BEGIN TRANSACTION READ ONLY")
        timer.start()
        try:
            res = cur.execute(text, params) if params else cur.execute(text)
            columns = [d[0] for d in res.description] if res.description else []
            rows = res.fetchmany(limit + 1)
            # the rest of a large result is never computed: the cursor drops it here
            res.abort()
        except duckdb.InterruptException as exc:
            raise QueryTimeout(f"the query ran past {timeout_s:g} s and was stopped") from exc
        except duckdb.PermissionException as exc:
            raise WriteRefused(
                f"file and network access is disabled for read-only queries: {exc}") from exc
        except duckdb.TransactionException as exc:
            raise WriteRefused(f"the query tried to write and was refused: {exc}") from exc
        except (duckdb.ParserException, duckdb.BinderException, duckdb.CatalogException,
                duckdb.ConversionException, duckdb.InvalidInputException) as exc:
            raise InvalidRequest(f"the query failed: {exc}") from exc
        finally:
            timer.cancel()
        truncated = len(rows) > limit
        return QueryResult(columns=columns, rows=[list(r) for r in rows[:limit]], truncated=truncated)
    finally:
        with contextlib.suppress(duckdb.Error):
            cur.execute("ROLLBACK")
        cur.close()
