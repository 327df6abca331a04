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
import os
import threading
from pathlib import Path
from typing import Any

import duckdb

from graph.errors import InvalidRequest, QueryTimeout, StoreUnavailable, WriteRefused
from graph.port import KEY_NAMESPACE, PSEUDONYM_PREFIX, QueryResult


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
                   limit: int, timeout_s: float, *, catalog: str | None = None) -> QueryResult:
    """Run ``text`` on a fresh cursor of ``con`` in a read-only transaction (in ``catalog``, if given)."""
    check_read_only(con, text)
    if limit < 0:
        raise InvalidRequest("limit must be >= 0")
    cur = con.cursor()
    timer = threading.Timer(timeout_s, cur.interrupt)
    timer.daemon = True
    try:
        if catalog is not None:
            cur.execute(f"USE {catalog}")
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


# -- the pseudonymised analyst view -------------------------------------------------------------
# Analysts' SQL never runs on the store. It runs on a separate in-memory DuckDB database holding a
# copy made for them: personal keys replaced by keyed pseudonyms, names and free text left out,
# birth dates reduced to the year, no cases, notes or anything not in the model. A query there
# cannot return a raw value because none is there, whatever it aliases, concatenates or casts.

PSEUDONYM_COLUMNS: dict[str, dict[str, str]] = {
    "Patient": {"person_id": "person", "phone": "phone", "bank_account": "account", "address": "address"},
    "Doctor": {"person_id": "person"},
    "Claim": {"person_id": "person"},
    "InjuryCase": {"person_id": "person"},
    "Finding": {"person_id": "person"},
    "Phone": {"phone": "phone"},
    "BankAccount": {"account": "account"},
    "Address": {"address": "address"},
}
# Emptied (a typed NULL, so queries written against the store still bind): names, exact birth
# dates (``birth_year`` is added), free text (read it through GraphQL, where it is scrubbed),
# provenance paths, unknown input columns.
DROPPED_COLUMNS: dict[str, frozenset[str]] = {
    "Patient": frozenset({"name", "birth_date"}),
    "Doctor": frozenset({"name"}),
    "Ring": frozenset({"evidence", "review_reason"}),
    "Finding": frozenset({"evidence"}),
}
DROPPED_EVERYWHERE = frozenset({"source_file", "extra"})
HIDDEN_LABELS = frozenset({"Case", "CaseNote"})
# The view's tables live in a compressed in-memory catalog of this name (queries run in it).
ANALYST_CATALOG = "analyst"


def _pseudonym_sql(column: str, namespace: str) -> str:
    """SQL computing :func:`graph.port.pseudonym` of a column ($key is bound, never spliced)."""
    return (f"CASE WHEN {column} IS NULL THEN NULL ELSE '{PSEUDONYM_PREFIX}' || "
            f"substr(sha256($key || ':{namespace}:' || CAST({column} AS VARCHAR)), 1, 20) END")


def _end_sql(column: str, label_column: str, labels: tuple[str, ...]) -> str:
    """A relationship end: pseudonymised when the node at that end has a personal key."""
    personal = [lab for lab in labels if lab in KEY_NAMESPACE]
    if not personal:
        return column
    if len(labels) == 1:
        return _pseudonym_sql(column, KEY_NAMESPACE[labels[0]])
    cases = " ".join(f"WHEN {label_column} = '{lab}' THEN {_pseudonym_sql(column, KEY_NAMESPACE[lab])}"
                     for lab in personal)
    return f"CASE {cases} ELSE {column} END"


def analyst_view_selects(columns_of: dict[str, list[tuple[str, str]]]) -> dict[str, str]:
    """The SELECT (over the store) that fills each table of the analyst view.

    ``columns_of`` maps each store table to its (column, SQL type) pairs. Tables of the model
    only; cases, notes and the relationships to them are left out.
    """
    from graph.duckdb.schema import node_table, quote, rel_table
    from graph.model import NODE_TYPES, REL_TYPES

    out: dict[str, str] = {}
    for nt in NODE_TYPES:
        table = node_table(nt.label)
        if nt.label in HIDDEN_LABELS or table not in columns_of:
            continue
        rules = PSEUDONYM_COLUMNS.get(nt.label, {})
        dropped = DROPPED_COLUMNS.get(nt.label, frozenset()) | DROPPED_EVERYWHERE
        exprs = []
        for col, sql_type in columns_of[table]:
            q = quote(col)
            if col in dropped:
                exprs.append(f"CAST(NULL AS {sql_type}) AS {q}")
            else:
                exprs.append(f"{_pseudonym_sql(q, rules[col])} AS {q}" if col in rules else q)
        if nt.label == "Patient" and any(c == "birth_date" for c, _ in columns_of[table]):
            exprs.append("CAST(year(birth_date) AS INTEGER) AS birth_year")
        out[table] = f"SELECT {', '.join(exprs)} FROM {quote(table)}"
    for rt in REL_TYPES:
        table = rel_table(rt.type)
        if table not in columns_of or set(rt.start) & HIDDEN_LABELS or set(rt.end) & HIDDEN_LABELS:
            continue
        exprs = []
        for col, sql_type in columns_of[table]:
            q = quote(col)
            if col in DROPPED_EVERYWHERE:
                exprs.append(f"CAST(NULL AS {sql_type}) AS {q}")
            elif col == "src":
                exprs.append(f"{_end_sql(q, 'src_label', rt.start)} AS src")
            elif col == "dst":
                exprs.append(f"{_end_sql(q, 'dst_label', rt.end)} AS dst")
            else:
                exprs.append(q)
        out[table] = f"SELECT {', '.join(exprs)} FROM {quote(table)}"
    return out


class AnalystView:
    """The analyst copy of one store, kept in step with the store's data version.

    A store kept in a file gets its copy in a file next to it (``<store>.analyst-<n>``, private
    to the server user, replaced at each rebuild): DuckDB compresses it and pages it through its
    buffer pool, so it costs about the store file's size on disk (564 MiB for a million persons)
    rather than several GiB of memory. An in-memory store gets an in-memory copy.

    The first analyst query starts building it and waits up to its own time limit (a small store
    is ready by then; a large one answers STORE_UNAVAILABLE, "being prepared", until it is). After
    a write (a case note, a ring review, an ingest) queries still run on the copy at hand while a
    new one is built in the background: analysts see data at most one build old, and no query
    waits for a rebuild. One build runs at a time.
    """

    def __init__(self, store_path: str | None = None, *, memory_limit: str | None = None) -> None:
        self._store_path = store_path
        self._memory_limit = memory_limit
        self._lock = threading.Lock()
        self._con: duckdb.DuckDBPyConnection | None = None
        self._file: Path | None = None
        self._built_for: tuple[int, str] | None = None
        self._building: threading.Thread | None = None
        self._generation = 0

    def connection(self, source: duckdb.DuckDBPyConnection, version: int, key: str,
                   wait_s: float) -> duckdb.DuckDBPyConnection:
        """The copy to query; the first one is waited for up to ``wait_s``, later ones never."""
        with self._lock:
            current, built_for = self._con, self._built_for
        if current is not None and built_for is not None and built_for[1] == key:
            if built_for[0] != version:
                self._rebuild_in_background(source, version, key)
            return current
        self._rebuild_in_background(source, version, key)
        thread = self._building
        if thread is not None:
            thread.join(wait_s)
        with self._lock:
            current, built_for = self._con, self._built_for
        if current is None or built_for is None or built_for[1] != key:
            raise StoreUnavailable(
                "the analysts' pseudonymised copy of the data is being prepared (about a minute for a "
                "million persons); ask again shortly")
        return current

    def _next_file(self) -> Path | None:
        if self._store_path is None:
            return None
        with self._lock:
            self._generation += 1
            n = self._generation
        return Path(f"{self._store_path}.analyst-{os.getpid()}-{n}")

    def _build(self, source: duckdb.DuckDBPyConnection, version: int, key: str) -> duckdb.DuckDBPyConnection:
        target = self._next_file()
        con = build_analyst_view(source, key, path=target, memory_limit=self._memory_limit)
        with self._lock:
            old = self._file
            self._con, self._file, self._built_for = con, target, (version, key)
        _remove_stale(self._store_path, keep=target, also=old)
        return con

    def _rebuild_in_background(self, source: duckdb.DuckDBPyConnection, version: int, key: str) -> None:
        with self._lock:
            if self._building is not None and self._building.is_alive():
                return
            self._building = threading.Thread(target=self._build, args=(source, version, key),
                                              name="analyst-view", daemon=True)
            self._building.start()

    def close(self) -> None:
        """Drop the copy and its file (the store is closing)."""
        thread = self._building
        if thread is not None:
            thread.join(60)
        with self._lock:
            con, self._con, self._built_for = self._con, None, None
        if con is not None:
            with contextlib.suppress(duckdb.Error):
                con.close()
        _remove_stale(self._store_path, keep=None, also=self._file)


def _remove_stale(store_path: str | None, *, keep: Path | None, also: Path | None) -> None:
    """Old copies go as soon as a new one is in place (a query still reading one keeps its inode)."""
    if store_path is None:
        return
    base = Path(store_path)
    stale = set(base.parent.glob(f"{base.name}.analyst-*"))
    if also is not None:
        stale |= {also, also.with_name(also.name + ".wal")}
    for path in stale:
        if keep is not None and path.name in (keep.name, keep.name + ".wal"):
            continue
        with contextlib.suppress(OSError):
            path.unlink()


def build_analyst_view(source: duckdb.DuckDBPyConnection, key: str, *, path: Path | None = None,
                       memory_limit: str | None = None) -> duckdb.DuckDBPyConnection:
    """A new database holding the pseudonymised copy of ``source`` (in ``path``, or in memory).

    Its tables are in the catalog :data:`ANALYST_CATALOG`; queries must ``USE`` it.
    """
    cur = source.cursor()
    try:
        rows = cur.execute(
            "SELECT table_name, column_name, data_type FROM information_schema.columns "
            "WHERE table_schema = 'main' ORDER BY table_name, ordinal_position").fetchall()
        columns_of: dict[str, list[tuple[str, str]]] = {}
        for table, column, sql_type in rows:
            columns_of.setdefault(str(table), []).append((str(column), str(sql_type)))
        view = duckdb.connect(":memory:", config={"memory_limit": memory_limit} if memory_limit else {})
        if path is None:
            view.execute(f"ATTACH ':memory:' AS {ANALYST_CATALOG} (COMPRESS)")
        else:
            quoted = str(path).replace("'", "''")
            view.execute(f"ATTACH '{quoted}' AS {ANALYST_CATALOG}")
        view.execute(f"USE {ANALYST_CATALOG}")
        # file access only for attaching the copy's own file: nothing an analyst runs reaches files
        view.execute("SET enable_external_access = false")
        for table, select in analyst_view_selects(columns_of).items():
            rel = cur.sql(select, params={"key": key}) if "$key" in select else cur.sql(select)
            # streamed batch by batch: the table is never held twice
            view.register("_copy", rel.to_arrow_reader(batch_size=100_000))
            view.execute(f'CREATE TABLE "{table}" AS SELECT * FROM _copy')
            view.unregister("_copy")
        if path is not None:
            view.execute("CHECKPOINT")
            # pseudonymised, but still the fund's data: private to the server user
            for written in (path, path.with_name(path.name + ".wal")):
                if written.exists():
                    written.chmod(0o600)
    finally:
        cur.close()
    # nothing an analyst runs may change the view's settings (or turn file access back on)
    view.execute("SET lock_configuration = true")
    return view
