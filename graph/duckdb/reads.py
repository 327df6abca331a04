"""Point reads on the DuckDB tables: nodes by key, one-hop expansion, degrees, text search.

Seeds are passed as ``IN (?, ?, ...)`` lists of bound parameters, never as a join against an
unnested list: DuckDB answers an IN-list filter on an indexed column with an ART index scan
(a few ms on a 6M-row table) but a join with a full scan (~100 ms). Lists longer than DuckDB's
``index_scan_max_count`` fall back to a scan, which is still correct.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import date
from typing import Any

import duckdb

from graph.arguments import check_cap, check_direction
from graph.duckdb.schema import SQL_TYPES, node_table, quote, rel_table
from graph.expansion import assemble_expansion
from graph.model import NODE_TYPES, REL_TYPES, Node, NodeRef, RelType, node_type, rel_type
from graph.port import Direction, Expansion
from graph.records import typed_props


def placeholders(n: int) -> str:
    return ", ".join("?" for _ in range(n))


def key_filter(column: str, keys: Sequence[str], table: str, small: frozenset[str]) -> tuple[str, list[Any]]:
    """``column IN (...)`` the cheapest way for this table.

    Planning costs ~30 us per IN-list parameter, which is worth paying on a big table (the list
    becomes an index scan) but not on a small one, where scanning and hash-joining one list
    parameter is faster.
    """
    if table in small:
        return f"{column} IN (SELECT unnest(CAST(? AS VARCHAR[])))", [list(keys)]
    return f"{column} IN ({placeholders(len(keys))})", list(keys)


def _row_props(columns: Sequence[str], row: Sequence[Any]) -> dict[str, object]:
    # Neo4j never stores null properties; dropping them keeps both adapters' answers alike
    return {c: v for c, v in zip(columns, row, strict=True) if v is not None}


def get_nodes(cur: duckdb.DuckDBPyConnection, label: str, keys: Sequence[str],
              small: frozenset[str] = frozenset()) -> list[Node]:
    nt = node_type(label)
    wanted = list(dict.fromkeys(str(k) for k in keys))
    if not wanted:
        return []
    found: dict[str, Node] = {}
    for chunk in _chunks(wanted, 2000):
        table = node_table(label)
        cond, params = key_filter(quote(nt.key), chunk, table, small)
        res = cur.execute(f"SELECT * FROM {quote(table)} WHERE {cond}", params)
        cols = [d[0] for d in res.description]
        for row in res.fetchall():
            props = typed_props(label, _row_props(cols, row))
            key = str(props[nt.key])
            found[key] = Node(label, key, props)
    return [found[k] for k in wanted if k in found]


def _chunks(items: Sequence[str], size: int) -> Iterable[Sequence[str]]:
    for i in range(0, len(items), size):
        yield items[i:i + size]


def tables_for(refs: Iterable[NodeRef], rel_types: Sequence[str] | None) -> list[str]:
    """The tables a read around these nodes touches (so their indexes can be built first)."""
    labels = {r.label for r in refs}
    types = [rel_type(t) for t in rel_types] if rel_types is not None else list(REL_TYPES)
    tables = [rel_table(rt.type) for rt in types if labels & (set(rt.start) | set(rt.end))]
    return tables


def _group(seeds: Iterable[NodeRef]) -> dict[str, list[str]]:
    by_label: dict[str, list[str]] = defaultdict(list)
    for s in dict.fromkeys(seeds):
        by_label[s.label].append(s.key)
    return by_label


def neighbours(
    cur: duckdb.DuckDBPyConnection,
    seeds: Sequence[NodeRef],
    *,
    rel_types: Sequence[str] | None,
    labels: Sequence[str] | None,
    since: date | None,
    until: date | None,
    cap: int,
    direction: Direction,
    small: frozenset[str] = frozenset(),
) -> Expansion:
    """One hop around ``seeds``, as the port describes it."""
    check_cap(cap)
    check_direction(direction)
    by_label = _group(seeds)
    types = [rel_type(t) for t in rel_types] if rel_types is not None else list(REL_TYPES)
    wanted_labels = {node_type(lab).label for lab in labels} if labels is not None else None
    prop_names = sorted({p.name for rt in types for p in rt.props})
    prop_sql_types = {p.name: SQL_TYPES[p.type] for rt in types for p in rt.props}
    ctes: list[str] = []
    cte_params: list[Any] = []
    branches: list[str] = []
    params: list[Any] = []
    ends: list[tuple[str, str]] = []
    if direction in ("out", "both"):
        ends.append(("src", "dst"))
    if direction in ("in", "both"):
        ends.append(("dst", "src"))
    for rt in types:
        for seed_end, nb_end in ends:
            seed_allowed = rt.start if seed_end == "src" else rt.end
            nb_allowed = rt.end if seed_end == "src" else rt.start
            if wanted_labels is not None and not wanted_labels & set(nb_allowed):
                continue
            for label, keys in by_label.items():
                if label not in seed_allowed:
                    continue
                cte, cp, sql, p = _branch(rt, seed_end, nb_end, label, keys, wanted_labels, since, until,
                                          prop_names, prop_sql_types, f"h{len(ctes)}", small)
                ctes.append(cte)
                cte_params.extend(cp)
                branches.append(sql)
                params.extend(p)
    if not branches:
        return Expansion()
    union = " UNION ALL ".join(branches)
    with_clause = f"WITH {', '.join(ctes)} "
    params = [*cte_params, *params]
    prop_cols = "".join(f", {quote(p)}" for p in prop_names)
    sql = (
        f"{with_clause}SELECT seed_label, seed_key, type, outgoing, nb_label, nb_key, rel_date, "
        f"total{prop_cols} FROM ("
        f"SELECT *, row_number() OVER (PARTITION BY seed_label, seed_key "
        f"ORDER BY rel_date DESC NULLS LAST, nb_key, nb_label, type) AS rn, "
        f"count(*) OVER (PARTITION BY seed_label, seed_key) AS total FROM ({union})) "
        f"WHERE rn <= ? ORDER BY seed_label, seed_key, rn")
    params.append(cap)
    rows = [(*row[:6], int(row[7]),
             {name: value for name, value in zip(prop_names, row[8:], strict=True)
              if name in rel_type(row[2]).prop_names and value is not None})
            for row in cur.execute(sql, params).fetchall()]
    totals = _totals_without_rows(cur, with_clause, union, params[:-1]) if cap == 0 else {}
    return assemble_expansion(seeds, rows, cap, totals,
                              lambda label, keys: get_nodes(cur, label, keys, small))


def _totals_without_rows(cur: duckdb.DuckDBPyConnection, with_clause: str, union: str,
                         params: list[Any]) -> dict[NodeRef, int]:
    # with cap 0 no row survives the window filter, so the totals are counted separately
    sql = f"{with_clause}SELECT seed_label, seed_key, count(*) FROM ({union}) GROUP BY ALL"
    rows = cur.execute(sql, params).fetchall()
    return {NodeRef(r[0], r[1]): int(r[2]) for r in rows if int(r[2]) > 0}


def _branch(rt: RelType, seed_end: str, nb_end: str, label: str, keys: Sequence[str],
            wanted_labels: set[str] | None, since: date | None, until: date | None,
            prop_names: Sequence[str], prop_sql_types: dict[str, str], name: str,
            small: frozenset[str]) -> tuple[str, list[Any], str, list[Any]]:
    """A materialised CTE holding the index lookup, and the filtered SELECT over it.

    DuckDB only answers ``col IN (...)`` with an index scan when it is the scan's sole filter;
    any other predicate pushed into the scan (a label, a date) turns it into a full scan. A
    ``MATERIALIZED`` CTE is a pushdown barrier, so the remaining filters run on the few hits.
    """
    # only the columns the answer needs: every fetched value costs a row lookup in the table
    wanted = [seed_end, nb_end, f"{seed_end}_label", f"{nb_end}_label",
              *(quote(p) for p in prop_names if p in rt.prop_names)]
    cond, cte_params = key_filter(seed_end, keys, rel_table(rt.type), small)
    cte = (f"{name} AS MATERIALIZED (SELECT {', '.join(wanted)} FROM {quote(rel_table(rt.type))} "
           f"WHERE {cond})")
    params: list[Any] = [label]
    where = [f"{seed_end}_label = ?"]
    if wanted_labels is not None:
        allowed = sorted(wanted_labels)
        where.append(f"{nb_end}_label IN ({placeholders(len(allowed))})")
        params.extend(allowed)
    if rt.dated:
        # a dated relationship whose date is unknown is kept, like an undated one
        if since is not None:
            where.append("(date IS NULL OR date >= ?)")
            params.append(since)
        if until is not None:
            where.append("(date IS NULL OR date <= ?)")
            params.append(until)
    date_col = "date" if rt.dated else "CAST(NULL AS DATE)"
    props = "".join(
        f", {quote(p) if p in rt.prop_names else f'CAST(NULL AS {prop_sql_types[p]})'} AS {quote(p)}"
        for p in prop_names)
    outgoing = "true" if seed_end == "src" else "false"
    sql = (f"SELECT {seed_end}_label AS seed_label, {seed_end} AS seed_key, '{rt.type}' AS type, "
           f"{outgoing} AS outgoing, {nb_end}_label AS nb_label, {nb_end} AS nb_key, "
           f"{date_col} AS rel_date{props} FROM {name} WHERE {' AND '.join(where)}")
    return cte, cte_params, sql, params


def degrees(cur: duckdb.DuckDBPyConnection, refs: Sequence[NodeRef],
            rel_types: Sequence[str] | None, small: frozenset[str] = frozenset()) -> dict[NodeRef, int]:
    types = [rel_type(t) for t in rel_types] if rel_types is not None else list(REL_TYPES)
    result = dict.fromkeys(refs, 0)
    by_label = _group(refs)
    ctes: list[str] = []
    branches: list[str] = []
    params: list[Any] = []
    labels: list[Any] = []
    for rt in types:
        for end, allowed in (("src", rt.start), ("dst", rt.end)):
            for label, keys in by_label.items():
                if label in allowed:
                    # materialised so that the label filter cannot spoil the index scan (see _branch)
                    name = f"h{len(ctes)}"
                    cond, cond_params = key_filter(end, keys, rel_table(rt.type), small)
                    ctes.append(f"{name} AS MATERIALIZED (SELECT {end}_label AS l, {end} AS k "
                                f"FROM {quote(rel_table(rt.type))} WHERE {cond})")
                    params.extend(cond_params)
                    branches.append(f"SELECT l, k FROM {name} WHERE l = ?")
                    labels.append(label)
    if branches:
        params.extend(labels)
        sql = (f"WITH {', '.join(ctes)} SELECT l, k, count(*) FROM ({' UNION ALL '.join(branches)}) "
               f"GROUP BY ALL")
        for lab, key, n in cur.execute(sql, params).fetchall():
            result[NodeRef(lab, key)] = int(n)
    return result


def search(cur: duckdb.DuckDBPyConnection, text: str, labels: Sequence[str] | None, limit: int,
           small: frozenset[str] = frozenset()) -> list[Node]:
    text = text.strip()
    if not text or limit <= 0:
        return []
    types = [node_type(lab) for lab in labels] if labels is not None else list(NODE_TYPES)
    order = {nt.label: i for i, nt in enumerate(NODE_TYPES)}
    branches: list[str] = []
    params: list[Any] = []
    for nt in types:
        key = quote(nt.key)
        conds = [f"starts_with({key}, ?)"]
        conds += [f"contains(lower({quote(prop)}), lower(?))" for prop in nt.search_props if prop != nt.key]
        # exact key first, then key prefix, then name matches
        branches.append(
            f"SELECT {order[nt.label]} AS lo, '{nt.label}' AS label, {key} AS k, "
            f"CASE WHEN {key} = ? THEN 0 WHEN starts_with({key}, ?) THEN 1 ELSE 2 END AS rank "
            f"FROM {quote(node_table(nt.label))} WHERE {' OR '.join(conds)}")
        params.extend([text] * (2 + len(conds)))
    sql = (f"SELECT label, k FROM ({' UNION ALL '.join(branches)}) "
           f"ORDER BY rank, lo, k LIMIT ?")
    params.append(limit)
    hits = cur.execute(sql, params).fetchall()
    by_label: dict[str, list[str]] = defaultdict(list)
    for label, key in hits:
        by_label[label].append(str(key))
    nodes = {n.ref: n for label, keys in by_label.items() for n in get_nodes(cur, label, keys, small)}
    return [nodes[NodeRef(label, str(key))] for label, key in hits if NodeRef(label, str(key)) in nodes]
