"""Evidence as data: a template id and its values, rendered in the reader's language at read time.

Detectors used to write finished Chinese sentences, so an English reader needed a new detection
run. Now each sentence is an :class:`Evidence` (``{"id": "collusion.met", "values": {...}}``),
stored as such in the ring's and finding's ``evidence`` JSON list, and turned into text by
:func:`render` with the templates of :mod:`algorithms.evidence_templates`.

Values stay raw (numbers, ISO dates, already-masked identifiers) and the template says how to
show them: ``{amount:yuan}``, ``{share:pct}``, ``{names:list}`` (joined with the language's list
separator), ``{cause:cause}`` (a code looked up in the language's terms), ``{pairs:amounts}``
(``[[amount, count], ...]``). Anything else is an ordinary ``str.format`` spec.

Rows written before this change hold plain strings; :func:`from_stored` reads them as the
``text`` template, which shows the old sentence unchanged in every language.
"""

from __future__ import annotations

import datetime as dt
import decimal
import string
from collections.abc import Iterable, Mapping
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from algorithms.evidence_templates import LIST_SEPARATORS, TEMPLATES, TERMS

Lang = Literal["zh", "en"]
LANGS: tuple[Lang, ...] = ("zh", "en")
LEGACY_TEXT = "text"


class Evidence(BaseModel):
    """One evidence sentence as data."""

    model_config = ConfigDict(frozen=True)

    id: str
    values: dict[str, Any] = Field(default_factory=dict)

    def render(self, lang: Lang = "zh") -> str:
        return render(self, lang)


def _plain(value: Any) -> Any:
    """A JSON-ready copy of a value (dates as ISO text, numpy/decimal numbers as Python numbers)."""
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    if isinstance(value, decimal.Decimal):
        return float(value)
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (str, bool, int, float)) or value is None:
        return value
    item = getattr(value, "item", None)  # numpy scalars
    if callable(item):
        return _plain(item())
    isoformat = getattr(value, "isoformat", None)  # pandas Timestamp
    if callable(isoformat):
        return str(isoformat())
    return str(value)


def ev(template_id: str, **values: Any) -> Evidence:
    """Evidence for ``template_id``; refuses an unknown id so a typo fails in the detector's tests."""
    if template_id not in TEMPLATES:
        raise KeyError(f"unknown evidence template {template_id!r}")
    return Evidence(id=template_id, values={k: _plain(v) for k, v in values.items()})


def from_stored(item: object) -> Evidence:
    """Evidence from its stored form: a ``{"id", "values"}`` map, or a pre-template plain string."""
    if isinstance(item, Evidence):
        return item
    if isinstance(item, Mapping) and isinstance(item.get("id"), str):
        values = item.get("values")
        return Evidence(id=str(item["id"]), values=dict(values) if isinstance(values, Mapping) else {})
    return Evidence(id=LEGACY_TEXT, values={"text": "" if item is None else str(item)})


def evidence_list(value: object) -> list[Evidence]:
    """A stored or exported evidence list read back (plain strings are pre-template sentences)."""
    if value is None:
        return []
    if isinstance(value, (str, bytes)) or not isinstance(value, Iterable):
        raise ValueError(f"evidence must be a list, not {type(value).__name__}")
    return [from_stored(e) for e in value]


def stored(items: Iterable[Evidence]) -> list[dict[str, Any]]:
    """The JSON-ready list kept in the store and in ``detect --export``."""
    return [e.model_dump() for e in items]


class _Formatter(string.Formatter):
    def __init__(self, lang: Lang) -> None:
        self.lang = lang

    def format_field(self, value: Any, format_spec: str) -> str:
        sep = LIST_SEPARATORS[self.lang]
        if format_spec == "yuan":
            return f"¥{float(value or 0.0):,.0f}"
        if format_spec == "pct":
            return f"{float(value or 0.0):.0%}"
        if format_spec == "list":
            return sep.join(str(v) for v in (value or []))
        if format_spec == "cause":
            return TERMS[self.lang].get(f"cause.{value}", str(value))
        if format_spec == "ident":
            return TERMS[self.lang].get(f"ident.{value}", str(value))
        if format_spec == "amounts":
            unit = TERMS[self.lang]["purchases"]
            shape = "¥{a:,.0f}（{n} {unit}）" if self.lang == "zh" else "¥{a:,.0f} ({n} {unit})"
            return sep.join(shape.format(a=float(a), n=int(n), unit=unit) for a, n in (value or []))
        return str(super().format_field(value, format_spec))


def render(item: object, lang: Lang = "zh") -> str:
    """The sentence in ``lang``. An unknown template id (written by a newer version) shows its id
    and values rather than failing the whole answer."""
    e = from_stored(item)
    template = TEMPLATES.get(e.id)
    if template is None:
        return f"{e.id}: {e.values}"
    try:
        return _Formatter(lang).format(template[lang], **e.values)
    except (KeyError, IndexError, ValueError, TypeError):
        # values that no longer fit the template (an older row): say so rather than drop it
        return f"{e.id}: {e.values}"


def value_of(items: Iterable[object], template_id: str, key: str) -> Any:
    """A value of the first evidence of ``template_id`` (None if there is none): the figures behind a
    sentence, for a picture that shows what the sentence says."""
    for item in items:
        e = from_stored(item)
        if e.id == template_id:
            return e.values.get(key)
    return None


def render_all(items: Iterable[object], lang: Lang = "zh") -> list[str]:
    return [render(i, lang) for i in items]
