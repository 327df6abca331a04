"""The small engine interface the detectors' SQL runs on: DuckDB in process, or Spark.

Every projection and rule detector is written once, as DuckDB SQL over named tables (DuckDB is the
single-machine engine and the reference in tests). A detector opens a connection with
:func:`connect` and uses three calls: ``register(name, frame)`` binds a frame (pandas, Arrow, or
the engine's own table) to a name, ``execute(sql, params)`` runs a statement (``$name``
parameters) and returns a result with ``df()`` / ``fetchall()``, ``table(name)`` hands a table
over as a value (for another detector to ``register`` under its own name), ``close()`` frees them.
A DuckDB connection is that interface as it is; :mod:`algorithms.spark.sql` implements it over a
Spark session by transpiling each statement with sqlglot. No detector logic is written twice.

Which engine :func:`connect` opens is chosen by the caller of a whole run with
:func:`use_engine` (the Spark job sets it for the duration of its detection); the default is an
in-memory DuckDB.
"""

from __future__ import annotations

import contextvars
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, Protocol

import duckdb
import pandas as pd


class SqlResult(Protocol):
    """What a detector reads from a statement's result."""

    def df(self) -> pd.DataFrame: ...

    def fetchall(self) -> list[tuple[Any, ...]]: ...


class SqlConnection(Protocol):
    """The part of a DuckDB connection the detectors use; see the module docstring."""

    def register(self, view_name: str, python_object: object) -> object: ...

    def execute(self, query: str, parameters: object = None) -> SqlResult: ...

    def table(self, table_name: str) -> object: ...

    def close(self) -> None: ...


ConnectionFactory = Callable[[int | None], SqlConnection]


def duckdb_connection(threads: int | None = None) -> SqlConnection:
    """An in-memory DuckDB (keeps insertion order off: the detectors never rely on it)."""
    con = duckdb.connect(":memory:")
    con.execute("SET preserve_insertion_order = false")
    if threads:
        con.execute(f"SET threads = {int(threads)}")
    result: SqlConnection = con
    return result


_FACTORY: contextvars.ContextVar[ConnectionFactory] = contextvars.ContextVar(
    "medfraud_sql_engine", default=duckdb_connection
)


def connect(threads: int | None = None) -> SqlConnection:
    """A connection of the engine chosen by :func:`use_engine` (DuckDB unless told otherwise)."""
    return _FACTORY.get()(threads)


@contextmanager
def use_engine(factory: ConnectionFactory) -> Iterator[None]:
    """Run the detectors inside the block on connections made by ``factory``."""
    token = _FACTORY.set(factory)
    try:
        yield
    finally:
        _FACTORY.reset(token)
