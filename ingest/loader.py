"""``ingest_dir``: read, validate, resolve and load one folder of bureau exports into the store.

Steps, all column-wise:
1. read every table present (a fatal problem in any table — unreadable file, missing required
   column — raises :class:`FatalInputError` before anything is written);
2. per table in reference order (institutions, persons, doctors, injury cases, claims): validate
   against the contract, checking references against the rows being loaded *and* the nodes
   already in the store, write the rejects file;
3. resolve entities: one ``Patient`` per ID number whatever scheme its claims come from, and one
   ``Phone``/``BankAccount``/``Address``/``Employer`` node per normalised value, linked to persons;
4. upsert nodes, then relationships, in batches, all inside one load transaction where the store
   offers one (``GraphStore.atomic_loads``): an ingest that fails leaves the store as it was.

Idempotent by construction: every write is an upsert keyed by the model's keys, and the load
batch id is a digest of the input files, so re-running the same folder (also after a crash
half-way, which on DuckDB leaves nothing of the load behind) ends in the same graph as one clean
run.
"""

from __future__ import annotations

import hashlib
import os
import queue
import sys
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from pydantic import BaseModel, Field

from graph.errors import FatalInputError
from graph.port import GraphStore
from ingest.contract import DATE_GRACE_ENV, DEFAULT_DATE_GRACE_DAYS, LOAD_ORDER, TABLES
from ingest.folder import scan
from ingest.readers import RawTable, TableFile, open_table, parse_table
from ingest.rejects import rejects_frame, warnings_frame, write_rejects
from ingest.validate import RefContext, Validated, validate_chunks

# Large batches: each upsert batch after the first is matched against everything already in the
# table, so fewer, bigger batches cost far less (measured: 250k-row batches 41 s, whole tables 16 s
# for the claims of a million-person city). 8M keeps each claim relationship type of a
# million-person city (~6M rows) in one batch, checked against the claims once (3M batches:
# ~4 s more CPU); peak memory stays under 4 GB.
DEFAULT_BATCH_ROWS = 8_000_000
BATCH_ROWS_ENV = "MEDFRAUD_INGEST_BATCH_ROWS"
# Rows validated at a time: the nodes of one chunk are written while the next is validated.
DEFAULT_CHUNK_ROWS = 1_500_000
CHUNK_ROWS_ENV = "MEDFRAUD_INGEST_CHUNK_ROWS"

__all__ = ["IngestReport", "TableReport", "ingest_dir"]


class TableReport(BaseModel):
    table: str
    file: str
    read: int = Field(description="data rows in the file (malformed lines included)")
    loaded: int
    rejected: int
    warnings: int = Field(0, description="fields left out of loaded rows (see the warnings file)")
    seconds: float


class IngestReport(BaseModel):
    in_dir: str
    load_batch: str
    tables: list[TableReport]
    seconds: float
    rejects_dir: str
    warnings_dir: str = ""
    file_warnings: list[str] = Field(default_factory=list, description="files of the folder not loaded")
    writes: dict[str, int] = Field(default_factory=dict, description="rows written per label / type")
    phases: dict[str, float] = Field(
        default_factory=dict, description="seconds per step: read, validate:<table>, write:<label/type>"
    )

    @property
    def read(self) -> int:
        return sum(t.read for t in self.tables)

    @property
    def loaded(self) -> int:
        return sum(t.loaded for t in self.tables)

    @property
    def rejected(self) -> int:
        return sum(t.rejected for t in self.tables)

    @property
    def warnings(self) -> int:
        return sum(t.warnings for t in self.tables) + len(self.file_warnings)

    @property
    def rows_per_s(self) -> float:
        return self.read / self.seconds if self.seconds > 0 else 0.0

    @property
    def exit_code(self) -> int:
        """0 when every row loaded (warnings or not), 2 when some were rejected (fatal errors raise)."""
        return 2 if self.rejected else 0

    def table(self, name: str) -> TableReport:
        for t in self.tables:
            if t.table == name:
                return t
        raise KeyError(name)

    def __str__(self) -> str:
        lines = [f"{'table':<14}{'read':>11}{'loaded':>11}{'rejected':>10}{'warnings':>10}{'seconds':>9}"]
        for t in self.tables:
            lines.append(f"{t.table:<14}{t.read:>11,}{t.loaded:>11,}{t.rejected:>10,}{t.warnings:>10,}"
                         f"{t.seconds:>9.1f}")
        field_warnings = sum(t.warnings for t in self.tables)
        lines.append(
            f"{'total':<14}{self.read:>11,}{self.loaded:>11,}{self.rejected:>10,}{field_warnings:>10,}"
            f"{self.seconds:>9.1f}"
        )
        lines.append(f"{self.rows_per_s:,.0f} rows/s; load batch {self.load_batch}")
        if self.rejected:
            lines.append(f"rejected rows with line and reason: {self.rejects_dir}/<table>.csv")
        if field_warnings:
            lines.append(f"fields left out of loaded rows, with line and reason: "
                         f"{self.warnings_dir}/<table>.csv")
        for note in self.file_warnings:
            lines.append(f"warning: file {note}")
        return "\n".join(lines)


Progress = Callable[[int], None]


@dataclass
class _Write:
    """One upsert stream: a label or relationship type and a builder of its rows from a slice."""

    kind: str  # "node", "rel", or "replace" (the rows become the only ones leaving their sources)
    name: str
    build: Callable[[pa.Table], pa.Table]
    source: pa.Table
    weight: int = 0  # share of the table's file bytes, for the progress bar
    sources: str = ""  # for "replace": the column of ``source`` holding the start keys


def _chunk_rows() -> int:
    value = os.environ.get(CHUNK_ROWS_ENV)
    return int(value) if value else DEFAULT_CHUNK_ROWS


def _batch_rows() -> int:
    value = os.environ.get(BATCH_ROWS_ENV)
    return int(value) if value else DEFAULT_BATCH_ROWS


def _const(table: pa.Table, value: str) -> pa.Array:
    return pa.repeat(pa.scalar(value, pa.string()), table.num_rows)


def _nonnull(table: pa.Table, col: str, keep: tuple[str, ...] = ()) -> pa.Table:
    """Rows with ``col`` present; only ``keep`` (and ``col``) columns are copied when given."""
    narrow = table.select(list(dict.fromkeys((*keep, col)))) if keep else table
    if not narrow.column(col).null_count:
        return narrow
    return narrow.filter(pc.is_valid(narrow.column(col)))


def _rel(table: pa.Table, src: str, dst: str, **extra: pa.Array | pa.ChunkedArray) -> pa.Table:
    cols: dict[str, pa.Array | pa.ChunkedArray] = {"src": table.column(src), "dst": table.column(dst)}
    cols.update(extra)
    return pa.table(cols)


def _unique_nodes(values: pa.ChunkedArray | pa.Array, key: str) -> pa.Table:
    uniq = pc.unique(pc.drop_null(values))
    return pa.table({key: uniq})


def _inst_label(refs: RefContext, ids: pa.ChunkedArray | pa.Array) -> pa.Array:
    kinds = pc.take(refs.institution_kinds, pc.index_in(ids, refs.institution_ids))
    return pc.if_else(pc.equal(kinds, "pharmacy"), pa.scalar("Pharmacy"), pa.scalar("Institution"))


BatchId = Callable[[], str]  # the load batch id, known once every file has been read


def _provenance(table: pa.Table, source_file: str, batch: str) -> pa.Table:
    return table.append_column("source_file", _const(table, source_file)).append_column(
        "load_batch", _const(table, batch)
    )


def _writes(v: Validated, refs: RefContext, batch: BatchId, part: str = "all") -> list[_Write]:
    """The node writes (``part="nodes"``), relationship writes (``"rels"``) or both of a table."""
    return [
        w for w in _all_writes(v, refs, batch) if part == "all" or (w.kind == "node") == (part == "nodes")
    ]


def _combine(chunks: list[Validated]) -> Validated:
    first = chunks[0]
    return Validated(
        first.name,
        pa.concat_tables([c.table for c in chunks]),
        np.concatenate([c.rejected_rows for c in chunks]),
        [r for c in chunks for r in c.reasons],
        first.source_file,
        first.provided,
        [w for c in chunks for w in c.warnings],
        pa.concat_arrays([c.rejected_keys.cast(pa.string()) for c in chunks]),
        first.has_extra,
    )


def _given(v: Validated) -> pa.Table:
    """The validated rows without the optional columns the file does not have.

    An absent column means "not provided": upserts leave those properties as they are. Gender and
    birth date are derived from the ID number when absent, so they are always given; ``extra``
    only when the file has unknown columns.
    """
    spec = TABLES[v.name]
    always = {*spec.required, *(("gender", "birth_date") if v.name == "persons" else ())}
    keep = [c for c in v.table.column_names
            if c in always or c in v.provided or (c == "extra" and v.has_extra)
            or (c not in spec.column_names and c != "extra")]
    return v.table if len(keep) == v.table.num_columns else v.table.select(keep)


def _all_writes(v: Validated, refs: RefContext, batch: BatchId) -> list[_Write]:
    t = _given(v)
    src = v.source_file

    def nodes(label: str, source: pa.Table, build: Callable[[pa.Table], pa.Table] | None = None) -> _Write:
        return _Write("node", label, build or (lambda s: _provenance(s, src, batch())), source)

    def plain(label: str, source: pa.Table) -> _Write:
        return _Write("node", label, lambda s: s, source)

    def rel(type_: str, source: pa.Table, build: Callable[[pa.Table], pa.Table]) -> _Write:
        return _Write("rel", type_, build, source)

    def replace(type_: str, source: pa.Table, keys: str, build: Callable[[pa.Table], pa.Table]) -> _Write:
        # A later export may change a person's phone (a doctor's institution): the row's links
        # replace the old ones, so nobody keeps "sharing" an identifier they no longer have.
        return _Write("replace", type_, build, source, sources=keys)

    if v.name == "institutions":
        pharmacy = pc.equal(t.column("kind"), "pharmacy")
        return [nodes("Institution", t.filter(pc.invert(pharmacy))), nodes("Pharmacy", t.filter(pharmacy))]
    if v.name == "persons":
        out = [nodes("Patient", t)]
        for label, key, col, rel_type in (
            ("Phone", "phone", "phone", "HAS_PHONE"),
            ("BankAccount", "account", "bank_account", "HAS_ACCOUNT"),
            ("Address", "address", "address", "LIVES_AT"),
            ("Employer", "employer_id", "employer_id", "EMPLOYED_BY"),
        ):
            if col not in v.provided:
                continue  # not provided: the person's links stay as they are
            out.append(plain(label, _unique_nodes(t.column(col), key)))
            out.append(replace(rel_type, t.select(["person_id", col]), "person_id", _person_link(col)))
        return out
    if v.name == "doctors":
        person = "person_id" in v.provided
        return [
            nodes("Doctor", t),
            replace(
                "WORKS_AT",
                t,
                "doctor_id",
                lambda s: _rel(
                    s, "doctor_id", "institution_id", dst_label=_inst_label(refs, s.column("institution_id"))
                ),
            ),
            *([replace("IS_PERSON", t, "doctor_id", lambda s: _known_person(refs, s))] if person else []),
        ]
    if v.name == "injury_cases":
        return [
            nodes("InjuryCase", t),
            plain("Employer", _unique_nodes(v.table.column("employer_id"), "employer_id")),
            rel("HAS_INJURY", t, lambda s: _rel(s, "person_id", "injury_case_id")),
            rel(
                "INJURY_EMPLOYER",
                _nonnull(v.table, "employer_id"),
                lambda s: _rel(s, "injury_case_id", "employer_id"),
            ),
        ]
    keyed = t.append_column(
        "claim_key", pc.binary_join_element_wise(t.column("scheme"), t.column("claim_id"), ":")
    )
    # Relationship sources keep only the columns they use: filtering the whole claims table
    # copies every column of millions of rows.
    dated = ("claim_key", "start_date")
    treated = keyed.select([*dated, "institution_id"])
    treated = treated.append_column("dst_label", _inst_label(refs, treated.column("institution_id")))
    # A corrected claim (another clinic, doctor or injury case) replaces its old links: the claim
    # must not stay "treated at" the clinic its row no longer names. On a first load there is
    # nothing to replace and the store skips the delete.
    return [
        nodes("Claim", keyed),
        rel(
            "HAS_CLAIM",
            keyed.select([*dated, "person_id"]),
            lambda s: _rel(s, "person_id", "claim_key", date=s.column("start_date")),
        ),
        # Both end labels in one write: the store checks each label's rows against its own table,
        # and the claim end against the claims once.
        replace(
            "TREATED_AT",
            treated,
            "claim_key",
            lambda s: _rel(s, "claim_key", "institution_id", date=s.column("start_date"),
                           dst_label=s.column("dst_label")),
        ),
        *[
            replace(type_, keyed.select([*(dated if with_date else ("claim_key",)), column]), "claim_key",
                    _claim_link(column, dated=with_date))
            for type_, column, with_date in (("BY_DOCTOR", "doctor_id", True),
                                             ("FOR_INJURY", "injury_case_id", False))
            if column in v.provided  # an absent column keeps the claims' links as they are
        ],
    ]


def _claim_link(column: str, *, dated: bool) -> Callable[[pa.Table], pa.Table]:
    """A claim's link to the node its ``column`` names, for the claims that name one."""

    def build(s: pa.Table) -> pa.Table:
        named = _nonnull(s, column)
        if dated:
            return _rel(named, "claim_key", column, date=named.column("start_date"))
        return _rel(named, "claim_key", column)

    return build


def _person_link(column: str) -> Callable[[pa.Table], pa.Table]:
    return lambda s: _rel(_nonnull(s, column), "person_id", column)


def _known_person(refs: RefContext, doctors: pa.Table) -> pa.Table:
    known = _nonnull(doctors, "person_id")
    known = known.filter(pc.is_in(known.column("person_id"), refs.persons))
    return _rel(known, "doctor_id", "person_id")


def _slices(table: pa.Table, size: int) -> Iterator[pa.Table]:
    for offset in range(0, table.num_rows, size):
        yield table.slice(offset, size)


def _store_refs(store: GraphStore) -> RefContext:
    """Keys already in the store: a later folder may refer to earlier data."""
    refs = RefContext()

    def keys(label: str, column: str) -> pa.Array:
        batches = list(store.stream_nodes(label, [column]))
        if not batches:
            return pa.array([], pa.string())
        return pa.Table.from_batches(batches).column(column).combine_chunks().cast(pa.string())

    refs.add("persons", keys("Patient", "person_id"))
    refs.add("doctors", keys("Doctor", "doctor_id"))
    refs.add("injury_cases", keys("InjuryCase", "injury_case_id"))
    inst_batches = list(store.stream_nodes("Institution", ["institution_id", "kind"]))
    if inst_batches:
        inst = pa.Table.from_batches(inst_batches)
        refs.add_institutions(inst.column("institution_id"), inst.column("kind"))
    pharmacies = keys("Pharmacy", "institution_id")
    refs.add_institutions(pharmacies, pa.array(["pharmacy"] * len(pharmacies), pa.string()))
    return refs


def load_batch_id(files: dict[str, TableFile]) -> str:
    digest = hashlib.sha256()
    for name in sorted(files):
        digest.update(f"{name}:{files[name].digest};".encode())
    return f"b-{digest.hexdigest()[:16]}"


def open_all(in_dir: Path, encoding: str | None = None) -> tuple[dict[str, TableFile], list[str]]:
    """Read every table present and check its header; collects every fatal problem and raises them.

    Also returns a warning for each file of the folder that is not a table.
    """
    folder = scan(in_dir)
    files = folder.tables
    opened: dict[str, TableFile] = {}
    problems: list[FatalInputError] = []
    for name in LOAD_ORDER:
        if name in files:
            try:
                opened[name] = open_table(files[name], name, encoding=encoding)
            except FatalInputError as exc:
                problems.append(exc)
    if problems:
        _raise_fatal(problems)
    return opened, folder.warnings


def _timed_parse(tf: TableFile) -> tuple[RawTable, float]:
    t0 = time.perf_counter()
    return parse_table(tf), time.perf_counter() - t0


def _check_parsed(parsing: dict[str, Future[tuple[RawTable, float]]]) -> None:
    problems = [exc for f in parsing.values() if isinstance(exc := f.exception(), FatalInputError)]
    if problems:
        _raise_fatal(problems)


def _raise_fatal(problems: list[FatalInputError]) -> None:
    if len(problems) == 1:  # keep where it was found (file, line, column) as fields
        p = problems[0]
        raise FatalInputError(f"{p.reason}. Nothing was loaded.", file=p.file, line=p.line, column=p.column)
    message = "; ".join(str(p) for p in problems) + ". Nothing was loaded."
    raise FatalInputError(message, file=None, line=None, column=problems[0].column)


class _Writer:
    """Runs the store writes on one background thread, in submission order.

    Store upserts spend their time inside DuckDB (which releases the GIL), so validating the
    next table while the previous one is written uses the second core. Writes stay strictly
    ordered (nodes before the relationships that need them), so the graph is the same as a
    sequential load; a failed write stops the pipeline and is raised in the caller's thread.
    """

    def __init__(self, store: GraphStore, size: int, bar: Progress | None, on_batch: Progress | None) -> None:
        self.store, self.size, self.bar, self.on_batch = store, size, bar, on_batch
        # Unbounded: an item only references rows already in memory, and a bound would stall
        # validation of the next table behind the writes of this one.
        self.queue: queue.Queue[tuple[str, _Write] | None] = queue.Queue()
        self.error: BaseException | None = None
        self.written: dict[str, int] = {}
        self.seconds: dict[str, float] = {}
        self.phases: dict[str, float] = {}
        # Nothing is written until every table has parsed: a file that breaks loads nothing at all.
        self.go = threading.Event()
        self.discard = False
        self.thread = threading.Thread(target=self._run, name="ingest-writer", daemon=True)
        self.thread.start()

    def start(self) -> None:
        self.go.set()

    def submit(self, table: str, w: _Write) -> None:
        if self.error is not None:
            self.close()
        self.queue.put((table, w))

    def _run(self) -> None:
        self.go.wait()
        try:
            # One transaction for the whole load where the store can: a failure anywhere (out of
            # memory included) leaves the store exactly as it was.
            with self.store.load_transaction():
                self._drain()
                if self.error is not None or self.discard:
                    raise _Abandon
        except _Abandon:
            pass
        except BaseException as exc:  # the commit itself failed; handed over by close()
            self.error = self.error or exc

    def _drain(self) -> None:
        while (item := self.queue.get()) is not None:
            if self.error is not None or self.discard:
                continue  # drain after a failure (close() raises it) or an aborted ingest
            table, w = item
            started = time.perf_counter()
            try:
                for part in _slices(w.source, self.size):
                    rows = w.build(part)
                    if w.kind == "node":
                        n = self.store.upsert_nodes(w.name, rows)
                    elif w.kind == "replace":
                        n = self.store.replace_relationships(w.name, part.column(w.sources), rows)
                    else:
                        n = self.store.upsert_relationships(w.name, rows)
                    self.written[w.name] = self.written.get(w.name, 0) + n
                    if self.on_batch is not None:
                        self.on_batch(part.num_rows)
                if self.bar is not None:
                    self.bar(w.weight)
            except BaseException as exc:  # handed to the caller's thread by close()
                self.error = exc
            spent = time.perf_counter() - started
            self.seconds[table] = self.seconds.get(table, 0.0) + spent
            self.phases[f"write:{w.name}"] = self.phases.get(f"write:{w.name}", 0.0) + spent

    def close(self, *, discard: bool = False) -> None:
        """Wait for every submitted write and commit them all, or (``discard``) roll back; re-raise
        the first failure."""
        if discard:
            self.discard = True
        self.go.set()
        if self.thread.is_alive():
            self.queue.put(None)
            self.thread.join()
        if self.error is not None:
            raise self.error


class _Abandon(Exception):
    """Raised inside the load transaction to roll it back (an aborted or failed ingest)."""


def ingest_dir(
    store: GraphStore,
    in_dir: Path,
    *,
    encoding: str | None = None,
    rejects_dir: Path | None = None,
    warnings_dir: Path | None = None,
    progress: bool = False,
    on_batch: Progress | None = None,
    date_grace_days: int | None = None,
) -> IngestReport:
    """Load a folder of contract tables into ``store``; see the module docstring."""
    started = time.perf_counter()
    in_dir = Path(in_dir)
    rejects_dir = rejects_dir or in_dir / "_rejects"
    warnings_dir = warnings_dir or in_dir / "_warnings"
    latest = date.today() + timedelta(days=_date_grace_days() if date_grace_days is None else date_grace_days)
    files, file_warnings = open_all(in_dir, encoding)
    batch_id: list[str] = []  # set once every file has been read (before any write starts)

    def batch() -> str:
        return batch_id[0]

    refs = _store_refs(store)
    validated: dict[str, tuple[Validated, float]] = {}
    read_rows: dict[str, int] = {}
    malformed: dict[str, int] = {}
    phases: dict[str, float] = {}
    paths = {name: str(tf.path) for name, tf in files.items()}
    sizes = {name: tf.size for name, tf in files.items()}
    bar = _progress_bar(sum(sizes.values())) if progress else None
    writer = _Writer(store, _batch_rows(), bar, on_batch)
    ok = False
    # One parser thread works ahead (Arrow parses without the GIL): the claims file parses while
    # persons are validated. Writes start only once every table has parsed.
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="ingest-parse") as pool:
        parsing = {name: pool.submit(_timed_parse, files[name]) for name in LOAD_ORDER if name in files}
        try:
            for name, future in parsing.items():
                raw, seconds = future.result()
                phases[f"parse:{name}"] = seconds
                files[name].data = b""  # parsed: drop the file's bytes
                if not batch_id and all(f.done() for f in parsing.values()):
                    _check_parsed(parsing)
                    batch_id.append(load_batch_id(files))
                    writer.start()
                t0 = time.perf_counter()
                n_rows = max(raw.table.num_rows, 1)
                chunks: list[Validated] = []
                # Nodes chunk by chunk (writing one overlaps validating the next); relationships
                # once per table, since every relationship batch is checked against whole tables.
                for v in validate_chunks(raw, refs, _chunk_rows(), latest=latest):
                    _remember(refs, v, raw)
                    chunks.append(v)
                    todo = _writes(v, refs, batch, "nodes")
                    for w in todo:
                        w.weight = sizes[name] * v.table.num_rows // n_rows // 2 // max(len(todo), 1)
                        writer.submit(name, w)
                v = _combine(chunks)
                write_rejects(rejects_dir / f"{name}.csv", rejects_frame(raw, v))
                write_rejects(warnings_dir / f"{name}.csv", warnings_frame(raw, v))
                validated[name] = (v, time.perf_counter() - t0)
                phases[f"validate:{name}"] = time.perf_counter() - t0
                read_rows[name] = raw.table.num_rows + len(raw.malformed)
                malformed[name] = len(raw.malformed)
                raw.table = raw.table.slice(0, 0)  # the text as read is no longer needed
                todo = _writes(v, refs, batch, "rels")
                for w in todo:
                    w.weight = sizes[name] // 2 // max(len(todo), 1)
                    writer.submit(name, w)
            ok = True
        finally:
            for future in parsing.values():
                future.cancel()
            try:
                writer.close(discard=not ok)
            finally:
                if bar is not None:
                    bar(-1)
    reports = [
        TableReport(
            table=name,
            file=paths[name],
            read=read_rows[name],
            loaded=v.table.num_rows,
            rejected=len(v.rejected_rows) + malformed[name],
            warnings=len(v.warnings),
            seconds=round(busy + writer.seconds.get(name, 0.0), 3),
        )
        for name, (v, busy) in validated.items()
    ]
    return IngestReport(
        in_dir=str(in_dir),
        load_batch=batch(),
        tables=reports,
        seconds=round(time.perf_counter() - started, 3),
        rejects_dir=str(rejects_dir),
        warnings_dir=str(warnings_dir),
        file_warnings=file_warnings,
        writes=writer.written,
        phases={k: round(v, 3) for k, v in {**phases, **writer.phases}.items()},
    )


def _date_grace_days() -> int:
    value = os.environ.get(DATE_GRACE_ENV)
    return int(value) if value else DEFAULT_DATE_GRACE_DAYS


# the reference set each table's keys go into
_REF_ATTR = {"institutions": "institution_ids", "persons": "persons", "doctors": "doctors",
             "injury_cases": "injury_cases"}


def _remember(refs: RefContext, v: Validated, raw: RawTable) -> None:
    if v.name in _REF_ATTR and len(v.rejected_rows):
        refs.add_rejected(_REF_ATTR[v.name], v.rejected_keys, raw.lines[v.rejected_rows],
                          Path(v.source_file).name)
    t = v.table
    if v.name == "institutions":
        refs.add_institutions(t.column("institution_id"), t.column("kind"))
    elif v.name == "persons":
        refs.add("persons", t.column("person_id"))
    elif v.name == "doctors":
        refs.add("doctors", t.column("doctor_id"))
    elif v.name == "injury_cases":
        refs.add("injury_cases", t.column("injury_case_id"))


def _progress_bar(total: int) -> Progress:
    """A progress bar on stderr over the ``total`` bytes of all files; call with -1 to close it."""
    import typer

    # rows are not counted before parsing: file bytes are a fair proxy for the work left
    ctx = typer.progressbar(length=max(total, 1), label="loading", file=sys.stderr)
    bar = ctx.__enter__()

    def tick(n: int) -> None:
        if n < 0:
            ctx.__exit__(None, None, None)
        else:
            bar.update(n)

    return tick
