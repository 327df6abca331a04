"""Typed node properties and typed records, generated from :mod:`graph.model`.

Both adapters return ``Node.props`` already converted by :func:`typed_props`, so no layer above the
port re-parses a date, a float or a JSON text: a property declared ``date`` is a ``datetime.date``,
``datetime`` a naive UTC ``datetime``, ``float`` a ``float``, ``json`` the parsed value (list, dict
...), ``str_list`` a ``list[str]``; a missing value (None, NaN, NaT) is absent. The serving layer
calls the same function on rows it holds in memory, so every path yields the same values.

:func:`record` turns a node into the dataclass of its label (``PatientRecord``, ``RingRecord`` ...,
in :mod:`graph.record_types`, written by ``python -m graph.records`` from the model; a unit test fails
when the two disagree). :func:`record_of` does the same with the class named, for ``mypy``.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Mapping
from dataclasses import fields
from datetime import UTC, date, datetime
from typing import Any, TypeVar

import numpy as np
import pandas as pd

from graph.errors import SchemaError, StoreError
from graph.model import NODE_TYPES, Node, PropType, node_type, rel_type
from graph.record_types import RECORD_TYPES, NodeRecord

R = TypeVar("R", bound=NodeRecord)
_FIELDS = {label: frozenset(f.name for f in fields(cls)) for label, cls in RECORD_TYPES.items()}


def _missing(value: object) -> bool:
    if value is None or value is pd.NaT or value is pd.NA:
        return True
    return isinstance(value, float) and math.isnan(value)


def _date(value: Any) -> date:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, np.datetime64):
        return pd.Timestamp(value).date()
    if hasattr(value, "to_native"):  # a Neo4j Date
        return _date(value.to_native())
    return date.fromisoformat(str(value).strip()[:10])


def _datetime(value: Any) -> datetime:
    if isinstance(value, pd.Timestamp):
        value = value.to_pydatetime()
    elif isinstance(value, np.datetime64):
        value = pd.Timestamp(value).to_pydatetime()
    elif hasattr(value, "to_native"):  # a Neo4j DateTime
        value = value.to_native()
    elif isinstance(value, str):
        value = datetime.fromisoformat(value.strip())
    elif isinstance(value, date) and not isinstance(value, datetime):
        value = datetime(value.year, value.month, value.day)
    if not isinstance(value, datetime):
        raise ValueError(f"not a datetime: {value!r}")
    # both stores keep naive UTC (DuckDB TIMESTAMP); an aware value is brought to it
    return value if value.tzinfo is None else value.astimezone(UTC).replace(tzinfo=None)


def _json(value: Any) -> Any:
    if isinstance(value, str):
        return json.loads(value) if value.strip() else None
    if isinstance(value, np.ndarray):
        return value.tolist()
    return value


def str_list(value: Any) -> list[str]:
    """A ``str_list`` property from a list or its JSON/plain text (the one conversion, both ways)."""
    if isinstance(value, str):
        text = value.strip()
        if text.startswith("["):
            return [str(v) for v in json.loads(text)]
        return [text] if text else []
    return [str(v) for v in value]


def boolean(value: Any) -> bool:
    """A ``bool`` property from a bool or its text (true/1/yes, false/0/no)."""
    if isinstance(value, str):
        low = value.strip().lower()
        if low in ("true", "1", "yes"):
            return True
        if low in ("false", "0", "no"):
            return False
        raise ValueError(f"not a boolean: {value!r}")
    return bool(value)


def _float(value: Any) -> float:
    return float(value)


def _int(value: Any) -> int:
    return int(value)


def _str(value: Any) -> str:
    return value if isinstance(value, str) else str(value)


_CONVERT: dict[PropType, Callable[[Any], Any]] = {
    "str": _str, "int": _int, "float": _float, "bool": boolean, "date": _date, "datetime": _datetime,
    "json": _json, "str_list": str_list,
}
# exact Python types that need no conversion (the common case, kept cheap)
_ALREADY: dict[PropType, type] = {"str": str, "int": int, "float": float, "bool": bool, "date": date}
_PROP_TYPES: dict[str, dict[str, PropType]] = {n.label: {p.name: p.type for p in n.props} for n in NODE_TYPES}


def _typed(types: Mapping[str, PropType], owner: str, props: Mapping[str, object]) -> dict[str, object]:
    out: dict[str, object] = {}
    for name, value in props.items():
        if not isinstance(value, list | tuple | np.ndarray) and _missing(value):
            continue
        kind = types.get(name)
        if kind is None:
            out[name] = value  # not a model property: passed through untouched
            continue
        if type(value) is _ALREADY.get(kind):
            if kind == "float" and math.isnan(value):  # type: ignore[arg-type]
                continue
            out[name] = value
            continue
        try:
            converted = _CONVERT[kind](value)
        except (TypeError, ValueError) as exc:
            raise StoreError(f"{owner}.{name} ({kind}) holds {value!r}, which is not one: {exc}") from exc
        if converted is not None:
            out[name] = converted
    return out


def typed_props(label: str, props: Mapping[str, object]) -> dict[str, object]:
    """``props`` of a ``label`` node with every model property as its declared Python type.

    Missing values are left out (as Neo4j never stores a null); properties the model does not
    declare pass through unchanged. A stored value that cannot be read as its type raises
    :class:`StoreError` naming the label, the property and the value.
    """
    types = _PROP_TYPES.get(label)
    if types is None:
        node_type(label)  # raises SchemaError naming the label
        raise SchemaError(f"unknown node label {label!r}")
    return _typed(types, label, props)


def typed_rel_props(type_: str, props: Mapping[str, object]) -> dict[str, object]:
    """The same for the properties of a relationship of ``type_``."""
    rt = rel_type(type_)
    return _typed({p.name: p.type for p in rt.props}, rt.type, props)


def record(node: Node) -> NodeRecord:
    """The typed record of a node (the dataclass of its label)."""
    cls = RECORD_TYPES.get(node.label)
    if cls is None:
        raise SchemaError(f"unknown node label {node.label!r}")
    values = typed_props(node.label, node.props)
    values.setdefault(cls.KEY, node.key)
    names = _FIELDS[node.label]
    return cls(**{name: values[name] for name in names if name in values})


def record_of(node: Node, cls: type[R]) -> R:
    """:func:`record` with the expected class named; a node of another label is a ``SchemaError``."""
    if node.label != cls.LABEL:
        raise SchemaError(f"{node.label}:{node.key} is not a {cls.LABEL}")
    got = record(node)
    assert isinstance(got, cls)  # RECORD_TYPES maps each label to its class
    return got


# -- the generator of graph/record_types.py ----------------------------------------------------------
_ANNOTATION: dict[PropType, str] = {
    "str": "str", "int": "int", "float": "float", "bool": "bool", "date": "date", "datetime": "datetime",
    "json": "Any", "str_list": "list[str]",
}


def render_record_types() -> str:
    """The source of :mod:`graph.record_types` for the current model."""
    lines = [
        '"""Typed records, one frozen dataclass per label of :mod:`graph.model`.',
        "",
        "GENERATED by ``python -m graph.records > graph/record_types.py``: do not edit by hand;",
        "``tests/unit/graph/test_records.py`` fails when this file and the model disagree.",
        '"""',
        "",
        "from __future__ import annotations",
        "",
        "from dataclasses import dataclass",
        "from datetime import date, datetime",
        "from typing import Any, ClassVar",
        "",
        "",
        "@dataclass(frozen=True, kw_only=True, slots=True)",
        "class NodeRecord:",
        '    """A node\'s properties with their declared types; absent ones are None."""',
        "",
        '    LABEL: ClassVar[str] = ""',
        '    KEY: ClassVar[str] = ""',
        "",
    ]
    for nt in NODE_TYPES:
        lines += ["", "@dataclass(frozen=True, kw_only=True, slots=True)",
                  f"class {nt.label}Record(NodeRecord):", f'    """{nt.description}"""', "",
                  f'    LABEL: ClassVar[str] = "{nt.label}"', f'    KEY: ClassVar[str] = "{nt.key}"', ""]
        for p in nt.props:
            if p.description:
                lines.append(f"    #: {p.description}")
            ann = _ANNOTATION[p.type]
            if p.name == nt.key:
                lines.append(f"    {p.name}: {ann}")
            elif ann == "Any":
                lines.append(f"    {p.name}: Any = None")
            else:
                lines.append(f"    {p.name}: {ann} | None = None")
        lines.append("")
    lines += ["", "RECORD_TYPES: dict[str, type[NodeRecord]] = {"]
    lines += [f'    "{nt.label}": {nt.label}Record,' for nt in NODE_TYPES]
    lines += ["}", ""]
    return "\n".join(lines)


if __name__ == "__main__":
    print(render_record_types(), end="")
