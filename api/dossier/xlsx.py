"""The claims behind a case's findings as a spreadsheet (openpyxl): one sheet per finding, then all."""

from __future__ import annotations

import io
import re

from openpyxl import Workbook

from algorithms.evidence import Lang
from api.dossier.content import ClaimRow, Dossier
from api.i18n import t

_SHEET_UNSAFE = re.compile(r"[\[\]:*?/\\]")


def _row(c: ClaimRow) -> list[object]:
    return [
        c.key,
        c.start,
        c.end,
        c.scheme,
        c.visit_type,
        c.person,
        c.institution,
        c.diagnosis,
        c.total,
        c.reimbursed,
    ]


def render_xlsx(dossier: Dossier) -> bytes:
    lang: Lang = "en" if dossier.lang == "en" else "zh"
    head = [
        t(k, lang)
        for k in (
            "col.claim",
            "col.date",
            "col.endDate",
            "col.scheme",
            "col.visitType",
            "col.person",
            "col.institution",
            "col.diagnosis",
            "col.total",
            "col.reimbursed",
        )
    ]
    wb = Workbook()
    first = wb.active
    assert first is not None
    wb.remove(first)
    sheets = [(r.ring_id, r.claims) for r in dossier.rings] + [(t("case.claims", lang), dossier.claims)]
    for name, claims in sheets:
        ws = wb.create_sheet(_SHEET_UNSAFE.sub("_", name)[:31])
        ws.append(head)
        for c in claims:
            ws.append(_row(c))
        ws.freeze_panes = "A2"
        for col, width in zip("ABCDEFGHIJ", (24, 11, 11, 12, 10, 22, 14, 10, 12, 12), strict=True):
            ws.column_dimensions[col].width = width
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()
