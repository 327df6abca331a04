"""The caller's language from an ``Accept-Language`` header (RFC 9110 §12.5.4), zh or en.

Only the primary subtag counts (``zh-CN``, ``zh-Hans``, ``zh-TW`` all read as zh: the page has one
Chinese, Simplified). The highest-weighted language we speak wins; ties keep the header's order;
``*`` or nothing we speak means the server's default (``MEDFRAUD_LANG``).
"""

from __future__ import annotations

from algorithms.evidence import LANGS, Lang

_MAX_ITEMS = 20  # a header is client input: read a bounded number of entries


def _weight(params: list[str]) -> float:
    for p in params:
        name, _, value = p.strip().partition("=")
        if name.strip().lower() == "q":
            try:
                return max(0.0, min(1.0, float(value)))
            except ValueError:
                return 0.0
    return 1.0


def pick_language(header: str | None, default: Lang) -> Lang:
    if not header:
        return default
    best: tuple[float, int, Lang] | None = None
    for order, item in enumerate(header.split(",")[:_MAX_ITEMS]):
        tag, *params = item.strip().split(";")
        primary = tag.strip().lower().split("-")[0]
        weight = _weight(params)
        if weight <= 0:
            continue
        for lang in LANGS:
            if primary == lang and (best is None or (weight, -order) > (best[0], -best[1])):
                best = (weight, order, lang)
    return best[2] if best else default
