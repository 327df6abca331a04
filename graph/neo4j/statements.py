"""The Cypher statements :class:`graph.neo4j.store.Neo4jStore` sends, one small builder each.

Every value travels as a parameter (``$rows``, ``$keys``, ...). The only text interpolated into a
statement is a label, relationship type or property name, and each builder takes those from
``graph.model`` after validating them, so nothing a user typed ever becomes Cypher. Keeping the
builders pure (text in, text out) lets the Cypher lint test run Neo4j's own linter over exactly
what the store sends.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Literal

from graph.errors import SchemaError
from graph.model import NODE_TYPES, REL_TYPES, node_type, rel_type

Direction = Literal["out", "in", "both"]


def _key(label: str) -> str:
    return node_type(label).key


def _seek(var: str, label: str) -> str:
    """A planner hint to seek ``var`` in its key's unique index (a plain USING INDEX allows a scan).

    Without it, a plan cached while the statistics still said "this label is empty" (right after the
    schema is applied) scans the other end's label for every row: minutes instead of milliseconds.
    """
    return f"USING INDEX SEEK {var}:{label}({_key(label)})"


def key_properties() -> dict[str, str]:
    """Label -> key property, passed as ``$key_props`` so one statement can name any node's key."""
    return {n.label: n.key for n in NODE_TYPES}


def can_connect(label: str, direction: Direction, types: list[str] | None = None) -> bool:
    """Whether the model has any relationship (of ``types``) leaving/entering nodes of ``label``.

    The store does not ask Neo4j for expansions the model rules out (a ``Phone`` has no outgoing
    relationship); Neo4j's linter flags such patterns as schema violations, rightly.
    """
    rels = [r for r in REL_TYPES if types is None or r.type in types]
    out = any(label in r.start for r in rels)
    into = any(label in r.end for r in rels)
    return {"out": out, "in": into, "both": out or into}[direction]


# -- writes -------------------------------------------------------------------------------------
def upsert_nodes(label: str) -> str:
    key = _key(label)
    return (
        f"UNWIND $rows AS row MERGE (n:{label} {{{key}: row.{key}}}) SET n += row "
        "RETURN count(n) AS written"
    )


def upsert_node_columns(label: str, props: Sequence[str]) -> str:
    """Column-wise upsert (see :mod:`graph.neo4j.bulk`): ``$keys`` and one list ``$c<i>`` per property."""
    nt = node_type(label)
    sets = ", ".join(f"n.{nt.prop(p).name} = $c{i}[i]" for i, p in enumerate(props))
    return (
        f"UNWIND range(0, size($keys) - 1) AS i MERGE (n:{label} {{{nt.key}: $keys[i]}}) "
        f"{'SET ' + sets + ' ' if sets else ''}RETURN count(n) AS written"
    )


def upsert_relationship_columns(rel: str, src_label: str, dst_label: str, props: Sequence[str]) -> str:
    """Column-wise relationship upsert: ``$src``, ``$dst`` and one list ``$c<i>`` per property."""
    _check_ends(rel, src_label, dst_label)
    rt = rel_type(rel)
    names = {p.name for p in rt.props}
    unknown = [p for p in props if p not in names]
    if unknown:
        raise SchemaError(f"relationship {rel} has no properties {', '.join(map(repr, unknown))}")
    sets = ", ".join(f"r.{p} = $c{i}[i]" for i, p in enumerate(props))
    return (
        f"UNWIND range(0, size($src) - 1) AS i "
        f"MATCH (a:{src_label} {{{_key(src_label)}: $src[i]}}) {_seek('a', src_label)} "
        f"MATCH (b:{dst_label} {{{_key(dst_label)}: $dst[i]}}) {_seek('b', dst_label)} "
        f"MERGE (a)-[r:{rel}]->(b) {'SET ' + sets + ' ' if sets else ''}RETURN count(r) AS written"
    )


def _check_ends(rel: str, src_label: str, dst_label: str) -> None:
    rt = rel_type(rel)
    if src_label not in rt.start or dst_label not in rt.end:
        raise SchemaError(f"{rel} does not go from {src_label} to {dst_label}")


def upsert_relationships(rel: str, src_label: str, dst_label: str) -> str:
    _check_ends(rel, src_label, dst_label)
    return (
        f"UNWIND $rows AS row "
        f"MATCH (a:{src_label} {{{_key(src_label)}: row.src}}) {_seek('a', src_label)} "
        f"MATCH (b:{dst_label} {{{_key(dst_label)}: row.dst}}) {_seek('b', dst_label)} "
        f"MERGE (a)-[r:{rel}]->(b) SET r += row.props RETURN count(r) AS written"
    )


def delete_unkept_relationships(rel: str, src_label: str, dst_label: str) -> str:
    """Per row: delete ``row.src``'s relationships of the type whose end key is not in ``row.keep``."""
    _check_ends(rel, src_label, dst_label)
    return (
        f"UNWIND $rows AS row "
        f"MATCH (a:{src_label} {{{_key(src_label)}: row.src}})-[r:{rel}]->(b:{dst_label}) "
        f"{_seek('a', src_label)} "
        f"WHERE NOT b.{_key(dst_label)} IN row.keep DELETE r RETURN count(*) AS deleted"
    )


def count_one_relationship_type(rel: str) -> str:
    """How many relationships of one type exist (Neo4j answers from its count store, O(1))."""
    rt = rel_type(rel)
    return f"MATCH ()-[r:{rt.type}]->() RETURN count(r) AS existing"


def delete_nodes(label: str) -> str:
    key = _key(label)
    return (f"UNWIND $keys AS k MATCH (n:{label} {{{key}: k}}) {_seek('n', label)} "
            "DETACH DELETE n RETURN count(k) AS deleted")


def delete_some_nodes() -> str:
    """One bounded slice of a full wipe; repeated until it deletes nothing (test helper).

    The revision tokens stay (graph/neo4j/revisions.py): each slice gives them new values, and a
    wipe that deleted them would find them written again after every slice.
    """
    return ("MATCH (n) WHERE NOT n:_Revision WITH n LIMIT $limit DETACH DELETE n "
            "RETURN count(*) AS deleted")


# -- reads --------------------------------------------------------------------------------------
def ping() -> str:
    return "RETURN 1 AS ok"


def get_nodes(label: str) -> str:
    key = _key(label)
    return (f"MATCH (n:{label}) {_seek('n', label)} WHERE n.{key} IN $keys "
            f"RETURN n.{key} AS key, properties(n) AS props")


def neighbours(label: str) -> str:
    """One hop from the seeds of one label, capped per seed, most recent first.

    Optional filters are parameters that may be null so that one statement (and one cached plan)
    serves every combination; ``$outgoing`` is true (out), false (in) or null (both). Dated
    relationships sort first (newest first), undated ones after; ties break on the neighbour's key
    so the cap is deterministic.
    """
    key = _key(label)
    return (
        f"UNWIND $keys AS k MATCH (s:{label} {{{key}: k}})-[r]-(m) {_seek('s', label)} "
        "WITH k, r, m, startNode(r) = s AS outgoing, head(labels(m)) AS label "
        "WHERE ($outgoing IS NULL OR outgoing = $outgoing) "
        "AND ($types IS NULL OR type(r) IN $types) AND ($labels IS NULL OR label IN $labels) "
        "AND ($since IS NULL OR r.date IS NULL OR r.date >= $since) "
        "AND ($until IS NULL OR r.date IS NULL OR r.date <= $until) "
        "WITH k, r, m, outgoing, label, m[$key_props[label]] AS key "
        "ORDER BY k, r.date IS NULL, r.date DESC, key "
        "WITH k, collect({r: r, m: m, outgoing: outgoing, label: label, key: key}) AS hits "
        # properties only for the kept neighbours: a hub has thousands, a picture shows a hundred
        "RETURN k AS seed, size(hits) AS total, [h IN hits[0..$cap] | {type: type(h.r), "
        "outgoing: h.outgoing, rel_props: properties(h.r), label: h.label, key: h.key, "
        "props: properties(h.m)}] AS kept"
    )


def degrees(label: str) -> str:
    key = _key(label)
    return (
        f"UNWIND $keys AS k MATCH (s:{label} {{{key}: k}}) {_seek('s', label)} "
        "RETURN k AS key, COUNT { MATCH (s)-[r]-() WHERE $types IS NULL OR type(r) IN $types } AS degree"
    )


def search(label: str) -> str:
    """Key prefix (exact key first) or a case-insensitive substring of a searchable name."""
    nt = node_type(label)
    names = [p for p in nt.search_props if p != nt.key]
    where = " OR ".join([f"n.{nt.key} STARTS WITH $text",
                         *(f"toLower(n.{p}) CONTAINS toLower($text)" for p in names)])
    return (
        f"MATCH (n:{label}) WHERE {where} "
        f"RETURN n.{nt.key} AS key, properties(n) AS props, "
        f"CASE WHEN n.{nt.key} = $text THEN 0 WHEN n.{nt.key} STARTS WITH $text THEN 1 ELSE 2 END AS rank "
        f"ORDER BY rank, key LIMIT $limit"
    )


def count_label(label: str) -> str:
    """Nodes of one label (Neo4j answers from its count store)."""
    node_type(label)
    return f"MATCH (n:{label}) RETURN count(n) AS nodes"


def key_at(label: str) -> str:
    """The key ``$skip`` places into the label's key order (walks the key index only, no node)."""
    key = _key(label)
    return (f"MATCH (n:{label}) {_seek('n', label)} WHERE n.{key} > $last "
            f"WITH n ORDER BY n.{key} SKIP $skip LIMIT 1 RETURN n.{key} AS split")


def stream_nodes_page(label: str, columns: Sequence[str], *, bounded: bool = False) -> str:
    """A page of nodes after ``$last`` in key order, as ONE record of column lists.

    Paging seeks on the key index instead of SKIP. The first page passes ``$last = ""`` (keys are
    never empty): a ``$last IS NULL OR`` test would keep the planner off the index, and every page
    would scan and sort the whole label. One record per page with a list per column (``keys``,
    ``c0``, ``c1``, ...) instead of one record per node: the driver's per-record work cost more than
    the whole transfer (1.3 million claims: about 2 s of client CPU per 120,000 rows as records,
    0.15 s as lists). The lists come from a comprehension over the collected page, which keeps
    nulls in place (``collect(n.x)`` would drop them and shift the column). Dates travel as ISO
    text, which Arrow parses in bulk: decoding a Bolt date into a Python object costs more still.
    ``bounded`` adds ``n.key <= $upto``: pages of one part of the key range, read while another
    part is read on a second connection. The key is read once, as ``keys``: an asked-for column
    that is the key gets no ``c`` list of its own (the reader takes it from ``keys``); every
    property read costs the server about the same, ~0.4 s per column of 1.15 million claims.
    """
    nt = node_type(label)
    key = nt.key
    upto = f" AND n.{key} <= $upto" if bounded else ""
    cells = []
    for i, name in enumerate(c for c in columns if c != key):
        prop = nt.prop(name)
        value = f"toString(x.{name})" if prop.type == "date" else f"x.{name}"
        cells.append(f"[x IN page | {value}] AS c{i}")
    return (
        f"MATCH (n:{label}) {_seek('n', label)} WHERE n.{key} > $last{upto} "
        f"WITH n ORDER BY n.{key} LIMIT $limit WITH collect(n) AS page "
        f"RETURN [x IN page | x.{key}] AS keys{''.join(', ' + c for c in cells)}"
    )


def stream_relationships_page(rel: str, src_label: str, dst_label: str) -> str:
    """The relationships of a page of start nodes (keyed paging on the start node's key).

    Start nodes without such a relationship still come back (dst null) so that the page cursor
    advances past them. The first page passes ``$last = ""``, as in :func:`stream_nodes_page`.
    """
    _check_ends(rel, src_label, dst_label)
    skey, dkey = _key(src_label), _key(dst_label)
    return (
        f"MATCH (a:{src_label}) {_seek('a', src_label)} WHERE a.{skey} > $last "
        f"WITH a ORDER BY a.{skey} LIMIT $limit "
        f"OPTIONAL MATCH (a)-[r:{rel}]->(b:{dst_label}) "
        f"RETURN a.{skey} AS src, b.{dkey} AS dst, properties(r) AS props ORDER BY src, dst"
    )


def count_nodes() -> str:
    """Nodes per model label in one round trip (each branch reads Neo4j's count store)."""
    return " UNION ALL ".join(
        f"MATCH (n:{n.label}) RETURN '{n.label}' AS name, count(n) AS count" for n in NODE_TYPES
    )


def count_relationships() -> str:
    return " UNION ALL ".join(
        f"MATCH ()-[r:{r.type}]->() RETURN '{r.type}' AS name, count(r) AS count" for r in REL_TYPES
    )


_LITERALS_AND_COMMENTS = re.compile(
    r"'(?:[^'\\]|\\.)*'|\"(?:[^\"\\]|\\.)*\"|`[^`]*`|//[^\n]*|/\*.*?\*/", re.S
)
_USE_CLAUSE = re.compile(r"(?<![.$\w])USE\b", re.I)  # not n.use, not $use


def names_a_database(text: str) -> bool:
    """Whether analyst Cypher has a ``USE`` clause (ignoring strings, quoted names and comments)."""
    return bool(_USE_CLAUSE.search(_LITERALS_AND_COMMENTS.sub(" ", text)))


def explain(text: str) -> str:
    """Plan an analyst's query without running it, to learn whether it would write."""
    return "EXPLAIN " + text
