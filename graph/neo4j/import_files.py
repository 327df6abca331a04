"""Files for Neo4j's offline bulk importer (``neo4j-admin database import full``), from any store.

A first load through Cypher costs the server ~36 µs of CPU per record (``MERGE`` on a unique key,
measured on 200,000 persons), which caps it near 56,000 records/s on two cores. Neo4j's own
bulk importer writes the store files directly, an order of magnitude faster, but only into an
empty, stopped database. So a first load goes: ingest into an embedded store (the same
validation, resolution and rejects as any ingest), then :func:`write_import_files` streams every
label and relationship type out of it into the importer's CSV format, and the importer builds the
Neo4j database from them.

Each property column's header carries the model's type, so the importer stores exactly the values
the Cypher writer stores (:mod:`graph.neo4j.values`): ``date`` as Date, ``datetime`` as
LocalDateTime, ``json`` as text, ``str_list`` as a string array, and a missing value as an absent
property (an unquoted empty field); every string, the empty one included, is quoted, so ``""``
stays an empty string. The one value the importer cannot write is an empty list: it leaves the
property absent, where the Cypher writer stores ``[]``. Every reader of the model takes an absent
``str_list`` for an empty one (its record field is ``list[str] | None``, read as ``or []``), so
no user sees the difference; the live test compares the two graphs with that one allowance.

Keys are the importer's ``:ID`` of one ID group per label, so relationships name their ends by
key, as the Cypher writer's ``MATCH``es do.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from graph.errors import SchemaError
from graph.model import NODE_TYPES, REL_TYPES, NodeType, Prop, RelType
from graph.port import GraphStore

# The importer's array delimiter: a control character no text of the domain holds (checked).
ARRAY_DELIMITER = "\x1f"

_HEADER_TYPES = {
    "str": "string", "int": "long", "float": "double", "bool": "boolean", "date": "date",
    "datetime": "localdatetime", "json": "string", "str_list": "string[]",
}
_WRITE = pacsv.WriteOptions(include_header=True, quoting_style="all_valid")


@dataclass
class ImportFiles:
    """What :func:`write_import_files` wrote: the argument file and the rows per file."""

    directory: Path
    args_file: Path
    database: str = "neo4j"
    nodes: dict[str, int] = field(default_factory=dict)  # label -> rows
    relationships: dict[str, int] = field(default_factory=dict)  # "TYPE Start->End" -> rows

    @property
    def records(self) -> int:
        return sum(self.nodes.values()) + sum(self.relationships.values())


def _cell_column(prop: Prop, column: pa.Array | pa.ChunkedArray) -> pa.Array | pa.ChunkedArray:
    """One property column as the importer reads it for the header type of ``prop``."""
    if prop.type == "datetime":
        if pa.types.is_timestamp(column.type):
            return pc.strftime(column, format="%Y-%m-%dT%H:%M:%S")  # %S keeps the fraction
        return pc.cast(column, pa.string())
    if prop.type == "float":
        column = pc.cast(column, pa.float64())
        return pc.if_else(pc.is_nan(column), pa.scalar(None, pa.float64()), column)
    if prop.type == "str_list":
        if not (pa.types.is_list(column.type) or pa.types.is_large_list(column.type)):
            raise SchemaError(f"property {prop.name} (str_list): column of type {column.type}")
        flat = pc.list_flatten(column)
        if len(flat) and pc.any(pc.match_substring(flat, ARRAY_DELIMITER)).as_py():
            raise SchemaError(f"property {prop.name}: a value holds the control character U+001F, "
                              "which the bulk importer reads as the array delimiter")
        return pc.binary_join(column, ARRAY_DELIMITER)
    if prop.type in ("str", "json") and not pa.types.is_string(column.type):
        return pc.cast(column, pa.string())
    return column


def _node_table(nt: NodeType, batch: pa.RecordBatch) -> pa.Table:
    names, arrays = [], []
    for prop in nt.props:
        if prop.name not in batch.schema.names:
            continue
        if prop.name == nt.key:
            names.append(f"{prop.name}:ID({nt.label})")
            arrays.append(pc.cast(batch.column(prop.name), pa.string()))
        else:
            names.append(f"{prop.name}:{_HEADER_TYPES[prop.type]}")
            arrays.append(_cell_column(prop, batch.column(prop.name)))
    return pa.Table.from_arrays(arrays, names=names)


def _rel_table(rt: RelType, start: str, end: str, batch: pa.Table) -> pa.Table:
    names = [f":START_ID({start})", f":END_ID({end})"]
    arrays = [pc.cast(batch.column("src"), pa.string()), pc.cast(batch.column("dst"), pa.string())]
    for prop in rt.props:
        if prop.name in batch.column_names:
            names.append(f"{prop.name}:{_HEADER_TYPES[prop.type]}")
            arrays.append(_cell_column(prop, batch.column(prop.name)))
    return pa.Table.from_arrays(arrays, names=names)


def _by_ends(rt: RelType, batch: pa.RecordBatch) -> Iterator[tuple[str, str, pa.Table]]:
    table = pa.Table.from_batches([batch])
    for start in rt.start:
        for end in rt.end:
            mask = pc.and_(pc.equal(pc.cast(table.column("src_label"), pa.string()), start),
                           pc.equal(pc.cast(table.column("dst_label"), pa.string()), end))
            part = table.filter(mask.fill_null(False))
            if part.num_rows:
                yield start, end, part


class _Files:
    """One CSV writer per file, opened on its first rows (empty labels and types get no file)."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.writers: dict[str, tuple[Path, pacsv.CSVWriter]] = {}

    def write(self, name: str, table: pa.Table) -> None:
        if name not in self.writers:
            path = self.directory / f"{name}.csv"
            self.writers[name] = (path, pacsv.CSVWriter(path, table.schema, write_options=_WRITE))
        self.writers[name][1].write_table(table)

    def close(self) -> None:
        for _path, writer in self.writers.values():
            writer.close()

    def path(self, name: str) -> Path:
        return self.writers[name][0]


def write_import_files(source: GraphStore, directory: Path, *, database: str = "neo4j",
                       overwrite: bool = False, batch_size: int = 500_000) -> ImportFiles:
    """Write every node and relationship of ``source`` as bulk-importer CSV files in ``directory``.

    Also writes ``import.args``, the importer's argument file: ``neo4j-admin database import full
    @import.args`` (or ``deploy/neo4j-local/run.sh --import import.args``) builds ``database``
    from the files. A relationship to a node missing from the files, or a repeated key, fails
    the import (``--bad-tolerance=0``): nothing is dropped silently. ``overwrite`` replaces an
    existing database of that name.
    """
    directory.mkdir(parents=True, exist_ok=True)
    directory = directory.resolve()
    files = _Files(directory)
    result = ImportFiles(directory, directory / "import.args", database)
    args: list[str] = []
    try:
        for nt in NODE_TYPES:
            name = f"nodes-{nt.label}"
            for batch in source.stream_nodes(nt.label, list(nt.prop_names), batch_size=batch_size):
                if batch.num_rows:
                    files.write(name, _node_table(nt, batch))
                    result.nodes[nt.label] = result.nodes.get(nt.label, 0) + batch.num_rows
            if nt.label in result.nodes:
                args.append(f"--nodes={nt.label}={files.path(name)}")
        for rt in REL_TYPES:
            columns = ["src", "dst", "src_label", "dst_label", *rt.prop_names]
            for batch in source.stream_relationships(rt.type, columns, batch_size=batch_size):
                for start, end, part in _by_ends(rt, batch):
                    name = f"rels-{rt.type}-{start}-{end}"
                    if name not in files.writers:
                        args.append(f"--relationships={rt.type}={directory / (name + '.csv')}")
                    files.write(name, _rel_table(rt, start, end, part))
                    label = f"{rt.type} {start}->{end}"
                    result.relationships[label] = result.relationships.get(label, 0) + part.num_rows
    finally:
        files.close()
    args += [
        "--array-delimiter=\\u001F",
        "--multiline-fields=true",
        "--bad-tolerance=0",
        f"--report-file={directory / 'import.report'}",
    ]
    if overwrite:
        args.append("--overwrite-destination=true")
    args.append(database)
    result.args_file.write_text("".join(_argfile_line(a) + "\n" for a in args), encoding="utf-8")
    return result


def _argfile_line(arg: str) -> str:
    """One argument of a picocli argument file: quoted when it holds a space or a quote."""
    if any(c.isspace() or c in "\"'" for c in arg):
        return '"' + arg.replace("\\", "\\\\").replace('"', '\\"') + '"'
    return arg
