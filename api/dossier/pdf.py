"""The dossier as a PDF (reportlab platypus), in the reader's language (Chinese by default).

Sections: case header, summary of findings with amounts, network picture, persons and
institutions, evidence sentences, the claims behind each finding, the timeline, notes, and the
audit excerpt. Tables are capped (:data:`MAX_CLAIM_ROWS` per finding); the spreadsheet
(:mod:`api.dossier.xlsx`) has every claim.
"""

from __future__ import annotations

import io
from typing import Any

from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.platypus import Flowable, Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle
from reportlab.platypus.flowables import KeepTogether

from algorithms.evidence import Lang
from api.dossier.content import ClaimRow, Dossier
from api.dossier.drawings import network, timeline
from api.dossier.fonts import cjk_font
from api.i18n import t

MAX_CLAIM_ROWS = 40


def _term(lang: Lang, prefix: str, value: str | None) -> str:
    if not value:
        return ""
    key = f"{prefix}.{value}"
    text = t(key, lang)
    return value if text == key else text


def _yuan(amount: float) -> str:
    return f"¥{amount:,.2f}"


class _Styles:
    def __init__(self, font: str) -> None:
        self.title = ParagraphStyle(
            "title", fontName=font, fontSize=18, leading=24, alignment=1, spaceAfter=4
        )
        self.subtitle = ParagraphStyle(
            "subtitle",
            fontName=font,
            fontSize=10,
            leading=14,
            alignment=1,
            textColor=colors.HexColor("#5b6670"),
            spaceAfter=10,
        )
        self.h2 = ParagraphStyle("h2", fontName=font, fontSize=12.5, leading=18, spaceBefore=10, spaceAfter=4)
        self.body = ParagraphStyle("body", fontName=font, fontSize=9, leading=13)
        self.small = ParagraphStyle("small", fontName=font, fontSize=7.5, leading=10)
        self.muted = ParagraphStyle(
            "muted", fontName=font, fontSize=7.5, leading=10, textColor=colors.HexColor("#6b7682")
        )


def _esc(text: Any) -> str:
    return str(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _table(rows: list[list[Any]], styles: _Styles, widths: list[float], *, header: bool = True) -> Table:
    cells = [[Paragraph(_esc(v), styles.small) for v in row] for row in rows]
    table = Table(cells, colWidths=widths, repeatRows=1 if header else 0)
    commands: list[tuple[Any, ...]] = [
        ("GRID", (0, 0), (-1, -1), 0.25, colors.HexColor("#c3c9d0")),
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ("TOPPADDING", (0, 0), (-1, -1), 1.5),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 1.5),
    ]
    if header:
        commands.append(("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#e9ecef")))
    table.setStyle(TableStyle(commands))
    return table


def _claims_table(claims: list[ClaimRow], lang: Lang, styles: _Styles) -> list[Flowable]:
    head = [
        t(k, lang)
        for k in (
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
    rows: list[list[Any]] = [head]
    for c in claims[:MAX_CLAIM_ROWS]:
        rows.append(
            [
                c.start,
                c.end if c.end != c.start else "",
                _term(lang, "scheme", c.scheme),
                _term(lang, "visit", c.visit_type),
                c.person,
                c.institution,
                c.diagnosis,
                _yuan(c.total),
                _yuan(c.reimbursed),
            ]
        )
    out: list[Flowable] = [
        _table(
            rows, styles, [17 * mm, 17 * mm, 18 * mm, 12 * mm, 33 * mm, 22 * mm, 15 * mm, 18 * mm, 18 * mm]
        )
    ]
    if len(claims) > MAX_CLAIM_ROWS:
        out.append(
            Paragraph(_esc(t("dossier.claimsMore", lang, n=len(claims) - MAX_CLAIM_ROWS)), styles.muted)
        )
    return out


def _audit_line(record: dict[str, Any], lang: Lang) -> str:
    details = record.get("details") or {}
    mutation = details.get("mutation")
    if mutation:
        values = {
            k: _term(lang, "verdict", v)
            if k == "verdict"
            else (_term(lang, "caseStatus", v) if k == "status" else v)
            for k, v in details.items()
        }
        values.setdefault("ring", "")
        values.setdefault("status", "")
        values.setdefault("shared_with", "")
        values.setdefault("verdict", "")
        return t(f"audit.{mutation}", lang, **values)
    if record.get("operation") == "Dossier":
        return t("audit.dossier", lang)
    return f"{t('audit.read', lang)} ({record.get('operation') or ''})"


def render_pdf(dossier: Dossier) -> bytes:
    lang: Lang = "en" if dossier.lang == "en" else "zh"
    font = cjk_font()
    styles = _Styles(font)
    story: list[Flowable] = [
        Paragraph(_esc(t("dossier.title", lang)), styles.title),
        Paragraph(_esc(t("dossier.subtitle", lang)), styles.subtitle),
    ]
    header = [
        ("dossier.caseNo", dossier.case_id),
        ("dossier.caseTitle", dossier.title),
        ("dossier.status", _term(lang, "caseStatus", dossier.status)),
        ("dossier.agency", dossier.agency),
        ("dossier.sharedWith", "、".join(dossier.shared_with) or t("dossier.none", lang)),
        ("dossier.openedBy", dossier.created_by),
        ("dossier.opened", dossier.created_at),
        ("dossier.updated", dossier.updated_at),
        ("dossier.printed", dossier.produced_at),
        ("dossier.printedBy", dossier.reader),
    ]
    story.append(_table([[t(k, lang), v] for k, v in header], styles, [30 * mm, 140 * mm], header=False))

    story.append(Paragraph(_esc(t("dossier.summary", lang)), styles.h2))
    for ring in dossier.rings:
        story.append(
            Paragraph(
                "• "
                + _esc(
                    t(
                        "dossier.summaryLine",
                        lang,
                        kind=_term(lang, "kind", ring.kind),
                        id=ring.ring_id,
                        score=f"{ring.score:.2f}",
                        members=ring.member_count,
                        amount=_yuan(ring.reimbursed),
                    )
                ),
                styles.body,
            )
        )
        if ring.review and ring.review.get("verdict"):
            story.append(
                Paragraph(
                    "  "
                    + _esc(
                        t(
                            "fact.reviewBy",
                            lang,
                            verdict=_term(lang, "verdict", ring.review["verdict"]),
                            by=ring.review.get("reviewedBy") or "?",
                            reason=ring.review.get("reason") or "",
                        )
                    ),
                    styles.muted,
                )
            )
    total = sum(c.reimbursed for c in dossier.claims)
    story.append(
        Paragraph(
            _esc(t("dossier.summaryTotal", lang, claims=len(dossier.claims), amount=_yuan(total))),
            styles.body,
        )
    )

    story.append(Paragraph(_esc(t("dossier.picture", lang)), styles.h2))
    story.append(
        KeepTogether(
            [
                network(dossier.nodes, dossier.edges, font=font),
                Paragraph(
                    _esc(t("dossier.pictureNote", lang, nodes=len(dossier.nodes), edges=len(dossier.edges))),
                    styles.muted,
                ),
            ]
        )
    )

    story.append(Paragraph(_esc(t("dossier.members", lang)), styles.h2))
    rows: list[list[Any]] = [
        [t("col.type", lang), t("col.name", lang), t("col.id", lang), t("col.role", lang)]
    ]
    for m in dossier.members:
        rows.append([_term(lang, "label", m.label), m.title, m.key, _term(lang, "role", m.role)])
    story.append(_table(rows, styles, [28 * mm, 45 * mm, 70 * mm, 27 * mm]))

    story.append(Paragraph(_esc(t("dossier.evidence", lang)), styles.h2))
    for ring in dossier.rings:
        story.append(Paragraph(_esc(f"{_term(lang, 'kind', ring.kind)} {ring.ring_id}"), styles.body))
        for line in ring.evidence:
            story.append(Paragraph("– " + _esc(line), styles.small))
    if not dossier.rings:
        story.append(Paragraph(_esc(t("dossier.none", lang)), styles.muted))

    story.append(Paragraph(_esc(t("dossier.claims", lang)), styles.h2))
    for ring in dossier.rings:
        story.append(
            Paragraph(
                _esc(t("dossier.claimsOf", lang, what=f"{_term(lang, 'kind', ring.kind)} {ring.ring_id}")),
                styles.body,
            )
        )
        story.extend(_claims_table(ring.claims, lang, styles))
        story.append(Spacer(1, 4))
    if dossier.other_claims:
        story.append(Paragraph(_esc(t("dossier.claimsOf", lang, what=t("case.members", lang))), styles.body))
        story.extend(_claims_table(dossier.other_claims, lang, styles))

    heading = Paragraph(_esc(t("dossier.timeline", lang)), styles.h2)
    # against the usual traffic of the first ring's institution, the visits there; else every claim
    baseline = next((r for r in dossier.rings if r.usual_daily), None)
    places = [m.key for m in baseline.members if m.label in ("Institution", "Pharmacy")] if baseline else []
    shown = [c for c in dossier.claims if c.institution == places[0]] if len(places) == 1 else dossier.claims
    usual = baseline.usual_daily if baseline and len(places) == 1 else None
    drawing = timeline(shown, font=font, usual=usual)
    if drawing is None:
        story += [heading, Paragraph(_esc(t("dossier.none", lang)), styles.muted)]
    else:
        days = sorted(c.start for c in shown if c.start)
        caption = t("dossier.timelineNote", lang, first=days[0], last=days[-1])
        story.append(KeepTogether([heading, drawing, Paragraph(_esc(caption), styles.muted)]))

    story.append(Paragraph(_esc(t("dossier.notes", lang)), styles.h2))
    for note in dossier.notes:
        story.append(
            Paragraph(
                _esc(
                    f"{str(note.get('createdAt') or '')[:16].replace('T', ' ')} {note.get('author') or ''}："
                    f"{note.get('text') or ''}"
                ),
                styles.small,
            )
        )
    if not dossier.notes:
        story.append(Paragraph(_esc(t("dossier.none", lang)), styles.muted))

    story.append(Paragraph(_esc(t("dossier.audit", lang)), styles.h2))
    if dossier.audit:
        rows = [[t("col.when", lang), t("col.who", lang), t("col.what", lang)]]
        rows += [
            [
                r["ts"],
                f"{r.get('sub') or '?'} ({r.get('role') or '?'}, {r.get('agency') or '?'})",
                _audit_line(r, lang),
            ]
            for r in dossier.audit
        ]
        story.append(_table(rows, styles, [32 * mm, 68 * mm, 70 * mm]))
    else:
        story.append(Paragraph(_esc(t("dossier.auditNone", lang)), styles.muted))

    buf = io.BytesIO()

    def footer(canvas: Any, doc: Any) -> None:
        canvas.saveState()
        canvas.setFont(font, 7)
        canvas.setFillColor(colors.HexColor("#6b7682"))
        canvas.drawString(18 * mm, 10 * mm, f"{t('dossier.title', lang)} · {dossier.case_id}")
        canvas.drawRightString(A4[0] - 18 * mm, 10 * mm, t("dossier.page", lang, n=doc.page))
        canvas.restoreState()

    doc = SimpleDocTemplate(
        buf,
        pagesize=A4,
        leftMargin=18 * mm,
        rightMargin=18 * mm,
        topMargin=16 * mm,
        bottomMargin=18 * mm,
        title=f"{t('dossier.title', lang)} {dossier.case_id}",
        author="medfraud",
        subject=dossier.title,
    )
    doc.build(story, onFirstPage=footer, onLaterPages=footer)
    return buf.getvalue()
