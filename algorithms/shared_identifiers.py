"""Shared-identifier rings (中介/冒名): unrelated persons registered with the same phone or bank account.

What it finds: brokers who collect recruits' reimbursements — many persons at different addresses
registered with one phone number or bank account — and chains of brokers (recruits of one phone
sharing a bank account with recruits of another), as connected components over persons and the
identifiers they share. Ring members are the persons and the broker identifiers.

Identifiers are classified before any component is built, so families and institutions never
glue brokers together:

- *family*: shared by fewer than ``identifier_min_persons`` persons or at fewer than
  ``identifier_min_addresses`` addresses (households share phone, account and address);
- *institutional*: more than ``household_max`` persons, most of them (or more than a household)
  at one address — a care home's front-desk phone; lawful for the residents at that address. When at least
  ``identifier_min_persons`` persons at ``identifier_min_addresses`` other addresses are also
  registered with it, a broker is using the institution's landline: those outsiders (not the
  residents) are linked through it like through any broker identifier;
- *placeholder*: more than ``identifier_max_persons`` persons (a hospital switchboard, a dummy
  number typed by a clerk): it says nothing about a ring and would merge the city; left out and
  counted;
- *broker*: everything else.

Addresses are not used to link persons (families are legitimate); they only tell unrelated
persons from relatives.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from algorithms.engine import CommunityEngine
from algorithms.evidence import ev
from algorithms.projections import Frame, connect, with_optional
from algorithms.results import Member, Ring
from algorithms.scoring import shared_identifier_score
from algorithms.settings import DetectionSettings

_TYPES = (("Phone", "phone", "电话"), ("BankAccount", "bank_account", "银行账户"))


def mask_identifier(kind: str, value: str) -> str:
    """Evidence shows identifiers masked the way the API does (last digits only)."""
    if kind == "Phone" and len(value) >= 7:
        return f"{value[:3]}****{value[-4:]}"
    return f"****{value[-4:]}"


def classify_identifiers(persons: Frame, settings: DetectionSettings) -> pd.DataFrame:
    """One row per shared identifier: type, value, n_persons, n_addresses, top_address_share, klass."""
    s = settings
    con = connect()
    con.register("p_raw", with_optional(persons, ("phone", "bank_account", "address")))
    union = " UNION ALL ".join(
        f"SELECT '{label}' AS type, CAST({col} AS VARCHAR) AS value, "
        f"CAST(person_id AS VARCHAR) AS person_id, "
        f"coalesce(NULLIF(CAST(address AS VARCHAR), ''), 'person:' || CAST(person_id AS VARCHAR)) AS address "
        f"FROM p_raw WHERE {col} IS NOT NULL AND CAST({col} AS VARCHAR) <> ''"
        for label, col, _ in _TYPES
    )
    df = con.execute(f"""
        WITH links AS ({union}),
             per_addr AS (SELECT type, value, address, count(*) AS c FROM links GROUP BY ALL)
        SELECT type, value, sum(c)::INTEGER AS n_persons, count(*)::INTEGER AS n_addresses,
               max(c) / sum(c) AS top_address_share, arg_max(address, c) AS top_address,
               max(c)::INTEGER AS top_address_persons,
               (sum(c) - max(c))::INTEGER AS outsiders
        FROM per_addr GROUP BY ALL HAVING sum(c) >= 2
    """).df()
    con.close()
    klass = pd.Series("broker", index=df.index, dtype="object")
    klass[(df["n_persons"] < s.identifier_min_persons) | (df["n_addresses"] < s.identifier_min_addresses)] = (
        "family"
    )
    # A collective address (more persons than a household) holding the identifier: its residents
    # are lawful sharers whatever their share, as are a majority at one address.
    institutional = (df["n_persons"] > s.household_max) & (
        (df["top_address_share"] >= 0.6) | (df["top_address_persons"] > s.household_max)
    )
    klass[institutional] = "institutional"
    borrowed = (
        institutional
        & (df["outsiders"] >= s.identifier_min_persons)
        & (df["n_addresses"] - 1 >= s.identifier_min_addresses)
    )
    klass[borrowed] = "institutional_broker"
    klass[df["n_persons"] > s.identifier_max_persons] = "placeholder"
    df["klass"] = klass
    return df


def detect_shared_identifiers(
    persons: Frame,
    settings: DetectionSettings,
    engine: CommunityEngine,
    *,
    claims: Frame | None = None,
    stats: dict[str, Any] | None = None,
) -> list[Ring]:
    """Components of persons linked by broker identifiers, scored (no reporting threshold applied)."""
    s = settings
    ids = classify_identifiers(persons, s)
    if stats is not None:
        for k in ("broker", "institutional_broker", "family", "institutional", "placeholder"):
            stats[f"identifiers_{k}"] = int((ids["klass"] == k).sum())
    brokers = ids[ids["klass"].isin(["broker", "institutional_broker"])].copy()
    if brokers.empty:
        return []
    # On an institution's landline the residents at its address are not the broker's recruits.
    brokers["home"] = brokers["top_address"].where(brokers["klass"] == "institutional_broker")
    residents = {
        (str(t), str(v)): (int(n - o), str(a))
        for t, v, n, o, a in zip(
            brokers["type"],
            brokers["value"],
            brokers["n_persons"],
            brokers["outsiders"],
            brokers["home"],
            strict=True,
        )
        if isinstance(a, str)
    }
    con = connect()
    con.register("p_raw", with_optional(persons, ("phone", "bank_account", "address")))
    con.register("brokers", brokers[["type", "value", "n_persons", "home"]])
    union = " UNION ALL ".join(
        f"SELECT '{label}' AS type, CAST({col} AS VARCHAR) AS value, "
        f"CAST(person_id AS VARCHAR) AS person_id, "
        f"NULLIF(CAST(address AS VARCHAR), '') AS address FROM p_raw WHERE {col} IS NOT NULL"
        for label, col, _ in _TYPES
    )
    links = con.execute(f"""
        SELECT l.type, l.value, l.person_id, l.address FROM ({union}) l JOIN brokers b USING (type, value)
        WHERE b.home IS NULL OR coalesce(l.address, '') <> b.home
    """).df()
    edges = pd.DataFrame(
        {
            "src": "Patient:" + links["person_id"],
            "dst": links["type"] + ":" + links["value"],
            "weight": 1.0,
        }
    )
    comp = engine.components(edges)
    links["component"] = comp.reindex("Patient:" + links["person_id"]).to_numpy()
    reimbursed: dict[str, float] = {}
    if claims is not None:
        con.register("c_raw", with_optional(claims, ("reimbursed_amount",)))
        con.register("ring_persons", links[["person_id"]].drop_duplicates())
        rows = con.execute("""
            SELECT CAST(c.person_id AS VARCHAR) AS person_id, sum(CAST(c.reimbursed_amount AS DOUBLE))
            FROM c_raw c JOIN ring_persons r ON CAST(c.person_id AS VARCHAR) = r.person_id GROUP BY ALL
        """).fetchall()
        reimbursed = {str(r[0]): float(r[1] or 0.0) for r in rows}
    con.close()
    rings: list[Ring] = []
    for _, grp in links.groupby("component"):
        persons_ = sorted(grp["person_id"].unique())
        if len(persons_) < s.min_shared_ring_persons:
            continue
        idents = grp.groupby(["type", "value"])["person_id"].nunique().sort_values(ascending=False)
        pairs: list[tuple[str, str]] = [(str(k[0]), str(k[1])) for k in idents.index]
        lines = [
            ev("shared.identifier", count=count, kind=t, value=mask_identifier(t, v))
            for (t, v), count in zip(pairs, idents.to_list(), strict=True)
        ]
        for t, v in pairs:
            if (t, v) in residents:
                n_res, home = residents[(t, v)]
                lines.append(ev("shared.institution_phone", value=mask_identifier(t, v), n=n_res,
                                home=home[:6]))
        addresses = grp.drop_duplicates("person_id")["address"]
        n_addresses = int(addresses.dropna().nunique() + addresses.isna().sum())
        features: dict[str, Any] = {
            "n_persons": len(persons_),
            "n_addresses": n_addresses,
            "n_identifiers": len(idents),
            "identifier_lines": lines,
            "reimbursed": sum(reimbursed.get(p, 0.0) for p in persons_),
        }
        score, evidence = shared_identifier_score(features, s)
        members = [Member(type="Patient", id=p) for p in persons_]
        members += [Member(type=t, id=v) for t, v in pairs]
        rings.append(
            Ring(
                kind="shared_identifier",
                score=round(score, 4),
                members=members,
                evidence=evidence,
                features=features,
            )
        )
    rings.sort(key=lambda r: (-r.score, -len(r.members)))
    return rings
