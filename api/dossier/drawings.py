"""The dossier's pictures as reportlab vector drawings: the network, and the timeline of claims.

The network is laid out with networkx's spring layout under a fixed seed, so the same case gives
the same picture in every copy of the dossier. Colours follow the page (api/static/graph.js);
ring members carry the same gold outline.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date

import networkx as nx
from reportlab.graphics.shapes import Circle, Drawing, Line, Rect, String
from reportlab.lib import colors

from api.dossier.content import ClaimRow, PictureNode

LABEL_COLOURS = {
    "Patient": "#1f77b4",
    "Doctor": "#2ca02c",
    "Institution": "#ff7f0e",
    "Pharmacy": "#9467bd",
    "Claim": "#b0b0b0",
    "InjuryCase": "#e377c2",
    "Phone": "#d62728",
    "BankAccount": "#8c564b",
    "Address": "#17becf",
    "Employer": "#bcbd22",
    "Ring": "#111111",
    "Case": "#393b79",
}
RADIUS = {"Institution": 5.0, "Pharmacy": 4.5, "Doctor": 4.0, "Patient": 3.2, "Claim": 1.6, "InjuryCase": 2.5}
GOLD = colors.HexColor("#f2b705")
MAX_CAPTIONS = 60  # beyond this many named nodes the captions would cover the picture
LAYOUT_SEED = 7


def _rect(x: float, y: float, w: float, h: float, fill: colors.Color, stroke: colors.Color | None) -> Rect:
    # colours set after construction: the reportlab stubs mistype Rect's keyword arguments
    r = Rect(x, y, w, h)
    r.fillColor = fill
    r.strokeColor = stroke
    return r


def network(
    nodes: list[PictureNode],
    edges: list[tuple[str, str]],
    *,
    font: str,
    width: float = 480,
    height: float = 330,
) -> Drawing:
    d = Drawing(width, height)
    d.add(_rect(0, 0, width, height, colors.HexColor("#fbfbfc"), colors.HexColor("#dde1e6")))
    if not nodes:
        return d
    g = nx.Graph()
    g.add_nodes_from(n.id for n in nodes)
    g.add_edges_from((s, t) for s, t in edges if s in g and t in g and s != t)
    pos = nx.spring_layout(g, seed=LAYOUT_SEED, k=1.6 / max(len(nodes), 1) ** 0.5, iterations=80)
    xs = [p[0] for p in pos.values()]
    ys = [p[1] for p in pos.values()]
    span_x = max(max(xs) - min(xs), 1e-9)
    span_y = max(max(ys) - min(ys), 1e-9)
    margin = 16

    def at(node_id: str) -> tuple[float, float]:
        x, y = pos[node_id]
        return (
            margin + (x - min(xs)) / span_x * (width - 2 * margin),
            margin + (y - min(ys)) / span_y * (height - 2 * margin),
        )

    for s, t in g.edges():
        (x1, y1), (x2, y2) = at(s), at(t)
        d.add(Line(x1, y1, x2, y2, strokeColor=colors.HexColor("#9aa5b1"), strokeWidth=0.3))
    named = [n for n in nodes if n.label != "Claim"]
    for n in sorted(nodes, key=lambda n: n.label != "Claim"):  # claims below the rest
        x, y = at(n.id)
        r = RADIUS.get(n.label, 2.8)
        d.add(
            Circle(
                x,
                y,
                r,
                fillColor=colors.HexColor(LABEL_COLOURS.get(n.label, "#555555")),
                strokeColor=GOLD if n.ring_member else colors.white,
                strokeWidth=1.4 if n.ring_member else 0.3,
            )
        )
    if len(named) <= MAX_CAPTIONS:
        for n in named:
            x, y = at(n.id)
            d.add(
                String(
                    x,
                    y - 8,
                    n.title[:16],
                    fontName=font,
                    fontSize=4.5,
                    textAnchor="middle",
                    fillColor=colors.HexColor("#27313b"),
                )
            )
    return d


def _day(text: str) -> date | None:
    try:
        return date.fromisoformat(text[:10])
    except ValueError:
        return None


def timeline(
    claims: list[ClaimRow], *, font: str, usual: float | None, width: float = 480, height: float = 120
) -> Drawing | None:
    """Distinct persons with a claim per day; the institution's usual traffic as a dashed line."""
    per_day: dict[date, set[str]] = defaultdict(set)
    for c in claims:
        day = _day(c.start)
        if day is not None:
            per_day[day].add(c.person)
    if not per_day:
        return None
    d = Drawing(width, height)
    left, bottom, top, right = 28.0, 16.0, height - 6, width - 6
    first, last = min(per_day), max(per_day)
    span = max((last - first).days, 1)
    peak = max(max(len(v) for v in per_day.values()), usual or 0, 1)
    d.add(Line(left, bottom, right, bottom, strokeColor=colors.HexColor("#9aa5b1"), strokeWidth=0.5))
    bar = max(1.0, min(6.0, (right - left) / (span + 1) * 0.8))
    for day, persons in sorted(per_day.items()):
        x = left + (day - first).days / span * (right - left - bar)
        h = len(persons) / peak * (top - bottom)
        d.add(_rect(x, bottom, bar, h, colors.HexColor("#e07b39"), None))
    if usual:
        y = bottom + usual / peak * (top - bottom)
        d.add(
            Line(
                left,
                y,
                right,
                y,
                strokeColor=colors.HexColor("#1d2b3a"),
                strokeWidth=0.6,
                strokeDashArray=[3, 2],
            )
        )
    d.add(String(left - 3, top - 6, str(peak), fontName=font, fontSize=6, textAnchor="end"))
    d.add(String(left, 4, first.isoformat(), fontName=font, fontSize=6))
    d.add(String(right, 4, last.isoformat(), fontName=font, fontSize=6, textAnchor="end"))
    return d
