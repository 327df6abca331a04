"""The graph rows a validated table becomes: nodes, links and the links it replaces.

One ``Write`` per label or relationship type, built column-wise from the validated rows. An
optional column the file does not have is "not provided": its properties and links are left out,
so the store keeps what it has.
"""

from __future__ import annotations

from collections.abc import Callable

import pyarrow as pa
import pyarrow.compute as pc

from ingest.contract import TABLES
from ingest.validate import RefContext, Validated
from ingest.writer import Write


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


def table_writes(v: Validated, refs: RefContext, batch: BatchId, part: str = "all") -> list[Write]:
    """The node writes (``part="nodes"``), relationship writes (``"rels"``) or both of a table."""
    return [
        w for w in _all_writes(v, refs, batch) if part == "all" or (w.kind == "node") == (part == "nodes")
    ]


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


def _all_writes(v: Validated, refs: RefContext, batch: BatchId) -> list[Write]:
    t = _given(v)
    src = v.source_file

    def nodes(label: str, source: pa.Table, build: Callable[[pa.Table], pa.Table] | None = None) -> Write:
        return Write("node", label, build or (lambda s: _provenance(s, src, batch())), source)

    def plain(label: str, source: pa.Table) -> Write:
        return Write("node", label, lambda s: s, source)

    def rel(type_: str, source: pa.Table, build: Callable[[pa.Table], pa.Table]) -> Write:
        return Write("rel", type_, build, source)

    def replace(type_: str, source: pa.Table, keys: str, build: Callable[[pa.Table], pa.Table]) -> Write:
        # A later export may change a person's phone (a doctor's institution): the row's links
        # replace the old ones, so nobody keeps "sharing" an identifier they no longer have.
        return Write("replace", type_, build, source, sources=keys)

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
