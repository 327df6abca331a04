"""``medfraud neo4j-import``: a first load into Neo4j through Neo4j's offline bulk importer.

Loading through Cypher ``MERGE`` (``medfraud ingest`` with ``MEDFRAUD_STORE=neo4j``) is how data
reaches a running Neo4j, and the only way once it holds data; the server's CPU per record caps it
near 20,000-56,000 records/s on two cores (docs/neo4j.md). A first load into an empty database can
go ~10x faster:

1. the folder is ingested into a staging embedded store: the same reading, validation, entity
   resolution, rejects and warnings files and exit code as ``medfraud ingest``;
2. every label and relationship type is streamed out of it as the bulk importer's CSV files
   (:mod:`graph.neo4j.import_files`);
3. the importer (``deploy/neo4j-local/run.sh --import``, which runs the code behind
   ``neo4j-admin database import full``) builds the database in the stopped server's data folder.

Constraints and indexes are created when the server has started, by the first ``medfraud``
command that opens the store (``apply_schema``), as after any load. A failed import leaves the
data folder as it was (:func:`run_importer`), and an existing database is never touched unless
``overwrite`` says so.
"""

from __future__ import annotations

import fcntl
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from graph.errors import StoreError
from graph.factory import open_store
from graph.neo4j.import_files import ImportFiles, write_import_files
from graph.settings import Settings, load_settings
from ingest.loader import ingest_dir
from ingest.report import IngestReport

RUN_SH = Path(__file__).resolve().parents[1] / "deploy" / "neo4j-local" / "run.sh"


@dataclass
class ImportReport:
    """What a bulk import did: the staging ingest's report, the files, and seconds per step."""

    data_dir: Path
    database: str
    ingest: IngestReport | None
    files: ImportFiles
    phases: dict[str, float] = field(default_factory=dict)
    imported: bool = False

    @property
    def exit_code(self) -> int:
        return self.ingest.exit_code if self.ingest is not None else 0

    def __str__(self) -> str:
        lines = [str(self.ingest)] if self.ingest is not None else []
        nodes, rels = sum(self.files.nodes.values()), sum(self.files.relationships.values())
        lines.append(f"{nodes:,} nodes and {rels:,} relationships ({self.files.records:,} records)")
        lines.append("; ".join(f"{k} {v:.1f} s" for k, v in self.phases.items()))
        if self.imported:
            lines.append(f"database {self.database!r} built in {self.data_dir}; start the server on it: "
                         f"NEO4J_PASSWORD=... bash {RUN_SH} --port 7687 --data {self.data_dir}")
        else:
            lines.append(f"import files in {self.files.directory}; build the database with the server "
                         f"stopped: neo4j-admin database import full @{self.files.args_file}")
        return "\n".join(lines)


def database_dir(data_dir: Path, database: str) -> Path:
    return data_dir / "data" / "databases" / database


def server_running(data_dir: Path) -> bool:
    """Whether a Neo4j holds ``data_dir``: it keeps a POSIX lock on ``store_lock`` while it runs."""
    lock = data_dir / "data" / "databases" / "store_lock"
    if not lock.is_file():
        return False
    with lock.open("ab") as f:
        try:
            fcntl.lockf(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            return True
        fcntl.lockf(f, fcntl.LOCK_UN)
    return False


def _check_stopped(data_dir: Path) -> None:
    if server_running(data_dir):
        raise StoreError(f"a Neo4j server is running on {data_dir}: stop it first (the bulk importer "
                         "writes the store files directly)")


def neo4j_import(
    in_dir: Path | None,
    data_dir: Path,
    *,
    from_duckdb: Path | None = None,
    files_only: Path | None = None,
    database: str = "neo4j",
    overwrite: bool = False,
    encoding: str | None = None,
    rejects_dir: Path | None = None,
    warnings_dir: Path | None = None,
    date_grace_days: int | None = None,
    progress: bool = False,
) -> ImportReport:
    """Build a new Neo4j database in ``data_dir`` from a folder (or an embedded store file).

    ``files_only`` writes the importer's files there and stops (for a Neo4j elsewhere, e.g. the
    Docker image's ``neo4j-admin``); ``data_dir`` is then only checked, not written.
    """
    if (in_dir is None) == (from_duckdb is None):
        raise ValueError("give either a folder to ingest or --from-duckdb, not both")
    existing = database_dir(data_dir, database)
    if files_only is None:
        _check_stopped(data_dir)
    if files_only is None and not overwrite and existing.is_dir() and any(existing.iterdir()):
        raise StoreError(
            f"a Neo4j database {database!r} already exists in {existing}: the bulk importer only builds "
            "a new one. Load into it with `medfraud ingest` (MEDFRAUD_STORE=neo4j), or pass --overwrite "
            "to replace it")
    phases: dict[str, float] = {}
    data_dir.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix="import-staging-", dir=data_dir))
    try:
        report: IngestReport | None = None
        started = time.perf_counter()
        if from_duckdb is not None:
            source_settings = load_settings(Settings, store="duckdb", duckdb_path=from_duckdb)
            with open_store(source_settings, read_only=True) as source:
                files = write_import_files(source, files_only or staging / "csv", database=database,
                                           overwrite=overwrite)
            phases["write files"] = time.perf_counter() - started
        else:
            assert in_dir is not None
            stage_settings = load_settings(Settings, store="duckdb", duckdb_path=staging / "stage.duckdb")
            with open_store(stage_settings) as stage:
                report = ingest_dir(stage, in_dir, encoding=encoding, rejects_dir=rejects_dir,
                                    warnings_dir=warnings_dir, progress=progress,
                                    date_grace_days=date_grace_days)
                phases["ingest"] = time.perf_counter() - started
                t0 = time.perf_counter()
                files = write_import_files(stage, files_only or staging / "csv", database=database,
                                           overwrite=overwrite)
                phases["write files"] = time.perf_counter() - t0
        result = ImportReport(data_dir, database, report, files, phases)
        if files_only is None:
            t0 = time.perf_counter()
            run_importer(data_dir, files)
            phases["neo4j import"] = time.perf_counter() - t0
            result.imported = True
        return result
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def run_importer(data_dir: Path, files: ImportFiles) -> None:
    """Run the bulk importer of ``deploy/neo4j-local`` on ``files``; its output goes to stderr.

    The importer leaves a half-built database behind when it fails, and ``--overwrite`` would
    lose the old one: so a database already there is moved aside first and put back on failure,
    and what a failed import wrote is removed.
    """
    if not RUN_SH.is_file():
        raise StoreError(f"{RUN_SH} is missing (medfraud runs from a checkout here); use --files-only and "
                         "Neo4j's own neo4j-admin")
    _check_stopped(data_dir)
    folders = [data_dir / "data" / kind / files.database for kind in ("databases", "transactions")]
    aside = [folder.with_name(folder.name + ".before-import") for folder in folders]
    for folder, kept in zip(folders, aside, strict=True):
        shutil.rmtree(kept, ignore_errors=True)
        if folder.exists():
            folder.rename(kept)
    proc = subprocess.run(["bash", str(RUN_SH), "--data", str(data_dir), "--import", str(files.args_file)],
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, check=False)
    for folder, kept in zip(folders, aside, strict=True):
        if proc.returncode != 0:
            shutil.rmtree(folder, ignore_errors=True)
            if kept.exists():
                kept.rename(folder)
        else:
            shutil.rmtree(kept, ignore_errors=True)
    if proc.returncode != 0:
        sys.stderr.write(proc.stdout)
        tail = "\n".join(line for line in proc.stdout.splitlines() if line.strip())[-2000:]
        raise StoreError(f"the Neo4j bulk importer failed (exit {proc.returncode}); the data folder is as "
                         f"it was. Its last output:\n{tail}")
    done = proc.stdout.find("IMPORT DONE")
    sys.stderr.write((proc.stdout[done:] if done >= 0 else proc.stdout[-500:]).strip() + "\n")
