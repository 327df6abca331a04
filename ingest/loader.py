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
import sys
import time
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import pyarrow as pa

from graph.errors import FatalInputError, StoreError
from graph.port import GraphStore
from graph.settings import load_settings
from ingest.contract import LOAD_ORDER
from ingest.folder import scan
from ingest.graph_rows import table_writes
from ingest.readers import RawTable, TableFile, open_table, parse_table
from ingest.rejects import rejects_frame, warnings_frame, write_rejects
from ingest.report import IngestReport, TableReport
from ingest.settings import IngestSettings
from ingest.validate import RefContext, Validated, validate_chunks
from ingest.writer import Progress, Writer

__all__ = ["IngestReport", "TableReport", "ingest_dir"]


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
    settings = load_settings(IngestSettings)
    grace = settings.date_grace_days if date_grace_days is None else date_grace_days
    latest = date.today() + timedelta(days=grace)
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
    writer = Writer(store, settings.batch_rows, bar, on_batch)
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
                for v in validate_chunks(raw, refs, settings.chunk_rows, latest=latest):
                    _remember(refs, v, raw)
                    chunks.append(v)
                    todo = table_writes(v, refs, batch, "nodes")
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
                todo = table_writes(v, refs, batch, "rels")
                for w in todo:
                    w.weight = sizes[name] // 2 // max(len(todo), 1)
                    writer.submit(name, w)
            ok = True
        finally:
            for future in parsing.values():
                future.cancel()
            try:
                writer.close(discard=not ok)
            except StoreError as exc:
                if not store.atomic_loads:
                    raise
                # the load transaction rolled back: say so, as the exit code 1 promises
                raise type(exc)(f"{exc}. Nothing of this ingest was written: the store is as it was "
                                "before it") from exc
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
