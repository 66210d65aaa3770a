"""Dashboard charts with reportlab's charting library: one Drawing for the page (SVG) and PDF."""

from __future__ import annotations

import math
import re
from collections.abc import Callable

from reportlab.graphics import renderSVG
from reportlab.graphics.charts.barcharts import HorizontalBarChart, VerticalBarChart
from reportlab.graphics.charts.legends import Legend
from reportlab.graphics.shapes import Drawing, String
from reportlab.lib import colors
from reportlab.pdfbase.pdfmetrics import stringWidth

from labels.fonts import cjk_fonts

CLAIMS = colors.HexColor("#0b57d0")
HANDED = colors.HexColor("#1e7d32")
STOCK = colors.HexColor("#8a5a00")
RESERVED = colors.HexColor("#c9a227")
GRID = colors.HexColor("#d9dde3")
TEXT = colors.HexColor("#1f2328")
WIDTH = 420  # drawn at phone-friendly proportions; the SVG scales to its container
FONT_SIZE = 12
# Browsers do not know the PDF font's name: draw SVG text with the system's CJK fonts.
SVG_FONTS = (
    "system-ui, -apple-system, 'PingFang SC', 'Hiragino Sans GB', 'Microsoft YaHei', "
    "'Noto Sans CJK SC', 'WenQuanYi Micro Hei', sans-serif"
)

Translate = Callable[[str], str]


def font() -> str:
    """The registered CJK TrueType font (embedded in PDFs; measures CJK text correctly)."""
    return cjk_fonts().text


def _legend(d: Drawing, pairs: list[tuple], x: float, y: float) -> None:
    lg = Legend()
    lg.x, lg.y = x, y
    lg.fontName, lg.fontSize = font(), FONT_SIZE
    lg.alignment = "right"
    lg.columnMaximum = 1
    lg.dx = lg.dy = 9
    lg.deltax = 10
    lg.dxTextSpace = 4
    lg.colorNamePairs = pairs
    d.add(lg)


def _title(d: Drawing, text: str) -> None:
    d.add(String(0, d.height - 14, text, fontName=font(), fontSize=FONT_SIZE + 2, fillColor=TEXT))


def _axis(axis, largest: float) -> None:
    """Whole-number ticks: four steps of 1, 2 or 5 × 10^k covering the largest value."""
    raw = max(largest, 1) / 4
    mag = 10 ** math.floor(math.log10(raw)) if raw >= 1 else 1
    step = next((m * mag for m in (1, 2, 5, 10) if raw <= m * mag), 10 * mag)
    axis.valueMin, axis.valueMax, axis.valueStep = 0, step * 4, step


def daily_chart(rows: list[dict], _: Translate) -> Drawing:
    """Claims and handovers per day: grouped vertical bars."""
    n = max(1, len(rows))
    d = Drawing(WIDTH, 250)
    _title(d, _("Claims and handovers per day"))
    chart = VerticalBarChart()
    chart.x, chart.y, chart.width, chart.height = 42, 38, WIDTH - 52, 160
    chart.data = [[r["claims"] for r in rows] or [0], [r["handed_over"] for r in rows] or [0]]
    every = math.ceil(n / 8)
    chart.categoryAxis.categoryNames = [
        r["day"].strftime("%m-%d") if i % every == 0 else "" for i, r in enumerate(rows)
    ] or [""]
    chart.categoryAxis.labels.fontName = font()
    chart.categoryAxis.labels.fontSize = FONT_SIZE - 1
    chart.categoryAxis.labels.dy = -4
    chart.categoryAxis.tickDown = 0
    _axis(chart.valueAxis, max([*chart.data[0], *chart.data[1]]))
    chart.valueAxis.labels.fontName = font()
    chart.valueAxis.labels.fontSize = FONT_SIZE - 1
    chart.valueAxis.labelTextFormat = lambda v: f"{v:,.0f}"
    chart.valueAxis.visibleGrid = True
    chart.valueAxis.gridStrokeColor = GRID
    chart.bars.strokeWidth = 0
    chart.bars[0].fillColor = CLAIMS
    chart.bars[1].fillColor = HANDED
    # Few days: slimmer bars, so a one-day report does not draw two walls.
    chart.groupSpacing = 2 if n > 20 else 6 if n > 3 else 40 // n
    chart.barSpacing = 0
    d.add(chart)
    _legend(d, [(CLAIMS, _("Claims")), (HANDED, _("Handed over"))], 42, 232 - 14)
    return d


LABEL_GAP = 4  # between a category label's end and the axis
LABEL_MAX = 0.4  # of the width: the most the name column of a horizontal bar chart takes


def fit_label(text: str, width: float, size: float = FONT_SIZE - 1) -> str:
    """`text` as drawn in `size`, cut with "…" to `width` points, measured with the font (the
    page's tables and the CSV carry the full name)."""
    text = " ".join((text or "").split())
    if stringWidth(text, font(), size) <= width:
        return text
    while text and stringWidth(text + "…", font(), size) > width:
        text = text[:-1]
    return text.rstrip() + "…"


def _names(rows: list[dict], name_key: str) -> tuple[list[str], float]:
    """The category labels, fitted, and the name column's width: as wide as the longest
    label, at most LABEL_MAX of the drawing, so no label reaches the axis."""
    size = FONT_SIZE - 1
    widest = max((stringWidth(r[name_key] or "", font(), size) for r in rows), default=0)
    column = min(widest + LABEL_GAP + 6, WIDTH * LABEL_MAX)
    names = [fit_label(r[name_key], column - LABEL_GAP - 6, size) for r in rows]
    return names, max(column, 48)


def school_chart(rows: list[dict], _: Translate, name_key: str, limit: int = 12) -> Drawing:
    """The lagging schools: claimed and handed over, in % of eligible, as horizontal bars."""
    # Bars are drawn bottom-up: reverse so the most lagging school is at the top.
    rows = list(reversed(rows[:limit]))
    n = max(1, len(rows))
    names, label_w = _names(rows, name_key)
    d = Drawing(WIDTH, 70 + n * 30)
    _title(d, _("Lagging schools: claimed and handed over against eligible"))
    chart = HorizontalBarChart()
    chart.x, chart.y = label_w, 24
    chart.width, chart.height = WIDTH - label_w - 24, n * 30
    chart.data = [
        [round(100 * r["claimed_share"], 1) for r in rows] or [0],
        [round(100 * r["progress"], 1) for r in rows] or [0],
    ]
    chart.categoryAxis.categoryNames = names or [""]
    chart.categoryAxis.labels.fontName = font()
    chart.categoryAxis.labels.fontSize = FONT_SIZE - 1
    chart.categoryAxis.labels.boxAnchor = "e"
    chart.categoryAxis.labels.dx = -LABEL_GAP
    chart.categoryAxis.tickLeft = 0
    chart.valueAxis.valueMin = 0
    chart.valueAxis.valueMax = 100
    chart.valueAxis.valueStep = 25
    chart.valueAxis.labels.fontName = font()
    chart.valueAxis.labels.fontSize = FONT_SIZE - 1
    chart.valueAxis.labelTextFormat = "%d%%"
    chart.valueAxis.visibleGrid = True
    chart.valueAxis.gridStrokeColor = GRID
    chart.bars.strokeWidth = 0
    chart.bars[0].fillColor = CLAIMS
    chart.bars[1].fillColor = HANDED
    chart.groupSpacing = 6
    d.add(chart)
    _legend(d, [(CLAIMS, _("Claimed")), (HANDED, _("Handed over"))], label_w, d.height - 34)
    return d


def stock_chart(rows: list[dict], _: Translate, name_key: str, limit: int = 12) -> Drawing:
    """Kits per location: on hand and reserved, as horizontal bars."""
    rows = list(reversed(rows[:limit]))
    n = max(1, len(rows))
    names, label_w = _names(rows, name_key)
    d = Drawing(WIDTH, 70 + n * 30)
    _title(d, _("Kits per location"))
    chart = HorizontalBarChart()
    chart.x, chart.y = label_w, 24
    chart.width, chart.height = WIDTH - label_w - 24, n * 30
    chart.data = [[r["on_hand"] for r in rows] or [0], [r["reserved"] for r in rows] or [0]]
    chart.categoryAxis.categoryNames = names or [""]
    chart.categoryAxis.labels.fontName = font()
    chart.categoryAxis.labels.fontSize = FONT_SIZE - 1
    chart.categoryAxis.labels.boxAnchor = "e"
    chart.categoryAxis.labels.dx = -LABEL_GAP
    chart.categoryAxis.tickLeft = 0
    _axis(chart.valueAxis, max(chart.data[0]))
    chart.valueAxis.labels.fontName = font()
    chart.valueAxis.labels.fontSize = FONT_SIZE - 1
    chart.valueAxis.labelTextFormat = lambda v: f"{v:,.0f}"
    chart.valueAxis.visibleGrid = True
    chart.valueAxis.gridStrokeColor = GRID
    chart.bars.strokeWidth = 0
    chart.bars[0].fillColor = STOCK
    chart.bars[1].fillColor = RESERVED
    chart.groupSpacing = 6
    d.add(chart)
    _legend(d, [(STOCK, _("On hand")), (RESERVED, _("Reserved"))], label_w, d.height - 34)
    return d


def to_svg(drawing: Drawing, chart_id: str, title: str) -> str:
    """The drawing as inline SVG that scales to its container's width (viewBox, width 100%)."""
    svg = renderSVG.drawToString(drawing)
    svg = svg[svg.index("<svg") :]
    safe_id = re.sub(r"[^a-z0-9-]", "", chart_id.lower())
    svg = re.sub(
        r'^<svg width="[\d.]+" height="[\d.]+"',
        f'<svg id="chart-{safe_id}" class="chart" role="img" width="100%"',
        svg,
    )
    # Several charts share the page: their clip paths need ids of their own.
    svg = svg.replace('id="clip"', f'id="clip-{safe_id}"').replace(
        "url(#clip)", f"url(#clip-{safe_id})"
    )
    svg = svg.replace('id="group"', f'id="group-{safe_id}"')
    svg = re.sub(r"font-family: [^;]+;", f"font-family: {SVG_FONTS};", svg)
    svg = svg.replace("<title>...</title>", f"<title>{_escape(title)}</title>")
    svg = _STYLE_ATTR.sub(_presentation, svg)
    return svg.replace("<desc>...</desc>", "")


# The pages' Content-Security-Policy allows no inline style (style-src 'self'), and a style
# attribute is inline style. Every property renderSVG writes there (fill, stroke, stroke-width,
# font-family, font-size, clip-path…) is also an SVG presentation attribute, which CSP allows.
_STYLE_ATTR = re.compile(r' style="([^"]*)"')


def _presentation(match: re.Match) -> str:
    attrs = []
    for declaration in match.group(1).split(";"):
        name, colon, value = declaration.partition(":")
        if colon and name.strip():
            attrs.append(f' {name.strip()}="{value.strip()}"')
    return "".join(attrs)


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
