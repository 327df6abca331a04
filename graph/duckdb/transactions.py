"""The write side of the DuckDB connection: one writer at a time, per call or per whole load.

Writes are serialised by the store's write lock and each call is one transaction — or, inside
:meth:`Transactions.load`, every write of the loading thread joins one transaction, committed or
rolled back as a whole. After each commit the revision counter of every label and relationship
type the transaction touched moves on (:meth:`graph.port.GraphStore.revisions`): the API server
is the file's only writer, so counters in memory are the truth.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Iterator
from typing import Any

import duckdb

from graph.errors import InputError, StoreError, StoreUnavailable


@contextlib.contextmanager
def store_errors() -> Iterator[None]:
    """DuckDB's errors as the store's: a value that does not fit, a failed store, a refused write."""
    try:
        yield
    except duckdb.ConversionException as exc:
        raise InputError(f"a value does not fit its property type: {exc}") from exc
    except duckdb.Error as exc:
        if isinstance(exc, duckdb.IOException | duckdb.FatalException):
            raise StoreUnavailable(f"the store failed: {exc}") from exc
        raise StoreError(f"the store refused the write: {exc}") from exc


class Transactions:
    def __init__(self, con: duckdb.DuckDBPyConnection, write_lock: threading.RLock, *, writable: bool,
                 path: str, on_end: Callable[[], None]) -> None:
        self._con, self._write_lock, self._writable, self._path = con, write_lock, writable, path
        self._on_end = on_end
        # what the open transaction wrote (labels and types), and a counter per name
        self._names: set[str] = set()
        self._revisions: dict[str, int] = {}
        self.data_version = 0
        # the open load transaction's cursor and the thread that owns it
        self._load_cur: duckdb.DuckDBPyConnection | None = None
        self._load_thread: int | None = None

    def check_writable(self) -> None:
        if not self._writable:
            raise StoreError(f"the store {self._path} was opened read-only")

    def touched(self, name: str) -> None:
        """The open transaction writes this label or relationship type."""
        self._names.add(name)

    def revisions(self) -> dict[str, str]:
        return {name: str(n) for name, n in self._revisions.items()}

    def run(self, work: Any, *args: Any) -> Any:
        """Run ``work(cur, *args)`` in one transaction under the write lock.

        Inside this thread's :meth:`load` the work joins the load's transaction instead; the load
        commits or rolls it back with everything else.
        """
        self.check_writable()
        with self._write_lock:
            if self._load_cur is not None and self._load_thread == threading.get_ident():
                try:
                    with store_errors():
                        return work(self._load_cur, *args)
                finally:
                    self._on_end()
            cur = self._con.cursor()
            try:
                with store_errors():
                    cur.begin()
                    try:
                        result = work(cur, *args)
                        cur.commit()
                    except BaseException:
                        cur.rollback()
                        raise
                self._committed()
                return result
            finally:
                self._end()
                cur.close()

    @contextlib.contextmanager
    def load(self) -> Iterator[None]:
        """This thread's writes until the block ends are one transaction."""
        self.check_writable()
        with self._write_lock:
            if self._load_cur is not None:
                raise StoreError("a load transaction is already open")
            cur = self._con.cursor()
            try:
                with store_errors():
                    cur.begin()
                self._load_cur, self._load_thread = cur, threading.get_ident()
                try:
                    yield
                except BaseException:
                    with contextlib.suppress(duckdb.Error):
                        cur.rollback()
                    raise
                self._load_cur = None
                with store_errors():
                    try:
                        cur.commit()
                    except BaseException:
                        with contextlib.suppress(duckdb.Error):
                            cur.rollback()
                        raise
                self._committed()
            finally:
                self._load_cur, self._load_thread = None, None
                self._end()
                cur.close()

    def _committed(self) -> None:
        self.data_version += 1
        for name in self._names:
            self._revisions[name] = self._revisions.get(name, 0) + 1

    def _end(self) -> None:
        self._names = set()
        self._on_end()
