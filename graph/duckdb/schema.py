"""DuckDB tables and indexes generated from ``graph.model``.

One typed table per node label (``n_<Label>``) and per relationship type (``r_<TYPE>``, with
``src``, ``dst``, ``src_label``, ``dst_label`` and the type's properties). Keys are not declared
``PRIMARY KEY``: DuckDB maintains such constraints with an ART index on every insert, which halves
bulk-load speed; the adapter keeps keys unique itself (single writer, anti-join inserts) and builds
plain ART indexes when a read first needs them (see ``graph.duckdb.store``).
"""

from __future__ import annotations

from dataclasses import dataclass

from graph.model import NODE_TYPES, REL_TYPES, NodeType, PropType, RelType

SQL_TYPES: dict[PropType, str] = {
    "str": "VARCHAR",
    "int": "BIGINT",
    "float": "DOUBLE",
    "bool": "BOOLEAN",
    "date": "DATE",
    "datetime": "TIMESTAMP",
    "json": "VARCHAR",
    "str_list": "VARCHAR[]",
}

REL_ENDPOINT_COLUMNS = ("src", "dst", "src_label", "dst_label")


def quote(identifier: str) -> str:
    """Quote an identifier; model names are plain, but analyst-visible tables deserve care."""
    return '"' + identifier.replace('"', '""') + '"'


def node_table(label: str) -> str:
    return f"n_{label}"


def rel_table(type_: str) -> str:
    return f"r_{type_}"


@dataclass(frozen=True)
class IndexSpec:
    name: str
    table: str
    column: str

    def create_sql(self) -> str:
        return f"CREATE INDEX IF NOT EXISTS {quote(self.name)} ON {quote(self.table)} ({quote(self.column)})"


def node_indexes(nt: NodeType) -> list[IndexSpec]:
    table = node_table(nt.label)
    return [IndexSpec(f"ix_{table}_key", table, nt.key)]


def rel_indexes(rt: RelType) -> list[IndexSpec]:
    table = rel_table(rt.type)
    return [IndexSpec(f"ix_{table}_src", table, "src"), IndexSpec(f"ix_{table}_dst", table, "dst")]


def indexes_of(table: str) -> list[IndexSpec]:
    for nt in NODE_TYPES:
        if node_table(nt.label) == table:
            return node_indexes(nt)
    for rt in REL_TYPES:
        if rel_table(rt.type) == table:
            return rel_indexes(rt)
    return []


def all_indexes() -> list[IndexSpec]:
    return [*(i for nt in NODE_TYPES for i in node_indexes(nt)),
            *(i for rt in REL_TYPES for i in rel_indexes(rt))]


def node_table_ddl(nt: NodeType) -> str:
    cols = ", ".join(f"{quote(p.name)} {SQL_TYPES[p.type]}" for p in nt.props)
    return f"CREATE TABLE IF NOT EXISTS {quote(node_table(nt.label))} ({cols})"


def rel_table_ddl(rt: RelType) -> str:
    cols = [f"{quote(c)} VARCHAR NOT NULL" for c in REL_ENDPOINT_COLUMNS]
    cols += [f"{quote(p.name)} {SQL_TYPES[p.type]}" for p in rt.props]
    return f"CREATE TABLE IF NOT EXISTS {quote(rel_table(rt.type))} ({', '.join(cols)})"


# Shared entities collect thousands of relationships (a clinic's claims, a care home's phone).
# Their tables are kept ordered by the shared end, so that expanding one clinic reads the one
# or two row groups holding its rows (min/max pruning) instead of scanning the whole table.
SHARED_ENDS = frozenset({"Institution", "Pharmacy", "Doctor", "Phone", "BankAccount", "Address", "Employer"})


def clustered_by_dst(rt: RelType) -> bool:
    return not rt.derived and set(rt.end) <= SHARED_ENDS


def cluster_sql(rt: RelType) -> list[str]:
    """Statements rewriting a relationship table in (dst_label, dst, date desc) order.

    Run after a bulk load (when the table's indexes are rebuilt); rows added later by small
    writes go at the end, which costs little as long as they are few.
    """
    table = rel_table(rt.type)
    tmp = f"{table}__clustered"
    cols = ", ".join(quote(c) for c in [*REL_ENDPOINT_COLUMNS, *rt.prop_names])
    order = "dst_label, dst" + (", date DESC NULLS LAST" if rt.dated else "")
    ddl = rel_table_ddl(rt).replace(
        f"CREATE TABLE IF NOT EXISTS {quote(table)}", f"CREATE TABLE {quote(tmp)}", 1)
    return [
        ddl,
        f"INSERT INTO {quote(tmp)} ({cols}) SELECT {cols} FROM {quote(table)} ORDER BY {order}",
        f"DROP TABLE {quote(table)}",
        f"ALTER TABLE {quote(tmp)} RENAME TO {quote(table)}",
    ]


def schema_ddl() -> list[str]:
    """Idempotent DDL for every table of the model (indexes are built separately)."""
    return [*(node_table_ddl(nt) for nt in NODE_TYPES), *(rel_table_ddl(rt) for rt in REL_TYPES)]


def missing_columns_ddl(existing: dict[str, set[str]]) -> list[str]:
    """ALTER statements adding model properties that an older file's tables lack."""
    tables = [*((node_table(nt.label), nt.props) for nt in NODE_TYPES),
              *((rel_table(rt.type), rt.props) for rt in REL_TYPES)]
    stmts: list[str] = []
    for table, props in tables:
        have = existing.get(table)
        if have is None:
            continue
        stmts += [f"ALTER TABLE {quote(table)} ADD COLUMN {quote(p.name)} {SQL_TYPES[p.type]}"
                  for p in props if p.name not in have]
    return stmts
